/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sign.c - DKIM signatures through libopendkim.
 *
 * SYNOPSIS
 *	#include "sign.h"
 *
 *	DKIM_LIB * sign_lib_new(const TXCONF *cf, BUF *errs)
 *	void	sign_lib_free(DKIM_LIB *lib)
 *	SIGN_SET * sign_begin(DKIM_LIB *lib, const SIGN_REQ *req, size_t n,
 *			const char *jobid, enum conf_canon hcanon,
 *			enum conf_canon bcanon, BUF *err)
 *	void	sign_set_handover(SIGN_SET *ss, int on)
 *	int	sign_handed_over(const SIGN_SET *ss)
 *	int	sign_header(SIGN_SET *ss, const char *field, size_t len,
 *			BUF *err)
 *	int	sign_eoh(SIGN_SET *ss, BUF *err)
 *	int	sign_body(SIGN_SET *ss, const unsigned char *data,
 *			size_t len, BUF *err)
 *	int	sign_eom(SIGN_SET *ss, BUF *err)
 *	size_t	sign_count(const SIGN_SET *ss)
 *	const char * sign_value(const SIGN_SET *ss, size_t i)
 *	const SIGN_REQ * sign_request(const SIGN_SET *ss, size_t i)
 *	void	sign_free(SIGN_SET *ss)
 *
 * DESCRIPTION
 *	sign_lib_new() makes the library handle with the configured
 *	SignHeaders and OversignHeaders. Options are set once, before any
 *	thread uses the handle (libopendkim does no locking of its options).
 *	l= is never produced: dkim_sign() is called with length -1 and the
 *	SIGNLEN flag is never set.
 *
 *	sign_begin() opens one DKIM handle per key; sign_header() and
 *	sign_eoh() feed every handle the same header fields, so all
 *	signatures cover the same message. The body is never stored: it
 *	goes through bodyhash.c once, whatever the number of signatures,
 *	which repairs bare CR and LF line ends (libopendkim's FIXCRLF flag,
 *	which did this by copying every body chunk byte by byte, is off),
 *	canonicalizes and hashes it; sign_eom() hands the digest to every
 *	handle (sign_bh.c) before dkim_eom(). If sign_bh.c does not
 *	recognise a handle (another libopendkim), or sign_set_handover(ss, 0)
 *	was called before sign_eoh(), the repaired body is fed to every
 *	handle with dkim_body() instead and libopendkim hashes it itself;
 *	the first time sign_bh.c refuses, a warning is logged.
 *
 *	The signature values returned by sign_value() are byte for byte what
 *	was hashed for the signature header itself (folding included), with
 *	CRs removed because the MTA writes line ends itself.
 *
 *	Errors carry libopendkim's reason and the key's origin, never the key.
 *
 *	dkim_eom() would parse the key string again for every signature;
 *	sign_key.c gives it the key parsed at load instead.
 *
 *	libopendkim 2.11.0~beta2 (Debian 12) leaks its key state after every
 *	Ed25519 signature: dkim_free() releases the crypto state of RSA
 *	signatures only, so each Ed25519 message loses about 1.3 KB. To keep
 *	a long-running daemon flat, every DKIM handle allocates through a
 *	per-signature arena (dkim_init()'s allocator hooks), and when
 *	libopendkim frees the block that is its crypto state, sign_reclaim()
 *	first releases the key, buffer and output that block still points to.
 *	Nothing else is touched.
 *
 * DIAGNOSTICS
 *	sign_lib_new() returns NULL and the sign_*() calls -1 with
 *	libopendkim's reason and the key's origin in the error buffer,
 *	never the key.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>

#include "bodyhash.h"
#include "hdr.h"
#include "log.h"
#include "sign.h"
#include "sign_bh.h"
#include "sign_key.h"
#include "util.h"

/* What libopendkim allocated for one handle and has not freed. */
typedef struct sign_arena {
    void  **ptr;
    size_t *size;
    size_t  n, cap;
    int     ed25519;        /* the handle signs with Ed25519 */
} SIGN_ARENA;

struct sign_set {
    size_t   n;
    DKIM    *dkim[SIGN_MAX];
    SIGN_REQ req[SIGN_MAX];
    char    *value[SIGN_MAX];
    SIGN_ARENA arena[SIGN_MAX];
    enum conf_canon hcanon, bcanon;
    int      handover;          /* may the body hash be handed over (default) */
    void    *canon[SIGN_MAX];   /* each handle's body canonicalization, if handed over */
    BODYHASH *bh;               /* the one pass over the body */
    size_t   feed_bad;          /* the handle whose dkim_body() failed */
    DKIM_STAT feed_st;
};

/* sign_alloc - libopendkim's allocator: remember every block of a handle */
static void *sign_alloc(void *closure, size_t n)
{
    SIGN_ARENA *a = closure;
    void *p = malloc(n ? n : 1);

    if (p == NULL || a == NULL)
        return p;
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->ptr = xrealloc(a->ptr, a->cap * sizeof(void *));
        a->size = xrealloc(a->size, a->cap * sizeof(size_t));
    }
    a->ptr[a->n] = p;
    a->size[a->n] = n;
    a->n++;
    return p;
}

/* The layout of libopendkim 2.11's private struct dkim_crypto (OpenSSL
 * build), needed to release what dkim_free() forgets for Ed25519. */
struct sign_opendkim_crypto {
    unsigned char pad;
    int         keysize;
    size_t      inlen;
    size_t      outlen;
    EVP_PKEY   *pkey;
    void       *key;
    BIO        *keydata;
    unsigned char *in;
    unsigned char *out;
};

/* sign_arena_index - position of p among the arena's live blocks, or -1 */
static long sign_arena_index(const SIGN_ARENA *a, const void *p)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->ptr[i] == p)
            return (long) i;
    return -1;
}

/* sign_forget - remove p from the arena; 0 if it was not there */
static int sign_forget(SIGN_ARENA *a, const void *p)
{
    for (size_t i = a->n; i-- > 0;)
        if (a->ptr[i] == p) {
            a->ptr[i] = a->ptr[a->n - 1];
            a->size[i] = a->size[a->n - 1];
            a->n--;
            return 1;
        }
    return 0;
}

/* sign_reclaim - when libopendkim frees the crypto state of an Ed25519
 * signature, also free what it holds (dkim_free() does so only for RSA,
 * which it recognises by sig_keytype; the fields are then already NULL). */
static void sign_reclaim(SIGN_ARENA *a, struct sign_opendkim_crypto *c)
{
    long out;

    if (c->keysize != 512 || c->outlen != 64 || c->pkey == NULL || c->key != NULL
        || (out = sign_arena_index(a, c->out)) < 0 || a->size[out] != 64
        || EVP_PKEY_get_base_id(c->pkey) != EVP_PKEY_ED25519)
        return;
    EVP_PKEY_free(c->pkey);
    c->pkey = NULL;
    if (c->keydata)
        BIO_free(c->keydata);
    c->keydata = NULL;
    (void) sign_forget(a, c->out);
    free(c->out);
    c->out = NULL;
}

/* sign_release - libopendkim's free: forget the block, then free it */
static void sign_release(void *closure, void *p)
{
    SIGN_ARENA *a = closure;

    if (p == NULL)
        return;
    if (a != NULL) {
        long i = sign_arena_index(a, p);

        if (i >= 0 && a->ed25519 && a->size[i] == sizeof(struct sign_opendkim_crypto))
            sign_reclaim(a, p);
        (void) sign_forget(a, p);
    }
    free(p);
}

/* sign_arena_done - drop the bookkeeping; libopendkim freed the rest */
static void sign_arena_done(SIGN_ARENA *a)
{
    free(a->ptr);
    free(a->size);
    memset(a, 0, sizeof(*a));
}

/* sign_lib_new - library handle with our header lists */
DKIM_LIB *sign_lib_new(const TXCONF *cf, BUF *errs)
{
    DKIM_LIB *lib = dkim_init(sign_alloc, sign_release);
    unsigned int flags = 0;     /* no FIXCRLF: bodyhash.c repairs bare line ends */

    if (lib == NULL) {
        buf_printf(errs, "dkim_init failed\n");
        return NULL;
    }
    if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK
        || dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
                        cf->sign.sign_headers.v, sizeof(char **)) != DKIM_STAT_OK
        || dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
                        cf->sign.oversign_headers.v, sizeof(char **)) != DKIM_STAT_OK) {
        buf_printf(errs, "%s: cannot set libopendkim header lists\n", cf->path);
        dkim_close(lib);
        return NULL;
    }
    return lib;
}

void sign_lib_free(DKIM_LIB *lib)
{
    if (lib)
        dkim_close(lib);
}

static dkim_canon_t sign_canon(enum conf_canon c)
{
    return c == CONF_CANON_SIMPLE ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
}

/* sign_fail - record a libopendkim failure for handle i */
static int sign_fail(SIGN_SET *ss, size_t i, const char *step, DKIM_STAT st, BUF *err)
{
    const char *why = ss->dkim[i] ? dkim_geterror(ss->dkim[i]) : NULL;

    buf_reset(err);
    buf_printf(err, "%s for d=%s s=%s (%s): %s%s%s", step, ss->req[i].domain,
               ss->req[i].selector, ss->req[i].key->origin, dkim_getresultstr(st),
               why && *why ? ": " : "", why && *why ? why : "");
    return -1;
}

/* sign_begin - one DKIM handle per requested signature */
SIGN_SET *sign_begin(DKIM_LIB *lib, const SIGN_REQ *req, size_t n, const char *jobid,
                     enum conf_canon hcanon, enum conf_canon bcanon, BUF *err)
{
    SIGN_SET *ss;
    size_t i;

    if (n == 0 || n > SIGN_MAX) {
        buf_reset(err);
        buf_printf(err, "bad number of signatures: %zu", n);
        return NULL;
    }
    ss = xcalloc(1, sizeof(*ss));
    ss->hcanon = hcanon;
    ss->bcanon = bcanon;
    ss->handover = 1;
    for (i = 0; i < n; i++) {
        DKIM_STAT st = DKIM_STAT_OK;
        dkim_alg_t alg = req[i].key->type == KEYS_ED25519
            ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;

        ss->req[i] = req[i];
        ss->n = i + 1;
        ss->arena[i].ed25519 = req[i].key->type == KEYS_ED25519;
        ss->dkim[i] = dkim_sign(lib, (const unsigned char *) jobid, &ss->arena[i],
                                (dkim_sigkey_t) req[i].key->pem,
                                (const unsigned char *) req[i].selector,
                                (const unsigned char *) req[i].domain,
                                sign_canon(hcanon), sign_canon(bcanon), alg, -1, &st);
        if (ss->dkim[i] == NULL || st != DKIM_STAT_OK) {
            sign_fail(ss, i, "dkim_sign", st, err);
            sign_free(ss);
            return NULL;
        }
        /* Under simple header canonicalization the signature field is
         * hashed as folded. libopendkim folds the field it hashes (empty b=)
         * and the field it returns (full b=) differently for Ed25519, which
         * breaks every such signature; unfolded, the two are the same. */
        if (hcanon == CONF_CANON_SIMPLE
            && (st = dkim_set_margin(ss->dkim[i], 0)) != DKIM_STAT_OK) {
            sign_fail(ss, i, "dkim_set_margin", st, err);
            sign_free(ss);
            return NULL;
        }
        if (req[i].signer && *req[i].signer
            && (st = dkim_set_signer(ss->dkim[i], (const unsigned char *) req[i].signer)) != DKIM_STAT_OK) {
            sign_fail(ss, i, "dkim_set_signer", st, err);
            sign_free(ss);
            return NULL;
        }
    }
    return ss;
}

int sign_header(SIGN_SET *ss, const char *field, size_t len, BUF *err)
{
    for (size_t i = 0; i < ss->n; i++) {
        DKIM_STAT st = dkim_header(ss->dkim[i], (unsigned char *) field, len);

        if (st != DKIM_STAT_OK)
            return sign_fail(ss, i, "dkim_header", st, err);
    }
    return 0;
}

void sign_set_handover(SIGN_SET *ss, int on)
{
    ss->handover = on;
}

int sign_handed_over(const SIGN_SET *ss)
{
    return ss->handover && ss->bh != NULL;
}

/* Whether the hand-over was refused once already: said once per process. */
static atomic_int sign_bh_warned;

/* sign_feed - the bodyhash sink when the hash cannot be handed over:
 * every handle gets the repaired body */
static int sign_feed(void *ctx, const unsigned char *data, size_t len)
{
    SIGN_SET *ss = ctx;

    for (size_t i = 0; i < ss->n; i++) {
        DKIM_STAT st = dkim_body(ss->dkim[i], (unsigned char *) data, len);

        if (st != DKIM_STAT_OK) {
            ss->feed_bad = i;
            ss->feed_st = st;
            return -1;
        }
    }
    return 0;
}

/* sign_eoh - end of headers; then choose how the body reaches the handles:
 * its hash computed once and handed to each (sign_bh.c), or, if any handle
 * is not as expected, the body itself fed to each */
int sign_eoh(SIGN_SET *ss, BUF *err)
{
    enum bodyhash_mode mode = ss->bcanon == CONF_CANON_SIMPLE ? BODYHASH_SIMPLE : BODYHASH_RELAXED;

    for (size_t i = 0; i < ss->n; i++) {
        DKIM_STAT st = dkim_eoh(ss->dkim[i]);

        if (st != DKIM_STAT_OK)
            return sign_fail(ss, i, "dkim_eoh", st, err);
    }
    for (size_t i = 0; i < ss->n && ss->handover; i++) {
        SIGN_ARENA *a = &ss->arena[i];

        ss->canon[i] = sign_bh_find(a->ptr, a->size, a->n, sign_canon(ss->bcanon));
        if (ss->canon[i] == NULL) {
            ss->handover = 0;
            if (!atomic_exchange(&sign_bh_warned, 1))
                log_warn("libopendkim %#x is not the 2.11.0 whose signing handles txmilter "
                         "knows: each signature hashes the body itself (correct, slower)",
                         (unsigned) dkim_libversion());
        }
    }
    ss->bh = bodyhash_new(ss->handover ? mode : BODYHASH_REPAIR, sign_feed, ss);
    if (ss->bh == NULL) {
        buf_reset(err);
        buf_printf(err, "cannot start the body hash (OpenSSL SHA-256)");
        return -1;
    }
    return 0;
}

/* sign_body_fail - why the body pass stopped */
static int sign_body_fail(SIGN_SET *ss, BUF *err)
{
    if (!ss->handover && ss->feed_st != DKIM_STAT_OK)
        return sign_fail(ss, ss->feed_bad, "dkim_body", ss->feed_st, err);
    buf_reset(err);
    buf_printf(err, "body hash failed (OpenSSL SHA-256)");
    return -1;
}

int sign_body(SIGN_SET *ss, const unsigned char *data, size_t len, BUF *err)
{
    if (ss->bh == NULL) {
        buf_reset(err);
        buf_printf(err, "body before end of headers");
        return -1;
    }
    return bodyhash_update(ss->bh, data, len) < 0 ? sign_body_fail(ss, err) : 0;
}

/* sign_eom - finish every signature and keep its header value */
int sign_eom(SIGN_SET *ss, BUF *err)
{
    unsigned char digest[BODYHASH_LEN];

    if (ss->bh == NULL) {
        buf_reset(err);
        buf_printf(err, "end of message before end of headers");
        return -1;
    }
    if (bodyhash_final(ss->bh, digest) < 0)
        return sign_body_fail(ss, err);
    for (size_t i = 0; i < ss->n; i++) {
        unsigned char *hdr = NULL;
        size_t len = 0;
        DKIM_STAT st;

        if (ss->handover)
            sign_bh_give(ss->canon[i], digest, bodyhash_length(ss->bh));
        /* dkim_eom() loads the key: let it take the parsed one (sign_key.c). */
        sign_key_expect(ss->req[i].key);
        st = dkim_eom(ss->dkim[i], NULL);
        sign_key_expect(NULL);
        if (st != DKIM_STAT_OK)
            return sign_fail(ss, i, "dkim_eom", st, err);
        st = dkim_getsighdr_d(ss->dkim[i], strlen(DKIM_SIGNHEADER) + 2, &hdr, &len);
        if (st != DKIM_STAT_OK || hdr == NULL)
            return sign_fail(ss, i, "dkim_getsighdr_d", st, err);
        ss->value[i] = xstrndup((const char *) hdr, len);
        hdr_strip_cr(ss->value[i]);
        /* Unfolded (simple, see sign_begin) it must still fit an SMTP line,
         * or a relay that wraps long lines would break it. */
        if (ss->hcanon == CONF_CANON_SIMPLE && strlen(ss->value[i]) + sizeof(DKIM_SIGNHEADER) + 1 > 998) {
            buf_reset(err);
            buf_printf(err, "DKIM-Signature for d=%s would be a %zu-byte line under simple header "
                       "canonicalization (limit 998): sign fewer headers or use relaxed",
                       ss->req[i].domain, strlen(ss->value[i]) + sizeof(DKIM_SIGNHEADER) + 1);
            return -1;
        }
    }
    return 0;
}

size_t sign_count(const SIGN_SET *ss)
{
    return ss->n;
}

const char *sign_value(const SIGN_SET *ss, size_t i)
{
    return i < ss->n ? ss->value[i] : NULL;
}

const SIGN_REQ *sign_request(const SIGN_SET *ss, size_t i)
{
    return i < ss->n ? &ss->req[i] : NULL;
}

void sign_free(SIGN_SET *ss)
{
    if (ss == NULL)
        return;
    for (size_t i = 0; i < ss->n; i++) {
        if (ss->dkim[i])
            dkim_free(ss->dkim[i]);
        sign_arena_done(&ss->arena[i]);
        free(ss->value[i]);
    }
    bodyhash_free(ss->bh);
    free(ss);
}

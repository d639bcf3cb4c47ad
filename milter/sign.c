/*
 * sign.c - DKIM signatures through libopendkim.
 *
 *	sign_lib_new() makes the library handle with the configured
 *	SignHeaders and OversignHeaders. Options are set once, before any
 *	thread uses the handle (libopendkim does no locking of its options).
 *	l= is never produced: dkim_sign() is called with length -1 and the
 *	SIGNLEN flag is never set.
 *
 *	sign_begin() opens one DKIM handle per key; sign_header(),
 *	sign_eoh(), sign_body() and sign_eom() feed every handle the same
 *	bytes, so all signatures cover the same message. The body is never
 *	stored here: libopendkim hashes it as it arrives.
 *
 *	The signature values returned by sign_value() are byte for byte what
 *	was hashed for the signature header itself (folding included), with
 *	CRs removed because the MTA writes line ends itself.
 *
 *	Errors carry libopendkim's reason and the key's origin, never the key.
 */
#include <stdlib.h>
#include <string.h>

#include "hdr.h"
#include "log.h"
#include "sign.h"
#include "util.h"

struct sign_set {
    size_t   n;
    DKIM    *dkim[SIGN_MAX];
    SIGN_REQ req[SIGN_MAX];
    char    *value[SIGN_MAX];
    enum conf_canon hcanon;
};

/* sign_lib_new - library handle with our header lists */
DKIM_LIB *sign_lib_new(const CONF *cf, BUF *errs)
{
    DKIM_LIB *lib = dkim_init(NULL, NULL);
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;

    if (lib == NULL) {
        buf_printf(errs, "dkim_init failed\n");
        return NULL;
    }
    if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK
        || dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
                        cf->sign_headers.v, sizeof(char **)) != DKIM_STAT_OK
        || dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
                        cf->oversign_headers.v, sizeof(char **)) != DKIM_STAT_OK) {
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
    for (i = 0; i < n; i++) {
        DKIM_STAT st = DKIM_STAT_OK;
        dkim_alg_t alg = req[i].key->type == KEYS_ED25519
            ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;

        ss->req[i] = req[i];
        ss->n = i + 1;
        ss->dkim[i] = dkim_sign(lib, (const unsigned char *) jobid, NULL,
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

int sign_eoh(SIGN_SET *ss, BUF *err)
{
    for (size_t i = 0; i < ss->n; i++) {
        DKIM_STAT st = dkim_eoh(ss->dkim[i]);

        if (st != DKIM_STAT_OK)
            return sign_fail(ss, i, "dkim_eoh", st, err);
    }
    return 0;
}

int sign_body(SIGN_SET *ss, const unsigned char *data, size_t len, BUF *err)
{
    for (size_t i = 0; i < ss->n; i++) {
        DKIM_STAT st = dkim_body(ss->dkim[i], (unsigned char *) data, len);

        if (st != DKIM_STAT_OK)
            return sign_fail(ss, i, "dkim_body", st, err);
    }
    return 0;
}

/* sign_eom - finish every signature and keep its header value */
int sign_eom(SIGN_SET *ss, BUF *err)
{
    for (size_t i = 0; i < ss->n; i++) {
        unsigned char *hdr = NULL;
        size_t len = 0;
        DKIM_STAT st = dkim_eom(ss->dkim[i], NULL);

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
        free(ss->value[i]);
    }
    free(ss);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsub_token.c - List-Unsubscribe tokens: opaque, authenticated, rotatable
 *
 * SYNOPSIS
 *	#include "unsub_token.h"
 *
 *	UNSUB_KEYS *unsub_keys_load(const char *path, BUF *errs)
 *	void	unsub_keys_free(UNSUB_KEYS *k)
 *	int	unsub_token_seal(const UNSUB_KEYS *k, const char *rcpt,
 *			const char *stream, uint64_t now, char *out, size_t outlen)
 *	int	unsub_token_open(const UNSUB_KEYS *k, const char *token,
 *			uint64_t max_age, uint64_t now, UNSUB_PAYLOAD *p,
 *			BUF *err)
 *
 * DESCRIPTION
 *	A token carries (recipient, stream, issue time) encrypted and
 *	authenticated, so that the URL reveals nothing and cannot be forged,
 *	and txmilter-unsubd verifies it without any database.
 *
 *	Cipher: AES-256-SIV (RFC 5297) through OpenSSL's EVP interface. SIV
 *	is a deterministic AEAD: its 16-byte synthetic IV is also the
 *	authentication tag, so a token needs no separate nonce (12 bytes,
 *	16 characters fewer than AES-GCM or ChaCha20-Poly1305), and there is
 *	no nonce to repeat: with GCM a repeated random nonce (likely after
 *	2^32 tokens under one key, a few years of a big sender) would reveal
 *	the authentication key. Determinism only means that the same
 *	(recipient, stream, second) gives the same token, which reveals
 *	nothing the token's holder does not know.
 *
 *	Keys: UnsubscribeKeyFile holds lines "ID BASE64": ID a decimal number
 *	from 1 to 255 (the token's first byte), BASE64 exactly 32 bytes in
 *	standard base64 (openssl rand -base64 32); '#' comments and empty
 *	lines are allowed. The last line seals new tokens, every line opens
 *	them. The 64-byte AES-256-SIV key is HKDF-SHA256 of the 32 bytes
 *	with the info "txmilter unsubscribe token AES-256-SIV v1" (domain
 *	separation: the same bytes used elsewhere give another key). The file
 *	must be a regular file not accessible by group or others.
 *
 *	Token: base64url without padding ([A-Za-z0-9_-]) of
 *
 *		id (1 byte) | SIV tag (16) | AES-256-SIV ciphertext of
 *		issued (4 bytes, big-endian seconds) | rcpt length (1) |
 *		rcpt | stream
 *
 *	with the associated data "txmilter-unsub-1" followed by the id byte
 *	(the format version and the key id are authenticated). The
 *	ciphertext is as long as the plaintext: 22 bytes of overhead, so a
 *	token is 4/3 of (22 + strlen(rcpt) + strlen(stream)) characters,
 *	87 for "john.smith@example.com" and "news@shop.example.com". A token
 *	holds at most 191 bytes (255 characters): rcpt and stream together
 *	at most 169 bytes. Decoding is strict: any other character, a length
 *	that is 1 modulo 4, or non-zero unused bits in the last character
 *	make a token malformed, so every changed bit is refused.
 *
 *	unsub_token_seal() writes the token for (rcpt, stream, now) with the
 *	newest key into out. Both fields must be non-empty, rcpt at most 255
 *	bytes, and now at most 2^32-1 (the year 2106).
 *
 *	unsub_token_open() decodes, finds the key by id, verifies and
 *	decrypts, and, with max_age non-zero, refuses a token issued more
 *	than max_age seconds before now (one issued after now is accepted:
 *	the clocks of relays differ a little).
 *
 *	UNSUB_KEYS is read-only once loaded: any number of threads may seal
 *	and open with it at once.
 *
 * DIAGNOSTICS
 *	unsub_keys_load() returns NULL and appends "file:line: message"
 *	lines (or "file: message") to errs: unreadable or not a regular file,
 *	accessible by group or others, a line not "ID BASE64", an ID not 1
 *	to 255 or used twice, a key that is not 32 bytes of base64, a line
 *	too long or holding NUL, no key at all. No message shows key bytes.
 *	unsub_token_seal() returns -1 when the fields are empty, too long
 *	for a token or for out, or now is too large (or OpenSSL failed:
 *	logged). unsub_token_open() returns -1 with "malformed", "unknown
 *	key", "bad authentication tag" or "expired" appended to err and p
 *	zeroed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "dataset.h"
#include "log.h"
#include "unsub_token.h"
#include "unsub_token_int.h"
#include "util.h"

#define UT_SECRET_LEN   32              /* bytes of a key in the file */
#define UT_KEY_LEN      64              /* AES-256-SIV: two 256-bit keys */
#define UT_TAG_LEN      16              /* the SIV */
#define UT_HEAD_LEN     (1 + UT_TAG_LEN)        /* id, SIV */
#define UT_PT_FIXED     5               /* issued, rcpt length */
/* The most raw bytes whose base64url fits UNSUB_TOKEN_MAX - 1 characters. */
#define UT_RAW_MAX      (((UNSUB_TOKEN_MAX - 1) * 3) / 4)
#define UT_PT_MAX       (UT_RAW_MAX - UT_HEAD_LEN)
#define UT_LINE_MAX     512
#define UT_AAD          "txmilter-unsub-1"
#define UT_AAD_MAX      32              /* a token type's label and the key id */
#define UT_HKDF_INFO    "txmilter unsubscribe token AES-256-SIV v1"

/* what a token can hold always fits UNSUB_PAYLOAD */
_Static_assert(UT_PT_MAX < UNSUB_FIELD_MAX, "UNSUB_FIELD_MAX too small");

typedef struct ut_key {
    int           present;
    int           line;                 /* where it was defined */
    unsigned char key[UT_KEY_LEN];
} UT_KEY;

struct unsub_keys {
    EVP_CIPHER *cipher;                 /* AES-256-SIV, fetched once */
    unsigned    newest;                 /* the id that seals */
    UT_KEY      id[256];                /* by id; 0 is never present */
};

static const char ut_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char ut_b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ut_b64_value - the 6-bit value of c in alphabet, or -1 */
static int ut_b64_value(const char *alphabet, char c)
{
    const char *p;

    if (c == 0 || (p = strchr(alphabet, c)) == NULL)
        return -1;
    return (int) (p - alphabet);
}

/*
 * ut_b64_decode - n characters of s (no padding) into out; the byte count,
 * or -1 for a character outside alphabet, a length that is 1 modulo 4,
 * non-zero unused bits (a second spelling of the same bytes), or more
 * than outmax bytes.
 */
static long ut_b64_decode(const char *alphabet, const char *s, size_t n, unsigned char *out,
                          size_t outmax)
{
    uint32_t acc = 0;
    size_t i, o = 0;
    int bits = 0, v;

    if (n % 4 == 1 || (n / 4) * 3 + (n % 4 ? n % 4 - 1 : 0) > outmax)
        return -1;
    for (i = 0; i < n; i++) {
        if ((v = ut_b64_value(alphabet, s[i])) < 0)
            return -1;
        acc = (acc << 6) | (uint32_t) v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return -1;
    return (long) o;
}

/* ut_b64url_encode - n bytes as base64url without padding; -1 if outlen is short */
static int ut_b64url_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
    size_t need = (n * 4 + 2) / 3, i, o = 0;
    uint32_t acc = 0;
    int bits = 0;

    if (need + 1 > outlen)
        return -1;
    for (i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = ut_b64url[(acc >> bits) & 63];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0)
        out[o++] = ut_b64url[(acc << (6 - bits)) & 63];
    out[o] = 0;
    return 0;
}

/* ut_derive - the AES-256-SIV key for a secret from the file */
static int ut_derive(const unsigned char *secret, unsigned char *key)
{
    static char digest[] = "SHA256";
    static char info[] = UT_HKDF_INFO;
    OSSL_PARAM params[4];
    EVP_KDF *kdf;
    EVP_KDF_CTX *kctx = NULL;
    int ok = 0;

    if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
        return -1;
    if ((kctx = EVP_KDF_CTX_new(kdf)) != NULL) {
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
        params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) secret,
                                                      UT_SECRET_LEN);
        params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
                                                      sizeof(info) - 1);
        params[3] = OSSL_PARAM_construct_end();
        ok = EVP_KDF_derive(kctx, key, UT_KEY_LEN, params) == 1;
    }
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

/* ut_parse_id - "1".."255" as a number; 0 if it is not one */
static unsigned ut_parse_id(const char *s)
{
    unsigned v = 0;
    size_t i, n = strlen(s);

    if (n == 0 || n > 3)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned) (s[i] - '0');
    }
    return v <= 255 ? v : 0;
}

/* ut_parse_line - one non-empty "ID BASE64" line into k; -1 after a diagnostic */
static int ut_parse_line(UNSUB_KEYS *k, char *line, const char *path, int lineno, BUF *errs)
{
    static const char ws[] = " \t";
    unsigned char secret[UT_SECRET_LEN + 3];
    char *id_s, *key_s, *extra, *save = NULL;
    size_t klen;
    unsigned id;
    long got;
    int rc;

    id_s = strtok_r(line, ws, &save);
    key_s = strtok_r(NULL, ws, &save);
    extra = strtok_r(NULL, ws, &save);
    if (id_s == NULL || key_s == NULL || extra != NULL) {
        util_err_at(errs, path, lineno, "expected \"ID BASE64\" (a key id and one key)");
        return -1;
    }
    if ((id = ut_parse_id(id_s)) == 0) {
        util_err_at(errs, path, lineno, "key id is not a number from 1 to 255");
        return -1;
    }
    if (k->id[id].present) {
        util_err_at(errs, path, lineno, "key id %u already used on line %d", id, k->id[id].line);
        return -1;
    }
    /* standard base64 with its '=' padding, as openssl rand -base64 32 writes it */
    klen = strlen(key_s);
    if (klen % 4 == 0 && klen > 0 && key_s[klen - 1] == '=')
        klen -= (klen > 1 && key_s[klen - 2] == '=') ? 2 : 1;
    got = ut_b64_decode(ut_b64std, key_s, klen, secret, sizeof(secret));
    if (got != UT_SECRET_LEN) {
        util_err_at(errs, path, lineno, "key is not 32 bytes of base64 (openssl rand -base64 32)");
        rc = -1;
    } else if (ut_derive(secret, k->id[id].key) != 0) {
        util_err_at(errs, path, lineno, "cannot derive the key (OpenSSL HKDF)");
        rc = -1;
    } else {
        k->id[id].present = 1;
        k->id[id].line = lineno;
        k->newest = id;
        rc = 0;
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    return rc;
}

/* ut_check_file - refuse what is not a private regular file */
static int ut_check_file(FILE *fp, const char *path, BUF *errs)
{
    struct stat st;

    if (fstat(fileno(fp), &st) != 0) {
        util_err_at(errs, path, 0, "cannot stat: %s", strerror(errno));
        return -1;
    }
    if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
        util_err_at(errs, path, 0, "key file is accessible by group or others (mode %04o): "
                    "chmod 600 it", (unsigned) (st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* unsub_keys_load - read UnsubscribeKeyFile */
UNSUB_KEYS *unsub_keys_load(const char *path, BUF *errs)
{
    char line[UT_LINE_MAX], iobuf[BUFSIZ], why_mem[1200];
    UNSUB_KEYS *k;
    FILE *fp;
    int lineno = 0, bad = 0;
    enum dataset_line lr;
    BUF why;

    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if ((fp = dataset_fopen(path, &why)) == NULL) {
        util_err_at(errs, path, 0, "%s", why.data);
        return NULL;
    }
    if (ut_check_file(fp, path, errs) != 0) {
        fclose(fp);
        return NULL;
    }
    /* our own stdio buffer, so that the key bytes it held can be wiped */
    (void) setvbuf(fp, iobuf, _IOFBF, sizeof(iobuf));
    k = xcalloc(1, sizeof(*k));
    while ((lr = dataset_readline(fp, line, sizeof(line))) != DATASET_LINE_EOF) {
        lineno++;
        if (lr == DATASET_LINE_ERR) {
            util_err_at(errs, path, lineno, "read error: %s", strerror(errno));
            bad = 1;
            break;
        }
        if (lr == DATASET_LINE_LONG) {
            util_err_at(errs, path, lineno, "line longer than %d bytes", UT_LINE_MAX - 1);
            bad = 1;
            continue;
        }
        if (lr == DATASET_LINE_NUL) {
            util_err_at(errs, path, lineno, "line holds a NUL byte");
            bad = 1;
            continue;
        }
        if (line[0] == 0)
            continue;
        if (ut_parse_line(k, line, path, lineno, errs) != 0)
            bad = 1;
    }
    fclose(fp);
    OPENSSL_cleanse(iobuf, sizeof(iobuf));
    OPENSSL_cleanse(line, sizeof(line));
    if (!bad && k->newest == 0) {
        util_err_at(errs, path, 0, "holds no key (one \"ID BASE64\" line per key)");
        bad = 1;
    }
    if (!bad && (k->cipher = EVP_CIPHER_fetch(NULL, "AES-256-SIV", NULL)) == NULL) {
        util_err_at(errs, path, 0, "OpenSSL offers no AES-256-SIV");
        bad = 1;
    }
    if (bad) {
        ERR_clear_error();
        unsub_keys_free(k);
        return NULL;
    }
    return k;
}

/* unsub_keys_free - wipe and free the keys */
void unsub_keys_free(UNSUB_KEYS *k)
{
    if (k == NULL)
        return;
    EVP_CIPHER_free(k->cipher);
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

/* ut_aad - the associated data of a token type (its label) for key id; its length */
static size_t ut_aad(const char *label, unsigned id, unsigned char aad[UT_AAD_MAX])
{
    size_t n = strnlen(label, UT_AAD_MAX - 1);

    memcpy(aad, label, n);
    aad[n] = (unsigned char) id;
    return n + 1;
}

/* ut_seal_raw - encrypt pt (n bytes) with key id: the SIV into tag, ciphertext into ct */
static int ut_seal_raw(const UNSUB_KEYS *k, const char *label, unsigned id,
                       const unsigned char *pt, size_t n, unsigned char *tag, unsigned char *ct)
{
    unsigned char aad[UT_AAD_MAX];
    size_t an = ut_aad(label, id, aad);
    EVP_CIPHER_CTX *c;
    int l = 0, l2 = 0, ok;

    if ((c = EVP_CIPHER_CTX_new()) == NULL)
        return -1;
    ok = EVP_EncryptInit_ex2(c, k->cipher, k->id[id].key, NULL, NULL) == 1
        && EVP_EncryptUpdate(c, NULL, &l, aad, (int) an) == 1
        && EVP_EncryptUpdate(c, ct, &l, pt, (int) n) == 1 && (size_t) l == n
        && EVP_EncryptFinal_ex(c, ct + l, &l2) == 1 && l2 == 0
        && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, UT_TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* ut_open_raw - verify tag and decrypt ct (n bytes) with key id into pt */
static int ut_open_raw(const UNSUB_KEYS *k, const char *label, unsigned id,
                       const unsigned char *tag, const unsigned char *ct, size_t n,
                       unsigned char *pt)
{
    unsigned char aad[UT_AAD_MAX], t[UT_TAG_LEN];
    size_t an = ut_aad(label, id, aad);
    EVP_CIPHER_CTX *c;
    int l = 0, l2 = 0, ok;

    if ((c = EVP_CIPHER_CTX_new()) == NULL)
        return -1;
    memcpy(t, tag, sizeof(t));
    ok = EVP_DecryptInit_ex2(c, k->cipher, k->id[id].key, NULL, NULL) == 1
        && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, UT_TAG_LEN, t) == 1
        && EVP_DecryptUpdate(c, NULL, &l, aad, (int) an) == 1
        && EVP_DecryptUpdate(c, pt, &l, ct, (int) n) == 1 && (size_t) l == n
        && EVP_DecryptFinal_ex(c, pt + l, &l2) == 1 && l2 == 0;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        ERR_clear_error();
    return ok ? 0 : -1;
}

/* unsub_token_seal_raw - pt sealed under the newest key for the token type
 * label: id | SIV | ciphertext into raw (UNSUB_TOKEN_HEAD + n bytes) */
int unsub_token_seal_raw(const UNSUB_KEYS *k, const char *label, const unsigned char *pt,
                         size_t n, unsigned char *raw)
{
    if (k == NULL || k->newest == 0)
        return -1;
    raw[0] = (unsigned char) k->newest;
    if (ut_seal_raw(k, label, k->newest, pt, n, raw + 1, raw + UT_HEAD_LEN) != 0) {
        ERR_clear_error();
        log_err("token: OpenSSL could not encrypt");
        return -1;
    }
    return 0;
}

/* unsub_token_open_raw - raw (len bytes) verified as of type label, decrypted into pt;
 * the plaintext's length, or -1 ("malformed", "unknown key", "bad authentication tag"
 * appended to err) */
long unsub_token_open_raw(const UNSUB_KEYS *k, const char *label, const unsigned char *raw,
                          size_t len, unsigned char *pt, BUF *err)
{
    if (k == NULL || len <= UT_HEAD_LEN)
        return util_err(err, "malformed");
    if (!k->id[raw[0]].present)
        return util_err(err, "unknown key");
    if (ut_open_raw(k, label, raw[0], raw + 1, raw + UT_HEAD_LEN, len - UT_HEAD_LEN, pt) != 0)
        return util_err(err, "bad authentication tag");
    return (long) (len - UT_HEAD_LEN);
}

/* unsub_token_seal - a token for (rcpt, stream) issued at now, with the newest key */
int unsub_token_seal(const UNSUB_KEYS *k, const char *rcpt, const char *stream, uint64_t now,
                     char *out, size_t outlen)
{
    unsigned char pt[UT_PT_MAX], raw[UT_RAW_MAX];
    size_t rl, sl, n;
    int rc;

    if (out && outlen)
        out[0] = 0;
    if (k == NULL || k->newest == 0 || rcpt == NULL || stream == NULL || out == NULL)
        return -1;
    rl = strnlen(rcpt, UT_PT_MAX);
    sl = strnlen(stream, UT_PT_MAX);
    if (rl == 0 || sl == 0 || rl > 255 || now > UINT32_MAX || UT_PT_FIXED + rl + sl > UT_PT_MAX)
        return -1;
    n = UT_PT_FIXED + rl + sl;
    pt[0] = (unsigned char) (now >> 24);
    pt[1] = (unsigned char) (now >> 16);
    pt[2] = (unsigned char) (now >> 8);
    pt[3] = (unsigned char) now;
    pt[4] = (unsigned char) rl;
    memcpy(pt + UT_PT_FIXED, rcpt, rl);
    memcpy(pt + UT_PT_FIXED + rl, stream, sl);
    raw[0] = (unsigned char) k->newest;
    if (ut_seal_raw(k, UT_AAD, k->newest, pt, n, raw + 1, raw + UT_HEAD_LEN) != 0) {
        ERR_clear_error();
        log_err("unsubscribe token: OpenSSL could not encrypt");
        rc = -1;
    } else {
        rc = ut_b64url_encode(raw, UT_HEAD_LEN + n, out, outlen);
    }
    OPENSSL_cleanse(pt, sizeof(pt));
    return rc;
}

/* ut_refuse - a reason appended to err, p zeroed; -1 */
static int ut_refuse(UNSUB_PAYLOAD *p, BUF *err, const char *why)
{
    if (p)
        memset(p, 0, sizeof(*p));
    return util_err(err, "%s", why);
}

/* unsub_token_open - verify and decode a token */
int unsub_token_open(const UNSUB_KEYS *k, const char *token, uint64_t max_age, uint64_t now,
                     UNSUB_PAYLOAD *p, BUF *err)
{
    unsigned char raw[UT_RAW_MAX], pt[UT_PT_MAX];
    size_t len, n, rl, sl;
    uint64_t issued;
    unsigned id;
    long got;
    int rc;

    if (k == NULL || token == NULL || p == NULL)
        return ut_refuse(p, err, "malformed");
    if ((len = strnlen(token, UNSUB_TOKEN_MAX)) >= UNSUB_TOKEN_MAX)
        return ut_refuse(p, err, "malformed");
    got = ut_b64_decode(ut_b64url, token, len, raw, sizeof(raw));
    /* at least one byte of recipient and one of stream */
    if (got < (long) (UT_HEAD_LEN + UT_PT_FIXED + 2))
        return ut_refuse(p, err, "malformed");
    id = raw[0];
    if (!k->id[id].present)
        return ut_refuse(p, err, "unknown key");
    n = (size_t) got - UT_HEAD_LEN;
    if (ut_open_raw(k, UT_AAD, id, raw + 1, raw + UT_HEAD_LEN, n, pt) != 0) {
        OPENSSL_cleanse(pt, sizeof(pt));
        return ut_refuse(p, err, "bad authentication tag");
    }
    issued = ((uint64_t) pt[0] << 24) | ((uint64_t) pt[1] << 16) | ((uint64_t) pt[2] << 8) | pt[3];
    rl = pt[4];
    /* Authentic, so sealed by us; checked all the same. */
    if (rl == 0 || UT_PT_FIXED + rl >= n
        || memchr(pt + UT_PT_FIXED, 0, n - UT_PT_FIXED) != NULL) {
        rc = ut_refuse(p, err, "malformed");
    } else if (max_age != 0 && now > issued && now - issued > max_age) {
        rc = ut_refuse(p, err, "expired");
    } else {
        sl = n - UT_PT_FIXED - rl;
        memset(p, 0, sizeof(*p));
        memcpy(p->rcpt, pt + UT_PT_FIXED, rl);
        memcpy(p->stream, pt + UT_PT_FIXED + rl, sl);
        p->issued = issued;
        p->key_id = id;
        rc = 0;
    }
    OPENSSL_cleanse(pt, sizeof(pt));
    return rc;
}

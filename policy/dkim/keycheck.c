/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keycheck.c - compare a published DKIM key record with our key
 *
 * SYNOPSIS
 *	#include "keycheck.h"
 *
 *	KEYCHECK_STATUS keycheck_record(const char *txt, const KEYS_KEY *key,
 *			BUF *err)
 *	KEYCHECK_STATUS keycheck_published(DNS_LOOKUP_FN lookup, void *ctx,
 *			const char *domain, const char *selector,
 *			const KEYS_KEY *key, unsigned *ttl, BUF *err)
 *
 * DESCRIPTION
 *	keycheck_record() reads an RFC 6376 3.6.1 key record (tag=value
 *	pairs separated by ';', white space allowed around them): v= must be
 *	DKIM1 if present, k= defaults to rsa and must name our key's type,
 *	p= is base64 (folding white space allowed; empty means revoked).
 *	For RSA, p= is compared with our SubjectPublicKeyInfo (byte for
 *	byte, or as keys when it is a PKCS#1 RSAPublicKey or re-encoded);
 *	for Ed25519 (RFC 8463) p= must be our raw 32-byte public key.
 *
 *	keycheck_published() looks up selector._domainkey.domain (TXT).
 *	Several key records at one name are a mismatch unless all are ours:
 *	verifiers may pick any.
 *
 * DIAGNOSTICS
 *	KEYCHECK_TEMPFAIL with the reason for DNS trouble,
 *	KEYCHECK_MISSING, KEYCHECK_REVOKED or KEYCHECK_MISMATCH with what the DNS publishes
 *	otherwise, the reason appended to err; never a match on doubt.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keycheck.h"
#include "util.h"

const char *keycheck_str(KEYCHECK_STATUS st)
{
    static const char *const names[] = {"match", "mismatch", "missing", "revoked", "invalid",
                                        "temperror"};

    return (unsigned) st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

/* keycheck_tag - the value of tag in a tag-list, trimmed, into out; 0 if absent */
static int keycheck_tag(const char *txt, const char *tag, char *out, size_t outlen)
{
    const char *p = txt;
    size_t tlen = strlen(tag);

    while (*p) {
        const char *end = p + strcspn(p, ";"), *eq, *v, *ve;

        p += strspn(p, " \t\r\n");
        eq = memchr(p, '=', (size_t) (end - p));
        if (eq) {
            const char *ne = eq;

            while (ne > p && isspace((unsigned char) ne[-1]))
                ne--;
            if ((size_t) (ne - p) == tlen && strncasecmp(p, tag, tlen) == 0) {
                v = eq + 1 + strspn(eq + 1, " \t\r\n");
                ve = end;
                while (ve > v && isspace((unsigned char) ve[-1]))
                    ve--;
                if ((size_t) (ve - v) >= outlen)
                    return -1;
                memcpy(out, v, (size_t) (ve - v));
                out[ve - v] = 0;
                return 1;
            }
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* keycheck_b64 - decode base64 (white space skipped); length or -1 */
static long keycheck_b64(const char *in, unsigned char **out)
{
    size_t n = 0, len = strlen(in), pad = 0;
    char *clean = xmalloc(len + 1);
    int got;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) in[i];

        if (isspace(c))
            continue;
        if (!isalnum(c) && c != '+' && c != '/' && c != '=') {
            free(clean);
            return -1;
        }
        clean[n++] = (char) c;
    }
    clean[n] = 0;
    if (n == 0 || n % 4 != 0) {
        free(clean);
        return -1;
    }
    while (pad < 2 && clean[n - 1 - pad] == '=')
        pad++;
    *out = xmalloc(n / 4 * 3 + 1);
    got = EVP_DecodeBlock(*out, (unsigned char *) clean, (int) n);
    free(clean);
    if (got < 0 || (size_t) got < pad) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return (long) ((size_t) got - pad);
}

/* keycheck_rsa_same - p= (DER) is the same RSA key as our SPKI */
static int keycheck_rsa_same(const unsigned char *der, long len, const KEYS_KEY *key)
{
    const unsigned char *p = der, *q = key->spki;
    EVP_PKEY *pub, *ours;
    int same = 0;

    if ((size_t) len == key->spki_len && memcmp(der, key->spki, key->spki_len) == 0)
        return 1;
    if ((pub = d2i_PUBKEY(NULL, &p, len)) == NULL) {
        p = der;
        pub = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);      /* PKCS#1 RSAPublicKey */
    }
    ours = d2i_PUBKEY(NULL, &q, (long) key->spki_len);
    if (pub && ours)
        same = EVP_PKEY_eq(pub, ours) == 1;
    EVP_PKEY_free(pub);
    EVP_PKEY_free(ours);
    return same;
}

/* keycheck_record - one published record against our key */
KEYCHECK_STATUS keycheck_record(const char *txt, const KEYS_KEY *key, BUF *err)
{
    char v[64], k[64], *p;
    unsigned char *der = NULL;
    long len;
    int has_p, vt, kt;
    size_t plen = strlen(txt) + 1;
    KEYCHECK_STATUS st;
    const char *ours = key->type == KEYS_ED25519 ? "ed25519" : "rsa";

    /* a value too long for v or k (-1) is none we know, never a default */
    if ((vt = keycheck_tag(txt, "v", v, sizeof(v))) != 0 && (vt < 0 || strcmp(v, "DKIM1") != 0)) {
        (void) util_err(err, "v=%s is not DKIM1", vt < 0 ? "(over 63 bytes)" : v);
        return KEYCHECK_INVALID;
    }
    if ((kt = keycheck_tag(txt, "k", k, sizeof(k))) == 0)
        util_strlcpy(k, "rsa", sizeof(k));
    else if (kt < 0)
        util_strlcpy(k, "(over 63 bytes)", sizeof(k));
    p = xmalloc(plen);
    has_p = keycheck_tag(txt, "p", p, plen);
    if (has_p <= 0) {
        (void) util_err(err, "no p= tag");
        st = KEYCHECK_INVALID;
    } else if (p[0] == 0) {
        (void) util_err(err, "p= is empty: the key is revoked");
        st = KEYCHECK_REVOKED;
    } else if (strcasecmp(k, ours) != 0) {
        (void) util_err(err, "published k=%s, our key is %s", k, ours);
        st = KEYCHECK_MISMATCH;
    } else if ((len = keycheck_b64(p, &der)) <= 0) {
        (void) util_err(err, "p= is not valid base64");
        st = KEYCHECK_INVALID;
    } else if (key->type == KEYS_ED25519) {
        st = KEYCHECK_MISMATCH;
        if (len != 32)
            (void) util_err(err, "p= holds %ld bytes, an Ed25519 key has 32 (RFC 8463)", len);
        else if (key->spki_len < 32 || memcmp(der, key->spki + key->spki_len - 32, 32) != 0)
            (void) util_err(err, "the published Ed25519 key is not the public half of %s", key->origin);
        else
            st = KEYCHECK_MATCH;
    } else {
        st = keycheck_rsa_same(der, len, key) ? KEYCHECK_MATCH : KEYCHECK_MISMATCH;
        if (st != KEYCHECK_MATCH)
            (void) util_err(err, "the published RSA key is not the public half of %s", key->origin);
    }
    free(der);
    free(p);
    return st;
}

/* keycheck_published - look up and compare */
KEYCHECK_STATUS keycheck_published(DNS_LOOKUP_FN lookup, void *ctx, const char *domain,
                                   const char *selector, const KEYS_KEY *key, unsigned *ttl,
                                   BUF *err)
{
    char name[600], why_mem[1024];
    DNS_ANSWER a;
    KEYCHECK_STATUS st = KEYCHECK_MISSING;
    BUF why;

    snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain);
    lookup(ctx, name, 16, &a);
    *ttl = a.ttl;
    if (a.status == DNS_TEMPFAIL) {
        (void) util_err(err, "%s: %s", name, a.why);
        *ttl = 0;
        dns_answer_free(&a);
        return KEYCHECK_TEMPFAIL;
    }
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    for (size_t i = 0; i < a.n; i++) {
        char w_mem[300];
        BUF w;
        KEYCHECK_STATUS one;

        buf_init_fixed(&w, w_mem, sizeof(w_mem));
        one = keycheck_record(a.rec[i], key, &w);
        /* The first record decides, unless a later one is not ours. */
        if (i == 0 || (st == KEYCHECK_MATCH && one != KEYCHECK_MATCH)) {
            st = one;
            buf_reset(&why);
            if (one != KEYCHECK_MATCH)
                (void) util_err(&why, "%s: %s%s", name, w.data, i ? " (several key records)" : "");
        }
    }
    if (a.n == 0)
        (void) util_err(&why, "%s: %s", name, a.status == DNS_NXDOMAIN ? "no such name" : "no TXT record");
    if (why.len)
        (void) util_err(err, "%s", why.data);
    dns_answer_free(&a);
    return st;
}

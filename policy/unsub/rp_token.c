/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rp_token.c - return-path tokens: who a bounce is about
 *
 * SYNOPSIS
 *	#include "rp_token.h"
 *
 *	int	rp_token_seal(const UNSUB_KEYS *k, const char *rcpt,
 *			const char *stream, const char *sender, uint64_t now,
 *			char *out, size_t outlen)
 *	int	rp_token_open(const UNSUB_KEYS *k, const char *token,
 *			uint64_t max_age, uint64_t now, RP_PAYLOAD *p,
 *			BUF *err)
 *
 * DESCRIPTION
 *	The same construction and keys as the unsubscribe tokens
 *	(unsub_token.c: AES-256-SIV, key id first, the newest key seals),
 *	with the associated data "txmilter-rp-1" and the key id: an
 *	unsubscribe token never opens here, a return-path token never opens
 *	as an unsubscribe token, whatever its characters.
 *
 *	Plaintext: issued (4 bytes, big-endian seconds) | rcpt length (1) |
 *	stream length (1) | rcpt | stream | sender (the rest, may be
 *	empty: the null sender). Encoding: RFC 4648 base32, lowercase
 *	("abcdefghijklmnopqrstuvwxyz234567"), no padding; opening takes
 *	either case (a local part may be case-folded on its way) and refuses
 *	a length no encoder gives and non-zero unused bits, so every changed
 *	character is refused. A token is 8/5 of (23 + the fields) characters:
 *	about 120 for usual addresses, more than RFC 5321's 64 octets of a
 *	local part, which Postfix and the large receivers accept (VERP
 *	addresses are as long).
 *
 * DIAGNOSTICS
 *	-1 as rp_token.h says; nothing is logged but OpenSSL failures.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "rp_token.h"
#include "unsub_token_int.h"

#define RP_LABEL        "txmilter-rp-1"
#define RP_PT_FIXED     6
#define RP_RAW_MAX      (((RP_TOKEN_MAX - 1) * 5) / 8)
#define RP_PT_MAX       (RP_RAW_MAX - UNSUB_TOKEN_HEAD)

static const char rp_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* rp_b32_encode - n bytes as lowercase base32 without padding; -1 if out is short */
static int rp_b32_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
    size_t i, o = 0;
    unsigned acc = 0;
    int bits = 0;

    for (i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            if (o + 1 >= outlen)
                return -1;
            bits -= 5;
            out[o++] = rp_b32[(acc >> bits) & 31];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0) {
        if (o + 1 >= outlen)
            return -1;
        out[o++] = rp_b32[(acc << (5 - bits)) & 31];
    }
    out[o] = 0;
    return 0;
}

/* rp_b32_decode - strict base32 (either case) into out; the byte count or -1 */
static long rp_b32_decode(const char *s, size_t n, unsigned char *out, size_t outlen)
{
    size_t i, o = 0, rem = n % 8;
    unsigned acc = 0;
    int bits = 0;

    if (rem == 1 || rem == 3 || rem == 6)       /* no encoder ends so */
        return -1;
    for (i = 0; i < n; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char) (s[i] - 'A' + 'a') : s[i];
        const char *p = c ? strchr(rp_b32, c) : NULL;

        if (p == NULL)
            return -1;
        acc = (acc << 5) | (unsigned) (p - rp_b32);
        bits += 5;
        if (bits >= 8) {
            if (o >= outlen)
                return -1;
            bits -= 8;
            out[o++] = (unsigned char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)                               /* unused bits must be zero */
        return -1;
    return (long) o;
}

/* rp_token_seal - a token for (rcpt, stream, sender) */
int rp_token_seal(const UNSUB_KEYS *k, const char *rcpt, const char *stream, const char *sender,
                  uint64_t now, char *out, size_t outlen)
{
    unsigned char pt[RP_PT_MAX], raw[RP_RAW_MAX];
    size_t rl, sl, el, n;
    int rc;

    if (out && outlen)
        out[0] = 0;
    if (k == NULL || rcpt == NULL || stream == NULL || out == NULL || now > UINT32_MAX)
        return -1;
    if (sender == NULL)
        sender = "";
    rl = strnlen(rcpt, RP_PT_MAX);
    sl = strnlen(stream, RP_PT_MAX);
    el = strnlen(sender, RP_PT_MAX);
    if (rl == 0 || sl == 0 || rl > 255 || sl > 255 || RP_PT_FIXED + rl + sl + el > RP_PT_MAX)
        return -1;
    n = RP_PT_FIXED + rl + sl + el;
    pt[0] = (unsigned char) (now >> 24);
    pt[1] = (unsigned char) (now >> 16);
    pt[2] = (unsigned char) (now >> 8);
    pt[3] = (unsigned char) now;
    pt[4] = (unsigned char) rl;
    pt[5] = (unsigned char) sl;
    memcpy(pt + RP_PT_FIXED, rcpt, rl);
    memcpy(pt + RP_PT_FIXED + rl, stream, sl);
    memcpy(pt + RP_PT_FIXED + rl + sl, sender, el);
    rc = unsub_token_seal_raw(k, RP_LABEL, pt, n, raw) == 0
        ? rp_b32_encode(raw, UNSUB_TOKEN_HEAD + n, out, outlen) : -1;
    OPENSSL_cleanse(pt, sizeof(pt));
    if (rc != 0 && out && outlen)
        out[0] = 0;
    return rc;
}

/* rp_refuse - why appended to err, p zeroed; -1 */
static int rp_refuse(RP_PAYLOAD *p, BUF *err, const char *why)
{
    if (p)
        memset(p, 0, sizeof(*p));
    return util_err(err, "%s", why);
}

/* rp_token_open - verify and decode a return-path token */
int rp_token_open(const UNSUB_KEYS *k, const char *token, uint64_t max_age, uint64_t now,
                  RP_PAYLOAD *p, BUF *err)
{
    unsigned char raw[RP_RAW_MAX + 8], pt[RP_RAW_MAX];
    size_t len, rl, sl, el;
    uint64_t issued;
    long got, n;
    int rc;

    if (k == NULL || token == NULL || p == NULL
        || (len = strnlen(token, RP_TOKEN_MAX)) >= RP_TOKEN_MAX
        || (got = rp_b32_decode(token, len, raw, sizeof(raw))) < UNSUB_TOKEN_HEAD + RP_PT_FIXED + 2)
        return rp_refuse(p, err, "malformed");
    if ((n = unsub_token_open_raw(k, RP_LABEL, raw, (size_t) got, pt, err)) < 0) {
        OPENSSL_cleanse(pt, sizeof(pt));
        memset(p, 0, sizeof(*p));
        return -1;
    }
    issued = ((uint64_t) pt[0] << 24) | ((uint64_t) pt[1] << 16) | ((uint64_t) pt[2] << 8) | pt[3];
    rl = pt[4];
    sl = pt[5];
    if (rl == 0 || sl == 0 || RP_PT_FIXED + rl + sl > (size_t) n
        || memchr(pt + RP_PT_FIXED, 0, (size_t) n - RP_PT_FIXED) != NULL) {
        rc = rp_refuse(p, err, "malformed");
    } else if (max_age != 0 && now > issued && now - issued > max_age) {
        rc = rp_refuse(p, err, "expired");
    } else {
        el = (size_t) n - RP_PT_FIXED - rl - sl;
        memset(p, 0, sizeof(*p));
        memcpy(p->rcpt, pt + RP_PT_FIXED, rl);
        memcpy(p->stream, pt + RP_PT_FIXED + rl, sl);
        memcpy(p->sender, pt + RP_PT_FIXED + rl + sl, el);
        p->issued = issued;
        p->key_id = raw[0];
        rc = 0;
    }
    OPENSSL_cleanse(pt, sizeof(pt));
    return rc;
}

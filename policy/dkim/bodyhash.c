/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bodyhash.c - the DKIM body hash in one pass over the body.
 *
 * SYNOPSIS
 *	#include "bodyhash.h"
 *
 *	BODYHASH * bodyhash_new(enum bodyhash_mode mode, BODYHASH_SINK sink,
 *			void *ctx)
 *	int	bodyhash_update(BODYHASH *bh, const unsigned char *data,
 *			size_t len)
 *	int	bodyhash_final(BODYHASH *bh, unsigned char digest[32])
 *	size_t	bodyhash_length(const BODYHASH *bh)
 *	void	bodyhash_free(BODYHASH *bh)
 *
 * DESCRIPTION
 *	The body arrives in chunks cut anywhere. Line ends are repaired
 *	first, only where they are bare: a LF without its CR becomes CRLF,
 *	and so does a CR that is not followed by a LF (also when the two
 *	fall in different chunks). A body that does not end in a line end
 *	gets one. This is what libopendkim's FIXCRLF flag did, without its
 *	byte-at-a-time copy of every chunk.
 *
 *	BODYHASH_SIMPLE and BODYHASH_RELAXED then canonicalize (RFC 6376
 *	3.4.3, 3.4.4) and hash with SHA-256: empty lines at the end are
 *	dropped (they are held back until a line with content follows);
 *	simple turns an empty body into one CRLF; relaxed drops whitespace
 *	at the end of each line and turns every run of SP and HTAB inside a
 *	line into one SP. l= is not supported: the whole body is hashed.
 *
 *	BODYHASH_REPAIR only repairs, and hands the repaired body to the
 *	sink in pieces of up to 16 KB.
 *
 *	Runs of bytes that stay as they are (for relaxed: single SPs between
 *	other bytes included) are found with memchr() or one comparison per
 *	byte and copied in one go, so the cost per line is a few calls and
 *	the cost per byte about that of SHA-256.
 *
 * DIAGNOSTICS
 *	bodyhash_update() and bodyhash_final() return -1 when the sink or
 *	OpenSSL fails; nothing in the body itself is an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bodyhash.h"
#include "util.h"

enum { BH_PLAIN, BH_CR, BH_LF, BH_WSP };

struct bodyhash {
    enum bodyhash_mode mode;
    BODYHASH_SINK sink;
    void   *ctx;
    EVP_MD_CTX *md;
    const unsigned char *cls;   /* byte classes for this mode */
    int     cr;                 /* a CR was seen, whether its LF follows is open */
    int     wsp;                /* relaxed: whitespace held inside the line */
    int     failed;
    size_t  linelen;            /* content bytes produced on this line */
    size_t  blanks;             /* empty lines held back */
    size_t  total;              /* bytes produced */
    size_t  n;                  /* bytes waiting in out */
    unsigned char out[16384];
};

/* byte classes: CR and LF, and for relaxed SP and HTAB; the rest plain */
static const unsigned char bh_cls_plain[256] = { ['\r'] = BH_CR, ['\n'] = BH_LF };
static const unsigned char bh_cls_relaxed[256] = {
    ['\r'] = BH_CR, ['\n'] = BH_LF, [' '] = BH_WSP, ['\t'] = BH_WSP
};

/* bodyhash_new - a hasher for one body */
BODYHASH *bodyhash_new(enum bodyhash_mode mode, BODYHASH_SINK sink, void *ctx)
{
    BODYHASH *bh = xcalloc(1, sizeof(*bh));

    bh->mode = mode;
    bh->sink = sink;
    bh->ctx = ctx;
    bh->cls = mode == BODYHASH_RELAXED ? bh_cls_relaxed : bh_cls_plain;
    if (mode != BODYHASH_REPAIR
        && ((bh->md = EVP_MD_CTX_new()) == NULL
            || EVP_DigestInit_ex(bh->md, EVP_sha256(), NULL) != 1)) {
        bodyhash_free(bh);
        return NULL;
    }
    return bh;
}

/* bodyhash_write - hand bytes on to the digest or the sink */
static int bodyhash_write(BODYHASH *bh, const unsigned char *p, size_t len)
{
    if (len == 0 || bh->failed)
        return bh->failed ? -1 : 0;
    if (bh->mode == BODYHASH_REPAIR ? bh->sink(bh->ctx, p, len) != 0
        : EVP_DigestUpdate(bh->md, p, len) != 1)
        bh->failed = 1;
    return bh->failed ? -1 : 0;
}

/* bodyhash_flush - write out what waits in the buffer */
static int bodyhash_flush(BODYHASH *bh)
{
    size_t n = bh->n;

    bh->n = 0;
    return bodyhash_write(bh, bh->out, n);
}

/* bodyhash_put - produce len bytes of output */
static int bodyhash_put(BODYHASH *bh, const unsigned char *p, size_t len)
{
    bh->total += len;
    if (bh->n + len > sizeof(bh->out) && bodyhash_flush(bh) < 0)
        return -1;
    if (len >= sizeof(bh->out))
        return bodyhash_write(bh, p, len);
    memcpy(bh->out + bh->n, p, len);
    bh->n += len;
    return 0;
}

/* bodyhash_eol - a line ends: a held-back empty line, or its CRLF */
static int bodyhash_eol(BODYHASH *bh)
{
    size_t len = bh->linelen;

    bh->linelen = 0;
    bh->wsp = 0;
    if (len == 0 && bh->mode != BODYHASH_REPAIR) {
        bh->blanks++;
        return 0;
    }
    return bodyhash_put(bh, (const unsigned char *) "\r\n", 2);
}

/* bodyhash_content - ordinary bytes of a line: first the empty lines and
 * the whitespace they prove were not at the end */
static int bodyhash_content(BODYHASH *bh, const unsigned char *p, size_t len)
{
    while (bh->linelen == 0 && bh->blanks > 0) {
        if (bodyhash_put(bh, (const unsigned char *) "\r\n", 2) < 0)
            return -1;
        bh->blanks--;
    }
    if (bh->wsp) {
        bh->wsp = 0;
        if (bodyhash_put(bh, (const unsigned char *) " ", 1) < 0)
            return -1;
        bh->linelen++;
    }
    bh->linelen += len;
    return bodyhash_put(bh, p, len);
}

/* bodyhash_run_plain - the end of the run of bytes from p that simple
 * canonicalization and the repair leave as they are: up to the next CR or LF */
static const unsigned char *bodyhash_run_plain(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *cr = memchr(p, '\r', (size_t) (end - p));
    const unsigned char *lf = memchr(p, '\n', (size_t) (cr ? cr - p : end - p));

    return lf ? lf : cr ? cr : end;
}

/* Eight bytes at a time: ONES * n has n in every byte. A word "has a byte
 * below n" (n <= 128) exactly when BH_BELOW() is not 0; only the lowest
 * flag is exact, so flags serve only to reject a word, never to accept. */
#define BH_ONES         0x0101010101010101ULL
#define BH_HIGHS        0x8080808080808080ULL
#define BH_BELOW(x, n)  (((x) - BH_ONES * (n)) & ~(x) & BH_HIGHS)

/* bodyhash_word_ok - may relaxed take the 8 bytes at q as they are: no
 * byte below SP, no two SPs side by side (a false alarm only costs the
 * byte loop), no SP last (the next byte decides it), no SP first at the
 * start of the run (first is 1 there) */
static int bodyhash_word_ok(const unsigned char *q, int first)
{
    uint64_t x, m;

    memcpy(&x, q, sizeof(x));
    if (BH_BELOW(x, 0x20) != 0 || q[7] == ' ' || (first && q[0] == ' '))
        return 0;
    m = x ^ (BH_ONES * ' ');
    m = BH_BELOW(m, 1);                 /* flags at the SPs (and maybe above) */
    return (m & (m >> 8)) == 0;
}

/* bodyhash_run_relaxed - the same for relaxed: up to the next CR, LF or
 * HTAB, or SP that is not one SP between two other bytes of the run */
static const unsigned char *bodyhash_run_relaxed(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *q = p;

    while (q < end) {
        if (end - q >= 8 && bodyhash_word_ok(q, q == p))
            q += 8;
        else if (*q > ' ' || bh_cls_relaxed[*q] == BH_PLAIN)
            q++;
        else if (*q == ' ' && q > p && q + 1 < end && q[1] > ' ')
            q += 2;
        else
            break;
    }
    return q;
}

/* bodyhash_update - the next piece of the body */
int bodyhash_update(BODYHASH *bh, const unsigned char *data, size_t len)
{
    const unsigned char *p = data, *end = data + len, *q;
    const unsigned char *cls = bh->cls;

    while (p < end && !bh->failed) {
        if (bh->cr) {
            bh->cr = 0;
            if (bodyhash_eol(bh) < 0)   /* CRLF, or a bare CR repaired */
                return -1;
            if (*p == '\n') {
                p++;
                continue;
            }
        }
        q = bh->mode == BODYHASH_RELAXED ? bodyhash_run_relaxed(p, end)
            : bodyhash_run_plain(p, end);
        if (q > p) {
            if (bodyhash_content(bh, p, (size_t) (q - p)) < 0)
                return -1;
            p = q;
            continue;
        }
        switch (cls[*p++]) {
        case BH_CR:
            bh->cr = 1;
            break;
        case BH_LF:                     /* a bare LF: the CR was not there */
            if (bodyhash_eol(bh) < 0)
                return -1;
            break;
        default:
            bh->wsp = 1;
            break;
        }
    }
    return bh->failed ? -1 : 0;
}

/* bodyhash_final - end of body, and the digest */
int bodyhash_final(BODYHASH *bh, unsigned char digest[BODYHASH_LEN])
{
    unsigned int dlen = 0;

    if (bh->cr) {
        bh->cr = 0;
        if (bodyhash_eol(bh) < 0)
            return -1;
    }
    if (bh->linelen > 0 && bodyhash_eol(bh) < 0)    /* no line end at the end */
        return -1;
    bh->blanks = 0;
    if (bh->mode == BODYHASH_SIMPLE && bh->total == 0
        && bodyhash_put(bh, (const unsigned char *) "\r\n", 2) < 0)
        return -1;
    if (bodyhash_flush(bh) < 0)
        return -1;
    if (bh->mode == BODYHASH_REPAIR)
        return 0;
    if (EVP_DigestFinal_ex(bh->md, digest, &dlen) != 1 || dlen != BODYHASH_LEN) {
        bh->failed = 1;
        return -1;
    }
    return 0;
}

size_t bodyhash_length(const BODYHASH *bh)
{
    return bh->total;
}

void bodyhash_free(BODYHASH *bh)
{
    if (bh == NULL)
        return;
    EVP_MD_CTX_free(bh->md);
    free(bh);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_bodyhash.c - libFuzzer target: the one-pass body hasher
 * (policy/dkim/bodyhash.c) on any body, in any chunking.
 *
 * Input: the first byte picks the chunk size (1..256), the rest is the
 * body. Besides crashes, it aborts when a promise breaks:
 * - the digest, for simple and relaxed, does not depend on the chunking;
 * - the repaired body has no bare CR or LF and ends in CRLF (or is empty);
 * - hashing the repaired body gives the digest of the original one
 *   (the repair is the only change the hasher makes to line ends);
 * - the repaired length is what bodyhash_length() says;
 * - the digest is that of a plain, line-by-line reading of RFC 6376 3.4.3
 *   and 3.4.4 (reference() below) applied to the repaired body.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bodyhash.h"
#include "fuzz.h"
#include "util.h"

/* collect - the REPAIR sink: the repaired body into a BUF */
static int collect(void *ctx, const unsigned char *p, size_t len)
{
    return buf_append(ctx, p, len) < 0 ? -1 : 0;
}

/* run - one pass over body in pieces of step bytes; the digest into d */
static void run(BODYHASH *bh, const uint8_t *body, size_t len, size_t step, unsigned char *d)
{
    for (size_t off = 0; off < len; off += step)
        if (bodyhash_update(bh, body + off, len - off > step ? step : len - off) < 0)
            abort();
    if (bodyhash_final(bh, d) < 0)
        abort();
}

/* digest - the body hash in mode, all at once or in pieces */
static void digest(enum bodyhash_mode mode, const uint8_t *body, size_t len, size_t step,
                   unsigned char d[BODYHASH_LEN])
{
    BODYHASH *bh = bodyhash_new(mode, NULL, NULL);

    if (bh == NULL)
        abort();
    run(bh, body, len, step, d);
    bodyhash_free(bh);
}

/* well_formed - every CR followed by LF, every LF preceded by CR, CRLF last */
static int well_formed(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
            || (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')))
            return 0;
    return n == 0 || (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n');
}

/* reference - the canonical body of a repaired body, the obvious way:
 * line by line; relaxed: WSP runs to one SP, none at the line end; then
 * empty lines at the end dropped; simple: an empty body is CRLF */
static void reference(enum bodyhash_mode mode, const char *b, size_t n, unsigned char *d)
{
    BUF out, line;
    size_t keep = 0, i = 0;
    unsigned int dlen;

    buf_init(&out, 4 * FUZZ_MAX_INPUT);
    buf_init(&line, 4 * FUZZ_MAX_INPUT);
    while (i < n) {
        size_t e = i;

        while (b[e] != '\r')           /* repaired: every line ends in CRLF */
            e++;
        buf_reset(&line);
        for (size_t k = i; k < e; k++) {
            int wsp = b[k] == ' ' || b[k] == '\t';

            if (mode == BODYHASH_RELAXED && wsp) {
                while (k + 1 < e && (b[k + 1] == ' ' || b[k + 1] == '\t'))
                    k++;
                if (k + 1 < e)
                    buf_append(&line, " ", 1);
            } else {
                buf_append(&line, b + k, 1);
            }
        }
        buf_append(&out, line.data, line.len);
        buf_append(&out, "\r\n", 2);
        if (line.len > 0)
            keep = out.len;             /* through this line's CRLF */
        i = e + 2;
    }
    out.len = keep;
    if (mode == BODYHASH_SIMPLE && out.len == 0)
        buf_append(&out, "\r\n", 2);
    if (EVP_Digest(out.data, out.len, d, &dlen, EVP_sha256(), NULL) != 1)
        abort();
    buf_free(&out);
    buf_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum bodyhash_mode modes[] = { BODYHASH_SIMPLE, BODYHASH_RELAXED };
    unsigned char whole[BODYHASH_LEN], cut[BODYHASH_LEN], again[BODYHASH_LEN], ref[BODYHASH_LEN];
    size_t step, len;
    const uint8_t *body;
    BODYHASH *bh;
    BUF rep;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    step = (size_t) data[0] + 1;
    body = data + 1;
    len = size - 1;

    buf_init(&rep, 4 * FUZZ_MAX_INPUT);
    if ((bh = bodyhash_new(BODYHASH_REPAIR, collect, &rep)) == NULL)
        abort();
    run(bh, body, len, step, NULL);
    if (bodyhash_length(bh) != rep.len || !well_formed((const unsigned char *) rep.data, rep.len))
        abort();
    bodyhash_free(bh);

    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        digest(modes[m], body, len, len ? len : 1, whole);
        digest(modes[m], body, len, step, cut);
        digest(modes[m], (const uint8_t *) rep.data, rep.len, rep.len ? rep.len : 1, again);
        reference(modes[m], rep.data, rep.len, ref);
        if (memcmp(whole, cut, sizeof(whole)) != 0 || memcmp(whole, again, sizeof(whole)) != 0
            || memcmp(whole, ref, sizeof(whole)) != 0)
            abort();
    }
    buf_free(&rep);
    return 0;
}

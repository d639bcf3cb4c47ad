/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_unsubd_head.c - libFuzzer target: unsubd_head_check(), the check
 * of the bytes a client sent before libmicrohttpd sees them. The input
 * is those bytes. Besides crashes it aborts on broken promises: a
 * refusal without a status the gate can answer, fields that are not
 * terminated, a refused prefix that more bytes make acceptable (the
 * gate answers as soon as a prefix is bad), a whole request whose
 * lengths do not fit the input, X-Forwarded-For values outside its
 * header fields or not fitting the gate's bound once joined.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "unsubd_head.h"

/* fuzz_head_one - check one length and the promises about it */
static enum unsubd_head_state fuzz_head_one(const char *buf, size_t len, UNSUBD_HEAD *h)
{
    enum unsubd_head_state st = unsubd_head_check(buf, len, h);

    if (memchr(h->method, 0, sizeof(h->method)) == NULL || memchr(h->target, 0, sizeof(h->target)) == NULL)
        abort();
    if (st == UNSUBD_HEAD_BAD && (h->status < 400 || h->status > 599 || h->result == NULL
                                  || strcmp(unsubd_head_reason(h->status), "Error") == 0))
        abort();
    if (st == UNSUBD_HEAD_OK && (h->head_len + h->body_len > len || h->body_len > UNSUBD_HEAD_BODY
                                 || h->head_len > UNSUBD_HEAD_MAX + 1))
        abort();
    if (st == UNSUBD_HEAD_OK) {
        BUF xff;

        for (unsigned i = 0; i < h->nxff; i++)
            if (h->xff[i].at + h->xff[i].len > h->head_len)
                abort();            /* a value outside the header fields */
        buf_init(&xff, UNSUBD_HEAD_MAX);
        if (unsubd_head_xff(h, buf, &xff) < 0)
            abort();                /* the gate's bound is the fields' */
        buf_free(&xff);
    }
    return st;
}

/* LLVMFuzzerTestOneInput - one connection's bytes */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *) data;
    UNSUBD_HEAD h;
    enum unsubd_head_state whole;

    if (size > FUZZ_MAX_INPUT)
        return -1;
    whole = fuzz_head_one(buf, size, &h);
    for (size_t k = size / 2; k < size; k += (size - k + 1) / 2) {
        enum unsubd_head_state st = fuzz_head_one(buf, k, &h);

        if (st == UNSUBD_HEAD_BAD && whole != UNSUBD_HEAD_BAD)
            abort();                /* refused early, accepted later */
    }
    return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_head.h - txmilter-unsubd's check of a whole request as the
 * client sent it (request line, header fields, body length), before
 * libmicrohttpd sees a byte of it: so that every malformed, oversized or
 * incomplete request is answered by txmilter-unsubd itself, with its
 * headers and a log line. Pure: unit tests and a fuzz target drive it.
 */
#ifndef TX_UNSUBD_HEAD_H
#define TX_UNSUBD_HEAD_H

#include <stddef.h>

#include "util.h"

#define UNSUBD_HEAD_MAX     (16 * 1024)     /* request line and header fields */
#define UNSUBD_HEAD_PATH    1024            /* bytes of a request target (UNSUBD_URL_MAX) */
#define UNSUBD_HEAD_BODY    4096            /* bytes of a body (UNSUBD_BODY_MAX) */
/* Everything a good request can be: what the gate peeks at. */
#define UNSUBD_HEAD_WHOLE   (UNSUBD_HEAD_MAX + UNSUBD_HEAD_BODY)
#define UNSUBD_HEAD_FIELDS  100             /* header fields (libmicrohttpd keeps each in its pool) */

enum unsubd_head_state {
    UNSUBD_HEAD_MORE = 0,           /* fine so far, incomplete */
    UNSUBD_HEAD_OK,                 /* complete and well-formed: for libmicrohttpd */
    UNSUBD_HEAD_BAD,                /* answer status, log result */
};

typedef struct unsubd_head {
    unsigned status;                /* UNSUBD_HEAD_BAD: the answer's status */
    const char *result;             /* UNSUBD_HEAD_BAD: the log's result= word */
    char    method[8];              /* as far as it was read ("-": not yet) */
    char    target[UNSUBD_HEAD_PATH + 2];   /* the request target, cut */
    size_t  head_len;               /* UNSUBD_HEAD_OK: bytes up to the empty line */
    size_t  body_len;               /* UNSUBD_HEAD_OK: Content-Length (0 without) */
    int     expect_continue;        /* Expect: 100-continue (the gate sends the 100) */
    unsigned nxff;                  /* X-Forwarded-For fields, in order: */
    struct {
        size_t  at, len;            /* its value (white space trimmed) in the bytes checked */
    } xff[UNSUBD_HEAD_FIELDS + 1];
} UNSUBD_HEAD;

/* unsubd_head_check - look at the first len bytes the client sent. MORE
 * while a good request may still come of them; OK when the request line,
 * the header fields and the whole body are there and well-formed; BAD
 * with the status to answer (400 malformed, 405 no such method syntax,
 * 411 Transfer-Encoding, 413 body, 414 path, 417 Expect, 431 header
 * fields, 505 version) as soon as the bytes show it. */
enum unsubd_head_state unsubd_head_check(const char *buf, size_t len, UNSUBD_HEAD *h);

/* unsubd_head_xff - the values of every X-Forwarded-For field of the
 * request that unsubd_head_check() found OK in buf, in order, joined with
 * "," into out (as libmicrohttpd's values are joined for
 * unsubd_http_client()); nothing when there is none. -1 when out's bound
 * is too small (out then holds the fields that fit). */
int unsubd_head_xff(const UNSUBD_HEAD *h, const char *buf, BUF *out);

/* unsubd_head_reason - the reason phrase of a status the module answers */
const char *unsubd_head_reason(unsigned status);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_answer.h - the header fields every answer of txmilter-unsubd
 * carries, whoever writes it (libmicrohttpd for the requests it serves,
 * the gate for those it refuses before), and the gate's whole answers.
 */
#ifndef TX_UNSUBD_ANSWER_H
#define TX_UNSUBD_ANSWER_H

#include "util.h"

/* One header field. */
typedef struct unsubd_header {
    const char *name;
    const char *value;
} UNSUBD_HEADER;

/* The fields of every answer besides Content-Type, Content-Length,
 * Content-Security-Policy (per page) and Content-Language; the last
 * entry has a NULL name. Connection: close is one of them: one request
 * per connection, so that each is checked by the gate. */
extern const UNSUBD_HEADER unsubd_answer_headers[];

/* unsubd_answer_raw - a whole plain-text HTTP/1.1 answer with status,
 * reason, the fields above, the plain-text Content-Security-Policy, a
 * Retry-After unless retry_after is NULL, and text as its body; -1 over
 * b's bound */
int unsubd_answer_raw(BUF *b, unsigned status, const char *reason, const char *retry_after,
                      const char *text);

#endif

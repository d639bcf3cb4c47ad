/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_answer.c - the header fields of every answer
 *
 * SYNOPSIS
 *	#include "unsubd_answer.h"
 *
 *	const UNSUBD_HEADER unsubd_answer_headers[]
 *	int	unsubd_answer_raw(BUF *b, unsigned status, const char *reason,
 *				  const char *retry_after, const char *text)
 *
 * DESCRIPTION
 *	unsubd_answer_headers[] is the one list of the security and
 *	caching header fields: unsubd.c adds each to libmicrohttpd's
 *	responses, unsubd_answer_raw() writes them into the answers the gate
 *	(unsubd_gate.c) sends by itself to requests that never reach
 *	libmicrohttpd (malformed, too large, too slow, too many from one
 *	address), so that those carry the same fields, a Content-Type and
 *	Connection: close as well.
 *
 * DIAGNOSTICS
 *	unsubd_answer_raw() returns -1 when b's bound is too small.
 */
#include <stdio.h>
#include <string.h>

#include "unsubd_answer.h"
#include "unsubd_page.h"

#define UNSUBD_PERMISSIONS "accelerometer=(), camera=(), geolocation=(), gyroscope=(), " \
    "magnetometer=(), microphone=(), payment=(), usb=()"

const UNSUBD_HEADER unsubd_answer_headers[] = {
    {"Cache-Control", "no-store"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},             /* the token is in the URL */
    {"X-Frame-Options", "DENY"},                    /* the button must not be clickjacked */
    {"Permissions-Policy", UNSUBD_PERMISSIONS},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Connection", "close"},                        /* one request per connection */
    {NULL, NULL},
};

/* unsubd_answer_raw - status line, fields, body */
int unsubd_answer_raw(BUF *b, unsigned status, const char *reason, const char *retry_after,
                      const char *text)
{
    if (buf_printf(b, "HTTP/1.1 %u %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: %zu\r\nContent-Security-Policy: %s\r\n",
                   status, reason, strlen(text), UNSUBD_CSP_TEXT) < 0)
        return -1;
    if (retry_after != NULL && buf_printf(b, "Retry-After: %s\r\n", retry_after) < 0)
        return -1;
    for (const UNSUBD_HEADER *h = unsubd_answer_headers; h->name; h++)
        if (buf_printf(b, "%s: %s\r\n", h->name, h->value) < 0)
            return -1;
    return buf_printf(b, "\r\n%s", text) < 0 ? -1 : 0;
}

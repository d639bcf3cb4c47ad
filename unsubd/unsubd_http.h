/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_http.h - the request logic of txmilter-unsubd that needs no
 * socket: which path names a token, whether a body is a one-click
 * unsubscribe (RFC 8058), who the client is behind a trusted proxy, and
 * the log fields. Unit tests drive it directly.
 */
#ifndef TX_UNSUBD_HTTP_H
#define TX_UNSUBD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "netlist.h"
#include "util.h"

#define UNSUBD_IP_MAX       64      /* a textual IPv4 or IPv6 address, NUL included */
#define UNSUBD_LOGPATH_MAX  80      /* a path as logged, NUL included */
#define UNSUBD_TOKEN_PREFIX 8       /* token characters that may be logged */

/* What a request path names. */
enum unsubd_path {
    UNSUBD_PATH_TOKEN = 0,          /* "/u/TOKEN" with a well-formed TOKEN */
    UNSUBD_PATH_BADTOKEN,           /* "/u/..." with no, too long or non-URL-safe TOKEN */
    UNSUBD_PATH_OTHER,              /* anything else (404) */
};

/* unsubd_http_path - classify url (the path, without query); on
 * UNSUBD_PATH_TOKEN *token points into url at the token. */
enum unsubd_path unsubd_http_path(const char *url, const char **token);

/* unsubd_http_logpath - the path as it may be logged: every run of more
 * than UNSUBD_TOKEN_PREFIX token characters cut to that many and "...",
 * the whole cut to fit outlen; never a whole token. */
void unsubd_http_logpath(const char *url, char *out, size_t outlen);

/* What a POST's Content-Type names. */
enum unsubd_form_type {
    UNSUBD_FORM_NONE = 0,           /* no Content-Type */
    UNSUBD_FORM_URLENCODED,         /* application/x-www-form-urlencoded */
    UNSUBD_FORM_MULTIPART,          /* multipart/form-data */
    UNSUBD_FORM_OTHER,              /* anything else */
};

/* The one-click field, collected from the post processor's pieces. */
typedef struct unsubd_form {
    char    value[64];              /* List-Unsubscribe's value so far */
    size_t  len;
    int     collecting;             /* the current field is List-Unsubscribe */
    int     too_long;               /* its value did not fit */
    int     found;                  /* a field was List-Unsubscribe=One-Click */
    unsigned fields;                /* fields seen */
} UNSUBD_FORM;

/* unsubd_http_form_type - the form encoding of content_type (NULL: absent) */
enum unsubd_form_type unsubd_http_form_type(const char *content_type);

/* unsubd_http_form_feed - size bytes at offset off of the value of the
 * field key (off 0: a new field begins); f starts zeroed */
void unsubd_http_form_feed(UNSUBD_FORM *f, const char *key, uint64_t off, const char *data, size_t size);

/* unsubd_http_form_done - 1 if one field was List-Unsubscribe=One-Click
 * (case and surrounding white space ignored); 0 with a reason appended to
 * err */
int unsubd_http_form_done(UNSUBD_FORM *f, BUF *err);

/* unsubd_http_client - the client's address: peer itself, unless peer is
 * in trusted (may be NULL: trust nobody) and xff (X-Forwarded-For, may
 * be NULL: every X-Forwarded-For line of the request joined with ",")
 * names addresses: then the rightmost address of xff that is not trusted
 * (or the leftmost valid one if all are, of the right-most 32 entries),
 * stopping at the first entry that is not an IP address. out gets at
 * least "unknown". */
void unsubd_http_client(const char *peer, const char *xff, const NETLIST *trusted,
                        char *out, size_t outlen);

/* unsubd_http_ratekey - the rate-limit key of a client address: the
 * address for IPv4, its /64 for IPv6 (one subscriber's prefix). */
void unsubd_http_ratekey(const char *ip, char *out, size_t outlen);

/* unsubd_http_mask - "j***@example.com" for a confirmation page */
void unsubd_http_mask(const char *rcpt, char *out, size_t outlen);

#endif

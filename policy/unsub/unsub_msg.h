/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsub_msg.h - List-Unsubscribe for one message, without libmilter:
 * the headers to add, who is suppressed, and unsubscribe requests that
 * arrive by mail. msg.c drives it with the store the program passes in.
 */
#ifndef TX_UNSUB_MSG_H
#define TX_UNSUB_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "suppress.h"
#include "unsub_token.h"
#include "util.h"

/* unsub_exempt - the From address or domain matches UnsubscribeExempt
 * (wildcard patterns: "reset@example.com", "*@auth.example.com",
 * "example.org" for a whole domain) */
int unsub_exempt(const STRV *patterns, const char *from_addr, const char *from_domain);

/* unsub_stream - what a recipient unsubscribes from: the From address
 * (lowercase) or, with UnsubscribeScope domain, the From domain */
void unsub_stream(const TXCONF *cf, const char *from_local, const char *from_domain,
                  char *out, size_t len);

/* UnsubscribeTable: per sender domain templates, lines
 * "domain-pattern url-template [mailto-template]"; first match wins. */
typedef struct unsub_route {
    char *pattern, *url, *mailto;   /* mailto may be NULL */
} UNSUB_ROUTE;

typedef struct unsub_routes {
    UNSUB_ROUTE *r;
    size_t       n;
} UNSUB_ROUTES;

/* unsub_routes_load - NULL with "file:line: message" lines in errs */
UNSUB_ROUTES *unsub_routes_load(const char *spec, const char *where, BUF *errs);
void unsub_routes_free(UNSUB_ROUTES *rt);

/* unsub_route_for - the templates for a From domain: the first table line
 * whose pattern matches, else UnsubscribeURL and UnsubscribeMailto */
void unsub_route_for(const UNSUB_ROUTES *rt, const TXCONF *cf, const char *from_domain,
                     const char **url, const char **mailto);

/* unsub_header_value - "<URL>" or "<URL>,\n\t<mailto:ADDR?subject=unsubscribe>"
 * from the templates for (rcpt, stream) with a fresh token; -1 with a reason */
int unsub_header_value(const char *url_tmpl, const char *mailto_tmpl, const UNSUB_KEYS *keys,
                       const char *rcpt, const char *stream, const char *from_domain, uint64_t now,
                       BUF *out, BUF *err);

/* unsub_mailto_token - if rcpt (as given, with or without <>) is an
 * address made from the UnsubscribeMailto template, copy its token into
 * token and return 1; else 0 */
int unsub_mailto_token(const char *tmpl, const char *rcpt, char *token, size_t len);

/* unsub_url_token - if uri is an URL made from the UnsubscribeURL template
 * tmpl (%{domain} any host name; ignoring case but in the token), copy its
 * token into token (len bytes) and return 1; else 0 */
int unsub_url_token(const char *tmpl, const char *uri, char *token, size_t len);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_http.c - txmilter-unsubd's request logic, apart from the socket
 *
 * SYNOPSIS
 *	#include "unsubd_http.h"
 *
 *	enum unsubd_path unsubd_http_path(const char *url, const char **token)
 *	void	unsubd_http_logpath(const char *url, char *out, size_t outlen)
 *	enum unsubd_form_type unsubd_http_form_type(const char *content_type)
 *	void	unsubd_http_form_feed(UNSUBD_FORM *f, const char *key,
 *				      uint64_t off, const char *data, size_t size)
 *	int	unsubd_http_form_done(UNSUBD_FORM *f, BUF *err)
 *	void	unsubd_http_client(const char *peer, const char *xff,
 *				   const NETLIST *trusted, char *out, size_t outlen)
 *	void	unsubd_http_ratekey(const char *ip, char *out, size_t outlen)
 *	void	unsubd_http_mask(const char *rcpt, char *out, size_t outlen)
 *
 * DESCRIPTION
 *	unsubd_http_path() accepts exactly "/u/TOKEN" where TOKEN is 1 to
 *	UNSUB_TOKEN_MAX - 1 characters of [A-Za-z0-9_-] (what
 *	unsub_token_seal() writes); whether the token is authentic is
 *	unsub_token_open()'s business. "/u/" with anything else (empty,
 *	too long, other characters, a further '/') is a bad token; every
 *	other path is UNSUBD_PATH_OTHER.
 *
 *	unsubd_http_logpath() keeps at most UNSUBD_TOKEN_PREFIX characters
 *	of any run of token characters in any path ("/u/AbCdEfGh...",
 *	"//u/AbCdEfGh...", "/xxxxxxxx..."), so that a log reader can match a
 *	complaint ("the link starting AbCd") without being able to
 *	unsubscribe anybody, whatever path a token was sent to.
 *
 *	unsubd_http_form_type() tells the two form encodings of RFC 8058
 *	section 3.1 (application/x-www-form-urlencoded, Gmail's, and
 *	multipart/form-data, RFC 7578) from any other or no Content-Type.
 *	The body itself is parsed by libmicrohttpd's post processor
 *	(MHD_create_post_processor, in unsubd.c), which hands each field's
 *	value over in pieces; unsubd_http_form_feed() takes them and
 *	unsubd_http_form_done() says whether one field was List-Unsubscribe
 *	with the value One-Click: names and values compared ignoring case,
 *	white space around the value ignored ("+One-Click" is " One-Click"),
 *	a value with a NUL byte or over 64 bytes never matches, other fields
 *	are ignored. The body is bounded by the caller (4 KB).
 *
 *	unsubd_http_client() honours X-Forwarded-For only from a trusted
 *	peer (UnsubscribeTrustedProxy), walking it from the right as proxies
 *	append to it, so a client cannot choose its own address by sending
 *	the header itself. The caller joins all the request's
 *	X-Forwarded-For lines with commas, in order (RFC 9110 5.3): a line
 *	the client sent comes before the proxy's own. Whatever the header's
 *	length, its right-most UNSUBD_XFF_HOPS entries are looked at.
 *	IPv4-mapped IPv6 peers are written as IPv4.
 *
 *	The pages themselves are unsubd_page.c's.
 *
 * DIAGNOSTICS
 *	None of its own: a malformed request is classified
 *	(UNSUBD_PATH_OTHER, a bad token), and the caller answers it with
 *	the matching HTTP status.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "unsub_token.h"
#include "unsubd_http.h"

#define UNSUBD_FIELD_NAME   "List-Unsubscribe"
#define UNSUBD_FIELD_VALUE  "One-Click"
#define UNSUBD_XFF_HOPS     32      /* entries of X-Forwarded-For looked at, from the right */

/* unsubd_http_token_char - [A-Za-z0-9_-] */
static int unsubd_http_token_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '_' || c == '-';
}

/* unsubd_http_path - classify a request path */
enum unsubd_path unsubd_http_path(const char *url, const char **token)
{
    size_t n;

    *token = NULL;
    if (url == NULL || strncmp(url, "/u/", 3) != 0)
        return UNSUBD_PATH_OTHER;
    url += 3;
    for (n = 0; url[n] && n < UNSUB_TOKEN_MAX; n++)
        if (!unsubd_http_token_char((unsigned char) url[n]))
            return UNSUBD_PATH_BADTOKEN;
    if (n == 0 || n >= UNSUB_TOKEN_MAX)
        return UNSUBD_PATH_BADTOKEN;
    *token = url;
    return UNSUBD_PATH_TOKEN;
}

/* unsubd_http_logpath - a path safe to log: every run of token
 * characters cut to UNSUBD_TOKEN_PREFIX, the whole cut to fit */
void unsubd_http_logpath(const char *url, char *out, size_t outlen)
{
    size_t o = 0, run = 0, limit;
    const char *p;

    if (outlen < 4) {
        if (outlen > 0)
            out[0] = 0;
        return;
    }
    limit = outlen - 4;                     /* room kept for a final "..." and the NUL */
    if (url == NULL)
        url = "-";
    for (p = url; *p; p++) {
        const char *add = p;
        size_t n = 1;

        run = unsubd_http_token_char((unsigned char) *p) ? run + 1 : 0;
        if (run > UNSUBD_TOKEN_PREFIX + 1)
            continue;
        if (run == UNSUBD_TOKEN_PREFIX + 1) {
            add = "...";
            n = 3;
        }
        if (o + n > limit) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, add, n);
        o += n;
    }
    out[o] = 0;
}

/* unsubd_http_media - does the Content-Type value name this media type? */
static int unsubd_http_media(const char *ctype, const char *type)
{
    size_t n = strlen(type);

    while (*ctype == ' ' || *ctype == '\t')
        ctype++;
    if (strncasecmp(ctype, type, n) != 0)
        return 0;
    ctype += n;
    while (*ctype == ' ' || *ctype == '\t')
        ctype++;
    return *ctype == 0 || *ctype == ';';
}

/* unsubd_http_form_type - which form encoding a Content-Type names */
enum unsubd_form_type unsubd_http_form_type(const char *content_type)
{
    if (content_type == NULL)
        return UNSUBD_FORM_NONE;
    if (unsubd_http_media(content_type, "application/x-www-form-urlencoded"))
        return UNSUBD_FORM_URLENCODED;
    if (unsubd_http_media(content_type, "multipart/form-data"))
        return UNSUBD_FORM_MULTIPART;
    return UNSUBD_FORM_OTHER;
}

/* unsubd_http_form_close - the field being collected is complete: is it
 * List-Unsubscribe=One-Click? */
static void unsubd_http_form_close(UNSUBD_FORM *f)
{
    char v[sizeof(f->value) + 1];

    if (f->collecting && !f->too_long && memchr(f->value, 0, f->len) == NULL) {
        memcpy(v, f->value, f->len);
        v[f->len] = 0;
        if (strcasecmp(util_trim(v), UNSUBD_FIELD_VALUE) == 0)
            f->found = 1;
    }
    f->collecting = 0;
    f->too_long = 0;
    f->len = 0;
}

/* unsubd_http_form_feed - one piece of one field's value */
void unsubd_http_form_feed(UNSUBD_FORM *f, const char *key, uint64_t off, const char *data, size_t size)
{
    if (off == 0) {                         /* a field begins (the post processor's pieces) */
        unsubd_http_form_close(f);
        f->collecting = key != NULL && strcasecmp(key, UNSUBD_FIELD_NAME) == 0;
        f->fields++;
    }
    if (!f->collecting || size == 0)
        return;
    if (off != f->len || size > sizeof(f->value) - f->len) {
        f->too_long = 1;                    /* "One-Click" with white space fits many times over */
        return;
    }
    memcpy(f->value + f->len, data, size);
    f->len += size;
}

/* unsubd_http_form_done - the body is over: 1 if a field was List-Unsubscribe=One-Click */
int unsubd_http_form_done(UNSUBD_FORM *f, BUF *err)
{
    unsubd_http_form_close(f);
    if (f->found)
        return 1;
    (void) util_err(err, "%s", f->fields ? "no List-Unsubscribe=One-Click field" : "no form field");
    return 0;
}

/* unsubd_http_canon_ip - canonical text of an address, or -1 */
static int unsubd_http_canon_ip(const char *s, size_t n, char *out, size_t outlen)
{
    char tmp[UNSUBD_IP_MAX];
    unsigned char a[16];

    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
        s++, n -= 2;
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (inet_pton(AF_INET, tmp, a) == 1)
        return inet_ntop(AF_INET, a, out, (socklen_t) outlen) ? 0 : -1;
    if (inet_pton(AF_INET6, tmp, a) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

        if (memcmp(a, mapped, 12) == 0)
            return inet_ntop(AF_INET, a + 12, out, (socklen_t) outlen) ? 0 : -1;
        return inet_ntop(AF_INET6, a, out, (socklen_t) outlen) ? 0 : -1;
    }
    return -1;
}

/* unsubd_http_client - the client's address, behind a trusted proxy */
void unsubd_http_client(const char *peer, const char *xff, const NETLIST *trusted,
                        char *out, size_t outlen)
{
    char cand[UNSUBD_IP_MAX];

    if (outlen == 0)
        return;
    if (peer == NULL || unsubd_http_canon_ip(peer, strlen(peer), cand, sizeof(cand)) < 0) {
        (void) util_strlcpy(out, "unknown", outlen);
        return;
    }
    if (trusted != NULL && xff != NULL && netlist_match_str(trusted, cand, NULL)) {
        const char *end = xff + strlen(xff);
        int hops = 0;

        /* From the right: each proxy appends the address it got the request from. */
        while (end > xff && hops++ < UNSUBD_XFF_HOPS) {
            const char *comma = end;
            char ip[UNSUBD_IP_MAX];

            while (comma > xff && comma[-1] != ',')
                comma--;
            if (unsubd_http_canon_ip(comma, (size_t) (end - comma), ip, sizeof(ip)) < 0)
                break;
            memcpy(cand, ip, sizeof(cand));
            if (!netlist_match_str(trusted, ip, NULL))
                break;
            end = comma > xff ? comma - 1 : xff;
        }
    }
    (void) util_strlcpy(out, cand, outlen);
}

/* unsubd_http_ratekey - address, or its /64 for IPv6 */
void unsubd_http_ratekey(const char *ip, char *out, size_t outlen)
{
    unsigned char a[16];
    char net[UNSUBD_IP_MAX];

    if (strchr(ip, ':') != NULL && inet_pton(AF_INET6, ip, a) == 1) {
        memset(a + 8, 0, 8);
        if (inet_ntop(AF_INET6, a, net, sizeof(net)) != NULL) {
            (void) snprintf(out, outlen, "unsubd|client=%s/64", net);
            return;
        }
    }
    (void) snprintf(out, outlen, "unsubd|client=%s", ip);
}

/* unsubd_http_mask - first character of the local part, then "***" */
void unsubd_http_mask(const char *rcpt, char *out, size_t outlen)
{
    const char *at = strrchr(rcpt, '@');

    if (at == NULL || at == rcpt)
        (void) util_strlcpy(out, "***", outlen);
    else
        (void) snprintf(out, outlen, "%c***%s", rcpt[0], at);
}

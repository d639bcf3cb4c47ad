/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_http.c - txmilter-unsubd's request logic, apart from the socket
 *
 * SYNOPSIS
 *	#include "unsubd_http.h"
 *
 *	enum unsubd_path unsubd_http_path(const char *url, const char **token)
 *	void	unsubd_http_logpath(const char *url, char *out, size_t outlen)
 *	int	unsubd_http_one_click(const char *content_type, const char *body,
 *				      size_t len, char *why, size_t whylen)
 *	void	unsubd_http_client(const char *peer, const char *xff,
 *				   const NETLIST *trusted, char *out, size_t outlen)
 *	void	unsubd_http_ratekey(const char *ip, char *out, size_t outlen)
 *	void	unsubd_http_mask(const char *rcpt, char *out, size_t outlen)
 *	int	unsubd_http_confirm_page(BUF *b, const char *stream,
 *					 const char *masked_rcpt)
 *	int	unsubd_http_html_escape(BUF *b, const char *s)
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
 *	unsubd_http_one_click() looks for the form field List-Unsubscribe
 *	with the value One-Click (RFC 8058 section 3.1; names and values
 *	compared ignoring case, other fields ignored):
 *	 - application/x-www-form-urlencoded (Gmail's form): fields split at
 *	   '&', "+" and %XX decoded, surrounding white space ignored;
 *	 - multipart/form-data (RFC 7578): the boundary parameter (quoted or
 *	   not, at most 70 characters), parts separated by CRLF (or LF) and
 *	   "--boundary", each with a Content-Disposition: form-data header
 *	   whose name parameter names the field; the part's content is the
 *	   value.
 *	Any other media type, a missing Content-Type, or a malformed body is
 *	0 with a reason. The body is bounded by the caller (4 KB).
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
 *	unsubd_http_confirm_page() writes a self-contained page without
 *	scripts or outside resources; the form has no action attribute, so
 *	a browser POSTs to the page's own URL, whatever public prefix the
 *	reverse proxy gives it, and the token never appears in the page.
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
#define UNSUBD_BOUNDARY_MAX 70      /* RFC 2046 5.1.1 */
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

/* unsubd_http_hex - value of a hex digit, or -1 */
static int unsubd_http_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* unsubd_http_urldecode - decode [p, p+n) into out (NUL-terminated,
 * white space at both ends dropped); -1 if malformed or too long */
static int unsubd_http_urldecode(const char *p, size_t n, char *out, size_t outlen)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        int c = (unsigned char) p[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;

            if (i + 2 >= n || (hi = unsubd_http_hex((unsigned char) p[i + 1])) < 0
                || (lo = unsubd_http_hex((unsigned char) p[i + 2])) < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= outlen)
            return -1;
        out[o++] = (char) c;
    }
    out[o] = 0;
    (void) util_trim(out);
    return 0;
}

/* unsubd_http_urlencoded - application/x-www-form-urlencoded */
static int unsubd_http_urlencoded(const char *body, size_t len, char *why, size_t whylen)
{
    const char *p = body, *end = body + len;
    char name[64], value[64];

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t) (end - p)), *eq;
        const char *stop = amp ? amp : end;

        eq = memchr(p, '=', (size_t) (stop - p));
        if (eq != NULL
            && unsubd_http_urldecode(p, (size_t) (eq - p), name, sizeof(name)) == 0
            && unsubd_http_urldecode(eq + 1, (size_t) (stop - eq - 1), value, sizeof(value)) == 0
            && strcasecmp(name, UNSUBD_FIELD_NAME) == 0 && strcasecmp(value, UNSUBD_FIELD_VALUE) == 0)
            return 1;
        p = stop + 1;
    }
    (void) snprintf(why, whylen, "urlencoded body without List-Unsubscribe=One-Click");
    return 0;
}

/* unsubd_http_param - the value of parameter name in a header value such
 * as 'form-data; name="x"' or 'multipart/form-data; boundary=y'; -1 if
 * absent, malformed, or longer than outlen - 1 */
static int unsubd_http_param(const char *hv, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p = strchr(hv, ';');

    while (p != NULL) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, name, nlen) == 0) {
            const char *q = p + nlen;
            size_t o = 0;

            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == '=') {
                q++;
                while (*q == ' ' || *q == '\t')
                    q++;
                if (*q == '"') {
                    for (q++; *q && *q != '"'; q++) {
                        if (*q == '\\' && q[1])
                            q++;
                        if (o + 1 >= outlen)
                            return -1;
                        out[o++] = *q;
                    }
                    if (*q != '"')
                        return -1;
                } else {
                    for (; *q && *q != ';' && *q != ' ' && *q != '\t'; q++) {
                        if (o + 1 >= outlen)
                            return -1;
                        out[o++] = *q;
                    }
                }
                out[o] = 0;
                return o > 0 ? 0 : -1;
            }
        }
        p = strchr(p, ';');
    }
    return -1;
}

/* unsubd_http_memmem - bounded substring search */
static const char *unsubd_http_memmem(const char *h, size_t hlen, const char *n, size_t nlen)
{
    size_t i;

    if (nlen == 0 || hlen < nlen)
        return NULL;
    for (i = 0; i + nlen <= hlen; i++)
        if (h[i] == n[0] && memcmp(h + i, n, nlen) == 0)
            return h + i;
    return NULL;
}

/* unsubd_http_part - one multipart part [p, end): 1 if it is the field */
static int unsubd_http_part(const char *p, const char *end)
{
    const char *hend, *line, *content;
    char hdr[512], fname[64], value[64];
    size_t vlen;
    int named = 0;

    /* Headers end at the first empty line (CRLF CRLF, or LF LF). */
    if ((hend = unsubd_http_memmem(p, (size_t) (end - p), "\r\n\r\n", 4)) != NULL)
        content = hend + 4;
    else if ((hend = unsubd_http_memmem(p, (size_t) (end - p), "\n\n", 2)) != NULL)
        content = hend + 2;
    else
        return 0;
    for (line = p; line < hend;) {
        const char *eol = memchr(line, '\n', (size_t) (hend - line));
        size_t n = (size_t) ((eol ? eol : hend) - line);

        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n < sizeof(hdr)) {
            memcpy(hdr, line, n);
            hdr[n] = 0;
            if (strncasecmp(hdr, "Content-Disposition:", 20) == 0
                && unsubd_http_media(hdr + 20, "form-data")
                && unsubd_http_param(hdr + 20, "name", fname, sizeof(fname)) == 0
                && strcasecmp(fname, UNSUBD_FIELD_NAME) == 0)
                named = 1;
        }
        line = eol ? eol + 1 : hend;
    }
    if (!named)
        return 0;
    vlen = (size_t) (end - content);
    if (vlen >= sizeof(value))
        return 0;
    memcpy(value, content, vlen);
    value[vlen] = 0;
    return strcasecmp(util_trim(value), UNSUBD_FIELD_VALUE) == 0;
}

/* unsubd_http_multipart - multipart/form-data */
static int unsubd_http_multipart(const char *ctype, const char *body, size_t len,
                                 char *why, size_t whylen)
{
    char boundary[UNSUBD_BOUNDARY_MAX + 1], delim[UNSUBD_BOUNDARY_MAX + 4];
    const char *p, *end = body + len;
    size_t dlen;

    if (unsubd_http_param(ctype, "boundary", boundary, sizeof(boundary)) < 0) {
        (void) snprintf(why, whylen, "multipart body without a usable boundary");
        return 0;
    }
    dlen = (size_t) snprintf(delim, sizeof(delim), "--%s", boundary);
    /* The first delimiter starts the body or follows a preamble line. */
    if (len >= dlen && memcmp(body, delim, dlen) == 0)
        p = body;
    else if ((p = unsubd_http_memmem(body, len, delim, dlen)) == NULL || p == body || p[-1] != '\n') {
        (void) snprintf(why, whylen, "multipart body without its boundary");
        return 0;
    }
    for (;;) {
        const char *part, *next, *stop;

        p += dlen;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            break;                          /* the close delimiter */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
            part = p + 2;
        else if (p < end && *p == '\n')
            part = p + 1;
        else
            break;
        /* The part ends at the line break before the next delimiter. */
        for (next = part;; next++) {
            next = unsubd_http_memmem(next, (size_t) (end - next), delim, dlen);
            if (next == NULL || (next > part && next[-1] == '\n'))
                break;
        }
        if (next == NULL)
            break;
        stop = next - 1;                    /* the LF */
        if (stop > part && stop[-1] == '\r')
            stop--;
        if (unsubd_http_part(part, stop))
            return 1;
        p = next;
    }
    (void) snprintf(why, whylen, "multipart body without List-Unsubscribe=One-Click");
    return 0;
}

/* unsubd_http_one_click - is this an RFC 8058 one-click body? */
int unsubd_http_one_click(const char *content_type, const char *body, size_t len,
                          char *why, size_t whylen)
{
    if (content_type == NULL) {
        (void) snprintf(why, whylen, "no Content-Type");
        return 0;
    }
    if (unsubd_http_media(content_type, "application/x-www-form-urlencoded"))
        return unsubd_http_urlencoded(body, len, why, whylen);
    if (unsubd_http_media(content_type, "multipart/form-data"))
        return unsubd_http_multipart(content_type, body, len, why, whylen);
    (void) snprintf(why, whylen, "unsupported Content-Type");
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

/* unsubd_http_html_escape - append s, escaped for HTML text and attributes */
int unsubd_http_html_escape(BUF *b, const char *s)
{
    for (; *s; s++) {
        const char *e;
        char c[2] = {*s, 0};

        switch (*s) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        default: e = c; break;
        }
        if (buf_puts(b, e) < 0)
            return -1;
    }
    return 0;
}

/* unsubd_http_confirm_page - the page GET shows for a valid token */
int unsubd_http_confirm_page(BUF *b, const char *stream, const char *masked_rcpt)
{
    if (buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>Unsubscribe</title>\n</head>\n<body>\n<h1>Unsubscribe</h1>\n"
                 "<p>Stop mail from <b>") < 0
        || unsubd_http_html_escape(b, stream) < 0
        || buf_puts(b, "</b> to <b>") < 0
        || unsubd_http_html_escape(b, masked_rcpt) < 0
        || buf_puts(b, "</b>?</p>\n"
                    "<form method=\"post\" enctype=\"application/x-www-form-urlencoded\">\n"
                    "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n"
                    "<button type=\"submit\">Unsubscribe</button>\n"
                    "</form>\n</body>\n</html>\n") < 0)
        return -1;
    return 0;
}

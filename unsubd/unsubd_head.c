/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_head.c - a request, checked as the client sent it
 *
 * SYNOPSIS
 *	#include "unsubd_head.h"
 *
 *	enum unsubd_head_state unsubd_head_check(const char *buf, size_t len,
 *						 UNSUBD_HEAD *h)
 *	int	unsubd_head_xff(const UNSUBD_HEAD *h, const char *buf, BUF *out)
 *	const char *unsubd_head_reason(unsigned status)
 *
 * DESCRIPTION
 *	unsubd_head_check() reads the bytes a client has sent so far on a
 *	connection (txmilter-unsubd answers one request per connection) and
 *	says whether they are the start of a good request (MORE), a whole
 *	good request (OK), or a bad one (BAD, with the status to answer). It
 *	is strict where libmicrohttpd would otherwise answer by itself,
 *	without txmilter-unsubd's headers or log line, and where requests
 *	could be read two ways (RFC 9112):
 *
 *	 - empty lines before the request line are skipped (RFC 9112 2.2);
 *	 - request line: METHOD SP TARGET SP HTTP/1.x, ending in CRLF or a
 *	   bare LF; METHOD 1 to 20 token characters; TARGET origin-form
 *	   ("/..."), visible ASCII only, at most UNSUBD_HEAD_PATH bytes
 *	   (414 as soon as it is longer, finished or not); a version other
 *	   than 1.0 or 1.1 is 505; anything else 400;
 *	 - header fields: "name: value", name a token with no white space
 *	   before the colon, value of visible characters, SP, HTAB and
 *	   bytes over 0x7f; no obsolete line folding; the request line and
 *	   fields at most UNSUBD_HEAD_MAX bytes, at most 100 fields (431
 *	   beyond, finished or not);
 *	 - HTTP/1.1 needs exactly one Host; never two Hosts (400);
 *	 - Content-Length: one field of at most 9 digits (400 otherwise),
 *	   at most UNSUBD_HEAD_BODY (413 beyond); Transfer-Encoding is 411
 *	   (Length Required: one-click senders and the proxy send a length);
 *	 - Expect: only 100-continue (417 otherwise);
 *	 - the request is complete when the whole body is there; bytes after
 *	   it other than CR and LF (a second, pipelined request) are 400.
 *
 *	unsubd_head_check() also notes where the value of each
 *	X-Forwarded-For field is; unsubd_head_xff() joins them as
 *	libmicrohttpd's would be, so that the gate can tell who a request
 *	from the trusted proxy is from (unsubd_http_client()) before
 *	libmicrohttpd has it.
 *
 *	unsubd_head_reason() is the reason phrase for those statuses and the
 *	gate's own (408, 429, 503).
 *
 * DIAGNOSTICS
 *	None besides the result: a BAD request names its status and a
 *	result word for the log line (malformed-request, uri-too-long,
 *	headers-too-large, version-not-supported, bad-host,
 *	bad-content-length, length-required, body-too-large,
 *	expectation-failed, pipelined).
 */
#include <string.h>
#include <strings.h>

#include "unsubd_head.h"

#define UNSUBD_METHOD_MAX 20

/* unsubd_head_tchar - an RFC 9110 token character */
static int unsubd_head_tchar(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* unsubd_head_bad - a BAD result */
static enum unsubd_head_state unsubd_head_bad(UNSUBD_HEAD *h, unsigned status, const char *result)
{
    h->status = status;
    h->result = result;
    return UNSUBD_HEAD_BAD;
}

/* unsubd_head_version - "HTTP/1.1" and "HTTP/1.0" OK, another x.y 505, else 400; MORE if short */
static enum unsubd_head_state unsubd_head_version(UNSUBD_HEAD *h, const char *v, size_t n, int complete)
{
    static const char form[] = "HTTP/d.d";

    for (size_t i = 0; i < n && i < 8; i++)
        if (form[i] == 'd' ? v[i] < '0' || v[i] > '9' : v[i] != form[i])
            return unsubd_head_bad(h, 400, "malformed-request");
    if (n < 8)
        return complete ? unsubd_head_bad(h, 400, "malformed-request") : UNSUBD_HEAD_MORE;
    if (n > 8)
        return unsubd_head_bad(h, 400, "malformed-request");
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return unsubd_head_bad(h, 505, "version-not-supported");
    return UNSUBD_HEAD_OK;
}

/* unsubd_head_line - the request line [p, p+n) (complete: its end was
 * seen); *v11 set for HTTP/1.1 */
static enum unsubd_head_state unsubd_head_line(UNSUBD_HEAD *h, const char *p, size_t n, int complete,
                                               int *v11)
{
    size_t m = 0, t, tlen;

    while (m < n && m <= UNSUBD_METHOD_MAX && unsubd_head_tchar((unsigned char) p[m]))
        m++;
    (void) memcpy(h->method, p, m < sizeof(h->method) - 1 ? m : sizeof(h->method) - 1);
    h->method[m < sizeof(h->method) - 1 ? m : sizeof(h->method) - 1] = 0;
    if (m == n)
        return complete || m > UNSUBD_METHOD_MAX ? unsubd_head_bad(h, 400, "malformed-request")
            : UNSUBD_HEAD_MORE;
    if (m == 0 || m > UNSUBD_METHOD_MAX || p[m] != ' ')
        return unsubd_head_bad(h, 400, "malformed-request");
    t = m + 1;
    for (tlen = 0; t + tlen < n && p[t + tlen] > ' ' && p[t + tlen] < 0x7f; tlen++)
        ;
    (void) memcpy(h->target, p + t, tlen <= UNSUBD_HEAD_PATH ? tlen : UNSUBD_HEAD_PATH + 1);
    h->target[tlen <= UNSUBD_HEAD_PATH ? tlen : UNSUBD_HEAD_PATH + 1] = 0;
    if (tlen > UNSUBD_HEAD_PATH)
        return unsubd_head_bad(h, 414, "uri-too-long");
    if (t + tlen == n)
        return complete ? unsubd_head_bad(h, 400, "malformed-request") : UNSUBD_HEAD_MORE;
    if (tlen == 0 || p[t] != '/' || p[t + tlen] != ' ')
        return unsubd_head_bad(h, 400, "malformed-request");
    t += tlen + 1;
    *v11 = n - t == 8 && memcmp(p + t, "HTTP/1.1", 8) == 0;
    return unsubd_head_version(h, p + t, n - t, complete);
}

/* The fields that change how the request is read. */
typedef struct unsubd_fields {
    int     hosts, lengths, te, v11;
    size_t  length;
    const char *buf;                /* the start of the bytes checked */
} UNSUBD_FIELDS;

/* unsubd_head_field - one header field line [p, p+n), complete */
static enum unsubd_head_state unsubd_head_field(UNSUBD_HEAD *h, UNSUBD_FIELDS *f, const char *p, size_t n)
{
    size_t k = 0, v, e;

    if (p[0] == ' ' || p[0] == '\t')        /* obsolete line folding (RFC 9112 5.2) */
        return unsubd_head_bad(h, 400, "malformed-request");
    while (k < n && unsubd_head_tchar((unsigned char) p[k]))
        k++;
    if (k == 0 || k == n || p[k] != ':')
        return unsubd_head_bad(h, 400, "malformed-request");
    for (v = k + 1; v < n && (p[v] == ' ' || p[v] == '\t'); v++)
        ;
    for (e = n; e > v && (p[e - 1] == ' ' || p[e - 1] == '\t'); e--)
        ;
    for (size_t i = v; i < e; i++) {
        unsigned char c = (unsigned char) p[i];

        if ((c < ' ' && c != '\t') || c == 0x7f)
            return unsubd_head_bad(h, 400, "malformed-request");
    }
    if (k == 4 && strncasecmp(p, "Host", 4) == 0) {
        if (++f->hosts > 1)
            return unsubd_head_bad(h, 400, "bad-host");
    } else if (k == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
        size_t len = 0;

        if (++f->lengths > 1 || e == v)
            return unsubd_head_bad(h, 400, "bad-content-length");
        for (size_t i = v; i < e; i++) {
            if (p[i] < '0' || p[i] > '9')
                return unsubd_head_bad(h, 400, "bad-content-length");
            if (i - v >= 9)
                return unsubd_head_bad(h, 413, "body-too-large");
            len = len * 10 + (size_t) (p[i] - '0');
        }
        f->length = len;
    } else if (k == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
        f->te = 1;
    } else if (k == 6 && strncasecmp(p, "Expect", 6) == 0) {
        if (e - v != 12 || strncasecmp(p + v, "100-continue", 12) != 0)
            return unsubd_head_bad(h, 417, "expectation-failed");
        h->expect_continue = 1;
    } else if (k == 15 && strncasecmp(p, "X-Forwarded-For", 15) == 0 && h->nxff <= UNSUBD_HEAD_FIELDS) {
        h->xff[h->nxff].at = (size_t) (p - f->buf) + v;
        h->xff[h->nxff++].len = e - v;
    }
    return UNSUBD_HEAD_MORE;
}

/* unsubd_head_end - the empty line was seen at head_len: the body */
static enum unsubd_head_state unsubd_head_end(UNSUBD_HEAD *h, const UNSUBD_FIELDS *f, const char *buf,
                                              size_t len, size_t head_len)
{
    if (f->v11 && f->hosts == 0)
        return unsubd_head_bad(h, 400, "bad-host");
    if (f->te)
        return unsubd_head_bad(h, f->lengths ? 400 : 411, f->lengths ? "bad-content-length"
                               : "length-required");
    if (f->length > UNSUBD_HEAD_BODY)
        return unsubd_head_bad(h, 413, "body-too-large");
    h->head_len = head_len;
    h->body_len = f->length;
    if (len - head_len < f->length)
        return UNSUBD_HEAD_MORE;
    for (size_t i = head_len + f->length; i < len; i++)
        if (buf[i] != '\r' && buf[i] != '\n')
            return unsubd_head_bad(h, 400, "pipelined");
    return UNSUBD_HEAD_OK;
}

/* unsubd_head_check - MORE, OK or BAD */
enum unsubd_head_state unsubd_head_check(const char *buf, size_t len, UNSUBD_HEAD *h)
{
    UNSUBD_FIELDS f;
    size_t at = 0, lines = 0;

    memset(h, 0, sizeof(*h));
    memset(&f, 0, sizeof(f));
    f.buf = buf;
    (void) strcpy(h->method, "-");
    while (at < len && at < UNSUBD_HEAD_MAX && (buf[at] == '\r' || buf[at] == '\n'))
        at++;
    for (;;) {
        const char *p = buf + at, *nl = memchr(p, '\n', len - at);
        size_t n = nl ? (size_t) (nl - p) : len - at;
        enum unsubd_head_state st;

        if (at + n > UNSUBD_HEAD_MAX || lines > UNSUBD_HEAD_FIELDS) {
            if (lines == 0 && (st = unsubd_head_line(h, p, n, 0, &f.v11)) == UNSUBD_HEAD_BAD)
                return st;                  /* a request line this long is bad already */
            return unsubd_head_bad(h, 431, "headers-too-large");
        }
        if (n > 0 && p[n - 1] == '\r')
            n--;                            /* the CR of CRLF (its LF may be on the way) */
        if (memchr(p, '\r', n) != NULL || memchr(p, 0, n) != NULL)
            return unsubd_head_bad(h, 400, "malformed-request");
        if (lines == 0)
            st = unsubd_head_line(h, p, n, nl != NULL, &f.v11);
        else if (nl == NULL)
            return UNSUBD_HEAD_MORE;
        else if (n == 0)
            return unsubd_head_end(h, &f, buf, len, (size_t) (nl - buf) + 1);
        else
            st = unsubd_head_field(h, &f, p, n);
        if (st == UNSUBD_HEAD_BAD || nl == NULL)
            return st == UNSUBD_HEAD_OK ? UNSUBD_HEAD_MORE : st;
        lines++;
        at = (size_t) (nl - buf) + 1;
    }
}

/* unsubd_head_xff - the X-Forwarded-For values joined */
int unsubd_head_xff(const UNSUBD_HEAD *h, const char *buf, BUF *out)
{
    for (unsigned i = 0; i < h->nxff; i++) {
        size_t comma = out->len > 0;

        if (out->len > out->max || out->max - out->len < comma + h->xff[i].len)
            return -1;                      /* whole fields only */
        if ((comma && buf_append(out, ",", 1) < 0) || buf_append(out, buf + h->xff[i].at, h->xff[i].len) < 0)
            return -1;
    }
    return 0;
}

/* unsubd_head_reason - a reason phrase */
const char *unsubd_head_reason(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

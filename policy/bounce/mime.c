/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mime.c - header fields, multipart bodies, base64 and quoted-printable
 * over a bounded span
 *
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	int	mime_line(MIME_CUR *c, const char **s, size_t *n)
 *	int	mime_field(MIME_CUR *c, char *name, size_t nlen, char *value,
 *			size_t vlen)
 *	char *	mime_trim(char *v)
 *	int	mime_param(const char *ct, const char *name, char *out,
 *			size_t outlen)
 *	int	mime_type_is(const char *ct, const char *type)
 *	void	mime_headers(MIME_CUR *c, char *ct, size_t ctlen, char *cte,
 *			size_t ctelen)
 *	int	mime_next_part(MIME_CUR *c, const char *b, char *ct,
 *			size_t ctlen, char *cte, size_t ctelen, MIME_CUR *body)
 *	int	mime_base64(const char *in, size_t len, size_t max, int cut,
 *			char **out, size_t *outlen)
 *	int	mime_qp(const char *in, size_t len, size_t max, int cut,
 *			char **out, size_t *outlen)
 *	int	mime_hex(char c)
 *	int	mime_decode(MIME_CUR part, const char *cte, size_t max, int cut,
 *			char **buf, MIME_CUR *out)
 *
 * DESCRIPTION
 *	The readers of reports (arf.c, dsn.c) walk a message with these:
 *	lines end in CRLF or a bare LF (Postfix hands a milter bare LFs in
 *	folded header values); a field is a line with a colon and the
 *	continuation lines after it, joined as they are (the fold's blank
 *	kept); a multipart body is split at lines "--boundary" (trailing
 *	blanks allowed) up to "--boundary--". Every read stops at the end
 *	of its MIME_CUR: the input need not be NUL-terminated.
 *
 *	Bad input: a stray continuation line before any field is skipped;
 *	a line without a colon is a field without a name, which callers
 *	ignore; values longer than the caller's buffer are cut; a part
 *	without its closing boundary runs to the end of the input.
 *
 *	mime_base64() undoes a Content-Transfer-Encoding of base64 with
 *	OpenSSL's decoder, after dropping the line breaks and blanks that
 *	RFC 2045 6.8 puts between the characters. Of input that was cut
 *	short (a report read only to its first megabyte), the whole groups
 *	of four characters are decoded.
 *
 *	mime_qp() undoes a Content-Transfer-Encoding of quoted-printable
 *	(RFC 2045 6.7): "=" and two hex digits is that byte (lowercase
 *	digits accepted too, as 6.7 (1) allows); "=" followed by blanks
 *	and a line break, or by blanks to the end of the input, is a soft
 *	line break and goes; the literal blanks that end a line go (rule 3:
 *	transports add them), an encoded one (=20) stays; a hard line break
 *	is kept as it came (CRLF or LF). Bad input is decoded defensively,
 *	never refused: a "=" that starts neither an escape nor a soft break
 *	is kept as a literal "=", and what follows it is read as usual
 *	(the robust reading 6.7 (1) suggests); bytes that 6.7 does not allow
 *	unencoded (8-bit, control characters) are kept as they are, as the
 *	7bit and 8bit paths of the callers keep them. The result is never
 *	longer than the input. Of input that was cut short, an escape cut
 *	in two at the end is dropped. mime_hex() is its reading of a hex
 *	digit, shared with the percent-escapes of arf.c.
 *
 *	mime_decode() picks one of the two by a part's
 *	Content-Transfer-Encoding (any case), so that the readers of an
 *	enclosed message take it however it came; an encoding it does not
 *	know is refused, never guessed at.
 *
 * DIAGNOSTICS
 *	mime_base64() returns -1 for characters outside the base64
 *	alphabet, a bad end, or a result longer than max. mime_qp()
 *	returns -1 only for a result longer than max. mime_decode()
 *	returns -1 for an encoding it does not know or one that does not
 *	decode.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "mime.h"
#include "util.h"

/* mime_line - the next line of c; 0 at the end */
int mime_line(MIME_CUR *c, const char **s, size_t *n)
{
    const char *e;

    if (c->p >= c->end)
        return 0;
    e = memchr(c->p, '\n', (size_t) (c->end - c->p));
    *s = c->p;
    *n = (size_t) ((e ? e : c->end) - c->p);
    c->p = e ? e + 1 : c->end;
    if (*n && (*s)[*n - 1] == '\r')
        (*n)--;
    return 1;
}

/* mime_field - the next header field of c, unfolded */
int mime_field(MIME_CUR *c, char *name, size_t nlen, char *value, size_t vlen)
{
    const char *s, *colon;
    size_t n, v = 0, k;
    MIME_CUR peek;

    name[0] = value[0] = 0;
    for (;;) {
        if (!mime_line(c, &s, &n) || n == 0)
            return 0;
        if (s[0] != ' ' && s[0] != '\t')
            break;                              /* a stray continuation: skipped */
    }
    if ((colon = memchr(s, ':', n)) != NULL && colon != s) {
        k = (size_t) (colon - s) < nlen - 1 ? (size_t) (colon - s) : nlen - 1;
        memcpy(name, s, k);
        name[k] = 0;
        for (const char *q = colon + 1; q < s + n && v + 1 < vlen; q++)
            value[v++] = *q;
    }
    for (;;) {                                  /* folded lines */
        peek = *c;
        if (!mime_line(&peek, &s, &n) || n == 0 || (s[0] != ' ' && s[0] != '\t'))
            break;
        *c = peek;
        for (size_t i = 0; i < n && v + 1 < vlen; i++)
            value[v++] = s[i];
    }
    value[v] = 0;
    return 1;
}

/* mime_trim - v without surrounding white space, in place */
char *mime_trim(char *v)
{
    size_t n;

    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        v[--n] = 0;
    return v;
}

/* mime_param - one parameter of a Content-Type value */
int mime_param(const char *ct, const char *name, char *out, size_t outlen)
{
    const char *p = ct;
    size_t nl = strlen(name), o = 0;

    out[0] = 0;
    while ((p = strchr(p, ';')) != NULL) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, name, nl) != 0 || p[nl] != '=')
            continue;
        p += nl + 1;
        if (*p == '"') {
            for (p++; *p && *p != '"' && o + 1 < outlen; p++) {
                if (*p == '\\' && p[1])
                    p++;
                out[o++] = *p;
            }
        } else {
            for (; *p && *p != ';' && *p != ' ' && *p != '\t' && o + 1 < outlen; p++)
                out[o++] = *p;
        }
        out[o] = 0;
        return o > 0;
    }
    return 0;
}

/* mime_type_is - does the Content-Type value ct have media type type? */
int mime_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);

    while (*ct == ' ' || *ct == '\t')
        ct++;
    return strncasecmp(ct, type, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' '
                                             || ct[n] == '\t');
}

/* mime_is_boundary - 1 for "--b", 2 for "--b--" (trailing blanks allowed), else 0 */
static int mime_is_boundary(const char *s, size_t n, const char *b, size_t bl)
{
    int closing = n >= bl + 4 && s[bl + 2] == '-' && s[bl + 3] == '-';

    if (n < bl + 2 || s[0] != '-' || s[1] != '-' || memcmp(s + 2, b, bl) != 0)
        return 0;
    for (size_t i = bl + 2 + (closing ? 2 : 0); i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return closing ? 2 : 1;
}

/* mime_headers - the Content-Type and -Transfer-Encoding of the header at c */
void mime_headers(MIME_CUR *c, char *ct, size_t ctlen, char *cte, size_t ctelen)
{
    char name[64], value[MIME_FIELD_MAX];

    ct[0] = cte[0] = 0;
    while (mime_field(c, name, sizeof(name), value, sizeof(value))) {
        if (strcasecmp(name, "Content-Type") == 0)
            util_strlcpy(ct, mime_trim(value), ctlen);
        else if (strcasecmp(name, "Content-Transfer-Encoding") == 0)
            util_strlcpy(cte, mime_trim(value), ctelen);
    }
}

/* mime_next_part - the next part of the multipart body at c */
int mime_next_part(MIME_CUR *c, const char *b, char *ct, size_t ctlen, char *cte, size_t ctelen,
                   MIME_CUR *body)
{
    size_t bl = strlen(b), n;
    const char *s, *at;
    int k = 0;

    ct[0] = cte[0] = 0;
    while (mime_line(c, &s, &n) && (k = mime_is_boundary(s, n, b, bl)) == 0)
        ;
    if (k != 1)
        return 0;                               /* the closing boundary, or none */
    mime_headers(c, ct, ctlen, cte, ctelen);
    body->p = c->p;
    for (;;) {
        at = c->p;
        if (!mime_line(c, &s, &n)) {
            body->end = c->end;                 /* no closing boundary: to the end */
            return 1;
        }
        if (mime_is_boundary(s, n, b, bl)) {
            c->p = at;
            /* the line break before a boundary belongs to the boundary (RFC 2046 5.1.1) */
            if (at > body->p && at[-1] == '\n')
                at--;
            if (at > body->p && at[-1] == '\r')
                at--;
            body->end = at;
            return 1;
        }
    }
}

/* mime_base64 - the bytes a base64 body stands for */
int mime_base64(const char *in, size_t len, size_t max, int cut, char **out, size_t *outlen)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    EVP_ENCODE_CTX *ctx;
    unsigned char *clean, *dec;
    size_t c = 0;
    int n1 = 0, n2 = 0, ok;

    *out = NULL;
    *outlen = 0;
    if (len > (size_t) 0x3fffffff)
        return -1;
    clean = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\r' || in[i] == '\n' || in[i] == ' ' || in[i] == '\t')
            continue;
        if (in[i] == 0 || strchr(alphabet, in[i]) == NULL) {
            free(clean);
            return -1;
        }
        clean[c++] = (unsigned char) in[i];
    }
    if (cut)
        c -= c % 4;
    if (c / 4 * 3 > max) {
        free(clean);
        return -1;
    }
    dec = xmalloc(c / 4 * 3 + 4);
    ctx = EVP_ENCODE_CTX_new();
    ok = ctx != NULL;
    if (ok) {
        EVP_DecodeInit(ctx);
        ok = EVP_DecodeUpdate(ctx, dec, &n1, clean, (int) c) >= 0
            && EVP_DecodeFinal(ctx, dec + n1, &n2) >= 0;
    }
    EVP_ENCODE_CTX_free(ctx);
    free(clean);
    if (!ok || (size_t) (n1 + n2) > max) {
        free(dec);
        return -1;
    }
    dec[n1 + n2] = 0;
    *out = (char *) dec;
    *outlen = (size_t) (n1 + n2);
    return 0;
}

/* mime_hex - the value of a hex digit of either case, -1 if it is none */
int mime_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* mime_qp_soft - the length of the soft line break at s ("=" [blanks] EOL or end), 0 if none */
static size_t mime_qp_soft(const char *s, const char *end)
{
    const char *p = s + 1;

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end)
        return (size_t) (p - s);
    if (*p == '\n')
        return (size_t) (p + 1 - s);
    if (*p == '\r' && (p + 1 == end || p[1] == '\n'))
        return (size_t) (p + (p + 1 == end ? 1 : 2) - s);
    return 0;
}

/* mime_qp - the bytes a quoted-printable body stands for */
int mime_qp(const char *in, size_t len, size_t max, int cut, char **out, size_t *outlen)
{
    const char *p = in, *end = in + len;
    size_t cap = len < max ? len : max, o = 0, keep = 0, soft;
    char *dec = xmalloc(cap + 1), ch;
    int hi, lo, blank;

    /* keep: the length of the output without the literal blanks that end it */
    *out = NULL;
    *outlen = 0;
    while (p < end) {
        ch = *p++;
        blank = ch == ' ' || ch == '\t';
        if (ch == '=' && (soft = mime_qp_soft(p - 1, end)) > 0) {
            p += soft - 1;                      /* the blanks before it are data */
            keep = o;
            continue;
        }
        if (ch == '=' && end - p >= 2 && (hi = mime_hex(p[0])) >= 0 && (lo = mime_hex(p[1])) >= 0) {
            ch = (char) (hi * 16 + lo);
            blank = 0;
            p += 2;
        } else if (ch == '=' && cut && end - p < 2) {
            break;                              /* an escape cut in two */
        } else if (ch == '\n' || (ch == '\r' && p < end && *p == '\n')) {
            o = keep;                           /* the blanks a transport added */
            if (ch == '\r' && o < cap)
                dec[o++] = ch;
            if (ch == '\r')
                ch = *p++;
        }
        if (o >= cap) {
            free(dec);
            return -1;                          /* only when max < len */
        }
        dec[o++] = ch;
        if (!blank)
            keep = o;
    }
    dec[keep] = 0;
    *out = dec;
    *outlen = keep;
    return 0;
}

/* mime_decode - a part's body, its transfer encoding undone */
int mime_decode(MIME_CUR part, const char *cte, size_t max, int cut, char **buf, MIME_CUR *out)
{
    size_t len = (size_t) (part.end - part.p), n;

    *buf = NULL;
    *out = part;
    if (cte[0] == 0 || strcasecmp(cte, "7bit") == 0 || strcasecmp(cte, "8bit") == 0
        || strcasecmp(cte, "binary") == 0)
        return MIME_ENC_NONE;
    if (strcasecmp(cte, "base64") == 0 && mime_base64(part.p, len, max, cut, buf, &n) == 0) {
        *out = (MIME_CUR) { *buf, *buf + n };
        return MIME_ENC_BASE64;
    }
    if (strcasecmp(cte, "quoted-printable") == 0 && mime_qp(part.p, len, max, cut, buf, &n) == 0) {
        *out = (MIME_CUR) { *buf, *buf + n };
        return MIME_ENC_QP;
    }
    return -1;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mime.h - the parts of RFC 5322 and MIME (RFC 2045, RFC 2046) that
 * reports need: lines, unfolded header fields, Content-Type parameters,
 * the parts of a multipart body, base64 and quoted-printable; all over a
 * bounded span of bytes.
 */
#ifndef TX_MIME_H
#define TX_MIME_H

#include <stddef.h>

#define MIME_FIELD_MAX 1000         /* bytes of an unfolded field value kept */

/* A span of the input: [p, end). Nothing is read at or past end. */
typedef struct mime_cur {
    const char *p, *end;
} MIME_CUR;

/* mime_line - the next line of c (without CRLF or LF) in *s, *n; 0 at the end */
int mime_line(MIME_CUR *c, const char **s, size_t *n);

/* mime_field - the next header field of c, unfolded and cut to the
 * buffers, into name and value; a line without a colon gives the name "";
 * 0 at the blank line that ends the header, or at the end */
int mime_field(MIME_CUR *c, char *name, size_t nlen, char *value, size_t vlen);

/* mime_trim - v without surrounding blanks, in place */
char *mime_trim(char *v);

/* mime_param - parameter name of a Content-Type value ct into out
 * (quotes and backslash escapes undone, cut to outlen); 0 if absent or empty */
int mime_param(const char *ct, const char *name, char *out, size_t outlen);

/* mime_type_is - 1 if the Content-Type value ct is of media type type (any case) */
int mime_type_is(const char *ct, const char *type);

/* mime_headers - read the header at c to its end, keeping its
 * Content-Type and Content-Transfer-Encoding (trimmed, cut; "" if absent) */
void mime_headers(MIME_CUR *c, char *ct, size_t ctlen, char *cte, size_t ctelen);

/* mime_next_part - the next part of a multipart body at c whose boundary
 * is b: its Content-Type and Content-Transfer-Encoding (trimmed, "" if
 * absent) and its body in *body; c is left at the boundary that ends it.
 * 0 at the closing boundary or when no boundary follows. A part whose
 * closing boundary is missing runs to the end. */
int mime_next_part(MIME_CUR *c, const char *b, char *ct, size_t ctlen, char *cte, size_t ctelen,
                   MIME_CUR *body);

/* mime_base64 - decode [in, in + len) (line breaks and blanks ignored)
 * into a new NUL-terminated buffer of at most max bytes: *out (free()
 * it) and *outlen; 0, or -1 if it is not base64 or would be longer.
 * cut: the input was cut short, so an incomplete last group of four
 * characters is dropped rather than refused. */
int mime_base64(const char *in, size_t len, size_t max, int cut, char **out, size_t *outlen);

/* mime_hex - the value of the hex digit c (either case), -1 if it is none */
int mime_hex(char c);

/* mime_qp - decode the quoted-printable [in, in + len) (RFC 2045 6.7:
 * =XX in either case, soft line breaks "=" [blanks] EOL removed, the
 * blanks that end a line dropped, hard line breaks kept as they came)
 * into a new NUL-terminated buffer of at most max bytes: *out (free() it)
 * and *outlen; 0, or -1 if it would be longer. A "=" that starts no
 * escape nor soft break is kept as it is, with what follows it.
 * cut: the input was cut short, so an escape it ends in is dropped. */
int mime_qp(const char *in, size_t len, size_t max, int cut, char **out, size_t *outlen);

/* What mime_decode() undid. */
typedef enum mime_enc {
    MIME_ENC_NONE = 0,          /* 7bit, 8bit, binary or none named: read as it is */
    MIME_ENC_BASE64,
    MIME_ENC_QP,                /* quoted-printable */
} MIME_ENC;

/* mime_decode - the body of a part whose Content-Transfer-Encoding is cte,
 * readable: *out is part itself for "", 7bit, 8bit and binary (*buf NULL),
 * else over a decoded copy in *buf (free() it) of at most max bytes, by
 * mime_base64() or mime_qp() with cut; the MIME_ENC it undid, or -1 for
 * another encoding or one that does not decode */
int mime_decode(MIME_CUR part, const char *cte, size_t max, int cut, char **buf, MIME_CUR *out);

#endif

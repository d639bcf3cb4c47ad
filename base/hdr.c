/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hdr.c - header parsing and formatting for signing.
 *
 * SYNOPSIS
 *	#include "hdr.h"
 *
 *	const char * hdr_strerror(int code)
 *	int	hdr_parse_mailboxes(const char *value, HDR_ADDR *first)
 *	int	hdr_signing_form(BUF *out, const char *name,
 *			const char *value)
 *	void	hdr_strip_cr(char *s)
 *	int	hdr_valid_name(const char *name)
 *
 * DESCRIPTION
 *	hdr_parse_mailboxes() reads a From field as an RFC 5322 mailbox-list
 *	(3.4, 3.6.2) and nothing looser: each element is one name-addr
 *	("display <local@domain>") or addr-spec, separated by commas, with
 *	comments and folding white space only where they cannot change which
 *	domain a receiver sees (around the whole address, in display names).
 *	Display names are words (atoms, encoded words, quoted strings) and
 *	dots (obs-phrase); RFC 6532 UTF-8 is allowed, other 8-bit bytes are
 *	not. What receivers may read differently is refused: groups, domain
 *	literals, obsolete source routes, CFWS inside or around the "@" of an
 *	address (3.4.1 SHOULD NOT; obs-local-part, obs-domain), obsolete local
 *	parts mixing quoted and plain words, a quoted local part holding "@",
 *	empty list elements, a domain that is not a DNS host name (trailing
 *	dot, "_", all-numeric last label). U-labels are turned into A-labels
 *	(IDNA2008, libidn2) as receivers do before DMARC. It returns the
 *	number of mailboxes (0 for an empty field), the first in *first, or
 *	a negative HDR_ERR_* code; hdr_strerror() gives the reason in words for
 *	the SMTP reply and the log ("has text after the address"). It never reads
 *	past the terminating NUL, keeps comment nesting bounded, and never
 *	writes past HDR_LOCAL_MAX / HDR_DOMAIN_MAX.
 *
 *	hdr_signing_form() renders "name:value" for libopendkim, turning the
 *	bare LF that Postfix uses between folded lines into CRLF.
 *
 * DIAGNOSTICS
 *	hdr_parse_mailboxes() returns a negative HDR_ERR_* code for a
 *	field it refuses, hdr_strerror() the reason in words.
 *	hdr_signing_form() returns -1 when the field does not fit in out.
 *	hdr_valid_name() is 0 for a name that is not an RFC 5322 field
 *	name.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "dns.h"
#include "hdr.h"

#define HDR_COMMENT_DEPTH 16

typedef enum { TK_END, TK_ATOM, TK_QSTR, TK_DLIT, TK_SPECIAL } HDR_TOKTYPE;

/* One lexical token of a structured field. */
typedef struct hdr_tok {
    HDR_TOKTYPE type;
    char        ch;             /* the character of a TK_SPECIAL */
    const char *s;              /* first byte (of a TK_QSTR: after the quote) */
    size_t      len;            /* bytes, without the quotes of a TK_QSTR */
    int         cfws;           /* white space or a comment came before it */
} HDR_TOK;

static const char *const hdr_errors[] = {
    [-HDR_ERR_UTF8] = "holds 8-bit bytes that are not UTF-8 (RFC 6532)",
    [-HDR_ERR_CHAR] = "holds a character not allowed outside a quoted string",
    [-HDR_ERR_COMMENT] = "has an unbalanced or too deeply nested comment",
    [-HDR_ERR_QUOTE] = "has an unterminated quoted string",
    [-HDR_ERR_ANGLE] = "has an unbalanced or misplaced angle bracket",
    [-HDR_ERR_GROUP] = "holds a group, not allowed in From (RFC 5322 3.6.2)",
    [-HDR_ERR_DISPLAY] = "has a display name with an unquoted '@' or special "
                         "character (receivers disagree which address is the author)",
    [-HDR_ERR_TRAILING] = "has text after the address",
    [-HDR_ERR_NOAT] = "holds a mailbox without '@domain'",
    [-HDR_ERR_LOCAL] = "has a malformed local part",
    [-HDR_ERR_OBSLOCAL] = "has an obsolete local part of quoted and unquoted words "
                          "(RFC 5322 4.4)",
    [-HDR_ERR_QUOTEDAT] = "has a quoted local part holding '@' "
                          "(receivers disagree where the domain starts)",
    [-HDR_ERR_SPACE] = "has white space or a comment inside the address or around its '@' "
                       "(RFC 5322 3.4.1, 4.4: receivers read another domain)",
    [-HDR_ERR_DOMAIN] = "has a domain that is not a DNS host name",
    [-HDR_ERR_LITERAL] = "has a domain literal: it can never be DKIM-signed or "
                         "DMARC-aligned",
    [-HDR_ERR_ROUTE] = "has an obsolete source route (RFC 5322 4.4)",
    [-HDR_ERR_EMPTY] = "has an empty element in the address list (RFC 5322 4.4)",
    [-HDR_ERR_LONG] = "has an over-long local part or domain",
    [-HDR_ERR_IDN] = "has an internationalized domain that is not valid IDNA2008",
    [-HDR_ERR_SYNTAX] = "is not an RFC 5322 mailbox",
};

/* hdr_strerror - the reason for a negative hdr_parse_mailboxes() result */
const char *hdr_strerror(int code)
{
    if (code >= 0 || (size_t) -code >= sizeof(hdr_errors) / sizeof(hdr_errors[0])
        || hdr_errors[-code] == NULL)
        return "is not an RFC 5322 mailbox";
    return hdr_errors[-code];
}

/* hdr_utf8_len - length of the well-formed UTF-8 sequence at p (RFC 3629), or 0 */
static size_t hdr_utf8_len(const unsigned char *p)
{
    size_t n, i;
    unsigned lo = 0x80, hi = 0xbf;

    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        if (p[0] == 0xe0)
            lo = 0xa0;
        else if (p[0] == 0xed)
            hi = 0x9f;                  /* no surrogates */
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        if (p[0] == 0xf0)
            lo = 0x90;
        else if (p[0] == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    for (i = 1; i < n; i++) {
        if (p[i] < lo || p[i] > hi)
            return 0;                   /* also stops at the NUL */
        lo = 0x80;
        hi = 0xbf;
    }
    return n;
}

/* hdr_text_len - bytes of one text character at p (printable ASCII not in
 * forbid, or one UTF-8 character), 0 for anything else, -1 for bad 8-bit */
static int hdr_text_len(const char *p, const char *forbid)
{
    unsigned char c = (unsigned char) *p;

    if (c >= 0x80) {
        size_t n = hdr_utf8_len((const unsigned char *) p);

        return n ? (int) n : -1;
    }
    if (c < 33 || c == 127 || strchr(forbid, c) != NULL)
        return 0;
    return 1;
}

/* hdr_wsp - folding white space as Postfix passes it (LF between lines) */
static int hdr_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* hdr_skip_cfws - skip white space and nested comments; 1 if any was there */
static int hdr_skip_cfws(const char **pp, int *err)
{
    const char *p = *pp;
    int seen = 0;

    for (;;) {
        if (hdr_wsp(*p)) {
            p++;
            seen = 1;
            continue;
        }
        if (*p != '(')
            break;
        {
            int depth = 1, n;

            for (p++; depth > 0; ) {
                if (*p == 0) {
                    *err = HDR_ERR_COMMENT;
                    return seen;
                }
                if (*p == '\\' && p[1] != 0) {
                    p++;
                    if ((n = hdr_text_len(p, "")) < 0) {
                        *err = HDR_ERR_UTF8;
                        return seen;
                    }
                    p += n ? n : 1;
                    continue;
                }
                if (*p == '(' && ++depth > HDR_COMMENT_DEPTH) {
                    *err = HDR_ERR_COMMENT;
                    return seen;
                }
                if (*p == ')')
                    depth--;
                if (*p == '(' || *p == ')' || hdr_wsp(*p)) {
                    p++;
                    continue;
                }
                if ((n = hdr_text_len(p, "")) <= 0) {
                    *err = n < 0 ? HDR_ERR_UTF8 : HDR_ERR_CHAR;
                    return seen;
                }
                p += n;
            }
            seen = 1;
        }
    }
    *pp = p;
    return seen;
}

/* hdr_lex - the next token at *pp; 0, or a negative HDR_ERR_* */
static int hdr_lex(const char **pp, HDR_TOK *t)
{
    static const char specials[] = "()<>[]:;@\\,.\"";
    const char *p = *pp;
    int err = 0, n;

    memset(t, 0, sizeof(*t));
    t->cfws = hdr_skip_cfws(&p, &err);
    if (err)
        return err;
    t->s = p;
    if (*p == 0) {
        t->type = TK_END;
    } else if (*p == '"') {
        t->type = TK_QSTR;
        t->s = ++p;
        for (; *p != '"'; ) {
            if (*p == 0)
                return HDR_ERR_QUOTE;
            if (*p == '\\' && p[1] != 0 && (p[1] == ' ' || p[1] == '\t')) {
                p += 2;
                continue;
            }
            if (*p == '\\' && p[1] != 0)
                p++;
            else if (hdr_wsp(*p)) {
                p++;
                continue;
            }
            if ((n = hdr_text_len(p, "")) <= 0)
                return n < 0 ? HDR_ERR_UTF8 : HDR_ERR_CHAR;
            p += n;
        }
        t->len = (size_t) (p - t->s);
        p++;
    } else if (*p == '[') {
        t->type = TK_DLIT;
        for (p++; *p != ']'; p++)
            if (*p == 0 || *p == '[' || *p == '\\')
                return HDR_ERR_LITERAL;
        p++;
        t->len = (size_t) (p - t->s);
    } else if (strchr("<>:;@,.", *p) != NULL) {
        t->type = TK_SPECIAL;
        t->ch = *p++;
        t->len = 1;
    } else {
        while ((n = hdr_text_len(p, specials)) > 0)
            p += n;
        if (p == t->s)
            return n < 0 ? HDR_ERR_UTF8 : *p == ')' ? HDR_ERR_COMMENT : HDR_ERR_CHAR;
        t->type = TK_ATOM;
        t->len = (size_t) (p - t->s);
        if (n < 0)
            return HDR_ERR_UTF8;
    }
    *pp = p;
    return 0;
}

/* hdr_peek - the next token without consuming it */
static int hdr_peek(const char *p, HDR_TOK *t)
{
    return hdr_lex(&p, t);
}

/* hdr_is_special - t is the special character c */
static int hdr_is_special(const HDR_TOK *t, char c)
{
    return t->type == TK_SPECIAL && t->ch == c;
}

/* hdr_host_name - check and store the domain: LDH labels, A-labels for U-labels */
static int hdr_host_name(const char *dom, size_t len, HDR_ADDR *out)
{
    char in[HDR_DOMAIN_MAX];
    char *a = NULL;
    size_t i, label = 0;
    int ascii = 1, alpha_last = 0;

    if (len >= sizeof(in))
        return HDR_ERR_LONG;
    memcpy(in, dom, len);
    in[len] = 0;
    for (i = 0; i < len; i++)
        if ((unsigned char) in[i] >= 0x80)
            ascii = 0;
    util_lower(in);
    if (!ascii) {
        if (idn2_lookup_u8((const uint8_t *) in, (uint8_t **) &a,
                           IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
            free(a);
            return HDR_ERR_IDN;
        }
        if (util_strlcpy(in, a, sizeof(in)) < 0) {
            free(a);
            return HDR_ERR_LONG;
        }
        free(a);
        util_lower(in);
        len = strlen(in);
    }
    if (len > DNS_NAME_MAX)
        return HDR_ERR_LONG;
    for (i = 0; i <= len; i++) {
        char c = in[i];

        if (c == '.' || c == 0) {
            if (label == 0 || label > DNS_LABEL_MAX || in[i - 1] == '-')
                return HDR_ERR_DOMAIN;
            if (c == 0)
                break;
            label = 0;
            alpha_last = 0;
            continue;
        }
        if (!isalnum((unsigned char) c) && !(c == '-' && label > 0))
            return HDR_ERR_DOMAIN;
        if (!isdigit((unsigned char) c))
            alpha_last = 1;
        label++;
    }
    if (!alpha_last)
        return HDR_ERR_DOMAIN;          /* "1.2.3.4": an IP address in disguise */
    memcpy(out->domain, in, len + 1);
    return 0;
}

/* hdr_dot_atom - "word.word..." without CFWS inside; *end is past it */
static int hdr_dot_atom(const char **pp, const HDR_TOK *first, size_t *len, int in_domain)
{
    HDR_TOK t;
    const char *p = *pp;
    int err;

    *len = first->len;
    for (;;) {
        if ((err = hdr_peek(p, &t)) < 0)
            return err;
        if (!hdr_is_special(&t, '.'))
            break;
        if (t.cfws)
            return HDR_ERR_SPACE;
        hdr_lex(&p, &t);
        if ((err = hdr_lex(&p, &t)) < 0)
            return err;
        if (t.type == TK_QSTR && !in_domain)
            return HDR_ERR_OBSLOCAL;
        if (t.type != TK_ATOM)
            return in_domain ? HDR_ERR_DOMAIN : HDR_ERR_LOCAL;
        if (t.cfws)
            return HDR_ERR_SPACE;
        *len = (size_t) (t.s + t.len - first->s);
    }
    *pp = p;
    return 0;
}

/* hdr_addr_spec - local-part "@" domain, CFWS only before and after it */
static int hdr_addr_spec(const char **pp, HDR_ADDR *out)
{
    HDR_TOK t, first;
    const char *p = *pp;
    size_t len, i, o;
    int err;

    if ((err = hdr_lex(&p, &first)) < 0)
        return err;
    if (first.type == TK_QSTR) {
        if ((err = hdr_peek(p, &t)) < 0)
            return err;
        if (hdr_is_special(&t, '.'))
            return HDR_ERR_OBSLOCAL;
        for (i = o = 0; i < first.len; i++) {
            char c = first.s[i];

            if (c == '\\')
                c = first.s[++i];
            else if (c == '\r' || c == '\n')
                continue;               /* folding inside quotes */
            else if (c == '@')
                return HDR_ERR_QUOTEDAT;
            if (o + 1 >= sizeof(out->local))
                return HDR_ERR_LONG;
            out->local[o++] = c;
        }
        if (o == 0)
            return HDR_ERR_LOCAL;
        out->local[o] = 0;
    } else if (first.type == TK_ATOM) {
        if ((err = hdr_dot_atom(&p, &first, &len, 0)) < 0)
            return err;
        if (len >= sizeof(out->local))
            return HDR_ERR_LONG;
        memcpy(out->local, first.s, len);
        out->local[len] = 0;
    } else if (first.type == TK_END || hdr_is_special(&first, ',') || hdr_is_special(&first, '>'))
        return HDR_ERR_NOAT;
    else if (hdr_is_special(&first, '<'))
        return HDR_ERR_ANGLE;
    else
        return first.type == TK_DLIT ? HDR_ERR_SYNTAX : HDR_ERR_LOCAL;

    if ((err = hdr_lex(&p, &t)) < 0)
        return err;
    if (!hdr_is_special(&t, '@')) {
        if (t.type == TK_END || hdr_is_special(&t, ',') || hdr_is_special(&t, '>'))
            return HDR_ERR_NOAT;
        return t.cfws ? HDR_ERR_SPACE : HDR_ERR_LOCAL;
    }
    if (t.cfws)
        return HDR_ERR_SPACE;
    if ((err = hdr_lex(&p, &first)) < 0)
        return err;
    if (first.cfws && (first.type == TK_ATOM || first.type == TK_DLIT))
        return HDR_ERR_SPACE;
    if (first.type == TK_DLIT)
        return HDR_ERR_LITERAL;
    if (first.type == TK_END || hdr_is_special(&first, ',') || hdr_is_special(&first, '>'))
        return HDR_ERR_NOAT;
    if (first.type != TK_ATOM)
        return HDR_ERR_DOMAIN;
    if ((err = hdr_dot_atom(&p, &first, &len, 1)) < 0)
        return err;
    if ((err = hdr_peek(p, &t)) < 0)
        return err;
    if (t.type == TK_ATOM || t.type == TK_QSTR || t.type == TK_DLIT)
        return HDR_ERR_SPACE;           /* "news@exa mple.com" */
    if (hdr_is_special(&t, '@'))
        return HDR_ERR_SYNTAX;
    if ((err = hdr_host_name(first.s, len, out)) < 0)
        return err;
    *pp = p;
    return 0;
}

/* hdr_mailbox - one name-addr or addr-spec, up to the next "," or the end */
static int hdr_mailbox(const char **pp, HDR_ADDR *out)
{
    HDR_TOK t;
    const char *p = *pp, *q = p;
    int err, words = 0;

    /* Find out first whether this element has an angle address. */
    for (;;) {
        if ((err = hdr_lex(&q, &t)) < 0)
            return err;
        if (t.type == TK_END || hdr_is_special(&t, ',') || hdr_is_special(&t, '<'))
            break;
        if (hdr_is_special(&t, ':'))
            return HDR_ERR_GROUP;
    }
    if (hdr_is_special(&t, '<')) {
        for (;;) {                      /* display-name = phrase, obs-phrase dots */
            hdr_lex(&p, &t);
            if (hdr_is_special(&t, '<'))
                break;
            if (t.type == TK_ATOM || t.type == TK_QSTR || (hdr_is_special(&t, '.') && words))
                words++;
            else
                return HDR_ERR_DISPLAY;
        }
        if ((err = hdr_peek(p, &t)) < 0)
            return err;
        if (hdr_is_special(&t, '@'))
            return HDR_ERR_ROUTE;
        if (hdr_is_special(&t, '>'))
            return HDR_ERR_NOAT;
        if ((err = hdr_addr_spec(&p, out)) < 0)
            return err;
        if ((err = hdr_lex(&p, &t)) < 0)
            return err;
        if (!hdr_is_special(&t, '>'))
            return t.type == TK_END || hdr_is_special(&t, '<') ? HDR_ERR_ANGLE : HDR_ERR_SYNTAX;
    } else if ((err = hdr_addr_spec(&p, out)) < 0)
        return err;
    if ((err = hdr_peek(p, &t)) < 0)
        return err;
    if (t.type != TK_END && !hdr_is_special(&t, ','))
        return hdr_is_special(&t, '>') || hdr_is_special(&t, '<') ? HDR_ERR_ANGLE : HDR_ERR_TRAILING;
    *pp = p;
    return 0;
}

/* hdr_parse_mailboxes - count the mailboxes of a From field and keep the first */
int hdr_parse_mailboxes(const char *value, HDR_ADDR *first)
{
    HDR_ADDR scratch;
    HDR_TOK t;
    const char *p = value;
    int count = 0, err;

    if ((err = hdr_peek(p, &t)) < 0)
        return err;
    if (t.type == TK_END)
        return 0;
    for (;;) {
        if ((err = hdr_peek(p, &t)) < 0)
            return err;
        if (t.type == TK_END || hdr_is_special(&t, ','))
            return HDR_ERR_EMPTY;
        memset(&scratch, 0, sizeof(scratch));
        if ((err = hdr_mailbox(&p, &scratch)) < 0)
            return err;
        if (count++ == 0 && first)
            *first = scratch;
        hdr_lex(&p, &t);
        if (t.type == TK_END)
            return count;
    }
}

/* hdr_signing_form - "name:value" with CRLF line breaks */
int hdr_signing_form(BUF *out, const char *name, const char *value)
{
    const char *p;

    buf_reset(out);
    if (buf_puts(out, name) < 0 || buf_append(out, ":", 1) < 0)
        return -1;
    for (p = value; *p; p++) {
        if (*p == '\n' && (p == value || p[-1] != '\r')) {
            if (buf_append(out, "\r\n", 2) < 0)
                return -1;
        } else if (buf_append(out, p, 1) < 0)
            return -1;
    }
    return 0;
}

/* hdr_strip_cr - delete CR characters in place */
void hdr_strip_cr(char *s)
{
    char *w = s;

    for (; *s; s++)
        if (*s != '\r')
            *w++ = *s;
    *w = 0;
}

/* hdr_valid_name - printable ASCII without ':' (RFC 5322 ftext) */
int hdr_valid_name(const char *name)
{
    if (*name == 0)
        return 0;
    for (; *name; name++)
        if ((unsigned char) *name < 33 || (unsigned char) *name > 126 || *name == ':')
            return 0;
    return 1;
}

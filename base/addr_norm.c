/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr_norm.c - normalise an envelope address for rate keys
 *
 * SYNOPSIS
 *	#include "addr_norm.h"
 *
 *	int	addr_norm(const char *addr, const ADDR_NORM_OPTS *o, char *out,
 *			  size_t outlen, BUF *err)
 *	const char *addr_domain(const char *normalised)
 *
 * DESCRIPTION
 *	addr_norm() turns the address as Postfix reports it ("<Foo+x@Ex.COM.>")
 *	into one canonical string per mailbox ("foo@ex.com"), so that the
 *	cheap ways around a per-recipient limit land on one rate key:
 *
 *	- blanks around it, one pair of angle brackets and an obsolete source
 *	  route ("<@a,@b:user@host>") are removed; "<>" and "" (the null
 *	  sender) give "" and 0;
 *	- the local part is everything before the last '@' outside quotes;
 *	  quoted strings in it are unquoted, backslash escapes resolved
 *	  ("\"john\".doe" is john.doe);
 *	- the local part is cut at its first subaddress separator (o->
 *	  separators, default "+"), unless that is its first character: as
 *	  Postfix's recipient_delimiter, "+foo+bar" stays whole;
 *	- Gmail (o->gmail_dots, default on): for gmail.com and googlemail.com
 *	  the domain becomes gmail.com, the local part is also cut at '+' and
 *	  loses every dot (unless only dots would be left);
 *	- ASCII letters are lowercased (local part and domain); other bytes
 *	  of the local part (UTF-8, RFC 6531) are kept;
 *	- a local part made only of atext, dots and UTF-8 is written bare;
 *	  anything else (spaces, '@', '"', '\\', "(),:;<>[]") is written as a
 *	  canonical quoted string ("\"john doe\"@x", with '"' and '\\'
 *	  escaped), so it can never collide with a bare address, while a
 *	  quoted string that did not need quotes meets its bare form;
 *	- the domain loses one trailing dot; each label that is not plain
 *	  ASCII LDH (or '_'), or that is an A-label ("xn--"), goes through
 *	  libidn2 (idn2_lookup_u8, NFC input, non-transitional UTS #46
 *	  processing, then transitional if that fails), so a U-label and its
 *	  A-label give the same string; a domain literal ("[192.0.2.1]",
 *	  "[IPv6:2001:DB8::1]") is rewritten in canonical form.
 *
 *	o may be NULL (the defaults); o->separators NULL means "+".
 *
 *	addr_domain() returns what follows the last '@' of a normalised
 *	address, or "" when there is none (the null sender).
 *
 * DIAGNOSTICS
 *	addr_norm() returns -1, with out set to "" and one reason (no
 *	newline) appended to err (if not NULL), for input that is not an
 *	address: longer than ADDR_NORM_INPUT_MAX bytes, a control character
 *	(even quoted or escaped), invalid UTF-8, unbalanced angle brackets or
 *	quotes, a bad source route, no '@', an empty local part or domain, an
 *	empty domain label, a character that cannot be in a domain, a bad
 *	IDN label (with libidn2's reason, or one that UTS #46 maps to a
 *	character no label holds, such as U+00A0 to a space, or to nothing,
 *	such as U+00AD), a bad domain
 *	literal, a local part over 64 bytes (as written), a domain over 253
 *	bytes or a label over 63 (in A-label form), or a result that does
 *	not fit in outlen.
 */
#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_norm.h"
#include "dns.h"
#include "util.h"

#define ADDR_LOCAL_MAX      64          /* RFC 5321 4.5.3.1.1 */

/* addr_norm_fail - report why the input is not an address */
static int __attribute__((format(printf, 4, 5)))
addr_norm_fail(char *out, size_t outlen, BUF *err, const char *fmt, ...)
{
    va_list ap;

    if (outlen > 0)
        out[0] = 0;
    va_start(ap, fmt);
    (void) util_verr(err, fmt, ap);
    va_end(ap);
    return -1;
}

/* addr_utf8_ok - 1 if s is well-formed UTF-8 (no overlongs, surrogates) */
static int addr_utf8_ok(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s, need, min, cp, i;

        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, min = 0x80, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, min = 0x800, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        for (i = 1; i <= need; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        s += need + 1;
    }
    return 1;
}

/* addr_is_atext - RFC 5322 atext, or a UTF-8 byte (RFC 6531) */
static int addr_is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c >= 0x80 || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* addr_skip_route - past an obsolete source route "@a,@b:"; NULL if bad */
static const char *addr_skip_route(const char *p)
{
    for (;;) {
        if (*p++ != '@')
            return NULL;
        if (*p == '[') {
            if ((p = strchr(p, ']')) == NULL)
                return NULL;
            p++;
        } else {
            size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                              "0123456789-._");

            if (n == 0)
                return NULL;
            p += n;
        }
        if (*p == ':')
            return p + 1;
        if (*p++ != ',')
            return NULL;
        p += strspn(p, " \t");
    }
}

/* addr_literal - a canonical "[192.0.2.1]" or "[ipv6:2001:db8::1]" */
static int addr_literal(const char *d, size_t len, char *dom, size_t size)
{
    char in[ADDR_NORM_INPUT_MAX + 1], txt[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];

    if (len < 3 || d[len - 1] != ']' || len - 2 >= sizeof(in))
        return -1;
    memcpy(in, d + 1, len - 2);
    in[len - 2] = 0;
    if (strncasecmp(in, "IPv6:", 5) == 0) {
        if (inet_pton(AF_INET6, in + 5, bin) != 1
            || inet_ntop(AF_INET6, bin, txt, sizeof(txt)) == NULL)
            return -1;
        return snprintf(dom, size, "[ipv6:%s]", txt) < (int) size ? 0 : -1;
    }
    if (inet_pton(AF_INET, in, bin) != 1 || inet_ntop(AF_INET, bin, txt, sizeof(txt)) == NULL)
        return -1;
    return snprintf(dom, size, "[%s]", txt) < (int) size ? 0 : -1;
}

/* addr_ldh - 1 if c may be in a domain label: ASCII letter, digit, '-' or '_' */
static int addr_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
        || c == '_';
}

/* addr_label - append one domain label (A-label form) to dom; -1 (why in err) if not */
static int addr_label(const char *label, char *dom, size_t size, BUF *err)
{
    size_t i, len = strlen(label), have = strlen(dom);
    int plain = 1, rc;
    char *a = NULL;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) label[i];

        if (c >= 0x80)
            plain = 0;
        else if (!addr_ldh(c))
            return util_err(err, "bad character '%c' in domain", c);
    }
    if (plain && strncasecmp(label, "xn--", 4) != 0) {
        if (len > DNS_LABEL_MAX)
            return util_err(err, "domain label longer than %d bytes", DNS_LABEL_MAX);
        if (have + len + 1 >= size)
            return util_err(err, "domain longer than %d bytes", DNS_NAME_MAX);
        memcpy(dom + have, label, len + 1);
        util_lower(dom + have);
        return 0;
    }
    {
        char low[ADDR_NORM_INPUT_MAX + 1];

        if (util_strlcpy(low, label, sizeof(low)) < 0)
            return util_err(err, "domain too long");
        util_lower(low);        /* ASCII only: "XN--" and uppercase ASCII */
        rc = idn2_lookup_u8((const uint8_t *) low, (uint8_t **) &a,
                            IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK) {
            free(a);
            a = NULL;
            if (idn2_lookup_u8((const uint8_t *) low, (uint8_t **) &a,
                               IDN2_NFC_INPUT | IDN2_TRANSITIONAL) != IDN2_OK) {
                free(a);
                return util_err(err, "bad IDN label \"%.64s\": %s", label,
                                idn2_strerror(rc));
            }
        }
    }
    util_lower(a);
    len = strlen(a);
    /* UTS #46 maps some characters to nothing (U+00AD, U+200B): a label of
     * only those would vanish, and "ml.<U+00AD>" would be a second key for
     * "ml"; mapped dots (U+3002) must not make an empty label either */
    if (len == 0 || a[0] == '.' || a[len - 1] == '.' || strstr(a, "..") != NULL) {
        free(a);
        return util_err(err, "bad IDN label \"%.64s\": maps to an empty label", label);
    }
    /* UTS #46 maps some characters to ASCII that no label may hold (U+00A0
     * to a space); the dots of U+3002 and its kind are label separators */
    for (i = 0; i < len; i++) {
        if (!addr_ldh((unsigned char) a[i]) && a[i] != '.') {
            free(a);
            return util_err(err, "bad IDN label \"%.64s\": maps to a character a domain "
                            "cannot hold", label);
        }
    }
    if (have + len + 1 >= size) {
        free(a);
        return util_err(err, "domain longer than %d bytes", DNS_NAME_MAX);
    }
    memcpy(dom + have, a, len + 1);
    free(a);
    return 0;
}

/* addr_domain_norm - the domain d (len bytes) in canonical form into dom; -1 (why in err) */
static int addr_domain_norm(const char *d, size_t len, char *dom, size_t size, BUF *err)
{
    char label[ADDR_NORM_INPUT_MAX + 1];
    const char *p, *e, *end = d + len;
    size_t n;

    dom[0] = 0;
    if (len > 0 && d[len - 1] == '.') {
        end--;
        len--;
    }
    if (len == 0)
        return util_err(err, "empty domain");
    if (d[len - 1] == '.')
        return util_err(err, "empty label in domain");
    if (d[0] == '[') {
        if (addr_literal(d, len, dom, size) < 0)
            return util_err(err, "bad domain literal \"%.*s\"", (int) (len > 64 ? 64 : len),
                            d);
        return 0;
    }
    for (p = d; p < end; p = e + 1) {
        if ((e = memchr(p, '.', (size_t) (end - p))) == NULL)
            e = end;
        if (e == p)
            return util_err(err, "empty label in domain");
        memcpy(label, p, (size_t) (e - p));
        label[e - p] = 0;
        if (dom[0] && strlen(dom) + 2 < size)
            strcat(dom, ".");
        if (addr_label(label, dom, size, err) < 0)
            return -1;
        if (e == end)
            break;
    }
    /* Check the A-label form: a U-label may have grown. */
    if (strlen(dom) > DNS_NAME_MAX)
        return util_err(err, "domain longer than %d bytes", DNS_NAME_MAX);
    for (p = dom; *p; p += n + (p[n] == '.')) {
        n = strcspn(p, ".");
        if (n > DNS_LABEL_MAX)
            return util_err(err, "domain label longer than %d bytes", DNS_LABEL_MAX);
    }
    return 0;
}

/* addr_cut - cut local at the first of seps, unless that is its first byte */
static void addr_cut(char *local, const char *seps)
{
    size_t n = strcspn(local, seps);

    if (n > 0 && local[n])
        local[n] = 0;
}

/* addr_input_bad - -1 (why in err) if raw input is unusable (length, control bytes, UTF-8) */
static int addr_input_bad(const char *addr, size_t len, BUF *err)
{
    size_t i;

    if (len > ADDR_NORM_INPUT_MAX)
        return util_err(err, "address longer than %d bytes", ADDR_NORM_INPUT_MAX);
    for (i = 0; i < len; i++)
        if ((unsigned char) addr[i] < 0x20 || addr[i] == 0x7f)
            return util_err(err, "control character 0x%02x in address",
                            (unsigned char) addr[i]);
    if (!addr_utf8_ok((const unsigned char *) addr))
        return util_err(err, "invalid UTF-8 in address");
    return 0;
}

/* addr_find_at - the last '@' outside quotes in s, checked to end a usable
 * local part; -1 (why in err) if there is none */
static int addr_find_at(const char *s, const char **atp, BUF *err)
{
    const char *q, *at = NULL;
    int inq = 0;

    for (q = s; *q; q++) {
        if (inq && *q == '\\' && q[1])
            q++;
        else if (*q == '"')
            inq = !inq;
        else if (!inq && *q == '@')
            at = q;
    }
    if (inq)
        return util_err(err, "unterminated quoted string");
    if (at == NULL)
        return util_err(err, "no '@' in address");
    if (at == s)
        return util_err(err, "empty local part");
    if ((size_t) (at - s) > ADDR_LOCAL_MAX)
        return util_err(err, "local part longer than %d bytes", ADDR_LOCAL_MAX);
    *atp = at;
    return 0;
}

/* addr_unquote - copy the content of the local part s..at into local (ADDR_LOCAL_MAX + 1) */
static void addr_unquote(const char *s, const char *at, char *local)
{
    const char *lp;
    size_t n;
    int inq;

    for (lp = s, n = 0, inq = 0; lp < at; lp++) {
        if (*lp == '"') {
            inq = !inq;
            continue;
        }
        if (inq && *lp == '\\')
            lp++;
        local[n++] = *lp;
    }
    local[n] = 0;
}

/* addr_gmail - Gmail's rules: one domain, no "+tag", dots in the local part ignored */
static void addr_gmail(char *local, char *dom)
{
    size_t i;
    char *e;

    strcpy(dom, "gmail.com");
    addr_cut(local, "+");
    for (i = 0, e = local; local[i]; i++)
        if (local[i] != '.')
            *e++ = local[i];
    if (e != local)                     /* only dots: keep them */
        *e = 0;
}

/* addr_local_text - local as a dot-atom when it is one, else quoted into quoted */
static const char *addr_local_text(const char *local, char *quoted)
{
    int bare = 1;
    size_t i;
    char *e;

    for (i = 0; local[i]; i++)
        if (!addr_is_atext((unsigned char) local[i]) && local[i] != '.')
            bare = 0;
    if (local[0] == 0)
        bare = 0;
    if (bare)
        return local;
    e = quoted;
    *e++ = '"';
    for (i = 0; local[i]; i++) {
        if (local[i] == '"' || local[i] == '\\')
            *e++ = '\\';
        *e++ = local[i];
    }
    *e++ = '"';
    *e = 0;
    return quoted;
}

/* addr_norm - normalise addr into out */
int addr_norm(const char *addr, const ADDR_NORM_OPTS *o, char *out, size_t outlen, BUF *err)
{
    char buf[ADDR_NORM_INPUT_MAX + 1], local[ADDR_LOCAL_MAX + 1], dom[DNS_NAME_MAX + 2];
    char quoted[2 * ADDR_LOCAL_MAX + 3];
    const char *seps = o && o->separators ? o->separators : "+", *at = NULL;
    int gmail_rules = o ? o->gmail_dots : 1;
    size_t len;
    char *s;

    if (outlen > 0)
        out[0] = 0;
    if (addr == NULL)
        return addr_norm_fail(out, outlen, err, "no address");
    len = strlen(addr);
    if (addr_input_bad(addr, len, err) < 0)
        return -1;
    memcpy(buf, addr, len + 1);
    s = util_trim(buf);
    len = strlen(s);
    if (s[0] == '<' || (len > 0 && s[len - 1] == '>')) {
        if (len < 2 || s[0] != '<' || s[len - 1] != '>')
            return addr_norm_fail(out, outlen, err, "unbalanced angle brackets");
        s[len - 1] = 0;
        s = util_trim(s + 1);
    }
    if (*s == 0) {
        if (outlen == 0)
            return addr_norm_fail(out, outlen, err, "no room for the result");
        return 0;                               /* the null sender */
    }
    if (*s == '@' && strchr(s, ':') == NULL)
        return addr_norm_fail(out, outlen, err, "empty local part");
    if (*s == '@' && (s = (char *) addr_skip_route(s)) == NULL)
        return addr_norm_fail(out, outlen, err, "bad source route");
    if (addr_find_at(s, &at, err) < 0)
        return -1;
    addr_unquote(s, at, local);
    if (addr_domain_norm(at + 1, strlen(at + 1), dom, sizeof(dom), err) < 0)
        return -1;                      /* out is still "" */

    addr_cut(local, seps);
    if (gmail_rules && (strcmp(dom, "gmail.com") == 0 || strcmp(dom, "googlemail.com") == 0))
        addr_gmail(local, dom);
    util_lower(local);
    if ((size_t) snprintf(out, outlen, "%s@%s", addr_local_text(local, quoted), dom) >= outlen)
        return addr_norm_fail(out, outlen, err, "normalised address longer than %zu bytes",
                              outlen ? outlen - 1 : 0);
    return 0;
}

/* addr_domain - the domain part of a normalised address */
const char *addr_domain(const char *normalised)
{
    const char *at = strrchr(normalised, '@');

    return at ? at + 1 : "";
}

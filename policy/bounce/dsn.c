/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dsn.c - delivery status notifications, read
 *
 * SYNOPSIS
 *	#include "dsn.h"
 *
 *	int	dsn_parse(const char *msg, size_t len, const char *want_rcpt,
 *			DSN_RESULT *out)
 *	DSN_CLASS dsn_classify(const char *action, const char *status)
 *	const char *dsn_class_name(DSN_CLASS c)
 *
 * DESCRIPTION
 *	dsn_parse() reads a whole message: its top-level Content-Type must
 *	be multipart/report with report-type=delivery-status (RFC 6522) and
 *	a boundary; the part of type message/delivery-status (or
 *	message/global-delivery-status, RFC 6533) is read as RFC 3464 field
 *	groups: the per-message group, then one group per recipient
 *	(Final-Recipient, Action, Status, Diagnostic-Code). Anything else
 *	(an auto-reply, an out-of-office, a report of another type, a
 *	delivery-status part in base64) is not a DSN.
 *
 *	dsn_classify() says what a block means for the address (RFC 3463):
 *
 *	dead	Action failed with 5.1.1 (no such mailbox), 5.1.2 (no such
 *		domain), 5.1.3 (bad address syntax), 5.1.6 (moved, no
 *		forwarding), 5.1.10 (null MX, RFC 7505), 5.2.1 (mailbox
 *		disabled) or 5.4.4 (unroutable): the address is dead;
 *		suppressed at once.
 *	full	x.2.2, mailbox full, permanent or not: the owner may empty
 *		it; counted towards BounceSoftLimit.
 *	policy	x.7.x (refused by policy: spam, DMARC, blocklists), x.6.x
 *		(content), x.2.3 (message too large), x.3.4 (too big for the
 *		system): about this message or its sender, not the address;
 *		counted, never suppressed.
 *	transient Action delayed, or any 4.x.x: counted towards
 *		BounceSoftLimit.
 *	other	any other 5.x.x failure: counted towards BounceSoftLimit.
 *	none	delivered, relayed, expanded, or no status.
 *
 *	Limits: at most DSN_MSG_MAX bytes are read, field groups of at most
 *	64 fields, fields unfolded up to 998 bytes; longer ones are cut.
 *
 * DIAGNOSTICS
 *	None: malformed input is "not a DSN", or a DSN without a usable
 *	block (cls none).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "util.h"

#define DSN_FIELD_MAX 1000

typedef struct dsn_cur {
    const char *p, *end;
} DSN_CUR;

/* dsn_line - the next line (without its CRLF or LF) of c; 0 at the end */
static int dsn_line(DSN_CUR *c, const char **s, size_t *n)
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

/* dsn_field - the next header field of c, unfolded, into name and value;
 * 0 at a blank line or the end */
static int dsn_field(DSN_CUR *c, char *name, size_t nlen, char *value, size_t vlen)
{
    const char *s, *colon;
    size_t n, v = 0, k;
    DSN_CUR peek;

    name[0] = value[0] = 0;
    for (;;) {
        if (!dsn_line(c, &s, &n) || n == 0)
            return 0;
        if (s[0] != ' ' && s[0] != '\t')
            break;                              /* a stray continuation: skipped */
    }
    if ((colon = memchr(s, ':', n)) == NULL || colon == s) {
        util_strlcpy(name, "", nlen);           /* not a field: kept as nameless */
        return 1;
    }
    k = (size_t) (colon - s) < nlen - 1 ? (size_t) (colon - s) : nlen - 1;
    memcpy(name, s, k);
    name[k] = 0;
    for (const char *q = colon + 1; q < s + n && v + 1 < vlen; q++)
        value[v++] = *q;
    for (;;) {                                  /* folded lines */
        peek = *c;
        if (!dsn_line(&peek, &s, &n) || n == 0 || (s[0] != ' ' && s[0] != '\t'))
            break;
        *c = peek;
        for (size_t i = 0; i < n && v + 1 < vlen; i++)
            value[v++] = s[i];
    }
    value[v] = 0;
    return 1;
}

/* dsn_trim - value without surrounding white space, in place */
static char *dsn_trim(char *v)
{
    size_t n;

    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        v[--n] = 0;
    return v;
}

/* dsn_param - parameter name of a Content-Type value into out; 0 if absent */
static int dsn_param(const char *ct, const char *name, char *out, size_t outlen)
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

/* dsn_type_is - does the Content-Type value ct have media type type? */
static int dsn_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);

    while (*ct == ' ' || *ct == '\t')
        ct++;
    return strncasecmp(ct, type, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' '
                                             || ct[n] == '\t');
}

/* dsn_headers - the Content-Type and Content-Transfer-Encoding of the header at c */
static void dsn_headers(DSN_CUR *c, char *ct, size_t ctlen, char *cte, size_t ctelen)
{
    char name[64], value[DSN_FIELD_MAX];

    ct[0] = cte[0] = 0;
    while (dsn_field(c, name, sizeof(name), value, sizeof(value))) {
        if (strcasecmp(name, "Content-Type") == 0)
            util_strlcpy(ct, dsn_trim(value), ctlen);
        else if (strcasecmp(name, "Content-Transfer-Encoding") == 0)
            util_strlcpy(cte, dsn_trim(value), ctelen);
    }
}

/* dsn_is_boundary - is line s (n bytes) "--boundary" or "--boundary--"? */
static int dsn_is_boundary(const char *s, size_t n, const char *b, size_t bl)
{
    if (n < bl + 2 || s[0] != '-' || s[1] != '-' || memcmp(s + 2, b, bl) != 0)
        return 0;
    for (size_t i = bl + 2; i < n; i++)
        if (s[i] != '-' && s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* dsn_find_part - the body of the first part of type message/(global-)delivery-status */
static int dsn_find_part(DSN_CUR *c, const char *b, DSN_CUR *part)
{
    size_t bl = strlen(b), n;
    const char *s, *start = NULL;
    char ct[256], cte[64];
    int inside = 0;

    while (dsn_line(c, &s, &n)) {
        if (!dsn_is_boundary(s, n, b, bl))
            continue;
        if (inside) {
            part->p = start;
            part->end = s;
            return 1;
        }
        if (n >= bl + 4 && s[bl + 2] == '-' && s[bl + 3] == '-')
            return 0;                           /* the closing boundary */
        dsn_headers(c, ct, sizeof(ct), cte, sizeof(cte));
        if ((dsn_type_is(ct, "message/delivery-status")
             || dsn_type_is(ct, "message/global-delivery-status"))
            && (cte[0] == 0 || strcasecmp(cte, "7bit") == 0 || strcasecmp(cte, "8bit") == 0)) {
            inside = 1;
            start = c->p;
        }
    }
    if (inside) {                               /* no closing boundary: to the end */
        part->p = start;
        part->end = c->end;
        return 1;
    }
    return 0;
}

/* dsn_addr - the address of an "rfc822; addr" value into out */
static void dsn_addr(char *v, char *out, size_t outlen)
{
    char *semi = strchr(v, ';'), *a = dsn_trim(semi ? semi + 1 : v);
    size_t n;

    if (*a == '<')
        a++;
    n = strlen(a);
    if (n && a[n - 1] == '>')
        a[--n] = 0;
    util_strlcpy(out, a, outlen);
}

/* dsn_block - one per-recipient group into r; 0 at the end of the part */
static int dsn_block(DSN_CUR *c, DSN_RESULT *r)
{
    char name[64], value[DSN_FIELD_MAX], *v;
    int n = 0;

    memset(r, 0, sizeof(*r));
    while (c->p < c->end && (*c->p == '\r' || *c->p == '\n'))
        c->p++;
    if (c->p >= c->end)
        return 0;
    while (n++ < 64 && dsn_field(c, name, sizeof(name), value, sizeof(value))) {
        v = dsn_trim(value);
        if (strcasecmp(name, "Final-Recipient") == 0)
            dsn_addr(v, r->final_rcpt, sizeof(r->final_rcpt));
        else if (strcasecmp(name, "Action") == 0)
            util_strlcpy(r->action, v, sizeof(r->action));
        else if (strcasecmp(name, "Status") == 0)
            snprintf(r->status, sizeof(r->status), "%.*s", (int) strcspn(v, " \t("), v);
        else if (strcasecmp(name, "Diagnostic-Code") == 0)
            util_strlcpy(r->diagnostic, v, sizeof(r->diagnostic));
    }
    return 1;
}

/* dsn_parse - the message as a DSN */
int dsn_parse(const char *msg, size_t len, const char *want_rcpt, DSN_RESULT *out)
{
    DSN_CUR c = { msg, msg + (len > DSN_MSG_MAX ? DSN_MSG_MAX : len) }, part;
    char ct[1024], cte[64], rt[64], b[80];
    DSN_RESULT r, first;
    int have_first = 0, blocks = 0;

    memset(out, 0, sizeof(*out));
    if (msg == NULL)
        return 0;
    dsn_headers(&c, ct, sizeof(ct), cte, sizeof(cte));
    if (!dsn_type_is(ct, "multipart/report") || !dsn_param(ct, "report-type", rt, sizeof(rt))
        || strcasecmp(rt, "delivery-status") != 0 || !dsn_param(ct, "boundary", b, sizeof(b))
        || !dsn_find_part(&c, b, &part))
        return 0;
    out->is_dsn = 1;
    (void) dsn_block(&part, &r);                /* the per-message fields */
    memset(&first, 0, sizeof(first));
    while (blocks++ < 1000 && dsn_block(&part, &r)) {
        r.cls = dsn_classify(r.action, r.status);
        r.is_dsn = 1;
        if (want_rcpt && strcasecmp(r.final_rcpt, want_rcpt) == 0) {
            *out = r;
            return 1;
        }
        if (!have_first && r.cls != DSN_CLASS_NONE) {
            first = r;
            have_first = 1;
        }
    }
    if (have_first)
        *out = first;
    out->is_dsn = 1;
    return 1;
}

/* dsn_status_is - does status ("5.1.1") have class any and subject.detail sd ("1.1")? */
static int dsn_status_is(const char *status, const char *sd)
{
    return status[0] && status[1] == '.' && strcmp(status + 2, sd) == 0;
}

/* dsn_classify - what an Action and Status mean for the address */
DSN_CLASS dsn_classify(const char *action, const char *status)
{
    static const char *const dead[] = { "1.1", "1.2", "1.3", "1.6", "1.10", "2.1", "4.4" };
    int failed = action && strcasecmp(action, "failed") == 0;
    int delayed = action && strcasecmp(action, "delayed") == 0;

    if (status == NULL)
        status = "";
    if (!failed && !delayed)
        return DSN_CLASS_NONE;
    if ((status[0] != '4' && status[0] != '5') || status[1] != '.')
        return delayed ? DSN_CLASS_TRANSIENT : DSN_CLASS_OTHER;
    if (dsn_status_is(status, "2.2"))
        return DSN_CLASS_FULL;
    if (strncmp(status + 2, "7.", 2) == 0 || strncmp(status + 2, "6.", 2) == 0
        || dsn_status_is(status, "2.3") || dsn_status_is(status, "3.4"))
        return DSN_CLASS_POLICY;
    if (delayed || status[0] == '4')
        return DSN_CLASS_TRANSIENT;
    for (size_t i = 0; i < sizeof(dead) / sizeof(dead[0]); i++)
        if (dsn_status_is(status, dead[i]))
            return DSN_CLASS_DEAD;
    return DSN_CLASS_OTHER;
}

/* dsn_class_name - the class's name for logs and metrics */
const char *dsn_class_name(DSN_CLASS c)
{
    static const char *const names[] = { "none", "dead", "full", "policy", "transient", "other" };

    return (unsigned) c < sizeof(names) / sizeof(names[0]) ? names[c] : "none";
}

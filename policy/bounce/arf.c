/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * arf.c - feedback reports (ARF), read
 *
 * SYNOPSIS
 *	#include "arf.h"
 *
 *	ARF_STATUS arf_parse(const char *msg, size_t len, ARF_REPORT *out)
 *	size_t	arf_uris(const char *value, char uris[][ARF_URI_MAX],
 *			size_t max)
 *	int	arf_mailto_addr(const char *uri, char *out, size_t outlen)
 *	const char *arf_type_name(ARF_TYPE t)
 *	const char *arf_status_text(ARF_STATUS s)
 *
 * DESCRIPTION
 *	arf_parse() reads a whole message as a feedback report (RFC 5965),
 *	as feedback loops send them (Yahoo's CFL, Microsoft's JMRP, and the
 *	others that follow the RFC): the top-level Content-Type must be
 *	multipart/report with report-type=feedback-report and a boundary;
 *	the first part of type message/feedback-report is read as one group
 *	of fields (Feedback-Type, which must be there; User-Agent,
 *	Reporting-MTA, Arrival-Date or the older Received-Date,
 *	Original-Mail-From; the first of each counts), and the first part of
 *	type message/rfc822 or text/rfc822-headers is the original, whose
 *	Return-Path and first List-Unsubscribe are kept. The report's own
 *	From gives the reporting domain. Other parts (the human-readable
 *	text first of all) are skipped.
 *
 *	RFC 2046 forbids any encoding but 7bit, 8bit and binary for
 *	message/rfc822, yet some reporters send the original in base64 or
 *	quoted-printable (text/rfc822-headers may be either): it is decoded
 *	(mime_decode(): mime_base64() with OpenSSL, mime_qp()) and read the
 *	same, so a List-Unsubscribe that quoted-printable broke over two
 *	lines ("=" at the end of the first) or whose "=" became "=3D" is
 *	read whole.
 *	Base64 that does not decode, or any other encoding, is refused
 *	(ARF_ENCODING) rather than guessed at; quoted-printable is never
 *	refused (mime.c reads bad escapes as literal text). An original
 *	that runs to the end of the input (cut at ARF_MSG_MAX, or without
 *	its closing boundary) has an incomplete last base64 group or
 *	quoted-printable escape dropped. The feedback-report part itself is
 *	read only as 7bit or 8bit.
 *
 *	arf_parse() only reads: what the fields are worth is the caller's
 *	business. In particular Original-Rcpt-To, the original's To and
 *	anything in the text are not read at all: receivers redact them and
 *	anyone can write them. Only a token that verifies names a recipient.
 *
 *	arf_uris() lists the URIs of a List-Unsubscribe value (RFC 2369:
 *	between angle brackets, blanks inside ignored); arf_mailto_addr()
 *	takes the address out of a mailto URI (RFC 6068: percent-escapes
 *	undone, the query dropped).
 *
 *	Limits: at most ARF_MSG_MAX bytes are read; fields unfolded up to
 *	MIME_FIELD_MAX bytes and kept up to their buffers (cut); an address
 *	that does not fit is dropped, never cut.
 *
 * DIAGNOSTICS
 *	arf_parse() returns ARF_OK or what is missing (arf_status_text()
 *	words it); out is filled as far as the message went.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arf.h"
#include "mime.h"
#include "util.h"

/* arf_addr - the address of "<a@b> (comment)" or "a@b" into out; "" if it does not fit */
static void arf_addr(const char *v, char *out, size_t outlen)
{
    const char *lt = strchr(v, '<'), *s, *e;

    out[0] = 0;
    if (lt != NULL) {
        s = lt + 1;
        if ((e = strchr(s, '>')) == NULL)
            return;
    } else {
        for (s = v; *s == ' ' || *s == '\t'; s++)
            ;
        for (e = s; *e && *e != ' ' && *e != '\t' && *e != '('; e++)
            ;
    }
    if ((size_t) (e - s) >= outlen)
        return;
    memcpy(out, s, (size_t) (e - s));
    out[e - s] = 0;
}

/* arf_domain_of - the domain of the address in a From value, lowercased; "" if none */
static void arf_domain_of(const char *v, char *out, size_t outlen)
{
    char addr[ARF_ADDR_MAX];
    const char *at;

    out[0] = 0;
    arf_addr(v, addr, sizeof(addr));
    if ((at = strrchr(addr, '@')) == NULL || at[1] == 0)
        return;
    for (const char *p = at + 1; *p; p++)
        if (!isalnum((unsigned char) *p) && *p != '.' && *p != '-')
            return;
    util_strlcpy(out, at + 1, outlen);
    util_lower(out);
}

/* arf_type_of - the ARF_TYPE of a Feedback-Type value (lowercased) */
static ARF_TYPE arf_type_of(const char *t)
{
    static const struct { const char *name; ARF_TYPE type; } types[] = {
        {"abuse", ARF_TYPE_ABUSE}, {"fraud", ARF_TYPE_FRAUD}, {"virus", ARF_TYPE_VIRUS},
        {"other", ARF_TYPE_OTHER}, {"not-spam", ARF_TYPE_NOT_SPAM}, {"opt-out", ARF_TYPE_OPT_OUT},
    };

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(t, types[i].name) == 0)
            return types[i].type;
    return ARF_TYPE_UNKNOWN;
}

/* arf_first - copy v into field unless an earlier field of that name did */
static void arf_first(char *field, size_t len, const char *v)
{
    if (field[0] == 0)
        util_strlcpy(field, v, len);
}

/* arf_feedback - the fields of the message/feedback-report part */
static void arf_feedback(MIME_CUR part, ARF_REPORT *r)
{
    char name[64], value[MIME_FIELD_MAX], *v;
    int n = 0;

    while (n++ < 200 && mime_field(&part, name, sizeof(name), value, sizeof(value))) {
        v = mime_trim(value);
        if (strcasecmp(name, "Feedback-Type") == 0 && r->feedback_type[0] == 0) {
            snprintf(r->feedback_type, sizeof(r->feedback_type), "%.*s",
                     (int) strcspn(v, " \t;("), v);
            util_lower(r->feedback_type);
            r->type = arf_type_of(r->feedback_type);
        } else if (strcasecmp(name, "User-Agent") == 0) {
            arf_first(r->user_agent, sizeof(r->user_agent), v);
        } else if (strcasecmp(name, "Reporting-MTA") == 0) {
            const char *semi = strchr(v, ';');

            arf_first(r->reporting_mta, sizeof(r->reporting_mta), semi ? mime_trim((char *) semi + 1) : v);
        } else if (strcasecmp(name, "Arrival-Date") == 0 || strcasecmp(name, "Received-Date") == 0) {
            arf_first(r->arrival_date, sizeof(r->arrival_date), v);
        } else if (strcasecmp(name, "Original-Mail-From") == 0 && r->orig_mail_from[0] == 0) {
            arf_addr(v, r->orig_mail_from, sizeof(r->orig_mail_from));
        }
    }
}

/* arf_original - the Return-Path and List-Unsubscribe of the original's header */
static void arf_original(MIME_CUR c, ARF_REPORT *r)
{
    char name[64], value[MIME_FIELD_MAX];
    int seen_rp = 0, n = 0;

    while (n++ < 1000 && mime_field(&c, name, sizeof(name), value, sizeof(value))) {
        if (strcasecmp(name, "Return-Path") == 0 && !seen_rp) {
            seen_rp = 1;
            arf_addr(value, r->return_path, sizeof(r->return_path));
        } else if (strcasecmp(name, "List-Unsubscribe") == 0 && r->list_unsub[0] == 0) {
            util_strlcpy(r->list_unsub, mime_trim(value), sizeof(r->list_unsub));
        }
    }
}

/* arf_read_original - the original part in whatever encoding it came; ARF_OK or ARF_ENCODING */
static ARF_STATUS arf_read_original(MIME_CUR part, int cut, const char *cte, ARF_REPORT *r)
{
    char *dec;
    MIME_CUR body;
    int enc = mime_decode(part, cte, ARF_MSG_MAX, cut, &dec, &body);

    if (enc < 0)
        return ARF_ENCODING;
    r->original_base64 = enc == MIME_ENC_BASE64;
    r->original_qp = enc == MIME_ENC_QP;
    arf_original(body, r);
    free(dec);
    return ARF_OK;
}

/* arf_top - the top-level header: 1 if it is a feedback report, with its boundary */
static int arf_top(MIME_CUR *c, ARF_REPORT *r, char *b, size_t blen)
{
    char name[64], value[MIME_FIELD_MAX], ct[MIME_FIELD_MAX] = "", rt[64];
    int n = 0;

    while (n++ < 1000 && mime_field(c, name, sizeof(name), value, sizeof(value))) {
        if (strcasecmp(name, "Content-Type") == 0 && ct[0] == 0)
            util_strlcpy(ct, mime_trim(value), sizeof(ct));
        else if (strcasecmp(name, "From") == 0 && r->reporter[0] == 0)
            arf_domain_of(value, r->reporter, sizeof(r->reporter));
    }
    return mime_type_is(ct, "multipart/report") && mime_param(ct, "report-type", rt, sizeof(rt))
        && strcasecmp(rt, "feedback-report") == 0 && mime_param(ct, "boundary", b, blen);
}

/* arf_parse - the message as a feedback report */
ARF_STATUS arf_parse(const char *msg, size_t len, ARF_REPORT *out)
{
    MIME_CUR c = { msg, msg + (len > ARF_MSG_MAX ? ARF_MSG_MAX : len) }, body, orig = { NULL, NULL };
    char b[80], ct[256], cte[64], orig_cte[64] = "";
    int have_fb = 0, parts = 0;

    memset(out, 0, sizeof(*out));
    out->status = ARF_NOT_REPORT;
    if (msg == NULL || !arf_top(&c, out, b, sizeof(b)))
        return out->status;
    while (parts++ < 100 && mime_next_part(&c, b, ct, sizeof(ct), cte, sizeof(cte), &body)) {
        if (!have_fb && mime_type_is(ct, "message/feedback-report")
            && (cte[0] == 0 || strcasecmp(cte, "7bit") == 0 || strcasecmp(cte, "8bit") == 0)) {
            have_fb = 1;
            arf_feedback(body, out);
        } else if (orig.p == NULL && (mime_type_is(ct, "message/rfc822")
                                      || mime_type_is(ct, "text/rfc822-headers"))) {
            orig = body;
            out->headers_only = mime_type_is(ct, "text/rfc822-headers");
            util_strlcpy(orig_cte, cte, sizeof(orig_cte));
        }
    }
    if (!have_fb || out->feedback_type[0] == 0)
        return out->status = ARF_NO_FEEDBACK;
    if (orig.p == NULL)
        return out->status = ARF_NO_ORIGINAL;
    /* an original that runs to the end of what was read may have been cut there */
    return out->status = arf_read_original(orig, orig.end == c.end, orig_cte, out);
}

/* arf_uris - the <URI>s of a List-Unsubscribe value */
size_t arf_uris(const char *value, char uris[][ARF_URI_MAX], size_t max)
{
    const char *p = value, *lt, *gt;
    size_t n = 0;

    while (n < max && (lt = strchr(p, '<')) != NULL && (gt = strchr(lt + 1, '>')) != NULL) {
        size_t o = 0;
        int fits = 1;

        for (const char *q = lt + 1; q < gt; q++) {
            if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
                continue;
            if (o + 1 >= ARF_URI_MAX) {
                fits = 0;
                break;
            }
            uris[n][o++] = *q;
        }
        uris[n][o] = 0;
        if (fits && o > 0)
            n++;
        p = gt + 1;
    }
    return n;
}

/* arf_mailto_addr - the address of a mailto URI */
int arf_mailto_addr(const char *uri, char *out, size_t outlen)
{
    size_t o = 0;
    const char *p;

    if (outlen == 0 || strncasecmp(uri, "mailto:", 7) != 0)
        return -1;
    for (p = uri + 7; *p && *p != '?'; p++) {
        char ch = *p;

        if (ch == '%') {
            int hi = mime_hex(p[1]), lo = hi < 0 ? -1 : mime_hex(p[2]);

            if (lo < 0 || (hi == 0 && lo == 0))
                return -1;
            ch = (char) (hi * 16 + lo);
            p += 2;
        }
        if (o + 1 >= outlen)
            return -1;
        out[o++] = ch;
    }
    out[o] = 0;
    return o > 0 ? 0 : -1;
}

/* arf_type_name - a type's registered name */
const char *arf_type_name(ARF_TYPE t)
{
    static const char *const names[] = { "unknown", "abuse", "fraud", "virus", "other", "not-spam",
                                         "opt-out" };

    return (unsigned) t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

/* arf_status_text - a status as words for the log */
const char *arf_status_text(ARF_STATUS s)
{
    switch (s) {
    case ARF_OK:
        return "a feedback report";
    case ARF_NOT_REPORT:
        return "not a feedback report (no multipart/report; report-type=feedback-report)";
    case ARF_NO_FEEDBACK:
        return "no message/feedback-report part with a Feedback-Type";
    case ARF_NO_ORIGINAL:
        return "no enclosed message (message/rfc822 or text/rfc822-headers)";
    case ARF_ENCODING:
        return "the enclosed message is in bad base64 or an unknown encoding: not read";
    }
    return "unknown";
}

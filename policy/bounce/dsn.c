/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dsn.c - delivery status notifications, read
 *
 * SYNOPSIS
 *	#include "dsn.h"
 *
 *	int	dsn_parse(const char *msg, size_t len, const char *want_rcpt,
 *			DSN_RESULT *out)
 *	void	dsn_report_id(const char *token, const char *orig_msgid,
 *			char *out, size_t outlen)
 *	DSN_CLASS dsn_classify(const char *action, const char *status)
 *	const char *dsn_class_name(DSN_CLASS c)
 *
 * DESCRIPTION
 *	dsn_parse() reads a whole message: its top-level Content-Type must
 *	be multipart/report with report-type=delivery-status (RFC 6522) and
 *	a boundary; the part of type message/delivery-status (or
 *	message/global-delivery-status, RFC 6533) is read as RFC 3464 field
 *	groups: the per-message group, then one group per recipient
 *	(Final-Recipient, Action, Status, Diagnostic-Code, whose runs of
 *	white space, such as a fold's indentation, become one space).
 *	A Status without detail, x.0.0 (Exim reports every failure as
 *	5.0.0), is refined from the SMTP reply the Diagnostic-Code quotes
 *	when that carries an enhanced code of the same class: "5.0.0" with
 *	"smtp; 550 5.1.1 user unknown" is read as 5.1.1 (dead), with
 *	"smtp; 550 5.7.1 spam" as 5.7.1 (policy). Anything else
 *	(an auto-reply, an out-of-office, a report of another type, a
 *	delivery-status part in base64) is not a DSN.
 *
 *	The first part of type message/rfc822, text/rfc822-headers,
 *	message/global or message/global-headers is the original the report
 *	returns (RFC 3462, RFC 6533): its Message-ID is kept, from "<" to
 *	">" with the blanks of a fold dropped (the whole value when it has
 *	no angle brackets), so that the reports about one message can be
 *	told from those about another. It may be in base64 or
 *	quoted-printable (mime_decode()); one in an encoding mime.c does not
 *	read, or without a Message-ID, gives "". Whoever writes the report
 *	writes this too: it says which message, never which recipient.
 *
 *	dsn_report_id() names a report for BounceSoftLimit by what it is
 *	about, not by what it is: a delay warning and the final failure
 *	of one message to one recipient, a warning sent twice, a report sent
 *	again after a 451, all get one id; two messages get two. The
 *	return-path token the report came back to is the ground: only this
 *	relay makes one that verifies, it holds the recipient, the stream,
 *	the sender and the second it was sealed (rp_token.c), every report
 *	about that message comes back to it whoever writes the report, and
 *	it is read in any case (a local part may be case-folded on its
 *	way). A report's own Message-ID (new with each report) and its text
 *	(a warning and a failure differ) name the report, not the message.
 *	The token alone would take two messages to one recipient, stream
 *	and sender sealed within one second for one; the Message-ID of the
 *	original the report returns tells those apart, since nearly every
 *	MTA returns at least the header (Postfix does in delay warnings and
 *	bounces alike) and always the same one of one message. The cost: of
 *	one message, a report that returns the header and one that does not
 *	count twice, as every report did before; what the reporter writes
 *	there can only split the count of a recipient whose token it holds,
 *	which a 5.1.1 of its own would suppress at once anyway. The id is a
 *	64-bit FNV-1a hash ("t" and 16 hex digits): the store keeps ids, not
 *	tokens or Message-IDs.
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
 *	64 fields, fields unfolded up to MIME_FIELD_MAX bytes (mime.c, which
 *	reads the fields and the parts); longer ones are cut.
 *
 * DIAGNOSTICS
 *	None: malformed input is "not a DSN", or a DSN without a usable
 *	block (cls none).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "mime.h"
#include "util.h"

/* dsn_is_original - 1 if the Content-Type ct is that of a returned message or its header */
static int dsn_is_original(const char *ct)
{
    return mime_type_is(ct, "message/rfc822") || mime_type_is(ct, "text/rfc822-headers")
        || mime_type_is(ct, "message/global") || mime_type_is(ct, "message/global-headers");
}

/* dsn_original_id - the Message-ID of the returned original at part (cut:
 * the input ends there, and may have been cut) into out; "" if none */
static void dsn_original_id(MIME_CUR part, const char *cte, int cut, char *out, size_t outlen)
{
    char name[64], value[MIME_FIELD_MAX], *dec, *v, *gt;
    MIME_CUR c;
    size_t o = 0;
    int n = 0, found = 0;

    out[0] = 0;
    if (mime_decode(part, cte, DSN_MSG_MAX, cut, &dec, &c) < 0)
        return;
    while (!found && n++ < 1000 && mime_field(&c, name, sizeof(name), value, sizeof(value)))
        found = strcasecmp(name, "Message-ID") == 0;
    free(dec);
    if (!found)
        return;
    if ((v = strchr(value, '<')) != NULL && (gt = strchr(v, '>')) != NULL)
        gt[1] = 0;
    for (v = v ? v : value; *v && o + 1 < outlen; v++)
        if (*v != ' ' && *v != '\t')
            out[o++] = *v;
    out[o] = 0;
}

/* dsn_find_parts - the first message/(global-)delivery-status part (7bit or
 * 8bit) into *status, and the returned original's Message-ID into msgid;
 * 0 without a status part */
static int dsn_find_parts(MIME_CUR *c, const char *b, MIME_CUR *status, char *msgid, size_t len)
{
    char ct[256], cte[64];
    MIME_CUR part;
    int parts = 0, have_status = 0, have_orig = 0;

    msgid[0] = 0;
    while (parts++ < 100 && (!have_status || !have_orig)
           && mime_next_part(c, b, ct, sizeof(ct), cte, sizeof(cte), &part)) {
        if (!have_status && (mime_type_is(ct, "message/delivery-status")
                             || mime_type_is(ct, "message/global-delivery-status"))
            && (cte[0] == 0 || strcasecmp(cte, "7bit") == 0 || strcasecmp(cte, "8bit") == 0)) {
            have_status = 1;
            *status = part;
        } else if (!have_orig && dsn_is_original(ct)) {
            have_orig = 1;
            dsn_original_id(part, cte, part.end == c->end, msgid, len);
        }
    }
    return have_status;
}

/* dsn_addr - the address of an "rfc822; addr" value into out */
static void dsn_addr(char *v, char *out, size_t outlen)
{
    char *semi = strchr(v, ';'), *a = mime_trim(semi ? semi + 1 : v);
    size_t n;

    if (*a == '<')
        a++;
    n = strlen(a);
    if (n && a[n - 1] == '>')
        a[--n] = 0;
    util_strlcpy(out, a, outlen);
}

/* dsn_squeeze - v with each run of white space made one space: MTAs fold a
 * long Diagnostic-Code (Postfix indents the next line by four spaces) and
 * unfolding keeps that indentation, which is no part of the SMTP reply */
static void dsn_squeeze(const char *v, char *out, size_t outlen)
{
    size_t o = 0;

    for (; *v && o + 1 < outlen; v++) {
        if (*v == ' ' || *v == '\t') {
            if (o && out[o - 1] == ' ')
                continue;
            out[o++] = ' ';
        } else {
            out[o++] = *v;
        }
    }
    out[o] = 0;
}

/* dsn_block - one per-recipient group into r; 0 at the end of the part */
static int dsn_block(MIME_CUR *c, DSN_RESULT *r)
{
    char name[64], value[MIME_FIELD_MAX], *v;
    int n = 0;

    memset(r, 0, sizeof(*r));
    while (c->p < c->end && (*c->p == '\r' || *c->p == '\n'))
        c->p++;
    if (c->p >= c->end)
        return 0;
    while (n++ < 64 && mime_field(c, name, sizeof(name), value, sizeof(value))) {
        v = mime_trim(value);
        if (strcasecmp(name, "Final-Recipient") == 0)
            dsn_addr(v, r->final_rcpt, sizeof(r->final_rcpt));
        else if (strcasecmp(name, "Action") == 0)
            util_strlcpy(r->action, v, sizeof(r->action));
        else if (strcasecmp(name, "Status") == 0)
            snprintf(r->status, sizeof(r->status), "%.*s", (int) strcspn(v, " \t("), v);
        else if (strcasecmp(name, "Diagnostic-Code") == 0)
            dsn_squeeze(v, r->diagnostic, sizeof(r->diagnostic));
    }
    return 1;
}

/* dsn_digits - the length of the run of 1 to 3 digits at s, else 0 */
static size_t dsn_digits(const char *s)
{
    size_t n = 0;

    while (n < 4 && s[n] >= '0' && s[n] <= '9')
        n++;
    return n >= 1 && n <= 3 ? n : 0;
}

/* dsn_refine - a Status without detail (x.0.0: Exim writes 5.0.0 for every
 * failure) takes the enhanced code of the SMTP reply quoted in the
 * Diagnostic-Code ("smtp; 550 5.1.1 ..." or "550-5.1.1"), when reply code,
 * enhanced code and Status are of one class; otherwise it stays */
static void dsn_refine(DSN_RESULT *r)
{
    const char *d = r->diagnostic, *e;
    size_t a, b;

    if ((r->status[0] != '4' && r->status[0] != '5') || strcmp(r->status + 1, ".0.0") != 0
        || strncasecmp(d, "smtp;", 5) != 0)
        return;
    for (d += 5; *d == ' '; d++)
        ;
    if (d[0] != r->status[0] || dsn_digits(d) != 3 || (d[3] != ' ' && d[3] != '-'))
        return;
    for (e = d + 4; *e == ' '; e++)
        ;
    if (e[0] != r->status[0] || e[1] != '.' || (a = dsn_digits(e + 2)) == 0 || e[2 + a] != '.'
        || (b = dsn_digits(e + 3 + a)) == 0 || e[3 + a + b] == '.')
        return;
    snprintf(r->status, sizeof(r->status), "%.*s", (int) (3 + a + b), e);
}

/* dsn_parse - the message as a DSN */
int dsn_parse(const char *msg, size_t len, const char *want_rcpt, DSN_RESULT *out)
{
    MIME_CUR c = { msg, msg + (len > DSN_MSG_MAX ? DSN_MSG_MAX : len) }, part;
    char ct[1024], cte[64], rt[64], b[80], msgid[DSN_MSGID_MAX];
    DSN_RESULT r, first;
    int have_first = 0, blocks = 0;

    memset(out, 0, sizeof(*out));
    if (msg == NULL)
        return 0;
    mime_headers(&c, ct, sizeof(ct), cte, sizeof(cte));
    if (!mime_type_is(ct, "multipart/report") || !mime_param(ct, "report-type", rt, sizeof(rt))
        || strcasecmp(rt, "delivery-status") != 0 || !mime_param(ct, "boundary", b, sizeof(b))
        || !dsn_find_parts(&c, b, &part, msgid, sizeof(msgid)))
        return 0;
    (void) dsn_block(&part, &r);                /* the per-message fields */
    memset(&first, 0, sizeof(first));
    while (blocks++ < 1000 && dsn_block(&part, &r)) {
        dsn_refine(&r);
        r.cls = dsn_classify(r.action, r.status);
        if (want_rcpt && strcasecmp(r.final_rcpt, want_rcpt) == 0) {
            first = r;
            break;
        }
        if (!have_first && r.cls != DSN_CLASS_NONE) {
            first = r;
            have_first = 1;
        }
    }
    *out = first;
    out->is_dsn = 1;
    memcpy(out->orig_msgid, msgid, sizeof(msgid));
    return 1;
}

/* dsn_report_id - one id per original message and recipient */
void dsn_report_id(const char *token, const char *orig_msgid, char *out, size_t outlen)
{
    uint64_t h = 1469598103934665603ULL;           /* FNV-1a, 64 bits */

    for (const char *p = token; *p; p++)
        h = (h ^ (unsigned char) tolower((unsigned char) *p)) * 1099511628211ULL;
    h = (h ^ 0) * 1099511628211ULL;                 /* the token ends: "ab"+"c" is not "a"+"bc" */
    for (const char *p = orig_msgid; *p; p++)
        h = (h ^ (unsigned char) *p) * 1099511628211ULL;
    snprintf(out, outlen, "t%016llx", (unsigned long long) h);
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

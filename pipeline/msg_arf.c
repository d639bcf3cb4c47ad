/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_arf.c - complaints in the message pipeline: feedback reports (ARF)
 * that arrive at a ComplaintAddress suppress the recipient they are about.
 *
 * SYNOPSIS
 *	#include "msg_int.h"
 *
 *	void	msg_arf_init(MSG *m)
 *	void	msg_arf_free(MSG *m)
 *	int	msg_arf_rcpt(MSG *m, const char *rcpt)
 *	void	msg_arf_body(MSG *m, const unsigned char *data, size_t len)
 *	int	msg_arf_eom(MSG *m, REPLY *r)
 *
 *	#include "msg.h"
 *
 *	int	msg_complaint(const MSG *m)
 *
 * DESCRIPTION
 *	Inbound mail (not outbound) to a ComplaintAddress is a feedback
 *	report from a mailbox provider's feedback loop: msg_arf_rcpt() notes
 *	such recipients, msg_arf_body() keeps the body (at most ARF_MSG_MAX
 *	bytes), and msg_arf_eom() reads the message (policy/bounce/arf.c).
 *
 *	Whom it is about comes only from a token of ours that verifies, in
 *	the enclosed original, tried in this order: the URIs of its
 *	List-Unsubscribe (an UnsubscribeURL or UnsubscribeTable URL, or an
 *	UnsubscribeMailto address: an unsubscribe token), its Return-Path,
 *	then the report's Original-Mail-From (a ReturnPath address: a
 *	return-path token). A recipient named only in the text
 *	(Original-Rcpt-To, the original's To, the body) is never used:
 *	receivers redact it and anybody can write it. The token's age does
 *	not matter: it proves that this relay sent that mail to that
 *	recipient, whenever the complaint comes.
 *
 *	What the feedback type does, once a token verifies:
 *
 *	abuse	the recipient marked the mail as spam: suppressed from the
 *		token's stream, reason complaint, source arf, never
 *		expiring, the evidence "abuse; arrival=...; reporter=...;
 *		ua=..." (the Arrival-Date, the report's From domain or
 *		else its Reporting-MTA, the User-Agent) cut to
 *		SUPPRESS_EVIDENCE_MAX;
 *	opt-out	an unsubscribe sent as a report: suppressed, reason
 *		unsubscribe, source arf;
 *	others	not-spam (the recipient wants the mail), fraud and virus
 *		(about the content: a warning, someone should look at what
 *		was sent), other, and unregistered types: logged and
 *		counted, nothing suppressed.
 *
 *	A report with no token that verifies, or a message that is no
 *	report at all, is logged (why) and changes nothing. The report is
 *	then dropped: discarded when every recipient is a ComplaintAddress
 *	(it is no mailbox), else those recipients are removed and the
 *	others get the message. When the list cannot record, the message is
 *	refused 451 4.3.0, so the reporter sends it again. Each report is
 *	counted once in txmilter_complaints_total{result}. In a dry run
 *	(txmilter -t) nothing is recorded: the summary says what would be.
 *
 * DIAGNOSTICS
 *	Log lines: the suppression made, or why none was (no usable report,
 *	no token of ours, a token refused and why, a type not acted on);
 *	an error when the list cannot record. Tokens are never logged.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arf.h"
#include "log.h"
#include "msg_arf.h"
#include "msg_int.h"
#include "msg_reply.h"
#include "return_path.h"
#include "rp_token.h"
#include "suppress.h"
#include "unsub_msg.h"

/* Who a verified token names, and where it was found. */
typedef struct msg_arf_who {
    char rcpt[SUPPRESS_FIELD_MAX];
    char stream[SUPPRESS_FIELD_MAX];
    const char *where;              /* "list-unsubscribe", "return-path", "original-mail-from" */
    char refused[96];               /* why the last token of ours did not verify, "" if none */
} MSG_ARF_WHO;

/* msg_arf_init - no report yet */
void msg_arf_init(MSG *m)
{
    strv_init(&m->arf.rcpts);
    buf_init(&m->arf.body, ARF_MSG_MAX);       /* what arf_parse() reads */
}

/* msg_arf_free - what the step kept */
void msg_arf_free(MSG *m)
{
    strv_free(&m->arf.rcpts);
    buf_free(&m->arf.body);
}

/* msg_complaint - 1 if the message is a report to a ComplaintAddress */
int msg_complaint(const MSG *m)
{
    return !m->outbound && m->arf.rcpts.n > 0;
}

/* msg_arf_rcpt - 1 if rcpt (inbound) is a ComplaintAddress: noted for end of message */
int msg_arf_rcpt(MSG *m, const char *rcpt)
{
    const STRV *addrs = &m->snap->cf->bounce.complaint_addrs;

    if (m->outbound || addrs->n == 0 || m->snap->unsub_keys == NULL
        || (m->svc.suppress == NULL && !m->dry_run))
        return 0;
    for (size_t i = 0; i < addrs->n; i++)
        if (strcasecmp(addrs->v[i], rcpt) == 0) {
            strv_add(&m->arf.rcpts, rcpt);
            return 1;
        }
    return 0;
}

/* msg_arf_body - keep the body of a report, up to what arf_parse() reads */
void msg_arf_body(MSG *m, const unsigned char *data, size_t len)
{
    if (m->arf.rcpts.n > 0 && m->arf.body.len < ARF_MSG_MAX)
        (void) buf_append(&m->arf.body, data, len < ARF_MSG_MAX - m->arf.body.len ? len
                          : ARF_MSG_MAX - m->arf.body.len);
}

/* msg_arf_text - the header fields and the body as one message to parse */
static void msg_arf_text(const MSG *m, BUF *msg)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (buf_printf(msg, "%s:%s\r\n", m->fields[i].name, m->fields[i].value) < 0)
            break;
    (void) buf_puts(msg, "\r\n");
    if (m->arf.body.len)
        (void) buf_append(msg, m->arf.body.data, m->arf.body.len);
}

/* msg_arf_unsub - 1 if token is an unsubscribe token that verifies (into w) */
static int msg_arf_unsub(MSG *m, const char *token, MSG_ARF_WHO *w)
{
    UNSUB_PAYLOAD p;
    char why_mem[64];
    BUF why;

    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if (unsub_token_open(m->snap->unsub_keys, token, 0, (uint64_t) services_now(&m->svc), &p,
                         &why) != 0) {
        snprintf(w->refused, sizeof(w->refused), "List-Unsubscribe token refused: %s", why.data);
        return 0;
    }
    util_strlcpy(w->rcpt, p.rcpt, sizeof(w->rcpt));
    util_strlcpy(w->stream, p.stream, sizeof(w->stream));
    w->where = "list-unsubscribe";
    return 1;
}

/* msg_arf_uri - 1 if uri holds an unsubscribe token of ours that verifies */
static int msg_arf_uri(MSG *m, const char *uri, MSG_ARF_WHO *w)
{
    const TXCONF *cf = m->snap->cf;
    const UNSUB_ROUTES *rt = m->snap->unsub_routes;
    char token[UNSUB_TOKEN_MAX], addr[ARF_URI_MAX];
    int is_mailto = arf_mailto_addr(uri, addr, sizeof(addr)) == 0;
    int found = 0;

    if (is_mailto) {
        if (cf->unsub.mailto)
            found = unsub_mailto_token(cf->unsub.mailto, addr, token, sizeof(token));
        for (size_t i = 0; !found && rt && i < rt->n; i++)
            if (rt->r[i].mailto)
                found = unsub_mailto_token(rt->r[i].mailto, addr, token, sizeof(token));
    } else {
        if (cf->unsub.url)
            found = unsub_url_token(cf->unsub.url, uri, token, sizeof(token));
        for (size_t i = 0; !found && rt && i < rt->n; i++)
            found = unsub_url_token(rt->r[i].url, uri, token, sizeof(token));
    }
    return found && msg_arf_unsub(m, token, w);
}

/* msg_arf_rp - 1 if addr is a ReturnPath address whose token verifies */
static int msg_arf_rp(MSG *m, const char *addr, const char *where, MSG_ARF_WHO *w)
{
    char token[RP_TOKEN_MAX], why_mem[64];
    RP_PAYLOAD p;
    BUF why;

    if (m->snap->cf->bounce.return_path == NULL || addr[0] == 0
        || return_path_token(m->snap->cf->bounce.return_path, addr, token, sizeof(token)) != 1)
        return 0;
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if (rp_token_open(m->snap->unsub_keys, token, 0, (uint64_t) services_now(&m->svc), &p,
                      &why) != 0) {
        snprintf(w->refused, sizeof(w->refused), "%s token refused: %s", where, why.data);
        return 0;
    }
    util_strlcpy(w->rcpt, p.rcpt, sizeof(w->rcpt));
    util_strlcpy(w->stream, p.stream, sizeof(w->stream));
    w->where = where;
    return 1;
}

/* msg_arf_who - 1 if the original holds a token of ours that verifies */
static int msg_arf_who(MSG *m, const ARF_REPORT *rep, MSG_ARF_WHO *w)
{
    char uris[ARF_URIS_MAX][ARF_URI_MAX];
    size_t n = arf_uris(rep->list_unsub, uris, ARF_URIS_MAX);

    memset(w, 0, sizeof(*w));
    for (size_t i = 0; i < n; i++)
        if (msg_arf_uri(m, uris[i], w))
            return 1;
    return msg_arf_rp(m, rep->return_path, "return-path", w)
        || msg_arf_rp(m, rep->orig_mail_from, "original-mail-from", w);
}

/* msg_arf_reporter - who sent the report: its From domain, else its Reporting-MTA */
static const char *msg_arf_reporter(const ARF_REPORT *rep)
{
    return rep->reporter[0] ? rep->reporter : rep->reporting_mta[0] ? rep->reporting_mta : "unknown";
}

/* msg_arf_record - store what the report asks for; -1 if the list cannot */
static int msg_arf_record(MSG *m, const ARF_REPORT *rep, const MSG_ARF_WHO *w,
                          SUPPRESS_REASON reason)
{
    char evidence[1024];            /* suppress_record() cuts it to SUPPRESS_EVIDENCE_MAX */
    SUPPRESS_INFO in = { reason, evidence, 0 };
    BUF err;
    int rc;

    snprintf(evidence, sizeof(evidence), "%s; arrival=%s; reporter=%s; ua=%s", rep->feedback_type,
             rep->arrival_date[0] ? rep->arrival_date : "unknown",
             msg_arf_reporter(rep),
             rep->user_agent[0] ? rep->user_agent : "unknown");
    if (m->dry_run)
        return 0;
    buf_init(&err, 512);
    rc = suppress_record(m->svc.suppress, w->rcpt, w->stream, "arf", &in, &err);
    if (rc < 0)
        log_err("%s: complaint (%s) about rcpt=<%s> stream=%s: cannot record it: %s",
                msg_queueid(m), rep->feedback_type, w->rcpt, w->stream, err.data ? err.data : "");
    else
        msg_count_suppression(m, suppress_reason_name(reason));
    buf_free(&err);
    return rc;
}

/* msg_arf_act - what the feedback type asks for; the result counted, NULL if the list failed */
static const char *msg_arf_act(MSG *m, const ARF_REPORT *rep, const MSG_ARF_WHO *w)
{
    SUPPRESS_REASON reason = rep->type == ARF_TYPE_OPT_OUT ? SUPPRESS_UNSUBSCRIBE : SUPPRESS_COMPLAINT;

    if (rep->type != ARF_TYPE_ABUSE && rep->type != ARF_TYPE_OPT_OUT) {
        if (rep->type == ARF_TYPE_FRAUD || rep->type == ARF_TYPE_VIRUS)
            log_warn("%s: feedback report (%s) from %s: rcpt=<%s> stream=%s reports our mail as %s: "
                     "look at what was sent; not suppressed", msg_queueid(m), rep->feedback_type,
                     msg_arf_reporter(rep), w->rcpt, w->stream,
                     rep->feedback_type);
        else
            log_info("%s: feedback report (%s) from %s about rcpt=<%s> stream=%s: not a complaint, "
                     "nothing suppressed", msg_queueid(m), rep->feedback_type,
                     msg_arf_reporter(rep), w->rcpt, w->stream);
        msg_note(m, "complaint=%s rcpt=<%s> not-suppressed", arf_type_name(rep->type), w->rcpt);
        return "ignored";
    }
    if (msg_arf_record(m, rep, w, reason) < 0)
        return NULL;
    log_info("%s: complaint (%s) from %s: rcpt=<%s> stream=%s %s (reason=%s, token in %s)",
             msg_queueid(m), rep->feedback_type, msg_arf_reporter(rep),
             w->rcpt, w->stream, m->dry_run ? "would be suppressed (dry run: nothing written)"
             : "suppressed", suppress_reason_name(reason), w->where);
    msg_note(m, "complaint=%s suppressed=<%s> stream=%s reason=%s%s", rep->feedback_type, w->rcpt,
             w->stream, suppress_reason_name(reason), m->dry_run ? " not recorded (dry run)" : "");
    return rep->type == ARF_TYPE_OPT_OUT ? "unsubscribed" : "suppressed";
}

/* msg_arf_read - read the report and act on it; the result counted, NULL if the list failed */
static const char *msg_arf_read(MSG *m)
{
    ARF_REPORT rep;
    MSG_ARF_WHO w;
    BUF msg;

    buf_init(&msg, ARF_MSG_MAX + 256 * 1024);
    msg_arf_text(m, &msg);
    (void) arf_parse(msg.data ? msg.data : "", msg.len, &rep);
    buf_free(&msg);
    if (rep.status != ARF_OK) {
        log_info("%s: mail to ComplaintAddress %s: %s: dropped, nothing suppressed", msg_queueid(m),
                 m->arf.rcpts.v[0], arf_status_text(rep.status));
        msg_note(m, "complaint=unusable (%s)", arf_status_text(rep.status));
        return rep.status == ARF_ENCODING ? "unreadable" : "not-arf";
    }
    if (!msg_arf_who(m, &rep, &w)) {
        log_warn("%s: feedback report (%s) from %s: %s: nothing suppressed", msg_queueid(m),
                 rep.feedback_type, msg_arf_reporter(&rep),
                 w.refused[0] ? w.refused
                 : "no List-Unsubscribe or return path of ours in the enclosed message");
        msg_note(m, "complaint=%s no-token", arf_type_name(rep.type));
        return w.refused[0] ? "bad-token" : "no-token";
    }
    return msg_arf_act(m, &rep, &w);
}

/* msg_arf_eom - a report to a ComplaintAddress; 1 when that ends the message (*r) */
int msg_arf_eom(MSG *m, REPLY *r)
{
    const char *result;

    if (m->arf.rcpts.n == 0 || m->outbound)
        return 0;
    m->state = MSG_ST_DONE;
    if ((result = msg_arf_read(m)) == NULL) {
        msg_count_complaint(m, "failed");
        *r = msg_refuse(m, "store", msg_reply(REPLY_TEMPFAIL, MSG_WHY_SUPPRESS_DOWN));
        return 1;
    }
    msg_count_complaint(m, result);
    if (m->arf.rcpts.n >= m->nrcpt) {
        msg_note(m, "action=discard");
        msg_count_action(m, "discarded");
        *r = reply_make(REPLY_DISCARD, NULL, NULL, NULL);
        return 1;
    }
    for (size_t i = 0; i < m->arf.rcpts.n; i++)
        msg_op(m, MSG_RCPT_DELETE, m->arf.rcpts.v[i], NULL);
    msg_note(m, "complaint-addresses=%zu removed", m->arf.rcpts.n);
    *r = reply_continue();
    return 1;
}

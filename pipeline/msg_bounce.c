/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_bounce.c - bounces and complaints in the message pipeline: Gmail's
 * Feedback-ID header, the return path of single-recipient mail.
 *
 * SYNOPSIS
 *	#include "msg_int.h"
 *
 *	void	msg_bounce_init(MSG *m)
 *	void	msg_bounce_free(MSG *m)
 *	void	msg_bounce_eoh(MSG *m)
 *	void	msg_bounce_return_path(MSG *m)
 *	int	msg_bounce_rcpt(MSG *m, const char *rcpt)
 *	void	msg_bounce_body(MSG *m, const unsigned char *data, size_t len)
 *	int	msg_bounce_eom(MSG *m, REPLY *r)
 *	const char * msg_bounce_mail_from(const MSG *m)
 *
 *	#include "msg.h"
 *
 *	int	msg_bounce_report(const MSG *m)
 *
 * DESCRIPTION
 *	msg_bounce_eoh() runs at end of headers of outbound mail, after the
 *	suppressions and List-Unsubscribe and before the signers see any
 *	field: with FeedbackID set it adds Feedback-ID, the template filled
 *	in with the message's stream and From domain (feedback_id.c), so the
 *	signature covers it (SignHeaders must name feedback-id, which the
 *	configuration checks). An application's own Feedback-ID is kept:
 *	the header is not added twice.
 *
 *	msg_bounce_return_path() gives outbound mail with exactly one
 *	recipient and a sender that is neither null nor ReturnPathExempt
 *	the envelope sender ReturnPath makes of a return-path token
 *	(rp_token.c: the recipient, the stream, the original sender) and
 *	the From domain, so that a bounce comes back to this relay naming
 *	whom it is about. The alignment preflight then checks SPF of that
 *	address (msg.c); the change goes to the MTA at end of message
 *	(MSG_FROM_CHANGE, smfi_chgfrom()). Mail to several recipients keeps
 *	its sender: one return path names one recipient.
 *
 *	Inbound mail (not outbound), or mail with the null sender whose
 *	first recipient is such an address (the MTA's own bounce daemon,
 *	submitted locally), to an address of the ReturnPath form is a
 *	bounce: msg_bounce_rcpt() notes the first such recipient and its
 *	token, msg_bounce_body() keeps the body (at most DSN_MSG_MAX bytes),
 *	and msg_bounce_eom() reads the message as a DSN (dsn.c) and drops
 *	it (discard: a return path is no mailbox):
 *
 *	- a token that does not verify (forged, tampered, another relay's
 *	  keys) is logged and changes nothing;
 *	- a message that is not a DSN (an out-of-office, an auto-reply) is
 *	  logged and counted, and changes nothing;
 *	- a DSN of class dead (dsn.c: 5.1.1 and the like) suppresses the
 *	  token's recipient from the token's stream, reason bounce, with
 *	  the status and diagnostic as evidence and BounceSuppressFor as
 *	  expiry; when the list cannot record it the bounce is refused
 *	  451 4.3.0, so the reporting MTA tries again;
 *	- a soft bounce (classes full, transient, other) with
 *	  BounceSoftLimit N/period set is counted for the token's
 *	  recipient and stream in the suppression list
 *	  (suppress_soft_count(): distinct reports within the period, a
 *	  report known by the message and recipient it is about,
 *	  dsn_report_id() of the token and the returned original's
 *	  Message-ID, so that the delay warning and the failure of one
 *	  message count once, and so does one sent again after a 451);
 *	  the Nth suppresses as a dead address does, the
 *	  evidence "4.2.2; soft: 3 in 7d; DIAGNOSTIC" (the status first,
 *	  so the refusal names it); a list that cannot count refuses the
 *	  bounce 451 4.3.0 as above. Without BounceSoftLimit they are
 *	  logged only;
 *	- class policy (x.7.x, x.6.x, x.2.3, x.3.4: about the message or
 *	  its sender, not the address) is logged, never counted.
 *	The recipient is the token's, never one named in the report.
 *	A dry run (txmilter -t) reads the report (also without a list to
 *	consult) and says what it would suppress or count; it writes
 *	nothing.
 *	Each message handled is counted once by what it was
 *	(txmilter_bounces_total: the DSN's class, not_dsn or bad_token),
 *	each entry recorded under txmilter_suppressions_total{reason=
 *	"bounce"}; a report refused 451 4.3.0 is counted only as that
 *	refusal (reason store), since it comes back.
 *
 * DIAGNOSTICS
 *	A value that cannot be made (too long, or a stream that a header may
 *	not hold) is logged and left out; the summary says feedback-id=failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "feedback_id.h"
#include "fmt.h"
#include "log.h"
#include "msg_bounce.h"
#include "msg_int.h"
#include "msg_reply.h"
#include "ratespec.h"
#include "return_path.h"
#include "rp_token.h"
#include "suppress.h"
#include "unsub_msg.h"

/* msg_bounce_init - no return path given, no bounce read */
void msg_bounce_init(MSG *m)
{
    m->bounce.return_path[0] = 0;
    m->bounce.rcpt = NULL;
    m->bounce.token[0] = 0;
    buf_init(&m->bounce.dsn, DSN_MSG_MAX);     /* what dsn_parse() reads */
}

/* msg_bounce_free - what the step kept */
void msg_bounce_free(MSG *m)
{
    free(m->bounce.rcpt);
    m->bounce.rcpt = NULL;
    buf_free(&m->bounce.dsn);
}

/* msg_bounce_mail_from - the return path given, or NULL */
const char *msg_bounce_mail_from(const MSG *m)
{
    return m->bounce.return_path[0] ? m->bounce.return_path : NULL;
}

/* msg_bounce_report - 1 if the message is a bounce to the return path */
int msg_bounce_report(const MSG *m)
{
    return !m->outbound && m->bounce.rcpt != NULL;
}

/* msg_bounce_eoh - add Feedback-ID unless the application did */
void msg_bounce_eoh(MSG *m)
{
    const TXCONF *cf = m->snap->cf;
    char stream[HDR_LOCAL_MAX + HDR_DOMAIN_MAX + 2], value[FEEDBACK_ID_MAX];
    size_t i;

    if (cf->bounce.feedback_id == NULL)
        return;
    for (i = 0; i < m->nfields; i++)
        if (strcasecmp(m->fields[i].name, "Feedback-ID") == 0) {
            msg_note(m, "feedback-id=kept-existing");
            return;
        }
    unsub_stream(cf, m->author.local, m->author.domain, stream, sizeof(stream));
    if (feedback_id_expand(cf->bounce.feedback_id, stream, m->author.domain, value,
                           sizeof(value)) != 0) {
        log_warn("%s: Feedback-ID not added: the template FeedbackID does not fill in with "
                 "stream %s", msg_queueid(m), stream);
        msg_note(m, "feedback-id=failed");
        return;
    }
    if (msg_add_field(m, "Feedback-ID", value) < 0) {
        log_err("%s: Feedback-ID not added: no room for another header field", msg_queueid(m));
        msg_note(m, "feedback-id=failed");
        return;
    }
    msg_note(m, "feedback-id=added");
}

/* msg_bounce_return_path - the envelope sender of a single-recipient message */
void msg_bounce_return_path(MSG *m)
{
    const TXCONF *cf = m->snap->cf;
    char stream[HDR_LOCAL_MAX + HDR_DOMAIN_MAX + 2], token[RP_TOKEN_MAX], sender[ADDR_NORM_MAX];
    const char *at;

    m->bounce.return_path[0] = 0;
    if (cf->bounce.return_path == NULL || m->snap->unsub_keys == NULL)
        return;
    if (m->nrcpt != 1 || m->rcpt_norm.n != 1) {
        msg_note(m, "return-path=kept-%zu-recipients", m->rcpt_norm.n);
        return;
    }
    util_strlcpy(sender, m->sender, sizeof(sender));
    util_lower(sender);
    if (sender[0] == 0 || (at = strrchr(sender, '@')) == NULL) {
        msg_note(m, "return-path=kept-null-sender");
        return;
    }
    if (unsub_exempt(&m->snap->rp_exempt, sender, at + 1)) {
        msg_note(m, "return-path=exempt");
        return;
    }
    unsub_stream(cf, m->author.local, m->author.domain, stream, sizeof(stream));
    if (rp_token_seal(m->snap->unsub_keys, m->rcpt_norm.v[0], stream, sender,
                      (uint64_t) services_now(&m->svc), token, sizeof(token)) != 0
        || return_path_expand(cf->bounce.return_path, token, m->author.domain, m->bounce.return_path,
                              sizeof(m->bounce.return_path)) != 0) {
        m->bounce.return_path[0] = 0;
        log_warn("%s: return path not changed: the recipient, stream and sender do not fit "
                 "a token", msg_queueid(m));
        msg_note(m, "return-path=failed");
        return;
    }
    msg_op(m, MSG_FROM_CHANGE, m->bounce.return_path, NULL);
    msg_note(m, "return-path=<%s>", m->bounce.return_path);
}

/* msg_bounce_rcpt - 1 if rcpt (inbound) is a return-path address: noted for end of message */
int msg_bounce_rcpt(MSG *m, const char *rcpt)
{
    char token[sizeof(m->bounce.token)];

    if (m->snap->cf->bounce.return_path == NULL || m->snap->unsub_keys == NULL
        || (m->svc.suppress == NULL && !m->dry_run)
        || return_path_token(m->snap->cf->bounce.return_path, rcpt, token, sizeof(token)) != 1)
        return 0;
    if (m->bounce.rcpt == NULL) {
        m->bounce.rcpt = xstrdup(rcpt);
        util_strlcpy(m->bounce.token, token, sizeof(m->bounce.token));
    }
    if (m->outbound) {
        /* the MTA's own bounce (null sender, submitted locally): read, not signed */
        m->outbound = 0;
        msg_note(m, "bounce from the MTA itself: read as a DSN");
    }
    return 1;
}

/* msg_bounce_body - keep the body of a bounce, up to what dsn_parse() reads */
void msg_bounce_body(MSG *m, const unsigned char *data, size_t len)
{
    if (m->bounce.rcpt != NULL && m->bounce.dsn.len < DSN_MSG_MAX)
        (void) buf_append(&m->bounce.dsn, data, len < DSN_MSG_MAX - m->bounce.dsn.len ? len
                          : DSN_MSG_MAX - m->bounce.dsn.len);
}

/* msg_bounce_text - the header fields and the body as one message to parse */
static void msg_bounce_text(const MSG *m, BUF *msg)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (buf_printf(msg, "%s:%s\r\n", m->fields[i].name, m->fields[i].value) < 0)
            break;
    (void) buf_puts(msg, "\r\n");
    if (m->bounce.dsn.len)
        (void) buf_append(msg, m->bounce.dsn.data, m->bounce.dsn.len);
}

/* msg_bounce_record - suppress p's recipient for a dead address; -1 if the list cannot */
static int msg_bounce_record(MSG *m, const RP_PAYLOAD *p, const DSN_RESULT *d)
{
    char evidence[SUPPRESS_EVIDENCE_MAX];
    SUPPRESS_INFO in = { SUPPRESS_BOUNCE, evidence,
                         (uint64_t) m->snap->cf->bounce.suppress_for };
    BUF err;
    int rc;

    snprintf(evidence, sizeof(evidence), "%s; %s", d->status, d->diagnostic);
    buf_init(&err, 512);
    rc = suppress_record(m->svc.suppress, p->rcpt, p->stream, "dsn", &in, &err);
    if (rc < 0)
        log_err("%s: bounce for rcpt=<%s> stream=%s: cannot record it: %s", msg_queueid(m),
                p->rcpt, p->stream, err.data ? err.data : "");
    else
        log_info("%s: bounced: rcpt=<%s> stream=%s status=%s suppressed (reason=bounce)",
                 msg_queueid(m), p->rcpt, p->stream, d->status);
    buf_free(&err);
    return rc;
}

/* msg_bounce_soft - count a soft bounce (report id), suppress at
 * BounceSoftLimit; 1 suppressed, 0 counted, -1 the list cannot count or record */
static int msg_bounce_soft(MSG *m, const RP_PAYLOAD *p, const DSN_RESULT *d, const char *id)
{
    const CONF_BOUNCE *cb = &m->snap->cf->bounce;
    const char *status = d->status[0] ? d->status : d->action;
    char period[24], evidence[SUPPRESS_EVIDENCE_MAX];
    SUPPRESS_INFO in = { SUPPRESS_BOUNCE, evidence, (uint64_t) cb->suppress_for };
    BUF err;
    long n;

    ratespec_period_str(cb->soft_limit.period_ms, period, sizeof(period));
    buf_init(&err, 512);
    n = suppress_soft_count(m->svc.suppress, p->rcpt, p->stream, id,
                            cb->soft_limit.period_ms / 1000, &err);
    if (n >= (long) cb->soft_limit.limit) {
        /* the diagnostic may be cut: the evidence is bounded */
        fmt_trunc(evidence, sizeof(evidence), "%s; soft: %ld in %s; %s", status, n, period,
                  d->diagnostic);
        if (suppress_record(m->svc.suppress, p->rcpt, p->stream, "dsn", &in, &err) < 0)
            n = -1;
    }
    if (n < 0)
        log_err("%s: soft bounce for rcpt=<%s> stream=%s: cannot count or record it: %s",
                msg_queueid(m), p->rcpt, p->stream, err.data ? err.data : "");
    else if (n >= (long) cb->soft_limit.limit)
        log_info("%s: bounced: rcpt=<%s> stream=%s status=%s (%s): soft bounce %ld in %s, "
                 "BounceSoftLimit %u: suppressed (reason=bounce)", msg_queueid(m), p->rcpt,
                 p->stream, status, dsn_class_name(d->cls), n, period,
                 (unsigned) cb->soft_limit.limit);
    else
        log_info("%s: bounce for rcpt=<%s> stream=%s: %s status=%s (%s): soft bounce %ld in %s, "
                 "BounceSoftLimit %u: counted, not suppressed", msg_queueid(m), p->rcpt, p->stream,
                 d->action[0] ? d->action : "no action", status, dsn_class_name(d->cls), n,
                 period, (unsigned) cb->soft_limit.limit);
    buf_free(&err);
    return n < 0 ? -1 : n >= (long) cb->soft_limit.limit;
}

/* msg_bounce_is_soft - 1 for the classes BounceSoftLimit counts */
static int msg_bounce_is_soft(DSN_CLASS c)
{
    return c == DSN_CLASS_FULL || c == DSN_CLASS_TRANSIENT || c == DSN_CLASS_OTHER;
}

/* msg_bounce_act - what a DSN's class asks for; -1 if the list cannot record it */
static int msg_bounce_act(MSG *m, const RP_PAYLOAD *p, const DSN_RESULT *d, const char *id)
{
    const char *cls = dsn_class_name(d->cls), *st = d->status[0] ? d->status : "none";
    int soft = msg_bounce_is_soft(d->cls) && m->snap->cf->bounce.soft_limit.limit, rc;

    if (m->dry_run && (d->cls == DSN_CLASS_DEAD || soft)) {
        msg_note(m, "bounce=%s status=%s rcpt=<%s> stream=%s would be %s (dry run: nothing "
                 "written) action=discard", cls, st, p->rcpt, p->stream,
                 soft ? "counted towards BounceSoftLimit" : "suppressed");
        return 0;
    }
    if (d->cls == DSN_CLASS_DEAD) {
        if (msg_bounce_record(m, p, d) < 0)
            return -1;
        msg_note(m, "bounce=dead status=%s suppressed=<%s> action=discard", d->status, p->rcpt);
        msg_count_suppression(m, suppress_reason_name(SUPPRESS_BOUNCE));
    } else if (soft) {
        if ((rc = msg_bounce_soft(m, p, d, id)) < 0)
            return -1;
        msg_note(m, "bounce=%s status=%s %s=<%s> action=discard", cls, st,
                 rc ? "suppressed" : "counted", p->rcpt);
        if (rc)
            msg_count_suppression(m, suppress_reason_name(SUPPRESS_BOUNCE));
    } else {
        log_info("%s: bounce for rcpt=<%s> stream=%s: %s status=%s (%s): counted, not suppressed",
                 msg_queueid(m), p->rcpt, p->stream, d->action[0] ? d->action : "no action", st,
                 cls);
        msg_note(m, "bounce=%s status=%s action=discard", cls, st);
    }
    return 0;
}

/* msg_bounce_eom - read a bounce to the return path; 1 when that ends the message (*r) */
int msg_bounce_eom(MSG *m, REPLY *r)
{
    char why_mem[64], id[DSN_REPORT_ID_MAX];
    RP_PAYLOAD p;
    DSN_RESULT d;
    BUF msg, why;

    if (m->bounce.rcpt == NULL || m->outbound)
        return 0;
    m->state = MSG_ST_DONE;
    *r = reply_make(REPLY_DISCARD, NULL, NULL, NULL);
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if (rp_token_open(m->snap->unsub_keys, m->bounce.token, 0, (uint64_t) services_now(&m->svc), &p,
                      &why) != 0) {
        log_warn("%s: bounce to %s: token refused (%s): ignored, nothing suppressed",
                 msg_queueid(m), m->bounce.rcpt, why.data);
        msg_note(m, "bounce=bad-token action=discard");
        msg_count_bounce(m, "bad_token");
        msg_count_action(m, "discarded");
        return 1;
    }
    buf_init(&msg, DSN_MSG_MAX + 256 * 1024);
    msg_bounce_text(m, &msg);
    (void) dsn_parse(msg.data ? msg.data : "", msg.len, p.rcpt, &d);
    dsn_report_id(m->bounce.token, d.orig_msgid, id, sizeof(id));
    buf_free(&msg);
    if (!d.is_dsn) {
        log_info("%s: mail to the return path of rcpt=<%s> is no DSN (an auto-reply?): dropped",
                 msg_queueid(m), p.rcpt);
        msg_note(m, "bounce=not-dsn action=discard");
        msg_count_bounce(m, "not_dsn");
    } else if (msg_bounce_act(m, &p, &d, id) < 0) {
        *r = msg_refuse(m, "store", msg_reply(REPLY_TEMPFAIL, MSG_WHY_SUPPRESS_DOWN));
        return 1;
    }
    if (d.is_dsn)
        msg_count_bounce(m, dsn_class_name(d.cls));
    msg_count_action(m, "discarded");
    return 1;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg.c - one message through txmilter, from MAIL FROM to end of message:
 * the steps composed.
 *
 * SYNOPSIS
 *	#include "msg.h"
 *
 *	MSG *	msg_new(SNAPSHOT *snap, const SERVICES *svc,
 *			const MSG_CONN *conn, const char *envfrom)
 *	void	msg_free(MSG *m)
 *	void	msg_set_queueid(MSG *m, const char *qid)
 *	const char * msg_queueid(const MSG *m)
 *	REPLY	msg_mail(MSG *m)
 *	void	msg_set_dry_run(MSG *m)
 *	REPLY	msg_rcpt(MSG *m, const char *rcpt, const char *rcpt_addr)
 *	int	msg_watched(const MSG *m)
 *	const char * msg_quarantine(const MSG *m)
 *	int	msg_outbound(const MSG *m, const char **why)
 *	REPLY	msg_header(MSG *m, const char *name, const char *value)
 *	REPLY	msg_eoh(MSG *m)
 *	REPLY	msg_body(MSG *m, const unsigned char *data, size_t len)
 *	int	msg_wants_body(const MSG *m)
 *	REPLY	msg_eom(MSG *m)
 *	size_t	msg_hdrops(const MSG *m, const MSG_HDROP **ops)
 *	void	msg_applied(MSG *m)
 *	REPLY	msg_unapplied(MSG *m)
 *	const char * msg_summary(MSG *m)
 *
 *	#include "msg_int.h"
 *
 *	void	msg_note(MSG *m, const char *fmt, ...)
 *	REPLY	msg_refuse(MSG *m, const char *reason, REPLY r)
 *	void	msg_op(MSG *m, MSG_HDROP_KIND kind, const char *name,
 *			const char *value)
 *	void	msg_op_delete(MSG *m, const char *name, int index)
 *	int	msg_add_field(MSG *m, const char *name, const char *value)
 *
 * DESCRIPTION
 *	msg_new() takes the snapshot the message will use throughout, a
 *	copy of the program's services (rate store, suppression list) and
 *	decides whether the message is outbound: an SMTP-authenticated
 *	client, a {daemon_name} listed in MTA, or a client in InternalHosts.
 *	Anything else is passed untouched (REPLY_ACCEPT) and says why. Each
 *	step then sets up its own part of the message (msg_int.h).
 *
 *	msg_rcpt() offers each recipient to the steps in turn: a feedback
 *	report (msg_arf.c), a bounce (msg_bounce.c), an unsubscribe request
 *	by mail (msg_unsub.c), else the recipient is normalised and decided
 *	against the rate policy (msg_rate.c).
 *
 *	msg_header() keeps header fields, exactly as received, up to
 *	MaximumHeaders bytes; keys cannot be chosen before the From field is
 *	seen, and it may come last. msg_eoh() checks the From field (exactly
 *	one, with one mailbox), then runs the steps in order: signers started
 *	(msg_sign.c), suppressions and List-Unsubscribe, Feedback-ID and the
 *	return path, the alignment preflight (msg_align.c), and last the header fed to the
 *	signers, with the fields the steps added through msg_add_field().
 *	msg_body() hands body chunks to the steps that read it; msg_eom()
 *	lets a step that consumes the message end it (a bounce, a report,
 *	unsubscribe requests, no recipient left), else finishes the
 *	signatures and lists the header changes: DKIM-Signature fields at
 *	the top, added fields at the end, recipients removed.
 *
 *	What became of such a message is counted only once the MTA has
 *	taken the changes: msg_applied() counts it (signed, accept-unsigned,
 *	quarantined); msg_unapplied(), when the MTA refused one that the
 *	message cannot go without (a DKIM-Signature), counts it tempfailed
 *	with reason unapplied and returns the 451 4.3.0 to give.
 *
 *	msg_note(), msg_refuse(), msg_op() and msg_add_field() are what the
 *	steps share: the summary line, a refusal, the changes for the end of
 *	the message, a field to add.
 *
 * DIAGNOSTICS
 *	Every refusal is a REPLY with an SMTP reply code, an enhanced
 *	status code and a reason, also noted in the summary; a signing
 *	error follows On-SignatureError. msg_add_field() returns -1 once the
 *	signers have the header, when MSG_MAX_ADDED fields were added, or
 *	for a bad field name or a value whose line break does not fold.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr_norm.h"
#include "addr_smtp.h"
#include "hdr.h"
#include "log.h"
#include "msg.h"
#include "msg_align.h"
#include "msg_arf.h"
#include "msg_bounce.h"
#include "msg_int.h"
#include "msg_rate.h"
#include "msg_reply.h"
#include "msg_sign.h"
#include "msg_unsub.h"
#include "sign.h"

/* msg_note - append "; text" to the summary */
void msg_note(MSG *m, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (m->summary.len)
        (void) buf_puts(&m->summary, " ");
    (void) buf_puts(&m->summary, line);
}

/* msg_decide_outbound - authenticated, listed daemon, or internal client */
static void msg_decide_outbound(MSG *m)
{
    const MSG_CONN *c = &m->conn;

    if (c->auth_authen[0]) {
        m->outbound = 1;
        snprintf(m->why, sizeof(m->why), "authenticated as %s", c->auth_authen);
    } else if (c->daemon_name[0] && strv_contains_ci(&m->snap->mta, c->daemon_name)) {
        m->outbound = 1;
        snprintf(m->why, sizeof(m->why), "daemon %s is listed in MTA", c->daemon_name);
    } else if (netlist_match_str(m->snap->internal, c->addr[0] ? c->addr : NULL,
                                 c->hostname[0] ? c->hostname : NULL)) {
        m->outbound = 1;
        snprintf(m->why, sizeof(m->why), "internal client %s", c->addr[0] ? c->addr : c->hostname);
    } else {
        m->outbound = 0;
        snprintf(m->why, sizeof(m->why), "client %s [%s] is not in InternalHosts, not authenticated, "
                 "and its daemon is not listed in MTA",
                 c->hostname[0] ? c->hostname : "unknown", c->addr[0] ? c->addr : "no address");
    }
}

/* msg_read_sender - the sender as the MTA read it (or we), normalised */
static void msg_read_sender(MSG *m, char *norm)
{
    BUF err;

    buf_init(&err, sizeof(m->sender_bad));
    if (addr_smtp_norm(m->conn.has_mail_addr ? m->conn.mail_addr : NULL, m->envfrom,
                       &m->snap->norm, m->sender, norm, &err) < 0) {
        util_strlcpy(m->sender_bad, err.len ? err.data : "bad address", sizeof(m->sender_bad));
        util_strlcpy(m->sender, m->envfrom, sizeof(m->sender));
        util_strlcpy(norm, m->envfrom, ADDR_NORM_MAX);
    } else {
        log_debug("sender %s read as <%s>%s, normalised <%s>", m->envfrom, m->sender,
                  m->conn.has_mail_addr ? " by the MTA" : "", norm);
    }
    buf_free(&err);
}

MSG *msg_new(SNAPSHOT *snap, const SERVICES *svc, const MSG_CONN *conn, const char *envfrom)
{
    MSG *m = xcalloc(1, sizeof(*m));
    char sender_norm[ADDR_NORM_MAX];

    atomic_fetch_add(&snap->refs, 1);
    m->snap = snap;
    if (svc)
        m->svc = *svc;
    m->conn = *conn;
    m->envfrom = xstrdup(envfrom ? envfrom : "");
    buf_init(&m->summary, MSG_SUMMARY_MAX);
    buf_init(&m->err, 1024);
    msg_decide_outbound(m);
    msg_read_sender(m, sender_norm);
    strv_init(&m->rcpt_given);
    strv_init(&m->rcpt_norm);
    m->watched = !m->outbound && (snap->cf->unsub.mailto != NULL || snap->unsub_routes != NULL
                                  || (snap->cf->bounce.return_path && snap->unsub_keys)
                                  || (snap->cf->bounce.complaint_addrs.n && snap->unsub_keys))
        && m->svc.suppress != NULL;
    msg_sign_init(m);
    msg_align_init(m);
    msg_rate_init(m, sender_norm);
    msg_unsub_init(m);
    msg_bounce_init(m);
    msg_arf_init(m);
    /* libmilter gives "<a@b>", txmilter -t what --from says: one format in the log */
    msg_note(m, m->envfrom[0] == '<' ? "from=%s" : "from=<%s>", m->envfrom);
    msg_note(m, "%s (%s)", m->outbound ? "outbound" : "not outbound", m->why);
    if (!m->outbound)
        msg_count_action(m, "not-outbound");
    return m;
}

void msg_free(MSG *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->nfields; i++) {
        free(m->fields[i].name);
        free(m->fields[i].value);
    }
    free(m->fields);
    for (i = 0; i < m->nadded; i++) {
        free(m->added[i].name);
        free(m->added[i].value);
    }
    for (i = 0; i < m->nops; i++) {
        free(m->ops[i].name);
        free(m->ops[i].value);
    }
    free(m->ops);
    msg_arf_free(m);
    msg_bounce_free(m);
    msg_unsub_free(m);
    msg_rate_free(m);
    msg_sign_free(m);
    strv_free(&m->rcpt_given);
    strv_free(&m->rcpt_norm);
    free(m->from_value);
    free(m->envfrom);
    buf_free(&m->summary);
    buf_free(&m->err);
    snapshot_release(m->snap);
    free(m);
}

void msg_set_queueid(MSG *m, const char *qid)
{
    if (qid && *qid)
        util_strlcpy(m->qid, qid, sizeof(m->qid));
}

const char *msg_queueid(const MSG *m)
{
    return m->qid[0] ? m->qid : "NOQUEUE";
}

/* msg_op - append a change for the end of the message */
void msg_op(MSG *m, MSG_HDROP_KIND kind, const char *name, const char *value)
{
    if (m->nops == m->capops) {
        m->capops = m->capops ? 2 * m->capops : 8;
        m->ops = xrealloc(m->ops, m->capops * sizeof(MSG_HDROP));
    }
    m->ops[m->nops].kind = kind;
    m->ops[m->nops].name = xstrdup(name);
    m->ops[m->nops].value = xstrdup(value ? value : "");
    m->ops[m->nops].index = 0;
    m->nops++;
}

/* msg_op_delete - a field to remove at the end of the message */
void msg_op_delete(MSG *m, const char *name, int index)
{
    msg_op(m, MSG_HDR_DELETE, name, NULL);
    m->ops[m->nops - 1].index = index;
}

REPLY msg_mail(MSG *m)
{
    char bare[ADDR_NORM_MAX];

    if (!m->outbound || m->sender_bad[0] == 0)
        return reply_continue();
    addr_smtp_bare(m->envfrom, bare, sizeof(bare));
    log_info("%s: from=%s: refused: %s", msg_queueid(m), m->envfrom, m->sender_bad);
    return msg_refuse(m, "sender", msg_reply(REPLY_REJECT, MSG_WHY_BAD_SENDER, bare, m->sender_bad));
}

/* msg_set_dry_run - decide everything, record nothing (txmilter -t) */
void msg_set_dry_run(MSG *m)
{
    m->dry_run = 1;
}

/* msg_rcpt_decide - msg_rcpt() untimed */
static REPLY msg_rcpt_decide(MSG *m, const char *rcpt, const char *rcpt_addr)
{
    REPLY refused;
    REPLY recorded = reply_continue();
    char norm[ADDR_NORM_MAX], addr[ADDR_NORM_MAX];
    BUF err;
    int u, ok;

    buf_init(&err, 256);
    ok = addr_smtp_norm(rcpt_addr, rcpt, &m->snap->norm, addr, norm, &err) == 0 && norm[0];
    if (ok)
        log_debug("%s: rcpt %s read as <%s>%s, normalised <%s>", msg_queueid(m), rcpt, addr,
                  rcpt_addr ? " by the MTA" : "", norm);
    m->nrcpt++;
    /* the token is case-sensitive and Postfix's {rcpt_addr} is lowercased
     * (its resolver's form): match the argument as smtpd reads it */
    if (addr_smtp_extract(rcpt, addr, sizeof(addr), NULL) < 0)
        util_strlcpy(addr, rcpt, sizeof(addr));
    if (msg_arf_rcpt(m, addr)) {
        buf_free(&err);
        return reply_continue();            /* a feedback report: read at end of message */
    }
    if ((!m->outbound || (m->sender[0] == 0 && m->nrcpt == 1)) && msg_bounce_rcpt(m, addr)) {
        buf_free(&err);
        return reply_continue();            /* a bounce: read at end of message */
    }
    if ((u = msg_unsub_rcpt(m, addr, recorded.text, sizeof(recorded.text))) > 0) {
        buf_free(&err);
        return recorded;
    }
    if (u < 0 || !m->outbound || !ok) {
        REPLY rr = reply_continue();

        if (u < 0) {
            m->nrcpt--;
            rr = msg_reply(REPLY_TEMPFAIL, MSG_WHY_UNSUB_UNSTORED);
        } else if (m->outbound) {
            rr = msg_rate_bad_rcpt(m, rcpt, err.len ? err.data : "empty address");
        }
        buf_free(&err);
        return rr;
    }
    buf_free(&err);
    if (!msg_rate_rcpt(m, rcpt, norm, &refused))
        return refused;
    strv_add(&m->rcpt_given, rcpt);
    strv_add(&m->rcpt_norm, norm);
    return reply_continue();
}

REPLY msg_rcpt(MSG *m, const char *rcpt, const char *rcpt_addr)
{
    double t0 = msg_stage_begin(m);
    REPLY r = msg_rcpt_decide(m, rcpt, rcpt_addr);

    msg_stage_end(m, "rcpt", t0);
    return r;
}

int msg_watched(const MSG *m)
{
    return m->watched;
}

const char *msg_quarantine(const MSG *m)
{
    const char *rule = msg_rate_quarantine(m);

    return rule ? rule : msg_align_quarantine(m);
}

int msg_outbound(const MSG *m, const char **why)
{
    if (why)
        *why = m->why;
    return m->outbound;
}

/* msg_longest_line - the longest physical line of a field, in bytes
 * without its line end (RFC 5322 2.1.1 caps it at 998) */
static size_t msg_longest_line(const char *name, const char *value)
{
    size_t longest = 0, cur = strlen(name) + 1;

    for (const char *p = value; *p; p++) {
        if (*p == '\n') {
            if (cur > longest)
                longest = cur;
            cur = 0;
        } else if (*p != '\r')
            cur++;
    }
    return cur > longest ? cur : longest;
}

/* msg_header - keep one field until the end of the header */
REPLY msg_header(MSG *m, const char *name, const char *value)
{
    size_t add = strlen(name) + strlen(value) + 3;

    if (m->state != MSG_ST_HEADERS || m->header_overflow)
        return reply_continue();
    if (m->header_bytes + add > m->snap->cf->daemon.max_headers) {
        /* Refused at end of header, once, with the reason. */
        m->header_overflow = 1;
        return reply_continue();
    }
    m->header_bytes += add;
    if (m->nfields == m->capfields) {
        m->capfields = m->capfields ? 2 * m->capfields : 32;
        m->fields = xrealloc(m->fields, m->capfields * sizeof(MSG_FIELD));
    }
    m->fields[m->nfields].name = xstrdup(name);
    m->fields[m->nfields].value = xstrdup(value);
    m->nfields++;
    if (strcasecmp(name, "From") == 0) {
        if (m->nfrom++ == 0)
            m->from_value = xstrdup(value);
    }
    if (!m->long_line && msg_longest_line(name, value) > 998)
        m->long_line = 1;
    return reply_continue();
}

/* msg_refuse - a refusal with its reason also in the summary */
REPLY msg_refuse(MSG *m, const char *reason, REPLY r)
{
    msg_count_refusal(m, reason);
    msg_count_action(m, r.verdict == REPLY_REJECT ? "rejected" : "tempfailed");
    msg_note(m, "action=%s reason=\"%s\"", r.verdict == REPLY_REJECT ? "reject" : "tempfail", r.text);
    m->state = MSG_ST_DONE;
    return r;
}

/* msg_multiple_from - n From fields or mailboxes (why): On-MultipleFrom */
static REPLY msg_multiple_from(MSG *m, MSG_WHY why, int n)
{
    enum conf_action act = m->snap->cf->sign.on_multifrom;
    REPLY r = msg_reply(act == CONF_ACT_TEMPFAIL ? REPLY_TEMPFAIL : REPLY_REJECT, why, n);

    if (act == CONF_ACT_ACCEPT) {
        /* The first mailbox decides keys and alignment; receivers that
         * apply RFC 7489 6.6.1 will still refuse the message. */
        log_warn("%s: %s: accepted (On-MultipleFrom accept), the first mailbox is used",
                 msg_queueid(m), r.text);
        msg_note(m, "warning=multiple-from");
        return reply_continue();
    }
    return msg_refuse(m, "from", r);
}

/* msg_check_from - exactly one From field with exactly one mailbox */
static REPLY msg_check_from(MSG *m)
{
    REPLY r;
    int n;

    if (m->nfrom == 0)
        return msg_refuse(m, "from", msg_reply(REPLY_REJECT, MSG_WHY_NO_FROM));
    /* Every From field must parse, whatever On-MultipleFrom says: a
     * receiver may take the author from any of them. */
    for (size_t i = 0; i < m->nfields; i++) {
        if (strcasecmp(m->fields[i].name, "From") != 0)
            continue;
        if ((n = hdr_parse_mailboxes(m->fields[i].value, NULL)) < 0)
            return msg_refuse(m, "from", msg_reply(REPLY_REJECT, MSG_WHY_BAD_FROM, hdr_strerror(n)));
    }
    if (m->nfrom > 1 && (r = msg_multiple_from(m, MSG_WHY_FROM_FIELDS, m->nfrom)).verdict != REPLY_CONTINUE)
        return r;
    n = hdr_parse_mailboxes(m->from_value, &m->author);
    if (n == 0)
        return msg_refuse(m, "from", msg_reply(REPLY_REJECT, MSG_WHY_FROM_EMPTY));
    if (n > 1 && (r = msg_multiple_from(m, MSG_WHY_FROM_MAILBOXES, n)).verdict != REPLY_CONTINUE)
        return r;
    msg_note(m, "header-from=<%s@%s>", m->author.local, m->author.domain);
    return reply_continue();
}

/* msg_value_ok - 1 if every line break of value folds (is followed by
 * white space): the value is one field */
static int msg_value_ok(const char *value)
{
    for (const char *p = value; *p; p++)
        if ((*p == '\r' && p[1] != '\n') || (*p == '\n' && p[1] != ' ' && p[1] != '\t'))
            return 0;
    return 1;
}

/* msg_add_field - a field txmilter adds, until the signers have the header */
int msg_add_field(MSG *m, const char *name, const char *value)
{
    if (m->added_closed || m->state == MSG_ST_DONE || m->nadded >= MSG_MAX_ADDED
        || name == NULL || !hdr_valid_name(name) || value == NULL || !msg_value_ok(value))
        return -1;
    m->added[m->nadded].name = xstrdup(name);
    m->added[m->nadded].value = xstrdup(value);
    m->nadded++;
    return 0;
}

/* msg_eoh_decide - msg_eoh() untimed */
static REPLY msg_eoh_decide(MSG *m)
{
    REPLY r;

    if (m->state != MSG_ST_HEADERS)
        return reply_continue();
    if (!m->outbound) {
        /* followed only for unsubscribe requests by mail */
        m->state = MSG_ST_BODY;
        if (msg_unsub_requests(m) == 0 && !msg_bounce_report(m) && !msg_complaint(m)) {
            m->state = MSG_ST_DONE;
            return reply_make(REPLY_ACCEPT, NULL, NULL, NULL);
        }
        return reply_continue();
    }
    if (m->header_overflow)
        return msg_refuse(m, "size", msg_reply(REPLY_REJECT, MSG_WHY_HEADER_SIZE,
                                               m->snap->cf->daemon.max_headers));
    m->state = MSG_ST_BODY;
    if ((r = msg_check_from(m)).verdict != REPLY_CONTINUE)
        return r;
    if (m->long_line) {
        /* Postfix's SMTP client folds such lines (smtp_line_length_limit),
         * which breaks every signature made over the unfolded field. */
        log_warn("%s: a header line is longer than 998 bytes (RFC 5322 2.1.1): relays will fold it "
                 "and receivers will find the DKIM signature broken", msg_queueid(m));
        msg_note(m, "warning=header-line-over-998");
    }
    if ((r = msg_sign_start(m)).verdict != REPLY_CONTINUE)
        return r;
    if ((r = msg_unsub_eoh(m)).verdict != REPLY_CONTINUE)
        return r;
    msg_bounce_eoh(m);                      /* Feedback-ID, before the signers see the fields */
    msg_bounce_return_path(m);              /* before the preflight judges SPF of MAIL FROM */
    if ((r = msg_align_preflight(m)).verdict != REPLY_CONTINUE)
        return r;
    return msg_sign_header(m);
}

REPLY msg_eoh(MSG *m)
{
    double t0 = msg_stage_begin(m);
    REPLY r = msg_eoh_decide(m);

    m->added_closed = 1;                    /* the signers have the header */

    msg_stage_end(m, "eoh", t0);
    return r;
}

REPLY msg_body(MSG *m, const unsigned char *data, size_t len)
{
    if (m->state != MSG_ST_BODY)
        return reply_continue();
    msg_bounce_body(m, data, len);
    msg_arf_body(m, data, len);
    return msg_sign_body(m, data, len);
}

int msg_wants_body(const MSG *m)
{
    return m->state == MSG_ST_BODY && (msg_sign_active(m) || msg_bounce_report(m)
                                       || msg_complaint(m));
}

/* msg_eom_decide - msg_eom() untimed */
static REPLY msg_eom_decide(MSG *m)
{
    REPLY r;

    if (m->state == MSG_ST_HEADERS) {
        r = msg_eoh(m);                     /* a message without a body */
        if (r.verdict != REPLY_CONTINUE)
            return r;
    }
    if (m->state != MSG_ST_BODY)
        return reply_continue();
    if (msg_bounce_eom(m, &r) || msg_arf_eom(m, &r) || msg_unsub_eom(m, &r)
        || msg_rate_eom(m, &r))
        return r;
    m->state = MSG_ST_DONE;
    if ((r = msg_sign_eom(m)).verdict != REPLY_CONTINUE)
        return r;
    for (size_t i = 0; i < m->nadded; i++) {
        msg_op(m, MSG_HDR_APPEND, m->added[i].name, m->added[i].value);
        msg_note(m, "added=%s", m->added[i].name);
    }
    msg_rate_removals(m);
    msg_note(m, "rcpts=%zu action=%s", m->nrcpt, msg_sign_active(m) ? "signed" : "accept-unsigned");
    m->action = msg_quarantine(m) ? "quarantined" : msg_sign_active(m) ? "signed" : "accept-unsigned";
    return reply_continue();
}

/* msg_eom - finish signatures and list the header changes */
REPLY msg_eom(MSG *m)
{
    double t0 = msg_stage_begin(m);
    REPLY r = msg_eom_decide(m);

    msg_stage_end(m, "eom", t0);
    return r;
}

size_t msg_hdrops(const MSG *m, const MSG_HDROP **ops)
{
    *ops = m->ops;
    return m->nops;
}

/* msg_applied - the MTA took the changes: what became of the message, counted */
void msg_applied(MSG *m)
{
    if (m->action)
        msg_count_action(m, m->action);
}

/* msg_unapplied - the MTA refused a change the message needs: 451 4.3.0, counted */
REPLY msg_unapplied(MSG *m)
{
    m->action = NULL;
    return msg_refuse(m, "unapplied", msg_reply(REPLY_TEMPFAIL, MSG_WHY_UNAPPLIED));
}

const char *msg_summary(MSG *m)
{
    return m->summary.data ? m->summary.data : "";
}

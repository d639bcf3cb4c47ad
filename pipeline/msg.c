/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg.c - one message through txmilter, from MAIL FROM to end of message.
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
 *	int	msg_complaint(const MSG *m)
 *	int	msg_bounce_report(const MSG *m)
 *	const char * msg_quarantine(const MSG *m)
 *	int	msg_outbound(const MSG *m, const char **why)
 *	REPLY	msg_header(MSG *m, const char *name, const char *value)
 *	int	msg_add_header(MSG *m, const char *name, const char *value)
 *	REPLY	msg_eoh(MSG *m)
 *	REPLY	msg_body(MSG *m, const unsigned char *data, size_t len)
 *	int	msg_wants_body(const MSG *m)
 *	REPLY	msg_eom(MSG *m)
 *	size_t	msg_hdrops(const MSG *m, const MSG_HDROP **ops)
 *	const char * msg_summary(MSG *m)
 *
 * DESCRIPTION
 *	msg_new() takes the snapshot the message will use throughout, a
 *	copy of the program's services (rate store, suppression list) and
 *	decides whether the message is outbound: an SMTP-authenticated
 *	client, a {daemon_name} listed in MTA, or a client in InternalHosts.
 *	Anything else is passed untouched (REPLY_ACCEPT) and says why.
 *
 *	msg_header() keeps header fields, exactly as received, up to
 *	MaximumHeaders bytes; keys cannot be chosen before the From field is
 *	seen, and it may come last. msg_eoh() checks the From field (exactly
 *	one, with one mailbox), looks up the keys, starts one signature per
 *	key and feeds it every field, then the fields added through
 *	msg_add_header(). msg_body() streams body chunks into the signers;
 *	nothing of the body is kept. msg_eom() finishes the signatures and
 *	lists the header changes: DKIM-Signature fields at the top, added
 *	fields at the end.
 *
 *	Every refusal carries an SMTP reply with an enhanced status code and
 *	a reason; every outcome is in the summary line (msg_summary()).
 *
 * DIAGNOSTICS
 *	Every refusal is a REPLY with an SMTP reply code, an enhanced
 *	status code and a reason, also noted in the summary; a signing
 *	error follows On-SignatureError. msg_add_header() returns -1 when
 *	called after the end of the header or with a bad field name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hdr.h"
#include "keytable.h"
#include "log.h"
#include "msg.h"
#include "msg_int.h"
#include "msg_reply.h"
#include "preflight.h"
#include "rate_txn.h"
#include "ratelimit.h"
#include "addr_norm.h"
#include "addr_smtp.h"
#include "sign.h"
#include "suppress.h"
#include "unsub_msg.h"



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
    strv_init(&m->rcpt_bad);
    strv_init(&m->unsub_rcpts);
    m->watched = !m->outbound && (snap->cf->unsub.mailto != NULL || snap->unsub_routes != NULL
                                  || (snap->cf->bounce.return_path && snap->unsub_keys)
                                  || (snap->cf->bounce.complaint_addrs.n && snap->unsub_keys))
        && m->svc.suppress != NULL;
    buf_init(&m->dsn, 1024 * 1024);        /* DSN_MSG_MAX: what dsn_parse() reads */
    strv_init(&m->arf_rcpts);
    buf_init(&m->arf, 1024 * 1024);        /* ARF_MSG_MAX: what arf_parse() reads */
    if (m->outbound && snap->policy)
        m->rate = rate_txn_new(snap->policy, &snap->norm, sender_norm, conn->addr, conn->auth_authen,
                               conn->non_smtp);
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
    rate_txn_free(m->rate, m->svc.rate);
    for (i = 0; i < m->rcpt_norm.n; i++)
        rate_txn_sup_free(&m->rcpt_sup[i]);
    free(m->rcpt_sup);
    strv_free(&m->rcpt_given);
    strv_free(&m->rcpt_norm);
    strv_free(&m->rcpt_bad);
    strv_free(&m->unsub_rcpts);
    free(m->rp_rcpt);
    buf_free(&m->dsn);
    strv_free(&m->arf_rcpts);
    buf_free(&m->arf);
    free(m->field_dropped);
    sign_free(m->signers);
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

/* msg_bad_rcpt - an outbound recipient that cannot be normalised: never
 * counted under a spelling of its own; non-SMTP ones are removed later */
static REPLY msg_bad_rcpt(MSG *m, const char *rcpt, const char *why)
{
    char bare[ADDR_NORM_MAX];

    addr_smtp_bare(rcpt, bare, sizeof(bare));
    log_info("%s: rcpt=%s: refused: %s%s", msg_queueid(m), rcpt, why,
             m->conn.non_smtp ? " (non-SMTP: removed at the end)" : "");
    m->nrcpt--;
    msg_count_refusal(m, "recipient");
    if (m->conn.non_smtp) {
        strv_add(&m->rcpt_bad, rcpt);
        return reply_continue();
    }
    return msg_reply(REPLY_REJECT, MSG_WHY_BAD_RCPT, bare, why);
}

/* msg_set_dry_run - decide everything, record nothing (txmilter -t) */
void msg_set_dry_run(MSG *m)
{
    m->dry_run = 1;
}

/* msg_rate - the rate decision of one recipient: 1 to go on, 0 with *r
 * set (refused, or deferred to the end) */
static int msg_rate(MSG *m, const char *rcpt, const char *norm, RL_SUP *sup, REPLY *r)
{
    RATE_RESULT rr;
    double t0 = m->dry_run || m->svc.rate == NULL ? 0 : msg_stage_begin(m);

    /* the suppressions come with the rate decision when the store can (one
     * round trip); a dry run asks no store: a shared Redis must not lose
     * quota to it */
    rr = rate_txn_rcpt_sup(m->rate, m->dry_run ? NULL : m->svc.rate, rcpt, norm,
                           msg_queueid(m), m->svc.suppress && !m->dry_run ? sup : NULL);
    msg_stage_end(m, "store", t0);
    msg_count_rate(m);
    switch (rr.outcome) {
    case RATE_TEMPFAIL:
    case RATE_REJECT:
        m->nrcpt--;
        msg_count_refusal(m, rr.reason == RATE_WHY_STORE ? "store" : "ratelimit");
        *r = msg_reply_rate(&rr);
        return 0;
    case RATE_DEFERRED:
        msg_count_refusal(m, "ratelimit");
        *r = reply_continue();              /* removed at the end: not a recipient */
        return 0;
    default:
        return 1;
    }
}

/* msg_rcpt_decide - msg_rcpt() untimed */
static REPLY msg_rcpt_decide(MSG *m, const char *rcpt, const char *rcpt_addr)
{
    REPLY refused;
    REPLY recorded = reply_continue();
    char norm[ADDR_NORM_MAX], addr[ADDR_NORM_MAX];
    RL_SUP sup;
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
            rr = msg_bad_rcpt(m, rcpt, err.len ? err.data : "empty address");
        }
        buf_free(&err);
        return rr;
    }
    buf_free(&err);
    memset(&sup, 0, sizeof(sup));
    strv_init(&sup.streams);
    sup.rcpt = norm;
    if (m->rate && !msg_rate(m, rcpt, norm, &sup, &refused)) {
        rate_txn_sup_free(&sup);
        return refused;
    }
    m->rcpt_sup = xrealloc(m->rcpt_sup, (m->rcpt_norm.n + 1) * sizeof(*m->rcpt_sup));
    sup.rcpt = NULL;
    m->rcpt_sup[m->rcpt_norm.n] = sup;
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

int msg_complaint(const MSG *m)
{
    return !m->outbound && m->arf_rcpts.n > 0;
}

/* msg_bounce_report - 1 if the message is a bounce to the return path */
int msg_bounce_report(const MSG *m)
{
    return !m->outbound && m->rp_rcpt != NULL;
}

const char *msg_quarantine(const MSG *m)
{
    if (m->rate && rate_txn_quarantine(m->rate))
        return rate_txn_quarantine(m->rate);
    return m->preflight_hold ? "DMARC alignment preflight failed" : NULL;
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

/* msg_add_header - a field added by txmilter, signed and appended */
int msg_add_header(MSG *m, const char *name, const char *value)
{
    if (m->state != MSG_ST_HEADERS || m->nadded >= MSG_MAX_ADDED || !hdr_valid_name(name))
        return -1;
    msg_add_field(m, name, value);
    return 0;
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

/* msg_start_signers - pick keys and open the signatures */
static REPLY msg_start_signers(MSG *m)
{
    SIGN_REQ req[SIGN_MAX];
    char local[HDR_LOCAL_MAX];
    const TXCONF *cf = m->snap->cf;
    size_t i, n = 0;

    util_strlcpy(local, m->author.local, sizeof(local));
    util_lower(local);
    m->npicks = keytable_lookup(m->snap->kt, local, m->author.domain, m->picks, SIGN_MAX);
    if (m->npicks == SIGN_MAX)
        log_warn("%s: %s matches %d or more SigningTable entries: only the first %d sign",
                 msg_queueid(m), m->author.domain, SIGN_MAX, SIGN_MAX);
    if (m->npicks == 0) {
        if (cf->sign.on_nokey == CONF_ACT_TEMPFAIL)
            return msg_refuse(m, "nokey", msg_reply(REPLY_TEMPFAIL, MSG_WHY_NO_KEY, m->author.domain));
        msg_note(m, "no-key=%s", m->author.domain);
        return reply_continue();
    }
    for (i = 0; i < m->npicks; i++) {
        const KEYS_KEY *key;

        buf_reset(&m->err);
        if ((key = snapshot_key(m->snap, &m->picks[i], &m->err)) == NULL) {
            log_err("%s: key %s for %s: %s", msg_queueid(m), m->picks[i].key->name,
                    m->picks[i].domain, m->err.data ? m->err.data : "");
            continue;
        }
        req[n].key = key;
        req[n].domain = m->picks[i].domain;
        req[n].selector = m->picks[i].key->selector;
        req[n].signer = m->picks[i].signer;
        n++;
    }
    if (n == 0) {
        m->sign_failed = 1;
        return reply_continue();
    }
    buf_reset(&m->err);
    m->signers = sign_begin(m->snap->dkim, req, n, msg_queueid(m), cf->sign.hdr_canon, cf->sign.body_canon, &m->err);
    if (m->signers == NULL) {
        log_err("%s: cannot start signing: %s", msg_queueid(m), m->err.data);
        m->sign_failed = 1;
    }
    return reply_continue();
}

/* msg_feed_headers - every field, own then added, into the signers */
static int msg_feed_headers(MSG *m)
{
    BUF field;
    size_t i;
    int rc = 0;

    buf_init(&field, m->snap->cf->daemon.max_headers + 1024);
    for (i = 0; i < m->nfields + m->nadded && rc == 0; i++) {
        const MSG_FIELD *f = i < m->nfields ? &m->fields[i] : &m->added[i - m->nfields];
        char *spaced = NULL;
        const char *value = f->value;

        if (i < m->nfields && m->field_dropped && m->field_dropped[i])
            continue;                       /* replaced: the message will not have it */
        if (i >= m->nfields)                /* added fields carry no leading space */
            value = spaced = xasprintf(" %s", f->value);
        if (hdr_signing_form(&field, f->name, value) < 0
            || sign_header(m->signers, field.data, field.len, &m->err) < 0)
            rc = -1;
        free(spaced);
    }
    buf_free(&field);
    if (rc == 0 && sign_eoh(m->signers, &m->err) < 0)
        rc = -1;
    return rc;
}

/* msg_signing_error - what On-SignatureError says */
static REPLY msg_signing_error(MSG *m)
{
    const TXCONF *cf = m->snap->cf;

    log_err("%s: signing failed: %s", msg_queueid(m), m->err.data ? m->err.data : "no usable key");
    sign_free(m->signers);
    m->signers = NULL;
    m->sign_failed = 1;
    msg_count_sig_error(m);
    if (cf->sign.on_sigerr == CONF_ACT_TEMPFAIL)
        return msg_refuse(m, "signing", msg_reply(REPLY_TEMPFAIL, MSG_WHY_SIGN_TEMP));
    if (cf->sign.on_sigerr == CONF_ACT_REJECT)
        return msg_refuse(m, "signing", msg_reply(REPLY_REJECT, MSG_WHY_SIGN_FAILED));
    msg_note(m, "signing-error");
    return reply_continue();
}

/* msg_add_field - a field txmilter adds, even while msg_eoh() runs */
void msg_add_field(MSG *m, const char *name, const char *value)
{
    if (m->nadded >= MSG_MAX_ADDED)
        log_fatal("internal error: more than %d added header fields", MSG_MAX_ADDED);
    m->added[m->nadded].name = xstrdup(name);
    m->added[m->nadded].value = xstrdup(value);
    m->nadded++;
}

/* msg_preflight - will receivers find the message aligned? */
static REPLY msg_preflight(MSG *m)
{
    PREFLIGHT_SIG sig[SIGN_MAX];
    PREFLIGHT_MSG in;
    ALIGN_OUTCOME out;
    size_t n = m->signers ? sign_count(m->signers) : 0;
    double t0;

    for (size_t i = 0; i < n; i++) {
        const SIGN_REQ *rq = sign_request(m->signers, i);

        sig[i].domain = rq->domain;
        sig[i].selector = rq->selector;
        sig[i].key = rq->key;
    }
    memset(&in, 0, sizeof(in));
    in.qid = msg_queueid(m);
    in.from_domain = m->author.domain;
    in.mail_from = m->return_path[0] ? m->return_path : m->sender;
    /* For the null sender, receivers check SPF of the HELO name they see:
     * this relay's ({j}, Postfix's myhostname), not the application's. */
    in.helo = m->conn.relay_name[0] ? m->conn.relay_name : m->conn.helo;
    in.sig = sig;
    in.nsig = n;
    in.dns = m->svc.dns;
    t0 = conf_preflight(m->snap->cf) ? msg_stage_begin(m) : 0;    /* timed only when it asks DNS */
    preflight_check(m->snap->cf, &in, &out);
    msg_stage_end(m, "dns", t0);
    msg_count_preflight(m, out.verdict);
    if (out.summary[0])
        msg_note(m, "%s", out.summary);
    if (out.quarantine)
        m->preflight_hold = 1;
    if (out.refuse != ALIGN_DELIVER)
        return msg_refuse(m, out.verdict && strcmp(out.verdict, "temperror") == 0 ? "dns" : "alignment",
                          msg_reply_align(&out));
    return reply_continue();
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
        if (m->unsub_rcpts.n == 0 && m->rp_rcpt == NULL && m->arf_rcpts.n == 0) {
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
    if ((r = msg_start_signers(m)).verdict != REPLY_CONTINUE)
        return r;
    if (m->sign_failed)
        return msg_signing_error(m);
    if ((r = msg_unsub_eoh(m)).verdict != REPLY_CONTINUE)
        return r;
    msg_bounce_eoh(m);                      /* Feedback-ID, before the signers see the fields */
    msg_bounce_return_path(m);              /* before the preflight judges SPF of MAIL FROM */
    if ((r = msg_preflight(m)).verdict != REPLY_CONTINUE)
        return r;
    if (m->signers && msg_feed_headers(m) < 0)
        return msg_signing_error(m);
    return reply_continue();
}

REPLY msg_eoh(MSG *m)
{
    double t0 = msg_stage_begin(m);
    REPLY r = msg_eoh_decide(m);

    msg_stage_end(m, "eoh", t0);
    return r;
}

REPLY msg_body(MSG *m, const unsigned char *data, size_t len)
{
    if (m->state == MSG_ST_BODY && m->rp_rcpt)
        msg_bounce_body(m, data, len);
    if (m->state == MSG_ST_BODY && m->arf_rcpts.n)
        msg_arf_body(m, data, len);
    if (m->state != MSG_ST_BODY || m->signers == NULL)
        return reply_continue();
    if (sign_body(m->signers, data, len, &m->err) < 0)
        return msg_signing_error(m);
    return reply_continue();
}

int msg_wants_body(const MSG *m)
{
    return m->state == MSG_ST_BODY && (m->signers != NULL || m->rp_rcpt != NULL
                                       || m->arf_rcpts.n > 0);
}

/* msg_eom_unsub - recipients that were unsubscribe requests by mail:
 * 1 when that ends the message (*r says how) */
static int msg_eom_unsub(MSG *m, REPLY *r)
{
    if (m->unsub_rcpts.n == 0)
        return 0;
    if (m->unsub_rcpts.n == m->nrcpt) {
        m->state = MSG_ST_DONE;
        msg_note(m, "action=discard (unsubscribe request by mail, %s)",
                 m->dry_run ? "not recorded: dry run" : "recorded");
        *r = reply_make(REPLY_DISCARD, NULL, NULL, NULL);
        msg_count_action(m, "discarded");
        return 1;
    }
    for (size_t i = 0; i < m->unsub_rcpts.n; i++)
        msg_op(m, MSG_RCPT_DELETE, m->unsub_rcpts.v[i], NULL);
    if (!m->outbound) {
        m->state = MSG_ST_DONE;
        msg_note(m, "unsubscribe-requests=%zu removed", m->unsub_rcpts.n);
        *r = reply_continue();
        return 1;
    }
    return 0;
}

/* msg_eom_no_rcpt - non-SMTP mail none of whose recipients may have it:
 * 1 when the message is refused (*r) */
static int msg_eom_no_rcpt(MSG *m, REPLY *r)
{
    if (m->rcpt_bad.n > 0 && m->rcpt_given.n == 0
        && (m->rate == NULL || rate_txn_deferred(m->rate) == 0)) {
        /* no recipient can be normalised */
        char bare[ADDR_NORM_MAX];

        addr_smtp_bare(m->rcpt_bad.v[0], bare, sizeof(bare));
        *r = msg_refuse(m, "recipient", msg_reply(REPLY_REJECT, MSG_WHY_NO_GOOD_RCPT, bare));
        return 1;
    }
    if (m->rate && rate_txn_deferred(m->rate) > 0 && rate_txn_accepted(m->rate) == 0) {
        /* every recipient is over a limit */
        RATE_RESULT rr = rate_txn_deferred_result(m->rate);

        *r = msg_refuse(m, "ratelimit", msg_reply_rate(&rr));
        return 1;
    }
    return 0;
}

/* msg_eom_signatures - the signatures at the top, in the configured order */
static void msg_eom_signatures(MSG *m)
{
    size_t i, n;

    if (m->signers == NULL)
        return;
    n = sign_count(m->signers);
    /* Each insertion goes to the very top, so insert in reverse to keep
     * the signatures in the configured order. */
    for (i = n; i-- > 0;)
        msg_op(m, MSG_HDR_INSERT_TOP, DKIM_SIGNHEADER, sign_value(m->signers, i));
    for (i = 0; i < n; i++) {
        const SIGN_REQ *rq = sign_request(m->signers, i);

        msg_note(m, "sig=d=%s,s=%s,a=%s", rq->domain, rq->selector, keys_algorithm(rq->key->type));
    }
}

/* msg_eom_removals - recipients over a limit (non-SMTP) or with a bad
 * address leave the message; the rate quota is committed */
static void msg_eom_removals(MSG *m)
{
    char bare[ADDR_NORM_MAX];
    size_t i;

    if (m->rate) {
        for (i = 0; i < rate_txn_deferred(m->rate); i++) {
            const char *given = rate_txn_deferred_rcpt(m->rate, i);

            msg_op(m, MSG_RCPT_DELETE, given, NULL);
            addr_smtp_bare(given, bare, sizeof(bare));
            msg_note(m, "removed=<%s>", bare);
        }
        if (rate_txn_quarantine(m->rate))
            msg_note(m, "quarantine=\"%s\"", rate_txn_quarantine(m->rate));
        rate_txn_commit(m->rate);
    }
    for (i = 0; i < m->rcpt_bad.n; i++) {
        msg_op(m, MSG_RCPT_DELETE, m->rcpt_bad.v[i], NULL);
        addr_smtp_bare(m->rcpt_bad.v[i], bare, sizeof(bare));
        msg_note(m, "removed=<%s> (bad address)", bare);
    }
}

/* msg_eom_decide - msg_eom() untimed */
static REPLY msg_eom_decide(MSG *m)
{
    REPLY r;
    double t0;

    if (m->state == MSG_ST_HEADERS) {
        r = msg_eoh(m);                     /* a message without a body */
        if (r.verdict != REPLY_CONTINUE)
            return r;
    }
    if (m->state != MSG_ST_BODY)
        return reply_continue();
    if (msg_bounce_eom(m, &r) || msg_arf_eom(m, &r) || msg_eom_unsub(m, &r)
        || msg_eom_no_rcpt(m, &r))
        return r;
    m->state = MSG_ST_DONE;
    t0 = m->signers ? msg_stage_begin(m) : 0;
    if (m->signers && sign_eom(m->signers, &m->err) < 0) {
        msg_stage_end(m, "sign", t0);
        r = msg_signing_error(m);
        if (r.verdict != REPLY_CONTINUE)
            return r;
    }
    msg_stage_end(m, "sign", t0);
    msg_eom_signatures(m);
    for (size_t i = 0; i < m->nadded; i++) {
        msg_op(m, MSG_HDR_APPEND, m->added[i].name, m->added[i].value);
        msg_note(m, "added=%s", m->added[i].name);
    }
    msg_eom_removals(m);
    msg_note(m, "rcpts=%zu action=%s", m->nrcpt, m->signers ? "signed" : "accept-unsigned");
    msg_count_signatures(m);
    msg_count_action(m, msg_quarantine(m) ? "quarantined" : m->signers ? "signed" : "accept-unsigned");
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

const char *msg_summary(MSG *m)
{
    return m->summary.data ? m->summary.data : "";
}

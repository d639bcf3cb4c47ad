/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_rate.c - each recipient of outbound mail against the rate policy.
 *
 * SYNOPSIS
 *	#include "msg_int.h"
 *
 *	void	msg_rate_init(MSG *m, const char *sender_norm)
 *	void	msg_rate_free(MSG *m)
 *	REPLY	msg_rate_bad_rcpt(MSG *m, const char *rcpt, const char *why)
 *	int	msg_rate_rcpt(MSG *m, const char *rcpt, const char *norm,
 *			REPLY *r)
 *	const RATE_STORE_SUP * msg_rate_sup(const MSG *m, size_t i)
 *	void	msg_rate_refund(MSG *m, const char *given)
 *	const char * msg_rate_quarantine(const MSG *m)
 *	int	msg_rate_eom(MSG *m, REPLY *r)
 *	void	msg_rate_removals(MSG *m)
 *
 * DESCRIPTION
 *	msg_rate_init() opens the rate transaction of outbound mail when a
 *	RateLimitPolicy is loaded (sender_norm: the normalised sender).
 *	msg_rate_rcpt() decides one recipient at RCPT (rate_txn.c): the
 *	suppressions of the recipient come with the decision when the store
 *	can (one round trip), kept for msg_unsub.c (msg_rate_sup()); a dry
 *	run asks no store. msg_rate_refund() gives back the quota of a
 *	recipient that is removed later; msg_rate_quarantine() names the
 *	rule that holds the message.
 *
 *	msg_rate_bad_rcpt() refuses an outbound recipient that cannot be
 *	normalised; under non-SMTP (sendmail(1), which cannot be refused one
 *	recipient) it is removed at the end instead. At end of message
 *	msg_rate_eom() refuses mail none of whose recipients may have it,
 *	and msg_rate_removals() removes the deferred and bad recipients and
 *	commits the quota.
 *
 * DIAGNOSTICS
 *	A recipient over a limit, or when the store is down under
 *	StoreFailure tempfail, gets the reply msg_reply_rate() words; a bad
 *	recipient 550 5.1.3; mail without a recipient left 550 (no recipient
 *	can be normalised) or the deferred rule's reply. Each refusal is
 *	logged or noted and counted.
 */
#include <stdlib.h>
#include <string.h>

#include "addr_smtp.h"
#include "log.h"
#include "msg_int.h"
#include "msg_rate.h"
#include "msg_reply.h"

/* msg_rate_init - the transaction of outbound mail under a policy */
void msg_rate_init(MSG *m, const char *sender_norm)
{
    const MSG_CONN *c = &m->conn;

    memset(&m->rate, 0, sizeof(m->rate));
    strv_init(&m->rate.bad);
    if (m->outbound && m->snap->policy)
        m->rate.txn = rate_txn_new(m->snap->policy, &m->snap->norm, sender_norm, c->addr,
                                   c->auth_authen, c->non_smtp);
}

/* msg_rate_free - the transaction (its quota not committed is given back) */
void msg_rate_free(MSG *m)
{
    rate_txn_free(m->rate.txn, m->svc.rate);
    for (size_t i = 0; i < m->rate.nsup; i++)
        rate_txn_sup_free(&m->rate.sup[i]);
    free(m->rate.sup);
    strv_free(&m->rate.bad);
}

/* msg_rate_bad_rcpt - never counted under a spelling of its own */
REPLY msg_rate_bad_rcpt(MSG *m, const char *rcpt, const char *why)
{
    char bare[ADDR_NORM_MAX];

    addr_smtp_bare(rcpt, bare, sizeof(bare));
    log_info("%s: rcpt=%s: refused: %s%s", msg_queueid(m), rcpt, why,
             m->conn.non_smtp ? " (non-SMTP: removed at the end)" : "");
    m->nrcpt--;
    msg_count_refusal(m, "recipient");
    if (m->conn.non_smtp) {
        strv_add(&m->rate.bad, rcpt);
        return reply_continue();
    }
    return msg_reply(REPLY_REJECT, MSG_WHY_BAD_RCPT, bare, why);
}

/* msg_rate_decide - the rate decision: 1 to go on, 0 with *r set */
static int msg_rate_decide(MSG *m, const char *rcpt, const char *norm, RATE_STORE_SUP *sup,
                           REPLY *r)
{
    RATE_RESULT rr;
    double t0 = m->dry_run || m->svc.rate == NULL ? 0 : msg_stage_begin(m);

    /* the suppressions come with the rate decision when the store can (one
     * round trip); a dry run asks no store: a shared Redis must not lose
     * quota to it */
    rr = rate_txn_rcpt_sup(m->rate.txn, m->dry_run ? NULL : m->svc.rate, rcpt, norm,
                           msg_queueid(m), m->svc.suppress && !m->dry_run ? sup : NULL);
    msg_stage_end(m, "store", t0);
    msg_count_rate(m, m->rate.txn);
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

/* msg_rate_rcpt - decide one recipient, keep what came with the decision */
int msg_rate_rcpt(MSG *m, const char *rcpt, const char *norm, REPLY *r)
{
    RATE_STORE_SUP sup;

    memset(&sup, 0, sizeof(sup));
    strv_init(&sup.streams);
    sup.rcpt = norm;
    if (m->rate.txn && !msg_rate_decide(m, rcpt, norm, &sup, r)) {
        rate_txn_sup_free(&sup);
        return 0;
    }
    m->rate.sup = xrealloc(m->rate.sup, (m->rate.nsup + 1) * sizeof(*m->rate.sup));
    sup.rcpt = NULL;
    m->rate.sup[m->rate.nsup++] = sup;
    return 1;
}

/* msg_rate_sup - what was fetched with accepted recipient i */
const RATE_STORE_SUP *msg_rate_sup(const MSG *m, size_t i)
{
    return i < m->rate.nsup ? &m->rate.sup[i] : NULL;
}

/* msg_rate_refund - not sent to: no quota used */
void msg_rate_refund(MSG *m, const char *given)
{
    if (m->rate.txn)
        rate_txn_refund_rcpt(m->rate.txn, m->svc.rate, given);
}

/* msg_rate_quarantine - the reason a rule holds the message, or NULL */
const char *msg_rate_quarantine(const MSG *m)
{
    return m->rate.txn ? rate_txn_quarantine(m->rate.txn) : NULL;
}

/* msg_rate_eom - non-SMTP mail none of whose recipients may have it */
int msg_rate_eom(MSG *m, REPLY *r)
{
    RATE_TXN *txn = m->rate.txn;

    if (m->rate.bad.n > 0 && m->rcpt_given.n == 0 && (txn == NULL || rate_txn_deferred(txn) == 0)) {
        /* no recipient can be normalised */
        char bare[ADDR_NORM_MAX];

        addr_smtp_bare(m->rate.bad.v[0], bare, sizeof(bare));
        *r = msg_refuse(m, "recipient", msg_reply(REPLY_REJECT, MSG_WHY_NO_GOOD_RCPT, bare));
        return 1;
    }
    if (txn && rate_txn_deferred(txn) > 0 && rate_txn_accepted(txn) == 0) {
        /* every recipient is over a limit */
        RATE_RESULT rr = rate_txn_deferred_result(txn);

        *r = msg_refuse(m, "ratelimit", msg_reply_rate(&rr));
        return 1;
    }
    return 0;
}

/* msg_rate_removals - the deferred and bad recipients leave; quota committed */
void msg_rate_removals(MSG *m)
{
    RATE_TXN *txn = m->rate.txn;
    char bare[ADDR_NORM_MAX];
    size_t i;

    if (txn) {
        for (i = 0; i < rate_txn_deferred(txn); i++) {
            const char *given = rate_txn_deferred_rcpt(txn, i);

            msg_op(m, MSG_RCPT_DELETE, given, NULL);
            addr_smtp_bare(given, bare, sizeof(bare));
            msg_note(m, "removed=<%s>", bare);
        }
        if (rate_txn_quarantine(txn))
            msg_note(m, "quarantine=\"%s\"", rate_txn_quarantine(txn));
        rate_txn_commit(txn);
    }
    for (i = 0; i < m->rate.bad.n; i++) {
        msg_op(m, MSG_RCPT_DELETE, m->rate.bad.v[i], NULL);
        addr_smtp_bare(m->rate.bad.v[i], bare, sizeof(bare));
        msg_note(m, "removed=<%s> (bad address)", bare);
    }
}

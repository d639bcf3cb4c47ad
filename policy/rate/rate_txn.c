/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_txn.c - per-transaction rate limiting.
 *
 * SYNOPSIS
 *	#include "rate_txn.h"
 *
 *	RATE_TXN * rate_txn_new(const RATE_POLICY *p, const ADDR_NORM_OPTS *norm,
 *			const char *sender, const char *client, const char *auth,
 *			int non_smtp)
 *	RATE_RESULT rate_txn_rcpt(RATE_TXN *t, RATE_STORE *store,
 *			const char *rcpt, const char *norm, const char *qid)
 *	RATE_RESULT rate_txn_rcpt_sup(RATE_TXN *t, RATE_STORE *store,
 *			const char *rcpt, const char *norm, const char *qid,
 *			RATE_STORE_SUP *sup)
 *	void	rate_txn_sup_free(RATE_STORE_SUP *sup)
 *	const char * rate_txn_quarantine(const RATE_TXN *t)
 *	size_t	rate_txn_deferred(const RATE_TXN *t)
 *	const char * rate_txn_deferred_rcpt(const RATE_TXN *t, size_t i)
 *	RATE_RESULT rate_txn_deferred_result(const RATE_TXN *t)
 *	size_t	rate_txn_accepted(const RATE_TXN *t)
 *	size_t	rate_txn_decisions(const RATE_TXN *t, const RATE_DECISION **d)
 *	const char * rate_txn_rule_result_str(RATE_RULE_RESULT r)
 *	void	rate_txn_refund_rcpt(RATE_TXN *t, RATE_STORE *store,
 *			const char *rcpt)
 *	void	rate_txn_commit(RATE_TXN *t)
 *	void	rate_txn_free(RATE_TXN *t, RATE_STORE *store)
 *
 * DESCRIPTION
 *	rate_txn_rcpt() takes the recipient's normal form (or reads and
 *	normalises it as Postfix would, refusing one that cannot be:
 *	RATE_WHY_BAD_ADDRESS; it never gets a key of its own), asks the store
 *	about every rule that applies to it in one call, and returns the
 *	verdict as a RATE_RESULT: the refusing rule, its action (RATE_TEMPFAIL
 *	or RATE_REJECT) and the wait. A quarantine rule accepts the recipient
 *	and marks the message for the hold queue. Shadow rules only log.
 *	When the store is unavailable and StoreFailure is tempfail, the
 *	recipient is tempfailed (RATE_WHY_STORE). The pipeline words the
 *	replies (pipeline/msg_reply.c). rate_txn_rcpt_sup() also has the
 *	store fetch the recipient's suppressions with the decision
 *	(rate_store.h). rate_txn_decisions() says afterwards what each rule
 *	said of that recipient (allowed, refused, or refused by a shadow
 *	rule), for the pipeline's counters.
 *
 *	Mail from sendmail(1) (non-SMTP) cannot have a recipient refused:
 *	Postfix treats that as a configuration error and defers the whole
 *	message. Such recipients are accepted here and listed
 *	(RATE_DEFERRED); at end of message the caller removes them, or, when
 *	no recipient is left, refuses the message.
 *
 *	Every charge is kept with its stamp; rate_txn_free() gives them back
 *	unless rate_txn_commit() said the message was accepted, so quota is
 *	not used up by transactions that are aborted or refused later.
 *
 * DIAGNOSTICS
 *	Refusals are RATE_RESULTs that say why: RATE_WHY_BAD_ADDRESS for a
 *	recipient that cannot be normalised, RATE_WHY_LIMIT over a limit,
 *	RATE_WHY_STORE when the store is unavailable under StoreFailure
 *	tempfail. Store trouble is logged by the store.
 */
#include <stdlib.h>
#include <string.h>

#include "addr_smtp.h"
#include "log.h"
#include "rate_match.h"
#include "rate_txn.h"
#include "rate_store_failover.h"

/* What one accepted recipient was charged. */
typedef struct rate_charge {
    char    *rcpt;              /* as given, to find it again */
    uint64_t stamp_ms;
    size_t   n;
    RATE_STORE_ITEM *items;
} RATE_CHARGE;

struct rate_txn {
    const RATE_POLICY *policy;
    ADDR_NORM_OPTS norm;
    char     sender[ADDR_NORM_MAX];
    char     client[64];
    char     auth[256];
    int      non_smtp;
    int      committed;
    size_t   accepted;
    RATE_CHARGE *charge;
    size_t   ncharge, capcharge;
    STRV     deferred;
    RATE_RESULT deferred_result;
    char    *quarantine;
    RATE_DECISION last[RATE_STORE_ITEMS_MAX]; /* the last recipient's rules */
    size_t   nlast;
};

RATE_TXN *rate_txn_new(const RATE_POLICY *p, const ADDR_NORM_OPTS *norm, const char *sender,
                       const char *client, const char *auth, int non_smtp)
{
    RATE_TXN *t = xcalloc(1, sizeof(*t));
    BUF err;

    t->policy = p;
    t->norm = *norm;
    buf_init(&err, 256);
    if (addr_norm(sender ? sender : "", norm, t->sender, sizeof(t->sender), &err) < 0) {
        /* The pipeline refuses such a sender (553 5.1.7); alone, keep it as
         * given, lowercased. */
        util_strlcpy(t->sender, sender ? sender : "", sizeof(t->sender));
        util_lower(t->sender);
    }
    buf_free(&err);
    util_strlcpy(t->client, client ? client : "", sizeof(t->client));
    util_strlcpy(t->auth, auth ? auth : "", sizeof(t->auth));
    t->non_smtp = non_smtp;
    strv_init(&t->deferred);
    return t;
}

/* rate_result - a result for rcpt (as given) */
static RATE_RESULT rate_result(RATE_OUTCOME o, RATE_REASON why, const char *rcpt)
{
    RATE_RESULT r;

    memset(&r, 0, sizeof(r));
    r.outcome = o;
    r.reason = why;
    if (rcpt)
        addr_smtp_bare(rcpt, r.rcpt, sizeof(r.rcpt));
    return r;
}

/* rate_keep_charge - remember what an accepted recipient was charged */
static void rate_keep_charge(RATE_TXN *t, const char *rcpt, const RATE_STORE_ITEM *items, size_t n,
                             uint64_t stamp)
{
    RATE_CHARGE *c;

    if (n == 0)
        return;
    if (t->ncharge == t->capcharge) {
        t->capcharge = t->capcharge ? 2 * t->capcharge : 8;
        t->charge = xrealloc(t->charge, t->capcharge * sizeof(*t->charge));
    }
    c = &t->charge[t->ncharge++];
    c->rcpt = xstrdup(rcpt);
    c->stamp_ms = stamp;
    c->n = n;
    c->items = xmalloc(n * sizeof(RATE_STORE_ITEM));
    memcpy(c->items, items, n * sizeof(RATE_STORE_ITEM));
}

/* rate_refusal - the result of a refusing verdict */
static RATE_RESULT rate_refusal(const char *given, const RATE_MATCH_VERDICT *v)
{
    RATE_RESULT r = rate_result(v->action == RATE_ACTION_REJECT ? RATE_REJECT : RATE_TEMPFAIL,
                                RATE_WHY_LIMIT, given);

    util_strlcpy(r.rule, v->rule->name, sizeof(r.rule));
    if (v->action != RATE_ACTION_REJECT)
        r.retry_s = (unsigned long long) rate_match_retry_s(v->wait_ms);
    return r;
}

RATE_RESULT rate_txn_rcpt(RATE_TXN *t, RATE_STORE *store, const char *rcpt, const char *given_norm,
                         const char *qid)
{
    return rate_txn_rcpt_sup(t, store, rcpt, given_norm, qid, NULL);
}

/* rate_rcpt_norm - the recipient's normalised form into norm, or -1 with the refusal in *r */
static int rate_rcpt_norm(RATE_TXN *t, const char *rcpt, const char *given_norm, const char *qid,
                          char *norm, RATE_RESULT *r)
{
    char addr[ADDR_NORM_MAX];
    BUF err;

    if (given_norm != NULL) {
        util_strlcpy(norm, given_norm, ADDR_NORM_MAX);
        return 0;
    }
    buf_init(&err, 256);
    if (addr_smtp_norm(NULL, rcpt, &t->norm, addr, norm, &err) < 0 || norm[0] == 0) {
        log_info("%s: rcpt=%s: refused: %s", qid, rcpt, err.len ? err.data : "empty address");
        *r = rate_result(RATE_REJECT, RATE_WHY_BAD_ADDRESS, rcpt);
        util_strlcpy(r->why, err.len ? err.data : "empty address", sizeof(r->why));
        buf_free(&err);
        return -1;
    }
    buf_free(&err);
    return 0;
}

/* rate_log_shadow - log what each shadow rule that refused would have done */
static void rate_log_shadow(const char *qid, const char *norm, const RATE_STORE_ITEM *items,
                            const RATE_STORE_RESULT *res, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!res[i].allowed && items[i].rule->shadow)
            log_info("%s: rcpt=<%s> rule=%s shadow: would %s (count=%u limit=%u retry=%llus)", qid,
                     norm, items[i].rule->name,
                     items[i].rule->action == RATE_ACTION_REJECT ? "reject" : "tempfail",
                     res[i].count, items[i].rule->limit,
                     (unsigned long long) rate_match_retry_s(res[i].wait_ms));
}

/* rate_refused - log a refusing rule and apply its action (quarantine, refusal, deferral) */
static RATE_RESULT rate_refused(RATE_TXN *t, const char *rcpt, const char *norm, const char *qid,
                               const RATE_MATCH_VERDICT *v)
{
    RATE_RESULT r;

    log_info("%s: rcpt=<%s> rule=%s action=%s count=%u limit=%u retry=%llus%s", qid, norm,
             v->rule->name, v->action == RATE_ACTION_REJECT ? "reject"
             : v->action == RATE_ACTION_QUARANTINE ? "quarantine" : "tempfail", v->count,
             v->rule->limit, (unsigned long long) rate_match_retry_s(v->wait_ms),
             t->non_smtp ? " (non-SMTP)" : "");
    if (v->action == RATE_ACTION_QUARANTINE) {
        if (t->quarantine == NULL)
            t->quarantine = xasprintf("rate limit %s for <%s>", v->rule->name, norm);
        t->accepted++;
        return rate_result(RATE_ACCEPT, RATE_WHY_NONE, NULL);
    }
    r = rate_refusal(rcpt, v);
    if (t->non_smtp) {
        strv_add(&t->deferred, rcpt);
        if (t->deferred.n == 1 || r.outcome == RATE_REJECT)
            t->deferred_result = r;
        r.outcome = RATE_DEFERRED;
    }
    return r;
}

/* rate_txn_sup_free - free the lists of sup */
void rate_txn_sup_free(RATE_STORE_SUP *sup)
{
    strv_free(&sup->streams);
    strv_free(&sup->values);
}

/* rate_txn_rcpt_sup - rate_txn_rcpt, with the suppression lookup folded into the store's call */
RATE_RESULT rate_txn_rcpt_sup(RATE_TXN *t, RATE_STORE *store, const char *rcpt,
                             const char *given_norm, const char *qid, RATE_STORE_SUP *sup)
{
    RATE_STORE_ITEM *items;
    RATE_STORE_RESULT *res;
    RATE_MATCH_CTX ctx;
    RATE_MATCH_VERDICT v;
    char norm[ADDR_NORM_MAX];
    size_t n;
    int accepted = 0;
    uint64_t stamp = 0;
    RATE_STORE_STATUS st;
    RATE_RESULT r = rate_result(RATE_ACCEPT, RATE_WHY_NONE, NULL);

    t->nlast = 0;
    if (t->policy == NULL || t->policy->n == 0 || store == NULL) {
        t->accepted++;
        return r;
    }
    if (rate_rcpt_norm(t, rcpt, given_norm, qid, norm, &r) < 0)
        return r;
    ctx.rcpt = norm;
    ctx.sender = t->sender;
    ctx.client = t->client;
    ctx.auth = t->auth;
    items = xcalloc(RATE_STORE_ITEMS_MAX, sizeof(RATE_STORE_ITEM));
    res = xcalloc(RATE_STORE_ITEMS_MAX, sizeof(RATE_STORE_RESULT));
    n = rate_match_items(t->policy, &ctx, items, RATE_STORE_ITEMS_MAX);
    if (n == 0) {
        t->accepted++;
        goto done;
    }
    if (sup && store->ops->decide_sup)
        st = store->ops->decide_sup(store, items, n, res, &accepted, &stamp, sup);
    else
        st = store->ops->decide(store, items, n, res, &accepted, &stamp);
    if (st == RATE_STORE_UNAVAILABLE || st == RATE_STORE_NOT_ASKED) {
        /* A store without StoreFailure (no failover wrapper), or the local
         * one failing: no decision, the recipient goes on. (StoreFailure
         * accept never gets here: the failover store answers RATE_STORE_OK.) */
        t->accepted++;
        goto done;
    }
    if (st == RATE_STORE_TEMPFAIL) {
        log_warn("%s: rcpt=<%s>: rate limit store unavailable: recipient tempfailed", qid, norm);
        r = rate_result(RATE_TEMPFAIL, RATE_WHY_STORE, rcpt);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        t->last[i].rule = items[i].rule;
        t->last[i].result = res[i].allowed ? RATE_RULE_ALLOWED
            : items[i].rule->shadow ? RATE_RULE_SHADOW_REFUSED : RATE_RULE_REFUSED;
    }
    t->nlast = n;
    rate_match_verdict(items, res, n, &v);
    rate_log_shadow(qid, norm, items, res, n);
    if (accepted) {
        rate_keep_charge(t, rcpt, items, n, stamp);
        t->accepted++;
    } else if (!v.refused) {    /* only shadow rules refused; nothing charged by contract */
        t->accepted++;
    } else {
        r = rate_refused(t, rcpt, norm, qid, &v);
    }
done:
    free(items);
    free(res);
    return r;
}

/* rate_txn_decisions - the rules' results for the last recipient */
size_t rate_txn_decisions(const RATE_TXN *t, const RATE_DECISION **d)
{
    *d = t->last;
    return t->nlast;
}

/* rate_txn_rule_result_str - the counters' label for a result */
const char *rate_txn_rule_result_str(RATE_RULE_RESULT r)
{
    static const char *const names[] = {"allowed", "refused", "shadow-refused"};

    return (unsigned) r < 3 ? names[r] : "unknown";
}

const char *rate_txn_quarantine(const RATE_TXN *t)
{
    return t->quarantine;
}

size_t rate_txn_deferred(const RATE_TXN *t)
{
    return t->deferred.n;
}

const char *rate_txn_deferred_rcpt(const RATE_TXN *t, size_t i)
{
    return i < t->deferred.n ? t->deferred.v[i] : NULL;
}

RATE_RESULT rate_txn_deferred_result(const RATE_TXN *t)
{
    return t->deferred_result;
}

size_t rate_txn_accepted(const RATE_TXN *t)
{
    return t->accepted;
}

void rate_txn_refund_rcpt(RATE_TXN *t, RATE_STORE *store, const char *rcpt)
{
    for (size_t i = 0; i < t->ncharge; i++)
        if (strcmp(t->charge[i].rcpt, rcpt) == 0) {
            if (store)
                (void) store->ops->refund(store, t->charge[i].items, t->charge[i].n,
                                          t->charge[i].stamp_ms);
            free(t->charge[i].items);
            free(t->charge[i].rcpt);
            t->charge[i] = t->charge[--t->ncharge];
            return;
        }
}

void rate_txn_commit(RATE_TXN *t)
{
    t->committed = 1;
}

void rate_txn_free(RATE_TXN *t, RATE_STORE *store)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->ncharge; i++) {
        if (!t->committed && store)
            (void) store->ops->refund(store, t->charge[i].items, t->charge[i].n, t->charge[i].stamp_ms);
        free(t->charge[i].items);
        free(t->charge[i].rcpt);
    }
    free(t->charge);
    strv_free(&t->deferred);
    free(t->quarantine);
    free(t);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_count.c - the pipeline's counters, where it decides
 *
 * SYNOPSIS
 *	#include "msg_int.h"
 *
 *	void	msg_count_action(MSG *m, const char *action)
 *	void	msg_count_refusal(MSG *m, const char *reason)
 *	void	msg_count_rate(MSG *m, const RATE_TXN *txn)
 *	void	msg_count_signatures(MSG *m, const SIGN_SET *signers)
 *	void	msg_count_sig_error(MSG *m, const KEYTABLE_PICK *picks,
 *			size_t npicks)
 *	void	msg_count_preflight(MSG *m, const char *verdict)
 *	void	msg_count_bounce(MSG *m, const char *cls)
 *	void	msg_count_suppression(MSG *m, const char *reason)
 *	void	msg_count_complaint(MSG *m, const char *result)
 *	double	msg_stage_begin(const MSG *m)
 *	void	msg_stage_end(MSG *m, const char *stage, double t0)
 *	const char * msg_count_domain(const MSG *m, const char *domain)
 *
 * DESCRIPTION
 *	Each function counts into the families of m's SERVICES
 *	(msg_metrics.h); without them (txmilter -t, unit tests) nothing is
 *	counted and no clock is read.
 *
 *	msg_count_action() counts the message once, under the first action
 *	given (signed, accept-unsigned, not-outbound, rejected, tempfailed,
 *	quarantined, discarded); later calls for the same message do nothing.
 *	msg_count_refusal() counts one refusal (of the message or of one
 *	recipient) by reason: from, alignment, ratelimit, suppressed, dns,
 *	store, size, sender, recipient, nokey, signing.
 *	msg_count_rate() counts what each rule of txn said of the recipient
 *	just decided (rate_txn_decisions()).
 *	msg_count_signatures() counts each signature signers made;
 *	msg_count_sig_error() a signing failure of each domain of picks
 *	(the From domain when none was picked); msg_count_preflight() the
 *	preflight verdict of the From domain.
 *	msg_count_bounce() counts one message to the return path by what
 *	it was (a DSN's class, dsn_class_name(), or not_dsn, bad_token);
 *	msg_count_suppression() one entry the pipeline recorded, by reason
 *	(suppress_reason_name());
 *	msg_count_complaint() what became of a report to a ComplaintAddress
 *	(suppressed, unsubscribed, ignored, no-token, bad-token, not-arf,
 *	unreadable, failed).
 *	msg_stage_begin() and msg_stage_end() time one stage (a t0 of 0,
 *	a stage the message did not go through, is not observed).
 *
 *	Labels never carry a recipient, a sender or a token. A domain label
 *	is the domain only when the KeyTable (or Domain) names it; any
 *	other becomes "other" (msg_count_domain()), so that no sender can
 *	grow the number of series.
 *
 * DIAGNOSTICS
 *	None.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "keys.h"
#include "metrics.h"
#include "msg_int.h"

/* msg_count_domain - domain if configured to sign, else "other" */
const char *msg_count_domain(const MSG *m, const char *domain)
{
    const KEYTABLE_KEY *k;
    size_t n;

    if (domain == NULL || m->snap->kt == NULL)
        return METRICS_OTHER;
    k = keytable_keys(m->snap->kt, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].domain, "%") != 0 && strcasecmp(k[i].domain, domain) == 0)
            return k[i].domain;
    return METRICS_OTHER;
}

/* msg_count_action - what became of the message, once */
void msg_count_action(MSG *m, const char *action)
{
    if (m->svc.metrics == NULL || m->counted)
        return;
    m->counted = 1;
    metrics_inc(m->svc.metrics->messages, METRICS_L(action));
}

/* msg_count_refusal - one refusal by reason */
void msg_count_refusal(MSG *m, const char *reason)
{
    if (m->svc.metrics)
        metrics_inc(m->svc.metrics->refusals, METRICS_L(reason));
}

/* msg_count_rate - each rule's result for the recipient just decided */
void msg_count_rate(MSG *m, const RATE_TXN *txn)
{
    const RATE_DECISION *d;
    size_t n;

    if (m->svc.metrics == NULL || txn == NULL)
        return;
    n = rate_txn_decisions(txn, &d);
    for (size_t i = 0; i < n; i++)
        metrics_inc(m->svc.metrics->rate,
                    METRICS_L(d[i].rule->name, rate_txn_rule_result_str(d[i].result)));
}

/* msg_count_signatures - every signature made */
void msg_count_signatures(MSG *m, const SIGN_SET *signers)
{
    size_t n;

    if (m->svc.metrics == NULL || signers == NULL)
        return;
    n = sign_count(signers);
    for (size_t i = 0; i < n; i++) {
        const SIGN_REQ *rq = sign_request(signers, i);
        const char *dom = msg_count_domain(m, rq->domain);

        /* a selector is configured with its domain; under "other" it says nothing */
        metrics_inc(m->svc.metrics->signatures,
                    METRICS_L(dom, strcmp(dom, METRICS_OTHER) == 0 ? METRICS_OTHER : rq->selector,
                              keys_algorithm(rq->key->type)));
    }
}

/* msg_count_sig_error - signing failed for each domain that was to sign */
void msg_count_sig_error(MSG *m, const KEYTABLE_PICK *picks, size_t npicks)
{
    if (m->svc.metrics == NULL)
        return;
    if (npicks == 0) {
        metrics_inc(m->svc.metrics->sig_errors, METRICS_L(msg_count_domain(m, m->author.domain)));
        return;
    }
    for (size_t i = 0; i < npicks; i++)
        metrics_inc(m->svc.metrics->sig_errors, METRICS_L(msg_count_domain(m, picks[i].domain)));
}

/* msg_count_preflight - the verdict for the From domain */
void msg_count_preflight(MSG *m, const char *verdict)
{
    if (m->svc.metrics && verdict)
        metrics_inc(m->svc.metrics->preflight,
                    METRICS_L(msg_count_domain(m, m->author.domain), verdict));
}

/* msg_count_bounce - one message to the return path, by class */
void msg_count_bounce(MSG *m, const char *cls)
{
    if (m->svc.metrics && cls)
        metrics_inc(m->svc.metrics->bounces, METRICS_L(cls));
}

/* msg_count_suppression - one entry recorded, by reason */
void msg_count_suppression(MSG *m, const char *reason)
{
    if (m->svc.metrics && reason)
        metrics_inc(m->svc.metrics->suppressions, METRICS_L(reason));
}

/* msg_count_complaint - what a feedback report led to */
void msg_count_complaint(MSG *m, const char *result)
{
    if (m->svc.metrics && m->svc.metrics->complaints)
        metrics_inc(m->svc.metrics->complaints, METRICS_L(result));
}

/* msg_stage_begin - the monotonic clock in seconds, 0 when not counting */
double msg_stage_begin(const MSG *m)
{
    struct timespec ts;

    if (m->svc.metrics == NULL || m->svc.metrics->stage == NULL)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* msg_stage_end - the time since t0 into the stage's histogram */
void msg_stage_end(MSG *m, const char *stage, double t0)
{
    struct timespec ts;
    double now;

    if (m->svc.metrics == NULL || m->svc.metrics->stage == NULL || t0 == 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
    metrics_observe(m->svc.metrics->stage, metrics_series(m->svc.metrics->stage, METRICS_L(stage)),
                    now - t0);
}

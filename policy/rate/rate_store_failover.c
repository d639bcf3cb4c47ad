/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_store_failover.c - StoreFailure: a circuit breaker around the shared store
 *
 * SYNOPSIS
 *	#include "rate_store_failover.h"
 *
 *	RATE_STORE *rate_store_failover_new(RATE_STORE *primary, RATE_STORE *local,
 *					    RATE_STORE_FAILURE policy, unsigned retry_ms)
 *	void	rate_store_failover_stats(RATE_STORE *s, RATE_STORE_FAILOVER_STATS *st)
 *
 *	and, through s->ops (rate_store.h): decide, decide_sup, refund, peek,
 *	reset, free.
 *
 * DESCRIPTION
 *	rate_store_failover_new() wraps primary (the Redis store) and owns it and
 *	local (the embedded store, needed for RATE_STORE_FAIL_LOCAL, else it may
 *	be NULL). retry_ms 0 is for a primary with a circuit breaker of its
 *	own (a redis_pool.c pool, shared with the suppression list): it is
 *	then asked on every call, and its breaker alone decides when Redis
 *	is probed, so that two breakers never keep each other open.
 *
 *	The breaker is closed while the primary answers: every call goes to
 *	it. A call that returns RATE_STORE_UNAVAILABLE opens the breaker: for
 *	retry_ms (CLOCK_MONOTONIC) nobody asks the primary; then the first
 *	call to come is the one probe, while every other caller keeps
 *	falling back without waiting for it. A probe that answers closes the
 *	breaker; one that fails opens it for another retry_ms. A primary
 *	with a breaker of its own answers RATE_STORE_NOT_ASKED while that one is
 *	open: a fallback decision, not counted as a failed call.
 *
 *	While the primary is unavailable, decide() follows the policy:
 *	local     the local store decides; its stamp carries FO_LOCAL_BIT
 *		  (bit 63) so that refund() goes back to the store that
 *		  charged (callers treat the stamp as opaque)
 *	accept    accepted, every item allowed, count 0, stamp 0
 *	tempfail  RATE_STORE_TEMPFAIL
 *	decide_sup() is decide() that hands sup to the primary's decide_sup
 *	when it has one; a decision by the policy leaves sup->fetched 0.
 *	refund() of a primary stamp while the breaker is open, and peek()
 *	under accept or tempfail, return RATE_STORE_UNAVAILABLE; peek() under local
 *	asks the local store. reset() forgets the key in both stores.
 *
 *	rate_store_failover_stats() copies the counters: decisions by the
 *	primary, failed primary calls, decisions by the policy, breaker state.
 *
 * DIAGNOSTICS
 *	One log line each time the breaker opens (a warning naming the
 *	store and the policy) and each time it closes (with the outage
 *	length and the number of fallback decisions); nothing per message.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "rate_store_failover.h"
#include "util.h"

#define FO_LOCAL_BIT (UINT64_C(1) << 63)

typedef struct rate_store_fo {
    RATE_STORE store;
    RATE_STORE *primary, *local;
    RATE_STORE_FAILURE policy;
    uint64_t retry_ms;
    pthread_mutex_t lock;
    int      up;                /* breaker closed */
    int      probing;           /* a probe is out */
    uint64_t next_probe;        /* monotonic ms */
    uint64_t down_since;        /* monotonic ms */
    uint64_t fallback_at_open;  /* stats.fallback when it opened */
    RATE_STORE_FAILOVER_STATS stats;
} RATE_STORE_FO;

static const char *const fo_policy_name[] = { "local", "accept", "tempfail" };


/* rate_store_failover_policy_str - the StoreFailure value as written */
const char *rate_store_failover_policy_str(RATE_STORE_FAILURE f)
{
    switch (f) {
    case RATE_STORE_FAIL_LOCAL:
        return "local";
    case RATE_STORE_FAIL_ACCEPT:
        return "accept";
    case RATE_STORE_FAIL_TEMPFAIL:
        return "tempfail";
    }
    return "?";
}

/* fo_now - CLOCK_MONOTONIC in milliseconds */
static uint64_t fo_now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* fo_lock - take the breaker's mutex */
static void fo_lock(RATE_STORE_FO *f)
{
    if (pthread_mutex_lock(&f->lock) != 0)
        log_fatal("rate store failover: cannot lock");
}

/* fo_ask - 1 if this call may go to the primary (a probe when open) */
static int fo_ask(RATE_STORE_FO *f)
{
    int ask = 0;
    uint64_t now;

    fo_lock(f);
    if (f->up) {
        ask = 1;
    } else if (!f->probing && (now = fo_now()) >= f->next_probe) {
        f->probing = 1;
        ask = 1;
    }
    pthread_mutex_unlock(&f->lock);
    return ask;
}

/* fo_result - record how a primary call went; open or close the breaker.
 * RATE_STORE_NOT_ASKED: the primary's own breaker is open, nothing was sent: not a
 * failure of the primary. */
static void fo_result(RATE_STORE_FO *f, RATE_STORE_STATUS st)
{
    uint64_t now = fo_now();

    fo_lock(f);
    f->probing = 0;
    if (st == RATE_STORE_OK) {
        f->stats.primary_ok++;
        if (!f->up) {
            f->up = 1;
            log_info("rate store %s answers again after %llu ms; %llu decisions were made by "
                     "StoreFailure %s meanwhile", f->primary->ops->name,
                     (unsigned long long) (now - f->down_since),
                     (unsigned long long) (f->stats.fallback - f->fallback_at_open),
                     fo_policy_name[f->policy]);
        }
    } else {
        if (st != RATE_STORE_NOT_ASKED)
            f->stats.primary_failed++;
        f->next_probe = now + f->retry_ms;
        if (f->up) {
            f->up = 0;
            f->down_since = now;
            f->fallback_at_open = f->stats.fallback;
            if (f->retry_ms)
                log_warn("rate store %s unavailable: StoreFailure %s decides until it answers "
                         "(asked again every %llu ms)", f->primary->ops->name,
                         fo_policy_name[f->policy], (unsigned long long) f->retry_ms);
            else
                log_warn("rate store %s unavailable: StoreFailure %s decides until it answers "
                         "(asked again when its connection pool probes it)",
                         f->primary->ops->name, fo_policy_name[f->policy]);
        }
    }
    f->stats.primary_up = f->up;
    pthread_mutex_unlock(&f->lock);
}

/* fo_count_fallback - one more decision by the policy */
static void fo_count_fallback(RATE_STORE_FO *f)
{
    fo_lock(f);
    f->stats.fallback++;
    pthread_mutex_unlock(&f->lock);
}

/* fo_decide_sup - the primary's decision (and sup, if it can), or the policy's while it is away */
static RATE_STORE_STATUS fo_decide_sup(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                       RATE_STORE_RESULT *res, int *accepted, uint64_t *stamp_ms,
                                       RATE_STORE_SUP *sup)
{
    RATE_STORE_FO *f = (RATE_STORE_FO *) s;
    RATE_STORE_STATUS st;
    size_t i;

    if (sup)
        sup->fetched = 0;
    if (fo_ask(f)) {
        if (sup && f->primary->ops->decide_sup)
            st = f->primary->ops->decide_sup(f->primary, items, n, res, accepted, stamp_ms, sup);
        else
            st = f->primary->ops->decide(f->primary, items, n, res, accepted, stamp_ms);
        fo_result(f, st);
        if (st == RATE_STORE_OK)
            return RATE_STORE_OK;
    }
    fo_count_fallback(f);
    switch (f->policy) {
    case RATE_STORE_FAIL_LOCAL:
        st = f->local->ops->decide(f->local, items, n, res, accepted, stamp_ms);
        if (st == RATE_STORE_OK && *stamp_ms != 0)
            *stamp_ms |= FO_LOCAL_BIT;
        return st;
    case RATE_STORE_FAIL_ACCEPT:
        for (i = 0; i < n; i++) {
            res[i].allowed = 1;
            res[i].count = 0;
            res[i].wait_ms = 0;
        }
        *accepted = 1;
        *stamp_ms = 0;
        return RATE_STORE_OK;
    case RATE_STORE_FAIL_TEMPFAIL:
    default:
        *accepted = 0;
        *stamp_ms = 0;
        return RATE_STORE_TEMPFAIL;
    }
}

/* fo_decide - the primary's decision, or the policy's while it is away */
static RATE_STORE_STATUS fo_decide(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                   RATE_STORE_RESULT *res, int *accepted, uint64_t *stamp_ms)
{
    return fo_decide_sup(s, items, n, res, accepted, stamp_ms, NULL);
}

/* fo_refund - give back to the store that charged */
static RATE_STORE_STATUS fo_refund(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                   uint64_t stamp_ms)
{
    RATE_STORE_FO *f = (RATE_STORE_FO *) s;
    RATE_STORE_STATUS st;

    if (stamp_ms & FO_LOCAL_BIT)
        return f->local ? f->local->ops->refund(f->local, items, n, stamp_ms & ~FO_LOCAL_BIT)
            : RATE_STORE_OK;
    if (stamp_ms == 0)
        return RATE_STORE_OK;
    if (!fo_ask(f))
        return RATE_STORE_UNAVAILABLE;
    st = f->primary->ops->refund(f->primary, items, n, stamp_ms);
    fo_result(f, st);
    return st;
}

/* fo_peek - count and wait from the store deciding now */
static RATE_STORE_STATUS fo_peek(RATE_STORE *s, const RATE_STORE_ITEM *item, RATE_STORE_RESULT *res)
{
    RATE_STORE_FO *f = (RATE_STORE_FO *) s;
    RATE_STORE_STATUS st;

    if (fo_ask(f)) {
        st = f->primary->ops->peek(f->primary, item, res);
        fo_result(f, st);
        if (st == RATE_STORE_OK)
            return RATE_STORE_OK;
    }
    if (f->policy == RATE_STORE_FAIL_LOCAL)
        return f->local->ops->peek(f->local, item, res);
    return RATE_STORE_UNAVAILABLE;
}

/* fo_reset - forget a key everywhere */
static RATE_STORE_STATUS fo_reset(RATE_STORE *s, const char *key)
{
    RATE_STORE_FO *f = (RATE_STORE_FO *) s;
    RATE_STORE_STATUS st = RATE_STORE_UNAVAILABLE;

    if (f->local)
        (void) f->local->ops->reset(f->local, key);
    if (fo_ask(f)) {
        st = f->primary->ops->reset(f->primary, key);
        fo_result(f, st);
    }
    return st;
}

/* fo_free - free both stores and the breaker */
static void fo_free(RATE_STORE *s)
{
    RATE_STORE_FO *f = (RATE_STORE_FO *) s;

    if (f == NULL)
        return;
    f->primary->ops->free(f->primary);
    if (f->local)
        f->local->ops->free(f->local);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static const RATE_STORE_OPS fo_ops = {
    fo_decide, fo_refund, fo_peek, fo_reset, fo_free, "failover", fo_decide_sup,
};

/* rate_store_failover_new - wrap primary with a breaker and a policy */
RATE_STORE *rate_store_failover_new(RATE_STORE *primary, RATE_STORE *local,
                                    RATE_STORE_FAILURE policy, unsigned retry_ms)
{
    RATE_STORE_FO *f;

    if (primary == NULL || (policy == RATE_STORE_FAIL_LOCAL && local == NULL)
        || (policy != RATE_STORE_FAIL_LOCAL && policy != RATE_STORE_FAIL_ACCEPT
            && policy != RATE_STORE_FAIL_TEMPFAIL))
        log_fatal("rate_store_failover_new: no primary, no local store, or an unknown policy");
    f = xcalloc(1, sizeof(*f));
    f->store.ops = &fo_ops;
    f->primary = primary;
    f->local = local;
    f->policy = policy;
    f->retry_ms = retry_ms;
    f->up = 1;
    f->stats.primary_up = 1;
    if (pthread_mutex_init(&f->lock, NULL) != 0)
        log_fatal("rate store failover: cannot make a mutex");
    return &f->store;
}

/* rate_store_failover_stats - a copy of the counters */
void rate_store_failover_stats(RATE_STORE *s, RATE_STORE_FAILOVER_STATS *st)
{
    RATE_STORE_FO *f = (RATE_STORE_FO *) s;

    fo_lock(f);
    *st = f->stats;
    pthread_mutex_unlock(&f->lock);
}

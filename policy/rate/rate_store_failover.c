/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_store_failover.c - StoreFailure: a circuit breaker around the shared store
 *
 * SYNOPSIS
 *	#include "rate_store_failover.h"
 *
 *	RL_STORE *store_failover_new(RL_STORE *primary, RL_STORE *local,
 *				     STORE_FAILURE policy, unsigned retry_ms)
 *	void	store_failover_stats(RL_STORE *s, STORE_FAILOVER_STATS *st)
 *
 *	and, through s->ops (rate_store.h): decide, decide_sup, refund, peek,
 *	reset, free.
 *
 * DESCRIPTION
 *	store_failover_new() wraps primary (the Redis store) and owns it and
 *	local (the embedded store, needed for STORE_FAIL_LOCAL, else it may
 *	be NULL). retry_ms 0 is for a primary with a circuit breaker of its
 *	own (a redis_pool.c pool, shared with the suppression list): it is
 *	then asked on every call, and its breaker alone decides when Redis
 *	is probed, so that two breakers never keep each other open.
 *
 *	The breaker is closed while the primary answers: every call goes to
 *	it. A call that returns RL_UNAVAILABLE opens the breaker: for
 *	retry_ms (CLOCK_MONOTONIC) nobody asks the primary; then the first
 *	call to come is the one probe, while every other caller keeps
 *	falling back without waiting for it. A probe that answers closes the
 *	breaker; one that fails opens it for another retry_ms. A primary
 *	with a breaker of its own answers RL_NOT_ASKED while that one is
 *	open: a fallback decision, not counted as a failed call.
 *
 *	While the primary is unavailable, decide() follows the policy:
 *	local     the local store decides; its stamp carries FO_LOCAL_BIT
 *		  (bit 63) so that refund() goes back to the store that
 *		  charged (callers treat the stamp as opaque)
 *	accept    accepted, every item allowed, count 0, stamp 0
 *	tempfail  RL_TEMPFAIL
 *	decide_sup() is decide() that hands sup to the primary's decide_sup
 *	when it has one; a decision by the policy leaves sup->fetched 0.
 *	refund() of a primary stamp while the breaker is open, and peek()
 *	under accept or tempfail, return RL_UNAVAILABLE; peek() under local
 *	asks the local store. reset() forgets the key in both stores.
 *
 *	store_failover_stats() copies the counters: decisions by the
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

typedef struct store_fo {
    RL_STORE store;
    RL_STORE *primary, *local;
    STORE_FAILURE policy;
    uint64_t retry_ms;
    pthread_mutex_t lock;
    int      up;                /* breaker closed */
    int      probing;           /* a probe is out */
    uint64_t next_probe;        /* monotonic ms */
    uint64_t down_since;        /* monotonic ms */
    uint64_t fallback_at_open;  /* stats.fallback when it opened */
    STORE_FAILOVER_STATS stats;
} STORE_FO;

static const char *const fo_policy_name[] = { "local", "accept", "tempfail" };


/* store_failover_policy_str - the StoreFailure value as written */
const char *store_failover_policy_str(STORE_FAILURE f)
{
    switch (f) {
    case STORE_FAIL_LOCAL:
        return "local";
    case STORE_FAIL_ACCEPT:
        return "accept";
    case STORE_FAIL_TEMPFAIL:
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
static void fo_lock(STORE_FO *f)
{
    if (pthread_mutex_lock(&f->lock) != 0)
        log_fatal("rate store failover: cannot lock");
}

/* fo_ask - 1 if this call may go to the primary (a probe when open) */
static int fo_ask(STORE_FO *f)
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
 * RL_NOT_ASKED: the primary's own breaker is open, nothing was sent: not a
 * failure of the primary. */
static void fo_result(STORE_FO *f, RL_STATUS st)
{
    uint64_t now = fo_now();

    fo_lock(f);
    f->probing = 0;
    if (st == RL_OK) {
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
        if (st != RL_NOT_ASKED)
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
static void fo_count_fallback(STORE_FO *f)
{
    fo_lock(f);
    f->stats.fallback++;
    pthread_mutex_unlock(&f->lock);
}

/* fo_decide_sup - the primary's decision (and sup, if it can), or the policy's while it is away */
static RL_STATUS fo_decide_sup(RL_STORE *s, const RL_ITEM *items, size_t n, RL_RESULT *res,
                               int *accepted, uint64_t *stamp_ms, RL_SUP *sup)
{
    STORE_FO *f = (STORE_FO *) s;
    RL_STATUS st;
    size_t i;

    if (sup)
        sup->fetched = 0;
    if (fo_ask(f)) {
        if (sup && f->primary->ops->decide_sup)
            st = f->primary->ops->decide_sup(f->primary, items, n, res, accepted, stamp_ms, sup);
        else
            st = f->primary->ops->decide(f->primary, items, n, res, accepted, stamp_ms);
        fo_result(f, st);
        if (st == RL_OK)
            return RL_OK;
    }
    fo_count_fallback(f);
    switch (f->policy) {
    case STORE_FAIL_LOCAL:
        st = f->local->ops->decide(f->local, items, n, res, accepted, stamp_ms);
        if (st == RL_OK && *stamp_ms != 0)
            *stamp_ms |= FO_LOCAL_BIT;
        return st;
    case STORE_FAIL_ACCEPT:
        for (i = 0; i < n; i++) {
            res[i].allowed = 1;
            res[i].count = 0;
            res[i].wait_ms = 0;
        }
        *accepted = 1;
        *stamp_ms = 0;
        return RL_OK;
    case STORE_FAIL_TEMPFAIL:
    default:
        *accepted = 0;
        *stamp_ms = 0;
        return RL_TEMPFAIL;
    }
}

/* fo_decide - the primary's decision, or the policy's while it is away */
static RL_STATUS fo_decide(RL_STORE *s, const RL_ITEM *items, size_t n, RL_RESULT *res,
                           int *accepted, uint64_t *stamp_ms)
{
    return fo_decide_sup(s, items, n, res, accepted, stamp_ms, NULL);
}

/* fo_refund - give back to the store that charged */
static RL_STATUS fo_refund(RL_STORE *s, const RL_ITEM *items, size_t n, uint64_t stamp_ms)
{
    STORE_FO *f = (STORE_FO *) s;
    RL_STATUS st;

    if (stamp_ms & FO_LOCAL_BIT)
        return f->local ? f->local->ops->refund(f->local, items, n, stamp_ms & ~FO_LOCAL_BIT)
            : RL_OK;
    if (stamp_ms == 0)
        return RL_OK;
    if (!fo_ask(f))
        return RL_UNAVAILABLE;
    st = f->primary->ops->refund(f->primary, items, n, stamp_ms);
    fo_result(f, st);
    return st;
}

/* fo_peek - count and wait from the store deciding now */
static RL_STATUS fo_peek(RL_STORE *s, const RL_ITEM *item, RL_RESULT *res)
{
    STORE_FO *f = (STORE_FO *) s;
    RL_STATUS st;

    if (fo_ask(f)) {
        st = f->primary->ops->peek(f->primary, item, res);
        fo_result(f, st);
        if (st == RL_OK)
            return RL_OK;
    }
    if (f->policy == STORE_FAIL_LOCAL)
        return f->local->ops->peek(f->local, item, res);
    return RL_UNAVAILABLE;
}

/* fo_reset - forget a key everywhere */
static RL_STATUS fo_reset(RL_STORE *s, const char *key)
{
    STORE_FO *f = (STORE_FO *) s;
    RL_STATUS st = RL_UNAVAILABLE;

    if (f->local)
        (void) f->local->ops->reset(f->local, key);
    if (fo_ask(f)) {
        st = f->primary->ops->reset(f->primary, key);
        fo_result(f, st);
    }
    return st;
}

/* fo_free - free both stores and the breaker */
static void fo_free(RL_STORE *s)
{
    STORE_FO *f = (STORE_FO *) s;

    if (f == NULL)
        return;
    f->primary->ops->free(f->primary);
    if (f->local)
        f->local->ops->free(f->local);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static const RL_STORE_OPS fo_ops = {
    fo_decide, fo_refund, fo_peek, fo_reset, fo_free, "failover", fo_decide_sup,
};

/* store_failover_new - wrap primary with a breaker and a policy */
RL_STORE *store_failover_new(RL_STORE *primary, RL_STORE *local, STORE_FAILURE policy,
                             unsigned retry_ms)
{
    STORE_FO *f;

    if (primary == NULL || (policy == STORE_FAIL_LOCAL && local == NULL)
        || (policy != STORE_FAIL_LOCAL && policy != STORE_FAIL_ACCEPT
            && policy != STORE_FAIL_TEMPFAIL))
        log_fatal("store_failover_new: no primary, no local store, or an unknown policy");
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

/* store_failover_stats - a copy of the counters */
void store_failover_stats(RL_STORE *s, STORE_FAILOVER_STATS *st)
{
    STORE_FO *f = (STORE_FO *) s;

    fo_lock(f);
    *st = f->stats;
    pthread_mutex_unlock(&f->lock);
}

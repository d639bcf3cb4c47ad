/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_limiter.c - sliding-window rate limiter arithmetic for one key
 *
 * SYNOPSIS
 *	#include "rate_limiter.h"
 *
 *	size_t	rate_limiter_size(uint32_t limit)
 *	void	rate_limiter_init(RATE_LIMITER_STATE *st, uint32_t limit, uint64_t period_ms)
 *	int	rate_limiter_check(RATE_LIMITER_STATE *st, uint64_t now_ms, uint32_t *count,
 *				   uint64_t *wait_ms)
 *	void	rate_limiter_charge(RATE_LIMITER_STATE *st, uint64_t now_ms)
 *	void	rate_limiter_refund(RATE_LIMITER_STATE *st, uint64_t stamp_ms)
 *	int	rate_limiter_idle(const RATE_LIMITER_STATE *st, uint64_t now_ms)
 *	void	rate_limiter_convert(const RATE_LIMITER_STATE *src, RATE_LIMITER_STATE *dst,
 *				     uint32_t limit, uint64_t period_ms, uint64_t now_ms)
 *
 * DESCRIPTION
 *	The rules (window (now - P, now], exact and bucket modes, waits,
 *	clock steps) are those of rate_limiter.h; this file only adds how.
 *
 *	rate_limiter_size() is the bytes of a state for limit N: the header plus
 *	min(N, 256) stamps in exact mode, 256 counters in bucket mode.
 *	rate_limiter_init() makes an empty state in such memory (a limit of 0 is
 *	taken as 1, a period of 0 as 1 ms).
 *
 *	rate_limiter_check() drops what has left the window (exact mode: stamps
 *	from the head of the oldest-first ring; bucket mode: slots below the
 *	oldest one counted, whose counts leave the running sum in st->n), and
 *	reports whether one more event is allowed, the count, and when
 *	refused the wait (>= 1 ms). Exact mode is O(1) amortised; bucket
 *	mode O(slots) at worst.
 *
 *	rate_limiter_charge() records one event at max(now, last_ms). A full
 *	exact ring (a charge that the check refused, e.g. for a shadow rule)
 *	drops its oldest stamp: the ring always holds the last N events.
 *
 *	rate_limiter_refund() removes the newest stamp equal to stamp_ms (exact
 *	mode, keeping the ring ordered) or takes one from the slot of
 *	stamp_ms if the ring still holds that slot and it is not empty
 *	(bucket mode). Anything else is a no-op.
 *
 *	rate_limiter_idle() is 1 when no recorded event is inside the window at
 *	now: the state may be dropped, a fresh one would decide the same.
 *
 *	rate_limiter_convert() builds dst for a new N and P from src: the events
 *	src still holds that fall inside the new window at now are carried
 *	over, the newest first, as many as dst holds (exact: the newest N;
 *	bucket: all). A bucket-mode event is taken to be at the last
 *	millisecond of its slot (but not after last_ms), so that it is never
 *	forgotten earlier than it would have been: dst never lets through
 *	more than the new rule would on what src knew, and (P, N and events
 *	unchanged) exactly what src would. dst must not be src.
 *
 *	No function allocates memory or fails: bad states are the caller's
 *	bug. Callers serialise access to one state.
 *
 * DIAGNOSTICS
 *	None: rate_limiter_check() and rate_limiter_charge() cannot fail on a state
 *	that rate_limiter_init() set up in rate_limiter_size() bytes.
 */
#include <stdint.h>
#include <string.h>

#include "rate_limiter.h"

/* rate_limiter_is_exact - 1 if the state keeps timestamps */
static int rate_limiter_is_exact(const RATE_LIMITER_STATE *st)
{
    return st->limit <= RATE_LIMITER_EXACT_MAX;
}

/* rate_limiter_in_window - 1 if time t is inside the window (now - P, now] */
static int rate_limiter_in_window(uint64_t t, uint64_t now, uint64_t period)
{
    return now < period || t > now - period;
}

/* rate_limiter_slot_lo - the oldest slot overlapping the window at now */
static uint64_t rate_limiter_slot_lo(uint64_t now, uint64_t period, uint64_t w)
{
    return now + 1 < period ? 0 : (now + 1 - period) / w;
}

/* rate_limiter_size - bytes to allocate for a state with limit N */
size_t rate_limiter_size(uint32_t limit)
{
    uint32_t slots;

    if (limit == 0)
        limit = 1;
    slots = limit <= RATE_LIMITER_EXACT_MAX ? limit : RATE_LIMITER_BUCKETS;
    return sizeof(RATE_LIMITER_STATE) + (size_t) slots * sizeof(uint64_t);
}

/* rate_limiter_init - an empty state */
void rate_limiter_init(RATE_LIMITER_STATE *st, uint32_t limit, uint64_t period_ms)
{
    if (limit == 0)
        limit = 1;
    if (period_ms == 0)
        period_ms = 1;
    st->limit = limit;
    st->nslots = limit <= RATE_LIMITER_EXACT_MAX ? limit : RATE_LIMITER_BUCKETS;
    st->head = 0;
    st->n = 0;
    st->period_ms = period_ms;
    st->last_ms = 0;
    st->base_slot = 0;
    memset(st->slot, 0, (size_t) st->nslots * sizeof(uint64_t));
}

/* rate_limiter_exact_at - the k-th stamp from the oldest */
static uint64_t *rate_limiter_exact_at(RATE_LIMITER_STATE *st, uint32_t k)
{
    return &st->slot[(st->head + k) % st->nslots];
}

/* rate_limiter_exact_expire - drop stamps that have left the window at now */
static void rate_limiter_exact_expire(RATE_LIMITER_STATE *st, uint64_t now)
{
    while (st->n > 0 && !rate_limiter_in_window(st->slot[st->head], now, st->period_ms)) {
        st->head = (st->head + 1) % st->nslots;
        st->n--;
    }
}

/* rate_limiter_bucket_advance - drop the slots older than first (if held) */
static void rate_limiter_bucket_advance(RATE_LIMITER_STATE *st, uint64_t first)
{
    uint64_t drop;

    if (first <= st->base_slot)
        return;
    drop = first - st->base_slot;
    if (drop >= RATE_LIMITER_BUCKETS) {
        memset(st->slot, 0, RATE_LIMITER_BUCKETS * sizeof(uint64_t));
        st->head = 0;
        st->n = 0;
    } else {
        while (drop-- > 0) {
            st->n -= (uint32_t) st->slot[st->head];
            st->slot[st->head] = 0;
            st->head = (st->head + 1) % RATE_LIMITER_BUCKETS;
        }
    }
    st->base_slot = first;
}

/* rate_limiter_bucket_expire - make the ring start at the oldest counted slot */
static void rate_limiter_bucket_expire(RATE_LIMITER_STATE *st, uint64_t now)
{
    uint64_t w = RATE_LIMITER_SLOT_MS(st->period_ms);

    rate_limiter_bucket_advance(st, rate_limiter_slot_lo(now, st->period_ms, w));
}

/* rate_limiter_check - would one more event at now be allowed? */
int rate_limiter_check(RATE_LIMITER_STATE *st, uint64_t now_ms, uint32_t *count, uint64_t *wait_ms)
{
    uint64_t now = now_ms > st->last_ms ? now_ms : st->last_ms;
    uint64_t wait = 0, w, left;
    uint32_t k;
    int ok;

    st->last_ms = now;
    if (rate_limiter_is_exact(st)) {
        rate_limiter_exact_expire(st, now);
        ok = st->n < st->limit;
        if (!ok)
            wait = st->slot[st->head] + st->period_ms - now;
    } else {
        rate_limiter_bucket_expire(st, now);
        ok = st->n < st->limit;
        if (!ok) {
            /* Drop slots from the oldest until fewer than N are left. */
            w = RATE_LIMITER_SLOT_MS(st->period_ms);
            left = st->n;
            for (k = 0; k < RATE_LIMITER_BUCKETS; k++) {
                left -= st->slot[(st->head + k) % RATE_LIMITER_BUCKETS];
                if (left < st->limit)
                    break;
            }
            wait = (st->base_slot + k + 1) * w + st->period_ms - 1 - now;
        }
    }
    if (count)
        *count = st->n;
    if (wait_ms)
        *wait_ms = wait;
    return ok;
}

/* rate_limiter_charge - record an event at now */
void rate_limiter_charge(RATE_LIMITER_STATE *st, uint64_t now_ms)
{
    uint64_t now = now_ms > st->last_ms ? now_ms : st->last_ms;
    uint64_t s;

    st->last_ms = now;
    if (rate_limiter_is_exact(st)) {
        rate_limiter_exact_expire(st, now);
        if (st->n == st->nslots) {
            st->head = (st->head + 1) % st->nslots;
            st->n--;
        }
        *rate_limiter_exact_at(st, st->n) = now;
        st->n++;
    } else {
        rate_limiter_bucket_expire(st, now);
        s = now / RATE_LIMITER_SLOT_MS(st->period_ms);
        if (st->n == UINT32_MAX)
            return;                     /* absurdly over the limit anyway */
        st->slot[(st->head + (s - st->base_slot)) % RATE_LIMITER_BUCKETS]++;
        st->n++;
    }
}

/* rate_limiter_refund - take back one event recorded at stamp */
void rate_limiter_refund(RATE_LIMITER_STATE *st, uint64_t stamp_ms)
{
    uint64_t s, *cnt;
    uint32_t k;

    if (rate_limiter_is_exact(st)) {
        /* Newest first: a refund usually names a recent charge. */
        for (k = st->n; k-- > 0;) {
            uint64_t t = *rate_limiter_exact_at(st, k);

            if (t < stamp_ms)
                return;
            if (t == stamp_ms) {
                for (; k + 1 < st->n; k++)
                    *rate_limiter_exact_at(st, k) = *rate_limiter_exact_at(st, k + 1);
                st->n--;
                return;
            }
        }
    } else {
        s = stamp_ms / RATE_LIMITER_SLOT_MS(st->period_ms);
        if (s < st->base_slot || s - st->base_slot >= RATE_LIMITER_BUCKETS)
            return;
        cnt = &st->slot[(st->head + (s - st->base_slot)) % RATE_LIMITER_BUCKETS];
        if (*cnt > 0) {
            (*cnt)--;
            st->n--;
        }
    }
}

/* rate_limiter_idle - 1 if nothing is inside the window at now */
int rate_limiter_idle(const RATE_LIMITER_STATE *st, uint64_t now_ms)
{
    uint64_t now = now_ms > st->last_ms ? now_ms : st->last_ms;
    uint64_t w, lo;
    uint32_t k;

    if (st->n == 0)
        return 1;
    if (rate_limiter_is_exact(st))
        return !rate_limiter_in_window(st->slot[(st->head + st->n - 1) % st->nslots], now,
                                       st->period_ms);
    w = RATE_LIMITER_SLOT_MS(st->period_ms);
    lo = rate_limiter_slot_lo(now, st->period_ms, w);
    for (k = RATE_LIMITER_BUCKETS; k-- > 0;) {
        if (st->base_slot + k < lo)
            return 1;
        if (st->slot[(st->head + k) % RATE_LIMITER_BUCKETS] > 0)
            return 0;
    }
    return 1;
}

/*
 * The events of a source state, newest first, as (time, count) runs:
 * rate_limiter_src_event() returns the k-th run from the newest (0 when there
 * is none), a bucket slot being taken at its last millisecond.
 */
static uint64_t rate_limiter_src_event(const RATE_LIMITER_STATE *src, uint32_t k, uint64_t *when)
{
    uint64_t w, t;
    uint32_t idx;

    if (rate_limiter_is_exact(src)) {
        if (k >= src->n)
            return 0;
        *when = src->slot[(src->head + src->n - 1 - k) % src->nslots];
        return 1;
    }
    if (k >= RATE_LIMITER_BUCKETS)
        return 0;
    idx = RATE_LIMITER_BUCKETS - 1 - k;
    w = RATE_LIMITER_SLOT_MS(src->period_ms);
    t = (src->base_slot + idx) * w + w - 1;
    *when = t < src->last_ms ? t : src->last_ms;
    return src->slot[(src->head + idx) % RATE_LIMITER_BUCKETS];
}

/* rate_limiter_convert - carry a state over to a new N and P */
void rate_limiter_convert(const RATE_LIMITER_STATE *src, RATE_LIMITER_STATE *dst, uint32_t limit,
                          uint64_t period_ms, uint64_t now_ms)
{
    uint64_t now = now_ms > src->last_ms ? now_ms : src->last_ms;
    uint64_t t = 0, c, w, s, kept = 0;
    uint32_t k, nruns;

    rate_limiter_init(dst, limit, period_ms);
    dst->last_ms = now;
    nruns = rate_limiter_is_exact(src) ? src->n : RATE_LIMITER_BUCKETS;
    if (rate_limiter_is_exact(dst)) {
        /* The newest stamps in the new window, written newest-last. */
        for (k = 0; k < nruns && kept < dst->nslots; k++) {
            if ((c = rate_limiter_src_event(src, k, &t)) == 0)
                continue;
            if (!rate_limiter_in_window(t, now, dst->period_ms))
                break;
            kept += c < dst->nslots - kept ? c : dst->nslots - kept;
        }
        dst->n = (uint32_t) kept;
        for (k = 0; k < nruns && kept > 0; k++) {
            if ((c = rate_limiter_src_event(src, k, &t)) == 0)
                continue;
            while (c-- > 0 && kept > 0)
                dst->slot[--kept] = t;
        }
        return;
    }
    w = RATE_LIMITER_SLOT_MS(dst->period_ms);
    dst->base_slot = rate_limiter_slot_lo(now, dst->period_ms, w);
    for (k = 0; k < nruns; k++) {
        if ((c = rate_limiter_src_event(src, k, &t)) == 0)
            continue;
        if (!rate_limiter_in_window(t, now, dst->period_ms))
            break;
        s = t / w;
        if (s < dst->base_slot)         /* cannot happen: t is in the window */
            break;
        if (c > (uint64_t) UINT32_MAX - dst->n)
            c = (uint64_t) UINT32_MAX - dst->n;
        dst->slot[s - dst->base_slot] += c;
        dst->n += (uint32_t) c;
    }
}

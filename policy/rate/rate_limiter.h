/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_limiter.h - the rate limiter's arithmetic, shared by every store: "at
 * most N accepted within any sliding window of length P".
 *
 * The window at now is (now - P, now]: an event exactly P after an
 * accepted one no longer sees it. The state of one key is a small ring,
 * sized by N:
 *  - exact mode (N <= RATE_LIMITER_EXACT_MAX): the timestamps of the last N
 *    accepted events (N slots, oldest first from head). An event at now is
 *    allowed iff fewer than N stamps are > now - P; when refused, the wait
 *    is (the oldest stamp still counted) + P - now.
 *  - bucket mode (N > RATE_LIMITER_EXACT_MAX): RATE_LIMITER_BUCKETS counters, each
 *    for a slot of width w = RATE_LIMITER_SLOT_MS(P) = ceil(P / (RATE_LIMITER_BUCKETS
 *    - 1)) ms; slot number s holds the events at [s*w, s*w + w - 1]. (With
 *    w = ceil(P / 256) a window could overlap 257 slots, one more than the
 *    ring holds.) Every slot that overlaps the window counts whole, i.e.
 *    the slots floor((now - P + 1) / w) .. floor(now / w): never more than
 *    N in any window of length P, but an event may be refused up to w - 1
 *    ms early (the effective window is at most P + w - 1, i.e. about 1/255
 *    longer). When refused, the wait is the least t - now such that the
 *    slots overlapping (t - P, t] hold fewer than N: with j the oldest
 *    counted slot whose dropping (with every older one) leaves fewer than
 *    N, wait = (j + 1) * w + P - 1 - now.
 * Memory per key: rate_limiter_size(N), at most about 2 KB.
 * Times are milliseconds from any fixed origin (the store's clock). Every
 * call works at now = max(now, last_ms), and check and charge raise last_ms
 * to it: a clock that goes backwards is treated as standing still at the
 * latest time seen, and a charge is recorded at that time (a refund must
 * name that stamp; a refund that names no recorded event changes nothing).
 * A limit of 0 is treated as 1 and a period of 0 as 1 ms.
 * The Redis Lua script implements exactly these rules; the C unit tests and
 * the Redis tests share one table of cases (tests/unit/data/rate_limiter_cases.txt).
 */
#ifndef TX_RATE_LIMITER_H
#define TX_RATE_LIMITER_H

#include <stddef.h>
#include <stdint.h>

#define RATE_LIMITER_EXACT_MAX 256
#define RATE_LIMITER_BUCKETS   256

/* The bucket-mode slot width for a period P (ms): ceil(P / 255), at least 1. */
#define RATE_LIMITER_SLOT_MS(p) ((p) == 0 ? (uint64_t) 1 \
                                 : ((uint64_t) (p) + RATE_LIMITER_BUCKETS - 2) \
                                   / (RATE_LIMITER_BUCKETS - 1))

typedef struct rate_limiter_state {
    uint32_t limit;             /* N the state was built for */
    uint32_t nslots;            /* min(N, 256) in exact mode, 256 in bucket mode */
    uint32_t head, n;           /* ring start; exact: stamps held, bucket: sum of the counts */
    uint64_t period_ms;         /* P the state was built for */
    uint64_t last_ms;           /* latest time seen by check or charge (clock steps) */
    uint64_t base_slot;         /* bucket mode: slot number counted by slot[head] */
    uint64_t slot[];            /* exact: stamps; bucket: counts */
} RATE_LIMITER_STATE;

/* rate_limiter_size - bytes to allocate for a state with limit N */
size_t rate_limiter_size(uint32_t limit);

/* rate_limiter_init - an empty state for N and P in memory of rate_limiter_size(N) */
void rate_limiter_init(RATE_LIMITER_STATE *st, uint32_t limit, uint64_t period_ms);

/* rate_limiter_check - would one more event at now be allowed? Returns 1 or 0,
 * the events counted in the window, and when refused the wait in ms until
 * one more would be allowed (>= 1). Forgets what has left the window. */
int rate_limiter_check(RATE_LIMITER_STATE *st, uint64_t now_ms, uint32_t *count, uint64_t *wait_ms);

/* rate_limiter_charge - record an event at now (after rate_limiter_check allowed it;
 * charging a full state, e.g. for a shadow rule, drops the oldest stamp in
 * exact mode and over-counts in bucket mode) */
void rate_limiter_charge(RATE_LIMITER_STATE *st, uint64_t now_ms);

/* rate_limiter_refund - take back one event recorded at stamp (a transaction
 * that did not complete); a no-op if it has left the state already. Exact
 * mode removes one stamp equal to stamp_ms; bucket mode takes one from
 * the slot of stamp_ms if the ring still holds it and it is not empty. */
void rate_limiter_refund(RATE_LIMITER_STATE *st, uint64_t stamp_ms);

/* rate_limiter_idle - 1 if nothing is inside the window at now (may be dropped) */
int rate_limiter_idle(const RATE_LIMITER_STATE *st, uint64_t now_ms);

/* rate_limiter_convert - carry a state over to a new N and P (a reloaded
 * policy), keeping the newest events, never letting more through than
 * either rule would. dst has rate_limiter_size(new N) bytes. */
void rate_limiter_convert(const RATE_LIMITER_STATE *src, RATE_LIMITER_STATE *dst, uint32_t limit,
                          uint64_t period_ms, uint64_t now_ms);

#endif

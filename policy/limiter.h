/*
 * limiter.h - the rate limiter's arithmetic, shared by every store: "at
 * most N accepted within any sliding window of length P".
 *
 * The state of one key is a small ring, sized by N:
 *  - exact mode (N <= LIMITER_EXACT_MAX): the timestamps of the last N
 *    accepted events (N slots). An event at now is allowed iff fewer than
 *    N stamps are > now - P; when refused, the wait is (the oldest stamp
 *    still counted) + P - now.
 *  - bucket mode (N > LIMITER_EXACT_MAX): LIMITER_BUCKETS counters, each
 *    for a slot of width w = ceil(P / LIMITER_BUCKETS) ms. Every slot that
 *    overlaps the window counts whole: never more than N in any window of
 *    length P, but an event may be refused up to w early (the effective
 *    window is at most P + w, i.e. 1/256 longer).
 * Memory per key: limiter_size(N), at most about 2 KB.
 * Times are milliseconds from any fixed origin (the store's clock); a
 * clock that goes backwards is treated as "now = newest stamp".
 * The Redis Lua script implements exactly these rules; the C unit tests and
 * the Redis tests share one table of cases.
 */
#ifndef TX_LIMITER_H
#define TX_LIMITER_H

#include <stddef.h>
#include <stdint.h>

#define LIMITER_EXACT_MAX 256
#define LIMITER_BUCKETS   256

typedef struct limiter_state {
    uint32_t limit;             /* N the state was built for */
    uint32_t nslots;            /* min(N, 256) in exact mode, 256 in bucket mode */
    uint32_t head, n;           /* exact mode: ring start and stamps held */
    uint64_t period_ms;         /* P the state was built for */
    uint64_t last_ms;           /* newest event (idle expiry, clock steps) */
    uint64_t base_slot;         /* bucket mode: slot number counted by slot[head] */
    uint64_t slot[];            /* exact: stamps; bucket: counts */
} LIMITER_STATE;

/* limiter_size - bytes to allocate for a state with limit N */
size_t limiter_size(uint32_t limit);

/* limiter_init - an empty state for N and P in memory of limiter_size(N) */
void limiter_init(LIMITER_STATE *st, uint32_t limit, uint64_t period_ms);

/* limiter_check - would one more event at now be allowed? Returns 1 or 0,
 * the events counted in the window, and when refused the wait in ms until
 * one more would be allowed (>= 1). Forgets what has left the window. */
int limiter_check(LIMITER_STATE *st, uint64_t now_ms, uint32_t *count, uint64_t *wait_ms);

/* limiter_charge - record an event at now (after limiter_check allowed it) */
void limiter_charge(LIMITER_STATE *st, uint64_t now_ms);

/* limiter_refund - take back one event recorded at stamp (a transaction
 * that did not complete); a no-op if it has left the window already. */
void limiter_refund(LIMITER_STATE *st, uint64_t stamp_ms);

/* limiter_idle - 1 if nothing is inside the window at now (may be dropped) */
int limiter_idle(const LIMITER_STATE *st, uint64_t now_ms);

/* limiter_convert - carry a state over to a new N and P (a reloaded
 * policy), keeping the newest events, never letting more through than
 * either rule would. dst has limiter_size(new N) bytes. */
void limiter_convert(const LIMITER_STATE *src, LIMITER_STATE *dst, uint32_t limit, uint64_t period_ms,
                     uint64_t now_ms);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_store_failover.h - StoreFailure: what happens while the shared store
 * cannot be asked.
 *
 *   local     the embedded store decides meanwhile (protection goes on,
 *             per relay) - the default
 *   accept    recipients are accepted without a decision
 *   tempfail  recipients get 451 4.4.3 until the store is back
 *
 * A circuit breaker keeps messages from each waiting for a timeout while
 * Redis is down: after a failure the primary is not asked again for
 * retry_ms (or, with 0, the primary's own breaker does that), then one
 * call probes it; when it answers,
 * decisions go back to it. Every switch is logged once, and counters say
 * how many decisions each way took.
 */
#ifndef TX_RATE_STORE_FAILOVER_H
#define TX_RATE_STORE_FAILOVER_H

#include <stdint.h>

#include "rate_store.h"

typedef enum rate_store_failure {
    RATE_STORE_FAIL_LOCAL = 0,
    RATE_STORE_FAIL_ACCEPT,
    RATE_STORE_FAIL_TEMPFAIL,
} RATE_STORE_FAILURE;

/* rate_store_failover_policy_str - "local", "accept" or "tempfail" */
const char *rate_store_failover_policy_str(RATE_STORE_FAILURE f);

typedef struct rate_store_failover_stats {
    uint64_t primary_ok;        /* decisions by the primary */
    uint64_t primary_failed;    /* calls that failed (timeout, connection) */
    uint64_t fallback;          /* decisions taken while the primary was unavailable */
    int      primary_up;        /* the breaker is closed */
} RATE_STORE_FAILOVER_STATS;

/* rate_store_failover_new - wrap primary; takes ownership of both stores.
 * local may be NULL unless policy is RATE_STORE_FAIL_LOCAL. retry_ms 0: the
 * primary has a breaker of its own (redis_pool.h) and is asked every call. */
RATE_STORE *rate_store_failover_new(RATE_STORE *primary, RATE_STORE *local,
                                    RATE_STORE_FAILURE policy, unsigned retry_ms);

void rate_store_failover_stats(RATE_STORE *s, RATE_STORE_FAILOVER_STATS *st);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_store_redis.h - rate state in Redis, shared by several relays.
 *
 * URLs: redis://[:password@]host[:port][/db], redis+unix:///path[?db=N]
 * (a password as redis+unix://:password@/path), and
 * redis-sentinel://[:password@]host:port[,host:port...]/master-name[/db].
 * Each decide() is one EVALSHA of a Lua script that applies rate_limiter.h's
 * rules to every key of one recipient atomically, with Redis TIME as the
 * clock (NOSCRIPT: the script is loaded again and the call repeated).
 * Keys are PREFIX "{txmilter}:" rule-key, so that on Redis Cluster every
 * key of a script shares one hash slot.
 * The connections are a REDIS_POOL (redis_pool.h): one per Redis, shared
 * with the suppression list in the daemon.
 */
#ifndef TX_RATE_STORE_REDIS_H
#define TX_RATE_STORE_REDIS_H

#include <stdint.h>

#include "rate_store.h"
#include "redis_pool.h"
#include "util.h"

typedef struct rate_store_redis_opts {
    unsigned connect_timeout_ms;    /* default 100 */
    unsigned timeout_ms;            /* per command, default 50 */
    unsigned pool_size;             /* connections, default 8 */
    const char *prefix;             /* default "txm:" */
} RATE_STORE_REDIS_OPTS;

/* rate_store_redis_new - parse url and prepare a pool of its own, without a
 * breaker; does not connect (so txmilter starts while Redis is down).
 * NULL with a reason for a bad URL. */
RATE_STORE *rate_store_redis_new(const char *url, const RATE_STORE_REDIS_OPTS *o, BUF *err);

/* rate_store_redis_open - a rate store on pool, which the caller keeps and frees
 * after the store; prefix NULL: "txm:". NULL with a reason for a bad prefix. */
RATE_STORE *rate_store_redis_open(REDIS_POOL *pool, const char *prefix, BUF *err);

/* rate_store_redis_ping - one round trip now: 0 if Redis answered */
int rate_store_redis_ping(RATE_STORE *s, BUF *err);

/* rate_store_redis_set_clock - tests only: the script takes "now" from clock_ms
 * (passed as its ARGV "now") instead of Redis TIME, so that a test runs
 * the C limiter and the script on one timeline. NULL: TIME again. */
void rate_store_redis_set_clock(RATE_STORE *s, uint64_t (*clock_ms)(void));

#endif

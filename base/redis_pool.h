/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * redis_pool.h - one pool of Redis connections for every store on one
 * Redis (rate limits, suppression list), with one circuit breaker.
 * See redis_pool.c for the contract.
 */
#ifndef TX_REDIS_POOL_H
#define TX_REDIS_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The suppression list's keys (suppress_redis.c), named here because the
 * rate script (rate_store_redis_lua.c) reads them too: a recipient's rate
 * decision fetches its suppressions in the same round trip. */
#define REDIS_SUP_PREFIX    "txm:{txmilter}:unsub:"
#define REDIS_SUP_STREAMS   REDIS_SUP_PREFIX "streams"
#define REDIS_SUP_HASH      REDIS_SUP_PREFIX "s:"
#define REDIS_SUP_SOFT      REDIS_SUP_PREFIX "soft:"    /* soft bounce reports */

/* the reason redis_pool_call() appends to err begins so when a call was
 * not sent because the breaker is open */
#define REDIS_POOL_NOT_ASKED "not asked: "

typedef struct redis_pool REDIS_POOL;

typedef struct redis_pool_opts {
    unsigned connect_timeout_ms;    /* default 100 */
    unsigned timeout_ms;            /* per command, default 50 */
    unsigned pool_size;             /* connections, default 8 */
    unsigned retry_ms;              /* breaker: 0 none, else ask again after this */
} REDIS_POOL_OPTS;

typedef struct redis_pool_stats {
    uint64_t calls_ok;              /* answered (an error reply counts as answered) */
    uint64_t calls_failed;          /* connection trouble or timeout */
    uint64_t calls_skipped;         /* not sent: the breaker was open */
    int      up;                    /* the breaker is closed */
} REDIS_POOL_STATS;

/* redis_pool_new - parse url (rate_store_redis.h's grammar); no connection yet.
 * NULL with a reason (never the URL: it may hold a password) in err. */
REDIS_POOL *redis_pool_new(const char *url, const REDIS_POOL_OPTS *o, BUF *err);

/* redis_pool_quiet - log nothing (call it before the first call): the caller
 * reports every failure from err */
void redis_pool_quiet(REDIS_POOL *p);

/* redis_pool_free - close every connection; NULL is ignored */
void redis_pool_free(REDIS_POOL *p);

/* redis_pool_call - one command: argv[i] of argvlen[i] bytes. With lua
 * non-NULL (a string that lives as long as the pool), argv[0] and argv[1]
 * are filled in with EVALSHA and the script's SHA1 (EVAL on NOSCRIPT);
 * argv and argvlen must be writable then. what names the caller in the
 * log. The reply (never an error reply), for freeReplyObject(); NULL with
 * the reason appended to err when Redis could not be asked, did not answer
 * in time or answered an error; the reason begins with REDIS_POOL_NOT_ASKED
 * when the breaker kept the call from being sent. */
struct redisReply;
struct redisReply *redis_pool_call(REDIS_POOL *p, const char *what, const char *lua, int argc,
                                   const char **argv, size_t *argvlen, BUF *err);

/* redis_pool_ping - one PING now (through the breaker); 0, or -1 with err */
int redis_pool_ping(REDIS_POOL *p, BUF *err);

/* redis_pool_up - 1 while the breaker is closed */
int redis_pool_up(REDIS_POOL *p);

/* redis_pool_stats - a copy of the counters */
void redis_pool_stats(REDIS_POOL *p, REDIS_POOL_STATS *st);

#endif

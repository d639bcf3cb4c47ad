/*
 * store_redis.h - rate state in Redis, shared by several relays.
 *
 * URLs: redis://[:password@]host[:port][/db], redis+unix:///path[?db=N]
 * (a password as redis+unix://:password@/path), and
 * redis-sentinel://[:password@]host:port[,host:port...]/master-name[/db].
 * Each decide() is one EVALSHA of a Lua script that applies limiter.h's
 * rules to every key of one recipient atomically, with Redis TIME as the
 * clock (NOSCRIPT: the script is loaded again and the call repeated).
 * Keys are PREFIX "{txmilter}:" rule-key, so that on Redis Cluster every
 * key of a script shares one hash slot.
 * A pool of connections (hiredis contexts are not thread-safe); every call
 * has a timeout; a broken connection is reconnected on its next use,
 * never while a call waits.
 */
#ifndef TX_STORE_REDIS_H
#define TX_STORE_REDIS_H

#include <stdint.h>

#include "rl_store.h"
#include "util.h"

typedef struct store_redis_opts {
    unsigned connect_timeout_ms;    /* default 100 */
    unsigned timeout_ms;            /* per command, default 50 */
    unsigned pool_size;             /* connections, default 8 */
    const char *prefix;             /* default "txm:" */
} STORE_REDIS_OPTS;

/* store_redis_new - parse url and prepare the pool; does not connect (so
 * txmilter starts while Redis is down). NULL with a reason for a bad URL. */
RL_STORE *store_redis_new(const char *url, const STORE_REDIS_OPTS *o, BUF *err);

/* store_redis_ping - one round trip now: 0 if Redis answered */
int store_redis_ping(RL_STORE *s, BUF *err);

/* store_redis_command - one command (argv[i] of argvlen[i] bytes, binary
 * safe, 1 to 16 arguments) on a pooled connection, with the pool's
 * timeouts, reconnects and Sentinel discovery; what names the caller in
 * the log. The reply, for freeReplyObject(); NULL with the reason in err
 * when Redis could not be asked or answered an error. For other users of
 * the same Redis (the suppression list). */
struct redisReply;
struct redisReply *store_redis_command(RL_STORE *s, const char *what, int argc, const char **argv,
                                       const size_t *argvlen, BUF *err);

/* store_redis_set_clock - tests only: the script takes "now" from clock_ms
 * (passed as its ARGV "now") instead of Redis TIME, so that a test runs
 * the C limiter and the script on one timeline. NULL: TIME again. */
void store_redis_set_clock(RL_STORE *s, uint64_t (*clock_ms)(void));

#endif

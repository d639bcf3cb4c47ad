/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_store_redis_int.h - between the parts of the Redis rate store: the
 * Lua script (rate_store_redis_lua.c) and the calls (rate_store_redis.c). Nothing
 * else includes it.
 */
#ifndef TX_RATE_STORE_REDIS_INT_H
#define TX_RATE_STORE_REDIS_INT_H

#include "rate_store.h"
#include "redis_url.h"
#include "util.h"

#define RD_PREFIX_MAX   64
/* The hash tag: on Redis Cluster only "txmilter" is hashed, so every key
 * of one EVALSHA lives in one slot, as a script's keys must. */
#define RD_TAG          "{txmilter}:"
#define RD_TAG_LEN      (sizeof(RD_TAG) - 1)
/* every argument of one EVALSHA: command, sha, numkeys, keys, op, now,
 * stamp, 3 per key, 5 for a recipient's suppressions */
#define RD_ARGS_MAX     (11 + 4 * RATE_STORE_ITEMS_MAX)

/* rate_store_redis_lua - the script EVALSHA runs (see rate_store_redis_lua.c) */
extern const char rate_store_redis_lua[];

#endif

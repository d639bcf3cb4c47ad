/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress_redis_int.h - what suppress_redis.c and suppress_redis_soft.c
 * share: the Redis list's handle and its one way of sending a command.
 * Not an interface for anyone else: callers use suppress.h.
 */
#ifndef TX_SUPPRESS_REDIS_INT_H
#define TX_SUPPRESS_REDIS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>

#include "redis_pool.h"
#include "suppress_impl.h"
#include "util.h"

/* the longest key of a pair's soft reports, with its NUL */
#define SR_SOFT_MAX     (sizeof(REDIS_SUP_SOFT) + 8 + 2 * SUPPRESS_FIELD_MAX)

typedef struct sr_store {
    SUPPRESS  base;
    REDIS_POOL *pool;
    int       own_pool;
} SR_STORE;

/* suppress_redis_cmd - one command through the pool; NULL with err set */
redisReply *suppress_redis_cmd(SR_STORE *r, const char *what, int argc, const char **argv,
                               const size_t *argvlen, BUF *err);

/* suppress_redis_soft_key - the key of (rcpt, stream)'s soft reports into key; its length */
size_t suppress_redis_soft_key(const char *rcpt, const char *stream, char key[SR_SOFT_MAX]);

/* suppress_redis_soft_list - s->ops->soft_list: the pairs in the window; their number, or -1 */
long suppress_redis_soft_list(SUPPRESS *s, const char *rcpt, const char *stream,
                              uint64_t window_s, void (*fn)(const SUPPRESS_SOFT *e, void *arg),
                              void *arg, BUF *err);

/* suppress_redis_soft_count - s->ops->soft: count one report; the reports in the window, or -1 */
long suppress_redis_soft_count(SUPPRESS *s, const char *rcpt, const char *stream,
                               const char *report, uint64_t window_s, BUF *err);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_store_redis.c - rate state in Redis, shared by several relays
 *
 * SYNOPSIS
 *	#include "rate_store_redis.h"
 *
 *	RATE_STORE *rate_store_redis_new(const char *url, const RATE_STORE_REDIS_OPTS *o,
 *					 BUF *err)
 *	RATE_STORE *rate_store_redis_open(REDIS_POOL *pool, const char *prefix,
 *					  BUF *err)
 *	int	rate_store_redis_ping(RATE_STORE *s, BUF *err)
 *	void	rate_store_redis_set_clock(RATE_STORE *s, uint64_t (*clock_ms)(void))
 *
 *	and, through s->ops (rate_store.h): decide, decide_sup, refund, peek,
 *	reset, free.
 *
 * DESCRIPTION
 *	rate_store_redis_new() parses url (below), copies the options (o may be
 *	NULL: every default) and prepares a pool of o->pool_size connections
 *	without connecting, so txmilter starts while Redis is down.
 *
 *	redis://[[user]:password@]host[:port][/db]		port 6379
 *	redis+unix://[[user]:password@]/path[?db=N]
 *	redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]
 *								port 26379
 *	host may be [IPv6]; %XX escapes are decoded in user and password,
 *	which are for the data node (AUTH), never sent to sentinels. A host
 *	name is resolved at each connect by the system resolver: use an
 *	address when the connect timeout must hold against a slow DNS.
 *
 *	Every decide(), refund() and peek() is one EVALSHA of rate_store_redis_lua
 *	over all the keys of one recipient: atomic, with Redis TIME as the
 *	clock (NOSCRIPT is answered by EVAL, see redis_pool.c). reset() is
 *	one DEL.
 *	A key is prefix "{txmilter}:" item key; the hash tag puts every key
 *	of a call in one Redis Cluster slot. Keys are binary-safe arguments.
 *
 *	The connections, timeouts, Sentinel and the circuit breaker are
 *	redis_pool.c's. rate_store_redis_open() uses a pool the caller made and
 *	still owns (the daemon shares it with the suppression list);
 *	rate_store_redis_new() makes a pool of its own, without a breaker
 *	(rate_store_failover.c is the rate store's), and frees it with the store.
 *
 *	decide_sup() is decide() that also returns, from the same script
 *	call, the streams sup->rcpt unsubscribed from (the suppression
 *	list's keys of redis_pool.h): at most RATE_STORE_SUP_MAX, looked up among at
 *	most RD_SUP_SCAN streams; beyond either bound sup->fetched stays 0
 *	and the caller asks the list itself.
 *
 *	rate_store_redis_ping() sends PING now. rate_store_redis_set_clock() is for
 *	tests: the script then takes "now" from clock_ms() instead of TIME.
 *
 * DIAGNOSTICS
 *	rate_store_redis_new() returns NULL with a reason in err for a bad URL
 *	(the URL is not repeated: it may hold a password). The store
 *	operations return RATE_STORE_UNAVAILABLE when Redis cannot be asked or
 *	answers an error, RATE_STORE_NOT_ASKED when the pool's breaker kept the
 *	call from being sent; the pool logs why (rate_store_failover logs each
 *	outage). rate_store_redis_ping() returns
 *	-1 with the reason in err.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis.h>

#include "log.h"
#include "rate_store_redis.h"
#include "rate_store_redis_int.h"
#include "redis_pool.h"
#include "util.h"

#define RD_SUP_SCAN     256             /* streams a decide_sup() looks at */

typedef struct rate_store_redis {
    RATE_STORE store;
    REDIS_POOL *pool;
    int      own_pool;                  /* made by rate_store_redis_new() */
    char     prefix[RD_PREFIX_MAX + 1];
    size_t   plen;
    uint64_t (*clock_ms)(void);         /* tests only */
} RATE_STORE_REDIS;

/* rd_call - one command through the pool; NULL after the pool logged why */
static redisReply *rd_call(RATE_STORE_REDIS *r, const char *what, int script, int argc,
                           const char **argv, size_t *argvlen, BUF *err)
{
    return redis_pool_call(r->pool, what, script ? rate_store_redis_lua : NULL, argc, argv, argvlen,
                           err);
}

/* rd_down - the status of a call the pool did not answer (why: the reason
 * rd_call() gave, in a buffer that was empty before) */
static RATE_STORE_STATUS rd_down(const char *why)
{
    return strncmp(why, REDIS_POOL_NOT_ASKED, sizeof(REDIS_POOL_NOT_ASKED) - 1) == 0
        ? RATE_STORE_NOT_ASKED : RATE_STORE_UNAVAILABLE;
}

/* rd_fail - a reply the store cannot use: a bug or a foreign script */
static void rd_fail(RATE_STORE_REDIS *r, const char *what, const char *why)
{
    (void) r;
    log_err("redis rate store: %s: %s", what, why);
}

/* rd_script - run the script for op over items (with sup: fetch its
 * suppressions too); the reply array, want integers first, or NULL */
static redisReply *rd_script(RATE_STORE_REDIS *r, const char *op, const RATE_STORE_ITEM *items,
                             size_t n, uint64_t stamp, size_t want, const RATE_STORE_SUP *sup,
                             RATE_STORE_STATUS *st)
{
    const char *what = *op == 'D' ? "decide" : *op == 'R' ? "refund" : "peek";
    const char *argv[RD_ARGS_MAX];
    size_t argvlen[RD_ARGS_MAX], klen = r->plen + RD_TAG_LEN + RATE_STORE_KEY_MAX, i, k, argc = 0;
    char nums[5 + 3 * RATE_STORE_ITEMS_MAX][24], why_mem[RD_ERR_MAX], *keys;
    int nn = 0;
    redisReply *rep;
    BUF why;

    *st = RATE_STORE_UNAVAILABLE;
    if (n == 0 || n > RATE_STORE_ITEMS_MAX) {
        log_err("redis rate store: %s: %zu items (1 to %d)", what, n, RATE_STORE_ITEMS_MAX);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (items[i].rule == NULL || items[i].rule->limit == 0) {
            log_err("redis rate store: %s: item %zu has no rule or a limit of 0", what, i);
            return NULL;
        }
    }
    keys = xmalloc(n * klen);
    argv[argc] = NULL, argvlen[argc++] = 0;             /* EVALSHA */
    argv[argc] = NULL, argvlen[argc++] = 0;             /* sha */
    snprintf(nums[nn], sizeof(nums[nn]), "%zu", n);
    argv[argc] = nums[nn], argvlen[argc++] = strlen(nums[nn++]);
    for (i = 0; i < n; i++) {
        char *kp = keys + i * klen;

        k = strnlen(items[i].key, RATE_STORE_KEY_MAX - 1);
        memcpy(kp, r->prefix, r->plen);
        memcpy(kp + r->plen, RD_TAG, RD_TAG_LEN);
        memcpy(kp + r->plen + RD_TAG_LEN, items[i].key, k);
        argv[argc] = kp, argvlen[argc++] = r->plen + RD_TAG_LEN + k;
    }
    argv[argc] = op, argvlen[argc++] = strlen(op);
    if (r->clock_ms)
        snprintf(nums[nn], sizeof(nums[nn]), "%llu", (unsigned long long) r->clock_ms());
    else
        nums[nn][0] = 0;
    argv[argc] = nums[nn], argvlen[argc++] = strlen(nums[nn++]);
    snprintf(nums[nn], sizeof(nums[nn]), "%llu", (unsigned long long) stamp);
    argv[argc] = nums[nn], argvlen[argc++] = strlen(nums[nn++]);
    for (i = 0; i < n; i++) {
        snprintf(nums[nn], sizeof(nums[nn]), "%lu", (unsigned long) items[i].rule->limit);
        argv[argc] = nums[nn], argvlen[argc++] = strlen(nums[nn++]);
        snprintf(nums[nn], sizeof(nums[nn]), "%llu", (unsigned long long) items[i].rule->period_ms);
        argv[argc] = nums[nn], argvlen[argc++] = strlen(nums[nn++]);
        argv[argc] = items[i].rule->shadow ? "1" : "0", argvlen[argc++] = 1;
    }
    if (sup) {
        argv[argc] = REDIS_SUP_STREAMS, argvlen[argc++] = sizeof(REDIS_SUP_STREAMS) - 1;
        argv[argc] = REDIS_SUP_HASH, argvlen[argc++] = sizeof(REDIS_SUP_HASH) - 1;
        argv[argc] = sup->rcpt, argvlen[argc++] = strlen(sup->rcpt);
        snprintf(nums[nn], sizeof(nums[nn]), "%d", RD_SUP_SCAN);
        argv[argc] = nums[nn], argvlen[argc++] = strlen(nums[nn++]);
        snprintf(nums[nn], sizeof(nums[nn]), "%d", RATE_STORE_SUP_MAX);
        argv[argc] = nums[nn], argvlen[argc++] = strlen(nums[nn++]);
    }
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    rep = rd_call(r, what, 1, (int) argc, argv, argvlen, &why);
    free(keys);
    *st = rep ? RATE_STORE_OK : rd_down(why.data);
    if (rep && (rep->type != REDIS_REPLY_ARRAY || (sup ? rep->elements <= want
                                                   : rep->elements != want))) {
        rd_fail(r, what, "the script's reply has an unexpected shape");
        freeReplyObject(rep);
        return NULL;
    }
    for (i = 0; rep && i < want; i++) {
        if (rep->element[i]->type != REDIS_REPLY_INTEGER || rep->element[i]->integer < 0) {
            rd_fail(r, what, "the script's reply has an unexpected shape");
            freeReplyObject(rep);
            return NULL;
        }
    }
    return rep;
}

/* rd_result - one item's result from three integers of a reply */
static void rd_result(redisReply **e, RATE_STORE_RESULT *res)
{
    res->allowed = e[0]->integer != 0;
    res->count = e[1]->integer > UINT32_MAX ? UINT32_MAX : (uint32_t) e[1]->integer;
    res->wait_ms = (uint64_t) e[2]->integer;
}

/* rd_sup - the suppressions at the end of a decision's reply into sup:
 * k, then k pairs of stream and stored value */
static void rd_sup(redisReply **e, size_t ne, RATE_STORE_SUP *sup)
{
    size_t i, k;

    if (e[0]->type != REDIS_REPLY_INTEGER || e[0]->integer < 0 || e[0]->integer > RATE_STORE_SUP_MAX
        || (k = (size_t) e[0]->integer) * 2 != ne - 1)
        return;                             /* too many, or not looked up: not fetched */
    for (i = 1; i <= 2 * k; i++)
        if (e[i]->type != REDIS_REPLY_STRING || (i % 2 == 1 && e[i]->len == 0)
            || e[i]->len >= RD_ERR_MAX || memchr(e[i]->str, 0, e[i]->len) != NULL)
            return;
    for (i = 1; i <= 2 * k; i += 2) {
        strv_add(&sup->streams, e[i]->str);
        strv_add(&sup->values, e[i + 1]->str);
    }
    sup->fetched = 1;
}

/* rd_decide_sup - one EVALSHA deciding every item, sup fetched with it (sup may be NULL) */
static RATE_STORE_STATUS rd_decide_sup(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                       RATE_STORE_RESULT *res, int *accepted, uint64_t *stamp_ms,
                                       RATE_STORE_SUP *sup)
{
    RATE_STORE_REDIS *r = (RATE_STORE_REDIS *) s;
    redisReply *rep;
    RATE_STORE_STATUS st;
    size_t i;

    if (sup)
        sup->fetched = 0;
    if (n == 0) {
        *accepted = 1;
        *stamp_ms = 0;
        return RATE_STORE_OK;
    }
    if ((rep = rd_script(r, "D", items, n, 0, 2 + 3 * n, sup, &st)) == NULL)
        return st == RATE_STORE_OK ? RATE_STORE_UNAVAILABLE : st;
    *accepted = rep->element[0]->integer != 0;
    *stamp_ms = (uint64_t) rep->element[1]->integer;
    for (i = 0; i < n; i++)
        rd_result(rep->element + 2 + 3 * i, &res[i]);
    if (sup)
        rd_sup(rep->element + 2 + 3 * n, rep->elements - (2 + 3 * n), sup);
    freeReplyObject(rep);
    return RATE_STORE_OK;
}

/* rd_decide - one EVALSHA deciding every item */
static RATE_STORE_STATUS rd_decide(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                   RATE_STORE_RESULT *res, int *accepted, uint64_t *stamp_ms)
{
    return rd_decide_sup(s, items, n, res, accepted, stamp_ms, NULL);
}

/* rd_refund - give back the events charged at stamp */
static RATE_STORE_STATUS rd_refund(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                   uint64_t stamp_ms)
{
    redisReply *rep;
    RATE_STORE_STATUS st;

    if (n == 0)
        return RATE_STORE_OK;
    if ((rep = rd_script((RATE_STORE_REDIS *) s, "R", items, n, stamp_ms, 1, NULL, &st)) == NULL)
        return st == RATE_STORE_OK ? RATE_STORE_UNAVAILABLE : st;
    freeReplyObject(rep);
    return RATE_STORE_OK;
}

/* rd_peek - count and wait of one item, charging nothing */
static RATE_STORE_STATUS rd_peek(RATE_STORE *s, const RATE_STORE_ITEM *item, RATE_STORE_RESULT *res)
{
    redisReply *rep;
    RATE_STORE_STATUS st;

    if ((rep = rd_script((RATE_STORE_REDIS *) s, "P", item, 1, 0, 3, NULL, &st)) == NULL)
        return st == RATE_STORE_OK ? RATE_STORE_UNAVAILABLE : st;
    rd_result(rep->element, res);
    freeReplyObject(rep);
    return RATE_STORE_OK;
}

/* rd_reset - DEL one key */
static RATE_STORE_STATUS rd_reset(RATE_STORE *s, const char *key)
{
    RATE_STORE_REDIS *r = (RATE_STORE_REDIS *) s;
    size_t k = strnlen(key, RATE_STORE_KEY_MAX - 1);
    char buf[RD_PREFIX_MAX + RD_TAG_LEN + RATE_STORE_KEY_MAX], why_mem[RD_ERR_MAX];
    const char *argv[2] = { "DEL", buf };
    size_t argvlen[2] = { 3, r->plen + RD_TAG_LEN + k };
    redisReply *rep;
    BUF why;

    memcpy(buf, r->prefix, r->plen);
    memcpy(buf + r->plen, RD_TAG, RD_TAG_LEN);
    memcpy(buf + r->plen + RD_TAG_LEN, key, k);
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if ((rep = rd_call(r, "reset", 0, 2, argv, argvlen, &why)) == NULL)
        return rd_down(why.data);
    freeReplyObject(rep);
    return RATE_STORE_OK;
}

/* rd_free - free the store, and its pool if it made it */
static void rd_free(RATE_STORE *s)
{
    RATE_STORE_REDIS *r = (RATE_STORE_REDIS *) s;

    if (r == NULL)
        return;
    if (r->own_pool)
        redis_pool_free(r->pool);
    free(r);
}

static const RATE_STORE_OPS rd_ops = {
    rd_decide, rd_refund, rd_peek, rd_reset, rd_free, "redis", rd_decide_sup,
};

/* rate_store_redis_open - a rate store on pool (not freed with it) */
RATE_STORE *rate_store_redis_open(REDIS_POOL *pool, const char *prefix, BUF *err)
{
    RATE_STORE_REDIS *r;

    if (prefix == NULL)
        prefix = "txm:";
    if (strlen(prefix) > RD_PREFIX_MAX) {
        (void) redis_url_seterr(err, "the key prefix is longer than 64 bytes");
        return NULL;
    }
    r = xcalloc(1, sizeof(*r));
    r->store.ops = &rd_ops;
    r->pool = pool;
    util_strlcpy(r->prefix, prefix, sizeof(r->prefix));
    r->plen = strlen(r->prefix);
    return &r->store;
}

/* rate_store_redis_new - parse the URL and prepare a pool of its own (no connection yet) */
RATE_STORE *rate_store_redis_new(const char *url, const RATE_STORE_REDIS_OPTS *o, BUF *err)
{
    REDIS_POOL_OPTS po;
    REDIS_POOL *pool;
    RATE_STORE *s;

    memset(&po, 0, sizeof(po));
    if (o) {
        po.connect_timeout_ms = o->connect_timeout_ms;
        po.timeout_ms = o->timeout_ms;
        po.pool_size = o->pool_size;
    }
    if ((pool = redis_pool_new(url, &po, err)) == NULL)
        return NULL;
    if ((s = rate_store_redis_open(pool, o ? o->prefix : NULL, err)) == NULL) {
        redis_pool_free(pool);
        return NULL;
    }
    ((RATE_STORE_REDIS *) s)->own_pool = 1;
    return s;
}

/* rate_store_redis_ping - one PING now */
int rate_store_redis_ping(RATE_STORE *s, BUF *err)
{
    return redis_pool_ping(((RATE_STORE_REDIS *) s)->pool, err);
}

/* rate_store_redis_set_clock - tests only: "now" from clock_ms instead of TIME */
void rate_store_redis_set_clock(RATE_STORE *s, uint64_t (*clock_ms)(void))
{
    ((RATE_STORE_REDIS *) s)->clock_ms = clock_ms;
}

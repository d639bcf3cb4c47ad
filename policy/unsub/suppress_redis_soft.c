/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress_redis_soft.c - the Redis suppression list's soft bounce counts
 *
 * SYNOPSIS
 *	#include "suppress_redis_int.h"
 *
 *	long	suppress_redis_soft_count(SUPPRESS *s, const char *rcpt,
 *			const char *stream, const char *report,
 *			uint64_t window_s, BUF *err)
 *	size_t	suppress_redis_soft_key(const char *rcpt, const char *stream,
 *			char key[SR_SOFT_MAX])
 *	long	suppress_redis_soft_list(SUPPRESS *s, const char *rcpt,
 *			const char *stream, uint64_t window_s,
 *			void (*fn)(const SUPPRESS_SOFT *e, void *arg),
 *			void *arg, BUF *err)
 *
 * DESCRIPTION
 *	The soft bounces of each (recipient, stream) pair, for
 *	BounceSoftLimit, beside the list of suppress_redis.c:
 *
 *	txm:{txmilter}:unsub:soft:LEN:STREAM:RCPT
 *				sorted set: the pair's reports (member the
 *				report's id, score when it was counted,
 *				Redis TIME), LEN the bytes of STREAM, so
 *				that no stream or recipient can make another
 *				pair's key; its TTL the window (a string
 *				there, the count of the build before
 *				reports, becomes that many reports, at most
 *				1000, at the time its TTL tells)
 *
 *	suppress_redis_soft_key() makes that key (REDIS_SUP_SOFT of
 *	redis_pool.h; suppress_redis.c deletes it with the entry).
 *	suppress_redis_soft_count() is one EVAL: reports older than the
 *	window go (ZREMRANGEBYSCORE), the report is added unless there
 *	(ZADD NX), the key lives a window more (EXPIRE), ZCARD is the
 *	count: the same sliding window as the SQLite store, on Redis's clock
 *	for every relay. The key holds the hash tag of the list's keys, so
 *	the script stays valid in a Redis Cluster.
 *
 *	suppress_redis_soft_list() reads, for txmilterctl: the pair's key
 *	when both are given, else every key of that form (SCAN MATCH, in
 *	batches, in no order; as with every SCAN a key made or gone
 *	meanwhile may be missed), each with one read-only EVAL: the
 *	reports within the window (ZCOUNT) and the oldest and newest of
 *	them; a count of the build before has no times (0). A key whose
 *	name does not parse is skipped.
 *
 * DIAGNOSTICS
 *	-1 with "redis: suppress soft count: ..." in err when Redis cannot be
 *	asked, answers an error (its text) or anything but a count of at
 *	least one; the pool logs connection trouble itself.
 */
#include <stdio.h>
#include <string.h>

#include <hiredis.h>

#include "suppress_redis_int.h"

/* KEYS[1] the pair's soft reports; ARGV the window (seconds), the report's id */
static const char sr_soft_lua[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local now = tonumber(redis.call('TIME')[1])\n"
    "local window = tonumber(ARGV[1])\n"
    "if redis.call('TYPE', KEYS[1]).ok == 'string' then\n"
    "  local n = tonumber(redis.call('GET', KEYS[1])) or 0\n"
    "  local ttl = redis.call('TTL', KEYS[1])\n"
    "  local at = now\n"
    "  if ttl > 0 and ttl < window then at = now - (window - ttl) end\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  for i = 1, math.min(n, 1000) do redis.call('ZADD', KEYS[1], at, 'counted-' .. i) end\n"
    "end\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)\n"
    "redis.call('ZADD', KEYS[1], 'NX', now, ARGV[2])\n"
    "redis.call('EXPIRE', KEYS[1], window)\n"
    "return redis.call('ZCARD', KEYS[1])\n";

/* KEYS[1] a pair's soft reports; ARGV[1] the window: {count, oldest, newest} in it, read only */
static const char sr_soft_list_lua[] =
    "local now = tonumber(redis.call('TIME')[1])\n"
    "local t = redis.call('TYPE', KEYS[1]).ok\n"
    "if t == 'string' then return {tonumber(redis.call('GET', KEYS[1])) or 0, 0, 0} end\n"
    "if t ~= 'zset' then return {0, 0, 0} end\n"
    "local from = '(' .. (now - tonumber(ARGV[1]))\n"
    "local n = redis.call('ZCOUNT', KEYS[1], from, '+inf')\n"
    "if n == 0 then return {0, 0, 0} end\n"
    "local a = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)\n"
    "local b = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', from, 'WITHSCORES', 'LIMIT', 0, 1)\n"
    "return {n, tonumber(a[2]), tonumber(b[2])}\n";

/* suppress_redis_soft_key - the soft count key of (rcpt, stream) into key; its length */
size_t suppress_redis_soft_key(const char *rcpt, const char *stream, char key[SR_SOFT_MAX])
{
    size_t sn = strnlen(stream, SUPPRESS_FIELD_MAX - 1), rn = strnlen(rcpt, SUPPRESS_FIELD_MAX - 1);
    int n = snprintf(key, SR_SOFT_MAX, "%s%zu:%.*s:%.*s", REDIS_SUP_SOFT, sn, (int) sn, stream,
                     (int) rn, rcpt);

    return n < 0 ? 0 : (size_t) n < SR_SOFT_MAX ? (size_t) n : SR_SOFT_MAX - 1;
}

/* suppress_redis_soft_count - count one soft bounce report; the reports in the window, or -1 */
long suppress_redis_soft_count(SUPPRESS *s, const char *rcpt, const char *stream,
                               const char *report, uint64_t window_s, BUF *err)
{
    char key[SR_SOFT_MAX], window[24];
    const char *argv[6] = { "EVAL", sr_soft_lua, "1", key, window, report };
    size_t argvlen[6];
    redisReply *rep;
    long n = -1;

    snprintf(window, sizeof(window), "%llu", (unsigned long long) window_s);
    argvlen[0] = 4;
    argvlen[1] = strlen(sr_soft_lua);
    argvlen[2] = 1;
    argvlen[3] = suppress_redis_soft_key(rcpt, stream, key);
    argvlen[4] = strlen(window);
    argvlen[5] = strlen(report);
    if ((rep = suppress_redis_cmd((SR_STORE *) s, "suppress soft count", 6, argv, argvlen, err))
        == NULL)
        return -1;
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= 1)
        n = (long) rep->integer;
    else
        (void) suppress_seterr(err, "redis: suppress soft count: %s",
                               rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    freeReplyObject(rep);
    return n;
}

/* sr_soft_pair - the stream and recipient of a soft count key (its name after the
 * prefix: LEN:STREAM:RCPT) into stream and rcpt; 0, or -1 if it does not parse */
static int sr_soft_pair(const char *k, size_t n, char *stream, char *rcpt)
{
    size_t pl = sizeof(REDIS_SUP_SOFT) - 1, sn = 0, i;

    if (n <= pl || memcmp(k, REDIS_SUP_SOFT, pl) != 0)
        return -1;
    for (i = pl; i < n && k[i] >= '0' && k[i] <= '9' && i < pl + 4; i++)
        sn = sn * 10 + (size_t) (k[i] - '0');
    if (i == pl || i >= n || k[i] != ':' || sn == 0 || sn >= SUPPRESS_FIELD_MAX
        || i + 1 + sn >= n || k[i + 1 + sn] != ':' || n - (i + 2 + sn) >= SUPPRESS_FIELD_MAX
        || n == i + 2 + sn)
        return -1;
    memcpy(stream, k + i + 1, sn);
    stream[sn] = 0;
    memcpy(rcpt, k + i + 2 + sn, n - (i + 2 + sn));
    rcpt[n - (i + 2 + sn)] = 0;
    return strlen(stream) == sn && strlen(rcpt) == n - (i + 2 + sn) ? 0 : -1;
}

/* sr_soft_one - one pair's reports in the window through fn; 1 shown, 0 none, -1 */
static int sr_soft_one(SR_STORE *r, const char *rcpt, const char *stream, const char *window,
                       void (*fn)(const SUPPRESS_SOFT *e, void *arg), void *arg, BUF *err)
{
    char key[SR_SOFT_MAX];
    const char *argv[5] = { "EVAL", sr_soft_list_lua, "1", key, window };
    size_t argvlen[5] = { 4, strlen(sr_soft_list_lua), 1, 0, strlen(window) };
    SUPPRESS_SOFT e;
    redisReply *rep;
    int rc = 0;

    argvlen[3] = suppress_redis_soft_key(rcpt, stream, key);
    if ((rep = suppress_redis_cmd(r, "suppress soft list", 5, argv, argvlen, err)) == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3
        || rep->element[0]->type != REDIS_REPLY_INTEGER
        || rep->element[1]->type != REDIS_REPLY_INTEGER
        || rep->element[2]->type != REDIS_REPLY_INTEGER) {
        rc = suppress_seterr(err, "redis: suppress soft list: %s",
                             rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    } else if (rep->element[0]->integer > 0) {
        e.rcpt = rcpt;
        e.stream = stream;
        e.count = (long) rep->element[0]->integer;
        e.first = rep->element[1]->integer > 0 ? (uint64_t) rep->element[1]->integer : 0;
        e.last = rep->element[2]->integer > 0 ? (uint64_t) rep->element[2]->integer : 0;
        fn(&e, arg);
        rc = 1;
    }
    freeReplyObject(rep);
    return rc;
}

/* suppress_redis_soft_list - the pairs with reports in the window; their number, or -1 */
long suppress_redis_soft_list(SUPPRESS *s, const char *rcpt, const char *stream,
                              uint64_t window_s, void (*fn)(const SUPPRESS_SOFT *e, void *arg),
                              void *arg, BUF *err)
{
    SR_STORE *r = (SR_STORE *) s;
    char window[24], cursor[32] = "0", kr[SUPPRESS_FIELD_MAX], ks[SUPPRESS_FIELD_MAX];
    const char *argv[6] = { "SCAN", cursor, "MATCH", REDIS_SUP_SOFT "*", "COUNT", "500" };
    size_t argvlen[6] = { 4, 0, 5, sizeof(REDIS_SUP_SOFT), 5, 3 }, i;
    redisReply *rep, *el;
    long n = 0;
    int got;

    snprintf(window, sizeof(window), "%llu", (unsigned long long) window_s);
    if (rcpt && stream)
        return sr_soft_one(r, rcpt, stream, window, fn, arg, err);
    do {
        argvlen[1] = strlen(cursor);
        if ((rep = suppress_redis_cmd(r, "suppress soft list", 6, argv, argvlen, err)) == NULL)
            return -1;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2
            || rep->element[0]->type != REDIS_REPLY_STRING
            || rep->element[0]->len >= sizeof(cursor)
            || (el = rep->element[1])->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(rep);
            return suppress_seterr(err, "redis: suppress soft list: unexpected reply to SCAN");
        }
        memcpy(cursor, rep->element[0]->str, rep->element[0]->len);
        cursor[rep->element[0]->len] = 0;
        for (i = 0; i < el->elements && n >= 0; i++) {
            if (el->element[i]->type != REDIS_REPLY_STRING
                || sr_soft_pair(el->element[i]->str, el->element[i]->len, ks, kr) != 0
                || (rcpt && strcmp(rcpt, kr) != 0) || (stream && strcmp(stream, ks) != 0))
                continue;
            n = (got = sr_soft_one(r, kr, ks, window, fn, arg, err)) < 0 ? -1 : n + got;
        }
        freeReplyObject(rep);
    } while (n >= 0 && strcmp(cursor, "0") != 0);
    return n;
}

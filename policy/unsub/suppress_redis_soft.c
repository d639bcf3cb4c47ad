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

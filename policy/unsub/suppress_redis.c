/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress_redis.c - the suppression list in Redis, shared by several relays
 *
 * SYNOPSIS
 *	#include "suppress_impl.h"
 *
 *	SUPPRESS *suppress_redis_open(const char *url, unsigned timeout_ms,
 *			BUF *err)
 *	SUPPRESS *suppress_redis_open_pool(REDIS_POOL *pool)
 *
 *	#include "suppress.h"
 *
 *	int	suppress_redis_value(const char *value,
 *			SUPPRESS_REASON *reason, char *evidence)
 *
 *	and, through s->ops: add, check, remove, list, close (suppress.h);
 *	soft is suppress_redis_soft.c's.
 *
 *	#include "suppress_redis_int.h"
 *
 *	redisReply *suppress_redis_cmd(SR_STORE *r, const char *what,
 *			int argc, const char **argv, const size_t *argvlen,
 *			BUF *err)
 *
 * DESCRIPTION
 *	The same Redis as the rate limits (Store), through a redis_pool.c
 *	pool of connections (URL syntax, AUTH, SELECT, Sentinel, timeouts,
 *	reconnects, circuit breaker: see redis_pool.h).
 *	suppress_redis_open_pool() uses the pool given (txmilter's, shared
 *	with the rate store; the caller frees it after the list);
 *	suppress_redis_open() makes a pool of its own without a breaker
 *	(txmilter-unsubd, txmilterctl), where timeout_ms bounds each command
 *	and each connect (0: the pool's defaults). Nothing connects before
 *	the first call, so a daemon starts while Redis is down.
 *
 *	Data model: one hash per stream, and an index of the streams.
 *
 *	txm:{txmilter}:unsub:s:STREAM	hash: field RCPT, value
 *				"CREATED SOURCE REASON EXPIRES EVIDENCE"
 *				(times in seconds from Redis TIME, EXPIRES
 *				0 for never; EVIDENCE may hold spaces; a
 *				value of txmilter before reasons, "CREATED
 *				SOURCE", reads as reason manual for source
 *				txmilterctl, else unsubscribe, never lapsing)
 *	txm:{txmilter}:unsub:streams	set of every STREAM with entries
 *	txm:{txmilter}:unsub:soft:LEN:STREAM:RCPT
 *				sorted set: the soft bounce reports of the
 *				pair (suppress_redis_soft.c)
 *
 *	(REDIS_SUP_* of redis_pool.h: the rate script reads them too, to
 *	return a recipient's suppressions with its rate decision.)
 *
 *	Keys and fields are binary-safe arguments, so no byte of a stream or
 *	recipient needs escaping. The hash tag keeps every key in one Redis
 *	Cluster slot (as rate_store_redis's rate keys), so the two-key scripts
 *	below stay valid there. A ':' never occurs in a rate key's rule
 *	name, so these keys cannot meet rate_store_redis's "txm:{txmilter}:NAME|".
 *
 *	check	HGET: one round trip, the hot path of txmilter; EXPIRES
 *		is compared with this host's clock (relays keep NTP time;
 *		seconds do not matter against BounceSuppressFor's days).
 *		txmilter mostly gets the answer with its rate decision
 *		instead (rate_store_redis_lua.c applies the same rule).
 *	add	one EVAL: HSET unless the field exists and does not lapse
 *		before the new entry would (so the first created time and
 *		source stay), created and EXPIRES from Redis TIME (one clock
 *		for every relay), SADD of the stream: atomic.
 *	remove	one EVAL: HDEL, DEL of the pair's soft reports, and SREM of
 *		the stream when its hash is gone.
 *	list	the stream given, else SMEMBERS of the index (sorted); per
 *		stream HGET of the recipient given, else HSCAN in batches.
 *		As with every SCAN, an entry added or removed while a listing
 *		runs may be missed or reported twice.
 *
 *	suppress_redis_cmd() sends one command for suppress_redis_soft.c as
 *	for the others here: what names the caller in err and in the pool's
 *	log; the reply, or NULL with "redis: what: why" in err.
 *
 * DIAGNOSTICS
 *	-1 with a reason in err when Redis cannot be asked, answers an error
 *	or something unexpected; the pool logs connection trouble itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis.h>

#include "redis_pool.h"
#include "suppress_redis_int.h"
#include "util.h"

#define SR_STREAMS      REDIS_SUP_STREAMS
#define SR_HASH         REDIS_SUP_HASH
#define SR_KEY_MAX      (sizeof(SR_HASH) + SUPPRESS_FIELD_MAX)
#define SR_POOL         4
#define SR_SCAN_COUNT   "500"

#define SR_ARGS         11              /* the most arguments of one command */

/* KEYS[1] the stream's hash, KEYS[2] the index; ARGV rcpt, source, stream,
 * reason, expire after (seconds, 0 never), evidence */
static const char sr_add_lua[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "redis.call('SADD', KEYS[2], ARGV[3])\n"
    "local t = tonumber(redis.call('TIME')[1])\n"
    "local after = tonumber(ARGV[5])\n"
    "local exp = 0\n"
    "if after > 0 then exp = t + after end\n"
    "local old = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if old then\n"
    "  local ox = tonumber(string.match(old, '^%d+ %S+ %S+ (%d+)') or '0')\n"
    "  if ox == 0 or (exp ~= 0 and exp <= ox) then return 0 end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], t .. ' ' .. ARGV[2] .. ' ' .. ARGV[4] .. ' ' .. exp"
    " .. ' ' .. ARGV[6])\n"
    "return 1\n";

/* KEYS as for add, KEYS[3] the pair's soft reports; ARGV rcpt, stream */
static const char sr_remove_lua[] =
    "redis.call('DEL', KEYS[3])\n"
    "local n = redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end\n"
    "return n\n";

/* sr_key - the hash key of stream into key; its length */
static size_t sr_key(const char *stream, char key[SR_KEY_MAX])
{
    size_t p = sizeof(SR_HASH) - 1, n = strnlen(stream, SUPPRESS_FIELD_MAX - 1);

    memcpy(key, SR_HASH, p);
    memcpy(key + p, stream, n);
    key[p + n] = 0;
    return p + n;
}

/* suppress_redis_cmd - one command through the pool; NULL with err set */
redisReply *suppress_redis_cmd(SR_STORE *r, const char *what, int argc, const char **argv,
                               const size_t *argvlen, BUF *err)
{
    const char *av[SR_ARGS];
    size_t avlen[SR_ARGS];
    char why_mem[600];
    redisReply *rep;
    BUF why;
    int i;

    if (argc < 1 || argc > SR_ARGS) {
        (void) suppress_seterr(err, "redis: %s: %d arguments", what, argc);
        return NULL;
    }
    for (i = 0; i < argc; i++) {
        av[i] = argv[i];
        avlen[i] = argvlen[i];
    }
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if ((rep = redis_pool_call(r->pool, what, NULL, argc, av, avlen, &why)) == NULL)
        (void) suppress_seterr(err, "redis: %s: %s", what, why.len ? why.data : "failed");
    return rep;
}

/* sr_int - rep as an integer 0 or 1; -1 (err set) if it is not one */
static int sr_int(redisReply *rep, const char *what, BUF *err)
{
    int v = -1;

    if (rep->type == REDIS_REPLY_INTEGER && (rep->integer == 0 || rep->integer == 1))
        v = (int) rep->integer;
    else
        (void) suppress_seterr(err, "redis: %s: unexpected reply", what);
    freeReplyObject(rep);
    return v;
}

/* sr_script - EVAL a script on the stream's keys (and soft, a third key,
 * unless NULL) with nargs ARGV; its integer answer, or -1 */
static int sr_script(SR_STORE *r, const char *what, const char *lua, const char *stream,
                     const char *soft, int nargs, const char *const *args, BUF *err)
{
    char key[SR_KEY_MAX];
    const char *argv[SR_ARGS] = { "EVAL", lua, soft ? "3" : "2", key, SR_STREAMS, soft };
    size_t argvlen[SR_ARGS];
    int first = soft ? 6 : 5, argc = first + nargs, i;
    redisReply *rep;

    if (argc > SR_ARGS)
        return suppress_seterr(err, "redis: %s: too many arguments", what);
    for (i = 0; i < nargs; i++)
        argv[first + i] = args[i];
    argvlen[3] = sr_key(stream, key);
    for (i = 0; i < argc; i++)
        if (i != 3)
            argvlen[i] = strlen(argv[i]);
    if ((rep = suppress_redis_cmd(r, what, argc, argv, argvlen, err)) == NULL)
        return -1;
    return sr_int(rep, what, err);
}

/* sr_add - record an entry (kept if already there and lasting as long) */
static int sr_add(SUPPRESS *s, const char *rcpt, const char *stream, const char *source,
                  const SUPPRESS_INFO *info, BUF *err)
{
    char after[24];
    const char *args[6] = { rcpt, source, stream, suppress_reason_name(info->reason), after,
                            info->evidence };

    snprintf(after, sizeof(after), "%llu", (unsigned long long) info->expire_after);
    return sr_script((SR_STORE *) s, "suppress add", sr_add_lua, stream, NULL, 6, args, err) < 0
        ? -1 : 0;
}

/* sr_word - the next space-separated word of *p into out (bounded); 0, or -1 if none */
static int sr_word(const char **p, const char *end, char *out, size_t outlen)
{
    const char *w = *p, *sp;
    size_t n;

    if (w >= end)
        return -1;
    sp = memchr(w, ' ', (size_t) (end - w));
    n = (size_t) ((sp ? sp : end) - w);
    if (n == 0 || n >= outlen)
        return -1;
    memcpy(out, w, n);
    out[n] = 0;
    *p = sp ? sp + 1 : end;
    return 0;
}

/* sr_value - a stored value into e (created, reason, expires) and the
 * buffers for source (64 bytes) and evidence; -1 if malformed */
static int sr_value(const char *v, size_t len, SUPPRESS_ENTRY *e, char *source, char *evidence)
{
    const char *p = v, *end = v + len;
    char num[24], reason[32], *stop;
    int r;

    source[0] = evidence[0] = 0;
    if (sr_word(&p, end, num, sizeof(num)) != 0)
        return -1;
    e->created = strtoull(num, &stop, 10);
    if (*stop != 0)
        return -1;
    (void) sr_word(&p, end, source, 64);
    e->expires = 0;
    e->reason = strcmp(source, "txmilterctl") == 0 ? SUPPRESS_MANUAL : SUPPRESS_UNSUBSCRIBE;
    if (sr_word(&p, end, reason, sizeof(reason)) != 0)
        return 0;                           /* "CREATED SOURCE": before reasons */
    r = suppress_reason_parse(reason);
    e->reason = r < 0 ? SUPPRESS_MANUAL : (SUPPRESS_REASON) r;
    if (sr_word(&p, end, num, sizeof(num)) == 0)
        e->expires = strtoull(num, NULL, 10);
    len = (size_t) (end - p);
    if (len >= SUPPRESS_EVIDENCE_MAX)
        len = SUPPRESS_EVIDENCE_MAX - 1;
    memcpy(evidence, p, len);
    evidence[len] = 0;
    return 0;
}

/* suppress_redis_value - reason and evidence of a stored value */
int suppress_redis_value(const char *value, SUPPRESS_REASON *reason, char *evidence)
{
    char source[64];
    SUPPRESS_ENTRY e;

    if (sr_value(value, strlen(value), &e, source, evidence) != 0) {
        *reason = SUPPRESS_MANUAL;
        evidence[0] = 0;
        return -1;
    }
    *reason = e.reason;
    return 0;
}

/* sr_check - HGET, and the entry's expiry against this host's clock */
static int sr_check(SUPPRESS *s, const char *rcpt, const char *stream, SUPPRESS_REASON *reason,
                    char *evidence, BUF *err)
{
    char key[SR_KEY_MAX], source[64];
    const char *argv[3] = { "HGET", key, rcpt };
    size_t argvlen[3] = { 4, sr_key(stream, key), strlen(rcpt) };
    SUPPRESS_ENTRY e;
    redisReply *rep;
    int rc = 0;

    if ((rep = suppress_redis_cmd((SR_STORE *) s, "suppress check", 3, argv, argvlen, err))
        == NULL)
        return -1;
    if (rep->type == REDIS_REPLY_STRING) {
        if (sr_value(rep->str, rep->len, &e, source, evidence) != 0) {
            e.expires = 0;                  /* there, if unreadable: suppressed */
            e.reason = SUPPRESS_MANUAL;
        }
        *reason = e.reason;
        rc = e.expires == 0 || e.expires > (uint64_t) time(NULL);
    } else if (rep->type != REDIS_REPLY_NIL) {
        rc = suppress_seterr(err, "redis: suppress check: unexpected reply");
    }
    freeReplyObject(rep);
    return rc;
}

/* sr_remove - forget an entry and its soft reports; 1 if the entry was there */
static int sr_remove(SUPPRESS *s, const char *rcpt, const char *stream, BUF *err)
{
    char soft[SR_SOFT_MAX];
    const char *args[2] = { rcpt, stream };

    (void) suppress_redis_soft_key(rcpt, stream, soft);
    return sr_script((SR_STORE *) s, "suppress remove", sr_remove_lua, stream, soft, 2, args,
                     err);
}

/* sr_entry - call fn for one hash field and its value; -1 if malformed */
static int sr_entry(const char *stream, const redisReply *field, const redisReply *value,
                    void (*fn)(const SUPPRESS_ENTRY *e, void *arg), void *arg)
{
    char rcpt[SUPPRESS_FIELD_MAX], source[64], evidence[SUPPRESS_EVIDENCE_MAX];
    SUPPRESS_ENTRY e;

    if (field->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING
        || field->len == 0 || field->len >= sizeof(rcpt))
        return -1;
    memcpy(rcpt, field->str, field->len);
    rcpt[field->len] = 0;
    if (sr_value(value->str, value->len, &e, source, evidence) != 0) {
        e.created = e.expires = 0;
        e.reason = SUPPRESS_MANUAL;
    }
    e.rcpt = rcpt;
    e.stream = stream;
    e.source = source;
    e.evidence = evidence;
    fn(&e, arg);
    return 0;
}

/* sr_list_stream - the entries of one stream (rcpt NULL: all); the count, or -1 */
static long sr_list_stream(SR_STORE *r, const char *rcpt, const char *stream,
                           void (*fn)(const SUPPRESS_ENTRY *e, void *arg), void *arg, BUF *err)
{
    char key[SR_KEY_MAX], cursor[32] = "0";
    const char *argv[5] = { "HSCAN", key, cursor, "COUNT", SR_SCAN_COUNT };
    size_t argvlen[5], i;
    redisReply *rep, *el;
    long n = 0;

    argvlen[1] = sr_key(stream, key);
    if (rcpt) {
        const char *hget[3] = { "HGET", key, rcpt };
        size_t hlen[3] = { 4, argvlen[1], strlen(rcpt) };
        redisReply field = { .type = REDIS_REPLY_STRING, .str = (char *) rcpt, .len = hlen[2] };

        if ((rep = suppress_redis_cmd(r, "suppress list", 3, hget, hlen, err)) == NULL)
            return -1;
        if (rep->type == REDIS_REPLY_STRING)
            n = sr_entry(stream, &field, rep, fn, arg) == 0 ? 1 : 0;
        else if (rep->type != REDIS_REPLY_NIL)
            n = suppress_seterr(err, "redis: suppress list: unexpected reply");
        freeReplyObject(rep);
        return n;
    }
    do {
        argvlen[0] = 5;
        argvlen[2] = strlen(cursor);
        argvlen[3] = 5;
        argvlen[4] = strlen(SR_SCAN_COUNT);
        if ((rep = suppress_redis_cmd(r, "suppress list", 5, argv, argvlen, err)) == NULL)
            return -1;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2
            || rep->element[0]->type != REDIS_REPLY_STRING
            || rep->element[0]->len >= sizeof(cursor)
            || (el = rep->element[1])->type != REDIS_REPLY_ARRAY || el->elements % 2 != 0) {
            freeReplyObject(rep);
            return suppress_seterr(err, "redis: suppress list: unexpected reply to HSCAN");
        }
        memcpy(cursor, rep->element[0]->str, rep->element[0]->len);
        cursor[rep->element[0]->len] = 0;
        for (i = 0; i < el->elements; i += 2)
            if (sr_entry(stream, el->element[i], el->element[i + 1], fn, arg) == 0)
                n++;
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    return n;
}

/* sr_strcmp - qsort comparison of two C strings */
static int sr_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* sr_list - every matching entry, stream by stream */
static long sr_list(SUPPRESS *s, const char *rcpt, const char *stream,
                    void (*fn)(const SUPPRESS_ENTRY *e, void *arg), void *arg, BUF *err)
{
    SR_STORE *r = (SR_STORE *) s;
    const char *argv[2] = { "SMEMBERS", SR_STREAMS };
    size_t argvlen[2] = { 8, sizeof(SR_STREAMS) - 1 }, i, k = 0;
    redisReply *rep;
    char **names;
    long n = 0, got;

    if (stream)
        return sr_list_stream(r, rcpt, stream, fn, arg, err);
    if ((rep = suppress_redis_cmd(r, "suppress list", 2, argv, argvlen, err)) == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(rep);
        return suppress_seterr(err, "redis: suppress list: unexpected reply to SMEMBERS");
    }
    names = xcalloc(rep->elements + 1, sizeof(*names));
    for (i = 0; i < rep->elements; i++)
        if (rep->element[i]->type == REDIS_REPLY_STRING && rep->element[i]->len > 0
            && rep->element[i]->len < SUPPRESS_FIELD_MAX
            && memchr(rep->element[i]->str, 0, rep->element[i]->len) == NULL)
            names[k++] = rep->element[i]->str;
    qsort(names, k, sizeof(*names), sr_strcmp);
    for (i = 0; i < k && n >= 0; i++)
        n = (got = sr_list_stream(r, rcpt, names[i], fn, arg, err)) < 0 ? -1 : n + got;
    free(names);
    freeReplyObject(rep);
    return n;
}

/* sr_close - close the list, and the pool if it made it */
static void sr_close(SUPPRESS *s)
{
    SR_STORE *r = (SR_STORE *) s;

    if (r->own_pool)
        redis_pool_free(r->pool);
    free(r);
}

static const SUPPRESS_OPS sr_ops = {
    sr_add, sr_check, suppress_redis_soft_count, suppress_redis_soft_list, sr_remove, sr_list,
    sr_close
};

/* suppress_redis_open_pool - the list on a pool the caller keeps */
SUPPRESS *suppress_redis_open_pool(REDIS_POOL *pool)
{
    SR_STORE *r = xcalloc(1, sizeof(*r));

    r->base.ops = &sr_ops;
    r->pool = pool;
    return &r->base;
}

/* suppress_redis_open - parse url and prepare a pool of its own */
SUPPRESS *suppress_redis_open(const char *url, unsigned timeout_ms, BUF *err)
{
    REDIS_POOL_OPTS o;
    REDIS_POOL *pool;
    SUPPRESS *s;

    memset(&o, 0, sizeof(o));
    o.connect_timeout_ms = timeout_ms;
    o.timeout_ms = timeout_ms;
    o.pool_size = SR_POOL;
    if ((pool = redis_pool_new(url, &o, err)) == NULL)
        return NULL;
    s = suppress_redis_open_pool(pool);
    ((SR_STORE *) s)->own_pool = 1;
    return s;
}

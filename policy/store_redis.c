/*
 * store_redis.c - rate state in Redis, shared by several relays
 *
 * SYNOPSIS
 *	#include "store_redis.h"
 *
 *	RL_STORE *store_redis_new(const char *url, const STORE_REDIS_OPTS *o,
 *				  BUF *err)
 *	int	store_redis_ping(RL_STORE *s, BUF *err)
 *	redisReply *store_redis_command(RL_STORE *s, const char *what,
 *				int argc, const char **argv,
 *				const size_t *argvlen, BUF *err)
 *	void	store_redis_set_clock(RL_STORE *s, uint64_t (*clock_ms)(void))
 *
 *	and, through s->ops (rl_store.h): decide, refund, peek, reset, free.
 *
 * DESCRIPTION
 *	store_redis_new() parses url (below), copies the options (o may be
 *	NULL: every default) and prepares a pool of o->pool_size connections
 *	without connecting, so txmilter starts while Redis is down. It sets
 *	SIGPIPE to SIG_IGN if it was SIG_DFL (hiredis writes to sockets that
 *	the server may have closed).
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
 *	Every decide(), refund() and peek() is one EVALSHA of store_redis_lua
 *	(below) over all the keys of one recipient: atomic, with Redis TIME
 *	as the clock. NOSCRIPT (Redis restarted, SCRIPT FLUSH) is answered by
 *	EVAL of the whole script, which caches it again. reset() is one DEL.
 *	A key is prefix "{txmilter}:" item key; the hash tag puts every key
 *	of a call in one Redis Cluster slot. Keys are binary-safe arguments.
 *
 *	The pool: a free list of connections and a condition variable. A
 *	caller waits for a free connection, connects it if it has none
 *	(AUTH, SELECT and, with Sentinel, ROLE in one round trip), and runs
 *	its command, never longer in all than connect_timeout + timeout: the
 *	connect phase is bounded by connect_timeout, the commands by timeout
 *	(redisSetTimeout before each command; contexts are never
 *	redisReconnect()ed, which would drop the I/O timeout: a connection
 *	that fails is freed and made anew on its next use, and so is every
 *	other pooled connection made before the failure, so that a Redis
 *	restart costs one failed call, not one per pooled connection). A
 *	pooled connection found closed by the server (EOF, reset: the
 *	command did not run) is replaced once within the same call; a
 *	timeout is never repeated, since the script may have run.
 *
 *	Sentinel: the sentinels are asked in order, "SENTINEL
 *	get-master-addr-by-name master"; the answer is kept until a
 *	connection to it fails, its ROLE is not master, or a write gets
 *	READONLY; then the next connect asks again.
 *
 *	store_redis_command() runs any other command through the same pool
 *	(for the suppression list, suppress_redis.c); its error replies are
 *	reported like the script's.
 *
 *	store_redis_ping() sends PING now. store_redis_set_clock() is for
 *	tests: the script then takes "now" from clock_ms() instead of TIME.
 *
 * DIAGNOSTICS
 *	store_redis_new() returns NULL with a reason in err for a bad URL
 *	(the URL is not repeated: it may hold a password). The store
 *	operations return RL_UNAVAILABLE when Redis cannot be asked or
 *	answers an error; the reason is logged when it changes or once a
 *	minute (store_failover logs each outage). store_redis_ping() returns
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
#include "store_redis.h"
#include "store_redis_int.h"
#include "util.h"

typedef struct store_redis {
    RL_STORE store;
    RD_URL   url;
    unsigned cto, to, npool;
    char     prefix[RD_PREFIX_MAX + 1];
    size_t   plen;
    uint64_t (*clock_ms)(void);         /* tests only */
    pthread_mutex_t lock;               /* everything below */
    pthread_cond_t  freed;
    redisContext **conn;                /* npool, NULL: not connected */
    uint64_t *conn_gen;                 /* gen when each was made */
    uint64_t gen;                       /* bumped when a connection breaks */
    unsigned *free_list, nfree;
    char     sha[41];                   /* "": not known yet */
    RD_ADDR  master;                    /* Sentinel's answer, port 0: ask */
    char     last_err[RD_ERR_MAX + 32];
    uint64_t last_err_at;
} STORE_REDIS;



/* rd_lock - take the store's mutex */
static void rd_lock(STORE_REDIS *r)
{
    if (pthread_mutex_lock(&r->lock) != 0)
        log_fatal("redis rate store: cannot lock");
}

/* rd_unlock - release the store's mutex */
static void rd_unlock(STORE_REDIS *r)
{
    pthread_mutex_unlock(&r->lock);
}

/* rd_mono - CLOCK_MONOTONIC in milliseconds */
static uint64_t rd_mono(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* rd_left - milliseconds from now to deadline, 0 when past */
static uint64_t rd_left(uint64_t deadline)
{
    uint64_t now = rd_mono();

    return deadline > now ? deadline - now : 0;
}

/* rd_tv - milliseconds as a struct timeval (at least 1 ms) */
static struct timeval rd_tv(uint64_t ms)
{
    struct timeval tv;

    if (ms == 0)
        ms = 1;
    tv.tv_sec = (time_t) (ms / 1000);
    tv.tv_usec = (suseconds_t) (ms % 1000) * 1000;
    return tv;
}

/* rd_fail - log why a call failed, when the reason is new or a minute old */
static void rd_fail(STORE_REDIS *r, const char *what, const char *why)
{
    char msg[RD_ERR_MAX + 32];
    uint64_t now = rd_mono();
    int say;

    snprintf(msg, sizeof(msg), "%s: %s", what, why[0] ? why : "unknown error");
    rd_lock(r);
    say = strcmp(msg, r->last_err) != 0 || now >= r->last_err_at + RD_LOG_MS;
    if (say) {
        util_strlcpy(r->last_err, msg, sizeof(r->last_err));
        r->last_err_at = now;
    }
    rd_unlock(r);
    if (say)
        log_warn("redis rate store: %s", msg);
}

/* rd_acquire - a free connection slot by deadline, or -1 */
static int rd_acquire(STORE_REDIS *r, uint64_t deadline)
{
    struct timespec ts;
    uint64_t left;
    int slot = -1;

    rd_lock(r);
    while (r->nfree == 0 && (left = rd_left(deadline)) > 0) {
        if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
            break;
        ts.tv_sec += (time_t) (left / 1000);
        ts.tv_nsec += (long) (left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void) pthread_cond_timedwait(&r->freed, &r->lock, &ts);
    }
    if (r->nfree > 0)
        slot = (int) r->free_list[--r->nfree];
    rd_unlock(r);
    return slot;
}

/* rd_set_master - remember Sentinel's answer, or with NULL forget it */
static void rd_set_master(STORE_REDIS *r, const RD_ADDR *a)
{
    rd_lock(r);
    if (a)
        r->master = *a;
    else
        r->master.port = 0;
    rd_unlock(r);
}

/* rd_tcp - a TCP connection made within ms, I/O timeout set to ms */
static redisContext *rd_tcp(const RD_ADDR *a, uint64_t ms, char *why, size_t len)
{
    redisContext *c = redisConnectWithTimeout(a->host, a->port, rd_tv(ms));

    if (c == NULL || c->err) {
        snprintf(why, len, "connect to %s:%d: %s", a->host, a->port,
                 c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    return c;
}

/* rd_ask_sentinels - the master's address from the first sentinel that knows */
static int rd_ask_sentinels(STORE_REDIS *r, uint64_t deadline, RD_ADDR *out, char *why, size_t len)
{
    const char *argv[3] = { "SENTINEL", "get-master-addr-by-name", r->url.master };
    redisContext *c;
    redisReply *rep;
    long port;
    int i;

    snprintf(why, len, "no sentinel answered");
    for (i = 0; i < r->url.nsentinel && rd_left(deadline) > 0; i++) {
        const RD_ADDR *s = &r->url.sentinel[i];

        if ((c = rd_tcp(s, rd_left(deadline), why, len)) == NULL)
            continue;
        rep = NULL;
        if (redisSetTimeout(c, rd_tv(rd_left(deadline))) == REDIS_OK)
            rep = redisCommandArgv(c, 3, argv, NULL);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2
            && rep->element[0]->type == REDIS_REPLY_STRING
            && rep->element[1]->type == REDIS_REPLY_STRING
            && rep->element[0]->len > 0 && rep->element[0]->len <= RD_HOST_MAX
            && store_redis_num(rep->element[1]->str, rep->element[1]->len, 65535, &port) == 0 && port > 0) {
            memcpy(out->host, rep->element[0]->str, rep->element[0]->len);
            out->host[rep->element[0]->len] = 0;
            out->port = (int) port;
            freeReplyObject(rep);
            redisFree(c);
            return 0;
        }
        snprintf(why, len, "sentinel %s:%d: %s", s->host, s->port,
                 rep == NULL ? c->errstr : rep->type == REDIS_REPLY_NIL ? "master unknown"
                 : rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        if (rep)
            freeReplyObject(rep);
        redisFree(c);
    }
    return -1;
}

/* rd_connect - a new connection: AUTH, SELECT and (Sentinel) ROLE in one round trip */
static redisContext *rd_connect(STORE_REDIS *r, uint64_t deadline, char *why, size_t len)
{
    const char *auth[3] = { "AUTH", r->url.user, r->url.pass };
    const char *auth1[2] = { "AUTH", r->url.pass };
    char dbs[24];
    const char *sel[2] = { "SELECT", dbs };
    const char *role[1] = { "ROLE" };
    redisContext *c = NULL;
    redisReply *rep;
    RD_ADDR m = { "", 0 };
    int nrep = 0, i, ok = 1;

    if (r->url.kind == RD_UNIX) {
        c = redisConnectUnixWithTimeout(r->url.path, rd_tv(rd_left(deadline)));
        if (c == NULL || c->err) {
            snprintf(why, len, "connect to %s: %s", r->url.path, c ? c->errstr : "out of memory");
            if (c)
                redisFree(c);
            return NULL;
        }
    } else if (r->url.kind == RD_TCP) {
        if ((c = rd_tcp(&r->url.addr, rd_left(deadline), why, len)) == NULL)
            return NULL;
    } else {
        rd_lock(r);
        m = r->master;
        rd_unlock(r);
        if (m.port == 0) {
            if (rd_ask_sentinels(r, deadline, &m, why, len) != 0)
                return NULL;
            rd_set_master(r, &m);
        }
        if (rd_left(deadline) == 0 || (c = rd_tcp(&m, rd_left(deadline), why, len)) == NULL) {
            rd_set_master(r, NULL);
            return NULL;
        }
    }
    if (redisSetTimeout(c, rd_tv(rd_left(deadline))) != REDIS_OK) {
        snprintf(why, len, "cannot set the I/O timeout: %s", c->errstr);
        redisFree(c);
        return NULL;
    }
    snprintf(dbs, sizeof(dbs), "%ld", r->url.db);
    if (r->url.pass[0]) {
        ok &= redisAppendCommandArgv(c, r->url.user[0] ? 3 : 2, r->url.user[0] ? auth : auth1,
                                     NULL) == REDIS_OK;
        nrep++;
    }
    if (r->url.db != 0) {
        ok &= redisAppendCommandArgv(c, 2, sel, NULL) == REDIS_OK;
        nrep++;
    }
    if (r->url.kind == RD_SENTINEL) {
        ok &= redisAppendCommandArgv(c, 1, role, NULL) == REDIS_OK;
        nrep++;
    }
    if (!ok)
        snprintf(why, len, "out of memory");
    for (i = 0; i < nrep && ok; i++) {
        rep = NULL;
        if (redisGetReply(c, (void **) &rep) != REDIS_OK || rep == NULL) {
            snprintf(why, len, "setting up the connection: %s", c->errstr);
            ok = 0;
        } else if (rep->type == REDIS_REPLY_ERROR) {
            snprintf(why, len, "setting up the connection: %s", rep->str);
            ok = 0;
        } else if (rep->type == REDIS_REPLY_ARRAY
                   && (rep->elements < 1 || rep->element[0]->type != REDIS_REPLY_STRING
                       || strcmp(rep->element[0]->str, "master") != 0)) {
            snprintf(why, len, "%s:%d is not a master", m.host, m.port);
            ok = 0;
        }
        if (rep)
            freeReplyObject(rep);
    }
    if (!ok) {
        if (r->url.kind == RD_SENTINEL)
            rd_set_master(r, NULL);
        redisFree(c);
        return NULL;
    }
    return c;
}

/* rd_command - argv on c within deadline; NULL (why set) when the connection broke */
static redisReply *rd_command(redisContext *c, int argc, const char **argv, const size_t *argvlen,
                             uint64_t deadline, char *why, size_t len)
{
    uint64_t left = rd_left(deadline);
    redisReply *rep;

    if (left == 0) {
        snprintf(why, len, "out of time");
        return NULL;
    }
    if (redisSetTimeout(c, rd_tv(left)) != REDIS_OK) {
        snprintf(why, len, "cannot set the I/O timeout: %s", c->errstr);
        return NULL;
    }
    errno = 0;
    if ((rep = redisCommandArgv(c, argc, argv, argvlen)) == NULL) {
        if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
            snprintf(why, len, "no answer within %llu ms", (unsigned long long) left);
        else
            snprintf(why, len, "%s", c->errstr[0] ? c->errstr : "no reply");
    }
    return rep;
}

/* rd_load_script - SCRIPT LOAD, the SHA1 remembered */
static int rd_load_script(STORE_REDIS *r, redisContext *c, uint64_t deadline, char *why, size_t len,
                          int *broken)
{
    const char *argv[3] = { "SCRIPT", "LOAD", store_redis_lua };
    redisReply *rep = rd_command(c, 3, argv, NULL, deadline, why, len);

    if (rep == NULL) {
        *broken = 1;
        return -1;
    }
    if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
        snprintf(why, len, "SCRIPT LOAD: %s", rep->type == REDIS_REPLY_ERROR ? rep->str
                 : "unexpected reply");
        freeReplyObject(rep);
        return -1;
    }
    rd_lock(r);
    memcpy(r->sha, rep->str, 40);
    r->sha[40] = 0;
    rd_unlock(r);
    freeReplyObject(rep);
    return 0;
}

/*
 * rd_exec - one command on c; with script, argv[0..1] become EVALSHA and
 * the SHA1 (the script loaded first if its SHA1 is not known yet), and
 * NOSCRIPT is answered with EVAL. Returns the reply (maybe an error
 * reply), or NULL with why and *broken set when the connection failed.
 */
static redisReply *rd_exec(STORE_REDIS *r, redisContext *c, int script, int argc, const char **argv,
                           size_t *argvlen, uint64_t deadline, char *why, size_t len, int *broken)
{
    redisReply *rep;
    char sha[41];

    *broken = 0;
    if (script) {
        rd_lock(r);
        memcpy(sha, r->sha, sizeof(sha));
        rd_unlock(r);
        if (sha[0] == 0) {
            if (rd_load_script(r, c, deadline, why, len, broken) != 0)
                return NULL;
            rd_lock(r);
            memcpy(sha, r->sha, sizeof(sha));
            rd_unlock(r);
        }
        argv[0] = "EVALSHA";
        argv[1] = sha;
        argvlen[0] = 7;
        argvlen[1] = 40;
    }
    rep = rd_command(c, argc, argv, argvlen, deadline, why, len);
    if (script && rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        /* Redis restarted or SCRIPT FLUSH: EVAL runs it and caches it again. */
        freeReplyObject(rep);
        argv[0] = "EVAL";
        argv[1] = store_redis_lua;
        argvlen[0] = 4;
        argvlen[1] = strlen(store_redis_lua);
        rep = rd_command(c, argc, argv, argvlen, deadline, why, len);
    }
    if (rep == NULL)
        *broken = 1;
    return rep;
}

/* rd_closed_by_server - 1 if c failed because the server had closed it */
static int rd_closed_by_server(const redisContext *c, int err)
{
    return c->err == REDIS_ERR_EOF
        || (c->err == REDIS_ERR_IO && (err == ECONNRESET || err == EPIPE));
}

/*
 * rd_call - one command (see rd_exec) on a pooled connection, within
 * connect_timeout + timeout. A pooled connection that the server had
 * closed (Redis restarted, its idle timeout) is replaced once: the
 * command never ran. A timeout is never repeated: the script may have
 * run. Returns the reply, never an error reply; NULL after logging why.
 */
static redisReply *rd_call(STORE_REDIS *r, const char *what, int script, int argc,
                           const char **argv, size_t *argvlen, char *why, size_t len)
{
    uint64_t start = rd_mono(), deadline = start + r->cto + r->to, cdl, cmd_deadline;
    redisContext *c, *stale = NULL;
    redisReply *rep = NULL;
    int slot, broken = 0, fresh, tries, err;

    why[0] = 0;
    if ((slot = rd_acquire(r, deadline)) < 0) {
        snprintf(why, len, "every pooled connection stayed busy");
        rd_fail(r, what, why);
        return NULL;
    }
    rd_lock(r);
    c = r->conn[slot];
    if (c && r->conn_gen[slot] != r->gen) {
        stale = c;                      /* another connection broke since */
        c = NULL;
    }
    rd_unlock(r);
    if (stale)
        redisFree(stale);
    for (tries = 0; tries < 2; tries++) {
        if ((fresh = (c == NULL)) != 0) {
            cdl = rd_mono() + r->cto;
            if (cdl > deadline)
                cdl = deadline;
            if ((c = rd_connect(r, cdl, why, len)) == NULL) {
                broken = 1;
                break;
            }
        }
        cmd_deadline = rd_mono() + r->to;
        if (cmd_deadline > deadline)
            cmd_deadline = deadline;
        errno = 0;
        rep = rd_exec(r, c, script, argc, argv, argvlen, cmd_deadline, why, len, &broken);
        err = errno;
        if (!broken || fresh || !rd_closed_by_server(c, err) || rd_left(deadline) == 0)
            break;
        redisFree(c);
        c = NULL;
    }
    if (rep && rep->type == REDIS_REPLY_ERROR) {
        snprintf(why, len, "%s", rep->str);
        if (strncmp(rep->str, "READONLY", 8) == 0 || strstr(rep->str, "READONLY") != NULL)
            broken = 1;                 /* a replica now: Sentinel is asked again */
        freeReplyObject(rep);
        rep = NULL;
    }
    if (broken) {
        if (r->url.kind == RD_SENTINEL)
            rd_set_master(r, NULL);
        if (c) {
            redisFree(c);
            c = NULL;
        }
    }
    rd_lock(r);
    if (broken)
        r->gen++;
    r->conn[slot] = c;
    r->conn_gen[slot] = r->gen;
    r->free_list[r->nfree++] = (unsigned) slot;
    pthread_cond_signal(&r->freed);
    rd_unlock(r);
    if (rep == NULL)
        rd_fail(r, what, why);
    return rep;
}

/* rd_script - run the script for op over items; the reply array or NULL */
static redisReply *rd_script(STORE_REDIS *r, const char *op, const RL_ITEM *items, size_t n,
                             uint64_t stamp, size_t want)
{
    const char *what = *op == 'D' ? "decide" : *op == 'R' ? "refund" : "peek";
    const char *argv[RD_ARGS_MAX];
    size_t argvlen[RD_ARGS_MAX], klen = r->plen + RD_TAG_LEN + RL_KEY_MAX, i, k, argc = 0;
    char nums[3 + 3 * RL_MAX_KEYS][24], why[RD_ERR_MAX], *keys;
    int nn = 0;
    redisReply *rep;

    if (n == 0 || n > RL_MAX_KEYS) {
        log_err("redis rate store: %s: %zu items (1 to %d)", what, n, RL_MAX_KEYS);
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

        k = strnlen(items[i].key, RL_KEY_MAX - 1);
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
    rep = rd_call(r, what, 1, (int) argc, argv, argvlen, why, sizeof(why));
    free(keys);
    if (rep && (rep->type != REDIS_REPLY_ARRAY || rep->elements != want)) {
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
static void rd_result(redisReply **e, RL_RESULT *res)
{
    res->allowed = e[0]->integer != 0;
    res->count = e[1]->integer > UINT32_MAX ? UINT32_MAX : (uint32_t) e[1]->integer;
    res->wait_ms = (uint64_t) e[2]->integer;
}

/* rd_decide - one EVALSHA deciding every item */
static RL_STATUS rd_decide(RL_STORE *s, const RL_ITEM *items, size_t n, RL_RESULT *res,
                           int *accepted, uint64_t *stamp_ms)
{
    STORE_REDIS *r = (STORE_REDIS *) s;
    redisReply *rep;
    size_t i;

    if (n == 0) {
        *accepted = 1;
        *stamp_ms = 0;
        return RL_OK;
    }
    if ((rep = rd_script(r, "D", items, n, 0, 2 + 3 * n)) == NULL)
        return RL_UNAVAILABLE;
    *accepted = rep->element[0]->integer != 0;
    *stamp_ms = (uint64_t) rep->element[1]->integer;
    for (i = 0; i < n; i++)
        rd_result(rep->element + 2 + 3 * i, &res[i]);
    freeReplyObject(rep);
    return RL_OK;
}

/* rd_refund - give back the events charged at stamp */
static RL_STATUS rd_refund(RL_STORE *s, const RL_ITEM *items, size_t n, uint64_t stamp_ms)
{
    redisReply *rep;

    if (n == 0)
        return RL_OK;
    if ((rep = rd_script((STORE_REDIS *) s, "R", items, n, stamp_ms, 1)) == NULL)
        return RL_UNAVAILABLE;
    freeReplyObject(rep);
    return RL_OK;
}

/* rd_peek - count and wait of one item, charging nothing */
static RL_STATUS rd_peek(RL_STORE *s, const RL_ITEM *item, RL_RESULT *res)
{
    redisReply *rep;

    if ((rep = rd_script((STORE_REDIS *) s, "P", item, 1, 0, 3)) == NULL)
        return RL_UNAVAILABLE;
    rd_result(rep->element, res);
    freeReplyObject(rep);
    return RL_OK;
}

/* rd_reset - DEL one key */
static RL_STATUS rd_reset(RL_STORE *s, const char *key)
{
    STORE_REDIS *r = (STORE_REDIS *) s;
    size_t k = strnlen(key, RL_KEY_MAX - 1);
    char buf[RD_PREFIX_MAX + RD_TAG_LEN + RL_KEY_MAX], why[RD_ERR_MAX];
    const char *argv[2] = { "DEL", buf };
    size_t argvlen[2] = { 3, r->plen + RD_TAG_LEN + k };
    redisReply *rep;

    memcpy(buf, r->prefix, r->plen);
    memcpy(buf + r->plen, RD_TAG, RD_TAG_LEN);
    memcpy(buf + r->plen + RD_TAG_LEN, key, k);
    if ((rep = rd_call(r, "reset", 0, 2, argv, argvlen, why, sizeof(why))) == NULL)
        return RL_UNAVAILABLE;
    freeReplyObject(rep);
    return RL_OK;
}

/* rd_free - close every connection and free the store */
static void rd_free(RL_STORE *s)
{
    STORE_REDIS *r = (STORE_REDIS *) s;
    unsigned i;

    if (r == NULL)
        return;
    for (i = 0; i < r->npool; i++)
        if (r->conn[i])
            redisFree(r->conn[i]);
    pthread_cond_destroy(&r->freed);
    pthread_mutex_destroy(&r->lock);
    free(r->conn);
    free(r->conn_gen);
    free(r->free_list);
    free(r);
}

static const RL_STORE_OPS rd_ops = {
    rd_decide, rd_refund, rd_peek, rd_reset, rd_free, "redis",
};

/* store_redis_new - parse the URL and prepare the pool (no connection yet) */
RL_STORE *store_redis_new(const char *url, const STORE_REDIS_OPTS *o, BUF *err)
{
    STORE_REDIS *r = xcalloc(1, sizeof(*r));
    pthread_condattr_t ca;
    struct sigaction sa;
    const char *prefix = o && o->prefix ? o->prefix : "txm:";
    unsigned i;

    if (store_redis_parse_url(url, &r->url, err) != 0) {
        free(r);
        return NULL;
    }
    if (strlen(prefix) > RD_PREFIX_MAX) {
        (void) store_redis_seterr(err, "the key prefix is longer than 64 bytes");
        free(r);
        return NULL;
    }
    r->store.ops = &rd_ops;
    util_strlcpy(r->prefix, prefix, sizeof(r->prefix));
    r->plen = strlen(r->prefix);
    r->cto = o && o->connect_timeout_ms ? o->connect_timeout_ms : 100;
    r->to = o && o->timeout_ms ? o->timeout_ms : 50;
    r->npool = o && o->pool_size ? o->pool_size : 8;
    if (r->npool > 1024)
        r->npool = 1024;
    r->conn = xcalloc(r->npool, sizeof(*r->conn));
    r->free_list = xcalloc(r->npool, sizeof(*r->free_list));
    r->conn_gen = xcalloc(r->npool, sizeof(*r->conn_gen));
    for (i = 0; i < r->npool; i++)
        r->free_list[r->nfree++] = r->npool - 1 - i;
    if (pthread_mutex_init(&r->lock, NULL) != 0 || pthread_condattr_init(&ca) != 0
        || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0
        || pthread_cond_init(&r->freed, &ca) != 0)
        log_fatal("redis rate store: cannot make a mutex or a condition variable");
    pthread_condattr_destroy(&ca);
    /* hiredis write()s to sockets that Redis may have closed. */
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        (void) sigaction(SIGPIPE, &sa, NULL);
    }
    return &r->store;
}

/* store_redis_ping - one PING now */
int store_redis_ping(RL_STORE *s, BUF *err)
{
    STORE_REDIS *r = (STORE_REDIS *) s;
    const char *argv[1] = { "PING" };
    size_t argvlen[1] = { 4 };
    char why[RD_ERR_MAX];
    redisReply *rep = rd_call(r, "ping", 0, 1, argv, argvlen, why, sizeof(why));
    int ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;

    if (rep && !ok)
        snprintf(why, sizeof(why), "unexpected reply to PING");
    if (rep)
        freeReplyObject(rep);
    if (!ok && err) {
        buf_reset(err);
        (void) buf_printf(err, "%s", why);
    }
    return ok ? 0 : -1;
}

/* store_redis_command - one command for another user of this Redis */
struct redisReply *store_redis_command(RL_STORE *s, const char *what, int argc, const char **argv,
                                       const size_t *argvlen, BUF *err)
{
    STORE_REDIS *r = (STORE_REDIS *) s;
    const char *av[RD_CMD_ARGS];
    size_t avlen[RD_CMD_ARGS];
    char why[RD_ERR_MAX];
    redisReply *rep;
    int i;

    if (argc < 1 || argc > RD_CMD_ARGS) {
        snprintf(why, sizeof(why), "%d arguments (1 to %d)", argc, RD_CMD_ARGS);
        rep = NULL;
    } else {
        for (i = 0; i < argc; i++) {
            av[i] = argv[i];
            avlen[i] = argvlen ? argvlen[i] : strlen(argv[i]);
        }
        rep = rd_call(r, what, 0, argc, av, avlen, why, sizeof(why));
    }
    if (rep == NULL && err) {
        buf_reset(err);
        (void) buf_printf(err, "%s", why);
    }
    return rep;
}

/* store_redis_set_clock - tests only: "now" from clock_ms instead of TIME */
void store_redis_set_clock(RL_STORE *s, uint64_t (*clock_ms)(void))
{
    ((STORE_REDIS *) s)->clock_ms = clock_ms;
}

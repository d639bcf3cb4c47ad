/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * redis_pool.c - one pool of Redis connections, shared by every store on
 * one Redis, with one circuit breaker
 *
 * SYNOPSIS
 *	#include "redis_pool.h"
 *
 *	REDIS_POOL *redis_pool_new(const char *url, const REDIS_POOL_OPTS *o,
 *				   BUF *err)
 *	void	redis_pool_free(REDIS_POOL *p)
 *	void	redis_pool_quiet(REDIS_POOL *p)
 *	redisReply *redis_pool_call(REDIS_POOL *p, const char *what,
 *				const char *lua, int argc, const char **argv,
 *				size_t *argvlen, BUF *err)
 *	int	redis_pool_ping(REDIS_POOL *p, BUF *err)
 *	int	redis_pool_up(REDIS_POOL *p)
 *	void	redis_pool_stats(REDIS_POOL *p, REDIS_POOL_STATS *st)
 *
 * DESCRIPTION
 *	redis_pool_new() parses url (the grammar of rate_store_redis.h), copies
 *	the options (o may be NULL: every default) and prepares o->pool_size
 *	connections without connecting, so a daemon starts while Redis is
 *	down. It sets SIGPIPE to SIG_IGN if it was SIG_DFL (hiredis writes to
 *	sockets that the server may have closed). The daemon makes one pool
 *	and gives it to the rate store (rate_store_redis_open()) and to the
 *	suppression list (suppress_open_pool()); nothing reads it from a
 *	global.
 *
 *	A call waits for a free connection, connects it if it has none
 *	(AUTH, SELECT and, with Sentinel, ROLE in one round trip), and runs
 *	its command, never longer in all than connect_timeout + timeout: the
 *	connect phase is bounded by connect_timeout, the command by timeout
 *	(redisSetTimeout before each command; contexts are never
 *	redisReconnect()ed, which would drop the I/O timeout: a connection
 *	that fails is freed and made anew on its next use, and so is every
 *	other pooled connection made before the failure, so that a Redis
 *	restart costs one failed call, not one per pooled connection). A
 *	pooled connection found closed by the server (EOF, reset: the
 *	command did not run) is replaced once within the same call; a
 *	timeout is never repeated, since a script may have run.
 *
 *	Scripts: with lua, the call is EVALSHA of the script's SHA1 (loaded
 *	with SCRIPT LOAD on first use, cached for RP_SCRIPTS scripts per
 *	pool), and NOSCRIPT (Redis restarted, SCRIPT FLUSH) is answered by
 *	EVAL of the whole script, which caches it again.
 *
 *	Sentinel: the sentinels are asked in order, "SENTINEL
 *	get-master-addr-by-name master"; the answer is kept until a
 *	connection to it fails, its ROLE is not master, or a write gets
 *	READONLY; then the next connect asks again.
 *
 *	The breaker (o->retry_ms > 0): a call that cannot connect or gets no
 *	answer in time opens it. While it is open no call goes to Redis for
 *	retry_ms (CLOCK_MONOTONIC): calls fail at once, without a connect,
 *	the reason beginning with REDIS_POOL_NOT_ASKED. Then the first call
 *	to come is the one probe while every other keeps failing at once; a
 *	probe that answers closes the breaker, one that fails opens it for
 *	another retry_ms. An error reply is an answer: it never opens the
 *	breaker. So while Redis is frozen or gone, the rate limits and the
 *	suppression checks of every message cost nothing but the one probe
 *	per retry_ms, whichever store asks. retry_ms 0: no breaker (every call asks Redis).
 *
 *	redis_pool_ping() sends PING. redis_pool_up() says whether the
 *	breaker is closed; redis_pool_stats() copies its counters.
 *
 * DIAGNOSTICS
 *	redis_pool_new() returns NULL with a reason in err for a bad URL
 *	(the URL is not repeated: it may hold a password). A failed call
 *	logs why when the reason is new or a minute old; the breaker logs
 *	one warning when it opens and one line when it closes (with the
 *	outage's length and the number of calls not sent meanwhile), nothing
 *	per message. After redis_pool_quiet() the pool logs none of this: its
 *	caller reports each failure from err (txmilter -n, whose warning
 *	already says why the Store does not answer).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
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
#include "redis_pool.h"
#include "redis_url.h"
#include "util.h"

#define RD_LOG_MS  60000                /* a repeated error is logged once a minute */
#define RP_SCRIPTS 4                    /* SHA1s cached per pool */

struct redis_pool {
    RD_URL   url;
    unsigned cto, to, npool;
    uint64_t retry_ms;
    int      quiet;                     /* the caller reports failures: log nothing */
    char     where[RD_HOST_MAX + 16];   /* "127.0.0.1:6379" for the log */
    pthread_mutex_t lock;               /* everything below */
    pthread_cond_t  freed;
    redisContext **conn;                /* npool, NULL: not connected */
    uint64_t *conn_gen;                 /* gen when each was made */
    uint64_t gen;                       /* bumped when a connection breaks */
    unsigned *free_list, nfree;
    struct { const char *lua; char sha[41]; } script[RP_SCRIPTS];
    RD_ADDR  master;                    /* Sentinel's answer, port 0: ask */
    char     last_err[RD_ERR_MAX + 32];
    uint64_t last_err_at;
    int      probing;                   /* breaker: a probe is out */
    uint64_t next_probe, down_since, skipped_at_open;
    REDIS_POOL_STATS stats;
};

/* rd_lock - take the store's mutex */
static void rd_lock(REDIS_POOL *r)
{
    if (pthread_mutex_lock(&r->lock) != 0)
        log_fatal("redis pool: cannot lock");
}

/* rd_unlock - release the store's mutex */
static void rd_unlock(REDIS_POOL *r)
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
static void rd_fail(REDIS_POOL *r, const char *what, const char *why)
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
    if (say && !r->quiet)
        log_warn("redis %s: %s", r->where, msg);
}

/* rd_acquire - a free connection slot by deadline, or -1 */
static int rd_acquire(REDIS_POOL *r, uint64_t deadline)
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
static void rd_set_master(REDIS_POOL *r, const RD_ADDR *a)
{
    rd_lock(r);
    if (a)
        r->master = *a;
    else
        r->master.port = 0;
    rd_unlock(r);
}

/* rd_why - the reason of the latest failure: a retry's replaces the one
 * before, so that the call reports the last thing that went wrong */
static void __attribute__((format(printf, 2, 3))) rd_why(BUF *why, const char *fmt, ...)
{
    va_list ap;

    buf_reset(why);
    va_start(ap, fmt);
    (void) util_verr(why, fmt, ap);
    va_end(ap);
}

/* rd_tcp - a TCP connection made within ms, I/O timeout set to ms */
static redisContext *rd_tcp(const RD_ADDR *a, uint64_t ms, BUF *why)
{
    redisContext *c = redisConnectWithTimeout(a->host, a->port, rd_tv(ms));

    if (c == NULL || c->err) {
        rd_why(why, "connect to %s:%d: %s", a->host, a->port,
               c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    return c;
}

/* rd_ask_sentinels - the master's address from the first sentinel that knows */
static int rd_ask_sentinels(REDIS_POOL *r, uint64_t deadline, RD_ADDR *out, BUF *why)
{
    const char *argv[3] = { "SENTINEL", "get-master-addr-by-name", r->url.master };
    redisContext *c;
    redisReply *rep;
    long port;
    int i;

    rd_why(why, "no sentinel answered");
    for (i = 0; i < r->url.nsentinel && rd_left(deadline) > 0; i++) {
        const RD_ADDR *s = &r->url.sentinel[i];

        if ((c = rd_tcp(s, rd_left(deadline), why)) == NULL)
            continue;
        rep = NULL;
        if (redisSetTimeout(c, rd_tv(rd_left(deadline))) == REDIS_OK)
            rep = redisCommandArgv(c, 3, argv, NULL);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2
            && rep->element[0]->type == REDIS_REPLY_STRING
            && rep->element[1]->type == REDIS_REPLY_STRING
            && rep->element[0]->len > 0 && rep->element[0]->len <= RD_HOST_MAX
            && redis_url_num(rep->element[1]->str, rep->element[1]->len, 65535, &port) == 0 && port > 0) {
            memcpy(out->host, rep->element[0]->str, rep->element[0]->len);
            out->host[rep->element[0]->len] = 0;
            out->port = (int) port;
            freeReplyObject(rep);
            redisFree(c);
            return 0;
        }
        rd_why(why, "sentinel %s:%d: %s", s->host, s->port,
               rep == NULL ? c->errstr : rep->type == REDIS_REPLY_NIL ? "master unknown"
               : rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        if (rep)
            freeReplyObject(rep);
        redisFree(c);
    }
    return -1;
}

/* rd_transport - the socket of r's URL kind (for Sentinel, the master's, asked for if unknown) into *m */
static redisContext *rd_transport(REDIS_POOL *r, uint64_t deadline, RD_ADDR *m, BUF *why)
{
    redisContext *c = NULL;

    if (r->url.kind == RD_UNIX) {
        c = redisConnectUnixWithTimeout(r->url.path, rd_tv(rd_left(deadline)));
        if (c == NULL || c->err) {
            rd_why(why, "connect to %s: %s", r->url.path, c ? c->errstr : "out of memory");
            if (c)
                redisFree(c);
            return NULL;
        }
        return c;
    }
    if (r->url.kind == RD_TCP)
        return rd_tcp(&r->url.addr, rd_left(deadline), why);
    rd_lock(r);
    *m = r->master;
    rd_unlock(r);
    if (m->port == 0) {
        if (rd_ask_sentinels(r, deadline, m, why) != 0)
            return NULL;
        rd_set_master(r, m);
    }
    if (rd_left(deadline) == 0 || (c = rd_tcp(m, rd_left(deadline), why)) == NULL) {
        rd_set_master(r, NULL);
        return NULL;
    }
    return c;
}

/* rd_handshake - AUTH, SELECT and (Sentinel) ROLE pipelined on c; 1 when all answered well */
static int rd_handshake(REDIS_POOL *r, redisContext *c, const RD_ADDR *m, BUF *why)
{
    const char *auth[3] = { "AUTH", r->url.user, r->url.pass };
    const char *auth1[2] = { "AUTH", r->url.pass };
    char dbs[24];
    const char *sel[2] = { "SELECT", dbs };
    const char *role[1] = { "ROLE" };
    redisReply *rep;
    int nrep = 0, i, ok = 1;

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
        rd_why(why, "out of memory");
    for (i = 0; i < nrep && ok; i++) {
        rep = NULL;
        if (redisGetReply(c, (void **) &rep) != REDIS_OK || rep == NULL) {
            rd_why(why, "setting up the connection: %s", c->errstr);
            ok = 0;
        } else if (rep->type == REDIS_REPLY_ERROR) {
            rd_why(why, "setting up the connection: %s", rep->str);
            ok = 0;
        } else if (rep->type == REDIS_REPLY_ARRAY
                   && (rep->elements < 1 || rep->element[0]->type != REDIS_REPLY_STRING
                       || strcmp(rep->element[0]->str, "master") != 0)) {
            rd_why(why, "%s:%d is not a master", m->host, m->port);
            ok = 0;
        }
        if (rep)
            freeReplyObject(rep);
    }
    return ok;
}

/* rd_connect - a new connection: AUTH, SELECT and (Sentinel) ROLE in one round trip */
static redisContext *rd_connect(REDIS_POOL *r, uint64_t deadline, BUF *why)
{
    redisContext *c;
    RD_ADDR m = { "", 0 };

    if ((c = rd_transport(r, deadline, &m, why)) == NULL)
        return NULL;
    if (redisSetTimeout(c, rd_tv(rd_left(deadline))) != REDIS_OK) {
        rd_why(why, "cannot set the I/O timeout: %s", c->errstr);
        redisFree(c);
        return NULL;
    }
    if (!rd_handshake(r, c, &m, why)) {
        if (r->url.kind == RD_SENTINEL)
            rd_set_master(r, NULL);
        redisFree(c);
        return NULL;
    }
    return c;
}

/* rd_command - argv on c within deadline; NULL (why set) when the connection broke */
static redisReply *rd_command(redisContext *c, int argc, const char **argv, const size_t *argvlen,
                             uint64_t deadline, BUF *why)
{
    uint64_t left = rd_left(deadline);
    redisReply *rep;

    if (left == 0) {
        rd_why(why, "out of time");
        return NULL;
    }
    if (redisSetTimeout(c, rd_tv(left)) != REDIS_OK) {
        rd_why(why, "cannot set the I/O timeout: %s", c->errstr);
        return NULL;
    }
    errno = 0;
    if ((rep = redisCommandArgv(c, argc, argv, argvlen)) == NULL) {
        if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
            rd_why(why, "no answer within %llu ms", (unsigned long long) left);
        else
            rd_why(why, "%s", c->errstr[0] ? c->errstr : "no reply");
    }
    return rep;
}

/* rd_sha - the cached SHA1 of lua into sha ("" if not known); its cache slot or -1 */
static int rd_sha(REDIS_POOL *r, const char *lua, char sha[41])
{
    int i, slot = -1;

    sha[0] = 0;
    rd_lock(r);
    for (i = 0; i < RP_SCRIPTS; i++)
        if (r->script[i].lua == lua) {
            memcpy(sha, r->script[i].sha, 41);
            slot = i;
            break;
        }
    rd_unlock(r);
    return slot;
}

/* rd_load_script - SCRIPT LOAD, the SHA1 remembered */
static int rd_load_script(REDIS_POOL *r, redisContext *c, const char *lua, uint64_t deadline,
                          BUF *why, int *broken)
{
    const char *argv[3] = { "SCRIPT", "LOAD", lua };
    redisReply *rep = rd_command(c, 3, argv, NULL, deadline, why);
    int i;

    if (rep == NULL) {
        *broken = 1;
        return -1;
    }
    if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
        rd_why(why, "SCRIPT LOAD: %s", rep->type == REDIS_REPLY_ERROR ? rep->str
               : "unexpected reply");
        freeReplyObject(rep);
        return -1;
    }
    rd_lock(r);
    for (i = 0; i < RP_SCRIPTS; i++)
        if (r->script[i].lua == lua || r->script[i].lua == NULL) {
            r->script[i].lua = lua;
            memcpy(r->script[i].sha, rep->str, 40);
            r->script[i].sha[40] = 0;
            break;
        }
    rd_unlock(r);
    freeReplyObject(rep);
    return 0;
}

/*
 * rd_exec - one command on c; with lua, argv[0..1] become EVALSHA and
 * the SHA1 (the script loaded first if its SHA1 is not known yet), and
 * NOSCRIPT is answered with EVAL. Returns the reply (maybe an error
 * reply), or NULL with why and *broken set when the connection failed.
 */
static redisReply *rd_exec(REDIS_POOL *r, redisContext *c, const char *lua, int argc,
                           const char **argv, size_t *argvlen, uint64_t deadline, BUF *why,
                           int *broken)
{
    redisReply *rep;
    char sha[41];

    *broken = 0;
    if (lua) {
        if (rd_sha(r, lua, sha) < 0) {
            if (rd_load_script(r, c, lua, deadline, why, broken) != 0)
                return NULL;
            (void) rd_sha(r, lua, sha);
        }
        if (sha[0]) {
            argv[0] = "EVALSHA";
            argv[1] = sha;
            argvlen[0] = 7;
            argvlen[1] = 40;
        } else {                        /* more scripts than the cache holds */
            argv[0] = "EVAL";
            argv[1] = lua;
            argvlen[0] = 4;
            argvlen[1] = strlen(lua);
        }
    }
    rep = rd_command(c, argc, argv, argvlen, deadline, why);
    if (lua && rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        /* Redis restarted or SCRIPT FLUSH: EVAL runs it and caches it again. */
        freeReplyObject(rep);
        argv[0] = "EVAL";
        argv[1] = lua;
        argvlen[0] = 4;
        argvlen[1] = strlen(lua);
        rep = rd_command(c, argc, argv, argvlen, deadline, why);
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
 * *down is set when Redis could not be asked or did not answer (the
 * breaker's business), not for an error reply.
 */
static redisReply *rd_call(REDIS_POOL *r, const char *what, const char *lua, int argc,
                           const char **argv, size_t *argvlen, BUF *why, int *down)
{
    uint64_t start = rd_mono(), deadline = start + r->cto + r->to, cdl, cmd_deadline;
    redisContext *c, *stale = NULL;
    redisReply *rep = NULL;
    int slot, broken = 0, fresh, tries, err;

    *down = 0;
    if ((slot = rd_acquire(r, deadline)) < 0) {
        rd_why(why, "every pooled connection stayed busy");
        rd_fail(r, what, why->data);
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
            if ((c = rd_connect(r, cdl, why)) == NULL) {
                broken = 1;
                break;
            }
        }
        cmd_deadline = rd_mono() + r->to;
        if (cmd_deadline > deadline)
            cmd_deadline = deadline;
        errno = 0;
        rep = rd_exec(r, c, lua, argc, argv, argvlen, cmd_deadline, why, &broken);
        err = errno;
        if (!broken || fresh || !rd_closed_by_server(c, err) || rd_left(deadline) == 0)
            break;
        redisFree(c);
        c = NULL;
    }
    *down = broken;
    if (rep && rep->type == REDIS_REPLY_ERROR) {
        rd_why(why, "%s", rep->str);
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
        rd_fail(r, what, why->data);
    return rep;
}

/* rd_breaker_ask - 1 if a call may go to Redis now (the probe, when open) */
static int rd_breaker_ask(REDIS_POOL *r)
{
    int ask = 1;

    rd_lock(r);
    if (r->retry_ms && !r->stats.up) {
        if (!r->probing && rd_mono() >= r->next_probe)
            r->probing = 1;
        else {
            ask = 0;
            r->stats.calls_skipped++;
        }
    }
    rd_unlock(r);
    return ask;
}

/* rd_breaker_result - count a call that went out; open or close the breaker */
static void rd_breaker_result(REDIS_POOL *r, int down)
{
    uint64_t now = rd_mono();
    int opened = 0, closed = 0;
    unsigned long long outage = 0, skipped = 0;

    rd_lock(r);
    r->probing = 0;
    if (!down) {
        r->stats.calls_ok++;
        if (!r->stats.up) {
            r->stats.up = closed = 1;
            outage = now - r->down_since;
            skipped = r->stats.calls_skipped - r->skipped_at_open;
        }
    } else {
        r->stats.calls_failed++;
        if (r->retry_ms) {
            r->next_probe = now + r->retry_ms;
            if (r->stats.up) {
                r->stats.up = 0;
                opened = 1;
                r->down_since = now;
                r->skipped_at_open = r->stats.calls_skipped;
            }
        }
    }
    rd_unlock(r);
    if (opened && !r->quiet)
        log_warn("redis %s unavailable: no command is sent to it for %llu ms at a time, then "
                 "one probes it; the stores apply StoreFailure meanwhile", r->where,
                 (unsigned long long) r->retry_ms);
    if (closed && !r->quiet)
        log_info("redis %s answers again after %llu ms; %llu commands were not sent meanwhile",
                 r->where, outage, skipped);
}

/* redis_pool_call - one command through the breaker and the pool */
struct redisReply *redis_pool_call(REDIS_POOL *p, const char *what, const char *lua, int argc,
                                   const char **argv, size_t *argvlen, BUF *err)
{
    char why_mem[RD_ERR_MAX];
    redisReply *rep;
    BUF why;
    int down;

    if (!rd_breaker_ask(p)) {
        (void) util_err(err, REDIS_POOL_NOT_ASKED "redis %s is unavailable", p->where);
        return NULL;
    }
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    rep = rd_call(p, what, lua, argc, argv, argvlen, &why, &down);
    rd_breaker_result(p, down);
    if (rep == NULL)
        (void) util_err(err, "%s", why.data);
    return rep;
}

/* redis_pool_ping - one PING now */
int redis_pool_ping(REDIS_POOL *p, BUF *err)
{
    const char *argv[1] = { "PING" };
    size_t argvlen[1] = { 4 };
    char why_mem[RD_ERR_MAX];
    redisReply *rep;
    BUF why;
    int ok;

    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    rep = redis_pool_call(p, "ping", NULL, 1, argv, argvlen, &why);
    ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
    if (rep && !ok)
        (void) util_err(&why, "unexpected reply to PING");
    if (rep)
        freeReplyObject(rep);
    if (!ok && err) {
        buf_reset(err);
        (void) buf_printf(err, "%s", why.data);
    }
    return ok ? 0 : -1;
}

/* redis_pool_up - 1 while the breaker is closed */
int redis_pool_up(REDIS_POOL *p)
{
    int up;

    rd_lock(p);
    up = p->stats.up;
    rd_unlock(p);
    return up;
}

/* redis_pool_stats - a copy of the counters */
void redis_pool_stats(REDIS_POOL *p, REDIS_POOL_STATS *st)
{
    rd_lock(p);
    *st = p->stats;
    rd_unlock(p);
}

/* redis_pool_quiet - log nothing; called before the pool's first call */
void redis_pool_quiet(REDIS_POOL *p)
{
    p->quiet = 1;
}

/* redis_pool_free - close every connection and free the pool */
void redis_pool_free(REDIS_POOL *p)
{
    unsigned i;

    if (p == NULL)
        return;
    for (i = 0; i < p->npool; i++)
        if (p->conn[i])
            redisFree(p->conn[i]);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p->conn);
    free(p->conn_gen);
    free(p->free_list);
    free(p);
}

/* redis_pool_new - parse the URL and prepare the pool (no connection yet) */
REDIS_POOL *redis_pool_new(const char *url, const REDIS_POOL_OPTS *o, BUF *err)
{
    REDIS_POOL *r = xcalloc(1, sizeof(*r));
    pthread_condattr_t ca;
    struct sigaction sa;
    unsigned i;

    if (redis_url_parse(url, &r->url, err) != 0) {
        free(r);
        return NULL;
    }
    if (r->url.kind == RD_UNIX)
        snprintf(r->where, sizeof(r->where), "%.*s", RD_HOST_MAX, r->url.path);
    else if (r->url.kind == RD_TCP)
        snprintf(r->where, sizeof(r->where), "%s:%d", r->url.addr.host, r->url.addr.port);
    else
        snprintf(r->where, sizeof(r->where), "sentinel master %.*s", RD_HOST_MAX - 20, r->url.master);
    r->cto = o && o->connect_timeout_ms ? o->connect_timeout_ms : 100;
    r->to = o && o->timeout_ms ? o->timeout_ms : 50;
    r->npool = o && o->pool_size ? o->pool_size : 8;
    r->retry_ms = o ? o->retry_ms : 0;
    if (r->npool > 1024)
        r->npool = 1024;
    r->stats.up = 1;
    r->conn = xcalloc(r->npool, sizeof(*r->conn));
    r->free_list = xcalloc(r->npool, sizeof(*r->free_list));
    r->conn_gen = xcalloc(r->npool, sizeof(*r->conn_gen));
    for (i = 0; i < r->npool; i++)
        r->free_list[r->nfree++] = r->npool - 1 - i;
    if (pthread_mutex_init(&r->lock, NULL) != 0 || pthread_condattr_init(&ca) != 0
        || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0
        || pthread_cond_init(&r->freed, &ca) != 0)
        log_fatal("redis pool: cannot make a mutex or a condition variable");
    pthread_condattr_destroy(&ca);
    /* hiredis write()s to sockets that Redis may have closed. */
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        (void) sigaction(SIGPIPE, &sa, NULL);
    }
    return r;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rate_store_redis.c - rate_store_redis.c and rate_store_failover.c against real
 * redis-server (and redis-sentinel) processes that the test starts on free
 * loopback ports with a temporary directory, no persistence (through
 * tests/redis-launch, see testutil.h), and kills at the end. Without redis-server (Debian package redis-server) or
 * redis-sentinel (package redis-sentinel) the test fails; it never skips.
 *
 * - the shared limiter cases (data/rate_limiter_cases.txt) run through the Lua
 *   script and through rate_store_mem on one test clock: same answers;
 * - a random differential run (several keys, rules reloaded with other N
 *   and P, shadow rules, refunds, peeks) compares the script with a C
 *   model built on rate_limiter.c, call by call;
 * - atomicity, key layout (prefix, hash tag, binary keys, expiry),
 *   NOSCRIPT recovery, Redis TIME, AUTH, SELECT, unix sockets, bad URLs;
 * - outages: a killed and a stopped (SIGSTOP) server give RATE_STORE_UNAVAILABLE
 *   within timeout + 50 ms per call, a restarted one is used again at
 *   once; two stores ("relays") on one Redis from 8 threads let exactly
 *   N through; Sentinel discovery and re-discovery;
 * - rate_store_failover: every StoreFailure policy during an outage, fast
 *   calls, one log line per state change, and the primary back within
 *   retry_ms + one call; on a pool with its own breaker (redis_pool.c),
 *   back with the first call after the pool's breaker closed;
 * - decide_sup: a recipient's suppressions come with its decision, within
 *   their bounds, in one command (counted with MONITOR).
 *
 * TEST_TIME_SLACK_MS (environment) widens the time bounds, for valgrind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <hiredis.h>

#include "testutil.h"
#include "rate_limiter.h"
#include "rate_store.h"
#include "rate_store_failover.h"
#include "rate_store_mem.h"
#include "redis_pool.h"
#include "rate_store_redis.h"
#include "util.h"

/* ---------------------------------------------------------------- servers */

typedef TH_REDIS RS;                /* started by tests/redis-launch (testutil.c) */

#define RS_MAX 12
static RS  *rs_all[RS_MAX];
static char rs_tmp[128];
static long slack_ms;

/* raw - a command on a fresh connection to port (NULL reply: error) */
static redisReply *raw(const RS *s, const char *fmt, ...)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    redisReply *rep = NULL;
    va_list ap;

    if (c == NULL || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (s->password && !s->sentinel_of) {
        rep = redisCommand(c, "AUTH %s", s->password);
        if (rep)
            freeReplyObject(rep);
    }
    va_start(ap, fmt);
    rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return rep;
}

/* rs_register - remember a server for the final clean-up; its index */
static int rs_register(RS *s)
{
    int i;

    for (i = 0; i < RS_MAX; i++) {
        if (rs_all[i] == s)
            return i;
        if (rs_all[i] == NULL) {
            rs_all[i] = s;
            return i;
        }
    }
    fail_msg("too many test servers");
    return -1;
}

/* rs_launch - start (or restart, same port) s in its own directory */
static void rs_launch(RS *s)
{
    char dir[256];

    snprintf(dir, sizeof(dir), "%s/r%d", rs_tmp, rs_register(s));
    th_redis_start(s, dir);
}

/* rs_start - start (or restart, same port) a redis-server */
static void rs_start(RS *s, const char *pass)
{
    s->password = pass;
    rs_launch(s);
}

/* rs_start_sentinel - a redis-sentinel monitoring master as "mymaster" */
static void rs_start_sentinel(RS *s, const RS *master)
{
    s->sentinel_of = master->port;
    rs_launch(s);
}

/* rs_cleanup - kill every server and remove the temporary directory */
static void rs_cleanup(void)
{
    char cmd[300];
    int i;

    for (i = 0; i < RS_MAX; i++)
        if (rs_all[i])
            th_redis_signal(rs_all[i], SIGKILL);
    if (rs_tmp[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rs_tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", rs_tmp);
        rs_tmp[0] = 0;
    }
}

static RS main_rs;

/* ------------------------------------------------------------ test clock */


/* redis_url - "redis://127.0.0.1:PORT" plus a suffix */
static const char *redis_url(const RS *s, const char *suffix)
{
    static char url[512];

    snprintf(url, sizeof(url), "redis://127.0.0.1:%d%s", s->port, suffix);
    return url;
}

/* new_redis - a store on url (test fails on a bad URL) */
static RATE_STORE *new_redis(const char *url, unsigned cto, unsigned to, unsigned pool)
{
    RATE_STORE_REDIS_OPTS o = { cto, to, pool, NULL };
    BUF err;
    RATE_STORE *s;

    buf_init(&err, 1024);
    s = rate_store_redis_new(url, &o, &err);
    if (s == NULL)
        fail_msg("rate_store_redis_new(%s): %s", url, err.data ? err.data : "");
    buf_free(&err);
    return s;
}

/* --------------------------------------------------- shared limiter cases */

typedef struct lc_case {
    const char *name;
    uint32_t    limit;
    uint64_t    period;
    const char *ops;
} LC_CASE;

static LC_CASE *lc_cases;
static size_t   lc_ncases;
static RATE_STORE *lc_redis;

/* lc_datadir - tests/unit/data, from $srcdir (automake) or from __FILE__ */
static const char *lc_datadir(void)
{
    static char dir[4096];
    const char *srcdir = getenv("srcdir"), *slash;

    if (srcdir != NULL && *srcdir)
        snprintf(dir, sizeof(dir), "%s/tests/unit/data", srcdir);
    else if ((slash = strrchr(__FILE__, '/')) != NULL)
        snprintf(dir, sizeof(dir), "%.*s/data", (int) (slash - __FILE__), __FILE__);
    else
        snprintf(dir, sizeof(dir), "data");
    return dir;
}

/* lc_load - read rate_limiter_cases.txt (exit on a bad file: it is shared) */
static void lc_load(void)
{
    char path[4200], line[65536];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/rate_limiter_cases.txt", lc_datadir());
    if ((fp = fopen(path, "r")) == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    lc_cases = xcalloc(1024, sizeof(*lc_cases));
    while (fgets(line, sizeof(line), fp) != NULL) {
        char name[128];
        unsigned long long n, per;
        int off = 0;

        if (line[strspn(line, " \t\r\n")] == 0 || line[strspn(line, " \t")] == '#')
            continue;
        if (sscanf(line, "%127s %llu %llu %n", name, &n, &per, &off) != 3 || off == 0
            || n == 0 || n > UINT32_MAX || lc_ncases == 1024) {
            fprintf(stderr, "%s: bad case line: %s", path, line);
            exit(1);
        }
        line[strcspn(line, "\r\n")] = 0;
        lc_cases[lc_ncases].name = xstrdup(name);
        lc_cases[lc_ncases].limit = (uint32_t) n;
        lc_cases[lc_ncases].period = per;
        lc_cases[lc_ncases].ops = xstrdup(line + off);
        lc_ncases++;
    }
    fclose(fp);
}

/* lc_num - a decimal number at *pp, advancing it; -1 if none */
static int lc_num(const char **pp, uint64_t *v)
{
    const char *p = *pp;
    uint64_t n = 0;

    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (uint64_t) (*p - '0');
    *pp = p;
    *v = n;
    return 0;
}

/* lc_op - one op token of a case on store s (one item) */
static void lc_op(const LC_CASE *c, RATE_STORE *s, const RATE_STORE_ITEM *it, const char *tok,
                  size_t len)
{
    char op[128], got[64];
    const char *p, *exp = "";
    uint64_t t = 0, step = 0, reps = 1, r, stamp;
    RATE_STORE_RESULT res;
    int kind, acc;

    assert_true(len < sizeof(op));
    memcpy(op, tok, len);
    op[len] = 0;
    p = op;
    kind = *p++;
    if (*p++ != '@' || lc_num(&p, &t) < 0)
        fail_msg("case %s: bad op \"%s\"", c->name, op);
    if (*p == '+' && (p++, lc_num(&p, &step) < 0))
        fail_msg("case %s: bad step in \"%s\"", c->name, op);
    if (*p == '*' && (p++, lc_num(&p, &reps) < 0))
        fail_msg("case %s: bad repeat in \"%s\"", c->name, op);
    if (*p == '=')
        exp = p + 1;
    for (r = 0; r < reps; r++, t += step) {
        th_clock_set(t);
        switch (kind) {
        case 'c':
            assert_int_equal(s->ops->decide(s, it, 1, &res, &acc, &stamp), RATE_STORE_OK);
            if (acc)
                snprintf(got, sizeof(got), "ok");
            else
                snprintf(got, sizeof(got), "no:%llu", (unsigned long long) res.wait_ms);
            if (acc != res.allowed)
                fail_msg("case %s (%s store): accepted %d, allowed %d", c->name, s->ops->name,
                         acc, res.allowed);
            break;
        case 'p':
            assert_int_equal(s->ops->peek(s, it, &res), RATE_STORE_OK);
            snprintf(got, sizeof(got), "%u", res.count);
            break;
        case 'r':
            assert_int_equal(s->ops->refund(s, it, 1, t), RATE_STORE_OK);
            continue;
        default:
            fail_msg("case %s: op \"%s\" is not one the stores run", c->name, op);
        }
        if (strcmp(got, exp) != 0)
            fail_msg("case %s (%s store): op \"%s\" (#%llu, at %llu): expected %s, got %s",
                     c->name, s->ops->name, op, (unsigned long long) r + 1,
                     (unsigned long long) t, exp, got);
    }
}

/* lc_run - run a case's ops on one store */
static void lc_run(const LC_CASE *c, RATE_STORE *s)
{
    RATE_RULE rule = th_rule("case", c->limit, c->period, 0);
    const char *p = c->ops, *e;
    RATE_STORE_ITEM it;
    char key[200];

    snprintf(key, sizeof(key), "case|%s", c->name);
    th_item(&it, &rule, key);
    assert_int_equal(s->ops->reset(s, key), RATE_STORE_OK);
    for (;;) {
        p += strspn(p, " \t");
        if (*p == 0)
            break;
        e = p + strcspn(p, " \t");
        lc_op(c, s, &it, p, (size_t) (e - p));
        p = e;
    }
}

/* test_case - one shared case through rate_store_mem and through the script */
static void test_case(void **state)
{
    const LC_CASE *c = *state;
    RATE_STORE *m = rate_store_mem_new(100, th_clock);

    lc_run(c, m);
    m->ops->free(m);
    lc_run(c, lc_redis);
}

/* ------------------------------------------------ differential, random */

/* rnd - xorshift64 (a fixed seed: the run is repeatable) */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(uint64_t n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return n ? rnd_state % n : 0;
}

/*
 * The C model of a store for the differential run: rate_limiter.c states that
 * are never dropped (the script's keys live ten minutes of real time in
 * test mode; rate_store_mem's idle sweep would forget what a reload to a longer
 * period carries over, as a Redis key's expiry does in real time).
 */
#define DM_KEYS 8
static RATE_LIMITER_STATE *dm_st[DM_KEYS];

/* dm_state - key k's state for rule r at now, converted if the rule changed */
static RATE_LIMITER_STATE *dm_state(int k, const RATE_RULE *r, uint64_t now)
{
    RATE_LIMITER_STATE *st = dm_st[k], *nw;

    if (st == NULL) {
        st = dm_st[k] = xmalloc(rate_limiter_size(r->limit));
        rate_limiter_init(st, r->limit, r->period_ms);
    } else if (st->limit != r->limit || st->period_ms != r->period_ms) {
        nw = xmalloc(rate_limiter_size(r->limit));
        rate_limiter_convert(st, nw, r->limit, r->period_ms, now);
        free(st);
        st = dm_st[k] = nw;
    }
    return st;
}

/* dm_decide - what a store must answer (rate_store.h's rules) */
static int dm_decide(const int *ks, const RATE_RULE *const *rules, int n, uint64_t now,
                     RATE_STORE_RESULT *res, uint64_t *stamp)
{
    RATE_LIMITER_STATE *st[3];
    int i, ok = 1;

    *stamp = now;
    for (i = 0; i < n; i++) {
        st[i] = dm_state(ks[i], rules[i], now);
        if (st[i]->last_ms > *stamp)
            *stamp = st[i]->last_ms;
    }
    for (i = 0; i < n; i++) {
        res[i].allowed = rate_limiter_check(st[i], now, &res[i].count, &res[i].wait_ms);
        if (!res[i].allowed && !rules[i]->shadow)
            ok = 0;
    }
    for (i = 0; ok && i < n; i++)
        rate_limiter_charge(st[i], *stamp);
    if (!ok)
        *stamp = 0;
    return ok;
}

/* diff_compare - the C model's and the script's results of op i agree */
static void diff_compare(int i, uint64_t t, const RATE_STORE_ITEM *it, const RATE_STORE_RESULT *rm,
                         const RATE_STORE_RESULT *rr, int n)
{
    for (int k = 0; k < n; k++)
        if (rm[k].allowed != rr[k].allowed || rm[k].count != rr[k].count || rm[k].wait_ms != rr[k].wait_ms)
            fail_msg("op %d at %llu key %s N=%u P=%llu: C %d/%u/%llu redis %d/%u/%llu",
                     i, (unsigned long long) t, it[k].key, it[k].rule->limit,
                     (unsigned long long) it[k].rule->period_ms, rm[k].allowed,
                     rm[k].count, (unsigned long long) rm[k].wait_ms, rr[k].allowed,
                     rr[k].count, (unsigned long long) rr[k].wait_ms);
}

/* diff_peek - op i peeks at key under rule: the model and the script agree */
static void diff_peek(RATE_STORE *r, int i, uint64_t t, int key, const RATE_RULE *rule,
                      const RATE_STORE_ITEM *it)
{
    RATE_STORE_RESULT rm, rr;

    if (dm_st[key]) {
        RATE_LIMITER_STATE *st = dm_state(key, rule, t);

        rm.allowed = rate_limiter_check(st, t, &rm.count, &rm.wait_ms);
    } else {
        rm.allowed = 1;
        rm.count = 0;
        rm.wait_ms = 0;
    }
    assert_int_equal(r->ops->peek(r, it, &rr), RATE_STORE_OK);
    if (rm.count != rr.count || rm.allowed != rr.allowed || rm.wait_ms != rr.wait_ms)
        fail_msg("peek %d at %llu key %s: C %u redis %u", i, (unsigned long long) t, it->key, rm.count,
                 rr.count);
}

/* test_differential - random calls through the script and the C model, compared */
static void test_differential(void **state)
{
    static const struct { uint32_t n; uint64_t p; } kinds[] = {
        { 1, 1000 }, { 2, 3000 }, { 5, 10000 }, { 40, 60000 }, { 256, 20000 },
        { 257, 255000 }, { 300, 30000 }, { 1000, 3600000 },
    };
    enum { NKEYS = 6, NOPS = 2500 };
    RATE_RULE rules[NKEYS];
    const RATE_RULE *rp[3];
    uint64_t stamps[16] = { 0 }, t = 1000000;
    RATE_STORE *r = new_redis(redis_url(&main_rs, ""), 200, 1000, 2);
    RATE_STORE_ITEM it[3];
    RATE_STORE_RESULT rm[3], rr[3];
    char keys[NKEYS][32];
    int i, k, ks[3];

    (void) state;
    rate_store_redis_set_clock(r, th_clock);
    for (k = 0; k < NKEYS; k++) {
        snprintf(keys[k], sizeof(keys[k]), "diff|k%d", k);
        rules[k] = th_rule(keys[k], kinds[k % 8].n, kinds[k % 8].p, k == 5);
        assert_int_equal(r->ops->reset(r, keys[k]), RATE_STORE_OK);
    }
    for (i = 0; i < NOPS; i++) {
        int op = (int) rnd(10), n = 1 + (int) rnd(3), am, ar;
        uint64_t sm, sr;

        /* mostly forward, sometimes far, sometimes back (a clock step) */
        t += rnd(4) == 0 ? rnd(40000) : rnd(300);
        if (rnd(30) == 0)
            t -= rnd(20000);
        th_clock_set(t);
        if (rnd(15) == 0) {             /* a reload gives a key another rule */
            k = (int) rnd(NKEYS);
            rules[k] = th_rule(keys[k], kinds[rnd(8)].n, kinds[rnd(8)].p, (int) rnd(2));
        }
        for (k = 0; k < n; k++) {
            ks[k] = (i + k * 2) % NKEYS;
            rp[k] = &rules[ks[k]];
            th_item(&it[k], rp[k], keys[ks[k]]);
        }
        if (op < 7) {
            am = dm_decide(ks, rp, n, t, rm, &sm);
            assert_int_equal(r->ops->decide(r, it, (size_t) n, rr, &ar, &sr), RATE_STORE_OK);
            if (am != ar || sm != sr)
                fail_msg("op %d at %llu: accepted %d/%d stamp %llu/%llu (C/redis)", i,
                         (unsigned long long) t, am, ar, (unsigned long long) sm,
                         (unsigned long long) sr);
            diff_compare(i, t, it, rm, rr, n);
            if (am)
                stamps[rnd(16)] = sm;
        } else if (op < 9) {
            uint64_t st = stamps[rnd(16)];

            for (k = 0; k < n; k++)
                if (dm_st[ks[k]])
                    rate_limiter_refund(dm_st[ks[k]], st);
            assert_int_equal(r->ops->refund(r, it, (size_t) n, st), RATE_STORE_OK);
        } else {
            diff_peek(r, i, t, ks[0], rp[0], &it[0]);
        }
    }
    for (k = 0; k < DM_KEYS; k++) {
        free(dm_st[k]);
        dm_st[k] = NULL;
    }
    r->ops->free(r);
}

/* A rule reloaded with another N or P: the script must convert exactly as
 * rate_limiter_convert() (the C model) does. */
typedef struct reload_case {
    const char *name;
    uint32_t n1; uint64_t p1; int charges; uint64_t gap;    /* charged from t=1000 */
    uint32_t n2; uint64_t p2; uint64_t t2;                  /* then decided at t2 */
} RELOAD_CASE;

static const RELOAD_CASE reload_cases[] = {
    { "exact_raise_limit", 3, 10000, 3, 1, 5, 10000, 2000 },
    { "exact_lower_limit", 5, 10000, 5, 1, 2, 10000, 2000 },
    { "exact_shorter_period", 5, 60000, 5, 1000, 5, 2000, 5500 },
    { "exact_longer_period", 3, 1000, 3, 600, 5, 10000, 3000 },
    { "exact_to_bucket", 10, 10000, 10, 7, 300, 255000, 5000 },
    { "bucket_one_slot_to_exact", 400, 255000, 400, 0, 3, 10000, 2000 },
    { "bucket_spread_to_exact", 400, 255000, 400, 13, 100, 60000, 9000 },
    { "bucket_to_bucket_longer", 400, 255000, 400, 500, 300, 86400000, 300000 },
    { "bucket_to_bucket_shorter", 1000, 86400000, 900, 60000, 500, 3600000, 60000000 },
    { "clock_behind_last", 5, 10000, 5, 100, 3, 5000, 10 },
};

/* test_reload - charge under one rule, decide under another: script vs C */
static void test_reload(void **state)
{
    const RELOAD_CASE *c = *state;
    RATE_RULE r1 = th_rule("r", c->n1, c->p1, 0), r2 = th_rule("r", c->n2, c->p2, 0);
    const RATE_RULE *rp[1];
    RATE_STORE *r = new_redis(redis_url(&main_rs, ""), 200, 1000, 1);
    RATE_STORE_RESULT want, got;
    RATE_STORE_ITEM it;
    char key[64];
    uint64_t ws, gs;
    int i, k = 0, wa, ga;

    rate_store_redis_set_clock(r, th_clock);
    snprintf(key, sizeof(key), "reload|%s", c->name);
    assert_int_equal(r->ops->reset(r, key), RATE_STORE_OK);
    rp[0] = &r1;
    th_item(&it, &r1, key);
    for (i = 0; i < c->charges; i++) {
        th_clock_set(1000 + (uint64_t) i * c->gap);
        wa = dm_decide(&k, rp, 1, 1000 + (uint64_t) i * c->gap, &want, &ws);
        assert_int_equal(r->ops->decide(r, &it, 1, &got, &ga, &gs), RATE_STORE_OK);
        assert_int_equal(ga, wa);
    }
    rp[0] = &r2;
    it.rule = &r2;
    for (i = 0; i < 4; i++) {
        th_clock_set(c->t2 + (uint64_t) i);
        wa = dm_decide(&k, rp, 1, c->t2 + (uint64_t) i, &want, &ws);
        assert_int_equal(r->ops->decide(r, &it, 1, &got, &ga, &gs), RATE_STORE_OK);
        if (ga != wa || gs != ws || got.count != want.count || got.wait_ms != want.wait_ms)
            fail_msg("%s, decision %d: C %d/%u/%llu/%llu redis %d/%u/%llu/%llu", c->name, i, wa,
                     want.count, (unsigned long long) want.wait_ms, (unsigned long long) ws, ga,
                     got.count, (unsigned long long) got.wait_ms, (unsigned long long) gs);
    }
    free(dm_st[0]);
    dm_st[0] = NULL;
    r->ops->free(r);
}

/* ------------------------------------------------------- behaviour */

/* test_atomic - a refusing rule charges nothing on the others, in Redis */
static void test_atomic(void **state)
{
    RATE_RULE a = th_rule("a", 5, 60000, 0), b = th_rule("b", 1, 60000, 0),
        sh = th_rule("s", 1, 60000, 1);
    RATE_STORE *r = new_redis(redis_url(&main_rs, ""), 200, 1000, 2);
    RATE_STORE_ITEM it[3];
    RATE_STORE_RESULT res[3];
    uint64_t stamp;
    int acc;

    (void) state;
    rate_store_redis_set_clock(r, th_clock);
    th_clock_set(5000000);
    th_item(&it[0], &a, "atomic|a");
    th_item(&it[1], &b, "atomic|b");
    th_item(&it[2], &sh, "atomic|s");
    for (acc = 0; acc < 3; acc++)
        assert_int_equal(r->ops->reset(r, it[acc].key), RATE_STORE_OK);
    assert_int_equal(r->ops->decide(r, it, 3, res, &acc, &stamp), RATE_STORE_OK);
    assert_int_equal(acc, 1);
    assert_int_equal(stamp, 5000000);
    th_clock_set(5000001);
    assert_int_equal(r->ops->decide(r, it, 3, res, &acc, &stamp), RATE_STORE_OK);
    assert_int_equal(acc, 0);
    assert_int_equal(stamp, 0);
    assert_int_equal(res[0].allowed, 1);
    assert_int_equal(res[1].allowed, 0);
    assert_int_equal(res[1].wait_ms, 59999);
    assert_int_equal(res[2].allowed, 0);
    assert_int_equal(r->ops->peek(r, &it[0], &res[0]), RATE_STORE_OK);
    assert_int_equal(res[0].count, 1);          /* a was not charged */
    /* without b, a refusing shadow rule does not refuse, and is charged */
    assert_int_equal(r->ops->decide(r, &it[0], 1, res, &acc, &stamp), RATE_STORE_OK);
    assert_int_equal(acc, 1);
    assert_int_equal(r->ops->decide(r, (RATE_STORE_ITEM[]) { it[0], it[2] }, 2, res, &acc, &stamp),
                     RATE_STORE_OK);
    assert_int_equal(acc, 1);
    assert_int_equal(res[1].allowed, 0);
    assert_int_equal(r->ops->peek(r, &it[0], &res[0]), RATE_STORE_OK);
    assert_int_equal(res[0].count, 3);
    r->ops->free(r);
}

/* test_key_layout - prefix, hash tag, binary keys, expiry P + w, Redis TIME */
static void test_key_layout(void **state)
{
    static const char bin[] = "b|rcpt=\"a b\"\r\n%s%n\x01\x7f\xc3\xa9\xff@x";
    RATE_STORE_REDIS_OPTS o = { 200, 1000, 2, "t1:" };
    RATE_RULE a = th_rule("a", 3, 10000, 0), big = th_rule("big", 1000, 255000, 0);
    RATE_STORE *r = rate_store_redis_new(redis_url(&main_rs, ""), &o, NULL);
    RATE_STORE_ITEM it[2];
    RATE_STORE_RESULT res[2];
    redisReply *rep;
    uint64_t stamp;
    char full[128];
    int acc, i;

    (void) state;
    assert_non_null(r);
    th_item(&it[0], &a, bin);
    th_item(&it[1], &big, "big|global");
    assert_int_equal(r->ops->reset(r, it[0].key), RATE_STORE_OK);
    assert_int_equal(r->ops->reset(r, it[1].key), RATE_STORE_OK);
    for (i = 0; i < 3; i++) {
        assert_int_equal(r->ops->decide(r, it, 2, res, &acc, &stamp), RATE_STORE_OK);
        assert_int_equal(acc, 1);
    }
    /* Redis TIME is the clock: the stamp is now in ms */
    assert_true(stamp > (uint64_t) time(NULL) * 1000 - 60000);
    assert_true(stamp < (uint64_t) time(NULL) * 1000 + 60000);
    assert_int_equal(r->ops->decide(r, it, 2, res, &acc, &stamp), RATE_STORE_OK);
    assert_int_equal(acc, 0);
    assert_true(res[0].wait_ms > 9000 && res[0].wait_ms <= 10000);
    snprintf(full, sizeof(full), "t1:{txmilter}:%s", bin);
    rep = raw(&main_rs, "PTTL %b", full, strlen(full));
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    /* P + w, w = ceil(10000 / 255) = 40 */
    assert_true(rep->integer > 9000 && rep->integer <= 10040);
    freeReplyObject(rep);
    rep = raw(&main_rs, "PTTL %s", "t1:{txmilter}:big|global");
    assert_non_null(rep);
    assert_true(rep->integer > 250000 && rep->integer <= 256000);
    freeReplyObject(rep);
    rep = raw(&main_rs, "STRLEN %s", "t1:{txmilter}:big|global");
    assert_non_null(rep);
    assert_int_equal(rep->integer, 33 + 256 * 8);
    freeReplyObject(rep);
    rep = raw(&main_rs, "STRLEN %b", full, strlen(full));
    assert_non_null(rep);
    assert_int_equal(rep->integer, 33 + 3 * 8);
    freeReplyObject(rep);
    assert_int_equal(r->ops->reset(r, bin), RATE_STORE_OK);
    rep = raw(&main_rs, "EXISTS %b", full, strlen(full));
    assert_non_null(rep);
    assert_int_equal(rep->integer, 0);
    freeReplyObject(rep);
    r->ops->free(r);
}

/* test_noscript - SCRIPT FLUSH, then decide works (EVAL reloads it) */
static void test_noscript(void **state)
{
    RATE_RULE a = th_rule("a", 10, 10000, 0);
    RATE_STORE *r = new_redis(redis_url(&main_rs, ""), 200, 1000, 1);
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res;
    redisReply *rep;
    uint64_t stamp;
    int acc, i;

    (void) state;
    th_item(&it, &a, "noscript|a");
    assert_int_equal(r->ops->reset(r, it.key), RATE_STORE_OK);
    for (i = 0; i < 3; i++) {
        assert_int_equal(r->ops->decide(r, &it, 1, &res, &acc, &stamp), RATE_STORE_OK);
        assert_int_equal(res.count, (uint32_t) i * 2);
        rep = raw(&main_rs, "SCRIPT FLUSH");
        assert_non_null(rep);
        freeReplyObject(rep);
        assert_int_equal(r->ops->decide(r, &it, 1, &res, &acc, &stamp), RATE_STORE_OK);
        assert_int_equal(acc, 1);
        assert_int_equal(res.count, (uint32_t) i * 2 + 1);
    }
    r->ops->free(r);
}

/* A URL that must work, or fail with an error text. */
typedef struct url_case {
    const char *name;
    const char *url;                /* %P: main port, %A: auth port, %S: socket */
    const char *err;                /* NULL: decide and ping work */
    int         db;                 /* where the key must land */
} URL_CASE;

static RS auth_rs;

static const URL_CASE url_cases[] = {
    { "plain", "redis://127.0.0.1:%P", NULL, 0 },
    { "default_db_slash", "redis://127.0.0.1:%P/", NULL, 0 },
    { "db_3", "redis://127.0.0.1:%P/3", NULL, 3 },
    { "ipv4_host_name", "redis://localhost:%P/4", NULL, 4 },
    { "unix_socket", "redis+unix://%S", NULL, 0 },
    { "unix_socket_db", "redis+unix://%S?db=2", NULL, 2 },
    { "auth_escaped_password", "redis://:s3cret%3A%2F%40x@127.0.0.1:%A/5", NULL, 5 },
    { "auth_user_default", "redis://default:s3cret%3a%2f%40x@127.0.0.1:%A", NULL, 0 },
    { "auth_wrong_password", "redis://:nope@127.0.0.1:%A", "WRONGPASS", 0 },
    { "auth_missing", "redis://127.0.0.1:%A", "NOAUTH", 0 },
    { "db_out_of_range", "redis://127.0.0.1:%P/99999", "DB index is out of range", 0 },
    { "nobody_listens", "redis://127.0.0.1:1", "Connection refused", 0 },
    { "no_socket", "redis+unix:///nonexistent/redis.sock", "No such file", 0 },
};

/* url_expand - fill in %P, %A and %S */
static void url_expand(const char *in, char *out, size_t len)
{
    BUF b;

    buf_init(&b, len - 1);
    for (; *in; in++) {
        if (in[0] == '%' && in[1] == 'P')
            buf_printf(&b, "%d", main_rs.port), in++;
        else if (in[0] == '%' && in[1] == 'A')
            buf_printf(&b, "%d", auth_rs.port), in++;
        else if (in[0] == '%' && in[1] == 'S')
            buf_puts(&b, main_rs.sock), in++;
        else
            buf_append(&b, in, 1);
    }
    util_strlcpy(out, b.data ? b.data : "", len);
    buf_free(&b);
}

/* test_url - one URL row: decide, ping, and where the key landed */
static void test_url(void **state)
{
    const URL_CASE *c = *state;
    RATE_RULE a = th_rule("a", 10, 10000, 0);
    char url[512], key[64];
    RATE_STORE *r;
    RATE_STORE_RESULT res;
    RATE_STORE_ITEM it;
    BUF err;
    uint64_t stamp;
    int acc;

    url_expand(c->url, url, sizeof(url));
    r = new_redis(url, 300, 1000, 1);
    buf_init(&err, 1024);
    snprintf(key, sizeof(key), "url|%s", c->name);
    th_item(&it, &a, key);
    if (c->err) {
        assert_int_equal(r->ops->decide(r, &it, 1, &res, &acc, &stamp), RATE_STORE_UNAVAILABLE);
        assert_int_equal(rate_store_redis_ping(r, &err), -1);
        if (err.data == NULL || strstr(err.data, c->err) == NULL)
            fail_msg("%s: error \"%s\", expected \"%s\"", url, err.data ? err.data : "", c->err);
    } else {
        const RS *srv = strstr(c->url, "%A") ? &auth_rs : &main_rs;
        char full[128];
        redisReply *rep;

        assert_int_equal(rate_store_redis_ping(r, &err), 0);
        assert_int_equal(r->ops->reset(r, key), RATE_STORE_OK);
        assert_int_equal(r->ops->decide(r, &it, 1, &res, &acc, &stamp), RATE_STORE_OK);
        assert_int_equal(acc, 1);
        assert_int_equal(res.count, 0);
        snprintf(full, sizeof(full), "txm:{txmilter}:%s", key);
        rep = raw(srv, "EVAL %s 1 %s %d", "redis.call('SELECT', ARGV[1]) "
                  "return redis.call('EXISTS', KEYS[1])", full, c->db);
        assert_non_null(rep);
        if (rep->type != REDIS_REPLY_INTEGER || rep->integer != 1)
            fail_msg("%s: key not found in db %d", url, c->db);
        freeReplyObject(rep);
    }
    buf_free(&err);
    r->ops->free(r);
}

typedef struct bad_url {
    const char *name;
    const char *url;
    const char *err;
} BAD_URL;

static const BAD_URL bad_urls[] = {
    { "empty", "", "Store URL: empty" },
    { "unknown_scheme", "rediss://h", "unknown scheme" },
    { "http", "http://h:6379", "unknown scheme" },
    { "no_host", "redis://", "no host name" },
    { "no_host_port", "redis://:6379", "no host name" },
    { "port_zero", "redis://h:0", "bad port" },
    { "port_big", "redis://h:65536", "bad port" },
    { "port_text", "redis://h:http", "bad port" },
    { "port_empty", "redis://h:", "bad port" },
    { "db_text", "redis://h/x", "bad database number" },
    { "db_two_parts", "redis://h/1/2", "bad database number" },
    { "db_negative", "redis://h/-1", "bad database number" },
    { "db_huge", "redis://h/99999999999", "bad database number" },
    { "query_tcp", "redis://h?db=1", "unknown parameter" },
    { "v6_unclosed", "redis://[::1:6379", "'[' without ']'" },
    { "v6_junk", "redis://[::1]x", "text after ']'" },
    { "v6_ok_then_bad_port", "redis://[::1]:x", "bad port" },
    { "cred_no_colon", "redis://pass@h", "credentials without ':'" },
    { "cred_empty_pass", "redis://:@h", "empty password" },
    { "cred_bad_escape", "redis://:a%zz@h", "bad %-escape" },
    { "cred_escape_nul", "redis://:a%00@h", "bad %-escape" },
    { "cred_escape_short", "redis://:a%4@h", "bad %-escape" },
    { "white_space", "redis://h :6379", "white space" },
    { "unix_host", "redis+unix://h/tmp/s", "has no host" },
    { "unix_no_path", "redis+unix://", "no socket path" },
    { "unix_slash_only", "redis+unix:///", "no socket path" },
    { "unix_bad_db", "redis+unix:///tmp/s?db=x", "bad database number" },
    { "unix_bad_param", "redis+unix:///tmp/s?timeout=1", "unknown parameter" },
    { "unix_long_path", "redis+unix:///xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "socket path too long" },
    { "sentinel_no_master", "redis-sentinel://h:26379", "no master name" },
    { "sentinel_empty_master", "redis-sentinel://h:26379/", "no master name" },
    { "sentinel_no_host", "redis-sentinel:///m", "no sentinel host" },
    { "sentinel_empty_in_list", "redis-sentinel://h1,,h2/m", "no host name" },
    { "sentinel_bad_db", "redis-sentinel://h/m/x", "bad database number" },
    { "sentinel_too_many", "redis-sentinel://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q/m",
      "more than 16 sentinels" },
    { "host_too_long", "redis://hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
      "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
      "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh:1",
      "host name too long" },
};

/* test_bad_url - rate_store_redis_new refuses with the row's text, password never echoed */
static void test_bad_url(void **state)
{
    const BAD_URL *c = *state;
    BUF err;

    buf_init(&err, 1024);
    assert_null(rate_store_redis_new(c->url, NULL, &err));
    assert_non_null(err.data);
    if (strstr(err.data, c->err) == NULL)
        fail_msg("\"%s\": error \"%s\", expected \"%s\"", c->url, err.data, c->err);
    assert_null(strstr(err.data, "zz"));
    buf_free(&err);
    assert_null(rate_store_redis_new(c->url, NULL, NULL)); /* err may be NULL */
}

/* timed_decide - one decide; its duration in ms into *ms */
static RATE_STORE_STATUS timed_decide(RATE_STORE *s, const RATE_STORE_ITEM *it, size_t n,
                                      RATE_STORE_RESULT *res, int *acc, uint64_t *ms)
{
    uint64_t t0 = th_ms_now(), stamp;
    RATE_STORE_STATUS st = s->ops->decide(s, it, n, res, acc, &stamp);

    *ms = th_ms_now() - t0;
    return st;
}

#define TO_MS 50
/* How much later than TO_MS a failing call may return. A loaded 2-core machine
 * running the sanitizer build (make -j2 check) has been seen to add 121 ms of
 * scheduling delay; a call that ignored the timeout would hang for seconds
 * (hiredis has no timeout of its own), so 400 ms still tells the two apart. */
#define TO_SLACK_MS 400
static uint64_t worst_outage_ms;

/* test_outage - killed, stopped and restarted Redis: fast failures, fast recovery */
static void test_outage(void **state)
{
    RATE_RULE a = th_rule("a", 1000, 600000, 0);
    static RS s;                    /* static: rs_cleanup() may see it after a failure */
    RATE_STORE *r;
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res;
    uint64_t ms;
    int acc, i;

    (void) state;
    memset(&s, 0, sizeof(s));
    rs_start(&s, NULL);
    r = new_redis(redis_url(&s, ""), 100, TO_MS, 4);
    th_item(&it, &a, "outage|a");
    assert_int_equal(timed_decide(r, &it, 1, &res, &acc, &ms), RATE_STORE_OK);

    /* killed: connection refused, at once */
    th_redis_signal(&s, SIGKILL);
    for (i = 0; i < 5; i++) {
        assert_int_equal(timed_decide(r, &it, 1, &res, &acc, &ms), RATE_STORE_UNAVAILABLE);
        if (ms > worst_outage_ms)
            worst_outage_ms = ms;
        if (ms > TO_MS + TO_SLACK_MS + (uint64_t) slack_ms)
            fail_msg("call %d took %llu ms with Redis killed", i, (unsigned long long) ms);
    }
    /* restarted: the first call works (new connection, NOSCRIPT answered) */
    rs_start(&s, NULL);
    assert_int_equal(timed_decide(r, &it, 1, &res, &acc, &ms), RATE_STORE_OK);
    assert_int_equal(acc, 1);
    assert_true(ms <= TO_MS + TO_SLACK_MS + (uint64_t) slack_ms);
    /* restarted between two calls: the stale pooled connection is replaced in the call */
    th_redis_signal(&s, SIGKILL);
    rs_start(&s, NULL);
    assert_int_equal(timed_decide(r, &it, 1, &res, &acc, &ms), RATE_STORE_OK);
    assert_int_equal(res.count, 0);             /* no persistence: state lost */

    /* stopped (SIGSTOP): connections hang, each call times out */
    th_redis_signal(&s, SIGSTOP);
    for (i = 0; i < 4; i++) {
        assert_int_equal(timed_decide(r, &it, 1, &res, &acc, &ms), RATE_STORE_UNAVAILABLE);
        if (ms > worst_outage_ms)
            worst_outage_ms = ms;
        if (ms > TO_MS + TO_SLACK_MS + (uint64_t) slack_ms)
            fail_msg("call %d took %llu ms with Redis stopped", i, (unsigned long long) ms);
    }
    th_redis_signal(&s, SIGCONT);
    assert_int_equal(timed_decide(r, &it, 1, &res, &acc, &ms), RATE_STORE_OK);
    assert_true(ms <= TO_MS + TO_SLACK_MS + (uint64_t) slack_ms);
    r->ops->free(r);
    th_redis_signal(&s, SIGKILL);
}

#define RELAY_THREADS 4
#define RELAY_CALLS   150

typedef struct relay {
    RATE_STORE *s;
    const RATE_STORE_ITEM *it;
    int accepted, errors;
} RELAY;

/* relay_run - one thread of one relay deciding over and over */
static void *relay_run(void *arg)
{
    RELAY *rl = arg;
    RATE_STORE_RESULT res[2];
    uint64_t stamp;
    int acc, i;

    for (i = 0; i < RELAY_CALLS; i++) {
        if (rl->s->ops->decide(rl->s, rl->it, 2, res, &acc, &stamp) != RATE_STORE_OK)
            rl->errors++;
        else if (acc)
            rl->accepted++;
    }
    return NULL;
}

/* test_two_relays - two stores on one Redis, 8 threads, pools of 2: exactly N pass */
static void test_two_relays(void **state)
{
    RATE_RULE a = th_rule("a", 100, 3600000, 0), b = th_rule("b", 300, 3600000, 0);
    RATE_STORE *s1 = new_redis(redis_url(&main_rs, ""), 500, 2000, 2),
        *s2 = new_redis(redis_url(&main_rs, ""), 500, 2000, 2);
    RELAY rl[2 * RELAY_THREADS];
    pthread_t tid[2 * RELAY_THREADS];
    RATE_STORE_ITEM it[2];
    RATE_STORE_RESULT res;
    int i, acc = 0, errs = 0;

    (void) state;
    th_item(&it[0], &a, "relays|global");
    th_item(&it[1], &b, "relays|big");
    assert_int_equal(s1->ops->reset(s1, it[0].key), RATE_STORE_OK);
    assert_int_equal(s1->ops->reset(s1, it[1].key), RATE_STORE_OK);
    for (i = 0; i < 2 * RELAY_THREADS; i++) {
        rl[i].s = i % 2 ? s2 : s1;
        rl[i].it = it;
        rl[i].accepted = rl[i].errors = 0;
        assert_int_equal(pthread_create(&tid[i], NULL, relay_run, &rl[i]), 0);
    }
    for (i = 0; i < 2 * RELAY_THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        acc += rl[i].accepted;
        errs += rl[i].errors;
    }
    assert_int_equal(errs, 0);
    assert_int_equal(acc, 100);
    assert_int_equal(s2->ops->peek(s2, &it[1], &res), RATE_STORE_OK);
    assert_int_equal(res.count, 100);           /* b charged only with a */
    s1->ops->free(s1);
    s2->ops->free(s2);
}

/* test_sentinel - discovery through sentinels in order, and again after a switch */
static void test_sentinel(void **state)
{
    RATE_RULE a = th_rule("a", 10, 60000, 0);
    static RS m1, m2, sen;          /* static: rs_cleanup() may see them after a failure */
    RATE_STORE *r, *bad;
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res;
    redisReply *rep;
    char url[256];
    BUF err;
    uint64_t stamp;
    int acc, i, ok = 0;

    (void) state;
    memset(&m1, 0, sizeof(m1));
    memset(&m2, 0, sizeof(m2));
    memset(&sen, 0, sizeof(sen));
    rs_start(&m1, NULL);
    rs_start(&m2, NULL);
    rs_start_sentinel(&sen, &m1);
    /* the first sentinel listed is down: the second one answers */
    snprintf(url, sizeof(url), "redis-sentinel://127.0.0.1:%d,127.0.0.1:%d/mymaster/1",
             th_free_port(), sen.port);
    r = new_redis(url, 300, 1000, 2);
    th_item(&it, &a, "sentinel|a");
    assert_int_equal(r->ops->decide(r, &it, 1, &res, &acc, &stamp), RATE_STORE_OK);
    assert_int_equal(acc, 1);
    rep = raw(&m1, "EVAL %s 1 %s", "redis.call('SELECT', 1) return redis.call('EXISTS', KEYS[1])",
              "txm:{txmilter}:sentinel|a");
    assert_non_null(rep);
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);

    /* the master moves to m2 and m1 becomes its replica: READONLY, ask again */
    rep = raw(&sen, "SENTINEL REMOVE mymaster");
    assert_non_null(rep);
    freeReplyObject(rep);
    {
        char port2[16];

        snprintf(port2, sizeof(port2), "%d", m2.port);
        rep = raw(&sen, "SENTINEL MONITOR mymaster 127.0.0.1 %s 1", port2);
        assert_non_null(rep);
        assert_int_not_equal(rep->type, REDIS_REPLY_ERROR);
        freeReplyObject(rep);
        rep = raw(&m1, "REPLICAOF 127.0.0.1 %s", port2);
        assert_non_null(rep);
        freeReplyObject(rep);
    }
    for (i = 0; i < 4 && !ok; i++)
        ok = r->ops->decide(r, &it, 1, &res, &acc, &stamp) == RATE_STORE_OK;
    assert_true(ok);
    rep = raw(&m2, "EVAL %s 1 %s", "redis.call('SELECT', 1) return redis.call('EXISTS', KEYS[1])",
              "txm:{txmilter}:sentinel|a");
    assert_non_null(rep);
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);

    /* a master name no sentinel knows */
    snprintf(url, sizeof(url), "redis-sentinel://127.0.0.1:%d/nosuchmaster", sen.port);
    bad = new_redis(url, 300, 1000, 1);
    buf_init(&err, 1024);
    assert_int_equal(bad->ops->decide(bad, &it, 1, &res, &acc, &stamp), RATE_STORE_UNAVAILABLE);
    assert_int_equal(rate_store_redis_ping(bad, &err), -1);
    assert_non_null(strstr(err.data, "master unknown"));
    buf_free(&err);
    bad->ops->free(bad);
    r->ops->free(r);
    th_redis_signal(&sen, SIGKILL);
    th_redis_signal(&m1, SIGKILL);
    th_redis_signal(&m2, SIGKILL);
}

/* ------------------------------------------- suppressions with decide */

/* Suppression entries made for one case, and what decide_sup() returns. */
typedef struct sup_case {
    const char *name;
    int         streams;            /* streams in the list */
    int         hits;               /* of them, the recipient unsubscribed from the first hits */
    int         fetched;            /* sup.fetched expected */
    int         lapsed;             /* of the hits, the first lapsed (a bounce expired) */
    int         later;              /* the next ones lapse in the future: still hits */
} SUP_CASE;

static const SUP_CASE sup_cases[] = {
    { "sup_none", 0, 0, 1, 0, 0 },
    { "sup_one_of_three", 3, 1, 1, 0, 0 },
    { "sup_sixteen", RATE_STORE_SUP_MAX, RATE_STORE_SUP_MAX, 1, 0, 0 },
    { "sup_seventeen_too_many_to_return", RATE_STORE_SUP_MAX + 1, RATE_STORE_SUP_MAX + 1, 0, 0, 0 },
    { "sup_257_streams_too_many_to_look_at", 257, 0, 0, 0, 0 },
    { "sup_lapsed_bounce_left_out_later_one_kept", 4, 3, 1, 1, 1 },
};

/* KEYS[1] the index, KEYS[2] a hash prefix; ARGV streams, hits, rcpt,
 * lapsed, later: values old-style ("1 test") or with a reason and expiry */
static const char sup_fill_lua[] =
    "redis.call('DEL', KEYS[1])\n"
    "local lapsed, later = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "for i = 1, tonumber(ARGV[1]) do\n"
    "  local s = 'stream' .. i .. '@shop.example'\n"
    "  local v = '1 test'\n"
    "  if i <= lapsed then v = '1 dsn bounce 5 5.1.1; smtp; 550 5.1.1 unknown'\n"
    "  elseif i <= lapsed + later then v = '1 dsn bounce 9999999999 5.1.1' end\n"
    "  redis.call('DEL', KEYS[2] .. s)\n"
    "  redis.call('SADD', KEYS[1], s)\n"
    "  redis.call('HSET', KEYS[2] .. s, 'someone@else.example', '1 test')\n"
    "  if i <= tonumber(ARGV[2]) then redis.call('HSET', KEYS[2] .. s, ARGV[3], v) end\n"
    "end\n"
    "return 1\n";

/* mon_open - a MONITOR connection to s */
static redisContext *mon_open(const RS *s)
{
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    redisReply *rep;

    assert_non_null(c);
    assert_int_equal(c->err, 0);
    redisSetTimeout(c, tv);
    assert_non_null(rep = redisCommand(c, "MONITOR"));
    freeReplyObject(rep);
    return c;
}

/* mon_count - commands clients sent since the last count (not those a
 * script ran); a marker sent on another connection ends the count */
static int mon_count(redisContext *c, const RS *s)
{
    redisReply *rep;
    int n = 0;

    assert_non_null(rep = raw(s, "ECHO %s", "txm-monitor-mark"));
    freeReplyObject(rep);
    for (;;) {
        if (redisGetReply(c, (void **) &rep) != REDIS_OK || rep == NULL)
            fail_msg("MONITOR: no marker within 2 s");
        if (rep->type == REDIS_REPLY_STATUS && strstr(rep->str, "txm-monitor-mark")) {
            freeReplyObject(rep);
            return n;
        }
        if (rep->type == REDIS_REPLY_STATUS && strstr(rep->str, " lua]") == NULL)
            n++;
        freeReplyObject(rep);
    }
}

/* test_decide_sup - the recipient's suppressions come with its decision, in one command */
static void test_decide_sup(void **state)
{
    const SUP_CASE *c = *state;
    RATE_RULE a = th_rule("a", 100, 3600000, 0);
    REDIS_POOL_OPTS po = { 200, 1000, 2, 0 };
    REDIS_POOL *pool;
    RATE_STORE *r;
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res;
    RATE_STORE_SUP sup;
    redisReply *rep;
    redisContext *mon;
    uint64_t stamp;
    char hits[16], streams[16], lapsed[16], later[16];
    int acc, i;

    assert_non_null(pool = redis_pool_new(redis_url(&main_rs, ""), &po, NULL));
    assert_non_null(r = rate_store_redis_open(pool, NULL, NULL));
    snprintf(streams, sizeof(streams), "%d", c->streams);
    snprintf(hits, sizeof(hits), "%d", c->hits);
    snprintf(lapsed, sizeof(lapsed), "%d", c->lapsed);
    snprintf(later, sizeof(later), "%d", c->later);
    rep = raw(&main_rs, "EVAL %s 2 %s %s %s %s %s %s %s", sup_fill_lua, REDIS_SUP_STREAMS,
              REDIS_SUP_HASH, streams, hits, "victim@example.com", lapsed, later);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    freeReplyObject(rep);
    th_item(&it, &a, "sup|a");
    assert_int_equal(r->ops->peek(r, &it, &res), RATE_STORE_OK); /* connected, script loaded */
    assert_int_equal(r->ops->reset(r, it.key), RATE_STORE_OK);

    mon = mon_open(&main_rs);
    (void) mon_count(mon, &main_rs);
    memset(&sup, 0, sizeof(sup));
    strv_init(&sup.streams);
    sup.rcpt = "victim@example.com";
    assert_non_null(r->ops->decide_sup);
    assert_int_equal(r->ops->decide_sup(r, &it, 1, &res, &acc, &stamp, &sup), RATE_STORE_OK);
    assert_int_equal(acc, 1);
    assert_int_equal(res.count, 0);
    /* one command for the decision and the suppressions */
    assert_int_equal(mon_count(mon, &main_rs), 1);
    assert_int_equal(sup.fetched, c->fetched);
    if (c->fetched) {
        assert_int_equal(sup.streams.n, (size_t) (c->hits - c->lapsed));
        /* each with its stored value: the later bounce's says so */
        assert_int_equal(sup.values.n, sup.streams.n);
        for (i = 0; i < (int) sup.values.n; i++)
            assert_string_equal(sup.values.v[i], strcmp(sup.streams.v[i], "stream2@shop.example") == 0
                                && c->later ? "1 dsn bounce 9999999999 5.1.1" : "1 test");
        for (i = 0; i < c->hits; i++) {
            char want[64];

            snprintf(want, sizeof(want), "stream%d@shop.example", i + 1);
            assert_int_equal(strv_contains_ci(&sup.streams, want), i >= c->lapsed);
        }
    } else {
        assert_int_equal(sup.streams.n, 0);
    }
    strv_free(&sup.streams);
    strv_free(&sup.values);
    /* the plain decide() is unchanged: counted once more, nothing else returned */
    assert_int_equal(r->ops->decide(r, &it, 1, &res, &acc, &stamp), RATE_STORE_OK);
    assert_int_equal(res.count, 1);
    redisFree(mon);
    r->ops->free(r);
    redis_pool_free(pool);
}

/* ------------------------------------------------------------ failover */

typedef struct fo_case {
    const char *name;
    RATE_STORE_FAILURE policy;
    RATE_STORE_STATUS outage_status; /* decide() while Redis is down */
    int         outage_accepts;     /* of 10 calls on a 3/1h rule */
} FO_CASE;

static const FO_CASE fo_cases[] = {
    { "failover_local", RATE_STORE_FAIL_LOCAL, RATE_STORE_OK, 3 },
    { "failover_accept", RATE_STORE_FAIL_ACCEPT, RATE_STORE_OK, 10 },
    { "failover_tempfail", RATE_STORE_FAIL_TEMPFAIL, (RATE_STORE_STATUS) RATE_STORE_TEMPFAIL, 0 },
};

#define RETRY_MS 300

/* test_failover - outage and return under one StoreFailure policy */
static void test_failover(void **state)
{
    const FO_CASE *c = *state;
    RATE_RULE a = th_rule("a", 3, 3600000, 0);
    RATE_STORE_FAILOVER_STATS st;
    RATE_STORE *f;
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res;
    static RS s;                    /* static: rs_cleanup() may see it after a failure */
    char logf[300];
    uint64_t ms, back, stamp, worst = 0;
    int acc, i, accepts = 0, saved, fd;

    memset(&s, 0, sizeof(s));
    rs_start(&s, NULL);
    f = rate_store_failover_new(new_redis(redis_url(&s, ""), 100, TO_MS, 4),
                                c->policy == RATE_STORE_FAIL_LOCAL ? rate_store_mem_new(1000, NULL)
                                : NULL, c->policy, RETRY_MS);
    th_item(&it, &a, "failover|a");
    snprintf(logf, sizeof(logf), "%s/%s.log", rs_tmp, c->name);
    fflush(stderr);
    saved = dup(2);
    assert_true((fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
    dup2(fd, 2);
    close(fd);

    assert_int_equal(f->ops->decide(f, &it, 1, &res, &acc, &stamp), RATE_STORE_OK);
    assert_int_equal(acc, 1);
    th_redis_signal(&s, SIGKILL);
    for (i = 0; i < 10; i++) {
        RATE_STORE_STATUS rc = timed_decide(f, &it, 1, &res, &acc, &ms);

        assert_int_equal(rc, c->outage_status);
        if (rc == RATE_STORE_OK && acc)
            accepts++;
        if (ms > worst)
            worst = ms;
        th_ms_sleep(40);
    }
    if (worst > worst_outage_ms)
        worst_outage_ms = worst;
    assert_true(worst <= TO_MS + TO_SLACK_MS + (uint64_t) slack_ms);
    assert_int_equal(accepts, c->outage_accepts);
    rate_store_failover_stats(f, &st);
    assert_int_equal(st.primary_up, 0);
    assert_int_equal(st.primary_ok, 1);
    assert_int_equal(st.fallback, 10);
    /* one failure, then a probe every RETRY_MS: about 400 ms / 300 ms */
    assert_true(st.primary_failed >= 1 && st.primary_failed <= 4);

    rs_start(&s, NULL);
    back = th_ms_now();
    for (;;) {
        (void) timed_decide(f, &it, 1, &res, &acc, &ms);
        assert_true(ms <= TO_MS + TO_SLACK_MS + (uint64_t) slack_ms);
        rate_store_failover_stats(f, &st);
        if (st.primary_up)
            break;
        if (th_ms_now() - back > RETRY_MS + TO_MS + TO_SLACK_MS + (uint64_t) slack_ms)
            fail_msg("the primary was not asked again within retry_ms + one call");
        th_ms_sleep(10);
    }
    assert_int_equal(st.primary_ok, 2);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(th_count_lines(logf, "rate store redis unavailable"), 1);
    assert_int_equal(th_count_lines(logf, "rate store redis answers again"), 1);
    f->ops->free(f);
    th_redis_signal(&s, SIGKILL);
}

/* test_failover_concurrent - while open, concurrent callers never wait for the probe */
static void *fo_caller(void *arg)
{
    RATE_STORE *f = arg;
    RATE_RULE a = th_rule("a", 1000, 3600000, 0);
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res;
    uint64_t ms, worst = 0;
    int acc, i;

    th_item(&it, &a, "failover|conc");
    for (i = 0; i < 50; i++) {
        (void) timed_decide(f, &it, 1, &res, &acc, &ms);
        if (ms > worst)
            worst = ms;
    }
    return (void *) (uintptr_t) worst;
}

/* test_failover_stopped - SIGSTOPped Redis: one caller probes, the others fall back at once */
static void test_failover_stopped(void **state)
{
    RATE_RULE a = th_rule("a", 1000, 3600000, 0);
    RATE_STORE_FAILOVER_STATS st;
    pthread_t tid[4];
    RATE_STORE *f;
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res;
    static RS s;                    /* static: rs_cleanup() may see it after a failure */
    void *w;
    uint64_t stamp;
    int acc, i, slow = 0;

    (void) state;
    memset(&s, 0, sizeof(s));
    rs_start(&s, NULL);
    f = rate_store_failover_new(new_redis(redis_url(&s, ""), 100, TO_MS, 4),
                                rate_store_mem_new(100, NULL), RATE_STORE_FAIL_LOCAL, 100);
    th_item(&it, &a, "failover|conc");
    assert_int_equal(f->ops->decide(f, &it, 1, &res, &acc, &stamp), RATE_STORE_OK);
    th_redis_signal(&s, SIGSTOP);
    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, fo_caller, f), 0);
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(tid[i], &w), 0);
        if ((uintptr_t) w > TO_MS + TO_SLACK_MS + (uint64_t) slack_ms)
            slow++;
    }
    assert_int_equal(slow, 0);
    rate_store_failover_stats(f, &st);
    /* 200 calls, but only the first failure and a few probes waited */
    assert_true(st.primary_failed <= 8);
    assert_true(st.fallback >= 190);
    th_redis_signal(&s, SIGCONT);
    f->ops->free(f);
    th_redis_signal(&s, SIGKILL);
}

/* test_failover_shared_pool - a pool with its own breaker (shared with the
 * suppression list) and retry_ms 0: the pool decides when Redis is probed,
 * and decisions go back to Redis with the first call after the pool's
 * breaker closed, whoever closed it */
static void test_failover_shared_pool(void **state)
{
    RATE_RULE a = th_rule("a", 1000, 3600000, 0);
    REDIS_POOL_OPTS po = { 100, TO_MS, 4, RETRY_MS };
    REDIS_POOL_STATS ps;
    RATE_STORE_FAILOVER_STATS st;
    REDIS_POOL *pool;
    RATE_STORE *f;
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res;
    static RS s;                    /* static: rs_cleanup() may see it after a failure */
    uint64_t stamp, end;
    int acc, i;

    (void) state;
    memset(&s, 0, sizeof(s));
    rs_start(&s, NULL);
    assert_non_null(pool = redis_pool_new(redis_url(&s, ""), &po, NULL));
    f = rate_store_failover_new(rate_store_redis_open(pool, NULL, NULL),
                                rate_store_mem_new(100, NULL), RATE_STORE_FAIL_LOCAL, 0);
    th_item(&it, &a, "failover|pool");
    assert_int_equal(f->ops->decide(f, &it, 1, &res, &acc, &stamp), RATE_STORE_OK);
    th_redis_signal(&s, SIGSTOP);
    for (i = 0; i < 20; i++) {
        assert_int_equal(f->ops->decide(f, &it, 1, &res, &acc, &stamp), RATE_STORE_OK);
        th_ms_sleep(10);
    }
    rate_store_failover_stats(f, &st);
    redis_pool_stats(pool, &ps);
    assert_int_equal(st.primary_up, 0);
    assert_int_equal(st.fallback, 20);
    /* what the pool did not send is no failure of the primary */
    assert_int_equal(st.primary_failed, ps.calls_failed);
    assert_true(ps.calls_skipped >= 1);
    th_redis_signal(&s, SIGCONT);
    /* another user of the pool (a suppression check) closes its breaker */
    end = th_ms_now() + RETRY_MS + 2000 + (uint64_t) slack_ms;
    while (redis_pool_ping(pool, NULL) != 0 && th_ms_now() < end)
        th_ms_sleep(20);
    assert_int_equal(redis_pool_up(pool), 1);
    assert_int_equal(f->ops->decide(f, &it, 1, &res, &acc, &stamp), RATE_STORE_OK);
    rate_store_failover_stats(f, &st);
    assert_int_equal(st.primary_up, 1);
    f->ops->free(f);
    redis_pool_free(pool);
    th_redis_signal(&s, SIGKILL);
}

/* ----------------------------------------------------------------- main */

/* setup_servers - the shared servers, started before any group */
static void test_setup_servers(void **state)
{
    (void) state;
    rs_start(&main_rs, NULL);
    rs_start(&auth_rs, "s3cret:/@x");
}

int main(void)
{
    const struct CMUnitTest setup[] = { cmocka_unit_test(test_setup_servers) };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential),
        cmocka_unit_test(test_atomic),
        cmocka_unit_test(test_key_layout),
        cmocka_unit_test(test_noscript),
        cmocka_unit_test(test_outage),
        cmocka_unit_test(test_two_relays),
        cmocka_unit_test(test_failover_stopped),
        cmocka_unit_test(test_failover_shared_pool),
        cmocka_unit_test(test_sentinel),
    };
    const char *sl = getenv("TEST_TIME_SLACK_MS");
    uint64_t t0 = th_ms_now();
    int rc;

    slack_ms = sl ? atol(sl) : 0;
    signal(SIGPIPE, SIG_IGN);
    snprintf(rs_tmp, sizeof(rs_tmp), "/tmp/txm-redis-test.XXXXXX");
    if (mkdtemp(rs_tmp) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    atexit(rs_cleanup);
    lc_load();
    rc = cmocka_run_group_tests_name("rate_store_redis_servers", setup, NULL, NULL);
    if (rc != 0)
        return 1;
    lc_redis = new_redis(redis_url(&main_rs, ""), 200, 1000, 2);
    rate_store_redis_set_clock(lc_redis, th_clock);
    rc |= run_table("rate_limiter_cases_via_lua", test_case, lc_cases, sizeof(lc_cases[0]),
                    lc_ncases);
    lc_redis->ops->free(lc_redis);
    rc |= RUN("rate_store_redis_reload", test_reload, reload_cases);
    rc |= RUN("rate_store_redis_urls", test_url, url_cases);
    rc |= RUN("rate_store_redis_bad_urls", test_bad_url, bad_urls);
    rc |= cmocka_run_group_tests_name("rate_store_redis", tests, NULL, NULL);
    rc |= RUN("rate_store_failover", test_failover, fo_cases);
    rc |= RUN("rate_store_redis_decide_sup", test_decide_sup, sup_cases);
    printf("rate_store_redis: worst call during outages %llu ms (bound %d ms); total %llu ms\n",
           (unsigned long long) worst_outage_ms, TO_MS + TO_SLACK_MS,
           (unsigned long long) (th_ms_now() - t0));
    return rc != 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_ratelimit - rate decisions per second and the latency a decision
 * adds to one recipient, with the embedded store or Redis.
 *
 *	bench_ratelimit [--store embedded|redis://127.0.0.1:PORT/0] [--policy FILE]
 *	                [--threads N] [--decisions N] [--recipients N] [--rcpts-per-msg N]
 *
 *	What is timed is exactly what txmilter does for each RCPT when a
 *	policy is configured (msg_rcpt() -> rate_txn_rcpt()): normalise the
 *	address, build the key of every rule that applies, one store decide()
 *	(for Redis: one EVALSHA through the same failover wrapper the daemon
 *	uses, StoreFailure tempfail so that a failure is counted, never hidden
 *	by a local decision). Messages are committed like accepted mail, so
 *	nothing is refunded. The milter round trip for RCPT happens with or
 *	without a policy (tx_envrcpt is always called), so this call is the
 *	whole latency a decision adds.
 *
 *	Recipients cycle through --recipients distinct addresses
 *	(user<i>@d<i % 997>.example), spread over the threads; with the
 *	default (as many recipients as decisions) every decision accepts.
 *
 *	With Redis, INFO commandstats is read before and after (a connection
 *	of its own) to show the EVALSHA calls per decision.
 *
 *	Output: one line of key=value pairs (for RESULTS.md) and a human
 *	summary. Exit 1 when a decision failed or the store was unavailable.
 *
 *	Built only by `make bench` (EXTRA_PROGRAMS): `make` and `make check`
 *	do not build it.
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>

#include "log.h"
#include "rate_policy.h"
#include "rate_store_failover.h"
#include "rate_store_mem.h"
#include "rate_store_redis.h"
#include "rate_txn.h"
#include "util.h"

static const char *default_policy =
    "# the README's anti-bombing policy: three rules per recipient\n"
    "rcpt-burst    rcpt                 3/10m    tempfail\n"
    "rcpt-day      rcpt                 20/1d    tempfail\n"
    "tenant-rcpt   rcpt,sender_domain   10/1h    tempfail   shadow\n";

typedef struct worker {
    pthread_t  tid;
    int        index;
    RATE_STORE *store;
    const RATE_POLICY *policy;
    ADDR_NORM_OPTS norm;
    size_t     first, count;    /* decisions of this thread */
    size_t     recipients, per_msg, nthreads;
    uint64_t  *lat_ns;          /* one per decision */
    size_t     accepted, refused, failed;
} WORKER;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void *worker_run(void *arg)
{
    WORKER *w = arg;
    RATE_TXN *t = NULL;
    char rcpt[128];

    for (size_t k = 0; k < w->count; k++) {
        size_t i = (w->first + k) % w->recipients;
        uint64_t t0, t1;
        RATE_RESULT r;

        if (t == NULL)
            t = rate_txn_new(w->policy, &w->norm, "<app@shop.example>", "192.0.2.10", "", 0);
        snprintf(rcpt, sizeof(rcpt), "<User%zu@D%zu.example>", i, i % 997);
        t0 = now_ns();
        r = rate_txn_rcpt(t, w->store, rcpt, NULL, "BENCH");
        t1 = now_ns();
        w->lat_ns[k] = t1 - t0;
        if (r.outcome == RATE_ACCEPT)
            w->accepted++;
        else if (r.reason == RATE_WHY_STORE)
            w->failed++;
        else
            w->refused++;
        if ((k + 1) % w->per_msg == 0 || k + 1 == w->count) {
            rate_txn_commit(t);
            rate_txn_free(t, w->store);
            t = NULL;
        }
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}

/* redis_stat - calls of one command from INFO commandstats, -1 on error */
static long long redis_stat(const char *url, const char *cmd)
{
    char host[256] = "127.0.0.1";
    int port = 6379;
    redisContext *c;
    redisReply *rep;
    long long calls = 0;
    char needle[64];
    const char *p;

    if (sscanf(url, "redis://%255[^:/]:%d", host, &port) < 1)
        return -1;
    c = redisConnect(host, port);
    if (c == NULL || c->err) {
        if (c)
            redisFree(c);
        return -1;
    }
    rep = redisCommand(c, "INFO commandstats");
    if (rep == NULL || rep->type != REDIS_REPLY_STRING) {
        if (rep)
            freeReplyObject(rep);
        redisFree(c);
        return -1;
    }
    snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", cmd);
    if ((p = strstr(rep->str, needle)) != NULL)
        calls = strtoll(p + strlen(needle), NULL, 10);
    freeReplyObject(rep);
    redisFree(c);
    return calls;
}

/* The command line. */
typedef struct bench_args {
    const char *store_spec, *policy_path;
    size_t      nthreads, decisions, recipients, per_msg;
} BENCH_ARGS;

/* usage - how to call it, and exit 2 */
static void usage(void)
{
    fprintf(stderr, "usage: bench_ratelimit [--store embedded|redis://HOST:PORT/DB] [--policy FILE]\n"
            "       [--threads N] [--decisions N] [--recipients N] [--rcpts-per-msg N]\n");
    exit(2);
}

/* bench_policy - the policy file given, or the default one; NULL after saying why */
static RATE_POLICY *bench_policy(const char *policy_path)
{
    char tmpl[] = "/tmp/bench-policy-XXXXXX";
    RATE_POLICY *policy;
    BUF err;

    if (policy_path == NULL) {
        int fd = mkstemp(tmpl);
        FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

        if (fp == NULL || fputs(default_policy, fp) < 0 || fclose(fp) != 0) {
            perror("policy file");
            return NULL;
        }
        policy_path = tmpl;
    }
    buf_init(&err, 64 * 1024);
    policy = rate_policy_load(policy_path, &err);
    if (policy_path == tmpl)
        unlink(tmpl);
    if (policy == NULL)
        fputs(err.data ? err.data : "policy error\n", stderr);
    buf_free(&err);
    return policy;
}

/* bench_store - the embedded store sized for the run, or Redis behind the
 * failover store; NULL after saying why */
static RATE_STORE *bench_store(const char *store_spec, size_t slots)
{
    RATE_STORE_REDIS_OPTS o = { .connect_timeout_ms = 100, .timeout_ms = 50, .pool_size = 8,
                                .prefix = NULL };
    RATE_STORE *r;
    BUF err;

    if (strcasecmp(store_spec, "embedded") == 0)
        return rate_store_mem_new(slots, NULL);
    buf_init(&err, 1024);
    if ((r = rate_store_redis_new(store_spec, &o, &err)) == NULL)
        fprintf(stderr, "bench_ratelimit: %s\n", err.data ? err.data : "bad store");
    else if (rate_store_redis_ping(r, &err) < 0) {
        fprintf(stderr, "bench_ratelimit: redis: %s\n", err.data ? err.data : "no answer");
        r = NULL;
    }
    buf_free(&err);
    return r ? rate_store_failover_new(r, NULL, RATE_STORE_FAIL_TEMPFAIL, 1000) : NULL;
}

/* bench_run - the decisions split over the workers' threads; their
 * latencies in all[], the totals added up; the elapsed nanoseconds, 0
 * when a thread cannot start */
static uint64_t bench_run(const BENCH_ARGS *a, RATE_POLICY *policy, RATE_STORE *store,
                          uint64_t *all, size_t *acc, size_t *ref, size_t *fail)
{
    WORKER *w = xcalloc(a->nthreads, sizeof(*w));
    uint64_t t0, t1;

    for (size_t i = 0, first = 0; i < a->nthreads; i++) {
        size_t n = a->decisions / a->nthreads + (i < a->decisions % a->nthreads);

        w[i].index = (int) i;
        w[i].store = store;
        w[i].policy = policy;
        w[i].norm.separators = "+";
        w[i].norm.gmail_dots = 1;
        w[i].first = first;
        w[i].count = n;
        w[i].recipients = a->recipients;
        w[i].per_msg = a->per_msg;
        w[i].nthreads = a->nthreads;
        w[i].lat_ns = all + first;
        first += n;
    }
    t0 = now_ns();
    for (size_t i = 0; i < a->nthreads; i++)
        if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0) {
            perror("pthread_create");
            exit(1);
        }
    for (size_t i = 0; i < a->nthreads; i++)
        pthread_join(w[i].tid, NULL);
    t1 = now_ns();
    for (size_t i = 0; i < a->nthreads; i++) {
        *acc += w[i].accepted;
        *ref += w[i].refused;
        *fail += w[i].failed;
    }
    free(w);
    return t1 - t0;
}

/* bench_args - the command line, bounded: at most 10 million decisions, 64 threads */
static void bench_args(int argc, char **argv, BENCH_ARGS *a)
{
    static const struct option opts[] = {
        {"store", required_argument, NULL, 's'}, {"policy", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 't'}, {"decisions", required_argument, NULL, 'n'},
        {"recipients", required_argument, NULL, 'r'}, {"rcpts-per-msg", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(a, 0, sizeof(*a));
    a->store_spec = "embedded";
    a->nthreads = 1;
    a->decisions = 100000;
    a->per_msg = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': a->store_spec = optarg; break;
        case 'p': a->policy_path = optarg; break;
        case 't': a->nthreads = strtoul(optarg, NULL, 10); break;
        case 'n': a->decisions = strtoul(optarg, NULL, 10); break;
        case 'r': a->recipients = strtoul(optarg, NULL, 10); break;
        case 'm': a->per_msg = strtoul(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (a->nthreads < 1 || a->nthreads > 64 || a->decisions < 1 || a->decisions > 10000000 || a->per_msg < 1)
        usage();
    if (a->recipients == 0)
        a->recipients = a->decisions;
}

int main(int argc, char **argv)
{
    BENCH_ARGS a;
    RATE_POLICY *policy;
    RATE_STORE *store;
    uint64_t *all, ns, sum = 0;
    size_t acc = 0, ref = 0, fail = 0;
    long long ev0 = 0, ev1 = 0, eval0 = 0, eval1 = 0;
    int redis;
    double secs;

    bench_args(argc, argv, &a);
    log_init("bench_ratelimit", 0, 0, 1);
    if ((policy = bench_policy(a.policy_path)) == NULL
        || (store = bench_store(a.store_spec, a.decisions * policy->n + 1024)) == NULL)
        return 1;
    if ((redis = strcasecmp(a.store_spec, "embedded") != 0)) {
        ev0 = redis_stat(a.store_spec, "evalsha");
        eval0 = redis_stat(a.store_spec, "eval");
    }
    all = xcalloc(a.decisions, sizeof(*all));
    ns = bench_run(&a, policy, store, all, &acc, &ref, &fail);
    if (redis) {
        RATE_STORE_FAILOVER_STATS st;

        ev1 = redis_stat(a.store_spec, "evalsha");
        eval1 = redis_stat(a.store_spec, "eval");
        rate_store_failover_stats(store, &st);
        fail += (size_t) st.primary_failed;
    }
    for (size_t i = 0; i < a.decisions; i++)
        sum += all[i];
    qsort(all, a.decisions, sizeof(*all), cmp_u64);
    secs = (double) ns / 1e9;
    printf("store=%s threads=%zu rules=%zu decisions=%zu accepted=%zu refused=%zu failed=%zu "
           "seconds=%.3f per_sec=%.0f mean_us=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f",
           redis ? "redis" : "embedded", a.nthreads, policy->n, a.decisions, acc, ref, fail, secs,
           (double) a.decisions / secs, (double) sum / a.decisions / 1e3, (double) all[a.decisions / 2] / 1e3,
           (double) all[(size_t) ((double) a.decisions * 0.99)] / 1e3, (double) all[a.decisions - 1] / 1e3);
    if (redis)
        printf(" evalsha=%lld eval=%lld evalsha_per_decision=%.3f", ev1 - ev0, eval1 - eval0,
               (double) (ev1 - ev0) / (double) a.decisions);
    printf("\n");
    store->ops->free(store);
    rate_policy_free(policy);
    free(all);
    return fail ? 1 : 0;
}

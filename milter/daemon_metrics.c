/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon_metrics.c - txmilter's metrics: families, endpoint, health
 *
 * SYNOPSIS
 *	#include "daemon_metrics.h"
 *
 *	int	daemon_metrics_health(const DAEMON_HEALTH *h, BUF *reason)
 *	DAEMON_METRICS *daemon_metrics_new(void)
 *	const MSG_METRICS *daemon_metrics_msg(DAEMON_METRICS *dm)
 *	METRICS * daemon_metrics_registry(DAEMON_METRICS *dm)
 *	int	daemon_metrics_listen(DAEMON_METRICS *dm, const TXCONF *cf)
 *	int	daemon_metrics_serve(DAEMON_METRICS *dm, const TXCONF *cf,
 *			const SERVICES *svc, REDIS_POOL *pool)
 *	void	daemon_metrics_reloaded(DAEMON_METRICS *dm, int ok)
 *	void	daemon_metrics_free(DAEMON_METRICS *dm)
 *
 * DESCRIPTION
 *	daemon_metrics_new() registers the families whose names dashboards
 *	and alert rules rely on (txmilter(8), METRICS): the pipeline's
 *	(msg_metrics.h), counted where it decides; the stores' and the
 *	resolver's, read when scraped; the reloads'; txmilter_build_info.
 *	The label sets known in advance exist from the start with 0, so
 *	that rate() and increase() see the first event; so do those of
 *	each rule of the policy in force (txmilter_ratelimit_rule_info says
 *	what each counts by, for the mail-bomb alert), from the scrape after
 *	it is loaded.
 *
 *	daemon_metrics_listen() binds MetricsListen while txmilter may
 *	still bind any port; daemon_metrics_serve() then serves /metrics
 *	and /health there (base/metrics_http.c).
 *
 *	daemon_metrics_health() is the /health decision: down when the
 *	Redis store does not answer a PING or its breaker is open, when
 *	the suppression list's last call failed, or when the preflight
 *	needs DNS and the last DAEMON_HEALTH_DNS_FAILING queries failed
 *	(timeouts, SERVFAIL). The embedded store is always up.
 *
 *	Redis is sent that PING at most once per DAEMON_HEALTH_STORE_TTL
 *	seconds, however many scrapes and /health requests come (several
 *	Prometheus servers, each every few seconds): the answer is kept
 *	meanwhile, so the store reads as down, and up again, within that
 *	bound (plus the PING's own StoreTimeout) of the change.
 *
 *	The resolver's failures are counted only by the queries the mail
 *	makes, so while it reads as down the scrapes probe it, at most once
 *	per DAEMON_HEALTH_DNS_PROBE seconds: one TXT query, given at most a
 *	second, of a name never asked before below the first signing domain
 *	of the KeyTable (an NXDOMAIN from that domain's servers, past every
 *	cache, is an answer). The probe is counted like any other query, so
 *	an answer makes the resolver up again without waiting for mail.
 *	Without a signing domain there is nothing to probe.
 *
 * DIAGNOSTICS
 *	daemon_metrics_listen() and daemon_metrics_serve() log why the
 *	endpoint cannot start and return -1: txmilter does not start then.
 */
#include "config.h"

#include <arpa/nameser.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_metrics.h"
#include "dns.h"
#include "log.h"
#include "metrics_http.h"
#include "keytable.h"
#include "rate_txn.h"
#include "snapshot.h"
#include "rate_store_failover.h"

#define DM_DOMAINS_MAX  256     /* series of a per-domain family */
#define DM_RULES_MAX    512     /* series of the rate family (rules x results) */

struct daemon_metrics {
    METRICS *reg;
    MSG_METRICS msg;
    METRICS_FAMILY *store_up, *breaker_open, *dns, *reloads, *reload_ts, *build, *rule_info;
    METRICS_HTTP *http;         /* MetricsListen, or NULL */
    const SERVICES *svc;
    REDIS_POOL *pool;
    int      resolver;
    pthread_mutex_t ping_lock;  /* the kept answer of the store (dm_redis_up()) */
    int      pinged;            /* there is one */
    int      ping_ok;
    double   ping_at;           /* when it came, monotonic seconds */
    pthread_mutex_t probe_lock; /* one resolver probe at a time (dm_dns_probe()) */
    double   probe_at;          /* the last one ended, monotonic seconds; 0: none */
    unsigned probes;            /* made, for a name never asked before */
};

/* dm_add - one more reason into reason, "; " after the one before */
static void dm_add(BUF *reason, int *bad, const char *what)
{
    (void) util_err(reason, "%s%s", *bad ? "; " : "", what);
    *bad = 1;
}

/* daemon_metrics_health - can txmilter do its job? */
int daemon_metrics_health(const DAEMON_HEALTH *h, BUF *reason)
{
    char dns[128];
    int bad = 0;

    if (h->redis && !h->redis_up)
        dm_add(reason, &bad, "store redis: does not answer");
    if (h->redis && h->breaker_open)
        dm_add(reason, &bad, "store redis: circuit breaker open");
    if (h->suppress && !h->suppress_up)
        dm_add(reason, &bad, "suppression list: last call failed");
    if (h->resolver && h->dns_failing >= DAEMON_HEALTH_DNS_FAILING) {
        snprintf(dns, sizeof(dns), "resolver: the last %lu queries failed", h->dns_failing);
        dm_add(reason, &bad, dns);
    }
    return !bad;
}

static const double dm_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                   2.5, 5, 10};
static const char *const dm_actions[] = {"signed", "accept-unsigned", "not-outbound", "rejected",
                                         "tempfailed", "quarantined", "discarded", NULL};
static const char *const dm_reasons[] = {"from", "alignment", "ratelimit", "suppressed", "dns", "store",
                                         "size", "sender", "recipient", "nokey", "signing", "unapplied", NULL};
static const char *const dm_stages[] = {"rcpt", "eoh", "eom", "sign", "store", "dns", NULL};
static const char *const dm_stores[] = {"rate", "suppression", NULL};
static const char *const dm_dns[] = {"ok", "nxdomain", "nodata", "timeout", "error", NULL};
static const char *const dm_results[] = {"success", "failure", NULL};
static const char *const dm_bounce_classes[] = {"dead", "full", "policy", "transient", "other", "none",
                                                "not_dsn", "bad_token", NULL};
static const char *const dm_sup_reasons[] = {"unsubscribe", "bounce", "complaint", NULL};
static const char *const dm_complaints[] = {"suppressed", "unsubscribed", "ignored", "no-token",
                                            "bad-token", "not-arf", "unreadable", "failed", NULL};

/* One family: where its handle goes, what it is, the label sets known in advance. */
typedef struct dm_spec {
    size_t  off;                /* of its METRICS_FAMILY * in DAEMON_METRICS */
    METRICS_TYPE type;
    const char *name, *help, *labels;
    size_t  max;
    const char *const *known;
} DM_SPEC;

#define DM_AT(field) offsetof(DAEMON_METRICS, field)

static const DM_SPEC dm_specs[] = {
    {DM_AT(msg.messages), METRICS_COUNTER, "txmilter_messages_total",
     "Messages by what txmilter did with them.", "action", 16, dm_actions},
    {DM_AT(msg.signatures), METRICS_COUNTER, "txmilter_signatures_total",
     "DKIM signatures made.", "domain,selector,algorithm", DM_DOMAINS_MAX, NULL},
    {DM_AT(msg.sig_errors), METRICS_COUNTER, "txmilter_signature_errors_total",
     "Messages whose signing failed, by signing domain.", "domain", DM_DOMAINS_MAX, NULL},
    {DM_AT(msg.refusals), METRICS_COUNTER, "txmilter_refusals_total",
     "Refusals of messages and recipients, by reason.", "reason", 32, dm_reasons},
    {DM_AT(msg.rate), METRICS_COUNTER, "txmilter_ratelimit_decisions_total",
     "What each rate rule said of each recipient.", "rule,result", DM_RULES_MAX, NULL},
    {DM_AT(rule_info), METRICS_GAUGE, "txmilter_ratelimit_rule_info",
     "1 for each rule of the rate policy in force, with what it counts by.", "rule,key", DM_RULES_MAX, NULL},
    {DM_AT(msg.preflight), METRICS_COUNTER, "txmilter_preflight_verdicts_total",
     "Alignment preflight verdicts, by From domain.", "domain,verdict", DM_DOMAINS_MAX, NULL},
    {DM_AT(msg.complaints), METRICS_COUNTER, "txmilter_complaints_total",
     "Feedback reports (ARF) to a ComplaintAddress, by what they led to.", "result", 12,
     dm_complaints},
    {DM_AT(msg.stage), METRICS_HISTOGRAM, "txmilter_stage_duration_seconds",
     "Time spent in each stage of a message.", "stage", 8, dm_stages},
    {DM_AT(msg.bounces), METRICS_COUNTER, "txmilter_bounces_total",
     "Mail to the return path, by what it was: a DSN's class, not_dsn, bad_token.", "class", 12,
     dm_bounce_classes},
    {DM_AT(msg.suppressions), METRICS_COUNTER, "txmilter_suppressions_total",
     "Entries txmilter recorded on the suppression list, by reason.", "reason", 8, dm_sup_reasons},
    {DM_AT(store_up), METRICS_GAUGE, "txmilter_store_up",
     "1 if the store answers (the embedded store always does).", "store", 4, dm_stores},
    {DM_AT(breaker_open), METRICS_GAUGE, "txmilter_store_breaker_open",
     "1 while the circuit breaker in front of the store is open.", "store", 4, dm_stores},
    {DM_AT(dns), METRICS_COUNTER, "txmilter_dns_queries_total", "DNS queries by how they ended.",
     "result", 8, dm_dns},
    {DM_AT(reloads), METRICS_COUNTER, "txmilter_config_reloads_total",
     "Configuration reloads (SIGHUP) by result.", "result", 4, dm_results},
    {DM_AT(reload_ts), METRICS_GAUGE, "txmilter_config_last_reload_success_timestamp_seconds",
     "When the configuration in force was loaded (Unix time).", NULL, 1, NULL},
    {DM_AT(build), METRICS_GAUGE, "txmilter_build_info", "The txmilter version running.", "version", 2, NULL},
};

/* dm_register - every family, with its known label sets at 0 */
static void dm_register(DAEMON_METRICS *dm)
{
    for (size_t i = 0; i < sizeof(dm_specs) / sizeof(dm_specs[0]); i++) {
        const DM_SPEC *sp = &dm_specs[i];
        METRICS_FAMILY *f = metrics_family(dm->reg, sp->type, sp->name, sp->help, sp->labels, sp->max,
                                           dm_bounds, sizeof(dm_bounds) / sizeof(dm_bounds[0]));

        for (const char *const *k = sp->known; k && *k; k++)
            (void) metrics_series(f, METRICS_L(*k));
        memcpy((char *) dm + sp->off, &f, sizeof(f));
    }
    metrics_set(dm->build, metrics_series(dm->build, METRICS_L(PACKAGE_VERSION)), 1);
    metrics_set(dm->reload_ts, 0, (double) time(NULL));
}

/* daemon_metrics_new - the registry */
DAEMON_METRICS *daemon_metrics_new(void)
{
    DAEMON_METRICS *dm = xcalloc(1, sizeof(*dm));

    dm->reg = metrics_new();
    pthread_mutex_init(&dm->ping_lock, NULL);
    pthread_mutex_init(&dm->probe_lock, NULL);
    dm_register(dm);
    return dm;
}

const MSG_METRICS *daemon_metrics_msg(DAEMON_METRICS *dm)
{
    return &dm->msg;
}

METRICS *daemon_metrics_registry(DAEMON_METRICS *dm)
{
    return dm->reg;
}

/* dm_monotonic - the monotonic clock in seconds */
static double dm_monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* dm_redis_up - the store's answer to a PING, asked at most once per
 * DAEMON_HEALTH_STORE_TTL seconds; concurrent scrapes wait for one PING */
static int dm_redis_up(DAEMON_METRICS *dm)
{
    int up;

    pthread_mutex_lock(&dm->ping_lock);
    if (!dm->pinged || dm_monotonic() - dm->ping_at >= DAEMON_HEALTH_STORE_TTL) {
        dm->ping_ok = redis_pool_ping(dm->pool, NULL) == 0;
        dm->ping_at = dm_monotonic();       /* after it: a slow PING does not make two */
        dm->pinged = 1;
    }
    up = dm->ping_ok;
    pthread_mutex_unlock(&dm->ping_lock);
    return up;
}

/* dm_probe_name - a name below the first signing domain that no query
 * asked before; 0, or -1 when there is no such domain */
static int dm_probe_name(DAEMON_METRICS *dm, char *name, size_t len)
{
    SNAPSHOT *snap = snapshot_acquire();
    const KEYTABLE_KEY *k = NULL;
    size_t n = 0, i;
    int rc = -1;

    if (snap && snap->kt)
        k = keytable_keys(snap->kt, &n);
    for (i = 0; i < n && strcmp(k[i].domain, "%") == 0; i++)
        continue;
    if (i < n) {
        int w = snprintf(name, len, "txmilter-probe-%lx-%x.%s", (unsigned long) time(NULL), ++dm->probes,
                         k[i].domain);

        rc = w > 0 && (size_t) w < len && (size_t) w <= DNS_NAME_MAX ? 0 : -1;
    }
    if (snap)
        snapshot_release(snap);
    return rc;
}

/* dm_dns_probe - while the resolver reads as down, one bounded query at
 * most once per DAEMON_HEALTH_DNS_PROBE seconds; its answer or failure is
 * counted by dns.c like any other */
static void dm_dns_probe(DAEMON_METRICS *dm)
{
    char name[DNS_NAME_MAX + 64];
    DNS_ANSWER ans;

    pthread_mutex_lock(&dm->probe_lock);
    if ((dm->probe_at == 0 || dm_monotonic() - dm->probe_at >= DAEMON_HEALTH_DNS_PROBE)
        && dm_probe_name(dm, name, sizeof(name)) == 0) {
        dns_budget_begin(1);
        dns_lookup(NULL, name, ns_t_txt, &ans);
        dns_budget_end();
        dns_answer_free(&ans);
        dm->probe_at = dm_monotonic();
    }
    pthread_mutex_unlock(&dm->probe_lock);
}

/* dm_facts - the state of the stores and the resolver */
static void dm_facts(DAEMON_METRICS *dm, DAEMON_HEALTH *h)
{
    memset(h, 0, sizeof(*h));
    if (dm->pool) {
        h->redis = 1;
        h->redis_up = dm_redis_up(dm);
        h->breaker_open = !redis_pool_up(dm->pool);
    }
    if (dm->svc && dm->svc->suppress) {
        SUPPRESS_STATS ss;

        suppress_stats(dm->svc->suppress, &ss);
        h->suppress = 1;
        h->suppress_up = ss.up;
    }
    if (dm->resolver) {
        DNS_STATS st;

        dns_stats(&st);
        if (st.failing >= DAEMON_HEALTH_DNS_FAILING) {
            dm_dns_probe(dm);
            dns_stats(&st);
        }
        h->resolver = 1;
        h->dns_failing = st.failing;
    }
}

/* dm_rule_key - a rule's key parts as the policy file names them: "rcpt,sender_domain" */
static void dm_rule_key(const RATE_RULE *r, char *out, size_t len)
{
    static const char *const parts[] = {"rcpt", "rcpt_domain", "sender", "sender_domain", "client_ip",
                                        "auth", "global"};

    out[0] = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (r->keys & (1u << i)) {
            size_t used = strlen(out);

            snprintf(out + used, len - used, "%s%s", used ? "," : "", parts[i]);
        }
}

/* dm_domains - the signing domains' error counters, 0 until counted */
static void dm_domains(DAEMON_METRICS *dm, const SNAPSHOT *snap)
{
    const KEYTABLE_KEY *k;
    size_t n;

    if (snap->kt == NULL)
        return;
    k = keytable_keys(snap->kt, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].domain, "%") != 0)
            (void) metrics_series(dm->msg.sig_errors, METRICS_L(k[i].domain));
}

/* dm_rules - txmilter_ratelimit_rule_info of the policy in force, and
 * the label sets of the configuration known in advance */
static void dm_rules(DAEMON_METRICS *dm)
{
    SNAPSHOT *snap = snapshot_acquire();
    char key[128];

    metrics_zero(dm->rule_info);
    if (snap == NULL)
        return;
    for (size_t i = 0; snap->policy && i < snap->policy->n; i++) {
        const char *name = snap->policy->rule[i].name;

        dm_rule_key(&snap->policy->rule[i], key, sizeof(key));
        metrics_set(dm->rule_info, metrics_series(dm->rule_info, METRICS_L(name, key)), 1);
        for (int r = RATE_RULE_ALLOWED; r <= RATE_RULE_SHADOW_REFUSED; r++)   /* 0 until counted */
            (void) metrics_series(dm->msg.rate, METRICS_L(name, rate_txn_rule_result_str((RATE_RULE_RESULT) r)));
    }
    dm_domains(dm, snap);
    snapshot_release(snap);
}

/* dm_collect - the gauges read at scrape time */
static void dm_collect(void *arg)
{
    DAEMON_METRICS *dm = arg;
    DAEMON_HEALTH h;
    DNS_STATS st;

    dm_facts(dm, &h);
    metrics_set(dm->store_up, metrics_series(dm->store_up, METRICS_L("rate")), h.redis ? h.redis_up : 1);
    metrics_set(dm->breaker_open, metrics_series(dm->breaker_open, METRICS_L("rate")), h.breaker_open);
    metrics_set(dm->store_up, metrics_series(dm->store_up, METRICS_L("suppression")),
                h.suppress ? h.suppress_up && (!h.redis || h.redis_up) : 1);
    metrics_set(dm->breaker_open, metrics_series(dm->breaker_open, METRICS_L("suppression")),
                h.suppress && h.redis ? h.breaker_open : 0);
    dm_rules(dm);
    dns_stats(&st);
    metrics_set(dm->dns, metrics_series(dm->dns, METRICS_L("ok")), (double) st.ok);
    metrics_set(dm->dns, metrics_series(dm->dns, METRICS_L("nxdomain")), (double) st.nxdomain);
    metrics_set(dm->dns, metrics_series(dm->dns, METRICS_L("nodata")), (double) st.nodata);
    metrics_set(dm->dns, metrics_series(dm->dns, METRICS_L("timeout")), (double) st.timeout);
    metrics_set(dm->dns, metrics_series(dm->dns, METRICS_L("error")), (double) st.error);
}

/* dm_health - /health */
static int dm_health(void *arg, BUF *reason)
{
    DAEMON_HEALTH h;

    dm_facts(arg, &h);
    return daemon_metrics_health(&h, reason);
}

/* daemon_metrics_listen - bind MetricsListen */
int daemon_metrics_listen(DAEMON_METRICS *dm, const TXCONF *cf)
{
    return metrics_http_bind("MetricsListen", cf->daemon.metrics_listen, &dm->http);
}

/* daemon_metrics_serve - answer on MetricsListen */
int daemon_metrics_serve(DAEMON_METRICS *dm, const TXCONF *cf, const SERVICES *svc, REDIS_POOL *pool)
{
    dm->svc = svc;
    dm->pool = pool;
    dm->resolver = conf_preflight(cf);
    metrics_on_collect(dm->reg, dm_collect, dm);
    return metrics_http_serve(dm->http, dm->reg, dm_health, dm);
}

/* daemon_metrics_reloaded - one reload, counted */
void daemon_metrics_reloaded(DAEMON_METRICS *dm, int ok)
{
    metrics_inc(dm->reloads, METRICS_L(ok ? "success" : "failure"));
    if (ok)
        metrics_set(dm->reload_ts, 0, (double) time(NULL));
}

/* daemon_metrics_free - stop and free */
void daemon_metrics_free(DAEMON_METRICS *dm)
{
    if (dm == NULL)
        return;
    metrics_http_stop(dm->http);
    metrics_free(dm->reg);
    pthread_mutex_destroy(&dm->ping_lock);
    pthread_mutex_destroy(&dm->probe_lock);
    free(dm);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_metrics.c - unit tests for the metric registry (base/metrics.c,
 * metrics_text.c), the Accept header reading (metrics_accept.c) and
 * txmilter's /health decision (milter/daemon_metrics.c).
 *
 * Tables: Accept header values and the format each asks for; health
 * facts and the reason /health gives; registry scenarios whose complete
 * exposition (both formats) is compared byte for byte.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon_metrics.h"
#include "metrics.h"
#include "testutil.h"
#include "util.h"

typedef struct {
    const char *name;
    const char *accept;
    int om;
} ACCEPT_CASE;

static const ACCEPT_CASE accept_cases[] = {
    {"no header: text", NULL, 0},
    {"empty: text", "", 0},
    {"curl */*: text", "*/*", 0},
    {"Prometheus 2.42", "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", 1},
    {"text/plain only", "text/plain;version=0.0.4", 0},
    {"openmetrics alone", "application/openmetrics-text", 1},
    {"openmetrics q=0 refused", "application/openmetrics-text;q=0", 0},
    {"text preferred by q", "application/openmetrics-text;q=0.3, text/plain;q=0.9", 0},
    {"equal weights: openmetrics", "text/plain;q=0.5, application/openmetrics-text;q=0.5", 1},
    {"case and blanks", "  APPLICATION/OpenMetrics-Text ; Q = 0.8 , text/*;q=0.2", 1},
    {"bad q skips the range", "application/openmetrics-text;q=2, text/plain", 0},
    {"bad q with letters", "application/openmetrics-text;q=abc", 0},
    {"q with four decimals is bad", "application/openmetrics-text;q=0.1234", 0},
    {"q=1.000", "application/openmetrics-text;q=1.000,*/*", 1},
    {"no slash skipped", "openmetrics, application/openmetrics-text", 1},
    {"only commas", ",,,,", 0},
    {"parameter without value", "application/openmetrics-text;version;q=0.9", 1},
    {"other types", "text/html, application/json", 0},
};

static void test_accept(void **state)
{
    const ACCEPT_CASE *c = *state;

    assert_int_equal(metrics_accept_openmetrics(c->accept), c->om);
}

typedef struct {
    const char *name;
    DAEMON_HEALTH h;
    int ok;
    const char *reason;
} HEALTH_CASE;

static const HEALTH_CASE health_cases[] = {
    {"embedded store, no preflight", {0, 0, 0, 0, 0, 0, 0}, 1, ""},
    {"redis answering", {1, 1, 0, 0, 0, 0, 0}, 1, ""},
    {"redis down", {1, 0, 0, 0, 0, 0, 0}, 0, "store redis: does not answer"},
    {"redis breaker open", {1, 1, 1, 0, 0, 0, 0}, 0, "store redis: circuit breaker open"},
    {"suppression list failing", {0, 0, 0, 1, 0, 0, 0}, 0, "suppression list: last call failed"},
    {"suppression list up", {0, 0, 0, 1, 1, 0, 0}, 1, ""},
    {"resolver: two failures are not down", {0, 0, 0, 0, 0, 1, 2}, 1, ""},
    {"resolver down", {0, 0, 0, 0, 0, 1, 3}, 0, "resolver: the last 3 queries failed"},
    {"resolver failures without preflight", {0, 0, 0, 0, 0, 0, 50}, 1, ""},
    {"everything down", {1, 0, 1, 1, 0, 1, 7}, 0, "store redis: does not answer; store redis: circuit "
     "breaker open; suppression list: last call failed; resolver: the last 7 queries failed"},
};

static void test_health(void **state)
{
    const HEALTH_CASE *c = *state;
    char reason_mem[512];
    BUF reason;

    buf_init_fixed(&reason, reason_mem, sizeof(reason_mem));
    assert_int_equal(daemon_metrics_health(&c->h, &reason), c->ok);
    assert_string_equal(reason.data, c->reason);
}

/* render - the whole exposition in one format */
static char *render(METRICS *reg, int om)
{
    BUF out;
    char *s;

    buf_init(&out, 1 << 20);
    assert_int_equal(metrics_render(reg, om, &out), 0);
    s = xstrdup(out.data ? out.data : "");
    buf_free(&out);
    return s;
}

/* test_counters - label sets, escaping, both formats */
static void test_counters(void **state)
{
    METRICS *reg = metrics_new();
    METRICS_FAMILY *c = metrics_family(reg, METRICS_COUNTER, "t_msgs_total", "Messages\nby action \\.",
                                       "action", 8, NULL, 0);
    METRICS_FAMILY *g = metrics_family(reg, METRICS_GAUGE, "t_up", "Up.", NULL, 1, NULL, 0);
    char *text, *om;

    (void) state;
    (void) metrics_series(c, METRICS_L("zero"));
    metrics_inc(c, METRICS_L("signed"));
    metrics_inc(c, METRICS_L("signed"));
    metrics_add(c, metrics_series(c, METRICS_L("q\"u\\o\nte")), 5);
    metrics_set(g, 0, 0.5);
    assert_true(metrics_value(c, METRICS_L("signed")) == 2);
    assert_true(metrics_value(c, METRICS_L("never")) == 0);
    text = render(reg, 0);
    assert_string_equal(text,
                        "# HELP t_msgs_total Messages\\nby action \\\\.\n"
                        "# TYPE t_msgs_total counter\n"
                        "t_msgs_total{action=\"zero\"} 0\n"
                        "t_msgs_total{action=\"signed\"} 2\n"
                        "t_msgs_total{action=\"q\\\"u\\\\o?te\"} 5\n"
                        "# HELP t_up Up.\n# TYPE t_up gauge\nt_up 0.5\n");
    om = render(reg, 1);
    assert_string_equal(om,
                        "# HELP t_msgs Messages\\nby action \\\\.\n"
                        "# TYPE t_msgs counter\n"
                        "t_msgs_total{action=\"zero\"} 0\n"
                        "t_msgs_total{action=\"signed\"} 2\n"
                        "t_msgs_total{action=\"q\\\"u\\\\o?te\"} 5\n"
                        "# HELP t_up Up.\n# TYPE t_up gauge\nt_up 0.5\n# EOF\n");
    free(text);
    free(om);
    metrics_free(reg);
}

/* test_bounded - label sets past the room fold into "other" */
static void test_bounded(void **state)
{
    METRICS *reg = metrics_new();
    METRICS_FAMILY *f = metrics_family(reg, METRICS_COUNTER, "t_sig_total", "S.", "domain,selector", 2,
                                       NULL, 0);
    char name[32], *text;

    (void) state;
    metrics_inc(f, METRICS_L("a.example", "s1"));
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "d%d.example", i);
        metrics_inc(f, METRICS_L(name, "s"));
    }
    metrics_inc(f, METRICS_L("other", "other"));
    text = render(reg, 0);
    assert_string_equal(text, "# HELP t_sig_total S.\n# TYPE t_sig_total counter\n"
                        "t_sig_total{domain=\"a.example\",selector=\"s1\"} 1\n"
                        "t_sig_total{domain=\"d0.example\",selector=\"s\"} 1\n"
                        "t_sig_total{domain=\"other\",selector=\"other\"} 1000\n");
    free(text);
    metrics_free(reg);
}

/* test_cleaned_values - a value kept cleaned or cut is found again: one
 * series, not a new one per call (the exposition would repeat it) */
static void test_cleaned_values(void **state)
{
    METRICS *reg = metrics_new();
    METRICS_FAMILY *f = metrics_family(reg, METRICS_COUNTER, "t_c_total", "C.", "v", 64, NULL, 0);
    char longv[300], *text;

    (void) state;
    memset(longv, 'x', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = 0;
    for (int i = 0; i < 3; i++) {
        metrics_inc(f, METRICS_L("a\001b\377"));
        metrics_inc(f, METRICS_L(longv));
    }
    longv[200] = 'y';                       /* past the cut: the same label value */
    metrics_inc(f, METRICS_L(longv));
    assert_int_equal(metrics_series(f, METRICS_L("a\002b\376")), metrics_series(f, METRICS_L("a?b?")));
    text = render(reg, 0);
    assert_non_null(strstr(text, "t_c_total{v=\"a?b?\"} 3\n"));
    assert_non_null(strstr(text, "\"} 4\n"));
    assert_null(strstr(text, "other"));
    free(text);
    metrics_free(reg);
}

/* test_many_series - every one of 500 label sets found again, then the rest fold */
static void test_many_series(void **state)
{
    METRICS *reg = metrics_new();
    METRICS_FAMILY *f = metrics_family(reg, METRICS_COUNTER, "t_m_total", "M.", "rule,result", 500,
                                       NULL, 0);
    char name[32];

    (void) state;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 600; i++) {
            snprintf(name, sizeof(name), "rule-%d", i);
            metrics_inc(f, METRICS_L(name, "allowed"));
        }
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "rule-%d", i);
        assert_true(metrics_value(f, METRICS_L(name, "allowed")) == 2);
    }
    assert_true(metrics_value(f, METRICS_L("other", "other")) == 200);
    metrics_free(reg);
}

/* Threads counting into one family at once. */
#define TH_THREADS 4
#define TH_ROUNDS  5000
#define TH_SETS    50

static void *count_thread(void *arg)
{
    METRICS_FAMILY *f = arg;
    char name[16];

    for (int r = 0; r < TH_ROUNDS; r++) {
        snprintf(name, sizeof(name), "s%d", r % TH_SETS);
        metrics_inc(f, METRICS_L(name));
    }
    return NULL;
}

/* test_threads - no count lost, no label set added twice */
static void test_threads(void **state)
{
    METRICS *reg = metrics_new();
    METRICS_FAMILY *f = metrics_family(reg, METRICS_COUNTER, "t_t_total", "T.", "s", 64, NULL, 0);
    pthread_t tid[TH_THREADS];
    char name[16], *text;

    (void) state;
    for (int i = 0; i < TH_THREADS; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, count_thread, f), 0);
    for (int i = 0; i < TH_THREADS; i++)
        assert_int_equal(pthread_join(tid[i], NULL), 0);
    for (int i = 0; i < TH_SETS; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        assert_true(metrics_value(f, METRICS_L(name)) == TH_THREADS * TH_ROUNDS / TH_SETS);
    }
    text = render(reg, 0);
    {
        int lines = 0;

        for (char *p = text; (p = strstr(p, "t_t_total{")) != NULL; p++)
            lines++;
        assert_int_equal(lines, TH_SETS);
    }
    free(text);
    metrics_free(reg);
}

/* test_histogram - cumulative buckets, sum, count */
static void test_histogram(void **state)
{
    static const double b[] = {0.01, 0.1, 1};
    METRICS *reg = metrics_new();
    METRICS_FAMILY *h = metrics_family(reg, METRICS_HISTOGRAM, "t_seconds", "T.", "stage", 4, b, 3);
    int s = metrics_series(h, METRICS_L("eom"));
    char *text;

    (void) state;
    metrics_observe(h, s, 0.005);
    metrics_observe(h, s, 0.01);
    metrics_observe(h, s, 0.5);
    metrics_observe(h, s, 4);
    text = render(reg, 0);
    assert_string_equal(text, "# HELP t_seconds T.\n# TYPE t_seconds histogram\n"
                        "t_seconds_bucket{stage=\"eom\",le=\"0.01\"} 2\n"
                        "t_seconds_bucket{stage=\"eom\",le=\"0.1\"} 2\n"
                        "t_seconds_bucket{stage=\"eom\",le=\"1.0\"} 3\n"
                        "t_seconds_bucket{stage=\"eom\",le=\"+Inf\"} 4\n"
                        "t_seconds_sum{stage=\"eom\"} 4.515\n"
                        "t_seconds_count{stage=\"eom\"} 4\n");
    free(text);
    metrics_free(reg);
}

/* test_bad_family - bad names are refused; NULL families count nothing */
static void test_bad_family(void **state)
{
    METRICS *reg = metrics_new();
    char *text;

    (void) state;
    assert_null(metrics_family(reg, METRICS_COUNTER, "9bad", "x", NULL, 1, NULL, 0));
    assert_null(metrics_family(reg, METRICS_COUNTER, "ok_total", "x", "le", 1, NULL, 0));
    assert_null(metrics_family(reg, METRICS_COUNTER, "ok_total", "x", "a-b", 1, NULL, 0));
    assert_null(metrics_family(reg, METRICS_HISTOGRAM, "h", "x", NULL, 1, NULL, 0));
    metrics_inc(NULL, METRICS_L("x"));
    metrics_observe(NULL, 0, 1);
    assert_int_equal(metrics_series(NULL, METRICS_L("x")), -1);
    text = render(reg, 1);
    assert_string_equal(text, "# EOF\n");
    free(text);
    metrics_free(reg);
}

/* test_families - txmilter's registry holds every family the issue names */
static void test_families(void **state)
{
    static const char *const names[] = {
        "txmilter_messages_total", "txmilter_signatures_total", "txmilter_signature_errors_total",
        "txmilter_refusals_total", "txmilter_ratelimit_decisions_total",
        "txmilter_preflight_verdicts_total", "txmilter_store_up", "txmilter_store_breaker_open",
        "txmilter_dns_queries_total", "txmilter_stage_duration_seconds", "txmilter_config_reloads_total",
        "txmilter_config_last_reload_success_timestamp_seconds", "txmilter_build_info",
    };
    DAEMON_METRICS *dm = daemon_metrics_new();
    char *text = render(daemon_metrics_registry(dm), 0), want[128];

    (void) state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(want, sizeof(want), "# TYPE %s ", names[i]);
        if (strstr(text, want) == NULL)
            fail_msg("no family %s in:\n%s", names[i], text);
    }
    assert_non_null(strstr(text, "txmilter_messages_total{action=\"signed\"} 0\n"));
    assert_non_null(strstr(text, "txmilter_refusals_total{reason=\"ratelimit\"} 0\n"));
    free(text);
    daemon_metrics_reloaded(dm, 0);
    assert_true(metrics_value(NULL, NULL) == 0);
    daemon_metrics_free(dm);
}

int main(void)
{
    static const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_cleaned_values),
        cmocka_unit_test(test_many_series),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_bad_family),
        cmocka_unit_test(test_families),
    };
    int fails = 0;

    fails += RUN("metrics_accept", test_accept, accept_cases);
    fails += RUN("metrics_health", test_health, health_cases);
    fails += cmocka_run_group_tests_name("metrics_registry", misc, NULL, NULL);
    return fails ? 1 : 0;
}

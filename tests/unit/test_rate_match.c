/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rate_match.c - unit tests for rate_match.c: which rules apply to a
 * recipient and under which key, and which rule decides when several
 * refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rate_match.h"

/* rule - a rule built by hand (the parser has its own tests) */
static RATE_RULE rule(const char *name, unsigned keys, RATE_ACTION action, int shadow)
{
    RATE_RULE r;

    memset(&r, 0, sizeof(r));
    snprintf(r.name, sizeof(r.name), "%s", name);
    r.keys = keys;
    r.v4len = 32;
    r.v6len = 128;
    r.limit = 3;
    r.period_ms = 600000;
    r.action = action;
    r.shadow = shadow;
    strv_init(&r.exempt_rcpt);
    strv_init(&r.exempt_sender);
    strv_init(&r.exempt_auth);
    return r;
}

static void free_rules(RATE_RULE *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        strv_free(&r[i].exempt_rcpt);
        strv_free(&r[i].exempt_sender);
        strv_free(&r[i].exempt_auth);
        netlist_free(r[i].exempt_client);
    }
}

typedef struct key_case {
    const char *name;
    RATE_MATCH_CTX ctx;
    const char *want[8];        /* expected keys, in policy order */
} KEY_CASE;

static const KEY_CASE key_cases[] = {
    {"plain smtp client", {"victim@gmail.com", "app@shop.example", "192.0.2.77", ""},
     {"rcpt-burst|rcpt=victim@gmail.com", "domain|rcpt_domain=gmail.com",
      "tenant|rcpt=victim@gmail.com|sender_domain=shop.example", "net|client_ip=192.0.2.0/24",
      "v6net|client_ip=192.0.2.77/32", "all|global", NULL}},
    {"authenticated client", {"a@b.example", "app@shop.example", "192.0.2.1", "tenant7"},
     {"rcpt-burst|rcpt=a@b.example", "domain|rcpt_domain=b.example",
      "tenant|rcpt=a@b.example|sender_domain=shop.example", "net|client_ip=192.0.2.0/24",
      "v6net|client_ip=192.0.2.1/32", "login|auth=tenant7", "all|global", NULL}},
    {"ipv6 client cut to /48", {"a@b.example", "", "2001:db8:1:2::5", ""},
     {"rcpt-burst|rcpt=a@b.example", "domain|rcpt_domain=b.example",
      "tenant|rcpt=a@b.example|sender_domain=", "net|client_ip=2001:db8:1:2::5/128",
      "v6net|client_ip=2001:db8:1::/48", "all|global", NULL}},
    {"no client address: client rules skipped", {"a@b.example", "s@x.example", "", ""},
     {"rcpt-burst|rcpt=a@b.example", "domain|rcpt_domain=b.example",
      "tenant|rcpt=a@b.example|sender_domain=x.example", "all|global", NULL}},
    {"exempt recipient pattern", {"ops@internal.example", "s@x.example", "192.0.2.1", ""},
     {"domain|rcpt_domain=internal.example", "tenant|rcpt=ops@internal.example|sender_domain=x.example",
      "net|client_ip=192.0.2.0/24", "v6net|client_ip=192.0.2.1/32", "all|global", NULL}},
    {"exempt client network", {"a@b.example", "s@x.example", "10.1.2.3", ""},
     {"rcpt-burst|rcpt=a@b.example", "domain|rcpt_domain=b.example",
      "tenant|rcpt=a@b.example|sender_domain=x.example", "v6net|client_ip=10.1.2.3/32",
      "all|global", NULL}},
    {"exempt login", {"a@b.example", "s@x.example", "192.0.2.1", "monitor"},
     {"rcpt-burst|rcpt=a@b.example", "domain|rcpt_domain=b.example",
      "tenant|rcpt=a@b.example|sender_domain=x.example", "net|client_ip=192.0.2.0/24",
      "v6net|client_ip=192.0.2.1/32", "all|global", NULL}},
    {"exempt sender", {"a@b.example", "noreply@status.example", "192.0.2.1", ""},
     {"domain|rcpt_domain=b.example", "tenant|rcpt=a@b.example|sender_domain=status.example",
      "net|client_ip=192.0.2.0/24", "v6net|client_ip=192.0.2.1/32", "all|global", NULL}},
};

static void test_items(void **state)
{
    RATE_RULE r[7];
    RATE_POLICY p;
    BUF errs;

    (void) state;
    r[0] = rule("rcpt-burst", RATE_KEY_RCPT, RATE_ACTION_TEMPFAIL, 0);
    strv_add(&r[0].exempt_rcpt, "*@internal.example");
    strv_add(&r[0].exempt_sender, "noreply@*");
    r[1] = rule("domain", RATE_KEY_RCPT_DOMAIN, RATE_ACTION_TEMPFAIL, 0);
    r[2] = rule("tenant", RATE_KEY_RCPT | RATE_KEY_SENDER_DOMAIN, RATE_ACTION_TEMPFAIL, 1);
    r[3] = rule("net", RATE_KEY_CLIENT_IP, RATE_ACTION_TEMPFAIL, 0);
    r[3].v4len = 24;
    buf_init(&errs, 1024);
    r[3].exempt_client = netlist_build("10.0.0.0/8", "test", &errs);
    assert_non_null(r[3].exempt_client);
    r[4] = rule("v6net", RATE_KEY_CLIENT_IP, RATE_ACTION_TEMPFAIL, 0);
    r[4].v6len = 48;
    r[5] = rule("login", RATE_KEY_AUTH, RATE_ACTION_REJECT, 0);
    strv_add(&r[5].exempt_auth, "monitor");
    r[6] = rule("all", RATE_KEY_GLOBAL, RATE_ACTION_TEMPFAIL, 0);
    p.rule = r;
    p.n = 7;
    p.path = NULL;

    for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        const KEY_CASE *c = &key_cases[i];
        RATE_STORE_ITEM items[16];
        size_t n = rate_match_items(&p, &c->ctx, items, 16), j;

        for (j = 0; j < n && c->want[j]; j++)
            if (strcmp(items[j].key, c->want[j]) != 0)
                fail_msg("case \"%s\": key %zu is \"%s\", want \"%s\"", c->name, j, items[j].key, c->want[j]);
        if (j != n || c->want[j] != NULL)
            fail_msg("case \"%s\": %zu keys", c->name, n);
        for (j = 0; j < n; j++)
            if (strncmp(items[j].key, items[j].rule->name, strlen(items[j].rule->name)) != 0)
                fail_msg("case \"%s\": item %zu has the wrong rule", c->name, j);
    }
    /* why a rule gives no item: the exemption, or the missing key part */
    {
        static const struct { size_t ctx; size_t rule; const char *want; } why[] = {
            {4, 0, "exempt: the recipient matches exempt-rcpt="},
            {7, 0, "exempt: the sender matches exempt-sender="},
            {5, 3, "exempt: the client matches exempt-client="},
            {6, 5, "exempt: the login matches exempt-auth="},
            {3, 3, "keyed on client_ip, and there is no client address"},
            {0, 5, "keyed on auth, and the client did not authenticate"},
            {1, 5, "it applies"},
        };

        for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
            const char *got = rate_match_why_not(&r[why[i].rule], &key_cases[why[i].ctx].ctx);

            if (strcmp(got, why[i].want) != 0)
                fail_msg("case \"%s\", rule %s: \"%s\", want \"%s\"", key_cases[why[i].ctx].name,
                         r[why[i].rule].name, got, why[i].want);
        }
    }
    /* the bound on items is respected */
    {
        RATE_STORE_ITEM items[2];

        assert_int_equal(rate_match_items(&p, &key_cases[0].ctx, items, 2), 2);
    }
    free_rules(r, 7);
    buf_free(&errs);
}

typedef struct verdict_case {
    const char *name;
    int allowed[4];
    uint64_t wait[4];
    int refused;
    const char *rule;
    uint64_t wait_ms;
    size_t shadow;
} VERDICT_CASE;

/* rules: 0 tempfail, 1 reject, 2 quarantine, 3 shadow tempfail */
static const VERDICT_CASE verdict_cases[] = {
    {"all allow", {1, 1, 1, 1}, {0}, 0, NULL, 0, 0},
    {"one tempfail", {0, 1, 1, 1}, {5000, 0, 0, 0}, 1, "t", 5000, 0},
    {"reject beats tempfail", {0, 0, 1, 1}, {90000, 1000, 0, 0}, 1, "r", 1000, 0},
    {"tempfail beats quarantine", {0, 1, 0, 1}, {100, 0, 900000, 0}, 1, "t", 100, 0},
    {"quarantine alone", {1, 1, 0, 1}, {0, 0, 7000, 0}, 1, "q", 7000, 0},
    {"shadow never decides", {1, 1, 1, 0}, {0, 0, 0, 4000}, 0, NULL, 0, 1},
    {"shadow counted beside a refusal", {0, 1, 1, 0}, {10, 0, 0, 4000}, 1, "t", 10, 1},
};

static void test_verdict(void **state)
{
    RATE_RULE r[4];
    RATE_STORE_ITEM items[4];

    (void) state;
    r[0] = rule("t", RATE_KEY_RCPT, RATE_ACTION_TEMPFAIL, 0);
    r[1] = rule("r", RATE_KEY_RCPT, RATE_ACTION_REJECT, 0);
    r[2] = rule("q", RATE_KEY_RCPT, RATE_ACTION_QUARANTINE, 0);
    r[3] = rule("s", RATE_KEY_RCPT, RATE_ACTION_TEMPFAIL, 1);
    for (int i = 0; i < 4; i++) {
        items[i].rule = &r[i];
        snprintf(items[i].key, sizeof(items[i].key), "%.63s|rcpt=a@b", r[i].name);
    }
    for (size_t i = 0; i < sizeof(verdict_cases) / sizeof(verdict_cases[0]); i++) {
        const VERDICT_CASE *c = &verdict_cases[i];
        RATE_STORE_RESULT res[4];
        RATE_MATCH_VERDICT v;

        for (int j = 0; j < 4; j++) {
            res[j].allowed = c->allowed[j];
            res[j].wait_ms = c->wait[j];
            res[j].count = 3;
        }
        rate_match_verdict(items, res, 4, &v);
        if (v.refused != c->refused || v.shadow != c->shadow)
            fail_msg("case \"%s\": refused=%d shadow=%zu", c->name, v.refused, v.shadow);
        if (c->refused && (strcmp(v.rule->name, c->rule) != 0 || v.wait_ms != c->wait_ms))
            fail_msg("case \"%s\": decided by %s after %llu ms", c->name, v.rule->name,
                     (unsigned long long) v.wait_ms);
    }
    /* two tempfail rules: the longer wait decides, so the retry is never early */
    {
        RATE_STORE_RESULT res[2] = {{0, 3, 2000}, {0, 3, 9000}};
        RATE_STORE_ITEM two[2];
        RATE_MATCH_VERDICT v;

        two[0] = items[0];
        two[1] = items[0];
        rate_match_verdict(two, res, 2, &v);
        assert_int_equal(v.wait_ms, 9000);
    }
    free_rules(r, 4);
}

static void test_retry_rounding(void **state)
{
    (void) state;
    assert_int_equal(rate_match_retry_s(0), 0);
    assert_int_equal(rate_match_retry_s(1), 1);
    assert_int_equal(rate_match_retry_s(1000), 1);
    assert_int_equal(rate_match_retry_s(1001), 2);
    assert_int_equal(rate_match_retry_s(412000), 412);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_verdict),
        cmocka_unit_test(test_retry_rounding),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

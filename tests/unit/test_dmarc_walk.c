/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dmarc_walk.c - unit tests for dmarc_rec.c (the RFC 9989 record
 * parser: psd=, np=, t=, removed and unknown tags) and dmarc_walk.c (the
 * tree-walk plan with its label limit, policy discovery at the From
 * domain, an intermediate label or a PSD, the organisational domain,
 * np= for non-existent domains, and DNS failure at each step). DNS
 * answers come from a table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc_walk.h"
#include "testutil.h"

typedef struct rec_case {
    const char *txt;
    int         rc;
    int         p, sp, np;          /* DMARC_CHECK_POLICY */
    char        psd;
    int         t, adkim_s, aspf_s;
} REC_CASE;

enum { N = DMARC_CHECK_P_NONE, Q = DMARC_CHECK_P_QUARANTINE, R = DMARC_CHECK_P_REJECT };

static const REC_CASE rec_cases[] = {
    {"v=DMARC1; p=reject", 0, R, R, R, 'u', 0, 0, 0},
    {"v=DMARC1; p=reject; sp=quarantine", 0, R, Q, Q, 'u', 0, 0, 0},
    {"v=DMARC1; p=reject; sp=quarantine; np=none", 0, R, Q, N, 'u', 0, 0, 0},
    {"v=DMARC1; p=none; np=reject", 0, N, N, R, 'u', 0, 0, 0},
    {"v=DMARC1; p=reject; psd=y", 0, R, R, R, 'y', 0, 0, 0},
    {"v=DMARC1; p=reject; psd=n", 0, R, R, R, 'n', 0, 0, 0},
    {"v=DMARC1; p=reject; psd=u", 0, R, R, R, 'u', 0, 0, 0},
    {"v=DMARC1; p=reject; psd=maybe", 0, R, R, R, 'u', 0, 0, 0},
    {"v=DMARC1; p=reject; t=y", 0, R, R, R, 'u', 1, 0, 0},
    {"v=DMARC1; p=reject; t=n", 0, R, R, R, 'u', 0, 0, 0},
    {"v=DMARC1; p=reject; adkim=s; aspf=s", 0, R, R, R, 'u', 0, 1, 1},
    {"v=DMARC1; p=reject; adkim=x; aspf=R", 0, R, R, R, 'u', 0, 0, 0},
    {"v=DMARC1; p=reject; pct=0; rf=afrf; ri=3600", 0, R, R, R, 'u', 0, 0, 0},
    {"v=DMARC1; p=reject; future=1; rua=mailto:a@example.com", 0, R, R, R, 'u', 0, 0, 0},
    {"v=DMARC1", 0, N, N, N, 'u', 0, 0, 0},
    {"v=DMARC1; rua=mailto:a@example.com", 0, N, N, N, 'u', 0, 0, 0},
    {"v=DMARC1; p=bogus; sp=reject", 0, N, R, R, 'u', 0, 0, 0},
    {"  v = DMARC1 ;P = Reject ; PSD = Y ;", 0, R, R, R, 'y', 0, 0, 0},
    {"v=DMARC1;p=quarantine;;;sp=reject", 0, Q, R, R, 'u', 0, 0, 0},
    {"v=DMARC1; adkim=s; p=reject", 0, R, R, R, 'u', 0, 1, 0},
    {"v=DMARC1;; garbage without equals; p=reject", 0, R, R, R, 'u', 0, 0, 0},
    {"v=DMARC2; p=reject", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=dmarc1; p=reject", -1, 0, 0, 0, 0, 0, 0, 0},
    {"p=reject; v=DMARC1", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC10; p=reject", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=spf1 -all", -1, 0, 0, 0, 0, 0, 0, 0},
    {"", -1, 0, 0, 0, 0, 0, 0, 0},
};

static void test_rec_parse(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(rec_cases) / sizeof(rec_cases[0]); i++) {
        const REC_CASE *c = &rec_cases[i];
        DMARC_REC r;
        char why[200];
        int rc = dmarc_rec_parse(c->txt, &r, TH_ERR(why));

        if (rc != c->rc)
            fail_msg("\"%s\": rc %d, want %d (%s)", c->txt, rc, c->rc, why);
        if (rc < 0)
            continue;
        if ((int) r.p != c->p || (int) r.sp != c->sp || (int) r.np != c->np || r.psd != c->psd
            || r.testing != c->t || r.adkim_strict != c->adkim_s || r.aspf_strict != c->aspf_s)
            fail_msg("\"%s\": p=%d sp=%d np=%d psd=%c t=%d adkim_s=%d aspf_s=%d", c->txt, r.p, r.sp, r.np,
                     r.psd, r.testing, r.adkim_strict, r.aspf_strict);
    }
}

static void test_rec_policy(void **state)
{
    DMARC_REC r;
    const char *tag;
    char why[100];

    (void) state;
    assert_int_equal(dmarc_rec_parse("v=DMARC1; p=reject; sp=quarantine; np=none", &r, TH_ERR(why)), 0);
    assert_int_equal(dmarc_rec_policy(&r, 1, 0, &tag), R);
    assert_string_equal(tag, "p");
    assert_int_equal(dmarc_rec_policy(&r, 0, 0, &tag), Q);
    assert_string_equal(tag, "sp");
    assert_int_equal(dmarc_rec_policy(&r, 0, 1, &tag), N);
    assert_string_equal(tag, "np");
    assert_int_equal(dmarc_rec_parse("v=DMARC1; p=reject; t=y", &r, TH_ERR(why)), 0);
    assert_int_equal(dmarc_rec_policy(&r, 1, 0, &tag), Q);          /* t=y: one step down */
    assert_int_equal(dmarc_rec_parse("v=DMARC1; p=quarantine; t=y", &r, TH_ERR(why)), 0);
    assert_int_equal(dmarc_rec_policy(&r, 1, 0, &tag), N);
    assert_int_equal(dmarc_rec_parse("v=DMARC1; p=reject; sp=none", &r, TH_ERR(why)), 0);
    assert_int_equal(dmarc_rec_policy(&r, 0, 1, &tag), N);          /* np defaults to sp */
    assert_string_equal(tag, "sp");
    /* bad values are noted */
    assert_int_equal(dmarc_rec_parse("v=DMARC1; p=bogus", &r, TH_ERR(why)), 0);
    assert_non_null(strstr(why, "p=bogus ignored"));
}

static void test_plan(void **state)
{
    char names[DMARC_WALK_MAX][ORGDOMAIN_MAX];
    int n;

    (void) state;
    n = dmarc_walk_plan("a.mail.example.com", names);
    assert_int_equal(n, 4);
    assert_string_equal(names[0], "a.mail.example.com");
    assert_string_equal(names[1], "mail.example.com");
    assert_string_equal(names[2], "example.com");
    assert_string_equal(names[3], "com");
    assert_int_equal(dmarc_walk_plan("com", names), 1);
    assert_int_equal(dmarc_walk_plan("", names), 0);
    /* 7 labels: one at a time */
    n = dmarc_walk_plan("g.f.e.d.c.b.a", names);
    assert_int_equal(n, 7);
    assert_string_equal(names[1], "f.e.d.c.b.a");
    /* 8 labels and more: the From domain, then its last 7 labels, then one less each time */
    n = dmarc_walk_plan("h.g.f.e.d.c.b.a", names);
    assert_int_equal(n, 8);
    assert_string_equal(names[1], "g.f.e.d.c.b.a");
    n = dmarc_walk_plan("l.k.j.i.h.g.f.e.d.c.b.a", names);
    assert_int_equal(n, 8);
    assert_string_equal(names[0], "l.k.j.i.h.g.f.e.d.c.b.a");
    assert_string_equal(names[1], "g.f.e.d.c.b.a");
    assert_string_equal(names[2], "f.e.d.c.b.a");
    assert_string_equal(names[7], "a");
}

typedef struct walk_case {
    const char *name;
    const char *from;
    TH_RR     dns[6];
    DMARC_CHECK_STATUS status;
    const char *record_domain;      /* FOUND */
    const char *org;
    int         policy;
    const char *tag;
    int         queries;
    const char *why;                /* substring of why, or NULL */
} WALK_CASE;

#define OK DNS_OK
#define TF DNS_TEMPFAIL
#define ND DNS_NODATA
#define END {NULL, 0, 0, {NULL}}
#define FOUND DMARC_CHECK_FOUND
#define NONE DMARC_CHECK_NONE
#define TEMP DMARC_CHECK_TEMPFAIL

static const WALK_CASE walk_cases[] = {
    {"at the From domain, walk on to the top for the org", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject"}}, END},
     FOUND, "example.com", "example.com", R, "p", 2, NULL},
    {"at the From domain with psd=n: stop", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject; psd=n"}}, END},
     FOUND, "example.com", "example.com", R, "p", 1, NULL},
    {"subdomain: the parent's sp", "mail.example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject; sp=quarantine"}}, END},
     FOUND, "example.com", "example.com", Q, "sp", 3, NULL},
    {"PSD: _dmarc.example psd=y for a domain with no record", "shop.example",
     {{"_dmarc.example", 16, OK, {"v=DMARC1; p=reject; psd=y"}}, END},
     FOUND, "example", "shop.example", R, "p", 2, NULL},
    {"PSD below the org's own record: org's wins", "mail.shop.example",
     {{"_dmarc.shop.example", 16, OK, {"v=DMARC1; p=none"}},
      {"_dmarc.example", 16, OK, {"v=DMARC1; p=reject; psd=y"}}, END},
     FOUND, "shop.example", "shop.example", N, "p", 3, NULL},
    {"intermediate label record", "a.b.c.example.com",
     {{"_dmarc.c.example.com", 16, OK, {"v=DMARC1; p=quarantine"}}, END},
     FOUND, "c.example.com", "c.example.com", Q, "p", 5, NULL},
    {"the record with the fewest labels is the org", "a.b.example.com",
     {{"_dmarc.b.example.com", 16, OK, {"v=DMARC1; p=reject"}},
      {"_dmarc.example.com", 16, OK, {"v=DMARC1; p=none"}}, END},
     FOUND, "b.example.com", "example.com", R, "p", 4, NULL},
    {"np=reject for a non-existent subdomain", "nosuch.example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=none; np=reject"}}, END},
     FOUND, "example.com", "example.com", R, "np", 4, NULL},
    {"np=reject, the subdomain exists (A)", "www.example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=none; np=reject"}},
      {"www.example.com", 1, OK, {"192.0.2.1"}}, END},
     FOUND, "example.com", "example.com", N, "p", 4, NULL},
    {"np=reject, the subdomain exists (MX only)", "mx.example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=none; np=reject"}},
      {"mx.example.com", 1, ND, {NULL}}, {"mx.example.com", 28, ND, {NULL}},
      {"mx.example.com", 15, OK, {"10 mail.example.com"}}, END},
     FOUND, "example.com", "example.com", N, "p", 6, NULL},
    {"t=y: reject becomes quarantine", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject; t=y"}}, END},
     FOUND, "example.com", "example.com", Q, "p", 2, NULL},
    {"several records at a step: discarded, the walk goes on", "mail.example.com",
     {{"_dmarc.mail.example.com", 16, OK, {"v=DMARC1; p=none", "v=DMARC1; p=reject"}},
      {"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject"}}, END},
     FOUND, "example.com", "example.com", R, "p", 3, "2 DMARC records"},
    {"non-DMARC TXT records are discarded", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=spf1 -all", "hello"}}, END},
     NONE, NULL, "example.com", 0, NULL, 2, "no DMARC record"},
    {"no record anywhere", "a.b.example.org", {END},
     NONE, NULL, "a.b.example.org", 0, NULL, 4, "no DMARC record"},
    {"SERVFAIL at the first step", "mail.example.com",
     {{"_dmarc.mail.example.com", 16, TF, {NULL}}, END},
     TEMP, NULL, NULL, 0, NULL, 1, "_dmarc.mail.example.com: SERVFAIL"},
    {"SERVFAIL at an intermediate step", "a.mail.example.com",
     {{"_dmarc.mail.example.com", 16, TF, {NULL}}, END},
     TEMP, NULL, NULL, 0, NULL, 2, "_dmarc.mail.example.com: SERVFAIL"},
    {"SERVFAIL at the PSD step", "shop.example",
     {{"_dmarc.example", 16, TF, {NULL}}, END},
     TEMP, NULL, NULL, 0, NULL, 2, "_dmarc.example: SERVFAIL"},
    {"SERVFAIL above the policy record (org walk)", "mail.example.com",
     {{"_dmarc.mail.example.com", 16, OK, {"v=DMARC1; p=reject"}}, {"_dmarc.com", 16, TF, {NULL}}, END},
     TEMP, NULL, NULL, 0, NULL, 3, "_dmarc.com: SERVFAIL"},
    {"SERVFAIL on the existence check", "nosuch.example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=none; np=reject"}},
      {"nosuch.example.com", 1, TF, {NULL}}, END},
     TEMP, NULL, NULL, 0, NULL, 4, "nosuch.example.com A: SERVFAIL"},
    {"label limit: 9 labels, a record at the 8th is never seen", "i.h.g.f.e.d.c.b.a",
     {{"_dmarc.h.g.f.e.d.c.b.a", 16, OK, {"v=DMARC1; p=reject"}}, END},
     NONE, NULL, "i.h.g.f.e.d.c.b.a", 0, NULL, 8, "no DMARC record"},
    {"label limit: 9 labels, a record at the 7th is", "i.h.g.f.e.d.c.b.a",
     {{"_dmarc.g.f.e.d.c.b.a", 16, OK, {"v=DMARC1; p=reject"}}, END},
     FOUND, "g.f.e.d.c.b.a", "g.f.e.d.c.b.a", R, "p", 8, NULL},
};

static void test_walk(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
        const WALK_CASE *c = &walk_cases[i];
        TH_DNS f = { .rr = c->dns };
        DMARC_WALK w;

        dmarc_walk_discover(th_dns_lookup, &f, c->from, &w);
        if (w.status != c->status)
            fail_msg("%s: status %d, want %d (%s)", c->name, w.status, c->status, w.why);
        if (f.queries != c->queries || w.queries != c->queries)
            fail_msg("%s: %d queries, want %d (last %s)", c->name, f.queries, c->queries,
                     f.asked[f.queries > 0 ? (f.queries - 1) % 16 : 0]);
        if (c->why && strstr(w.why, c->why) == NULL)
            fail_msg("%s: why \"%s\", want \"%s\"", c->name, w.why, c->why);
        if (c->org && strcmp(w.org_domain, c->org) != 0)
            fail_msg("%s: org %s, want %s", c->name, w.org_domain, c->org);
        if (c->status != FOUND)
            continue;
        if (strcmp(w.record_domain, c->record_domain) != 0 || (int) w.policy != c->policy
            || strcmp(w.policy_tag, c->tag) != 0)
            fail_msg("%s: at %s policy %d (%s)", c->name, w.record_domain, w.policy, w.policy_tag);
    }
}

static void test_walk_order(void **state)
{
    static const TH_RR none[] = {END};
    TH_DNS f = { .rr = none };
    DMARC_WALK w;

    (void) state;
    dmarc_walk_discover(th_dns_lookup, &f, "A.Mail.Example.COM.", &w);
    assert_int_equal(f.queries, 4);
    assert_string_equal(f.asked[0], "_dmarc.a.mail.example.com/16");
    assert_string_equal(f.asked[1], "_dmarc.mail.example.com/16");
    assert_string_equal(f.asked[2], "_dmarc.example.com/16");
    assert_string_equal(f.asked[3], "_dmarc.com/16");
}

static void test_walk_aligned(void **state)
{
    static const TH_RR dns[] = {
        {"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject"}},
        {"_dmarc.example", 16, OK, {"v=DMARC1; p=reject; psd=y"}},
        {"_dmarc.bounce.example.com", 16, TF, {NULL}},
        END,
    };
    TH_DNS f = { .rr = dns };
    DMARC_WALK w;
    char why[300];

    (void) state;
    dmarc_walk_discover(th_dns_lookup, &f, "mail.example.com", &w);
    assert_int_equal(w.status, FOUND);
    assert_int_equal(dmarc_walk_aligned(th_dns_lookup, &f, &w, "mail.example.com", 1, TH_ERR(why)), 1);
    assert_int_equal(dmarc_walk_aligned(th_dns_lookup, &f, &w, "example.com", 1, TH_ERR(why)), 0);
    assert_int_equal(dmarc_walk_aligned(th_dns_lookup, &f, &w, "example.com", 0, TH_ERR(why)), 1);
    assert_int_equal(dmarc_walk_aligned(th_dns_lookup, &f, &w, "x.example.com", 0, TH_ERR(why)), 1);
    f.queries = 0;
    assert_int_equal(dmarc_walk_aligned(th_dns_lookup, &f, &w, "example.net", 0, TH_ERR(why)), 0);
    assert_int_equal(f.queries, 0);                 /* no need to ask */
    assert_int_equal(dmarc_walk_aligned(th_dns_lookup, &f, &w, "bounce.example.com", 0, TH_ERR(why)), -1);
    assert_non_null(strstr(why, "_dmarc.bounce.example.com: SERVFAIL"));
    /* under a PSD: two registrants do not align */
    dmarc_walk_discover(th_dns_lookup, &f, "shop.example", &w);
    assert_string_equal(w.org_domain, "shop.example");
    assert_int_equal(dmarc_walk_aligned(th_dns_lookup, &f, &w, "other.example", 0, TH_ERR(why)), 0);
    assert_int_equal(dmarc_walk_aligned(th_dns_lookup, &f, &w, "m.shop.example", 0, TH_ERR(why)), 1);
}

static void test_walk_to_check(void **state)
{
    static const TH_RR dns[] = {{"_dmarc.example", 16, OK, {"v=DMARC1; p=reject; psd=y; adkim=s"}}, END};
    TH_DNS f = { .rr = dns };
    DMARC_WALK w;
    DMARC_CHECK c;

    (void) state;
    dmarc_walk_discover(th_dns_lookup, &f, "shop.example", &w);
    dmarc_walk_to_check(&w, &c);
    assert_int_equal(c.status, DMARC_CHECK_FOUND);
    assert_string_equal(c.record_domain, "example");
    assert_true(c.at_org);
    assert_int_equal(c.policy, R);
    assert_true(c.adkim_strict);
    assert_int_equal(c.pct, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rec_parse),
        cmocka_unit_test(test_rec_policy),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_walk_order),
        cmocka_unit_test(test_walk_aligned),
        cmocka_unit_test(test_walk_to_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

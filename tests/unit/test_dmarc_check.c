/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dmarc_check.c - unit tests for dmarc_check.c: DMARC policy
 * discovery with the organisational-domain fallback (the library's
 * missing fallback: OpenDMARC #54), sp=, pct=, adkim=/aspf=, several or
 * invalid records and DNS trouble. DNS answers come from a table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "dmarc_check.h"
#include "testutil.h"

typedef struct disc_case {
    const char *name;
    const char *from;
    TH_RR     dns[4];
    DMARC_CHECK_STATUS status;
    const char *record_domain;      /* where found (FOUND) */
    int         at_org;
    DMARC_CHECK_POLICY policy;      /* applied to the From domain */
    const char *tag;                /* "sp" only when the record has sp= */
    int         pct, adkim_s, aspf_s;
    int         queries;            /* DNS queries expected */
    const char *why;                /* substring of why (not FOUND) */
} DISC_CASE;

#define OK DNS_OK
#define TF DNS_TEMPFAIL
#define NX DNS_NXDOMAIN
#define ND DNS_NODATA
#define END {NULL, 0, 0, {NULL}}

static const DISC_CASE disc_cases[] = {
    {"record at the From domain", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject"}}, END},
     DMARC_CHECK_FOUND, "example.com", 0, DMARC_CHECK_P_REJECT, "p", 100, 0, 0, 1, NULL},
    {"subdomain falls back to the org domain (#54)", "mail.example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=quarantine"}}, END},
     DMARC_CHECK_FOUND, "example.com", 1, DMARC_CHECK_P_QUARANTINE, "p", 100, 0, 0, 2, NULL},
    {"sp= applies to a subdomain", "mail.example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject; sp=none"}}, END},
     DMARC_CHECK_FOUND, "example.com", 1, DMARC_CHECK_P_NONE, "sp", 100, 0, 0, 2, NULL},
    {"sp= does not apply to the org domain itself", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject; sp=none"}}, END},
     DMARC_CHECK_FOUND, "example.com", 0, DMARC_CHECK_P_REJECT, "p", 100, 0, 0, 1, NULL},
    {"own record wins over the org's sp=", "mail.example.com",
     {{"_dmarc.mail.example.com", 16, OK, {"v=DMARC1; p=none"}},
      {"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject; sp=reject"}}, END},
     DMARC_CHECK_FOUND, "mail.example.com", 0, DMARC_CHECK_P_NONE, "p", 100, 0, 0, 1, NULL},
    {"deep subdomain goes straight to the org domain", "a.b.c.example.co.uk",
     {{"_dmarc.example.co.uk", 16, OK, {"v=DMARC1; p=reject; adkim=s; aspf=s"}}, END},
     DMARC_CHECK_FOUND, "example.co.uk", 1, DMARC_CHECK_P_REJECT, "p", 100, 1, 1, 2, NULL},
    {"NODATA at the From domain, fallback", "mail.example.com",
     {{"_dmarc.mail.example.com", 16, ND, {NULL}}, {"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject"}}, END},
     DMARC_CHECK_FOUND, "example.com", 1, DMARC_CHECK_P_REJECT, "p", 100, 0, 0, 2, NULL},
    {"non-DMARC TXT ignored, fallback", "mail.example.com",
     {{"_dmarc.mail.example.com", 16, OK, {"v=spf1 -all", "hello"}},
      {"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject"}}, END},
     DMARC_CHECK_FOUND, "example.com", 1, DMARC_CHECK_P_REJECT, "p", 100, 0, 0, 2, NULL},
    {"no record anywhere", "mail.example.com", {END},
     DMARC_CHECK_NONE, NULL, 0, DMARC_CHECK_P_NONE, "p", 100, 0, 0, 2, "nor at _dmarc.example.com"},
    {"no record, From is the org domain: one query", "example.com", {END},
     DMARC_CHECK_NONE, NULL, 0, DMARC_CHECK_P_NONE, "p", 100, 0, 0, 1, "no DMARC record at _dmarc.example.com"},
    {"public suffix From: no fallback", "co.uk", {END},
     DMARC_CHECK_NONE, NULL, 0, DMARC_CHECK_P_NONE, "p", 100, 0, 0, 1, "_dmarc.co.uk"},
    {"two records: none applies, no fallback", "mail.example.com",
     {{"_dmarc.mail.example.com", 16, OK, {"v=DMARC1; p=reject", "v=DMARC1; p=none"}},
      {"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject"}}, END},
     DMARC_CHECK_MULTIPLE, NULL, 0, DMARC_CHECK_P_NONE, "p", 100, 0, 0, 1, "2 DMARC records"},
    {"invalid p=", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=bogus"}}, END},
     DMARC_CHECK_INVALID, NULL, 0, DMARC_CHECK_P_NONE, "p", 100, 0, 0, 1, "not valid"},
    {"no p=", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; rua=mailto:d@example.com"}}, END},
     DMARC_CHECK_INVALID, NULL, 0, DMARC_CHECK_P_NONE, "p", 100, 0, 0, 1, "no p= tag"},
    {"DNS trouble at the From domain", "mail.example.com",
     {{"_dmarc.mail.example.com", 16, TF, {NULL}}, {"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject"}}, END},
     DMARC_CHECK_TEMPFAIL, NULL, 0, DMARC_CHECK_P_NONE, "p", 100, 0, 0, 1, "SERVFAIL"},
    {"DNS trouble at the org domain", "mail.example.com",
     {{"_dmarc.example.com", 16, TF, {NULL}}, END},
     DMARC_CHECK_TEMPFAIL, NULL, 0, DMARC_CHECK_P_NONE, "p", 100, 0, 0, 2, "SERVFAIL"},
    {"pct=0 moves reject to quarantine", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject; pct=0"}}, END},
     DMARC_CHECK_FOUND, "example.com", 0, DMARC_CHECK_P_QUARANTINE, "p", 0, 0, 0, 1, NULL},
    {"pct=0 moves quarantine to none", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=quarantine; pct=0"}}, END},
     DMARC_CHECK_FOUND, "example.com", 0, DMARC_CHECK_P_NONE, "p", 0, 0, 0, 1, NULL},
    {"pct=50 keeps the policy", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject; pct=50"}}, END},
     DMARC_CHECK_FOUND, "example.com", 0, DMARC_CHECK_P_REJECT, "p", 50, 0, 0, 1, NULL},
    {"adkim and aspf strict", "example.com",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject; adkim=s; aspf=s"}}, END},
     DMARC_CHECK_FOUND, "example.com", 0, DMARC_CHECK_P_REJECT, "p", 100, 1, 1, 1, NULL},
    {"mixed-case From domain is lowercased", "Mail.Example.COM.",
     {{"_dmarc.example.com", 16, OK, {"v=DMARC1; p=reject"}}, END},
     DMARC_CHECK_FOUND, "example.com", 1, DMARC_CHECK_P_REJECT, "p", 100, 0, 0, 2, NULL},
    {"spaces around the version tag", "example.com",
     {{"_dmarc.example.com", 16, OK, {" v = DMARC1 ;p=quarantine"}}, END},
     DMARC_CHECK_FOUND, "example.com", 0, DMARC_CHECK_P_QUARANTINE, "p", 100, 0, 0, 1, NULL},
};

static void test_discovery(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(disc_cases) / sizeof(disc_cases[0]); i++) {
        const DISC_CASE *c = &disc_cases[i];
        TH_DNS f = { .rr = c->dns, .only_type = 16 };
        DMARC_CHECK d;

        dmarc_check_discover(th_dns_lookup, &f, c->from, &d);
        if (d.status != c->status)
            fail_msg("case \"%s\": status %d, want %d (why: %s)", c->name, d.status, c->status, d.why);
        if (f.queries != c->queries)
            fail_msg("case \"%s\": %d queries, want %d", c->name, f.queries, c->queries);
        if (c->why && strstr(d.why, c->why) == NULL)
            fail_msg("case \"%s\": why \"%s\" lacks \"%s\"", c->name, d.why, c->why);
        if (c->status != DMARC_CHECK_FOUND)
            continue;
        if (strcmp(d.record_domain, c->record_domain) != 0 || d.at_org != c->at_org)
            fail_msg("case \"%s\": found at %s (org %d), want %s (org %d)", c->name, d.record_domain,
                     d.at_org, c->record_domain, c->at_org);
        if (d.policy != c->policy || strcmp(d.policy_tag, c->tag) != 0)
            fail_msg("case \"%s\": policy %s from %s, want %s from %s", c->name,
                     dmarc_check_policy_str(d.policy), d.policy_tag, dmarc_check_policy_str(c->policy), c->tag);
        if (d.pct != c->pct || d.adkim_strict != c->adkim_s || d.aspf_strict != c->aspf_s)
            fail_msg("case \"%s\": pct=%d adkim_s=%d aspf_s=%d", c->name, d.pct, d.adkim_strict, d.aspf_strict);
        if (d.ttl != 300)
            fail_msg("case \"%s\": ttl %u", c->name, d.ttl);
    }
}

static void test_overlong_record(void **state)
{
    char rec[2000];
    TH_RR dns[2] = {{"_dmarc.example.com", 16, OK, {rec}}, END};
    TH_DNS f = { .rr = dns, .only_type = 16 };
    DMARC_CHECK d;

    (void) state;
    memset(rec, 'x', sizeof(rec) - 1);
    memcpy(rec, "v=DMARC1; p=reject; rua=mailto:", 31);
    rec[sizeof(rec) - 1] = 0;
    dmarc_check_discover(th_dns_lookup, &f, "example.com", &d);
    assert_int_equal(d.status, DMARC_CHECK_INVALID);
    assert_non_null(strstr(d.why, "longer than"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_overlong_record),
    };

    return cmocka_run_group_tests(tests, th_psl_setup, th_psl_teardown);
}

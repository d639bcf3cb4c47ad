/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_spf_check.c - unit tests for spf_check.c: mapping libspf2's
 * results (with what the DNS layer saw), counting mechanisms (the
 * libspf2 truncation past ~60 mechanisms, checked against libspf2
 * itself), the SPF identity of a MAIL FROM, and the RFC 7208 lookup
 * count of a policy with includes and redirects (DNS from a table).
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <spf2/spf.h>

#include "spf_check.h"
#include "testutil.h"

typedef struct map_case {
    const char *name;
    int         lib;            /* SPF_result_t */
    int         tempfail, truncated;
    SPF_CHECK_RESULT want;
} MAP_CASE;

static const MAP_CASE map_cases[] = {
    {"pass", SPF_RESULT_PASS, 0, 0, SPF_CHECK_PASS},
    {"fail", SPF_RESULT_FAIL, 0, 0, SPF_CHECK_FAIL},
    {"softfail", SPF_RESULT_SOFTFAIL, 0, 0, SPF_CHECK_SOFTFAIL},
    {"neutral", SPF_RESULT_NEUTRAL, 0, 0, SPF_CHECK_NEUTRAL},
    {"none", SPF_RESULT_NONE, 0, 0, SPF_CHECK_NONE},
    {"temperror", SPF_RESULT_TEMPERROR, 0, 0, SPF_CHECK_TEMPERROR},
    {"permerror", SPF_RESULT_PERMERROR, 0, 0, SPF_CHECK_PERMERROR},
    {"invalid is a permerror", SPF_RESULT_INVALID, 0, 0, SPF_CHECK_PERMERROR},
    {"neutral after a DNS failure is temperror", SPF_RESULT_NEUTRAL, 1, 0, SPF_CHECK_TEMPERROR},
    {"fail after a DNS failure is temperror", SPF_RESULT_FAIL, 1, 0, SPF_CHECK_TEMPERROR},
    {"none after a DNS failure is temperror", SPF_RESULT_NONE, 1, 0, SPF_CHECK_TEMPERROR},
    {"pass despite a DNS failure stays pass", SPF_RESULT_PASS, 1, 0, SPF_CHECK_PASS},
    {"truncated record: neutral is a permerror", SPF_RESULT_NEUTRAL, 0, 1, SPF_CHECK_PERMERROR},
    {"truncated record: even a pass is a permerror", SPF_RESULT_PASS, 0, 1, SPF_CHECK_PERMERROR},
};

static void test_map(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
        const MAP_CASE *c = &map_cases[i];
        SPF_CHECK_RESULT got = spf_check_map(c->lib, c->tempfail, c->truncated);

        if (got != c->want)
            fail_msg("case \"%s\": %s, want %s", c->name, spf_check_result_str(got),
                     spf_check_result_str(c->want));
    }
    assert_string_equal(spf_check_result_str(SPF_CHECK_SOFTFAIL), "softfail");
}

typedef struct count_case {
    const char *record;
    int         mechanisms;
} COUNT_CASE;

static const COUNT_CASE count_cases[] = {
    {"v=spf1 -all", 1},
    {"v=spf1", 0},
    {"v=spf1 ip4:192.0.2.0/24 include:_spf.example.com ~all", 3},
    {"v=spf1 a mx redirect=_spf.example.com", 3},     /* libspf2 keeps redirect= as one */
    {"v=spf1 redirect=_spf.example.com", 1},
    {"v=spf1 REDIRECT=_spf.example.com exp=x.example", 1},
    {"v=spf1  ip4:192.0.2.1   exp=explain.%{d}  -all ", 2},
    {"V=SPF1 +a -mx ?ptr ~exists:%{i}.x.example", 4},
    {"v=spf1 ip6:2001:db8::/32 -all", 2},
    {"not spf at all", 0},
};

static void test_count_mechanisms(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(count_cases) / sizeof(count_cases[0]); i++)
        if (spf_check_count_mechanisms(count_cases[i].record) != count_cases[i].mechanisms)
            fail_msg("\"%s\": %d mechanisms, want %d", count_cases[i].record,
                     spf_check_count_mechanisms(count_cases[i].record), count_cases[i].mechanisms);
}

/* big_record - "v=spf1" with n ip4 terms, then "ip4:192.0.2.10 -all" */
static char *big_record(int n)
{
    char *r = malloc(64 + (size_t) n * 24);

    strcpy(r, "v=spf1");
    for (int i = 0; i < n; i++)
        sprintf(r + strlen(r), " ip4:198.51.%d.%d", i / 200, i % 200 + 1);
    strcat(r, " ip4:192.0.2.10 -all");
    return r;
}

/* Our count is libspf2's for every record it keeps whole, or dns_spf.c
 * would refuse the record as truncated: found by tests/fuzz/fuzz_spf,
 * which saw "v=spf1 redirect=..." (gmail.com's form) refused. */
static void test_count_matches_libspf2(void **state)
{
    SPF_server_t *srv = SPF_server_new(SPF_DNS_CACHE, 0);

    (void) state;
    assert_non_null(srv);
    for (size_t i = 0; i < sizeof(count_cases) / sizeof(count_cases[0]); i++) {
        const char *rec = count_cases[i].record;
        SPF_response_t *resp;
        SPF_record_t *compiled = NULL;

        if (strncasecmp(rec, "v=spf1", 6) != 0)
            continue;
        resp = SPF_response_new(NULL);
        if (SPF_record_compile(srv, resp, &compiled, rec) != SPF_E_SUCCESS || compiled == NULL)
            fail_msg("\"%s\" does not compile", rec);
        if (compiled->num_mech != spf_check_count_mechanisms(rec))
            fail_msg("\"%s\": libspf2 keeps %d, we count %d", rec, compiled->num_mech,
                     spf_check_count_mechanisms(rec));
        SPF_record_free(compiled);
        SPF_response_free(resp);
    }
    SPF_server_free(srv);
}

/* The libspf2 bug itself: its compiled record silently loses mechanisms,
 * and our count tells. If libspf2 is ever fixed, the second half fails
 * and the workaround can go. */
static void test_libspf2_truncates(void **state)
{
    SPF_server_t *srv = SPF_server_new(SPF_DNS_CACHE, 0);
    int sizes[] = {10, 50, 70, 200};

    (void) state;
    assert_non_null(srv);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *rec = big_record(sizes[i]);
        SPF_response_t *resp = SPF_response_new(NULL);
        SPF_record_t *compiled = NULL;
        int want = spf_check_count_mechanisms(rec);

        assert_int_equal(want, sizes[i] + 2);
        (void) SPF_record_compile(srv, resp, &compiled, rec);
        assert_non_null(compiled);
        if (sizes[i] <= 50)
            assert_int_equal(compiled->num_mech, want);
        else
            assert_true(compiled->num_mech != want);   /* dropped: detected */
        SPF_record_free(compiled);
        SPF_response_free(resp);
        free(rec);
    }
    SPF_server_free(srv);
}

typedef struct sender_case {
    const char *mail_from, *helo;
    int         rc;
    const char *domain;
    int         is_helo;
} SENDER_CASE;

static const SENDER_CASE sender_cases[] = {
    {"<bounce@Example.COM>", "relay.example.net", 0, "example.com", 0},
    {"bounce@example.com", "", 0, "example.com", 0},
    {"<a@b@mail.example.org.>", "h", 0, "mail.example.org", 0},
    {"<>", "relay.example.net", 0, "relay.example.net", 1},
    {"", "Relay.Example.NET.", 0, "relay.example.net", 1},
    {"<>", "", -1, "", 1},
    {"<>", "[192.0.2.1]", -1, "", 1},
    {"<postmaster>", "relay.example.net", 0, "relay.example.net", 1},
};

static void test_sender_domain(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(sender_cases) / sizeof(sender_cases[0]); i++) {
        const SENDER_CASE *c = &sender_cases[i];
        char out[256] = "";
        int is_helo = -1, rc = spf_check_sender_domain(c->mail_from, c->helo, out, sizeof(out), &is_helo);

        if (rc != c->rc || (rc == 0 && strcmp(out, c->domain) != 0) || is_helo != c->is_helo)
            fail_msg("\"%s\"/\"%s\": rc %d domain \"%s\" helo %d", c->mail_from, c->helo, rc, out, is_helo);
    }
}

/* The fake DNS of the lookup count: TXT records only. */
static const TH_RR zone[] = {
    {"flat.example", 16, DNS_OK, {"v=spf1 ip4:192.0.2.10 -all", "google-site-verification=x"}},
    {"chain.example", 16, DNS_OK, {"v=spf1 include:one.example mx -all"}},
    {"one.example", 16, DNS_OK, {"v=spf1 include:two.example a"}},
    {"two.example", 16, DNS_OK, {"v=spf1 ip4:192.0.2.0/24 exists:%{i}.x.example ~all"}},
    {"redir.example", 16, DNS_OK, {"v=spf1 redirect=chain.example"}},
    {"redirall.example", 16, DNS_OK, {"v=spf1 -all redirect=chain.example"}},
    {"many.example", 16, DNS_OK, {"v=spf1 a mx ptr include:flat.example include:flat.example "
                             "include:flat.example include:flat.example a:x.example mx:y.example "
                             "exists:z.example exists:w.example -all"}},
    {"loop.example", 16, DNS_OK, {"v=spf1 include:loop.example -all"}},
    {"broken.example", 16, DNS_OK, {"v=spf1 include:nowhere.example -all"}},
    {"double.example", 16, DNS_OK, {"v=spf1 -all", "v=spf1 ~all"}},
    {"slow.example", 16, DNS_OK, {"v=spf1 include:down.example -all"}},
    {"down.example", 16, DNS_TEMPFAIL, {NULL}},
    {"macro.example", 16, DNS_OK, {"v=spf1 include:%{d}.spf.example -all"}},
    /* four includes a record, ten deep: 4^10 records if walked whole (fuzz_spf) */
    {"b0.example", 16, DNS_OK, {"v=spf1 include:b1.example include:b1.example include:b1.example include:b1.example"}},
    {"b1.example", 16, DNS_OK, {"v=spf1 include:b2.example include:b2.example include:b2.example include:b2.example"}},
    {"b2.example", 16, DNS_OK, {"v=spf1 include:b3.example include:b3.example include:b3.example include:b3.example"}},
    {"b3.example", 16, DNS_OK, {"v=spf1 include:b4.example include:b4.example include:b4.example include:b4.example"}},
    {"b4.example", 16, DNS_OK, {"v=spf1 include:b5.example include:b5.example include:b5.example include:b5.example"}},
    {"b5.example", 16, DNS_OK, {"v=spf1 include:b6.example include:b6.example include:b6.example include:b6.example"}},
    {"b6.example", 16, DNS_OK, {"v=spf1 include:b7.example include:b7.example include:b7.example include:b7.example"}},
    {"b7.example", 16, DNS_OK, {"v=spf1 include:b8.example include:b8.example include:b8.example include:b8.example"}},
    {"b8.example", 16, DNS_OK, {"v=spf1 include:b9.example include:b9.example include:b9.example include:b9.example"}},
    {"b9.example", 16, DNS_OK, {"v=spf1 include:b10.example include:b10.example include:b10.example include:b10.example"}},
    {"b10.example", 16, DNS_OK, {"v=spf1 -all"}},
    {NULL, 0, 0, {NULL}},
};

typedef struct lookup_case {
    const char *domain;
    int         count;          /* -1: error */
    int         tempfail;
    const char *err;
} LOOKUP_CASE;

static const LOOKUP_CASE lookup_cases[] = {
    {"flat.example", 0, 0, NULL},
    {"chain.example", 5, 0, NULL},          /* include, mx; include, a; exists */
    {"redir.example", 6, 0, NULL},
    {"redirall.example", 1, 0, NULL},       /* redirect counted, not followed after all */
    {"many.example", 11, 0, NULL},
    {"loop.example", -1, 0, "deeper than"},
    {"broken.example", -1, 0, "nowhere.example publishes no SPF record"},
    {"double.example", -1, 0, "several SPF records"},
    {"slow.example", -1, 1, "down.example"},
    {"macro.example", 1, 0, NULL},
    {"absent.example", -1, 0, "no SPF record"},
    {"b0.example", 48, 0, NULL},            /* nothing followed past 20: a lower bound */
};

static void test_count_lookups(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(lookup_cases) / sizeof(lookup_cases[0]); i++) {
        const LOOKUP_CASE *c = &lookup_cases[i];
        char err[300];
        TH_DNS dns = { .rr = zone, .only_type = 16 };
        int tempfail = -1, n = spf_check_count_lookups(th_dns_lookup, &dns, c->domain, &tempfail,
                                                       TH_ERR(err));

        if (n != c->count || tempfail != c->tempfail || (c->err && strstr(err, c->err) == NULL))
            fail_msg("%s: count %d tempfail %d err \"%s\"; want %d %d \"%s\"", c->domain, n, tempfail,
                     err, c->count, c->tempfail, c->err ? c->err : "");
    }
}

static void test_find_record(void **state)
{
    DNS_ANSWER a;

    (void) state;
    memset(&a, 0, sizeof(a));
    a.status = DNS_OK;
    a.rec[a.n++] = strdup("v=spf10 nope");
    a.rec[a.n++] = strdup("v=spf1");
    assert_int_equal(spf_check_find_record(&a), 1);
    a.rec[a.n++] = strdup("V=SPF1 -all");
    assert_int_equal(spf_check_find_record(&a), -2);
    dns_answer_free(&a);
    a.status = DNS_NODATA;
    assert_int_equal(spf_check_find_record(&a), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_count_mechanisms),
        cmocka_unit_test(test_count_matches_libspf2),
        cmocka_unit_test(test_libspf2_truncates),
        cmocka_unit_test(test_sender_domain),
        cmocka_unit_test(test_count_lookups),
        cmocka_unit_test(test_find_record),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_orgdomain.c - unit tests for orgdomain.c: organisational domains
 * from Debian's public suffix list (libpsl) and RFC 7489 identifier
 * alignment, including what libopendmarc 1.4.2 got wrong (case-sensitive
 * lookups, a public suffix as its own organisational domain so that
 * d=co.uk aligned with example.co.uk, strict alignment comparing
 * organisational domains: OpenDMARC #268 / PR #354, "*." wildcard rules:
 * x.y.kawasaki.jp gave y.kawasaki.jp), from the packaged file and from
 * libpsl's built-in list.
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
#include "orgdomain.h"

typedef struct org_case {
    const char *name;
    const char *domain;
    const char *org;            /* expected; "" for none */
} ORG_CASE;

static const ORG_CASE org_cases[] = {
    {"subdomain of .com", "mail.example.com", "example.com"},
    {"registered domain itself", "example.com", "example.com"},
    {"deep under co.uk", "a.b.example.co.uk", "example.co.uk"},
    {"registered under co.uk", "example.co.uk", "example.co.uk"},
    {"public suffix co.uk has none (library says co.uk)", "co.uk", ""},
    {"TLD has none", "com", ""},
    {"uppercase (library is case-sensitive)", "Mail.Example.COM", "example.com"},
    {"trailing dot", "mail.example.com.", "example.com"},
    {"uppercase and trailing dot", "WWW.EXAMPLE.CO.UK.", "example.co.uk"},
    {"private suffix s3.amazonaws.com", "foo.bar.s3.amazonaws.com", "bar.s3.amazonaws.com"},
    {"unlisted TLD: implicit * rule", "mail.example.test", "example.test"},
    {"unlisted TLD itself", "test", ""},
    {"wildcard *.kawasaki.jp: x.y is registrable", "x.y.kawasaki.jp", "x.y.kawasaki.jp"},
    {"wildcard *.kawasaki.jp: deeper", "mail.x.y.kawasaki.jp", "x.y.kawasaki.jp"},
    {"wildcard *.kawasaki.jp: y.kawasaki.jp is a suffix", "y.kawasaki.jp", ""},
    {"exception !city.kawasaki.jp: registrable", "city.kawasaki.jp", "city.kawasaki.jp"},
    {"exception !city.kawasaki.jp: below it", "www.city.kawasaki.jp", "city.kawasaki.jp"},
    {"kawasaki.jp itself is a suffix", "kawasaki.jp", ""},
    {"wildcard *.ck with !www.ck", "www.ck", "www.ck"},
    {"wildcard *.ck", "a.b.ck", "a.b.ck"},
    {"empty", "", ""},
    {"empty label", "a..example.com", ""},
    {"leading dot", ".example.com", ""},
    {"address literal", "[192.0.2.1]", ""},
};

typedef struct align_case {
    const char *name;
    const char *a, *b;
    int strict;
    int aligned;
} ALIGN_CASE;

static const ALIGN_CASE align_cases[] = {
    {"relaxed: same name", "example.com", "example.com", 0, 1},
    {"relaxed: parent and child", "example.com", "mail.example.com", 0, 1},
    {"relaxed: siblings", "bounce.example.com", "mail.example.com", 0, 1},
    {"relaxed: different org", "example.net", "example.com", 0, 0},
    {"relaxed: case and dot do not matter", "EXAMPLE.com.", "Mail.Example.COM", 0, 1},
    {"relaxed: d=co.uk vs example.co.uk (library aligns)", "co.uk", "example.co.uk", 0, 0},
    {"relaxed: two registrants under co.uk", "a.co.uk", "b.co.uk", 0, 0},
    {"relaxed: s3 buckets are separate", "x.s3.amazonaws.com", "y.s3.amazonaws.com", 0, 0},
    {"strict: same name", "mail.example.com", "mail.example.com", 1, 1},
    {"strict: parent does not align (#268)", "example.com", "mail.example.com", 1, 0},
    {"strict: siblings do not align (#268)", "bounce.example.com", "mail.example.com", 1, 0},
    {"strict: case does not matter", "Mail.Example.Com", "mail.example.com.", 1, 1},
    {"strict: same public suffix name", "co.uk", "co.uk", 1, 1},
    {"relaxed: unlisted TLD siblings", "a.example.test", "b.example.test", 0, 1},
    {"relaxed: empty never aligns", "", "example.com", 0, 0},
    {"relaxed: wildcard registrants apart", "x.y.kawasaki.jp", "z.y.kawasaki.jp", 0, 0},
    {"relaxed: wildcard registrant and its child", "x.y.kawasaki.jp", "m.x.y.kawasaki.jp", 0, 1},
    {"relaxed: exception domain and its child", "city.kawasaki.jp", "www.city.kawasaki.jp", 0, 1},
};

static int have_psl;

static const char *psl_source;  /* the file, or "" for libpsl's built-in list */

static int setup(void **state)
{
    BUF errs;

    (void) state;
    buf_init(&errs, 4096);
    have_psl = (*psl_source == 0 || access(psl_source, R_OK) == 0) && orgdomain_init(psl_source, &errs) == 0;
    if (!have_psl)
        fprintf(stderr, "test_orgdomain: %s unusable (%s): install publicsuffix\n", CONF_DEFAULT_PSL,
                errs.data ? errs.data : "missing");
    buf_free(&errs);
    return have_psl ? 0 : -1;
}

static int teardown(void **state)
{
    (void) state;
    orgdomain_shutdown();
    return 0;
}

static void test_orgdomain_get(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(org_cases) / sizeof(org_cases[0]); i++) {
        const ORG_CASE *c = &org_cases[i];
        char out[ORGDOMAIN_MAX];

        orgdomain_get(c->domain, out, sizeof(out));
        if (strcmp(out, c->org) != 0)
            fail_msg("case \"%s\": orgdomain(%s) = \"%s\", want \"%s\"", c->name, c->domain, out, c->org);
    }
}

static void test_orgdomain_aligned(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(align_cases) / sizeof(align_cases[0]); i++) {
        const ALIGN_CASE *c = &align_cases[i];
        int got = orgdomain_aligned(c->a, c->b, c->strict);

        if (got != c->aligned)
            fail_msg("case \"%s\": aligned(%s, %s, %s) = %d, want %d", c->name, c->a, c->b,
                     c->strict ? "strict" : "relaxed", got, c->aligned);
        /* alignment is symmetric */
        if (orgdomain_aligned(c->b, c->a, c->strict) != c->aligned)
            fail_msg("case \"%s\": not symmetric", c->name);
    }
}

static void test_orgdomain_bounds(void **state)
{
    char big[400], out[ORGDOMAIN_MAX], small[8];

    (void) state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    orgdomain_get(big, out, sizeof(out));
    assert_string_equal(out, "");
    assert_int_equal(orgdomain_aligned(big, big, 1), 0);
    orgdomain_get("mail.example.com", small, sizeof(small));
    assert_true(strlen(small) < sizeof(small));
    assert_int_equal(orgdomain_normalise("Example.COM.", out, sizeof(out)), 0);
    assert_string_equal(out, "example.com");
    assert_int_equal(orgdomain_normalise(".", out, sizeof(out)), -1);
}

static void test_orgdomain_bad_list(void **state)
{
    BUF errs;

    (void) state;
    buf_init(&errs, 4096);
    /* Already loaded: a second call with the same file does nothing. */
    assert_int_equal(orgdomain_init(psl_source, &errs), 0);
    buf_free(&errs);
}

/* Files that are no public suffix list are refused with their name. */
static void test_orgdomain_refused(void **state)
{
    static const char *const bad[] = {"/dev/null", "/etc/hostname", "/nonexistent/psl.dat"};
    BUF errs;

    (void) state;
    orgdomain_shutdown();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        buf_init(&errs, 4096);
        assert_int_equal(orgdomain_init(bad[i], &errs), -1);
        assert_non_null(errs.data);
        assert_non_null(strstr(errs.data, bad[i]));
        buf_free(&errs);
    }
    buf_init(&errs, 4096);
    assert_int_equal(orgdomain_init(psl_source, &errs), 0);
    buf_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orgdomain_get),
        cmocka_unit_test(test_orgdomain_aligned),
        cmocka_unit_test(test_orgdomain_bounds),
        cmocka_unit_test(test_orgdomain_bad_list),
        cmocka_unit_test(test_orgdomain_refused),
    };
    int failed;

    psl_source = CONF_DEFAULT_PSL;
    failed = cmocka_run_group_tests_name("packaged list", tests, setup, teardown);
    psl_source = "";
    return failed + cmocka_run_group_tests_name("libpsl built-in list", tests, setup, teardown);
}

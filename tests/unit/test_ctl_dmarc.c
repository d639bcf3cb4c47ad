/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ctl_dmarc.c - unit tests for ctl_dmarc.c: dns-check's records
 * rewritten the RFC 9989 way (pct, rf, ri removed; pct=0 as t=y) and
 * the difference between the RFC 7489 and RFC 9989 views.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_dmarc.h"
#include "testutil.h"

typedef struct fix_case {
    const char *name;
    const char *in;
    const char *out;            /* the record written the RFC 9989 way */
    const char *removed;
    int n;
} FIX_CASE;

static const FIX_CASE fix_cases[] = {
    {"nothing to remove", "v=DMARC1; p=reject; adkim=r", "v=DMARC1; p=reject; adkim=r", "", 0},
    {"pct=100 goes", "v=DMARC1; p=quarantine; pct=100; rua=mailto:d@example.com",
     "v=DMARC1; p=quarantine; rua=mailto:d@example.com", "pct", 1},
    {"pct=0 becomes t=y", "v=DMARC1; p=reject; pct=0", "v=DMARC1; p=reject; t=y", "pct", 1},
    {"pct=0 with t=y already", "v=DMARC1; p=reject; pct = 0 ; t=y", "v=DMARC1; p=reject; t=y", "pct", 1},
    {"rf and ri go, case kept elsewhere", "v=DMARC1;p=none;RF=afrf;ri=86400;sp=Reject",
     "v=DMARC1; p=none; sp=Reject", "RF, ri", 2},
    {"trailing semicolon and blanks", "v=DMARC1; p=none; ri=3600; ", "v=DMARC1; p=none", "ri", 1},
    {"a tag that only starts like one", "v=DMARC1; p=none; rif=1; pctx=2", "v=DMARC1; p=none; rif=1; pctx=2",
     "", 0},
};

static void test_ctl_dmarc_rfc9989(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(fix_cases) / sizeof(fix_cases[0]); i++) {
        const FIX_CASE *c = &fix_cases[i];
        char removed[64];
        BUF out;
        int n;

        buf_init(&out, 1024);
        n = ctl_dmarc_rfc9989(c->in, &out, removed, sizeof(removed));
        if (n != c->n || strcmp(out.data ? out.data : "", c->out) != 0 || strcmp(removed, c->removed) != 0)
            fail_msg("case \"%s\": %d \"%s\" removed \"%s\", want %d \"%s\" removed \"%s\"", c->name, n,
                     out.data ? out.data : "", removed, c->n, c->out, c->removed);
        buf_free(&out);
    }
}

static void test_ctl_dmarc_differ(void **state)
{
    DMARC_CHECK c;
    DMARC_WALK w;
    char why[400];

    (void) state;
    memset(&c, 0, sizeof(c));
    memset(&w, 0, sizeof(w));
    /* RFC 7489 finds nothing, RFC 9989 the PSD's p=reject */
    c.status = DMARC_CHECK_NONE;
    w.status = DMARC_CHECK_FOUND;
    w.policy = DMARC_CHECK_P_REJECT;
    w.policy_tag = "p";
    w.rec.psd = 'y';
    strcpy(w.from_domain, "shop.example");
    strcpy(w.record_domain, "example");
    assert_int_equal(ctl_dmarc_differ(&c, &w, TH_ERR(why)), 1);
    assert_string_equal(why, "RFC 7489: no policy; RFC 9989: p=reject from the PSD _dmarc.example");
    /* the same record and policy: they agree */
    c.status = DMARC_CHECK_FOUND;
    c.policy = DMARC_CHECK_P_REJECT;
    c.policy_tag = "p";
    strcpy(c.record_domain, "example");
    assert_int_equal(ctl_dmarc_differ(&c, &w, TH_ERR(why)), 0);
    /* t=y moved RFC 9989's one step down */
    w.policy = DMARC_CHECK_P_QUARANTINE;
    assert_int_equal(ctl_dmarc_differ(&c, &w, TH_ERR(why)), 1);
    /* both none: agree */
    c.status = w.status = DMARC_CHECK_NONE;
    assert_int_equal(ctl_dmarc_differ(&c, &w, TH_ERR(why)), 0);
    /* DNS trouble on one side only */
    w.status = DMARC_CHECK_TEMPFAIL;
    assert_int_equal(ctl_dmarc_differ(&c, &w, TH_ERR(why)), 1);
    assert_string_equal(why, "RFC 7489: no policy; RFC 9989: DNS trouble");
}

static void test_ctl_dmarc_views(void **state)
{
    DMARC_WALK w;
    char out[600];

    (void) state;
    memset(&w, 0, sizeof(w));
    w.status = DMARC_CHECK_FOUND;
    w.policy = DMARC_CHECK_P_QUARANTINE;
    w.policy_tag = "np";
    w.nonexistent = 1;
    w.rec.testing = 1;
    strcpy(w.from_domain, "gone.example.com");
    strcpy(w.record_domain, "example.com");
    strcpy(w.org_domain, "example.com");
    ctl_dmarc_view9989(&w, out, sizeof(out));
    assert_non_null(strstr(out, "np=quarantine from _dmarc.example.com"));
    assert_non_null(strstr(out, "t=y"));
    assert_non_null(strstr(out, "does not exist"));
    ctl_dmarc_view9989(&w, out, 8);
    assert_true(strlen(out) < 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctl_dmarc_rfc9989),
        cmocka_unit_test(test_ctl_dmarc_differ),
        cmocka_unit_test(test_ctl_dmarc_views),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

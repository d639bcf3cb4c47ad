/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ctl_rpath.c - unit tests for ctl_rpath.c: the return-path domain
 * a ReturnPath template gives a From domain, and whether receivers can
 * deliver bounces to it (MX, else A, else AAAA; a null MX; nothing; DNS
 * trouble at each step), through a table resolver; and the MX rdata as
 * dns_lookup() writes it (base/dns.c dns_rdata_mx()): what the check reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_rpath.h"
#include "util.h"

/* One answer of the table: name and type, status, records ("|"-separated). */
typedef struct rr {
    const char *name;
    int         type;
    DNS_STATUS  status;
    const char *recs;
} RR;

typedef struct mx_case {
    const char *name;
    RR          rrs[4];
    CTL_RPATH_MX want;
    const char *detail;
} MX_CASE;

#define D "bounce.shop.example"

static const MX_CASE mx_cases[] = {
    {"an MX", {{D, 15, DNS_OK, "10 relay.shop.example.|20 backup.shop.example."}},
     CTL_RPATH_MX_OK, "MX 10 relay.shop.example., 20 backup.shop.example."},
    {"a null MX", {{D, 15, DNS_OK, "0 ."}}, CTL_RPATH_NULL_MX,
     "null MX (RFC 7505), the domain takes no mail: 0 ."},
    {"no MX, an A", {{D, 15, DNS_NODATA, NULL}, {D, 1, DNS_OK, "192.0.2.10"}}, CTL_RPATH_ADDR,
     "no MX; A 192.0.2.10"},
    {"no MX nor A, an AAAA", {{D, 15, DNS_NODATA, NULL}, {D, 1, DNS_NODATA, NULL},
                              {D, 28, DNS_OK, "2001:db8::10"}}, CTL_RPATH_ADDR,
     "no MX; AAAA 2001:db8::10"},
    {"the name does not exist", {{D, 15, DNS_NXDOMAIN, NULL}, {D, 1, DNS_NXDOMAIN, NULL},
                                 {D, 28, DNS_NXDOMAIN, NULL}}, CTL_RPATH_NONE,
     "no MX, A nor AAAA"},
    {"MX lookup fails", {{D, 15, DNS_TEMPFAIL, NULL}}, CTL_RPATH_DNSERR,
     D " MX: SERVFAIL"},
    {"A lookup fails after no MX", {{D, 15, DNS_NODATA, NULL}, {D, 1, DNS_TEMPFAIL, NULL}},
     CTL_RPATH_DNSERR, D " A: SERVFAIL"},
};

/* table_lookup - the table of the current case (ctx); unlisted: NXDOMAIN */
static void table_lookup(void *ctx, const char *name, int type, DNS_ANSWER *a)
{
    const MX_CASE *c = ctx;

    memset(a, 0, sizeof(*a));
    a->status = DNS_NXDOMAIN;
    for (size_t i = 0; i < 4 && c->rrs[i].name; i++) {
        const RR *r = &c->rrs[i];

        if (strcmp(r->name, name) != 0 || r->type != type)
            continue;
        a->status = r->status;
        if (r->status == DNS_TEMPFAIL)
            snprintf(a->why, sizeof(a->why), "SERVFAIL");
        for (const char *p = r->recs; p && *p && a->n < DNS_MAX_RR;) {
            size_t n = strcspn(p, "|");

            a->rec[a->n++] = xstrndup(p, n);
            p += n + (p[n] == '|');
        }
        return;
    }
}

static void test_mx(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(mx_cases) / sizeof(mx_cases[0]); i++) {
        const MX_CASE *c = &mx_cases[i];
        char detail[512];
        CTL_RPATH_MX v = ctl_rpath_mx(table_lookup, (void *) c, D, detail, sizeof(detail));

        if (v != c->want || strcmp(detail, c->detail) != 0)
            fail_msg("case \"%s\": %s \"%s\", want %s \"%s\"", c->name, ctl_rpath_mx_str(v),
                     detail, ctl_rpath_mx_str(c->want), c->detail);
    }
}

static void test_domain(void **state)
{
    char out[300];

    (void) state;
    assert_int_equal(ctl_rpath_domain("bounces+%{token}@bounce.%{domain}", "Shop.Example", out,
                                      sizeof(out)), 0);
    assert_string_equal(out, "bounce.shop.example");
    assert_int_equal(ctl_rpath_domain("b+%{token}@rp.relay.example", "shop.example", out,
                                      sizeof(out)), 0);
    assert_string_equal(out, "rp.relay.example");
    assert_int_equal(ctl_rpath_domain("b+%{token}@%{domain}", "shop.example", out, sizeof(out)), 0);
    assert_string_equal(out, "shop.example");
    assert_int_equal(ctl_rpath_domain("b+%{token}@bounce.%{domain}", "shop.example", out, 8), -1);
}

typedef struct rdata_case {
    const char *name;
    const char *rdata;
    size_t      len;
    const char *want;           /* NULL: not an MX */
} RDATA_CASE;

#define RD(s) s, sizeof(s) - 1

static const RDATA_CASE rdata_cases[] = {
    {"an MX", RD("\x00\x0a\x05" "relay\x02" "rp\x07" "example\x03" "org\x00"), "10 relay.rp.example.org."},
    {"preference 65535", RD("\xff\xff\x01x\x00"), "65535 x."},
    {"a null MX", RD("\x00\x00\x00"), "0 ."},
    {"odd bytes in a label", RD("\x00\x01\x03" "a b\x02\xc3\xa9\x00"), "1 a?b.??."},
    {"a compression pointer", RD("\x00\x0a\xc0\x0c"), NULL},
    {"a label past the end", RD("\x00\x0a\x05rel"), NULL},
    {"no root label", RD("\x00\x0a\x03" "abc"), NULL},
    {"only a preference", RD("\x00\x0a"), NULL},
    {"empty", RD(""), NULL},
};

static void test_rdata_mx(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(rdata_cases) / sizeof(rdata_cases[0]); i++) {
        const RDATA_CASE *c = &rdata_cases[i];
        char *got = dns_rdata_mx((const unsigned char *) c->rdata, c->len);

        if ((got == NULL) != (c->want == NULL) || (got && strcmp(got, c->want) != 0))
            fail_msg("case \"%s\": \"%s\", want \"%s\"", c->name, got ? got : "(null)",
                     c->want ? c->want : "(null)");
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mx),
        cmocka_unit_test(test_rdata_mx),
        cmocka_unit_test(test_domain),
    };

    return cmocka_run_group_tests_name("ctl_rpath", tests, NULL, NULL);
}

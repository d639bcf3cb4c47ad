/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_unsubd_metrics.c - unit tests for unsubd_metrics_stream(): the
 * stream label of txmilter_unsubd_unsubscribes_total is a signing domain
 * as configured, or "other" for any stream a sending application made up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"
#include "unsubd_metrics.h"

typedef struct stream_case {
    const char *name;
    const char *stream;         /* as a token carries it */
    const char *want;           /* the label */
} STREAM_CASE;

static const STREAM_CASE stream_cases[] = {
    {"address of a signing domain", "news@example.com", "example.com"},
    {"case ignored, spelled as configured", "news@EXAMPLE.Com", "example.com"},
    {"UnsubscribeScope domain: the stream is the domain", "shop.example.org", "shop.example.org"},
    {"the last @ counts", "a@b@example.com", "example.com"},
    {"subdomain of a signing domain", "news@sub.example.com", "other"},
    {"parent of a signing domain", "news@example.org", "other"},
    {"made-up domain", "news@made-up1.example", "other"},
    {"domain suffix only", "news@xexample.com", "other"},
    {"nothing after @", "news@", "other"},
    {"empty", "", "other"},
    {"none", NULL, "other"},
};

/* test_stream - one stream against the configured domains */
static void test_stream(void **state)
{
    const STREAM_CASE *c = *state;
    STRV domains;
    const char *got;

    strv_init(&domains);
    strv_add(&domains, "example.com");
    strv_add(&domains, "shop.example.org");
    got = unsubd_metrics_stream(&domains, c->stream);
    if (strcmp(got, c->want) != 0)
        fail_msg("case \"%s\": label \"%s\", want \"%s\"", c->name, got, c->want);
    strv_free(&domains);
}

/* test_no_domains - without signing domains every stream is "other" */
static void test_no_domains(void **state)
{
    STRV none;

    (void) state;
    strv_init(&none);
    assert_string_equal(unsubd_metrics_stream(&none, "news@example.com"), "other");
    strv_free(&none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_domains),
    };
    int rc = RUN("unsubd_metrics_stream", test_stream, stream_cases);

    return rc | cmocka_run_group_tests_name("unsubd metrics", tests, NULL, NULL);
}

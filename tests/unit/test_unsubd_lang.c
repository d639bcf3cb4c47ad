/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_unsubd_lang.c - unit tests for unsubd_lang.c: which language an
 * Accept-Language header picks among txmilter-unsubd's (as browsers
 * send it, with weights, regions, wildcards, exclusions and garbage),
 * and which Accept headers ask for an HTML answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"
#include "unsubd_lang.h"

static const char *const langs[] = {"en", "fr", "id", "de", "es"};

typedef struct pick_case {
    const char *name;
    const char *header;
    const char *want;           /* NULL: none acceptable (-1) */
} PICK_CASE;

static const PICK_CASE pick_cases[] = {
    {"absent", NULL, NULL},
    {"empty", "", NULL},
    {"french", "fr", "fr"},
    {"chromium-fr", "fr,en-US;q=0.9,en;q=0.8", "fr"},
    {"region", "fr-CA", "fr"},
    {"region-case", "FR-ca", "fr"},
    {"weights", "de;q=0.5, es;q=0.7, en;q=0.6", "es"},
    {"weight-no-decimals", "de;q=1, en;q=0", "de"},
    {"first-of-equal", "es;q=0.8, de;q=0.8", "es"},
    {"repeated-first-counts", "fr;q=0, fr, de;q=0.1", "de"},
    {"unknown-only", "ja, zh-CN;q=0.9", NULL},
    {"unknown-then-known", "ja, de;q=0.1", "de"},
    {"wildcard", "*", "en"},
    {"wildcard-low", "ja, *;q=0.1", "en"},
    {"wildcard-excludes", "*, en;q=0", "fr"},
    {"excluded", "fr;q=0", NULL},
    {"specific-overrides-wildcard", "*;q=0.9, es;q=0.1", "en"},
    {"exact-over-region", "fr-CA;q=0.2, fr;q=0.9, de;q=0.5", "fr"},
    {"exact-zero-over-region", "fr-CA, fr;q=0, de;q=0.5", "de"},
    {"indonesian", "id-ID,id;q=0.9", "id"},
    {"indonesian-old-code", "in", "id"},
    {"spaces", "  es ; q=0.4 ,\tde;q=0.3 ", "es"},
    {"q-three-decimals", "de;q=0.001, en;q=0.002", "en"},
    {"q-four-decimals-skipped", "de;q=0.0001, es;q=0.5", "es"},
    {"q-above-one-skipped", "de;q=1.5, es;q=0.5", "es"},
    {"q-one-point-five-zero", "de;q=1.000, es", "de"},
    {"q-empty-skipped", "de;q=, es;q=0.2", "es"},
    {"q-upper", "de;Q=0.9, es;q=0.5", "de"},
    {"other-param-skipped", "de;level=1, es;q=0.2", "es"},
    {"bad-range-skipped", "d e, fr_FR, es;q=0.3", "es"},
    {"long-subtag-skipped", "deutschland, de-abcdefghi, es;q=0.3", "es"},
    {"digit-primary-skipped", "1de, es;q=0.3", "es"},
    {"digit-subtag", "es-419", "es"},
    {"empty-elements", ",,, ,de", "de"},
    {"trailing-dash", "de-, es;q=0.3", "es"},
    {"prefix-is-not-match", "fre, esp;q=0.9, e", NULL},
    {"many-elements",
     "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,aa,ab,ac,ad,ae,af,de", NULL},
    {"thirty-second-counts",
     "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,aa,ab,ac,ad,ae,de", "de"},
};

static void test_pick(void **state)
{
    const PICK_CASE *c = *state;
    int i = unsubd_lang_pick(c->header, langs, sizeof(langs) / sizeof(langs[0]));

    if (c->want == NULL)
        assert_int_equal(i, -1);
    else {
        assert_true(i >= 0);
        assert_string_equal(langs[i], c->want);
    }
}

/* A header far over the bound is read up to it, without overrun. */
static void test_pick_long(void **state)
{
    size_t n = UNSUBD_LANG_HEADER_MAX * 2;
    char *h = malloc(n + 1);

    (void) state;
    memset(h, ' ', n);
    memcpy(h, "xx;q=0.1,", 9);
    memcpy(h + n - 2, "de", 2);         /* beyond the bound: not seen */
    h[n] = 0;
    assert_int_equal(unsubd_lang_pick(h, langs, 5), -1);
    memcpy(h + 20, "es", 2);
    assert_string_equal(langs[unsubd_lang_pick(h, langs, 5)], "es");
    free(h);
}

typedef struct html_case {
    const char *name;
    const char *accept;
    int want;
} HTML_CASE;

static const HTML_CASE html_cases[] = {
    {"absent", NULL, 0},
    {"curl", "*/*", 0},
    {"chromium", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
     "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7", 1},
    {"firefox", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 1},
    {"xhtml-only", "application/xhtml+xml", 1},
    {"html-refused", "text/html;q=0, text/plain", 0},
    {"html-with-param", "text/html;level=1;q=0.5", 1},
    {"case", "Text/HTML", 1},
    {"plain", "text/plain", 0},
    {"html-prefix-only", "text/htmlx", 0},
    {"bad-q-skipped", "text/html;q=2", 0},
};

static void test_html(void **state)
{
    const HTML_CASE *c = *state;

    assert_int_equal(unsubd_lang_wants_html(c->accept), c->want);
}

int main(void)
{
    const struct CMUnitTest single[] = {
        cmocka_unit_test(test_pick_long),
    };
    int failed = 0;

    failed += RUN("unsubd_lang_pick", test_pick, pick_cases);
    failed += RUN("unsubd_lang_wants_html", test_html, html_cases);
    failed += cmocka_run_group_tests_name("unsubd_lang_bounds", single, NULL, NULL);
    return failed ? 1 : 0;
}

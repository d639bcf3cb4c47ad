/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_unsub_msg.c - unit tests for unsub_msg.c: recognising unsubscribe
 * requests by mail and the token of an unsubscribe URL, exemptions, what a recipient unsubscribes from, and
 * the List-Unsubscribe value (whose token must open to the recipient and
 * stream it was made for).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "unsub_msg.h"

typedef struct mailto_case {
    const char *name, *tmpl, *rcpt, *token;     /* token NULL: not ours */
} MAILTO_CASE;

static const MAILTO_CASE mailto_cases[] = {
    {"plain", "unsub+%{token}@example.com", "unsub+AbC-_9@example.com", "AbC-_9"},
    {"angle brackets", "unsub+%{token}@example.com", "<unsub+AbC@example.com>", "AbC"},
    {"case of the fixed parts", "unsub+%{token}@example.com", "UNSUB+AbC@Example.COM", "AbC"},
    {"token keeps its case", "u-%{token}-x@example.com", "u-aBc-x@example.com", "aBc"},
    {"other local part", "unsub+%{token}@example.com", "sales+AbC@example.com", NULL},
    {"other domain", "unsub+%{token}@example.com", "unsub+AbC@example.org", NULL},
    {"empty token", "unsub+%{token}@example.com", "unsub+@example.com", NULL},
    {"not base64url", "unsub+%{token}@example.com", "unsub+a.b@example.com", NULL},
    {"quote in token", "unsub+%{token}@example.com", "unsub+a\"b@example.com", NULL},
    {"shorter than the template", "unsub+%{token}@example.com", "unsub@example.com", NULL},
};

static void test_mailto(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(mailto_cases) / sizeof(mailto_cases[0]); i++) {
        const MAILTO_CASE *c = &mailto_cases[i];
        char token[64];
        int got = unsub_mailto_token(c->tmpl, c->rcpt, token, sizeof(token));

        if (got != (c->token != NULL))
            fail_msg("case \"%s\": matched=%d", c->name, got);
        if (got && strcmp(token, c->token) != 0)
            fail_msg("case \"%s\": token \"%s\"", c->name, token);
    }
    {
        char small[4];

        assert_int_equal(unsub_mailto_token("u+%{token}@x", "u+ABCDEFGH@x", small, sizeof(small)), 0);
    }
}

static const MAILTO_CASE url_cases[] = {
    {"plain", "https://unsub.example.com/u/%{token}", "https://unsub.example.com/u/AbC-_9", "AbC-_9"},
    {"domain placeholder", "https://unsub.%{domain}/u/%{token}", "https://unsub.shop.example/u/Xy",
     "Xy"},
    {"case of the fixed parts", "https://unsub.%{domain}/u/%{token}",
     "HTTPS://Unsub.Example.COM/U/aBc", "aBc"},
    {"query after the token", "https://x.example/u/%{token}?s=1", "https://x.example/u/Q1?s=1",
     "Q1"},
    {"other host", "https://unsub.example.com/u/%{token}", "https://evil.example/u/AbC", NULL},
    {"other path", "https://unsub.%{domain}/u/%{token}", "https://unsub.example.com/x/AbC", NULL},
    {"empty token", "https://unsub.example.com/u/%{token}", "https://unsub.example.com/u/", NULL},
    {"more after the token", "https://unsub.example.com/u/%{token}",
     "https://unsub.example.com/u/AbC/more", NULL},
    {"http, not https", "https://unsub.example.com/u/%{token}", "http://unsub.example.com/u/AbC",
     NULL},
    {"empty domain", "https://unsub.%{domain}/u/%{token}", "https://unsub./u/AbC", NULL},
    {"shorter than the template", "https://unsub.example.com/u/%{token}", "https://unsub", NULL},
};

static void test_url(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
        const MAILTO_CASE *c = &url_cases[i];
        char token[64];
        int got = unsub_url_token(c->tmpl, c->rcpt, token, sizeof(token));

        if (got != (c->token != NULL))
            fail_msg("case \"%s\": matched=%d", c->name, got);
        if (got && strcmp(token, c->token) != 0)
            fail_msg("case \"%s\": token \"%s\"", c->name, token);
    }
    {
        char small[4];

        assert_int_equal(unsub_url_token("https://x.example/%{token}", "https://x.example/ABCDEFGH",
                                         small, sizeof(small)), 0);
    }
}

static void test_exempt(void **state)
{
    STRV p;

    (void) state;
    strv_init(&p);
    strv_add(&p, "reset@example.com");
    strv_add(&p, "*@auth.example.com");
    strv_add(&p, "codes.example.org");
    assert_true(unsub_exempt(&p, "reset@example.com", "example.com"));
    assert_false(unsub_exempt(&p, "news@example.com", "example.com"));
    assert_true(unsub_exempt(&p, "otp@auth.example.com", "auth.example.com"));
    assert_true(unsub_exempt(&p, "anyone@codes.example.org", "codes.example.org"));
    assert_false(unsub_exempt(&p, "anyone@sub.codes.example.org", "sub.codes.example.org"));
    strv_free(&p);
}

static void test_stream_and_header(void **state)
{
    char dir[] = "/tmp/txunsubmsg.XXXXXX", path[300], stream[128];
    TXCONF *cf = conf_defaults();
    UNSUB_KEYS *keys;
    UNSUB_PAYLOAD p;
    BUF errs, value, err;
    FILE *fp;
    char token[UNSUB_TOKEN_MAX], why[64];
    const char *lt, *gt;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/keys", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("7 MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n", fp);
    fclose(fp);
    assert_int_equal(chmod(path, 0600), 0);
    buf_init(&errs, 1024);
    keys = unsub_keys_load(path, &errs);
    if (keys == NULL)
        fail_msg("keys: %s", errs.data);

    unsub_stream(cf, "News", "Shop.Example", stream, sizeof(stream));
    assert_string_equal(stream, "news@shop.example");
    cf->unsub.scope_domain = 1;
    unsub_stream(cf, "News", "Shop.Example", stream, sizeof(stream));
    assert_string_equal(stream, "shop.example");
    cf->unsub.scope_domain = 0;
    unsub_stream(cf, "news", "shop.example", stream, sizeof(stream));

    cf->unsub.url = xstrdup("https://unsub.%{domain}/u/%{token}");
    buf_init(&value, 2048);
    buf_init(&err, 512);
    assert_int_equal(unsub_header_value(cf->unsub.url, cf->unsub.mailto, keys, "bob@example.org", stream,
                                        "shop.example", 1800000000, &value, &err), 0);
    /* one https URI, no mailto */
    assert_true(strncmp(value.data, "<https://unsub.shop.example/u/", 30) == 0);
    assert_null(strchr(value.data, ','));
    lt = value.data + 30;
    gt = strchr(lt, '>');
    assert_non_null(gt);
    assert_true((size_t) (gt - lt) < sizeof(token));
    memcpy(token, lt, (size_t) (gt - lt));
    token[gt - lt] = 0;
    assert_null(strstr(token, "bob"));                  /* opaque */
    assert_int_equal(unsub_token_open(keys, token, 0, 1800000001, &p, why, sizeof(why)), 0);
    assert_string_equal(p.rcpt, "bob@example.org");
    assert_string_equal(p.stream, "news@shop.example");

    /* with a mailto: folded onto a second line, same token */
    cf->unsub.mailto = xstrdup("unsub+%{token}@shop.example");
    assert_int_equal(unsub_header_value(cf->unsub.url, cf->unsub.mailto, keys, "bob@example.org", stream,
                                        "shop.example", 1800000000, &value, &err), 0);
    assert_non_null(strstr(value.data, ">,\n\t<mailto:unsub+"));
    assert_non_null(strstr(value.data, "@shop.example?subject=unsubscribe>"));
    assert_non_null(strstr(value.data, token));

    buf_free(&value);
    buf_free(&err);
    buf_free(&errs);
    unsub_keys_free(keys);
    conf_free(cf);
    unlink(path);
    rmdir(dir);
}

/* UnsubscribeTable: per sender domain templates, first match, defaults after */
static void test_routes(void **state)
{
    char path[] = "/tmp/txunsubroutes.XXXXXX";
    int fd = mkstemp(path);
    const char *table = "# brand domains\n"
        "brand-a.example https://u.brand-a.example/x/%{token}\n"
        "*.brand-b.example https://unsub.brand-b.example/%{token} u-%{token}@brand-b.example\n";
    const char *bad = "c.example ftp://x/%{token}\nd.example https://d/%{token} nomailto\n"
        "e.example\n";
    TXCONF *cf = conf_defaults();
    UNSUB_ROUTES *rt;
    const char *url, *mailto;
    BUF errs;

    (void) state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, table, strlen(table)), (ssize_t) strlen(table));
    close(fd);
    buf_init(&errs, 4096);
    rt = unsub_routes_load(path, "conf:9", &errs);
    if (rt == NULL)
        fail_msg("routes: %s", errs.data);
    cf->unsub.url = xstrdup("https://unsub.example.com/%{token}");
    unsub_route_for(rt, cf, "brand-a.example", &url, &mailto);
    assert_string_equal(url, "https://u.brand-a.example/x/%{token}");
    assert_null(mailto);
    unsub_route_for(rt, cf, "mail.brand-b.example", &url, &mailto);
    assert_string_equal(url, "https://unsub.brand-b.example/%{token}");
    assert_string_equal(mailto, "u-%{token}@brand-b.example");
    unsub_route_for(rt, cf, "other.example", &url, &mailto);
    assert_string_equal(url, "https://unsub.example.com/%{token}");
    assert_null(mailto);
    unsub_routes_free(rt);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t) strlen(bad));
    close(fd);
    buf_reset(&errs);
    assert_null(unsub_routes_load(path, "conf:9", &errs));
    for (int line = 1; line <= 3; line++) {
        char want[64];

        snprintf(want, sizeof(want), "%s:%d: expected", path, line);
        if (strstr(errs.data, want) == NULL)
            fail_msg("no error for line %d: %s", line, errs.data);
    }
    buf_free(&errs);
    conf_free(cf);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mailto),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_exempt),
        cmocka_unit_test(test_stream_and_header),
        cmocka_unit_test(test_routes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

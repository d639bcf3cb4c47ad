/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_unsubd_head.c - unit tests for unsubd_head.c, the check of a
 * whole request before libmicrohttpd sees it: a table of requests with
 * what each is (more to come, whole, or refused with which status), and
 * every prefix of good requests (never refused, whole only at the end);
 * the X-Forwarded-For values it notes for the gate (unsubd_head_xff());
 * and unsubd_answer.c, the answer the gate writes for a refused one.
 * Requests may hold "{X<n>}" (n 'x' bytes) and "{NUL}" (th_expand()).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"
#include "unsubd_answer.h"
#include "unsubd_head.h"

#define H "Host: unsub.example.com\r\n"
#define FORM "Content-Type: application/x-www-form-urlencoded\r\n"

typedef struct head_case {
    const char *name;
    const char *in;
    enum unsubd_head_state want;
    unsigned status;            /* BAD */
    size_t  body;               /* OK: Content-Length */
} HEAD_CASE;

static const HEAD_CASE head_cases[] = {
    /* whole and good */
    {"get", "GET /u/AbC HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_OK, 0, 0},
    {"http10-no-host", "GET /u/AbC HTTP/1.0\r\n\r\n", UNSUBD_HEAD_OK, 0, 0},
    {"bare-lf", "GET /u/AbC HTTP/1.1\n" H "\n", UNSUBD_HEAD_OK, 0, 0},
    {"post", "POST /u/AbC HTTP/1.1\r\n" H FORM "Content-Length: 26\r\n\r\nList-Unsubscribe=One-Click",
     UNSUBD_HEAD_OK, 0, 26},
    {"leading-crlf", "\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_OK, 0, 0},
    {"trailing-crlf", "POST / HTTP/1.1\r\n" H "Content-Length: 1\r\n\r\nx\r\n", UNSUBD_HEAD_OK, 0, 1},
    {"obs-text-value", "GET / HTTP/1.1\r\n" H "X-A: caf\xc3\xa9\r\n\r\n", UNSUBD_HEAD_OK, 0, 0},
    {"expect-continue", "POST / HTTP/1.1\r\n" H "Expect: 100-Continue\r\nContent-Length: 1\r\n\r\nx",
     UNSUBD_HEAD_OK, 0, 1},
    {"other-method", "DELETE /u/x HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_OK, 0, 0},
    {"percent-target", "GET /u/%41%00 HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_OK, 0, 0},
    {"longest-target", "GET /{X1023} HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_OK, 0, 0},
    {"largest-body", "POST / HTTP/1.1\r\n" H "Content-Length: 4096\r\n\r\n{X4096}", UNSUBD_HEAD_OK, 0, 4096},
    /* not yet whole */
    {"empty", "", UNSUBD_HEAD_MORE, 0, 0},
    {"method", "GE", UNSUBD_HEAD_MORE, 0, 0},
    {"half-line", "GET /u/Ab", UNSUBD_HEAD_MORE, 0, 0},
    {"line-cr", "GET /u/Ab HTTP/1.1\r", UNSUBD_HEAD_MORE, 0, 0},
    {"no-empty-line", "GET / HTTP/1.1\r\n" H, UNSUBD_HEAD_MORE, 0, 0},
    {"body-short", "POST / HTTP/1.1\r\n" H "Content-Length: 10\r\n\r\nabc", UNSUBD_HEAD_MORE, 0, 0},
    /* refused */
    {"garbage", "GARBAGE\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"lowercase-version", "GET / http/1.1\r\n" H "\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"version-2", "GET / HTTP/2.0\r\n" H "\r\n", UNSUBD_HEAD_BAD, 505, 0},
    {"version-09", "GET / HTTP/0.9\r\n\r\n", UNSUBD_HEAD_BAD, 505, 0},
    {"version-long", "GET / HTTP/1.10\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"long-method", "{X21} / HTTP/1.1\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"long-method-unfinished", "{X30}", UNSUBD_HEAD_BAD, 400, 0},
    {"two-spaces", "GET  / HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"absolute-form", "GET http://x/ HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"asterisk", "OPTIONS * HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"ctl-in-target", "GET /u/\x01 HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"8bit-target", "GET /u/\xc3\xa9 HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"uri-too-long", "GET /{X1024} HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_BAD, 414, 0},
    {"uri-too-long-unfinished", "GET /{X2000}", UNSUBD_HEAD_BAD, 414, 0},
    {"headers-too-large", "GET / HTTP/1.1\r\n" H "X-A: {X17000}\r\n\r\n", UNSUBD_HEAD_BAD, 431, 0},
    {"headers-too-large-unfinished", "GET / HTTP/1.1\r\n" H "X-A: {X17000}", UNSUBD_HEAD_BAD, 431, 0},
    {"too-many-fields", "GET / HTTP/1.1\r\n" H
     "a:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\n"
     "a:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\n"
     "a:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\n"
     "a:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\n"
     "a:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\n"
     "a:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\n"
     "a:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\na:1\r\n\r\n",
     UNSUBD_HEAD_BAD, 431, 0},
    {"no-host", "GET / HTTP/1.1\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"two-hosts", "GET / HTTP/1.1\r\n" H H "\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"space-before-colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"no-colon", "GET / HTTP/1.1\r\n" H "Junk\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"folded", "GET / HTTP/1.1\r\n" H "X-A: b\r\n c\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"nul-in-field", "GET / HTTP/1.1\r\n" H "X-A: b{NUL}c\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"cr-in-field", "GET / HTTP/1.1\r\n" H "X-A: b\rc\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"del-in-field", "GET / HTTP/1.1\r\n" H "X-A: b\x7f\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"bad-length", "POST / HTTP/1.1\r\n" H "Content-Length: 1x\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"empty-length", "POST / HTTP/1.1\r\n" H "Content-Length: \r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"negative-length", "POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"two-lengths", "POST / HTTP/1.1\r\n" H "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx",
     UNSUBD_HEAD_BAD, 400, 0},
    {"length-too-large", "POST / HTTP/1.1\r\n" H "Content-Length: 4097\r\n\r\n", UNSUBD_HEAD_BAD, 413, 0},
    {"length-huge", "POST / HTTP/1.1\r\n" H "Content-Length: 123456789012345678901234\r\n\r\n",
     UNSUBD_HEAD_BAD, 413, 0},
    {"chunked", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", UNSUBD_HEAD_BAD, 411, 0},
    {"chunked-and-length", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
     UNSUBD_HEAD_BAD, 400, 0},
    {"expect-other", "POST / HTTP/1.1\r\n" H "Expect: x\r\n\r\n", UNSUBD_HEAD_BAD, 417, 0},
    {"pipelined", "GET / HTTP/1.1\r\n" H "\r\nGET / HTTP/1.1\r\n" H "\r\n", UNSUBD_HEAD_BAD, 400, 0},
    {"body-too-long", "POST / HTTP/1.1\r\n" H "Content-Length: 1\r\n\r\nxy", UNSUBD_HEAD_BAD, 400, 0},
};

/* test_head - one request as a whole */
static void test_head(void **state)
{
    const HEAD_CASE *c = *state;
    size_t len;
    char *in = th_expand(c->in, &len);
    UNSUBD_HEAD h;

    assert_int_equal(unsubd_head_check(in, len, &h), c->want);
    if (c->want == UNSUBD_HEAD_BAD) {
        assert_int_equal(h.status, c->status);
        assert_non_null(h.result);
        assert_string_not_equal(unsubd_head_reason(h.status), "Error");
    }
    if (c->want == UNSUBD_HEAD_OK)
        assert_int_equal(h.body_len, c->body);
    assert_non_null(memchr(h.method, 0, sizeof(h.method)));
    assert_non_null(memchr(h.target, 0, sizeof(h.target)));
    free(in);
}

/* test_prefixes - every prefix of every good request is MORE, the whole OK */
static void test_prefixes(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]); i++) {
        size_t len;
        char *in;
        UNSUBD_HEAD h;

        if (head_cases[i].want != UNSUBD_HEAD_OK || strstr(head_cases[i].name, "trailing"))
            continue;
        in = th_expand(head_cases[i].in, &len);
        for (size_t k = 0; k < len; k++)
            if (unsubd_head_check(in, k, &h) != UNSUBD_HEAD_MORE)
                fail_msg("%s: prefix of %zu bytes is not MORE", head_cases[i].name, k);
        assert_int_equal(unsubd_head_check(in, len, &h), UNSUBD_HEAD_OK);
        free(in);
    }
}

/* A whole request and the X-Forwarded-For the gate reads from it. */
typedef struct xff_case {
    const char *name;
    const char *in;
    const char *want;           /* joined as libmicrohttpd's values; "" none */
} XFF_CASE;

static const XFF_CASE xff_cases[] = {
    {"none", "GET /u/x HTTP/1.1\r\n" H "\r\n", ""},
    {"one", "GET /u/x HTTP/1.1\r\n" H "X-Forwarded-For: 192.0.2.7\r\n\r\n", "192.0.2.7"},
    {"trimmed", "GET /u/x HTTP/1.1\r\n" H "X-Forwarded-For: \t 192.0.2.7 \t\r\n\r\n", "192.0.2.7"},
    {"any-case", "GET /u/x HTTP/1.1\r\n" H "x-forwarded-FOR: 2001:db8::1\r\n\r\n", "2001:db8::1"},
    {"list", "GET /u/x HTTP/1.1\r\n" H "X-Forwarded-For: 6.6.6.6, 192.0.2.7\r\n\r\n",
     "6.6.6.6, 192.0.2.7"},
    {"two-fields-in-order", "GET /u/x HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\n" H
     "X-Forwarded-For: 192.0.2.7\r\n\r\n", "6.6.6.6,192.0.2.7"},
    {"empty-value", "GET /u/x HTTP/1.1\r\n" H "X-Forwarded-For:\r\n\r\n", ""},
    {"similar-name", "GET /u/x HTTP/1.1\r\n" H "X-Forwarded-Fo: 6.6.6.6\r\nX-Forwarded-Form: 6.6.6.7\r\n"
     "\r\n", ""},
    {"bare-lf", "GET /u/x HTTP/1.1\n" H "X-Forwarded-For: 192.0.2.7\n\n", "192.0.2.7"},
    {"post-body-not-read", "POST /u/x HTTP/1.1\r\n" H "Content-Length: 26\r\n\r\nX-Forwarded-For: 6.6.6.6\r\n",
     ""},
};

/* test_xff - each X-Forwarded-For value, trimmed and joined in order; a bound too small is -1 */
static void test_xff(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(xff_cases) / sizeof(xff_cases[0]); i++) {
        const char *in = xff_cases[i].in;
        UNSUBD_HEAD h;
        BUF b;

        if (unsubd_head_check(in, strlen(in), &h) != UNSUBD_HEAD_OK)
            fail_msg("%s: not a whole good request", xff_cases[i].name);
        buf_init(&b, 1024);
        assert_int_equal(unsubd_head_xff(&h, in, &b), 0);
        if (strcmp(b.len ? b.data : "", xff_cases[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", xff_cases[i].name, b.len ? b.data : "",
                     xff_cases[i].want);
        buf_free(&b);
    }
    {
        const char *in = xff_cases[5].in;
        UNSUBD_HEAD h;
        BUF b;

        assert_int_equal(unsubd_head_check(in, strlen(in), &h), UNSUBD_HEAD_OK);
        buf_init(&b, 10);                   /* the first fits, the second not */
        assert_int_equal(unsubd_head_xff(&h, in, &b), -1);
        assert_string_equal(b.data, "6.6.6.6");
        buf_free(&b);
    }
}

/* test_answer - the gate's answer: status line, every field, the body, bounded */
static void test_answer(void **state)
{
    BUF b;

    (void) state;
    buf_init(&b, 4096);
    assert_int_equal(unsubd_answer_raw(&b, 431, unsubd_head_reason(431), NULL, "Too large.\n"), 0);
    assert_true(strncmp(b.data, "HTTP/1.1 431 Request Header Fields Too Large\r\n", 46) == 0);
    assert_non_null(strstr(b.data, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(b.data, "\r\nContent-Length: 11\r\n"));
    assert_non_null(strstr(b.data, "\r\nContent-Security-Policy: default-src 'none';"));
    for (const UNSUBD_HEADER *h = unsubd_answer_headers; h->name; h++) {
        char line[512];

        snprintf(line, sizeof(line), "\r\n%s: %s\r\n", h->name, h->value);
        assert_non_null(strstr(b.data, line));
    }
    assert_non_null(strstr(b.data, "\r\nConnection: close\r\n"));
    assert_string_equal(strstr(b.data, "\r\n\r\n"), "\r\n\r\nToo large.\n");
    buf_free(&b);
    buf_init(&b, 100);                      /* too small: -1, no overflow */
    assert_int_equal(unsubd_answer_raw(&b, 400, "Bad Request", NULL, "x"), -1);
    buf_free(&b);
    buf_init(&b, 4096);
    assert_int_equal(unsubd_answer_raw(&b, 429, unsubd_head_reason(429), "1", "Later.\n"), 0);
    assert_non_null(strstr(b.data, "\r\nRetry-After: 1\r\n"));
    assert_null(strstr(strstr(b.data, "\r\n\r\n"), "Retry-After"));
    buf_free(&b);
    buf_init(&b, 4096);
    assert_int_equal(unsubd_answer_raw(&b, 431, unsubd_head_reason(431), NULL, "x"), 0);
    assert_null(strstr(b.data, "Retry-After"));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest single[] = {
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_xff),
        cmocka_unit_test(test_answer),
    };
    int failed = 0;

    failed += RUN("unsubd_head_check", test_head, head_cases);
    failed += cmocka_run_group_tests_name("unsubd_head_prefixes", single, NULL, NULL);
    return failed ? 1 : 0;
}

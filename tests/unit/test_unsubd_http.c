/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_unsubd_http.c - unit tests for unsubd_http.c, txmilter-unsubd's
 * request logic: tables of paths, one-click bodies (RFC 8058, as Gmail
 * and as multipart senders write them, and hostile ones), client
 * addresses behind proxies, log paths, masked addresses and the page.
 * Bodies may hold "{X<n>}" (n 'x' bytes) and "{NUL}" (th_expand()).
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
#include "netlist.h"
#include "unsubd_http.h"
#include "util.h"

/* ---- paths ---- */

typedef struct path_case {
    const char *name;
    const char *url;
    enum unsubd_path want;
} PATH_CASE;

static const PATH_CASE path_cases[] = {
    {"token", "/u/AbC-_09", UNSUBD_PATH_TOKEN},
    {"root", "/", UNSUBD_PATH_OTHER},
    {"other", "/unsubscribe/x", UNSUBD_PATH_OTHER},
    {"no-slash-u", "/u", UNSUBD_PATH_OTHER},
    {"empty-token", "/u/", UNSUBD_PATH_BADTOKEN},
    {"slash-in-token", "/u/abc/def", UNSUBD_PATH_BADTOKEN},
    {"trailing-slash", "/u/abc/", UNSUBD_PATH_BADTOKEN},
    {"dot", "/u/abc.def", UNSUBD_PATH_BADTOKEN},
    {"percent", "/u/abc%41", UNSUBD_PATH_BADTOKEN},
    {"plus-padding", "/u/abc+/=", UNSUBD_PATH_BADTOKEN},
    {"max-length", "/u/{X255}", UNSUBD_PATH_TOKEN},
    {"too-long", "/u/{X256}", UNSUBD_PATH_BADTOKEN},
    {"upper-U", "/U/abc", UNSUBD_PATH_OTHER},
};

static void test_path(void **state)
{
    const PATH_CASE *c = *state;
    char *url = th_expand(c->url, NULL);
    const char *tok;

    assert_int_equal(unsubd_http_path(url, &tok), c->want);
    if (c->want == UNSUBD_PATH_TOKEN)
        assert_ptr_equal(tok, url + 3);
    else
        assert_null(tok);
    free(url);
}

/* ---- log paths: never a whole token ---- */

typedef struct logpath_case {
    const char *name;
    const char *url;
    const char *want;
} LOGPATH_CASE;

static const LOGPATH_CASE logpath_cases[] = {
    {"long-token", "/u/AbCdEfGhIjKlMnOp", "/u/AbCdEfGh..."},
    {"short-token", "/u/AbCd", "/u/AbCd"},
    {"eight", "/u/AbCdEfGh", "/u/AbCdEfGh"},
    {"nine", "/u/AbCdEfGhI", "/u/AbCdEfGh..."},
    {"double-slash", "//u/AbCdEfGhIjKlMnOp", "//u/AbCdEfGh..."},
    {"token-elsewhere", "/x/AbCdEfGhIjKl/y.z", "/x/AbCdEfGh.../y.z"},
    {"two-runs", "/AbCdEfGhIj.KlMnOpQrSt", "/AbCdEfGh....KlMnOpQr..."},
    {"other", "/favicon.ico", "/favicon.ico"},
    {"long-other", "/{X200}", "/xxxxxxxx..."},
    {"many-short", "/{R40}", "/a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a..."},
    /* found by tests/fuzz/fuzz_unsubd_http: a cut run's "..." near the end
     * left no room, and the next character wrote past out */
    {"cut-run-at-the-end", "/a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a..AbCdEfGhI/x",
     "/a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a..AbCdEfGh..."},
};

static void test_logpath(void **state)
{
    const LOGPATH_CASE *c = *state;
    char *url, out[UNSUBD_LOGPATH_MAX];

    if (strcmp(c->url, "/{R40}") == 0) {        /* 40 times "a." after the slash */
        url = xstrdup("/a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.");
    } else {
        url = th_expand(c->url, NULL);
    }
    unsubd_http_logpath(url, out, sizeof(out));
    assert_string_equal(out, c->want);
    free(url);
}

/* ---- one-click bodies ---- */

#define URLENC "application/x-www-form-urlencoded"
#define MP(b) "multipart/form-data; boundary=" b

typedef struct body_case {
    const char *name;
    const char *ctype;          /* NULL: no Content-Type */
    const char *body;
    int         want;
} BODY_CASE;

static const BODY_CASE body_cases[] = {
    /* application/x-www-form-urlencoded */
    {"gmail", URLENC, "List-Unsubscribe=One-Click", 1},
    {"charset-param", URLENC "; charset=UTF-8", "List-Unsubscribe=One-Click", 1},
    {"ctype-case", "Application/X-WWW-Form-URLencoded", "List-Unsubscribe=One-Click", 1},
    {"trailing-crlf", URLENC, "List-Unsubscribe=One-Click\r\n", 1},
    {"percent-encoded", URLENC, "List%2DUnsubscribe=One%2dClick", 1},
    {"other-fields", URLENC, "a=b&List-Unsubscribe=One-Click&c=", 1},
    {"value-case", URLENC, "list-unsubscribe=one-click", 1},
    {"empty", URLENC, "", 0},
    {"wrong-value", URLENC, "List-Unsubscribe=Yes", 0},
    {"no-value", URLENC, "List-Unsubscribe", 0},
    {"prefix-only", URLENC, "List-Unsubscribe=One-Click-Not", 0},
    {"bad-percent", URLENC, "List-Unsubscribe=One-Click%", 0},
    {"bad-percent-hex", URLENC, "List-Unsubscribe=One-Click%zz", 0},
    {"nul-escape", URLENC, "List-Unsubscribe=One-Click%00", 0},
    {"long-field", URLENC, "{X3000}=One-Click", 0},
    {"raw-nul", URLENC, "List-Unsubscribe=One{NUL}-Click", 0},
    /* multipart/form-data (curl -F, browsers) */
    {"multipart", MP("XyZ"),
     "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n", 1},
    {"multipart-quoted-boundary", "multipart/form-data; boundary=\"a b\"",
     "--a b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--a b--\r\n", 1},
    {"multipart-second-part", MP("q"),
     "--q\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n--r\r\n-q\r\n"
     "--q\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\nContent-Type: text/plain\r\n\r\n"
     "One-Click\r\n--q--\r\n", 1},
    {"multipart-preamble", MP("q"),
     "preamble\r\n--q\r\nContent-Disposition: form-data; name=List-Unsubscribe\r\n\r\nOne-Click\r\n--q--", 1},
    {"multipart-lf", MP("q"),
     "--q\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\n\nOne-Click\n--q--\n", 1},
    {"multipart-wrong-value", MP("q"),
     "--q\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nNo\r\n--q--\r\n", 0},
    {"multipart-wrong-name", MP("q"),
     "--q\r\nContent-Disposition: form-data; name=\"List-Unsubscribe-Post\"\r\n\r\nOne-Click\r\n--q--\r\n", 0},
    {"multipart-no-boundary-param", "multipart/form-data",
     "--q\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--q--\r\n", 0},
    {"multipart-other-boundary", MP("r"),
     "--q\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--q--\r\n", 0},
    {"multipart-unterminated", MP("q"),
     "--q\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click", 0},
    {"multipart-no-headers-end", MP("q"),
     "--q\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\nOne-Click\r\n--q--\r\n", 0},
    {"multipart-long-boundary", MP("{X71}"), "--{X71}\r\n\r\n--{X71}--", 0},
    {"multipart-urlencoded-inside", MP("q"), "List-Unsubscribe=One-Click", 0},
    /* other media types */
    {"no-ctype", NULL, "List-Unsubscribe=One-Click", 0},
    {"text-plain", "text/plain", "List-Unsubscribe=One-Click", 0},
    {"json", "application/json", "{\"List-Unsubscribe\":\"One-Click\"}", 0},
    {"urlencoded-prefix", URLENC "x", "List-Unsubscribe=One-Click", 0},
};

static void test_body(void **state)
{
    const BODY_CASE *c = *state;
    size_t len;
    char *body = th_expand(c->body, &len), *ctype = c->ctype ? th_expand(c->ctype, NULL) : NULL;
    char why[128] = "";

    assert_int_equal(unsubd_http_one_click(ctype, body, len, why, sizeof(why)), c->want);
    if (!c->want)
        assert_true(why[0] != 0);
    free(body);
    free(ctype);
}

/* ---- the client behind proxies ---- */

typedef struct client_case {
    const char *name;
    const char *peer;
    const char *xff;
    const char *trusted;        /* NULL: trust nobody */
    const char *want;
} CLIENT_CASE;

static const CLIENT_CASE client_cases[] = {
    {"direct", "192.0.2.7", NULL, "127.0.0.1", "192.0.2.7"},
    {"direct-ignores-xff", "192.0.2.7", "198.51.100.1", "127.0.0.1", "192.0.2.7"},
    {"proxy", "127.0.0.1", "198.51.100.1", "127.0.0.1", "198.51.100.1"},
    {"proxy-no-xff", "127.0.0.1", NULL, "127.0.0.1", "127.0.0.1"},
    {"proxy-spoof-left", "127.0.0.1", "6.6.6.6, 198.51.100.1", "127.0.0.1", "198.51.100.1"},
    {"two-proxies", "127.0.0.1", "198.51.100.1, 10.0.0.2", "127.0.0.1, 10.0.0.0/8", "198.51.100.1"},
    {"all-trusted", "127.0.0.1", "10.0.0.3, 10.0.0.2", "127.0.0.1, 10.0.0.0/8", "10.0.0.3"},
    {"garbage-xff", "127.0.0.1", "not-an-ip", "127.0.0.1", "127.0.0.1"},
    {"garbage-left", "127.0.0.1", "junk, 198.51.100.1", "127.0.0.1", "198.51.100.1"},
    {"ipv6-xff", "::1", "2001:db8::1", "::1", "2001:db8::1"},
    {"ipv6-bracketed", "::1", "[2001:db8::1]", "::1", "2001:db8::1"},
    {"mapped-peer", "::ffff:127.0.0.1", "198.51.100.1", "127.0.0.1", "198.51.100.1"},
    {"mapped-direct", "::ffff:192.0.2.9", NULL, NULL, "192.0.2.9"},
    {"trust-nobody", "127.0.0.1", "198.51.100.1", NULL, "127.0.0.1"},
    {"no-peer", NULL, "198.51.100.1", "127.0.0.1", "unknown"},
    {"long-xff", "127.0.0.1", "{X2000}", "127.0.0.1", "127.0.0.1"},
    /* a header over 1 KB still yields its right-most entry (issue 12) */
    {"long-xff-right-end", "127.0.0.1", "{X2000}, 198.51.100.3", "127.0.0.1", "198.51.100.3"},
    /* two lines joined by the caller: the client's own, then the proxy's */
    {"joined-lines", "127.0.0.1", "6.6.6.6,198.51.100.4", "127.0.0.1", "198.51.100.4"},
};

static void test_client(void **state)
{
    const CLIENT_CASE *c = *state;
    char *xff = c->xff ? th_expand(c->xff, NULL) : NULL, out[UNSUBD_IP_MAX];
    NETLIST *nl = NULL;
    BUF errs;

    buf_init(&errs, 4096);
    if (c->trusted)
        assert_non_null(nl = netlist_build(c->trusted, "test", &errs));
    unsubd_http_client(c->peer, xff, nl, out, sizeof(out));
    assert_string_equal(out, c->want);
    if (nl)
        netlist_free(nl);
    buf_free(&errs);
    free(xff);
}

/* ---- rate keys, masks, escaping ---- */

typedef struct str_case {
    const char *name;
    const char *in;
    const char *want;
} STR_CASE;

static const STR_CASE ratekey_cases[] = {
    {"v4", "192.0.2.7", "unsubd|client=192.0.2.7"},
    {"v6-64", "2001:db8:1:2:3:4:5:6", "unsubd|client=2001:db8:1:2::/64"},
    {"unknown", "unknown", "unsubd|client=unknown"},
};

static void test_ratekey(void **state)
{
    const STR_CASE *c = *state;
    char out[256];

    unsubd_http_ratekey(c->in, out, sizeof(out));
    assert_string_equal(out, c->want);
}

static const STR_CASE mask_cases[] = {
    {"plain", "john@example.org", "j***@example.org"},
    {"one-char", "j@example.org", "j***@example.org"},
    {"no-at", "john", "***"},
    {"leading-at", "@example.org", "***"},
};

static void test_mask(void **state)
{
    const STR_CASE *c = *state;
    char out[64];

    unsubd_http_mask(c->in, out, sizeof(out));
    assert_string_equal(out, c->want);
}

static const STR_CASE escape_cases[] = {
    {"plain", "news@shop.example", "news@shop.example"},
    {"markup", "<script>\"x\"&'y'", "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;"},
};

static void test_escape(void **state)
{
    const STR_CASE *c = *state;
    BUF b;

    buf_init(&b, 1024);
    assert_int_equal(unsubd_http_html_escape(&b, c->in), 0);
    assert_string_equal(b.data ? b.data : "", c->want);
    buf_free(&b);
}

/* The page: a POST form with the one-click field, the stream escaped, no action. */
static void test_page(void **state)
{
    BUF b;

    (void) state;
    buf_init(&b, 8192);
    assert_int_equal(unsubd_http_confirm_page(&b, "<evil>@shop.example", "j***@example.org"), 0);
    assert_non_null(strstr(b.data, "<form method=\"post\""));
    assert_non_null(strstr(b.data, "name=\"List-Unsubscribe\" value=\"One-Click\""));
    assert_non_null(strstr(b.data, "&lt;evil&gt;@shop.example"));
    assert_null(strstr(b.data, "<evil>"));
    assert_null(strstr(b.data, "action="));
    buf_free(&b);
    buf_init(&b, 100);                      /* too small: -1, no overflow */
    assert_int_equal(unsubd_http_confirm_page(&b, "news@shop.example", "j***@example.org"), -1);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest single[] = {
        cmocka_unit_test(test_page),
    };
    int failed = 0;

    failed += RUN("unsubd_http_path", test_path, path_cases);
    failed += RUN("unsubd_http_logpath", test_logpath, logpath_cases);
    failed += RUN("unsubd_http_one_click", test_body, body_cases);
    failed += RUN("unsubd_http_client", test_client, client_cases);
    failed += RUN("unsubd_http_ratekey", test_ratekey, ratekey_cases);
    failed += RUN("unsubd_http_mask", test_mask, mask_cases);
    failed += RUN("unsubd_http_html_escape", test_escape, escape_cases);
    failed += cmocka_run_group_tests_name("unsubd_http_page", single, NULL, NULL);
    return failed ? 1 : 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_unsubd_http.c - unit tests for unsubd_http.c, txmilter-unsubd's
 * request logic: tables of paths, one-click bodies (RFC 8058, as Gmail
 * and as multipart senders write them, and hostile ones), client
 * addresses behind proxies, log paths and masked addresses (the pages:
 * test_unsubd_page.c).
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

/* ---- one-click form fields (the post processor's pieces) ---- */

typedef struct form_case {
    const char *name;
    const char *fields;         /* "key=value|key=value": each value handed over in 3-byte pieces */
    int         want;
} FORM_CASE;

static const FORM_CASE form_cases[] = {
    {"one-click", "List-Unsubscribe=One-Click", 1},
    {"case", "list-unsubscribe=one-click", 1},
    {"white-space", "List-Unsubscribe= One-Click \r\n", 1},
    {"other-fields", "a=b|List-Unsubscribe=One-Click|c=", 1},
    {"second-of-two", "List-Unsubscribe=No|List-Unsubscribe=One-Click", 1},
    {"wrong-value", "List-Unsubscribe=Yes", 0},
    {"prefix-only", "List-Unsubscribe=One-Click-Not", 0},
    {"inner-space", "List-Unsubscribe=One- Click", 0},
    {"nul", "List-Unsubscribe=One-Click{NUL}", 0},
    {"too-long", "List-Unsubscribe=One-Click{X80}", 0},
    {"long-white-space", "List-Unsubscribe=                                                    "
     "                    One-Click", 0},
    {"other-name", "List-Unsubscribe-Post=One-Click", 0},
    {"none", "", 0},
};

/* test_form - feed the fields as the post processor does, in small pieces */
static void test_form(void **state)
{
    const FORM_CASE *c = *state;
    size_t len;
    char *in = th_expand(c->fields, &len), why[128] = "";
    UNSUBD_FORM f;
    size_t at = 0;

    memset(&f, 0, sizeof(f));
    while (at < len) {
        size_t end = at, eq;
        char key[128];

        while (end < len && in[end] != '|')
            end++;
        for (eq = at; eq < end && in[eq] != '='; eq++)
            ;
        assert_true(eq < end && eq - at < sizeof(key));
        memcpy(key, in + at, eq - at);
        key[eq - at] = 0;
        for (size_t off = 0; off == 0 || eq + 1 + off < end; off += 3) {
            size_t n = end - (eq + 1 + off) < 3 ? end - (eq + 1 + off) : 3;

            unsubd_http_form_feed(&f, key, off, in + eq + 1 + off, n);
        }
        at = end + 1;
    }
    assert_int_equal(unsubd_http_form_done(&f, TH_ERR(why)), c->want);
    if (!c->want)
        assert_true(why[0] != 0);
    free(in);
}

typedef struct ftype_case {
    const char *name;
    const char *ctype;
    enum unsubd_form_type want;
} FTYPE_CASE;

static const FTYPE_CASE ftype_cases[] = {
    {"gmail", "application/x-www-form-urlencoded", UNSUBD_FORM_URLENCODED},
    {"charset", "application/x-www-form-urlencoded; charset=UTF-8", UNSUBD_FORM_URLENCODED},
    {"case", "Application/X-WWW-Form-URLencoded", UNSUBD_FORM_URLENCODED},
    {"multipart", "multipart/form-data; boundary=x", UNSUBD_FORM_MULTIPART},
    {"multipart-bare", " multipart/form-data", UNSUBD_FORM_MULTIPART},
    {"none", NULL, UNSUBD_FORM_NONE},
    {"text", "text/plain", UNSUBD_FORM_OTHER},
    {"json", "application/json", UNSUBD_FORM_OTHER},
    {"prefix", "application/x-www-form-urlencodedx", UNSUBD_FORM_OTHER},
};

/* test_ftype - the media types of a one-click POST */
static void test_ftype(void **state)
{
    const FTYPE_CASE *c = *state;

    assert_int_equal(unsubd_http_form_type(c->ctype), c->want);
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

int main(void)
{
    int failed = 0;

    failed += RUN("unsubd_http_path", test_path, path_cases);
    failed += RUN("unsubd_http_logpath", test_logpath, logpath_cases);
    failed += RUN("unsubd_http_form", test_form, form_cases);
    failed += RUN("unsubd_http_form_type", test_ftype, ftype_cases);
    failed += RUN("unsubd_http_client", test_client, client_cases);
    failed += RUN("unsubd_http_ratekey", test_ratekey, ratekey_cases);
    failed += RUN("unsubd_http_mask", test_mask, mask_cases);
    return failed ? 1 : 0;
}

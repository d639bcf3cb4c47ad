/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_unsubd_http.c - libFuzzer target: the request logic of
 * txmilter-unsubd (unsubd/unsubd_http.c): the request path, the
 * form type and the one-click field collector (fed in pieces as
 * libmicrohttpd's post processor feeds it; the body parser itself is
 * libmicrohttpd's), the client behind X-Forwarded-For, the log fields,
 * and the built-in pages in the language line 2 picks, naming the
 * stream.
 *
 * Input lines: 1 the path, 2 Content-Type ("-" for none), 3
 * X-Forwarded-For ("-" for none), 4 the peer address; the rest is a
 * field value (it may hold anything, NUL bytes too), handed over in
 * pieces whose sizes its first byte chooses.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "netlist.h"
#include "unsubd_http.h"
#include "unsubd_page.h"
#include "util.h"

static NETLIST *trusted;
static UNSUBD_PAGES *pages;

/* fuzz_setup - the trusted proxies, the built-in pages */
void fuzz_setup(void)
{
    BUF errs;

    buf_init(&errs, 4096);
    if ((trusted = netlist_build("127.0.0.1, ::1, 10.0.0.0/8, 2001:db8::/32", NULL, &errs)) == NULL
        || (pages = unsubd_page_load(NULL, NULL, 0, &errs)) == NULL)
        abort();
    buf_free(&errs);
}

/* body_of - where the body starts: after the fourth LF */
static size_t body_of(const uint8_t *data, size_t size)
{
    size_t at = 0;

    for (int i = 0; i < 4; i++) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);

        if (nl == NULL)
            return size;
        at = (size_t) (nl - data) + 1;
    }
    return at;
}

/* tags_of - how many '<' page kind has, naming stream and rcpt; -1 if it does not fit */
static long tags_of(const UNSUBD_PAGES *ps, int kind, int lang, const char *stream, const char *rcpt)
{
    char csp[UNSUBD_CSP_MAX];
    long n = 0;
    BUF page;

    buf_init(&page, UNSUBD_PAGE_MAX);
    if (unsubd_page_render(ps, (enum unsubd_page_kind) kind, lang, stream, rcpt, &page, csp, sizeof(csp)) < 0)
        n = -1;
    for (size_t i = 0; n >= 0 && i < page.len; i++)
        n += page.data[i] == '<';
    buf_free(&page);
    return n;
}

/* LLVMFuzzerTestOneInput - one request */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[5], logpath[UNSUBD_LOGPATH_MAX], ip[UNSUBD_IP_MAX], key[UNSUBD_IP_MAX];
    char why[128] = "", masked[256];
    UNSUBD_FORM form;
    const char *token = NULL, *ctype, *xff;
    size_t at;
    char *body;

    if (size > FUZZ_MAX_INPUT)
        return -1;
    (void) fuzz_split(data, size, "\n", part, 5);
    if (unsubd_http_path(part[0], &token) == UNSUBD_PATH_TOKEN
        && (token == NULL || token < part[0] || token > part[0] + strlen(part[0])))
        abort();
    unsubd_http_logpath(part[0], logpath, sizeof(logpath));
    if (memchr(logpath, 0, sizeof(logpath)) == NULL)
        abort();
    ctype = strcmp(part[1], "-") == 0 ? NULL : part[1];
    xff = strcmp(part[2], "-") == 0 ? NULL : part[2];
    /* the body as bytes, exactly as libmicrohttpd hands it over */
    at = body_of(data, size);
    body = xmalloc(size - at + 1);
    memcpy(body, data + at, size - at);
    (void) unsubd_http_form_type(ctype);
    memset(&form, 0, sizeof(form));
    for (size_t off = 0, step = size - at > 0 ? (unsigned char) body[0] % 16 + 1 : 1;
         off == 0 || off < size - at; off += step)
        unsubd_http_form_feed(&form, part[4], off, body + off,
                              size - at - off < step ? size - at - off : step);
    if (unsubd_http_form_done(&form, FUZZ_ERR(why)) == 0 && why[0] == 0)
        abort();                /* a refusal without a reason */
    free(body);
    unsubd_http_client(part[3], xff, trusted, ip, sizeof(ip));
    unsubd_http_client(part[3], xff, NULL, ip, sizeof(ip));
    if (ip[0] == 0)
        abort();                /* at least "unknown" */
    unsubd_http_ratekey(ip, key, sizeof(key));
    unsubd_http_ratekey(part[3], key, sizeof(key));
    unsubd_http_mask(part[4], masked, sizeof(masked));
    /* the pages, naming the stream: never its markup unescaped (as many '<' as with a plain one) */
    for (int k = 0; k < UNSUBD_PAGE_NKINDS; k++) {
        int lang = unsubd_page_lang(part[1]);

        if (tags_of(pages, k, lang, part[4], masked) != tags_of(pages, k, lang, "news@shop.example", "n***@x"))
            abort();
    }
    fuzz_free_parts(part, 5);
    return 0;
}

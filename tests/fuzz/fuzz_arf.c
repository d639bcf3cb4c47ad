/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_arf.c - libFuzzer target: feedback reports (policy/bounce/arf.c,
 * mime.c), read from whole messages sent to a ComplaintAddress, and the
 * List-Unsubscribe URIs of the enclosed original (arf_uris(),
 * arf_mailto_addr(), unsub_url_token() and unsub_mailto_token() with the
 * templates of the pipeline's tests), and the whole input read as
 * quoted-printable (mime_qp(), which decodes such originals).
 *
 * Input: a message. The result's strings must be terminated within their
 * fields, a status must be one of the enum's and word itself, a token
 * found must be a non-empty run of token characters that the URI holds,
 * quoted-printable must never be refused when max is the input's length
 * and never grow, and nothing may read past the input (an exact-size
 * copy, ASan).
 */
#include <stdlib.h>
#include <string.h>

#include "arf.h"
#include "fuzz.h"
#include "mime.h"
#include "unsub_msg.h"

#define TERMINATED(f) (memchr((f), 0, sizeof(f)) != NULL)

/* fuzz_setup - nothing to prepare */
void fuzz_setup(void)
{
}

/* check_token - a token found in uri: base64url characters, in uri */
static void check_token(const char *token, const char *uri)
{
    size_t n = strlen(token);

    if (n == 0 || strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != n
        || strstr(uri, token) == NULL)
        abort();
}

/* check_uris - every URI of the original's List-Unsubscribe through the token readers */
static void check_uris(const ARF_REPORT *r)
{
    char uris[ARF_URIS_MAX][ARF_URI_MAX], addr[ARF_URI_MAX], token[256];
    size_t n = arf_uris(r->list_unsub, uris, ARF_URIS_MAX);

    if (n > ARF_URIS_MAX)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (!TERMINATED(uris[i]) || uris[i][0] == 0)
            abort();
        if (unsub_url_token("https://unsub.%{domain}/u/%{token}", uris[i], token, sizeof(token)))
            check_token(token, uris[i]);
        if (arf_mailto_addr(uris[i], addr, sizeof(addr)) == 0) {
            if (!TERMINATED(addr) || addr[0] == 0)
                abort();
            if (unsub_mailto_token("unsub+%{token}@example.com", addr, token, sizeof(token)))
                check_token(token, addr);
        }
    }
}

/* check_qp - the input as quoted-printable, cut or not: decoded, no longer, terminated */
static void check_qp(const char *in, size_t size)
{
    char *out;
    size_t n;

    for (int cut = 0; cut < 2; cut++) {
        if (mime_qp(in, size, size, cut, &out, &n) != 0 || out == NULL || n > size || out[n] != 0)
            abort();
        free(out);
    }
    if (size > 0 && mime_qp(in, size, 0, 0, &out, &n) == 0) {
        if (n != 0)
            abort();                            /* max 0 leaves room for nothing */
        free(out);
    }
}

/* LLVMFuzzerTestOneInput - one message */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy;
    ARF_REPORT r;
    ARF_STATUS st;

    if (size > 256 * 1024)
        return -1;
    /* an exact-size copy, so that ASan sees any read past the end */
    if ((copy = malloc(size ? size : 1)) == NULL)
        abort();
    memcpy(copy, data, size);
    st = arf_parse(copy, size, &r);
    check_qp(copy, size);
    free(copy);
    if (st != r.status || st > ARF_ENCODING || arf_status_text(st)[0] == 0
        || !TERMINATED(r.feedback_type) || !TERMINATED(r.user_agent)
        || !TERMINATED(r.reporting_mta) || !TERMINATED(r.reporter) || !TERMINATED(r.arrival_date)
        || !TERMINATED(r.orig_mail_from) || !TERMINATED(r.return_path)
        || !TERMINATED(r.list_unsub) || (r.type != ARF_TYPE_UNKNOWN && r.feedback_type[0] == 0)
        || strcmp(arf_type_name(r.type), "") == 0)
        abort();
    check_uris(&r);
    return 0;
}

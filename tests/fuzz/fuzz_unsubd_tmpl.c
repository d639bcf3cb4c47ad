/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_unsubd_tmpl.c - libFuzzer target: the page templates of
 * txmilter-unsubd (unsubd/unsubd_tmpl.c), as an operator's
 * UnsubscribeTemplateDirectory may hold them.
 *
 * Input: byte 0 says whether the template is a confirmation page (bit
 * 1: it must hold %{form}); the rest is the template. Aborts on a
 * refusal without a reason, on a value rendered unescaped, and on a
 * style-src that is not a list of hashes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "unsubd_tmpl.h"

/* LLVMFuzzerTestOneInput - one template */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const vals[UNSUBD_TMPL_NVARS] = {
        "fr", "<t>", "<h>", "<m>", "<n>", "<s>@x", "<r>", "<form></form>",
    };
    UNSUBD_TMPL *t;
    BUF errs, out;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return -1;
    buf_init(&errs, 64 * 1024);
    t = unsubd_tmpl_compile((const char *) data + 1, size - 1, "t.html", data[0] & 1, &errs);
    if (t == NULL && errs.len == 0)
        abort();
    if (t != NULL) {
        const char *st = unsubd_tmpl_styles(t);

        if (st[0] && strncmp(st, "'sha256-", 8) != 0)
            abort();
        buf_init(&out, 4 * UNSUBD_TMPL_MAX);
        if (unsubd_tmpl_render(t, vals, &out) == 0 && out.data != NULL
            && (strstr(out.data, "<s>@x") != NULL || strstr(out.data, "<r>") != NULL)
            && memmem(data + 1, size - 1, "<s>@x", 5) == NULL && memmem(data + 1, size - 1, "<r>", 3) == NULL)
            abort();                        /* a value came out unescaped */
        buf_free(&out);
        unsubd_tmpl_free(t);
    }
    buf_free(&errs);
    return 0;
}

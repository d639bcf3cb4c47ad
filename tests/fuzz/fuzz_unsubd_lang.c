/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_unsubd_lang.c - libFuzzer target: txmilter-unsubd's content
 * negotiation (unsubd/unsubd_lang.c): Accept-Language as any client
 * may send it, and Accept.
 *
 * Input: line 1 Accept-Language, the rest Accept (both may hold
 * anything; a NUL byte ends the header as it would in the daemon).
 * Aborts on a pick outside the list, or one that q=0 excluded.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "unsubd_lang.h"

static const char *const langs[] = {"en", "fr", "id", "de", "es"};

/* LLVMFuzzerTestOneInput - one pair of headers */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[2], *excl;
    int i, html;
    size_t n;

    if (size > FUZZ_MAX_INPUT)
        return -1;
    (void) fuzz_split(data, size, "\n", part, 2);
    i = unsubd_lang_pick(part[0], langs, 5);
    if (i < -1 || i >= 5)
        abort();
    /* the same header with the winner excluded at the front never picks it again,
     * as long as the exclusion is read (the element bound) */
    if (i >= 0 && (n = strlen(part[0])) < 1000) {
        excl = malloc(n + 16);
        strcpy(excl, langs[i]);
        strcat(excl, ";q=0,");
        strcat(excl, part[0]);
        if (unsubd_lang_pick(excl, langs, 5) == i)
            abort();
        free(excl);
    }
    html = unsubd_lang_wants_html(part[1]);
    if (html != 0 && html != 1)
        abort();
    fuzz_free_parts(part, 2);
    return 0;
}

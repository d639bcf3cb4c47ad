/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_dsn.c - libFuzzer target: delivery status notifications
 * (policy/bounce/dsn.c), read from whole messages sent to a return path.
 *
 * Input: a message. It is read with and without a wanted recipient; the
 * result's strings must be terminated within their fields, a class and
 * an enclosed original's Message-ID (without blanks) must go with a DSN,
 * and dsn_parse() must never read past the input (ASan).
 */
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "fuzz.h"

/* fuzz_setup - nothing to prepare */
void fuzz_setup(void)
{
}

/* check - the invariants of a result */
static void check(int rc, const DSN_RESULT *r)
{
    if (rc != r->is_dsn || (!rc && r->cls != DSN_CLASS_NONE)
        || memchr(r->status, 0, sizeof(r->status)) == NULL
        || memchr(r->diagnostic, 0, sizeof(r->diagnostic)) == NULL
        || memchr(r->final_rcpt, 0, sizeof(r->final_rcpt)) == NULL
        || memchr(r->action, 0, sizeof(r->action)) == NULL
        || memchr(r->orig_msgid, 0, sizeof(r->orig_msgid)) == NULL
        || (!rc && r->orig_msgid[0] != 0) || strpbrk(r->orig_msgid, " \t") != NULL
        || dsn_classify(r->action, r->status) != (rc ? r->cls : dsn_classify(r->action, r->status)))
        abort();
}

/* LLVMFuzzerTestOneInput - one message */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy;
    DSN_RESULT r;

    if (size > 256 * 1024)
        return -1;
    /* an exact-size copy, so that ASan sees any read past the end */
    if ((copy = malloc(size ? size : 1)) == NULL)
        abort();
    memcpy(copy, data, size);
    check(dsn_parse(copy, size, NULL, &r), &r);
    check(dsn_parse(copy, size, "bob@example.org", &r), &r);
    free(copy);
    return 0;
}

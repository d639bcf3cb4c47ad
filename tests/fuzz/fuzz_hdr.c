/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_hdr.c - libFuzzer target: the From parser hdr_parse_mailboxes()
 * (base/hdr.c), and the other helpers that take a header field's
 * bytes: hdr_signing_form(), hdr_valid_name(), hdr_strip_cr().
 *
 * The input is a field value as the MTA hands it over (leading white
 * space, LF between folded lines).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hdr.h"
#include "util.h"

/* LLVMFuzzerTestOneInput - one field value */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HDR_ADDR first;
    char *value;
    int n;
    BUF b;

    if (size > FUZZ_MAX_INPUT)
        return -1;
    value = fuzz_str(data, size);
    memset(&first, 0x55, sizeof(first));
    n = hdr_parse_mailboxes(value, &first);
    if (n < HDR_ERR_IDN)
        abort();                /* a refusal is one of the HDR_ERR_* codes (HDR_ERR_IDN the lowest) */
    if (n < 0 && hdr_strerror(n)[0] == 0)
        abort();                /* and says why */
    if (n > 0 && (memchr(first.local, 0, sizeof(first.local)) == NULL
                  || memchr(first.domain, 0, sizeof(first.domain)) == NULL))
        abort();                /* the first mailbox must be NUL-terminated */
    buf_init(&b, 128 * 1024);
    (void) hdr_signing_form(&b, "From", value);
    buf_free(&b);
    (void) hdr_valid_name(value);
    hdr_strip_cr(value);
    if (strchr(value, '\r') != NULL)
        abort();
    free(value);
    return 0;
}

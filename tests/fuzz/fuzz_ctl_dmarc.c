/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ctl_dmarc.c - libFuzzer target: txmilterctl dns-check's rewrite of
 * a published DMARC record without pct, rf and ri (ctl/ctl_dmarc.c).
 *
 * Input: the TXT record as DNS gives it. Promises checked: the result
 * fits, names no removed tag, parses as a DMARC record when the input
 * did, and rewriting it again removes nothing and changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl_dmarc.h"
#include "dmarc_rec.h"
#include "fuzz.h"

void fuzz_setup(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char removed[64], removed2[64];
    char *rec;
    BUF out, again;
    int n;

    if (size > 4096)
        return 0;
    rec = fuzz_str(data, size);
    buf_init(&out, 8192);
    buf_init(&again, 8192);
    n = ctl_dmarc_rfc9989(rec, &out, removed, sizeof(removed));
    if (n < 0 || strlen(removed) >= sizeof(removed))
        abort();
    if (n > 0 && removed[0] == 0)
        abort();
    if (dmarc_rec_is_dmarc(rec) && !dmarc_rec_is_dmarc(out.data ? out.data : ""))
        abort();
    if (ctl_dmarc_rfc9989(out.data ? out.data : "", &again, removed2, sizeof(removed2)) != 0)
        abort();
    if (strcmp(out.data ? out.data : "", again.data ? again.data : "") != 0)
        abort();
    buf_free(&out);
    buf_free(&again);
    free(rec);
    return 0;
}

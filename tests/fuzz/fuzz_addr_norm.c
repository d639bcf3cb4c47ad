/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_addr_norm.c - libFuzzer target: recipient normalisation
 * (base/addr_norm.c) under several RecipientDelimiter settings.
 *
 * The input is one address as given at RCPT TO. A result must fit its
 * buffer, hold no upper case ASCII, and normalise to itself if it
 * normalises again (the rate key of a normalised address is that
 * address).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr_norm.h"
#include "fuzz.h"
#include "util.h"

/* LLVMFuzzerTestOneInput - one address under each delimiter setting */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ADDR_NORM_OPTS opts[] = {{"+", 1}, {"", 0}, {"+-=", 1}, {NULL, 1}};
    char out[ADDR_NORM_MAX], again[ADDR_NORM_MAX], *addr;
    BUF err;

    if (size > 4096)
        return -1;
    addr = fuzz_str(data, size);
    buf_init(&err, 1024);
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        buf_reset(&err);
        if (addr_norm(addr, &opts[i], out, sizeof(out), &err) < 0) {
            if (err.len == 0)
                abort();        /* a refusal must say why */
            continue;
        }
        if (strlen(out) >= sizeof(out))
            abort();
        for (const char *p = out; *p; p++)
            if (isupper((unsigned char) *p))
                abort();
        (void) addr_domain(out);
        if (out[0] == 0)
            continue;
        buf_reset(&err);
        if (addr_norm(out, &opts[i], again, sizeof(again), &err) == 0 && strcmp(out, again) != 0)
            abort();            /* not idempotent: two keys for one recipient */
    }
    buf_free(&err);
    free(addr);
    return 0;
}

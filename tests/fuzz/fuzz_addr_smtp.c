/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_addr_smtp.c - libFuzzer target: a MAIL FROM or RCPT TO argument
 * read as Postfix's SMTP server reads it (base/addr_smtp.c).
 *
 * The input is one argument as a client sends it. A reading must fit its
 * buffer, a refusal must say why, and the two ways to the rate key must
 * agree: the address read from the argument, handed over as if the MTA
 * had parsed it ({rcpt_addr}), normalises to the same key as the raw
 * argument does (otherwise one recipient would have two keys).
 */
#include <stdlib.h>
#include <string.h>

#include "addr_smtp.h"
#include "fuzz.h"
#include "util.h"

/* LLVMFuzzerTestOneInput - one argument, read both ways */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char read1[ADDR_NORM_MAX], addr1[ADDR_NORM_MAX], norm1[ADDR_NORM_MAX];
    char addr2[ADDR_NORM_MAX], norm2[ADDR_NORM_MAX], bare[64], *arg;
    int rc1, rc2;
    BUF err;

    if (size > 4096)
        return -1;
    arg = fuzz_str(data, size);
    buf_init(&err, 1024);
    if (addr_smtp_extract(arg, read1, sizeof(read1), &err) < 0) {
        if (err.len == 0)
            abort();                /* a refusal must say why */
    } else if (strlen(read1) >= sizeof(read1)) {
        abort();
    }
    buf_reset(&err);
    rc1 = addr_smtp_norm(NULL, arg, NULL, addr1, norm1, &err);
    if (rc1 < 0 && err.len == 0)
        abort();
    if (rc1 == 0) {
        buf_reset(&err);
        rc2 = addr_smtp_norm(addr1, arg, NULL, addr2, norm2, &err);
        if (rc2 != 0 || strcmp(norm1, norm2) != 0)
            abort();                /* the macro's path and the raw path disagree */
    }
    addr_smtp_bare(arg, bare, sizeof(bare));
    if (strlen(bare) >= sizeof(bare))
        abort();
    buf_free(&err);
    free(arg);
    return 0;
}

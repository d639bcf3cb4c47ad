/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_rate_policy.c - libFuzzer target: the rate policy file
 * (policy/rate/rate_policy.c) through rate_policy_load(), and the description
 * of every rule of a policy that loads.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rate_policy.h"
#include "util.h"

/* LLVMFuzzerTestOneInput - one policy file */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    RATE_POLICY *p;
    char desc[1024];
    BUF errs;

    if (size > FUZZ_MAX_INPUT)
        return -1;
    buf_init(&errs, 64 * 1024);
    p = rate_policy_load(fuzz_file("policy", data, size), &errs);
    if (p != NULL) {
        if (p->n > RATE_POLICY_RULES_MAX)
            abort();
        for (size_t i = 0; i < p->n; i++) {
            const RATE_RULE *r = &p->rule[i];

            if (r->limit < 1 || r->period_ms < 1000 || r->keys == 0 || r->name[0] == 0)
                abort();
            (void) rate_policy_describe(r, desc, sizeof(desc));
            (void) rate_policy_describe(r, desc, 8); /* a short buffer must cut, not overflow */
        }
        rate_policy_free(p);
    } else if (errs.len == 0) {
        abort();
    }
    buf_free(&errs);
    return 0;
}

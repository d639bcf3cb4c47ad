/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_rp_token.c - libFuzzer target: return-path tokens
 * (policy/unsub/rp_token.c), the local part a bounce comes back to.
 *
 * Keys: the fixed test keys of fuzz_token_keys() (ids 1 and 7; 7 seals).
 * Input: line 1 is opened as a token; lines 2, 3 and 4 are a recipient, a
 * stream and a sender, sealed and opened again (also upper-cased): the
 * round trip must give them back; neither token type may open as the other.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rp_token.h"
#include "unsub_token.h"
#include "util.h"

static UNSUB_KEYS *keys;

/* fuzz_setup - load the test keys */
void fuzz_setup(void)
{
    keys = fuzz_token_keys();
}

/* LLVMFuzzerTestOneInput - one token opened, one round trip */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[4], token[RP_TOKEN_MAX], err[128];
    RP_PAYLOAD p;
    UNSUB_PAYLOAD up;

    if (size > 4096)
        return -1;
    (void) fuzz_split(data, size, "\n", part, 4);
    if (rp_token_open(keys, part[0], 0, FUZZ_NOW, &p, FUZZ_ERR(err)) == 0) {
        if (p.rcpt[0] == 0 || p.stream[0] == 0 || (p.key_id != 1 && p.key_id != 7))
            abort();
    } else if (err[0] == 0 || p.rcpt[0] != 0) {
        abort();
    }
    if (rp_token_seal(keys, part[1], part[2], part[3], FUZZ_NOW, token, sizeof(token)) == 0) {
        if (rp_token_open(keys, token, 0, FUZZ_NOW, &p, NULL) != 0
            || strcmp(p.rcpt, part[1]) != 0 || strcmp(p.stream, part[2]) != 0
            || strcmp(p.sender, part[3]) != 0 || p.issued != FUZZ_NOW || p.key_id != 7)
            abort();
        if (unsub_token_open(keys, token, 0, FUZZ_NOW, &up, NULL) == 0)
            abort();            /* a return-path token is no unsubscribe token */
        for (char *q = token; *q; q++)
            if (*q >= 'a' && *q <= 'z')
                *q = (char) (*q - 'a' + 'A');
        if (rp_token_open(keys, token, 0, FUZZ_NOW, &p, NULL) != 0)
            abort();
    }
    fuzz_free_parts(part, 4);
    return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_unsub_token.c - libFuzzer target: List-Unsubscribe tokens
 * (policy/unsub/unsub_token.c) and the token in an unsubscribe address
 * (unsub_mailto_token() of unsub_msg.c).
 *
 * Keys: the fixed test keys of fuzz_token_keys() (ids 1 and 7; 7 seals).
 * Input: line 1 is opened as a token (as txmilter-unsubd does with a
 * path) and read as a recipient of the UnsubscribeMailto templates, the
 * token found there opened too; lines 2 and 3 are a recipient and a
 * stream, sealed and opened again: the round trip must give them back.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "unsub_msg.h"
#include "unsub_token.h"
#include "util.h"

static UNSUB_KEYS *keys;

/* fuzz_setup - load the test keys */
void fuzz_setup(void)
{
    keys = fuzz_token_keys();
}

/* open_token - open with and without a maximum age; a success must be a whole payload */
static void open_token(const char *token)
{
    UNSUB_PAYLOAD p;
    char err[128];

    for (int age = 0; age < 2; age++) {
        if (unsub_token_open(keys, token, age ? 86400 : 0, FUZZ_NOW, &p, FUZZ_ERR(err)) == 0) {
            if (p.rcpt[0] == 0 || p.stream[0] == 0 || (p.key_id != 1 && p.key_id != 7)
                || memchr(p.rcpt, 0, sizeof(p.rcpt)) == NULL
                || memchr(p.stream, 0, sizeof(p.stream)) == NULL)
                abort();
        } else if (err[0] == 0) {
            abort();
        }
    }
}

/* LLVMFuzzerTestOneInput - one token, address and round trip */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const tmpl[] = {"unsub+%{token}@example.com", "%{token}@u.example",
                                       "u-%{token}-x@example.com", "no token here"};
    char *part[3], token[UNSUB_TOKEN_MAX];
    UNSUB_PAYLOAD p;

    if (size > 4096)
        return -1;
    (void) fuzz_split(data, size, "\n", part, 3);
    open_token(part[0]);
    for (size_t i = 0; i < sizeof(tmpl) / sizeof(tmpl[0]); i++) {
        if (unsub_mailto_token(tmpl[i], part[0], token, sizeof(token)) == 1) {
            if (memchr(token, 0, sizeof(token)) == NULL || token[0] == 0)
                abort();
            open_token(token);
        }
    }
    if (unsub_token_seal(keys, part[1], part[2], FUZZ_NOW, token, sizeof(token)) == 0) {
        if (unsub_token_open(keys, token, 0, FUZZ_NOW, &p, NULL) != 0
            || strcmp(p.rcpt, part[1]) != 0 || strcmp(p.stream, part[2]) != 0
            || p.issued != FUZZ_NOW || p.key_id != 7)
            abort();            /* a sealed token must open to what was sealed */
    }
    fuzz_free_parts(part, 3);
    return 0;
}

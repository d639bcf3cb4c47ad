/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_token_tool - seal a List-Unsubscribe token, for the tests only
 *
 *	unsubd_token_tool KEYFILE RCPT STREAM [ISSUED]
 *
 *	Loads KEYFILE with unsub_keys_load() and prints the token that
 *	unsub_token_seal() makes for (RCPT, STREAM) issued at ISSUED
 *	(seconds since the epoch; default now) with the newest key. RCPT
 *	and STREAM are used as given: the caller passes them normalised, as
 *	txmilter does. Exit status 0, or 1 with the reason on stderr.
 *	Never installed (noinst): tests/integration/test_unsubd.py uses it
 *	so that txmilter-unsubd is tested with tokens of the real sealer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "unsub_token.h"
#include "util.h"

int main(int argc, char **argv)
{
    char token[UNSUB_TOKEN_MAX];
    uint64_t issued = (uint64_t) time(NULL);
    UNSUB_KEYS *k;
    BUF errs;

    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: unsubd_token_tool KEYFILE RCPT STREAM [ISSUED]\n");
        return 2;
    }
    if (argc == 5)
        issued = strtoull(argv[4], NULL, 10);
    buf_init(&errs, 16 * 1024);
    if ((k = unsub_keys_load(argv[1], &errs)) == NULL) {
        fprintf(stderr, "%s", errs.data ? errs.data : "cannot load keys\n");
        buf_free(&errs);
        return 1;
    }
    buf_free(&errs);
    if (unsub_token_seal(k, argv[2], argv[3], issued, token, sizeof(token)) < 0) {
        fprintf(stderr, "unsubd_token_tool: fields too long for a token\n");
        unsub_keys_free(k);
        return 1;
    }
    printf("%s\n", token);
    unsub_keys_free(k);
    return 0;
}

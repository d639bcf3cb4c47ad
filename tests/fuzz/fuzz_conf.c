/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_conf.c - libFuzzer target: txmilter.conf(5) through conf_load()
 * (conf.c, the value parsers of conf_value.c, dataset_readline()).
 *
 * The input is the whole configuration file, read as each program reads
 * it (txmilter -n, txmilter, txmilter-unsubd, txmilterctl). A file that
 * parses is asked where each of a few directives was set, as the
 * snapshot does.
 */
#include <stdlib.h>

#include "conf.h"
#include "fuzz.h"
#include "util.h"

/* LLVMFuzzerTestOneInput - one configuration file */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"KeyTable", "InternalHosts", "RateLimitPolicy",
                                        "UnsubscribeURL", "nosuchdirective"};
    static const unsigned progs[] = {CONF_PROG_ALL, CONF_PROG_TXMILTER, CONF_PROG_UNSUBD,
                                     CONF_PROG_CTL};
    const char *path;
    char where[600];
    TXCONF *cf;
    BUF errs;

    if (size > FUZZ_MAX_INPUT)
        return -1;
    path = fuzz_file("txmilter.conf", data, size);
    for (size_t p = 0; p < sizeof(progs) / sizeof(progs[0]); p++) {
        buf_init(&errs, 64 * 1024);
        cf = conf_load(path, progs[p], &errs);
        if (cf != NULL) {
            for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                (void) conf_where(cf, names[i], where, sizeof(where));
            (void) conf_preflight(cf);
            (void) conf_align_action(cf);
            conf_free(cf);
        } else if (errs.len == 0) {
            abort();            /* a refusal must say why */
        }
        buf_free(&errs);
    }
    return 0;
}

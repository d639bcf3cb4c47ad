/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_netlist.c - libFuzzer target: InternalHosts lists (netlist.c).
 *
 * Input: line 1 a client address, line 2 its host name, the rest the
 * list, read both as a file and as an inline list; a list that builds
 * is matched against the client and a few fixed ones.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "netlist.h"
#include "util.h"

/* probe - match the list against the fuzzed and some fixed clients */
static void probe(const NETLIST *nl, const char *addr, const char *host)
{
    static const char *const fixed[][2] = {
        {"127.0.0.1", NULL}, {"::1", "localhost"}, {"::ffff:10.1.2.3", "a.example.com"},
        {"2001:db8::1", NULL}, {"192.0.2.1", "[192.0.2.1]"}, {NULL, "mail.example.org"},
    };

    (void) netlist_match_str(nl, addr, host);
    (void) netlist_match_str(nl, NULL, host);
    (void) netlist_match_str(nl, addr, NULL);
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        (void) netlist_match_str(nl, fixed[i][0], fixed[i][1]);
}

/* LLVMFuzzerTestOneInput - one list and one client */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[3], *spec;
    NETLIST *nl;
    BUF errs;

    if (size > FUZZ_MAX_INPUT)
        return -1;
    (void) fuzz_split(data, size, "\n", part, 3);
    buf_init(&errs, 16 * 1024);
    spec = xasprintf("file:%s", fuzz_file("hosts", part[2], strlen(part[2])));
    if ((nl = netlist_build(spec, "fuzz.conf:1", &errs)) != NULL) {
        probe(nl, part[0], part[1]);
        netlist_free(nl);
    }
    free(spec);
    buf_reset(&errs);
    spec = xasprintf("csl:%s", part[2]);
    if ((nl = netlist_build(spec, "fuzz.conf:1", &errs)) != NULL) {
        probe(nl, part[0], part[1]);
        netlist_free(nl);
    }
    free(spec);
    buf_free(&errs);
    fuzz_free_parts(part, 3);
    return 0;
}

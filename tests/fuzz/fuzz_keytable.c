/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_keytable.c - libFuzzer target: KeyTable and SigningTable
 * (keytable.c), and the lookups a From address makes in them.
 *
 * Input: a first byte of flags (bit 0: the SigningTable is "refile:",
 * bit 1: MultipleSignatures, bit 2: the Domain/Selector/KeyFile
 * shorthand with the KeyTable part as Domain's inline list), then the
 * KeyTable, the SigningTable and From addresses (one a line), the three
 * parted by lines holding "%%".
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "keytable.h"
#include "util.h"

#define PICKS 8

/* lookup - every From address of the list, as msg.c asks */
static void lookup(const KEYTABLE *kt, char *list)
{
    KEYTABLE_PICK picks[PICKS];
    char *save = NULL;

    for (char *a = strtok_r(list, "\n", &save); a; a = strtok_r(NULL, "\n", &save)) {
        char *at = strrchr(a, '@');
        size_t n;

        if (at == NULL)
            continue;
        *at = 0;
        util_lower(a);
        util_lower(at + 1);
        n = keytable_lookup(kt, a, at + 1, picks, PICKS);
        if (n > PICKS)
            abort();
        for (size_t i = 0; i < n; i++)
            if (picks[i].key == NULL || strlen(picks[i].domain) >= sizeof(picks[i].domain))
                abort();
        (void) keytable_domain_safe(at + 1);
    }
}

/* LLVMFuzzerTestOneInput - one pair of tables and the From addresses */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[3];
    unsigned flags;
    TXCONF *cf;
    KEYTABLE *kt;
    BUF errs;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return -1;
    flags = data[0];
    (void) fuzz_split(data + 1, size - 1, "\n%%\n", part, 3);
    cf = conf_defaults();
    if (flags & 4) {
        cf->sign.domain = xasprintf("csl:%s", part[0]);
        cf->sign.selector = xstrdup("s1");
        cf->sign.keyfile = xstrdup("/nonexistent/key.pem");
        cf->sign.subdomains = (flags & 8) != 0;
    } else {
        cf->sign.keytable = xasprintf("file:%s", fuzz_file("KeyTable", part[0], strlen(part[0])));
        cf->sign.signingtable = xasprintf("%s%s", flags & 1 ? "refile:" : "",
                                     fuzz_file("SigningTable", part[1], strlen(part[1])));
    }
    cf->sign.multiple_signatures = (flags & 2) != 0;
    buf_init(&errs, 16 * 1024);
    if ((kt = keytable_build(cf, &errs)) != NULL) {
        size_t n;

        (void) keytable_keys(kt, &n);
        lookup(kt, part[2]);
        keytable_free(kt);
    }
    buf_free(&errs);
    conf_free(cf);
    fuzz_free_parts(part, 3);
    return 0;
}

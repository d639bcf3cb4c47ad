/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_dmarc.c - libFuzzer target: DMARC records (policy/align/dmarc_check.c):
 * dmarc_check_parse() on one record's text, and discovery with the
 * organisational-domain fallback over a fuzzed zone.
 *
 * Input: a zone (see fuzz_zone_lookup()); the first line's value is
 * parsed as the record of example.com; discovery runs for
 * mail.shop.example.co.uk and for the first line's name. The public
 * suffix list is Debian's (package publicsuffix).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "dmarc_check.h"
#include "fuzz.h"
#include "orgdomain.h"
#include "util.h"

/* fuzz_setup - load the public suffix list */
void fuzz_setup(void)
{
    BUF errs;

    buf_init(&errs, 4096);
    if (orgdomain_init(CONF_DEFAULT_PSL, &errs) < 0)
        abort();
    buf_free(&errs);
}

/* check - what the preflight relies on after a parse */
static void check(const DMARC_CHECK *d)
{
    if (d->status == DMARC_CHECK_FOUND
        && (d->pct < 0 || d->pct > 100 || d->policy > DMARC_CHECK_P_REJECT || d->policy_tag == NULL))
        abort();
    if (d->status != DMARC_CHECK_FOUND && d->why[0] == 0)
        abort();
}

/* LLVMFuzzerTestOneInput - one zone */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *zone, *first, *rec;
    DMARC_CHECK d;

    if (size > 16 * 1024)
        return -1;
    zone = fuzz_str(data, size);
    first = fuzz_first_record(zone, &rec);
    for (int at_org = 0; at_org < 2; at_org++) {
        memset(&d, 0, sizeof(d));
        snprintf(d.from_domain, sizeof(d.from_domain), "mail.example.com");
        snprintf(d.record_domain, sizeof(d.record_domain), "%s", at_org ? "example.com" : "mail.example.com");
        d.at_org = at_org;
        if (dmarc_check_parse(rec, &d) == 0) {
            d.status = DMARC_CHECK_FOUND;
            check(&d);
        } else if (d.why[0] == 0) {
            abort();
        }
    }
    dmarc_check_discover(fuzz_zone_lookup, zone, "mail.shop.example.co.uk", &d);
    check(&d);
    if (strncmp(first, "_dmarc.", 7) == 0) {
        dmarc_check_discover(fuzz_zone_lookup, zone, first + 7, &d);
        check(&d);
    }
    free(first);
    free(zone);
    return 0;
}

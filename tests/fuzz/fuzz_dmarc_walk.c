/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_dmarc_walk.c - libFuzzer target: RFC 9989 DMARC records and the
 * DNS tree walk (policy/align/dmarc_rec.c, dmarc_walk.c).
 *
 * Input: a zone (see fuzz_zone_lookup()); the first line's value is
 * parsed with dmarc_rec_parse(); the walk runs for a.b.c.d.e.f.g.h.example
 * and, if the first line's name starts with _dmarc., for the rest of it.
 * Promises checked: a policy in range with its tag, a reason for NONE and
 * TEMPFAIL, never more than 8 TXT queries plus 3 for the existence check,
 * the organisational domain the From domain or one of its parents.
 */
#include <stdlib.h>
#include <string.h>

#include "dmarc_walk.h"
#include "fuzz.h"

void fuzz_setup(void)
{
}

/* check - what the preflight relies on after a walk */
static void check(const DMARC_WALK *w)
{
    size_t fl = strlen(w->from_domain), ol = strlen(w->org_domain);

    if (w->queries > DMARC_WALK_MAX + 3)
        abort();
    if (w->status == DMARC_CHECK_FOUND
        && (w->policy > DMARC_CHECK_P_REJECT || w->policy_tag == NULL || w->record_domain[0] == 0))
        abort();
    if (w->status != DMARC_CHECK_FOUND && w->why[0] == 0)
        abort();
    if (w->status == DMARC_CHECK_FOUND
        && (ol == 0 || ol > fl || strcmp(w->from_domain + fl - ol, w->org_domain) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *zone, *first, *rec, why[200];
    DMARC_REC r;
    DMARC_WALK w;

    if (size > 16 * 1024)
        return -1;
    zone = fuzz_str(data, size);
    first = fuzz_first_record(zone, &rec);
    if (dmarc_rec_parse(rec, &r, FUZZ_ERR(why)) == 0) {
        if (r.p > DMARC_CHECK_P_REJECT || r.sp > DMARC_CHECK_P_REJECT || r.np > DMARC_CHECK_P_REJECT
            || !strchr("ynu", r.psd))
            abort();
        for (int i = 0; i < 4; i++)
            if (dmarc_rec_policy(&r, i & 1, i & 2, NULL) > DMARC_CHECK_P_REJECT)
                abort();
    } else if (why[0] == 0 || dmarc_rec_is_dmarc(rec)) {
        abort();
    }
    dmarc_walk_discover(fuzz_zone_lookup, zone, "a.b.c.d.e.f.g.h.example", &w);
    check(&w);
    if (strncmp(first, "_dmarc.", 7) == 0) {
        dmarc_walk_discover(fuzz_zone_lookup, zone, first + 7, &w);
        check(&w);
        if (w.status == DMARC_CHECK_FOUND)
            (void) dmarc_walk_aligned(fuzz_zone_lookup, zone, &w, "x.example", 0, FUZZ_ERR(why));
    }
    free(first);
    free(zone);
    return 0;
}

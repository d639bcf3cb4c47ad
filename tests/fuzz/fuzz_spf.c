/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_spf.c - libFuzzer target: SPF records (policy/align/spf_check.c) as
 * txmilter reads them: the mechanism count that guards against
 * libspf2's silent truncation, libspf2's compiler on the same text (as
 * dns_spf.c calls it), the include/redirect walk of `txmilterctl
 * dns-check`, and the SPF identity of a MAIL FROM.
 *
 * Input: a zone (see fuzz_zone_lookup()); the walk starts at
 * example.com, the first line's value is compiled and counted, and its
 * name is read as a MAIL FROM.
 */
#include <stdlib.h>
#include <string.h>

#include "dns_spf.h"
#include "fuzz.h"
#include "spf_check.h"
#include "util.h"

static SPF_dns_server_t *layer;
static SPF_server_t *server;

/* fuzz_setup - one libspf2 server on dns_spf.c's layer */
void fuzz_setup(void)
{
    layer = dns_spf_layer_new(spf_check_count_mechanisms);
    if ((server = SPF_server_new_dns(layer, 0)) == NULL)
        abort();
}

/* LLVMFuzzerTestOneInput - one zone */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *zone, *first, *rec, err[300], dom[300];
    SPF_response_t *resp;
    SPF_record_t *r = NULL;
    int tempfail, is_helo, n;

    if (size > 16 * 1024)
        return -1;
    zone = fuzz_str(data, size);
    first = fuzz_first_record(zone, &rec);
    n = spf_check_count_mechanisms(rec);
    if (n < 0)
        abort();
    if (strlen(rec) < 600 && (resp = SPF_response_new(NULL)) != NULL) {
        /* dns_spf.c refuses a record whose compiled form lost mechanisms */
        if (SPF_record_compile(server, resp, &r, rec) == SPF_E_SUCCESS && r != NULL
            && r->num_mech > n)
            abort();
        if (r != NULL)          /* libspf2's free takes no NULL */
            SPF_record_free(r);
        SPF_response_free(resp);
    }
    n = spf_check_count_lookups(fuzz_zone_lookup, zone, "example.com", &tempfail, FUZZ_ERR(err));
    if (n < 0 && err[0] == 0)
        abort();                /* a failure must say why */
    if (spf_check_sender_domain(first, "helo.example", dom, sizeof(dom), &is_helo) == 0
        && (dom[0] == 0 || strlen(dom) >= sizeof(dom)))
        abort();
    free(first);
    free(zone);
    return 0;
}

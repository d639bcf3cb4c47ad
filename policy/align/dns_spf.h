/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns_spf.h - libspf2's DNS layer on txmilter's resolver (dns.c), and
 * what it saw during one SPF evaluation of the calling thread.
 */
#ifndef TX_DNS_SPF_H
#define TX_DNS_SPF_H

#include <netinet/in.h>
#include <spf2/spf.h>
#include <spf2/spf_dns.h>

typedef struct dns_spf_trace {
    int         tempfail;           /* a query failed temporarily */
    char        why[160];           /* ... and why */
    char        truncated[512];     /* libspf2 dropped mechanisms of this record: the reason */
    unsigned    min_ttl;            /* smallest TTL of the answers used */
    int         queries;            /* DNS queries asked for */
} DNS_SPF_TRACE;

/* A function counting the mechanisms of a record's text (spf_check.h). */
typedef int (*DNS_SPF_COUNT_FN) (const char *record);

/* dns_spf_layer_new - the layer (shared: SPF_server_free() leaves it);
 * count finds records libspf2 truncated. dns_spf_layer_free - release it
 * after the server. */
SPF_dns_server_t *dns_spf_layer_new(DNS_SPF_COUNT_FN count);
void dns_spf_layer_free(SPF_dns_server_t *layer);

/* dns_spf_trace_begin - start a fresh trace for the calling thread;
 * dns_spf_trace - the calling thread's trace. */
void dns_spf_trace_begin(void);
const DNS_SPF_TRACE *dns_spf_trace(void);

#endif

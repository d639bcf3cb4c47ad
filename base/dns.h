/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns.h - the one DNS resolver of a txmilter process: a libunbound
 * context with its cache, forwarders (Nameservers) or /etc/resolv.conf,
 * an optional DNSSEC trust anchor, and a timeout on every query.
 * libspf2 (dns_spf.h), the DKIM key check and DMARC discovery all go
 * through it; nothing in txmilter uses the system resolver.
 */
#ifndef TX_DNS_H
#define TX_DNS_H

#include <stddef.h>

#include "util.h"

#define DNS_LABEL_MAX   63          /* RFC 1035 2.3.4 */
#define DNS_NAME_MAX    253         /* a name without its final dot */
#define DNS_MAX_RR      32          /* records of one answer we look at */
#define DNS_TXT_MAX     8192        /* bytes of one TXT record we keep */

typedef enum dns_status {
    DNS_OK = 0,                     /* records of the type asked for */
    DNS_NXDOMAIN,                   /* the name does not exist */
    DNS_NODATA,                     /* the name exists, no record of that type */
    DNS_TEMPFAIL,                   /* timeout, SERVFAIL, REFUSED, bogus, ...: try later */
} DNS_STATUS;

/* One answer, as the checks need it. TXT records have their strings
 * concatenated (NUL bytes inside become '?'); A and AAAA records are
 * given as text addresses, MX records as "PREFERENCE EXCHANGE." ("0 ."
 * for a null MX). */
typedef struct dns_answer {
    DNS_STATUS status;
    unsigned    ttl;                /* seconds the answer may be cached */
    size_t      n;                  /* records in rec[] */
    char       *rec[DNS_MAX_RR];
    char        why[160];           /* DNS_TEMPFAIL: what went wrong */
} DNS_ANSWER;

/* A lookup function: the real resolver (dns_lookup) or, in unit tests,
 * a table of answers. Fills *ans completely in every case. */
typedef void (*DNS_LOOKUP_FN) (void *ctx, const char *name, int rrtype, DNS_ANSWER *ans);

/* A resolver as a service: its lookup function and that function's ctx. */
typedef struct dns_resolver {
    DNS_LOOKUP_FN lookup;
    void       *ctx;
} DNS_RESOLVER;

/* The settings of the resolver (Nameservers, TrustAnchorFile, DNSTimeout). */
typedef struct dns_settings {
    const char *nameservers;        /* forwarders; NULL: /etc/resolv.conf */
    const char *trust_anchor_file;  /* DNSSEC trust anchor, or NULL */
    int         dns_timeout;        /* seconds per query */
} DNS_SETTINGS;

/* dns_init - create the process's resolver from the configuration
 * (Nameservers, TrustAnchorFile, DNSTimeout). Call once, before threads
 * start; later calls only compare the configuration and warn that a
 * change needs a restart. -1 with a message in errs on failure. */
int dns_init(const DNS_SETTINGS *cf, BUF *errs);

/* dns_check_config - log a warning if the resolver runs with other
 * Nameservers, TrustAnchorFile or DNSTimeout settings than cf's */
void dns_check_config(const DNS_SETTINGS *cf);

/* dns_ready - 1 once dns_init() succeeded */
int dns_ready(void);

/* dns_shutdown - cancel nothing, wait for nothing: stop the resolver
 * and free it (at exit). */
void dns_shutdown(void);

/* dns_lookup - one query (DNS_LOOKUP_FN signature; ctx unused). Never
 * waits longer than DNSTimeout, nor past the calling thread's budget. */
void dns_lookup(void *ctx, const char *name, int rrtype, DNS_ANSWER *ans);

/* dns_rdata_mx - the rdata of an MX record (preference, then the
 * exchange in uncompressed labels, as libunbound hands it over) as
 * "PREFERENCE EXCHANGE." ("0 ." for a null MX; label bytes other than
 * letters, digits, '-' and '_' as '?'); NULL if the rdata is not that.
 * Never reads past len. The caller frees the string. */
char *dns_rdata_mx(const unsigned char *rdata, size_t len);

/* dns_resolver - the process's resolver (dns_lookup) as a DNS_RESOLVER */
const DNS_RESOLVER *dns_resolver(void);

/* dns_resolve_raw - one query; the libunbound result (free it with
 * ub_resolve_free()) or NULL, with the classified status either way and,
 * for DNS_TEMPFAIL (and a name that is not one), the reason appended to
 * err. */
struct ub_result *dns_resolve_raw(const char *name, int rrtype, DNS_STATUS *st, BUF *err);

/* dns_budget_begin - from now on, queries of the calling thread end at
 * most seconds from now; after that they fail at once (DNS_TEMPFAIL).
 * dns_budget_end - lift the limit. dns_budget_spent - 1 if a query of the
 * calling thread failed for lack of time since dns_budget_begin(). */
void dns_budget_begin(int seconds);
void dns_budget_end(void);
int dns_budget_spent(void);

/* dns_answer_free - release the records of an answer (not the struct) */
void dns_answer_free(DNS_ANSWER *ans);

/* dns_status_str - "ok", "NXDOMAIN", "no data", "temporary failure" */
const char *dns_status_str(DNS_STATUS st);

/* dns_queries - queries sent since start (for benchmarks and tests) */
unsigned long dns_queries(void);

/* How the queries of the process went, for the metrics and /health. */
typedef struct dns_stats {
    unsigned long ok, nxdomain, nodata;     /* answers */
    unsigned long timeout;                  /* no answer in time (or no time left) */
    unsigned long error;                    /* SERVFAIL, REFUSED, bogus, resolver errors */
    unsigned long failing;                  /* timeouts and errors in a row, 0 after an answer */
} DNS_STATS;

/* dns_stats - a copy of the counters */
void dns_stats(DNS_STATS *st);

#endif

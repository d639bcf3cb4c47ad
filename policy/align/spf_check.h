/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spf_check.h - SPF (RFC 7208) of an envelope sender for one of our
 * egress addresses, with libspf2 on txmilter's resolver.
 */
#ifndef TX_SPF_CHECK_H
#define TX_SPF_CHECK_H

#include <stddef.h>

#include "dns.h"
#include "util.h"

typedef enum spf_check_result {
    SPF_CHECK_NONE = 0, SPF_CHECK_NEUTRAL, SPF_CHECK_PASS, SPF_CHECK_FAIL,
    SPF_CHECK_SOFTFAIL, SPF_CHECK_TEMPERROR, SPF_CHECK_PERMERROR,
} SPF_CHECK_RESULT;

typedef struct spf_check_outcome {
    SPF_CHECK_RESULT result;
    char        reason[400];        /* for the log: what libspf2 or txmilter said */
    unsigned    ttl;                /* seconds the result may be reused */
    int         lookups;            /* DNS-querying terms libspf2 counted */
} SPF_CHECK_OUTCOME;

/* spf_check_init - the process's SPF server on dns_spf's layer (after
 * dns_init()); idempotent. -1 with a message in errs. */
int spf_check_init(BUF *errs);
void spf_check_shutdown(void);

/* spf_check_host - check_host(ip, domain): domain is the MAIL FROM
 * domain, or helo for the null sender. */
void spf_check_host(const char *ip, const char *domain, const char *helo, SPF_CHECK_OUTCOME *out);

/* spf_check_map - libspf2's result (SPF_result_t as int) to ours, given
 * what the DNS layer saw: a temporary failure makes anything but a pass
 * a temperror; a truncated record makes any result a permerror. */
SPF_CHECK_RESULT spf_check_map(int libspf2_result, int tempfail_seen, int truncated);

/* spf_check_result_str - "pass", "fail", ... */
const char *spf_check_result_str(SPF_CHECK_RESULT r);

/* spf_check_count_mechanisms - the terms of a record's text (after
 * "v=spf1") that libspf2 compiles into its list of mechanisms: every
 * mechanism and the redirect= modifier, no other modifier */
int spf_check_count_mechanisms(const char *record);

/* spf_check_sender_domain - the domain SPF checks for a MAIL FROM as
 * given ("<a@b>", "a@b", "<>", ""): b, or helo for the null sender
 * (*is_helo = 1). Lowercase, no trailing dot. -1 when there is none. */
int spf_check_sender_domain(const char *mail_from, const char *helo, char *out, size_t outlen,
                            int *is_helo);

/* spf_check_count_lookups - the DNS-querying terms (include, a, mx, ptr,
 * exists, redirect) of domain's SPF record and of every record it
 * includes or redirects to, as RFC 7208 4.6.4 counts them against its
 * limit of 10. Uses lookup (dns_lookup, or a test table). Returns the
 * count (a lower bound once over 20: nothing more is followed then);
 * -1 with the reason appended to err when a record is missing, doubled
 * or unreachable (temporary DNS trouble sets *tempfail). */
int spf_check_count_lookups(DNS_LOOKUP_FN lookup, void *ctx, const char *domain, int *tempfail,
                            BUF *err);

/* spf_check_find_record - the one "v=spf1" record among TXT records:
 * its index, -1 if none, -2 if several */
int spf_check_find_record(const DNS_ANSWER *ans);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc_check.h - DMARC policy discovery (RFC 7489 6.6.3) for an author
 * domain, with the organisational-domain fallback, and the policy that
 * applies to it (p=, sp=, pct=, adkim=, aspf=).
 */
#ifndef TX_DMARC_CHECK_H
#define TX_DMARC_CHECK_H

#include "dns.h"
#include "orgdomain.h"

typedef enum dmarc_check_status {
    DMARC_CHECK_FOUND = 0,          /* one valid record */
    DMARC_CHECK_NONE,               /* no record, here or at the organisational domain */
    DMARC_CHECK_INVALID,            /* a record receivers cannot use (no valid p=) */
    DMARC_CHECK_MULTIPLE,           /* several records: receivers apply none */
    DMARC_CHECK_TEMPFAIL,           /* DNS trouble: unknown */
} DMARC_CHECK_STATUS;

typedef enum dmarc_check_policy {
    DMARC_CHECK_P_NONE = 0, DMARC_CHECK_P_QUARANTINE, DMARC_CHECK_P_REJECT,
} DMARC_CHECK_POLICY;

typedef struct dmarc_check {
    DMARC_CHECK_STATUS status;
    char        from_domain[ORGDOMAIN_MAX];
    char        org_domain[ORGDOMAIN_MAX];  /* "" when the From domain is a public suffix */
    char        record_domain[ORGDOMAIN_MAX]; /* where the record was found */
    int         at_org;             /* found by the organisational-domain fallback */
    DMARC_CHECK_POLICY p;           /* p= */
    DMARC_CHECK_POLICY sp;          /* sp=, or p= when absent */
    int         sp_given;
    DMARC_CHECK_POLICY np;          /* RFC 9989 np=, or sp= when absent */
    int         psd;                /* RFC 9989: the record is a PSD's (psd=y) */
    int         testing;            /* RFC 9989 t=y: the policy applied is one step down */
    DMARC_CHECK_POLICY policy;      /* what receivers apply to this From domain */
    const char *policy_tag;         /* the tag that applied: "sp"/"np" only if the record has one */
    int         pct;                /* pct=, 100 when absent */
    int         adkim_strict;       /* adkim=s */
    int         aspf_strict;        /* aspf=s */
    unsigned    ttl;                /* seconds the answer may be reused */
    char        why[300];           /* for anything but FOUND: what happened */
} DMARC_CHECK;

/* dmarc_check_discover - find the record for from_domain through lookup
 * (dns_lookup, or a test table) and fill *out completely. */
void dmarc_check_discover(DNS_LOOKUP_FN lookup, void *ctx, const char *from_domain, DMARC_CHECK *out);

/* dmarc_check_parse - parse one record found at record_domain for
 * from_domain (libopendmarc does the parsing); sets the policy fields
 * of *out. -1 with out->why when receivers cannot use the record. */
int dmarc_check_parse(const char *record, DMARC_CHECK *out);

/* dmarc_check_policy_str - "none", "quarantine", "reject" */
const char *dmarc_check_policy_str(DMARC_CHECK_POLICY p);

#endif

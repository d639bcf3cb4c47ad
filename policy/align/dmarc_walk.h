/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc_walk.h - RFC 9989 DMARC policy discovery and organisational
 * domain by DNS tree walk (RFC 9989 4.10): the plan of names to query
 * (pure), and the walk itself through a DNS_LOOKUP_FN (dns_lookup: the
 * one libunbound layer and its cache; a table in the unit tests).
 */
#ifndef TX_DMARC_WALK_H
#define TX_DMARC_WALK_H

#include "dmarc_check.h"
#include "dmarc_rec.h"
#include "dns.h"

#define DMARC_WALK_MAX 8            /* the From domain and at most 7 parents */
#define DMARC_WALK_LABELS 7         /* a longer name is cut to this many labels after its own query */

/* dmarc_walk_plan - the names whose _dmarc TXT records the walk asks for,
 * in order: the (normalised) domain itself; then, if it has 8 labels or
 * more, its last 7 labels, else its parent; then each parent up to the
 * single-label name. Returns how many (0 for an empty name). */
int dmarc_walk_plan(const char *domain, char names[DMARC_WALK_MAX][ORGDOMAIN_MAX]);

/* One walk's findings. */
typedef struct dmarc_walk {
    DMARC_CHECK_STATUS status;      /* FOUND, NONE or TEMPFAIL (never a pass) */
    char        from_domain[ORGDOMAIN_MAX];
    char        record_domain[ORGDOMAIN_MAX];   /* where the policy record was found */
    char        org_domain[ORGDOMAIN_MAX];      /* RFC 9989 4.10.2 */
    DMARC_REC   rec;                /* FOUND: the policy record */
    int         nonexistent;        /* the From domain has no A, AAAA nor MX (asked only if np= matters) */
    DMARC_CHECK_POLICY policy;      /* FOUND: what receivers apply to the From domain */
    const char *policy_tag;         /* "p", "sp" or "np" */
    int         queries;            /* DNS queries asked */
    unsigned    ttl;                /* smallest TTL of the answers used */
    char        why[300];           /* NONE, TEMPFAIL: what happened; FOUND: notes */
} DMARC_WALK;

/* dmarc_walk_discover - the policy for from_domain and its
 * organisational domain, filling *out completely. */
void dmarc_walk_discover(DNS_LOOKUP_FN lookup, void *ctx, const char *from_domain, DMARC_WALK *out);

/* dmarc_walk_orgdomain - the organisational domain of name by tree walk
 * into org: 0, or -1 on DNS trouble (the reason appended to err says
 * where). */
int dmarc_walk_orgdomain(DNS_LOOKUP_FN lookup, void *ctx, const char *name, char *org, size_t orglen,
                         BUF *err);

/* dmarc_walk_aligned - RFC 9989 identifier alignment of id with the From
 * domain whose walk is w (strict: the same name; relaxed: the same
 * organisational domain by tree walk): 1, 0, or -1 on DNS trouble (the
 * reason appended to err says where). */
int dmarc_walk_aligned(DNS_LOOKUP_FN lookup, void *ctx, const DMARC_WALK *w, const char *id, int strict,
                       BUF *err);

/* dmarc_walk_to_check - the walk as a DMARC_CHECK (the RFC 7489 shape
 * the verdict code reads) */
void dmarc_walk_to_check(const DMARC_WALK *w, DMARC_CHECK *c);

#endif

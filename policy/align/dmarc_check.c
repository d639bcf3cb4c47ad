/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc_check.c - find and read the DMARC policy of an author domain
 *
 * SYNOPSIS
 *	#include "dmarc_check.h"
 *
 *	void	dmarc_check_discover(DNS_LOOKUP_FN lookup, void *ctx,
 *			const char *from_domain, DMARC_CHECK *out)
 *	int	dmarc_check_parse(const char *record, DMARC_CHECK *out)
 *
 * DESCRIPTION
 *	dmarc_check_discover() follows RFC 7489 6.6.3: the TXT records of
 *	_dmarc.<From domain>, keeping those that start with "v=DMARC1"; if
 *	there are none, those of _dmarc.<organisational domain>
 *	(orgdomain.c). libopendmarc 1.4.2 has no usable fallback of its own
 *	(OpenDMARC issue #54) and its resolver would bypass Nameservers, so
 *	the records are fetched here and only handed to the library to be
 *	parsed. Several records stop discovery: receivers apply no policy.
 *
 *	dmarc_check_parse() lets libopendmarc parse a record
 *	(opendmarc_policy_store_dmarc() with the From domain and, for a
 *	record found at the organisational domain, that domain) and reads
 *	p=, sp=, adkim=, aspf= and pct= back. The policy receivers apply is
 *	sp= (if given) for a From domain below the domain holding the record,
 *	else p=. pct= is applied as RFC 7489 6.6.4 says: pct=0 moves the
 *	policy one step down (reject to quarantine, quarantine to none) for
 *	every message; any other value leaves the policy in force for some
 *	messages, so it counts as in force.
 *
 *	The lookup function is a parameter so that the unit tests inject
 *	answers; the daemon passes dns_lookup().
 *
 * DIAGNOSTICS
 *	DNS trouble gives DMARC_CHECK_TEMPFAIL, a record receivers cannot
 *	use DMARC_CHECK_INVALID, several records DMARC_CHECK_MULTIPLE,
 *	each with what happened in why.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <opendmarc/dmarc.h>

#include "dmarc_check.h"
#include "fmt.h"
#include "util.h"

const char *dmarc_check_policy_str(DMARC_CHECK_POLICY p)
{
    return p == DMARC_CHECK_P_REJECT ? "reject" : p == DMARC_CHECK_P_QUARANTINE ? "quarantine" : "none";
}

/* dmarc_check_policy - libopendmarc's letter to ours; -1 if unset */
static int dmarc_check_policy(int letter)
{
    switch (letter) {
    case DMARC_RECORD_P_NONE: return DMARC_CHECK_P_NONE;
    case DMARC_RECORD_P_QUARANTINE: return DMARC_CHECK_P_QUARANTINE;
    case DMARC_RECORD_P_REJECT: return DMARC_CHECK_P_REJECT;
    default: return -1;
    }
}

/* dmarc_check_parse - the record's tags */
int dmarc_check_parse(const char *record, DMARC_CHECK *out)
{
    DMARC_POLICY_T *pctx;
    OPENDMARC_STATUS_T st;
    char rec[1024];
    int p = 0, sp = 0, adkim = 0, aspf = 0, pct = -1, rc = 0;

    if (util_strlcpy(rec, record, sizeof(rec)) < 0) {
        fmt_trunc(out->why, sizeof(out->why), "_dmarc.%s: record longer than %zu bytes",
                 out->record_domain, sizeof(rec) - 1);
        return -1;
    }
    if ((pctx = opendmarc_policy_connect_init((u_char *) "192.0.2.1", 0)) == NULL) {
        fmt_trunc(out->why, sizeof(out->why), "libopendmarc: out of memory");
        return -1;
    }
    /* The 3rd argument is the From domain (the library overwrites its own
     * copy with it); the 4th where the record was found, if elsewhere. */
    st = opendmarc_policy_store_dmarc(pctx, (u_char *) rec, (u_char *) out->from_domain,
                                      out->at_org ? (u_char *) out->record_domain : NULL);
    if (st != DMARC_PARSE_OKAY) {
        fmt_trunc(out->why, sizeof(out->why), "_dmarc.%s: record \"%.120s\" is not valid (%s): "
                 "receivers ignore it", out->record_domain, record,
                 st == DMARC_PARSE_ERROR_NO_REQUIRED_P ? "no p= tag"
                 : st == DMARC_PARSE_ERROR_BAD_VALUE ? "a tag has a bad value"
                 : st == DMARC_PARSE_ERROR_BAD_VERSION ? "bad v= tag" : "syntax");
        rc = -1;
    } else {
        (void) opendmarc_policy_fetch_p(pctx, &p);
        (void) opendmarc_policy_fetch_sp(pctx, &sp);
        (void) opendmarc_policy_fetch_adkim(pctx, &adkim);
        (void) opendmarc_policy_fetch_aspf(pctx, &aspf);
        (void) opendmarc_policy_fetch_pct(pctx, &pct);
        if (dmarc_check_policy(p) < 0) {
            fmt_trunc(out->why, sizeof(out->why), "_dmarc.%s: record has no valid p= tag", out->record_domain);
            rc = -1;
        }
    }
    (void) opendmarc_policy_connect_shutdown(pctx);
    if (rc < 0)
        return -1;
    out->p = (DMARC_CHECK_POLICY) dmarc_check_policy(p);
    out->sp_given = dmarc_check_policy(sp) >= 0;
    out->sp = out->sp_given ? (DMARC_CHECK_POLICY) dmarc_check_policy(sp) : out->p;
    out->adkim_strict = adkim == DMARC_RECORD_A_STRICT;
    out->aspf_strict = aspf == DMARC_RECORD_A_STRICT;
    out->pct = pct < 0 || pct > 100 ? 100 : pct;
    if (out->at_org && strcmp(out->record_domain, out->from_domain) != 0) {
        out->policy = out->sp;
        /* Without sp= the org's p= is what applies: say so, not "sp=". */
        out->policy_tag = out->sp_given ? "sp" : "p";
    } else {
        out->policy = out->p;
        out->policy_tag = "p";
    }
    if (out->pct == 0 && out->policy != DMARC_CHECK_P_NONE)
        out->policy = out->policy == DMARC_CHECK_P_REJECT ? DMARC_CHECK_P_QUARANTINE : DMARC_CHECK_P_NONE;
    return 0;
}

/* dmarc_check_is_record - starts with "v=DMARC1" (then ';', space or end) */
static int dmarc_check_is_record(const char *t)
{
    t += strspn(t, " \t");
    if (strncasecmp(t, "v", 1) != 0)
        return 0;
    t += 1 + strspn(t + 1, " \t");
    if (*t != '=')
        return 0;
    t += 1 + strspn(t + 1, " \t");
    return strncmp(t, "DMARC1", 6) == 0 && (t[6] == 0 || t[6] == ';' || t[6] == ' ' || t[6] == '\t');
}

/* dmarc_check_at - the records at _dmarc.domain: 1 found (copied to rec),
 * 0 none, -1 several, -2 DNS trouble */
static int dmarc_check_at(DNS_LOOKUP_FN lookup, void *ctx, const char *domain, char *rec, size_t reclen,
                          DMARC_CHECK *out)
{
    char name[ORGDOMAIN_MAX + 8];
    DNS_ANSWER a;
    int found = 0;

    snprintf(name, sizeof(name), "_dmarc.%s", domain);
    lookup(ctx, name, 16, &a);
    if (a.status == DNS_TEMPFAIL) {
        fmt_trunc(out->why, sizeof(out->why), "DNS: %s: %s", name, a.why);
        dns_answer_free(&a);
        return -2;
    }
    if (out->ttl == 0 || a.ttl < out->ttl)
        out->ttl = a.ttl;
    for (size_t i = 0; i < a.n; i++)
        if (dmarc_check_is_record(a.rec[i]) && found++ == 0)
            util_strlcpy(rec, a.rec[i], reclen);
    dns_answer_free(&a);
    if (found > 1) {
        fmt_trunc(out->why, sizeof(out->why), "%s holds %d DMARC records: receivers apply none "
                 "(RFC 7489 6.6.3)", name, found);
        return -1;
    }
    return found;
}

/* dmarc_check_discover - RFC 7489 6.6.3 */
void dmarc_check_discover(DNS_LOOKUP_FN lookup, void *ctx, const char *from_domain, DMARC_CHECK *out)
{
    char rec[DNS_TXT_MAX + 1];
    int r;

    memset(out, 0, sizeof(*out));
    out->status = DMARC_CHECK_NONE;
    out->policy_tag = "p";
    out->pct = 100;
    if (orgdomain_normalise(from_domain, out->from_domain, sizeof(out->from_domain)) < 0) {
        fmt_trunc(out->why, sizeof(out->why), "no usable From domain");
        return;
    }
    orgdomain_get(out->from_domain, out->org_domain, sizeof(out->org_domain));
    util_strlcpy(out->record_domain, out->from_domain, sizeof(out->record_domain));
    r = dmarc_check_at(lookup, ctx, out->from_domain, rec, sizeof(rec), out);
    if (r == 0 && out->org_domain[0] && strcmp(out->org_domain, out->from_domain) != 0) {
        out->at_org = 1;
        util_strlcpy(out->record_domain, out->org_domain, sizeof(out->record_domain));
        r = dmarc_check_at(lookup, ctx, out->org_domain, rec, sizeof(rec), out);
    }
    switch (r) {
    case -2:
        out->status = DMARC_CHECK_TEMPFAIL;
        out->ttl = 0;
        return;
    case -1:
        out->status = DMARC_CHECK_MULTIPLE;
        return;
    case 0:
        out->at_org = 0;
        util_strlcpy(out->record_domain, out->from_domain, sizeof(out->record_domain));
        if (out->org_domain[0] && strcmp(out->org_domain, out->from_domain) != 0)
            fmt_trunc(out->why, sizeof(out->why), "no DMARC record at _dmarc.%s nor at _dmarc.%s",
                     out->from_domain, out->org_domain);
        else
            fmt_trunc(out->why, sizeof(out->why), "no DMARC record at _dmarc.%s", out->from_domain);
        return;
    default:
        out->status = dmarc_check_parse(rec, out) == 0 ? DMARC_CHECK_FOUND : DMARC_CHECK_INVALID;
        return;
    }
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc_walk.c - the RFC 9989 DNS tree walk
 *
 * SYNOPSIS
 *	#include "dmarc_walk.h"
 *
 *	int	dmarc_walk_plan(const char *domain, char names[][ORGDOMAIN_MAX])
 *	void	dmarc_walk_discover(DNS_LOOKUP_FN lookup, void *ctx,
 *			const char *from_domain, DMARC_WALK *out)
 *	int	dmarc_walk_orgdomain(DNS_LOOKUP_FN lookup, void *ctx,
 *			const char *name, char *org, size_t orglen, BUF *err)
 *	int	dmarc_walk_aligned(DNS_LOOKUP_FN lookup, void *ctx,
 *			const DMARC_WALK *w, const char *id, int strict, BUF *err)
 *	void	dmarc_walk_to_check(const DMARC_WALK *w, DMARC_CHECK *c)
 *
 * DESCRIPTION
 *	The walk (RFC 9989 4.10) asks for the TXT records of _dmarc.NAME
 *	for each name of dmarc_walk_plan() in turn. At each step records
 *	not starting with v=DMARC1 are discarded, and several DMARC records
 *	are all discarded (the walk goes on). A record with psd=n stops it.
 *
 *	Policy discovery (4.10.1): the first record found is the policy
 *	record. Organisational domain (4.10.2): the domain of a psd=n
 *	record; else, for a psd=y record above the starting name, the name
 *	one label below it; else the record with the fewest labels; with no
 *	record, the starting name itself. The walk goes on after the policy
 *	record only as far as the organisational domain needs.
 *
 *	The policy (dmarc_rec_policy()) is p at the From domain, sp below
 *	it, np for a From domain that does not exist: that is asked (A,
 *	then AAAA and MX) only when np= gives another answer than sp=.
 *
 * DIAGNOSTICS
 *	A DNS failure at any step (the TXT queries or the existence check)
 *	makes the whole walk DMARC_CHECK_TEMPFAIL naming the query: an
 *	unknown answer is never taken for "no record".
 */
#include <stdio.h>
#include <string.h>

#include "dmarc_walk.h"
#include "fmt.h"
#include "util.h"

#define RR_A 1
#define RR_MX 15
#define RR_TXT 16
#define RR_AAAA 28

/* walk_labels - labels of a name */
static int walk_labels(const char *name)
{
    int n = *name ? 1 : 0;

    for (; *name; name++)
        n += *name == '.';
    return n;
}

/* walk_last - the last n labels of name */
static const char *walk_last(const char *name, int n)
{
    int skip = walk_labels(name) - n;

    while (skip-- > 0 && (name = strchr(name, '.')) != NULL)
        name++;
    return name ? name : "";
}

int dmarc_walk_plan(const char *domain, char names[DMARC_WALK_MAX][ORGDOMAIN_MAX])
{
    int x = walk_labels(domain), n = 0;

    if (x == 0 || strlen(domain) >= ORGDOMAIN_MAX)
        return 0;
    util_strlcpy(names[n++], domain, ORGDOMAIN_MAX);
    for (x = x > DMARC_WALK_LABELS ? DMARC_WALK_LABELS : x - 1; x >= 1 && n < DMARC_WALK_MAX; x--)
        util_strlcpy(names[n++], walk_last(domain, x), ORGDOMAIN_MAX);
    return n;
}

/* walk_at - the DMARC records at _dmarc.name: 1 (parsed into *r), 0 none
 * or several (discarded), -1 DNS trouble (out->why) */
static int walk_at(DNS_LOOKUP_FN lookup, void *ctx, const char *name, DMARC_REC *r, DMARC_WALK *out)
{
    char q[ORGDOMAIN_MAX + 8];
    DNS_ANSWER a;
    int found = 0;

    snprintf(q, sizeof(q), "_dmarc.%s", name);
    out->queries++;
    lookup(ctx, q, RR_TXT, &a);
    if (a.status == DNS_TEMPFAIL) {
        fmt_trunc(out->why, sizeof(out->why), "DNS: %s: %s", q, a.why);
        dns_answer_free(&a);
        return -1;
    }
    if (out->ttl == 0 || (a.ttl && a.ttl < out->ttl))
        out->ttl = a.ttl;
    for (size_t i = 0; i < a.n; i++)
        if (dmarc_rec_is_dmarc(a.rec[i]) && found++ == 0)
            (void) dmarc_rec_parse(a.rec[i], r, NULL);   /* notes not kept */
    dns_answer_free(&a);
    if (found > 1) {
        size_t len = strlen(out->why);

        fmt_trunc(out->why + len, sizeof(out->why) - len, "%s%s holds %d DMARC records: discarded",
                  len ? "; " : "", q, found);
        return 0;
    }
    return found;
}

/* walk_run - the walk from names[0]; policy record and org domain into
 * out (record_domain "" when none); -1 on DNS trouble */
static int walk_run(DNS_LOOKUP_FN lookup, void *ctx, const char *start, DMARC_WALK *out)
{
    char names[DMARC_WALK_MAX][ORGDOMAIN_MAX];
    const char *fewest = NULL;
    int n = dmarc_walk_plan(start, names);

    out->record_domain[0] = 0;
    util_strlcpy(out->org_domain, start, sizeof(out->org_domain));
    for (int i = 0; i < n; i++) {
        DMARC_REC r;
        int got = walk_at(lookup, ctx, names[i], &r, out);

        if (got < 0)
            return -1;
        if (got == 0)
            continue;
        if (out->record_domain[0] == 0) {
            util_strlcpy(out->record_domain, names[i], sizeof(out->record_domain));
            out->rec = r;
        }
        if (r.psd == 'n') {
            util_strlcpy(out->org_domain, names[i], sizeof(out->org_domain));
            return 0;
        }
        if (r.psd == 'y' && i > 0) {
            util_strlcpy(out->org_domain, walk_last(start, walk_labels(names[i]) + 1), sizeof(out->org_domain));
            return 0;
        }
        fewest = names[i];
        util_strlcpy(out->org_domain, fewest, sizeof(out->org_domain));
    }
    return 0;
}

/* walk_nonexistent - 1 if name has no A, AAAA nor MX; -1 DNS trouble */
static int walk_nonexistent(DNS_LOOKUP_FN lookup, void *ctx, const char *name, DMARC_WALK *out)
{
    static const int types[] = {RR_A, RR_AAAA, RR_MX};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        DNS_ANSWER a;
        DNS_STATUS st;

        out->queries++;
        lookup(ctx, name, types[i], &a);
        st = a.status;
        if (st == DNS_TEMPFAIL)
            fmt_trunc(out->why, sizeof(out->why), "DNS: %s %s: %s", name,
                      types[i] == RR_A ? "A" : types[i] == RR_AAAA ? "AAAA" : "MX", a.why);
        dns_answer_free(&a);
        if (st == DNS_TEMPFAIL)
            return -1;
        if (st == DNS_OK)
            return 0;
        if (st == DNS_NXDOMAIN)
            return 1;
    }
    return 1;
}

void dmarc_walk_discover(DNS_LOOKUP_FN lookup, void *ctx, const char *from_domain, DMARC_WALK *out)
{
    int at_from;

    memset(out, 0, sizeof(*out));
    out->status = DMARC_CHECK_NONE;
    out->policy_tag = "p";
    if (orgdomain_normalise(from_domain, out->from_domain, sizeof(out->from_domain)) < 0
        || out->from_domain[0] == '[') {
        fmt_trunc(out->why, sizeof(out->why), "no usable From domain");
        return;
    }
    if (walk_run(lookup, ctx, out->from_domain, out) < 0) {
        out->status = DMARC_CHECK_TEMPFAIL;
        out->ttl = 0;
        return;
    }
    if (out->record_domain[0] == 0) {
        fmt_trunc(out->why, sizeof(out->why), "no DMARC record at _dmarc.%s nor above it", out->from_domain);
        return;
    }
    at_from = strcmp(out->record_domain, out->from_domain) == 0;
    if (!at_from && out->rec.np != out->rec.sp) {
        int ne = walk_nonexistent(lookup, ctx, out->from_domain, out);

        if (ne < 0) {
            out->status = DMARC_CHECK_TEMPFAIL;
            out->ttl = 0;
            return;
        }
        out->nonexistent = ne;
    }
    out->policy = dmarc_rec_policy(&out->rec, at_from, out->nonexistent, &out->policy_tag);
    out->status = DMARC_CHECK_FOUND;
}

int dmarc_walk_orgdomain(DNS_LOOKUP_FN lookup, void *ctx, const char *name, char *org, size_t orglen,
                         BUF *err)
{
    DMARC_WALK w;

    memset(&w, 0, sizeof(w));
    org[0] = 0;
    if (orgdomain_normalise(name, w.from_domain, sizeof(w.from_domain)) < 0)
        return 0;
    if (walk_run(lookup, ctx, w.from_domain, &w) < 0)
        return util_err(err, "%s", w.why);
    util_strlcpy(org, w.org_domain, orglen);
    return 0;
}

int dmarc_walk_aligned(DNS_LOOKUP_FN lookup, void *ctx, const DMARC_WALK *w, const char *id, int strict,
                       BUF *err)
{
    char n[ORGDOMAIN_MAX], org[ORGDOMAIN_MAX];
    size_t nl, fl;

    if (orgdomain_normalise(id, n, sizeof(n)) < 0 || w->from_domain[0] == 0)
        return 0;
    if (strcmp(n, w->from_domain) == 0)
        return 1;
    if (strict)
        return 0;
    /* The organisational domain of n is n or one of its parents: if the
     * From domain's is neither, they differ without asking. */
    nl = strlen(n), fl = strlen(w->org_domain);
    if (fl == 0 || fl > nl || strcmp(n + nl - fl, w->org_domain) != 0 || (fl < nl && n[nl - fl - 1] != '.'))
        return 0;
    if (dmarc_walk_orgdomain(lookup, ctx, n, org, sizeof(org), err) < 0)
        return -1;
    return strcmp(org, w->org_domain) == 0;
}

void dmarc_walk_to_check(const DMARC_WALK *w, DMARC_CHECK *c)
{
    memset(c, 0, sizeof(*c));
    c->status = w->status;
    util_strlcpy(c->from_domain, w->from_domain, sizeof(c->from_domain));
    util_strlcpy(c->org_domain, w->org_domain, sizeof(c->org_domain));
    util_strlcpy(c->record_domain, w->record_domain[0] ? w->record_domain : w->from_domain,
                 sizeof(c->record_domain));
    c->at_org = w->record_domain[0] && strcmp(w->record_domain, w->from_domain) != 0;
    c->p = w->rec.p;
    c->sp = w->rec.sp;
    c->sp_given = w->rec.sp_given;
    c->np = w->rec.np;
    c->psd = w->rec.psd == 'y';
    c->testing = w->rec.testing;
    c->policy = w->policy;
    c->policy_tag = w->policy_tag ? w->policy_tag : "p";
    c->pct = 100;
    c->adkim_strict = w->rec.adkim_strict;
    c->aspf_strict = w->rec.aspf_strict;
    c->ttl = w->ttl;
    util_strlcpy(c->why, w->why, sizeof(c->why));
}

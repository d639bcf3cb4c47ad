/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_rpath.c - txmilterctl dns-check: the records of the return-path domain
 *
 * SYNOPSIS
 *	#include "ctl_rpath.h"
 *
 *	int	ctl_rpath_domain(const char *tmpl, const char *from_domain,
 *			char *out, size_t outlen)
 *	CTL_RPATH_MX ctl_rpath_mx(DNS_LOOKUP_FN lookup, void *ctx,
 *			const char *domain, char *detail, size_t len)
 *	const char *ctl_rpath_mx_str(CTL_RPATH_MX v)
 *
 *	#include "ctl_dns_int.h"
 *
 *	void	ctl_rpath_check(CTL_REPORT *r, const TXCONF *cf,
 *			const char *domain, STRV *done)
 *
 * DESCRIPTION
 *	With ReturnPath set, single-recipient mail From a domain leaves with
 *	an envelope sender under the template's domain part (%{domain} the
 *	From domain): receivers check that domain's SPF, and send their
 *	bounces to it. ctl_rpath_check() adds dns-check's rows for it, under
 *	the From domain and then the return-path domain:
 *
 *	RPATH	the return path, and whether it aligns with the From domain
 *		under relaxed SPF alignment (same organisational domain);
 *		a WARN when not: DMARC then rests on DKIM alone;
 *	SPF	as for the From domain (ctl_dns_spf(): one record, a pass for
 *		every EgressAddress), with the record to publish;
 *	MX	an MX, or else an A or AAAA (the implicit MX of RFC 5321
 *		5.1), so that receivers can deliver bounces; a null MX (RFC
 *		7505) or nothing at all FAILs, and the records to publish are
 *		an A/AAAA per EgressAddress (the relay accepting the bounce
 *		domain, as the README shows) or an MX naming the host that
 *		does.
 *	A return-path domain shared by several From domains (a template
 *	without %{domain}) is checked once; done holds those checked.
 *
 *	ctl_rpath_domain() is the template's domain part for a From domain;
 *	ctl_rpath_mx() the MX judgement alone, with a lookup function of
 *	the caller's (dns_lookup, or a table in the unit test), detail
 *	saying what was found.
 *
 * DIAGNOSTICS
 *	ctl_rpath_domain() -1 when the template does not fill in (too long);
 *	ctl_rpath_mx() CTL_RPATH_DNSERR with the DNS trouble in detail.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctl_dns_int.h"
#include "ctl_rpath.h"
#include "fmt.h"
#include "orgdomain.h"
#include "return_path.h"

#define RR_A    1
#define RR_MX   15
#define RR_AAAA 28

/* ctl_rpath_domain - the domain of the return path of mail From from_domain */
int ctl_rpath_domain(const char *tmpl, const char *from_domain, char *out, size_t outlen)
{
    char addr[RETURN_PATH_MAX];
    const char *at;

    if (outlen)
        out[0] = 0;
    if (return_path_expand(tmpl, "token", from_domain, addr, sizeof(addr)) != 0
        || (at = strrchr(addr, '@')) == NULL || at[1] == 0)
        return -1;
    return util_strlcpy(out, at + 1, outlen) == 0 ? 0 : -1;
}

/* ctl_rpath_join - the records of a, comma-separated, into detail after prefix */
static void ctl_rpath_join(const char *prefix, const DNS_ANSWER *a, char *detail, size_t len)
{
    size_t used;

    fmt_trunc(detail, len, "%s", prefix);
    for (size_t i = 0; i < a->n && (used = strlen(detail)) + 1 < len; i++)
        fmt_trunc(detail + used, len - used, "%s%s", i ? ", " : " ", a->rec[i]);
}

/* ctl_rpath_addr - an A, then an AAAA of domain, as ctl_rpath_mx() answers */
static CTL_RPATH_MX ctl_rpath_addr(DNS_LOOKUP_FN lookup, void *ctx, const char *domain,
                                   char *detail, size_t len)
{
    static const int types[] = {RR_A, RR_AAAA};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        DNS_ANSWER a;
        DNS_STATUS st;

        lookup(ctx, domain, types[i], &a);
        st = a.status;
        if (st == DNS_TEMPFAIL)
            fmt_trunc(detail, len, "%s %s: %s", domain, types[i] == RR_A ? "A" : "AAAA", a.why);
        else if (st == DNS_OK)
            ctl_rpath_join(types[i] == RR_A ? "no MX; A" : "no MX; AAAA", &a, detail, len);
        dns_answer_free(&a);
        if (st == DNS_TEMPFAIL)
            return CTL_RPATH_DNSERR;
        if (st == DNS_OK)
            return CTL_RPATH_ADDR;
    }
    fmt_trunc(detail, len, "no MX, A nor AAAA");
    return CTL_RPATH_NONE;
}

/* ctl_rpath_mx - can receivers deliver a bounce to domain? */
CTL_RPATH_MX ctl_rpath_mx(DNS_LOOKUP_FN lookup, void *ctx, const char *domain, char *detail,
                          size_t len)
{
    DNS_ANSWER a;
    CTL_RPATH_MX v;
    size_t nulls = 0;

    lookup(ctx, domain, RR_MX, &a);
    if (a.status == DNS_TEMPFAIL) {
        fmt_trunc(detail, len, "%s MX: %s", domain, a.why);
        dns_answer_free(&a);
        return CTL_RPATH_DNSERR;
    }
    if (a.status != DNS_OK) {
        dns_answer_free(&a);
        return ctl_rpath_addr(lookup, ctx, domain, detail, len);
    }
    for (size_t i = 0; i < a.n; i++) {
        const char *sp = strchr(a.rec[i], ' ');

        nulls += sp && strcmp(sp + 1, ".") == 0;
    }
    /* RFC 7505: a null MX is the only MX of a domain that takes no mail */
    v = nulls ? CTL_RPATH_NULL_MX : CTL_RPATH_MX_OK;
    ctl_rpath_join(nulls ? "null MX (RFC 7505), the domain takes no mail:" : "MX", &a, detail, len);
    dns_answer_free(&a);
    return v;
}

/* ctl_rpath_mx_str - a word for v */
const char *ctl_rpath_mx_str(CTL_RPATH_MX v)
{
    switch (v) {
    case CTL_RPATH_MX_OK: return "mx";
    case CTL_RPATH_ADDR: return "address";
    case CTL_RPATH_NULL_MX: return "null-mx";
    case CTL_RPATH_NONE: return "none";
    case CTL_RPATH_DNSERR: return "dnserr";
    }
    return "?";
}

/* ctl_rpath_publish_addr - the A/AAAA records (or an MX) that let bounces in */
static void ctl_rpath_publish_addr(CTL_REPORT *r, const TXCONF *cf, const char *domain,
                                   CTL_RPATH_MX v)
{
    if (v == CTL_RPATH_NULL_MX)
        (void) buf_printf(&r->publish, "; return path: remove the null MX (\"0 .\") of %s\n",
                          domain);
    (void) buf_printf(&r->publish, "; return path: where receivers deliver bounces for %s: "
                      "this relay's EgressAddress%s (its Postfix accepting %s, see the README), "
                      "or an MX naming the host that accepts it\n", domain,
                      cf->align.egress.n == 1 ? "" : "es", domain);
    for (size_t i = 0; i < cf->align.egress.n; i++)
        (void) buf_printf(&r->publish, "%s. IN %s %s\n", domain,
                          strchr(cf->align.egress.v[i], ':') ? "AAAA" : "A", cf->align.egress.v[i]);
    if (cf->align.egress.n == 0)
        (void) buf_printf(&r->publish, "%s. IN MX 10 HOST.  ; HOST: the relay that accepts %s\n",
                          domain, domain);
}

/* ctl_rpath_check - the rows of the return path of From domain */
void ctl_rpath_check(CTL_REPORT *r, const TXCONF *cf, const char *domain, STRV *done)
{
    char rp[RETURN_PATH_MAX], detail[900];
    const char *tmpl = cf->bounce.return_path;
    CTL_RPATH_MX v;

    if (tmpl == NULL)
        return;
    if (ctl_rpath_domain(tmpl, domain, rp, sizeof(rp)) != 0) {
        ctl_dns_row(r, domain, "RPATH", CTL_FAIL, "ReturnPath %s does not fill in for %s (too long)",
                    tmpl, domain);
        return;
    }
    if (orgdomain_aligned(rp, domain, 0))
        ctl_dns_row(r, domain, "RPATH", CTL_OK, "return path @%s aligns with From %s (relaxed SPF)",
                    rp, domain);
    else
        ctl_dns_row(r, domain, "RPATH", CTL_WARN, "return path @%s does not align with From %s "
                    "(another organisational domain): DMARC rests on DKIM alone", rp, domain);
    if (strv_contains_ci(done, rp))
        return;
    strv_add(done, rp);
    (void) ctl_dns_spf(r, cf, rp);
    v = ctl_rpath_mx(dns_lookup, NULL, rp, detail, sizeof(detail));
    switch (v) {
    case CTL_RPATH_MX_OK:
    case CTL_RPATH_ADDR:
        ctl_dns_row(r, rp, "MX", CTL_OK, "%s: receivers can deliver bounces", detail);
        break;
    case CTL_RPATH_DNSERR:
        ctl_dns_row(r, rp, "MX", CTL_DNSERR, "%s", detail);
        break;
    default:
        ctl_dns_row(r, rp, "MX", CTL_FAIL, "%s: receivers cannot deliver bounces to the return "
                    "path", detail);
        ctl_rpath_publish_addr(r, cf, rp, v);
        break;
    }
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_dmarc.c - what txmilterctl dns-check says about DMARC: the RFC 7489
 * and RFC 9989 views of a domain's policy, how they differ, and records
 * written the RFC 9989 way
 *
 * SYNOPSIS
 *	#include "ctl_dmarc.h"
 *
 *	void	ctl_dmarc_view7489(const DMARC_CHECK *c, char *out, size_t len)
 *	void	ctl_dmarc_view9989(const DMARC_WALK *w, char *out, size_t len)
 *	int	ctl_dmarc_differ(const DMARC_CHECK *c, const DMARC_WALK *w,
 *			BUF *why)
 *	int	ctl_dmarc_rfc9989(const char *record, BUF *out,
 *			char *removed, size_t removedlen)
 *
 * DESCRIPTION
 *	ctl_dmarc_view7489() and ctl_dmarc_view9989() describe one
 *	generation's finding in a line: "p=reject at _dmarc.example.com
 *	(adkim=r aspf=r)", "no policy (...)", "DNS trouble: ...".
 *
 *	ctl_dmarc_differ() returns 1 when receivers of the two generations
 *	would treat mail From the domain differently: one finds a policy and
 *	the other none (or DNS trouble), they apply another policy, or they
 *	take it from another record; how is then appended to why, in the words of the
 *	preflight's verdict ("RFC 7489: no policy; RFC 9989: p=reject from
 *	the PSD _dmarc.example"). 0 when they agree.
 *
 *	ctl_dmarc_rfc9989() copies a DMARC record without the tags RFC 9989
 *	removed (pct, rf, ri), naming them in removed ("pct, ri"); pct=0
 *	becomes t=y, the tag that replaced it. Other tags keep their text
 *	and order. Returns how many tags it removed, -1 when out is full.
 *
 * DIAGNOSTICS
 *	None: pure functions; every output is bounded and NUL-terminated.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctl_dmarc.h"
#include "fmt.h"

/* view_status - the line for anything but a found policy */
static int view_status(DMARC_CHECK_STATUS st, const char *why, char *out, size_t len)
{
    if (st == DMARC_CHECK_FOUND)
        return 0;
    if (st == DMARC_CHECK_TEMPFAIL)
        fmt_trunc(out, len, "DNS trouble: %s", why);
    else
        fmt_trunc(out, len, "no policy (%s)", why);
    return 1;
}

void ctl_dmarc_view7489(const DMARC_CHECK *c, char *out, size_t len)
{
    if (view_status(c->status, c->why, out, len))
        return;
    fmt_trunc(out, len, "%s=%s at _dmarc.%s (adkim=%c aspf=%c%s)", c->policy_tag,
              dmarc_check_policy_str(c->policy), c->record_domain, c->adkim_strict ? 's' : 'r',
              c->aspf_strict ? 's' : 'r', c->pct == 0 ? " pct=0" : "");
}

/* view_psd - "the PSD " when the policy came from a public suffix domain */
static const char *view_psd(const DMARC_WALK *w)
{
    return w->rec.psd == 'y' && strcmp(w->record_domain, w->from_domain) != 0 ? "the PSD " : "";
}

void ctl_dmarc_view9989(const DMARC_WALK *w, char *out, size_t len)
{
    if (view_status(w->status, w->why, out, len))
        return;
    fmt_trunc(out, len, "%s=%s from %s_dmarc.%s (adkim=%c aspf=%c%s%s; organisational domain %s)",
              w->policy_tag, dmarc_check_policy_str(w->policy), view_psd(w), w->record_domain,
              w->rec.adkim_strict ? 's' : 'r', w->rec.aspf_strict ? 's' : 'r',
              w->rec.testing ? " t=y: one step down" : "",
              w->nonexistent ? ", the From domain does not exist" : "", w->org_domain);
}

/* differ_short - one generation in the verdict's words */
static void differ_short(DMARC_CHECK_STATUS st, DMARC_CHECK_POLICY p, const char *tag, const char *psd,
                         const char *rd, char *out, size_t len)
{
    if (st == DMARC_CHECK_TEMPFAIL)
        fmt_trunc(out, len, "DNS trouble");
    else if (st != DMARC_CHECK_FOUND)
        fmt_trunc(out, len, "no policy");
    else
        fmt_trunc(out, len, "%s=%s from %s_dmarc.%s", tag, dmarc_check_policy_str(p), psd, rd);
}

int ctl_dmarc_differ(const DMARC_CHECK *c, const DMARC_WALK *w, BUF *why)
{
    char a[ORGDOMAIN_MAX + 64], b[ORGDOMAIN_MAX + 64];
    int found7 = c->status == DMARC_CHECK_FOUND, found9 = w->status == DMARC_CHECK_FOUND;

    if (found7 != found9 || c->status == DMARC_CHECK_TEMPFAIL || w->status == DMARC_CHECK_TEMPFAIL) {
        if (c->status == w->status)
            return 0;
    } else if (!found7 || (c->policy == w->policy && strcmp(c->record_domain, w->record_domain) == 0)) {
        return 0;
    }
    differ_short(c->status, c->policy, c->policy_tag, "", c->record_domain, a, sizeof(a));
    differ_short(w->status, w->policy, w->policy_tag, view_psd(w), w->record_domain, b, sizeof(b));
    (void) util_err(why, "RFC 7489: %s; RFC 9989: %s", a, b);
    return 1;
}

/* rfc9989_removed - is the tag (name, len) one RFC 9989 removed? */
static int rfc9989_removed(const char *name, size_t len)
{
    return (len == 3 && strncasecmp(name, "pct", 3) == 0) || (len == 2 && strncasecmp(name, "rf", 2) == 0)
        || (len == 2 && strncasecmp(name, "ri", 2) == 0);
}

/* rfc9989_tag - the tag name of one "name=value" part: start and length */
static size_t rfc9989_tag(const char *part, size_t plen, const char **name)
{
    size_t i = 0, n = 0;

    while (i < plen && isspace((unsigned char) part[i]))
        i++;
    *name = part + i;
    while (i + n < plen && part[i + n] != '=' && !isspace((unsigned char) part[i + n]))
        n++;
    return n;
}

/* rfc9989_pct0 - is the part "pct=0" (blanks allowed)? */
static int rfc9989_pct0(const char *part, size_t plen)
{
    const char *eq = memchr(part, '=', plen);
    size_t i;

    if (eq == NULL)
        return 0;
    for (i = (size_t) (eq - part) + 1; i < plen && isspace((unsigned char) part[i]); i++)
        /* void */ ;
    if (i >= plen || part[i] != '0')
        return 0;
    for (i++; i < plen && isspace((unsigned char) part[i]); i++)
        /* void */ ;
    return i == plen;
}

int ctl_dmarc_rfc9989(const char *record, BUF *out, char *removed, size_t removedlen)
{
    const char *p = record;
    int nremoved = 0, nout = 0, pct0 = 0, has_t = 0;

    removed[0] = 0;
    while (*p) {
        const char *semi = strchr(p, ';'), *name;
        size_t plen = semi ? (size_t) (semi - p) : strlen(p), nlen = rfc9989_tag(p, plen, &name);

        if (nlen && rfc9989_removed(name, nlen)) {
            size_t rl = strlen(removed);

            pct0 |= nlen == 3 && rfc9989_pct0(p, plen);
            fmt_trunc(removed + rl, removedlen - rl, "%s%.*s", rl ? ", " : "", (int) nlen, name);
            nremoved++;
        } else if (nlen) {
            size_t keep = plen - (size_t) (name - p);

            while (keep && isspace((unsigned char) name[keep - 1]))
                keep--;
            has_t |= nlen == 1 && (name[0] | 0x20) == 't';
            if (buf_printf(out, "%s%.*s", nout++ ? "; " : "", (int) keep, name) < 0)
                return -1;
        }
        p = semi ? semi + 1 : p + plen;
    }
    if (pct0 && !has_t && buf_puts(out, nout ? "; t=y" : "t=y") < 0)
        return -1;
    return nremoved;
}

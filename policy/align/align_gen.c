/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * align_gen.c - act on the stricter of RFC 7489 and RFC 9989
 *
 * SYNOPSIS
 *	#include "align_gen.h"
 *
 *	void	align_gen_text(const DMARC_CHECK *c, char *out, size_t outlen)
 *	int	align_gen_rank(const ALIGN_OUTCOME *o)
 *	int	align_gen_merge(const DMARC_CHECK c[2], const ALIGN_OUTCOME o[2],
 *			ALIGN_OUTCOME *out)
 *
 * DESCRIPTION
 *	Receivers are moving from RFC 7489 to RFC 9989 one by one, so a
 *	message must survive both: DMARCMode both judges it twice and
 *	keeps the stricter outcome (refused for good over refused for now
 *	over held over delivered with a failure over delivered). The
 *	verdict names both generations when they disagree, so that an
 *	operator sees why a message RFC 7489 would deliver was refused.
 *
 * DIAGNOSTICS
 *	None: pure logic.
 */
#include <stdio.h>
#include <string.h>

#include "align_gen.h"
#include "fmt.h"
#include "util.h"

void align_gen_text(const DMARC_CHECK *c, char *out, size_t outlen)
{
    switch (c->status) {
    case DMARC_CHECK_FOUND:
        fmt_trunc(out, outlen, "%s=%s%s from %s_dmarc.%s", c->policy_tag ? c->policy_tag : "p",
                  dmarc_check_policy_str(c->policy), c->testing ? " (t=y)" : "", c->psd ? "the PSD " : "",
                  c->record_domain);
        break;
    case DMARC_CHECK_TEMPFAIL:
        fmt_trunc(out, outlen, "policy unknown (DNS)");
        break;
    default:
        fmt_trunc(out, outlen, "no policy");
        break;
    }
}

int align_gen_rank(const ALIGN_OUTCOME *o)
{
    switch (o->refuse) {
    case ALIGN_REFUSE_REJECT:
        return 4;
    case ALIGN_REFUSE_TEMPFAIL:
    case ALIGN_REFUSE_DNS:
    case ALIGN_REFUSE_NO_DNS:
        return 3;
    case ALIGN_DELIVER:
        break;
    }
    if (o->quarantine)
        return 2;
    return o->verdict && strcmp(o->verdict, "pass") != 0 && strcmp(o->verdict, "none") != 0;
}

int align_gen_merge(const DMARC_CHECK c[2], const ALIGN_OUTCOME o[2], ALIGN_OUTCOME *out)
{
    char t0[ORGDOMAIN_MAX + 64], t1[sizeof(t0)], both[2 * sizeof(t0) + 32], reasons[ALIGN_REASONS_MAX];
    int pick = align_gen_rank(&o[1]) > align_gen_rank(&o[0]) ? ALIGN_GEN_9989 : ALIGN_GEN_7489;
    size_t len;

    const char *v0 = o[0].verdict ? o[0].verdict : "none", *v1 = o[1].verdict ? o[1].verdict : "none";
    int same_verdict = strcmp(v0, v1) == 0;

    *out = o[pick];
    align_gen_text(&c[0], t0, sizeof(t0));
    align_gen_text(&c[1], t1, sizeof(t1));
    if (strcmp(t0, t1) == 0 && same_verdict)
        return pick;
    /* The verdicts too, when the policies alone do not tell them apart. */
    if (same_verdict)
        fmt_trunc(both, sizeof(both), "RFC 7489: %s; RFC 9989: %s", t0, t1);
    else
        fmt_trunc(both, sizeof(both), "RFC 7489: %s (%s); RFC 9989: %s (%s)", t0, v0, t1, v1);
    if (out->refuse != ALIGN_DELIVER) {
        fmt_trunc(reasons, sizeof(reasons), "%s: %s", both, out->reasons);
        util_strlcpy(out->reasons, reasons, sizeof(out->reasons));
    }
    len = strlen(out->summary);
    if (len + 1 < sizeof(out->summary))
        fmt_trunc(out->summary + len, sizeof(out->summary) - len, " generations=\"%s\"", both);
    return pick;
}

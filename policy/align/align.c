/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * align.c - DMARC alignment verdict and the action it leads to
 *
 * SYNOPSIS
 *	#include "align.h"
 *
 *	void	align_decide(const ALIGN_FACTS *f, enum conf_align action,
 *			enum conf_action on_dnserror, ALIGN_DECISION *d,
 *			ALIGN_OUTCOME *out)
 *
 * DESCRIPTION
 *	A message passes DMARC at a receiver when one identifier aligned
 *	with the From domain (RFC 7489 3.1, orgdomain_aligned(), per adkim=
 *	and aspf=) also authenticates:
 *	- DKIM: a signature we add with d= aligned AND its selector's
 *	  published key is our key (otherwise the signature will not verify);
 *	- SPF: the MAIL FROM domain (the HELO name for the null sender)
 *	  aligned AND SPF passes from every EgressAddress, since the relay may
 *	  leave from any of them.
 *	Verdicts: pass; fail (neither can pass); temperror (one could pass
 *	but a DNS answer is missing, or the DMARC record itself could not be
 *	fetched); none (no usable DMARC record: invalid, several, or absent).
 *	DNS trouble is never a pass.
 *
 *	Actions. Only a policy of quarantine or reject (after sp= and pct=,
 *	see dmarc_check.c) makes a failure matter: AlignmentAction reject
 *	refuses the message for good with the reasons (the pipeline replies
 *	550 5.7.26), tempfail for now (451 4.7.26), quarantine puts the
 *	message on hold, log delivers it with a warning. p=none and "no
 *	policy" deliver with a warning (Gmail and Yahoo want a DMARC record
 *	from bulk senders). A temperror with a policy of quarantine or
 *	reject, or with the policy unknown, follows On-DNSError: tempfail
 *	(ALIGN_REFUSE_DNS, 451 4.4.3, the default) or accept (delivered,
 *	warned).
 *
 *	The summary (for the message's log line and `txmilter -t`) names the
 *	verdict, the policy and where it was found, and the reasons.
 *
 * DIAGNOSTICS
 *	None: align_decide() is pure logic; the verdict's reasons are in
 *	out->summary and, when worth an operator's look, in d->warning.
 */
#include <stdio.h>
#include <string.h>

#include "align.h"
#include "fmt.h"
#include "util.h"

const char *align_verdict_str(ALIGN_VERDICT v)
{
    static const char *const names[] = {"pass", "fail", "none", "temperror"};

    return (unsigned) v < 4 ? names[v] : "unknown";
}

/* align_dkim - DKIM reasons; sets d->dkim_pass and *bad_key (the first
 * published key that is not ours, as a KEYCHECK_STATUS, or KEYCHECK_MATCH),
 * returns 1 if an aligned signature's key could not be checked (DNS) */
static int align_dkim(const ALIGN_FACTS *f, int strict, ALIGN_DECISION *d, BUF *why, BUF *brief,
                      int *bad_key)
{
    int temp = 0;

    if (f->nsig == 0) {
        buf_printf(why, "dkim: no signature (no signing key for this From address)");
        buf_printf(brief, "no DKIM signature");
    }
    for (size_t i = 0; i < f->nsig; i++) {
        const ALIGN_SIG *s = &f->sig[i];
        int aligned = f->walked ? f->sig_aligned[i] : orgdomain_aligned(s->domain, f->dmarc.from_domain, strict);

        if (aligned && s->key == KEYCHECK_MATCH)
            d->dkim_pass = 1;
        if (aligned && s->key == KEYCHECK_TEMPFAIL)
            temp = 1;
        if (s->key != KEYCHECK_MATCH && s->key != KEYCHECK_TEMPFAIL && *bad_key == KEYCHECK_MATCH)
            *bad_key = (int) s->key;
        buf_printf(why, "%sdkim d=%s s=%s %s", i ? "; " : "", s->domain, s->selector,
                   aligned ? "aligned" : "not aligned");
        if (!aligned)
            buf_printf(why, " with %s (adkim=%c)", f->dmarc.from_domain, strict ? 's' : 'r');
        if (s->key == KEYCHECK_MATCH)
            buf_printf(why, ", published key matches");
        else
            buf_printf(why, ", published key %s: %s", keycheck_str(s->key), s->key_why);
        if (!aligned)
            buf_printf(brief, "%sd=%s not aligned (adkim=%c)", i ? ", " : "", s->domain, strict ? 's' : 'r');
        else
            buf_printf(brief, "%sd=%s key %s._domainkey %s", i ? ", " : "", s->domain, s->selector,
                       s->key == KEYCHECK_MATCH ? "ok" : keycheck_str(s->key));
    }
    return temp;
}

/* align_spf - SPF reasons; sets d->spf_pass, returns 1 if SPF could pass
 * but an answer is missing */
static int align_spf(const ALIGN_FACTS *f, int strict, ALIGN_DECISION *d, BUF *why, BUF *brief)
{
    int aligned, all_pass = 1, temp = 0, definite_no = 0;

    if (f->spf_state == ALIGN_SPF_NO_EGRESS) {
        buf_printf(why, "; spf not checked (no EgressAddress)");
        buf_printf(brief, "; SPF not checked");
        return 0;
    }
    if (f->spf_state == ALIGN_SPF_NO_DOMAIN) {
        buf_printf(why, "; spf: no MAIL FROM domain nor HELO name");
        buf_printf(brief, "; no SPF identity");
        return 0;
    }
    aligned = f->walked ? f->spf_aligned : orgdomain_aligned(f->spf_domain, f->dmarc.from_domain, strict);
    buf_printf(why, "; spf %s%s %s", f->spf_is_helo ? "helo=" : "", f->spf_domain,
               aligned ? "aligned" : "not aligned");
    if (!aligned) {
        buf_printf(why, " with %s (aspf=%c)", f->dmarc.from_domain, strict ? 's' : 'r');
        buf_printf(brief, "; %s %s not aligned (aspf=%c)", f->spf_is_helo ? "HELO" : "MAIL FROM",
                   f->spf_domain, strict ? 's' : 'r');
        return 0;                           /* not evaluated: it cannot help */
    }
    for (size_t i = 0; i < f->nspf; i++) {
        const ALIGN_SPF *s = &f->spf[i];

        if (s->result != SPF_CHECK_PASS) {
            all_pass = 0;
            if (s->result == SPF_CHECK_TEMPERROR)
                temp = 1;
            else
                definite_no = 1;
        }
        buf_printf(why, "%s %s=%s", i ? "," : ":", s->ip, spf_check_result_str(s->result));
        if (s->result != SPF_CHECK_PASS && s->why[0])
            buf_printf(why, " (%s)", s->why);
        if (s->result != SPF_CHECK_PASS)
            buf_printf(brief, "; SPF %s for %s from %s", spf_check_result_str(s->result), f->spf_domain, s->ip);
    }
    d->spf_pass = aligned && all_pass && f->nspf > 0;
    return aligned && temp && !definite_no;
}

/* align_policy_text - the DMARC policy as the summary line names it */
static void align_policy_text(const DMARC_CHECK *dm, char *policy, size_t size)
{
    char pct[32] = "";

    if (dm->status != DMARC_CHECK_FOUND) {
        fmt_trunc(policy, size, "%s (%s)", dm->status == DMARC_CHECK_TEMPFAIL ? "unknown" : "none",
                  dm->why);
        return;
    }
    if (dm->pct < 100)
        snprintf(pct, sizeof(pct), ", pct=%d", dm->pct);
    if (dm->testing)
        snprintf(pct, sizeof(pct), ", t=y");
    /* The tag with its value as published (pct= or t=y may lower the policy applied). */
    fmt_trunc(policy, size, "%s (%s=%s at _dmarc.%s%s)", dmarc_check_policy_str(dm->policy),
              dm->policy_tag, dmarc_check_policy_str(strcmp(dm->policy_tag, "sp") == 0 ? dm->sp
                                                     : strcmp(dm->policy_tag, "np") == 0 ? dm->np : dm->p),
              dm->record_domain, pct);
}

/* align_on_temperror - tempfail or warn when alignment cannot be checked; the action's name */
static const char *align_on_temperror(const DMARC_CHECK *dm, enum conf_action on_dnserror, int enforce,
                                      ALIGN_DECISION *d, ALIGN_OUTCOME *out)
{
    if (enforce && on_dnserror == CONF_ACT_TEMPFAIL) {
        /* dm->why already says "DNS: ..." */
        out->refuse = ALIGN_REFUSE_DNS;
        util_strlcpy(out->domain, dm->from_domain, sizeof(out->domain));
        util_strlcpy(out->reasons, dm->status == DMARC_CHECK_TEMPFAIL ? dm->why
                     : "DNS trouble, see the relay's log", sizeof(out->reasons));
        return "tempfail";
    }
    d->warn = 1;
    fmt_trunc(d->warning, sizeof(d->warning), "DMARC alignment of %s could not be checked "
              "(DNS trouble); delivered (%s)", dm->from_domain,
              enforce ? "On-DNSError accept" : "policy none");
    return "deliver";
}

/* align_on_fail - apply AlignmentAction to a failed alignment; the action's name */
static const char *align_on_fail(const DMARC_CHECK *dm, enum conf_align action, int enforce,
                                 const BUF *why, const BUF *brief, ALIGN_DECISION *d, ALIGN_OUTCOME *out)
{
    char text[600];

    /* For the warnings below (the pipeline words the refusals, msg_reply.c). */
    fmt_trunc(text, ALIGN_REASONS_MAX, "DMARC alignment preflight failed for %s (%s=%s): %s", dm->from_domain,
              dm->policy_tag, dmarc_check_policy_str(dm->policy), brief->data ? brief->data : "");
    if (!enforce) {
        d->warn = 1;
        fmt_trunc(d->warning, sizeof(d->warning), "%s would fail DMARC; delivered because the policy is "
                  "none: %s", dm->from_domain, why->data ? why->data : "");
        return "deliver";
    }
    if (action == CONF_ALIGN_REJECT || action == CONF_ALIGN_TEMPFAIL) {
        out->refuse = action == CONF_ALIGN_REJECT ? ALIGN_REFUSE_REJECT : ALIGN_REFUSE_TEMPFAIL;
        util_strlcpy(out->domain, dm->from_domain, sizeof(out->domain));
        util_strlcpy(out->policy_tag, dm->policy_tag, sizeof(out->policy_tag));
        util_strlcpy(out->policy, dmarc_check_policy_str(dm->policy), sizeof(out->policy));
        util_strlcpy(out->reasons, brief->data ? brief->data : "", sizeof(out->reasons));
        return action == CONF_ALIGN_REJECT ? "reject" : "tempfail";
    }
    d->warn = 1;
    if (action == CONF_ALIGN_QUARANTINE) {
        out->quarantine = 1;
        fmt_trunc(d->warning, sizeof(d->warning), "%s; held (AlignmentAction quarantine)", text);
        return "quarantine";
    }
    fmt_trunc(d->warning, sizeof(d->warning), "%s; delivered (AlignmentAction log)", text);
    return "log";
}

/* align_key_warning - warn about a published DKIM key that is not ours, if nothing else warned */
static void align_key_warning(int bad_key, const BUF *why, ALIGN_DECISION *d)
{
    static const char *const what[] = {"", "does not match our key", "is missing", "is revoked",
                                       "is unusable"};

    if (bad_key == KEYCHECK_MATCH || d->warn)
        return;
    d->warn = 1;
    fmt_trunc(d->warning, sizeof(d->warning), "a published DKIM key %s: %s",
              (unsigned) bad_key < sizeof(what) / sizeof(what[0]) ? what[bad_key] : "cannot be used",
              why->data ? why->data : "");
}

/* align_decide - verdict, reasons and action */
void align_decide(const ALIGN_FACTS *f, enum conf_align action, enum conf_action on_dnserror,
                  ALIGN_DECISION *d, ALIGN_OUTCOME *out)
{
    const DMARC_CHECK *dm = &f->dmarc;
    int found = dm->status == DMARC_CHECK_FOUND, bad_key = KEYCHECK_MATCH, temp, enforce;
    const char *act = "deliver";
    char policy[400];
    BUF why, brief;

    memset(d, 0, sizeof(*d));
    memset(out, 0, sizeof(*out));
    buf_init(&why, 2048);
    buf_init(&brief, 360);
    if (dm->status == DMARC_CHECK_TEMPFAIL) {
        buf_printf(&why, "the DMARC record could not be fetched: %s", dm->why);
        temp = 1;
    } else {
        temp = align_dkim(f, found && dm->adkim_strict, d, &why, &brief, &bad_key);
        temp |= align_spf(f, found && dm->aspf_strict, d, &why, &brief);
    }

    if (dm->status == DMARC_CHECK_TEMPFAIL)
        d->verdict = ALIGN_TEMPERROR;
    else if (!found)
        d->verdict = ALIGN_NONE;
    else if (d->dkim_pass || d->spf_pass)
        d->verdict = ALIGN_PASS;
    else
        d->verdict = temp ? ALIGN_TEMPERROR : ALIGN_FAIL;

    align_policy_text(dm, policy, sizeof(policy));
    /* Would receivers act on a failure? */
    enforce = dm->status == DMARC_CHECK_TEMPFAIL || (found && dm->policy != DMARC_CHECK_P_NONE);

    switch (d->verdict) {
    case ALIGN_PASS:
        break;
    case ALIGN_NONE:
        d->warn = 1;
        fmt_trunc(d->warning, sizeof(d->warning), "%s has no usable DMARC policy: %s "
                  "(Gmail and Yahoo require a DMARC record from bulk senders)", dm->from_domain, dm->why);
        break;
    case ALIGN_TEMPERROR:
        act = align_on_temperror(dm, on_dnserror, enforce, d, out);
        break;
    case ALIGN_FAIL:
        act = align_on_fail(dm, action, enforce, &why, &brief, d, out);
        break;
    }
    align_key_warning(bad_key, &why, d);
    out->verdict = align_verdict_str(d->verdict);
    fmt_trunc(out->summary, sizeof(out->summary), "preflight=%s preflight-action=%s policy=%s reasons=\"%s\"",
              align_verdict_str(d->verdict), act, policy, why.data ? why.data : "");
    buf_free(&why);
    buf_free(&brief);
}

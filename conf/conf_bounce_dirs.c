/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_bounce_dirs.c - the bounce and complaint directives of txmilter.conf(5)
 *
 * SYNOPSIS
 *	#include "conf_int.h"
 *
 *	const CONF_PART conf_bounce_part
 *
 * DESCRIPTION
 *	conf_bounce_part holds the rows of cf->bounce, with their defaults.
 *	BounceSuppressFor (a duration such as 30d, or "forever", the
 *	default) is read by txmilter, which records bounces, and by
 *	txmilterctl, whose "suppress add --reason bounce" records one too.
 *	BounceSoftLimit (N/period as in the rate policy, base/ratespec.c)
 *	turns on txmilter's counting of soft bounces (mailbox full,
 *	delayed, transient, unclassified), N of which within the period
 *	suppress like a dead address; unset, the default, they are only
 *	logged. txmilterctl reads it too, to show the counts within the
 *	period ("suppress list --soft").
 *	FeedbackID (txmilter's) is a template checked by the pipeline's
 *	snapshot (policy/bounce/feedback_id.c); its check here says that
 *	the header it adds must be signed: SignHeaders must name it.
 *	ReturnPath (a template, checked by the snapshot with
 *	policy/bounce/return_path.c) needs UnsubscribeKeyFile, whose keys
 *	seal its tokens; ReturnPathExempt is a dataset of envelope senders
 *	that keep theirs. ComplaintAddress (txmilter's) lists the addresses
 *	feedback reports (ARF, RFC 5965) arrive at, each local@domain; it
 *	needs UnsubscribeKeyFile too, since a report counts only for a
 *	token of ours.
 *
 * DIAGNOSTICS
 *	"file:line: FeedbackID is set but SignHeaders does not name
 *	feedback-id", "file:line: ReturnPath needs UnsubscribeKeyFile",
 *	"file:line: ComplaintAddress needs UnsubscribeKeyFile"; a warning for
 *	a BounceSoftLimit without ReturnPath (nothing to count).
 */
#include <stdlib.h>

#include "conf_int.h"
#include "util.h"

static const CONF_DIR conf_bounce_dirs[] = {
    {"BounceSuppressFor", CONF_M | CONF_C, conf_parse_duration, CONF_OFF(bounce.suppress_for),
     1, 3650L * 86400},
    {"BounceSoftLimit", CONF_M | CONF_C, conf_parse_ratespec, CONF_OFF(bounce.soft_limit), 0, 0},
    {"FeedbackID", CONF_M, conf_parse_str, CONF_OFF(bounce.feedback_id), 0, 0},
    {"ReturnPath", CONF_M, conf_parse_str, CONF_OFF(bounce.return_path), 0, 0},
    {"ReturnPathExempt", CONF_M, conf_parse_str, CONF_OFF(bounce.return_path_exempt), 0, 0},
    {"ComplaintAddress", CONF_M, conf_parse_mailboxes, CONF_OFF(bounce.complaint_addrs), 0, 0},
};

/* conf_bounce_defaults - what an empty file gives: bounces suppress forever,
 * soft bounces never */
static void conf_bounce_defaults(TXCONF *cf)
{
    cf->bounce.suppress_for = 0;
    cf->bounce.soft_limit.limit = 0;
    cf->bounce.soft_limit.period_ms = 0;
    strv_init(&cf->bounce.complaint_addrs);
}

/* conf_bounce_release - free the part's strings */
static void conf_bounce_release(TXCONF *cf)
{
    free(cf->bounce.feedback_id);
    free(cf->bounce.return_path);
    free(cf->bounce.return_path_exempt);
    strv_free(&cf->bounce.complaint_addrs);
}

/* conf_bounce_check - Feedback-ID signed; the keys that ReturnPath and ComplaintAddress need */
static int conf_bounce_check(TXCONF *cf, unsigned prog, BUF *errs)
{
    if ((prog & CONF_M) && cf->bounce.feedback_id
        && !strv_contains_ci(&cf->sign.sign_headers, "feedback-id")) {
        util_err_at(errs, cf->path, conf_line(cf, "FeedbackID"),
                    "FeedbackID is set but SignHeaders does not name feedback-id: Gmail "
                    "trusts the header only when the DKIM signature covers it");
        return -1;
    }
    if ((prog & CONF_M) && cf->bounce.return_path && cf->unsub.keyfile == NULL) {
        util_err_at(errs, cf->path, conf_line(cf, "ReturnPath"),
                    "ReturnPath needs UnsubscribeKeyFile: its tokens are sealed with those keys");
        return -1;
    }
    if ((prog & CONF_M) && cf->bounce.complaint_addrs.n && cf->unsub.keyfile == NULL) {
        util_err_at(errs, cf->path, conf_line(cf, "ComplaintAddress"),
                    "ComplaintAddress needs UnsubscribeKeyFile: a report is acted on only "
                    "for a token of ours that those keys verify");
        return -1;
    }
    if ((prog & CONF_M) && cf->bounce.soft_limit.limit && cf->bounce.return_path == NULL)
        conf_warn(cf, conf_line(cf, "BounceSoftLimit"),
                  "BounceSoftLimit is set but ReturnPath is not: no bounce comes back to count");
    return 0;
}

const CONF_PART conf_bounce_part = {
    conf_bounce_dirs, CONF_NELEM(conf_bounce_dirs),
    conf_bounce_defaults, conf_bounce_release, conf_bounce_check,
};

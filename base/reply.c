/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reply.c - the one reply type of txmilter
 *
 * SYNOPSIS
 *	#include "reply.h"
 *
 *	REPLY	reply_make(REPLY_VERDICT v, const char *rcode,
 *			   const char *xcode, const char *text)
 *	REPLY	reply_continue(void)
 *
 * DESCRIPTION
 *	Every step of the pipeline answers with a REPLY: a verdict and,
 *	for a refusal, an SMTP reply code ("451"), an enhanced status code
 *	("4.7.26") and a text (worded in pipeline/msg_reply.c; the features
 *	return their own results). Only the milter callbacks and
 *	`txmilter -t` turn it into something else.
 *
 *	reply_make() builds one; NULL codes or text stay empty.
 *	reply_continue() is REPLY_CONTINUE with nothing to say.
 *
 * DIAGNOSTICS
 *	None: codes and text longer than their fields are truncated.
 */
#include <string.h>

#include "reply.h"
#include "util.h"

/* reply_make - a reply with its codes and text */
REPLY reply_make(REPLY_VERDICT v, const char *rcode, const char *xcode, const char *text)
{
    REPLY r;

    memset(&r, 0, sizeof(r));
    r.verdict = v;
    if (rcode)
        util_strlcpy(r.rcode, rcode, sizeof(r.rcode));
    if (xcode)
        util_strlcpy(r.xcode, xcode, sizeof(r.xcode));
    if (text)
        util_strlcpy(r.text, text, sizeof(r.text));
    return r;
}

/* reply_continue - go on, nothing to say */
REPLY reply_continue(void)
{
    return reply_make(REPLY_CONTINUE, NULL, NULL, NULL);
}

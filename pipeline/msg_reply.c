/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_reply.c - the words of every SMTP reply txmilter gives.
 *
 * SYNOPSIS
 *	#include "msg_reply.h"
 *
 *	REPLY	msg_reply(REPLY_VERDICT v, MSG_WHY why, ...)
 *	REPLY	msg_reply_rate(const RATE_RESULT *r)
 *	REPLY	msg_reply_align(const ALIGN_OUTCOME *o)
 *
 * DESCRIPTION
 *	One table holds, for each reason the pipeline refuses a message or
 *	a recipient, the SMTP reply code and enhanced status code of a
 *	permanent and of a temporary refusal (a reason that is one or the
 *	other has one pair) and the text, a format of the arguments
 *	msg_reply.h lists. The features say what happened (rate_txn.c a
 *	RATE_RESULT, align.c an ALIGN_OUTCOME) and msg_reply_rate() and
 *	msg_reply_align() choose the reason and its arguments; the rest of
 *	the pipeline (msg.c, msg_unsub.c) and the milter callbacks (for
 *	what happens around a message: a shutdown, a change the MTA
 *	refused) call msg_reply() themselves. Nothing else words a reply.
 *
 *	A text is cut to its row's bound (the alignment texts to 440 bytes,
 *	well within an SMTP reply line) and always to the REPLY's field.
 *
 * DIAGNOSTICS
 *	A reason outside the table, or a verdict the reason has no codes
 *	for, is a bug: logged, and answered with the reason's other codes
 *	(or 451 4.3.0 "internal error").
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dmarc_check.h"
#include "log.h"
#include "msg_reply.h"
#include "util.h"

typedef struct msg_reply_row {
    const char *perm_rcode, *perm_xcode;    /* NULL: never permanent */
    const char *temp_rcode, *temp_xcode;    /* NULL: never temporary */
    size_t      max;                        /* bytes of text at most, 0: the field's */
    const char *fmt;
} MSG_REPLY_ROW;

static const MSG_REPLY_ROW msg_reply_rows[MSG_WHY_COUNT] = {
    [MSG_WHY_BAD_SENDER] = {"553", "5.1.7", NULL, NULL, 0, "<%.200s>: bad sender address: %.200s"},
    [MSG_WHY_BAD_RCPT] = {"550", "5.1.3", NULL, NULL, 0, "<%.200s>: bad recipient address: %.200s"},
    [MSG_WHY_NO_GOOD_RCPT] = {"550", "5.1.3", NULL, NULL, 0, "<%.200s>: bad recipient address"},
    [MSG_WHY_UNSUB_UNSTORED] = {NULL, NULL, "451", "4.3.0", 0,
        "unsubscribe request cannot be stored now, try again later"},
    [MSG_WHY_HEADER_SIZE] = {"552", "5.3.4", NULL, NULL, 0,
        "header section exceeds %zu bytes (MaximumHeaders)"},
    [MSG_WHY_NO_FROM] = {"550", "5.6.0", NULL, NULL, 0, "message has no From header field"},
    [MSG_WHY_BAD_FROM] = {"550", "5.6.0", NULL, NULL, 0, "From header field %s"},
    [MSG_WHY_FROM_FIELDS] = {"550", "5.6.0", "451", "4.6.0", 0, "message has %d From header fields "
        "(RFC 5322 3.6 allows one; receivers reject it, RFC 7489 6.6.1)"},
    [MSG_WHY_FROM_EMPTY] = {"550", "5.6.0", NULL, NULL, 0, "From header field holds no address"},
    [MSG_WHY_FROM_MAILBOXES] = {"550", "5.6.0", "451", "4.6.0", 0, "From header field holds %d "
        "addresses (receivers cannot apply DMARC to it, RFC 7489 6.6.1)"},
    [MSG_WHY_NO_KEY] = {NULL, NULL, "451", "4.3.5", 0, "no DKIM signing key for %s"},
    [MSG_WHY_SIGN_TEMP] = {NULL, NULL, "451", "4.3.0", 0, "DKIM signing failed, try again later"},
    [MSG_WHY_SIGN_FAILED] = {"550", "5.3.0", NULL, NULL, 0, "DKIM signing failed"},
    [MSG_WHY_SUPPRESS_DOWN] = {NULL, NULL, "451", "4.3.0", 0,
        "suppression list unavailable, try again later"},
    [MSG_WHY_UNSUBSCRIBED] = {"550", "5.7.1", NULL, NULL, 0,
        "<%.200s>: recipient unsubscribed from mail of %.200s"},
    [MSG_WHY_ALL_UNSUBSCRIBED] = {"550", "5.7.1", NULL, NULL, 0,
        "all %zu recipients unsubscribed from mail of %.200s"},
    [MSG_WHY_BOUNCED] = {"550", "5.7.1", NULL, NULL, 0,
        "<%.200s>: recipient bounced mail of %.200s (bounced: %.16s)"},
    [MSG_WHY_COMPLAINED] = {"550", "5.7.1", NULL, NULL, 0,
        "<%.200s>: recipient complained about mail of %.200s (complaint)"},
    [MSG_WHY_SUPPRESSED_BY_HAND] = {"550", "5.7.1", NULL, NULL, 0,
        "<%.200s>: recipient unsubscribed from mail of %.200s (by the operator)"},
    [MSG_WHY_ALL_SUPPRESSED] = {"550", "5.7.1", NULL, NULL, 0,
        "all %zu recipients are suppressed from mail of %.200s (unsubscribed, bounced or complained)"},
    [MSG_WHY_RATE_LIMIT] = {NULL, NULL, "451", "4.7.1", 0, "<%s>: rate limit %s, retry in %llu s"},
    [MSG_WHY_RATE_EXCEEDED] = {"550", "5.7.1", NULL, NULL, 0, "<%s>: rate limit %s exceeded"},
    [MSG_WHY_RATE_STORE] = {NULL, NULL, "451", "4.4.3", 0,
        "<%s>: rate limit service unavailable, try again later"},
    [MSG_WHY_ALIGN_FAILED] = {"550", "5.7.26", "451", "4.7.26", ALIGN_REASONS_MAX,
        "DMARC alignment preflight failed for %s (%s=%s): %s"},
    [MSG_WHY_ALIGN_DNS] = {NULL, NULL, "451", "4.4.3", ALIGN_REASONS_MAX,
        "DMARC alignment of %s cannot be checked now (%s), try again later"},
    [MSG_WHY_ALIGN_NO_DNS] = {NULL, NULL, "451", "4.4.3", 0,
        "DMARC alignment cannot be checked now, try again later"},
    [MSG_WHY_SHUTTING_DOWN] = {NULL, NULL, "421", "4.3.2", 0, "txmilter is shutting down, try again later"},
    [MSG_WHY_UNAPPLIED] = {NULL, NULL, "451", "4.3.0", 0, "cannot add DKIM signature, try again later"},
};

/* msg_reply - the refusal for why, its text from the arguments */
REPLY msg_reply(REPLY_VERDICT v, MSG_WHY why, ...)
{
    const MSG_REPLY_ROW *row;
    char text[sizeof(((REPLY *) 0)->text)];
    int temp;
    va_list ap;

    if ((unsigned) why >= MSG_WHY_COUNT || msg_reply_rows[why].fmt == NULL) {
        log_err("internal error: no reply for reason %d", (int) why);
        return reply_make(REPLY_TEMPFAIL, "451", "4.3.0", "internal error");
    }
    row = &msg_reply_rows[why];
    temp = v == REPLY_TEMPFAIL;
    if ((temp && row->temp_rcode == NULL) || (!temp && row->perm_rcode == NULL)) {
        if (v != REPLY_TEMPFAIL && v != REPLY_REJECT)
            log_err("internal error: reply %d for reason %d is no refusal", (int) v, (int) why);
        temp = row->perm_rcode == NULL;
    }
    va_start(ap, why);
    vsnprintf(text, row->max && row->max < sizeof(text) ? row->max : sizeof(text), row->fmt, ap);
    va_end(ap);
    return reply_make(temp ? REPLY_TEMPFAIL : REPLY_REJECT, temp ? row->temp_rcode : row->perm_rcode,
                      temp ? row->temp_xcode : row->perm_xcode, text);
}

/* msg_reply_rate - what a recipient is told of its rate decision */
REPLY msg_reply_rate(const RATE_RESULT *r)
{
    if (r->outcome != RATE_TEMPFAIL && r->outcome != RATE_REJECT)
        return reply_continue();
    switch (r->reason) {
    case RATE_WHY_BAD_ADDRESS:
        return msg_reply(REPLY_REJECT, MSG_WHY_BAD_RCPT, r->rcpt, r->why);
    case RATE_WHY_STORE:
        return msg_reply(REPLY_TEMPFAIL, MSG_WHY_RATE_STORE, r->rcpt);
    default:
        if (r->outcome == RATE_REJECT)
            return msg_reply(REPLY_REJECT, MSG_WHY_RATE_EXCEEDED, r->rcpt, r->rule);
        return msg_reply(REPLY_TEMPFAIL, MSG_WHY_RATE_LIMIT, r->rcpt, r->rule, r->retry_s);
    }
}

/* msg_reply_align - what the sender is told of the alignment preflight */
REPLY msg_reply_align(const ALIGN_OUTCOME *o)
{
    switch (o->refuse) {
    case ALIGN_REFUSE_REJECT:
    case ALIGN_REFUSE_TEMPFAIL:
        return msg_reply(o->refuse == ALIGN_REFUSE_REJECT ? REPLY_REJECT : REPLY_TEMPFAIL,
                         MSG_WHY_ALIGN_FAILED, o->domain, o->policy_tag, o->policy, o->reasons);
    case ALIGN_REFUSE_DNS:
        return msg_reply(REPLY_TEMPFAIL, MSG_WHY_ALIGN_DNS, o->domain, o->reasons);
    case ALIGN_REFUSE_NO_DNS:
        return msg_reply(REPLY_TEMPFAIL, MSG_WHY_ALIGN_NO_DNS);
    default:
        return reply_continue();
    }
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_reply.h - every SMTP reply txmilter gives, in one table: the
 * pipeline's own refusals and the words for the features' results (rate
 * limiting's RATE_RESULT, the alignment preflight's ALIGN_OUTCOME). The
 * features return facts; only the pipeline turns them into REPLYs.
 */
#ifndef TX_MSG_REPLY_H
#define TX_MSG_REPLY_H

#include "align.h"
#include "rate_txn.h"
#include "reply.h"

/* Why the MTA is told no; the arguments each text takes follow. */
typedef enum msg_why {
    MSG_WHY_BAD_SENDER = 0,     /* 553 5.1.7; address, why */
    MSG_WHY_BAD_RCPT,           /* 550 5.1.3; address, why */
    MSG_WHY_NO_GOOD_RCPT,       /* 550 5.1.3; address (non-SMTP: none can be read) */
    MSG_WHY_UNSUB_UNSTORED,     /* 451 4.3.0 */
    MSG_WHY_HEADER_SIZE,        /* 552 5.3.4; size_t MaximumHeaders */
    MSG_WHY_NO_FROM,            /* 550 5.6.0 */
    MSG_WHY_BAD_FROM,           /* 550 5.6.0; what is wrong (hdr_strerror()) */
    MSG_WHY_FROM_FIELDS,        /* 550 5.6.0 or 451 4.6.0; int fields */
    MSG_WHY_FROM_EMPTY,         /* 550 5.6.0 */
    MSG_WHY_FROM_MAILBOXES,     /* 550 5.6.0 or 451 4.6.0; int mailboxes */
    MSG_WHY_NO_KEY,             /* 451 4.3.5; domain */
    MSG_WHY_SIGN_TEMP,          /* 451 4.3.0 */
    MSG_WHY_SIGN_FAILED,        /* 550 5.3.0 */
    MSG_WHY_SUPPRESS_DOWN,      /* 451 4.3.0 */
    MSG_WHY_UNSUBSCRIBED,       /* 550 5.7.1; address, stream */
    MSG_WHY_ALL_UNSUBSCRIBED,   /* 550 5.7.1; size_t recipients, stream */
    MSG_WHY_BOUNCED,            /* 550 5.7.1; address, stream, DSN status */
    MSG_WHY_COMPLAINED,         /* 550 5.7.1; address, stream */
    MSG_WHY_SUPPRESSED_BY_HAND, /* 550 5.7.1; address, stream */
    MSG_WHY_ALL_SUPPRESSED,     /* 550 5.7.1; size_t recipients, stream (reasons mixed) */
    MSG_WHY_RATE_LIMIT,         /* 451 4.7.1; address, rule, unsigned long long seconds */
    MSG_WHY_RATE_EXCEEDED,      /* 550 5.7.1; address, rule */
    MSG_WHY_RATE_STORE,         /* 451 4.4.3; address */
    MSG_WHY_ALIGN_FAILED,       /* 550 5.7.26 or 451 4.7.26; domain, tag, policy, reasons */
    MSG_WHY_ALIGN_DNS,          /* 451 4.4.3; domain, DNS trouble */
    MSG_WHY_ALIGN_NO_DNS,       /* 451 4.4.3 (no resolver) */
    MSG_WHY_SHUTTING_DOWN,      /* 421 4.3.2 (the daemon drains its messages) */
    MSG_WHY_UNAPPLIED,          /* 451 4.3.0 (the MTA refused a header change) */
    MSG_WHY_COUNT
} MSG_WHY;

/* msg_reply - the refusal for why, under verdict v (REPLY_REJECT or
 * REPLY_TEMPFAIL; a why that has one kind only takes its own), its text
 * formatted from the arguments listed above */
REPLY   msg_reply(REPLY_VERDICT v, MSG_WHY why, ...);

/* msg_reply_rate - the reply for a recipient's rate decision:
 * REPLY_CONTINUE for RATE_ACCEPT and RATE_DEFERRED */
REPLY   msg_reply_rate(const RATE_RESULT *r);

/* msg_reply_align - the reply for the alignment preflight's outcome:
 * REPLY_CONTINUE unless it refuses */
REPLY   msg_reply_align(const ALIGN_OUTCOME *o);

#endif

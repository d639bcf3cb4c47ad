/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_rate.h - the per-recipient step of a message (msg_rate.c): rate
 * decisions, recipients that cannot be normalised, what leaves the
 * message at its end. Private to pipeline/, like msg_int.h.
 */
#ifndef TX_MSG_RATE_H
#define TX_MSG_RATE_H

#include <stddef.h>

#include "msg.h"
#include "rate_txn.h"
#include "util.h"

/* What the rate step keeps of one message. */
typedef struct msg_rate {
    RATE_TXN   *txn;                /* rate limits of this transaction, or NULL */
    RATE_STORE_SUP *sup;            /* per accepted recipient: suppressions fetched with its decision */
    size_t      nsup;
    STRV        bad;                /* non-SMTP: cannot be normalised, removed at the end */
} MSG_RATE;

void msg_rate_init(MSG *m, const char *sender_norm);
void msg_rate_free(MSG *m);

/* msg_rate_bad_rcpt - an outbound recipient that cannot be normalised:
 * refused 550 5.1.3, or under non-SMTP kept to be removed at the end */
REPLY msg_rate_bad_rcpt(MSG *m, const char *rcpt, const char *why);

/* msg_rate_rcpt - the rate decision of recipient rcpt (normalised norm):
 * 1 accepted (its suppressions, when fetched with it, kept as the next
 * recipient's), 0 with *r set (refused, or deferred to the end) */
int msg_rate_rcpt(MSG *m, const char *rcpt, const char *norm, REPLY *r);

/* msg_rate_sup - the suppressions fetched with accepted recipient i, or NULL */
const RATE_STORE_SUP *msg_rate_sup(const MSG *m, size_t i);

/* msg_rate_refund - a recipient that will not be sent to uses no quota */
void msg_rate_refund(MSG *m, const char *given);

/* msg_rate_quarantine - why a rule quarantines the message, or NULL */
const char *msg_rate_quarantine(const MSG *m);

/* msg_rate_eom - 1 when no recipient may have the message (*r: refused) */
int msg_rate_eom(MSG *m, REPLY *r);

/* msg_rate_removals - recipients over a limit or with a bad address
 * leave the message; the rate quota is committed */
void msg_rate_removals(MSG *m);

#endif

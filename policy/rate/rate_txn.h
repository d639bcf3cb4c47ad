/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_txn.h - rate limiting across one SMTP transaction: decides each
 * recipient at RCPT, remembers what was charged, and gives it all back
 * unless the message is finally accepted (rate_txn_commit()).
 */
#ifndef TX_RATE_TXN_H
#define TX_RATE_TXN_H

#include <stddef.h>

#include "addr_norm.h"
#include "rate_policy.h"
#include "rate_store.h"

typedef enum rate_outcome {
    RATE_ACCEPT = 0,            /* go on */
    RATE_TEMPFAIL,              /* refuse this recipient for now (reply set) */
    RATE_REJECT,                /* refuse this recipient (reply set) */
    RATE_DEFERRED,              /* non-SMTP: over the limit, decided at end of message */
} RATE_OUTCOME;

/* Why a recipient is refused (the pipeline words the reply, msg_reply.c). */
typedef enum rate_reason {
    RATE_WHY_NONE = 0,          /* accepted */
    RATE_WHY_BAD_ADDRESS,       /* the recipient cannot be normalised: why says how */
    RATE_WHY_LIMIT,             /* a rule refused: rule, and retry_s for a tempfail */
    RATE_WHY_STORE,             /* the store is unavailable under StoreFailure tempfail */
} RATE_REASON;

/* One recipient's rate decision. */
typedef struct rate_result {
    RATE_OUTCOME outcome;
    RATE_REASON reason;
    char        rcpt[ADDR_NORM_MAX];    /* the recipient as given, without its <> */
    char        rule[RATE_RULE_NAME_MAX]; /* RATE_WHY_LIMIT: the refusing rule */
    unsigned long long retry_s;         /* RATE_WHY_LIMIT: seconds until it may pass */
    char        why[256];               /* RATE_WHY_BAD_ADDRESS: what is wrong */
} RATE_RESULT;

/* What one rule said of one recipient (for the counters). */
typedef enum rate_rule_result {
    RATE_RULE_ALLOWED = 0,
    RATE_RULE_REFUSED,
    RATE_RULE_SHADOW_REFUSED,   /* a shadow rule that would have refused */
} RATE_RULE_RESULT;

typedef struct rate_decision {
    const RATE_RULE *rule;
    RATE_RULE_RESULT result;
} RATE_DECISION;

typedef struct rate_txn RATE_TXN;

/* rate_txn_new - a transaction of sender (normalised, or as given in MAIL FROM) from
 * client (address text) logged in as auth ("" if not). non_smtp: mail
 * from sendmail(1)/pickup, where Postfix cannot refuse single recipients. */
RATE_TXN *rate_txn_new(const RATE_POLICY *p, const ADDR_NORM_OPTS *norm, const char *sender,
                       const char *client, const char *auth, int non_smtp);

/* rate_txn_rcpt - decide one recipient: rcpt as given in RCPT TO, norm
 * its normal form (addr_smtp_norm() of the MTA's reading), or NULL to
 * read rcpt here; one that cannot be normalised is refused
 * (RATE_WHY_BAD_ADDRESS). Logs
 * every refusal, shadow hit and store trouble with the queue id. */
RATE_RESULT rate_txn_rcpt(RATE_TXN *t, RATE_STORE *store, const char *rcpt, const char *norm,
                         const char *qid);

/* rate_txn_rcpt_sup - rate_txn_rcpt() that also has the store fetch sup
 * (rate_store.h) in the same call when it can; sup NULL: rate_txn_rcpt() */
RATE_RESULT rate_txn_rcpt_sup(RATE_TXN *t, RATE_STORE *store, const char *rcpt, const char *norm,
                             const char *qid, RATE_STORE_SUP *sup);

/* rate_txn_sup_free - free what a decision fetched into sup (its lists) */
void rate_txn_sup_free(RATE_STORE_SUP *sup);

/* rate_txn_decisions - what each rule said of the recipient last decided
 * by rate_txn_rcpt*(): how many (0 when no store decided: none applies,
 * or the store was unavailable), *d set to them. Valid until the next call. */
size_t rate_txn_decisions(const RATE_TXN *t, const RATE_DECISION **d);

/* rate_txn_rule_result_str - "allowed", "refused", "shadow-refused" */
const char *rate_txn_rule_result_str(RATE_RULE_RESULT r);

/* rate_txn_quarantine - the reason to hold the message, or NULL */
const char *rate_txn_quarantine(const RATE_TXN *t);

/* rate_txn_deferred - non-SMTP recipients over a limit: how many, the i-th
 * address as given, and the refusal that applies when every recipient is. */
size_t rate_txn_deferred(const RATE_TXN *t);
const char *rate_txn_deferred_rcpt(const RATE_TXN *t, size_t i);
RATE_RESULT rate_txn_deferred_result(const RATE_TXN *t);

/* rate_txn_accepted - recipients accepted so far */
size_t rate_txn_accepted(const RATE_TXN *t);

/* rate_txn_refund_rcpt - give back what one recipient (as given to
 * rate_txn_rcpt()) was charged: it was removed from the message later */
void rate_txn_refund_rcpt(RATE_TXN *t, RATE_STORE *store, const char *rcpt);

/* rate_txn_commit - the message was accepted: keep the charges */
void rate_txn_commit(RATE_TXN *t);

/* rate_txn_free - give back every charge unless committed, then free */
void rate_txn_free(RATE_TXN *t, RATE_STORE *store);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_match.h - what the rate policy says about one recipient: which rules
 * apply with which keys, and, once the store has counted, the verdict.
 * Pure logic; the store is asked by the caller (msg.c, the control socket).
 */
#ifndef TX_RATE_MATCH_H
#define TX_RATE_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "rate_policy.h"
#include "rate_store.h"

/* The facts of one recipient of one transaction. */
typedef struct rate_match_ctx {
    const char *rcpt;           /* normalised recipient */
    const char *sender;         /* normalised envelope sender, "" for <> */
    const char *client;         /* client IP address text, "" if none */
    const char *auth;           /* SASL login, "" if none */
} RATE_MATCH_CTX;

/* rate_match_items - one item per rule that applies (rules whose exemptions
 * match are skipped, and so are rules keyed on a part the transaction does
 * not have, e.g. auth for an unauthenticated client). Returns how many. */
size_t rate_match_items(const RATE_POLICY *p, const RATE_MATCH_CTX *c, RATE_STORE_ITEM *items,
                        size_t max);

/* rate_match_why_not - why rate_match_items() gives no item for rule r: the
 * exemption that matches, or the key part the transaction lacks */
const char *rate_match_why_not(const RATE_RULE *r, const RATE_MATCH_CTX *c);

typedef struct rate_match_verdict {
    int              refused;   /* a non-shadow rule refuses */
    RATE_ACTION      action;    /* what the deciding rule says */
    const RATE_RULE *rule;      /* the deciding rule (NULL when not refused) */
    uint64_t         wait_ms;   /* its wait */
    uint32_t         count;     /* its count */
    size_t           shadow;    /* shadow rules that would have refused */
} RATE_MATCH_VERDICT;

/* rate_match_verdict - the deciding rule among those that refuse: reject
 * before tempfail before quarantine, then the longest wait, so the retry
 * time the client is told is never too early. */
void rate_match_verdict(const RATE_STORE_ITEM *items, const RATE_STORE_RESULT *res, size_t n,
                        RATE_MATCH_VERDICT *v);

/* rate_match_retry_s - a wait in ms as whole seconds for a reply, rounded up */
uint64_t rate_match_retry_s(uint64_t wait_ms);

#endif

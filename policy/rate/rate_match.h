/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_match.h - what the rate policy says about one recipient: which rules
 * apply with which keys, and, once the store has counted, the verdict.
 * Pure logic; the store is asked by the caller (msg.c, the control socket).
 */
#ifndef TX_RATELIMIT_H
#define TX_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "rate_policy.h"
#include "rate_store.h"

/* The facts of one recipient of one transaction. */
typedef struct ratelimit_ctx {
    const char *rcpt;           /* normalised recipient */
    const char *sender;         /* normalised envelope sender, "" for <> */
    const char *client;         /* client IP address text, "" if none */
    const char *auth;           /* SASL login, "" if none */
} RATELIMIT_CTX;

/* ratelimit_items - one item per rule that applies (rules whose exemptions
 * match are skipped, and so are rules keyed on a part the transaction does
 * not have, e.g. auth for an unauthenticated client). Returns how many. */
size_t ratelimit_items(const RL_POLICY *p, const RATELIMIT_CTX *c, RL_ITEM *items, size_t max);

/* ratelimit_why_not - why ratelimit_items() gives no item for rule r: the
 * exemption that matches, or the key part the transaction lacks */
const char *ratelimit_why_not(const RL_RULE *r, const RATELIMIT_CTX *c);

typedef struct ratelimit_verdict {
    int            refused;     /* a non-shadow rule refuses */
    RL_ACTION      action;      /* what the deciding rule says */
    const RL_RULE *rule;        /* the deciding rule (NULL when not refused) */
    uint64_t       wait_ms;     /* its wait */
    uint32_t       count;       /* its count */
    size_t         shadow;      /* shadow rules that would have refused */
} RATELIMIT_VERDICT;

/* ratelimit_verdict - the deciding rule among those that refuse: reject
 * before tempfail before quarantine, then the longest wait, so the retry
 * time the client is told is never too early. */
void ratelimit_verdict(const RL_ITEM *items, const RL_RESULT *res, size_t n, RATELIMIT_VERDICT *v);

/* ratelimit_retry_s - a wait in ms as whole seconds for a reply, rounded up */
uint64_t ratelimit_retry_s(uint64_t wait_ms);

#endif

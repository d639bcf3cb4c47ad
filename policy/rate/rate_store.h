/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_store.h - where rate state lives: in the txmilter process (embedded)
 * or in Redis shared by several relays. One call decides every rule that
 * applies to one recipient, atomically: if any rule refuses, no rule is
 * charged; if all allow, all are charged with the same stamp, which a
 * later refund names.
 */
#ifndef TX_RL_STORE_H
#define TX_RL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "rate_policy.h"
#include "util.h"

#define RL_KEY_MAX      600     /* bytes of one rate key */
#define RL_MAX_KEYS     64      /* rules deciding one recipient */

/* One rule's key for one recipient. */
typedef struct rl_item {
    const RL_RULE *rule;
    char     key[RL_KEY_MAX];   /* "rule-name|rcpt=a@b|sender_domain=x" */
} RL_ITEM;

/* The result for each item. */
typedef struct rl_result {
    int      allowed;           /* this rule alone would allow it */
    uint32_t count;             /* events in the window before this one */
    uint64_t wait_ms;           /* when refused: until one more is allowed */
} RL_RESULT;

typedef enum rl_status {
    RL_OK = 0,                  /* decided: see results */
    RL_UNAVAILABLE = -1,        /* the store could not be asked (Redis down, timeout) */
    RL_TEMPFAIL = -2,           /* StoreFailure tempfail refuses while the store is away
                                 * (rate_store_failover.c) */
    RL_NOT_ASKED = -3,          /* unavailable, and nothing was sent: the store's own
                                 * circuit breaker (redis_pool.c) is open */
} RL_STATUS;

#define RL_SUP_MAX      16      /* a recipient's suppressions fetched with its decision */

/* What a decision may fetch of the suppression list in the same round trip:
 * the streams rcpt is suppressed from (entries that lapsed left out), for
 * the check at end of headers, and why. The caller zeroes it (or
 * strv_init()s both lists) and frees it with rate_txn_sup_free(). */
typedef struct rl_sup {
    const char *rcpt;           /* in: the recipient as the suppression list names it */
    int      fetched;           /* out: 1 if streams holds every one (at most RL_SUP_MAX) */
    STRV     streams;           /* out: the streams */
    STRV     values;            /* out: each one's stored entry, as suppress_redis_value() reads it */
} RL_SUP;

typedef struct rate_store RL_STORE;

typedef struct rl_store_ops {
    /* decide - check every item; charge all of them (stamp returned) only
     * if every non-shadow item allows. Shadow items are charged whenever
     * the recipient is accepted. */
    RL_STATUS (*decide)(RL_STORE *s, const RL_ITEM *items, size_t n, RL_RESULT *res,
                        int *accepted, uint64_t *stamp_ms);
    /* refund - give back what decide() charged for these items at stamp */
    RL_STATUS (*refund)(RL_STORE *s, const RL_ITEM *items, size_t n, uint64_t stamp_ms);
    /* peek - current count and wait for one item, consuming nothing */
    RL_STATUS (*peek)(RL_STORE *s, const RL_ITEM *item, RL_RESULT *res);
    /* reset - forget one key (all rules if item->rule is NULL and key names a prefix? no: one key) */
    RL_STATUS (*reset)(RL_STORE *s, const char *key);
    void (*free)(RL_STORE *s);
    const char *name;           /* "embedded", "redis" */
    /* decide_sup - decide() that also fills in sup (NULL: the store cannot;
     * sup->fetched 0: it did not, the caller asks the list itself) */
    RL_STATUS (*decide_sup)(RL_STORE *s, const RL_ITEM *items, size_t n, RL_RESULT *res,
                            int *accepted, uint64_t *stamp_ms, RL_SUP *sup);
} RL_STORE_OPS;

struct rate_store {
    const RL_STORE_OPS *ops;
};

#endif

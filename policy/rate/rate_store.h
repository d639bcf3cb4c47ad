/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_store.h - where rate state lives: in the txmilter process (embedded)
 * or in Redis shared by several relays. One call decides every rule that
 * applies to one recipient, atomically: if any rule refuses, no rule is
 * charged; if all allow, all are charged with the same stamp, which a
 * later refund names.
 */
#ifndef TX_RATE_STORE_H
#define TX_RATE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "rate_policy.h"
#include "util.h"

#define RATE_STORE_KEY_MAX      600     /* bytes of one rate key */
#define RATE_STORE_ITEMS_MAX    64      /* rules deciding one recipient */

/* One rule's key for one recipient. */
typedef struct rate_store_item {
    const RATE_RULE *rule;
    char     key[RATE_STORE_KEY_MAX]; /* "rule-name|rcpt=a@b|sender_domain=x" */
} RATE_STORE_ITEM;

/* The result for each item. */
typedef struct rate_store_result {
    int      allowed;           /* this rule alone would allow it */
    uint32_t count;             /* events in the window before this one */
    uint64_t wait_ms;           /* when refused: until one more is allowed */
} RATE_STORE_RESULT;

typedef enum rate_store_status {
    RATE_STORE_OK = 0,              /* decided: see results */
    RATE_STORE_UNAVAILABLE = -1,    /* the store could not be asked (Redis down, timeout) */
    RATE_STORE_TEMPFAIL = -2,       /* StoreFailure tempfail refuses while the store is away
                                     * (rate_store_failover.c) */
    RATE_STORE_NOT_ASKED = -3,      /* unavailable, and nothing was sent: the store's own
                                     * circuit breaker (redis_pool.c) is open */
} RATE_STORE_STATUS;

#define RATE_STORE_SUP_MAX 16   /* a recipient's suppressions fetched with its decision */

/* What a decision may fetch of the suppression list in the same round trip:
 * the streams rcpt is suppressed from (entries that lapsed left out), for
 * the check at end of headers, and why. The caller zeroes it (or
 * strv_init()s both lists) and frees it with rate_txn_sup_free(). */
typedef struct rate_store_sup {
    const char *rcpt;           /* in: the recipient as the suppression list names it */
    int      fetched;           /* out: 1 if streams holds every one (at most RATE_STORE_SUP_MAX) */
    STRV     streams;           /* out: the streams */
    STRV     values;            /* out: each one's stored entry, as suppress_redis_value() reads it */
} RATE_STORE_SUP;

typedef struct rate_store RATE_STORE;

typedef struct rate_store_ops {
    /* decide - check every item; charge all of them (stamp returned) only
     * if every non-shadow item allows. Shadow items are charged whenever
     * the recipient is accepted. */
    RATE_STORE_STATUS (*decide)(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                RATE_STORE_RESULT *res, int *accepted, uint64_t *stamp_ms);
    /* refund - give back what decide() charged for these items at stamp */
    RATE_STORE_STATUS (*refund)(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                uint64_t stamp_ms);
    /* peek - current count and wait for one item, consuming nothing */
    RATE_STORE_STATUS (*peek)(RATE_STORE *s, const RATE_STORE_ITEM *item, RATE_STORE_RESULT *res);
    /* reset - forget one key (all rules if item->rule is NULL and key names a prefix? no: one key) */
    RATE_STORE_STATUS (*reset)(RATE_STORE *s, const char *key);
    void (*free)(RATE_STORE *s);
    const char *name;           /* "embedded", "redis" */
    /* decide_sup - decide() that also fills in sup (NULL: the store cannot;
     * sup->fetched 0: it did not, the caller asks the list itself) */
    RATE_STORE_STATUS (*decide_sup)(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                    RATE_STORE_RESULT *res, int *accepted, uint64_t *stamp_ms,
                                    RATE_STORE_SUP *sup);
} RATE_STORE_OPS;

struct rate_store {
    const RATE_STORE_OPS *ops;
};

#endif

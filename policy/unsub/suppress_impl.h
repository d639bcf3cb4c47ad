/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress_impl.h - what suppress.c needs of each suppression store
 * (suppress_sqlite.c, suppress_redis.c). Not an interface for anyone else:
 * callers use suppress.h. Arguments reach a store already checked
 * (non-empty, bounded, no control characters) and err already reset;
 * the evidence is never NULL, bounded and free of control characters.
 */
#ifndef TX_SUPPRESS_IMPL_H
#define TX_SUPPRESS_IMPL_H

#include "redis_pool.h"
#include "suppress.h"

typedef struct suppress_ops {
    int  (*add)(SUPPRESS *s, const char *rcpt, const char *stream, const char *source,
                const SUPPRESS_INFO *info, BUF *err);
    /* check - 1 with *reason and evidence (SUPPRESS_EVIDENCE_MAX) filled,
     * 0 absent or lapsed, -1 */
    int  (*check)(SUPPRESS *s, const char *rcpt, const char *stream, SUPPRESS_REASON *reason,
                  char *evidence, BUF *err);
    /* soft - count one soft bounce report; the distinct reports in the window, or -1 */
    long (*soft)(SUPPRESS *s, const char *rcpt, const char *stream, const char *report,
                 uint64_t window_s, BUF *err);
    /* soft_list - the pairs with reports in the window, read only; their number, or -1 */
    long (*soft_list)(SUPPRESS *s, const char *rcpt, const char *stream, uint64_t window_s,
                      void (*fn)(const SUPPRESS_SOFT *e, void *arg), void *arg, BUF *err);
    int  (*remove)(SUPPRESS *s, const char *rcpt, const char *stream, BUF *err);
    long (*list)(SUPPRESS *s, const char *rcpt, const char *stream,
                 void (*fn)(const SUPPRESS_ENTRY *e, void *arg), void *arg, BUF *err);
    void (*close)(SUPPRESS *s);
} SUPPRESS_OPS;

struct sp_health;

struct suppress {
    const SUPPRESS_OPS *ops;
    struct sp_health *health;   /* suppress.c's: counters and outage log */
};

/* suppress_sqlite_open - datadir/suppress.db; NULL with a reason */
SUPPRESS *suppress_sqlite_open(const char *datadir, unsigned timeout_ms, BUF *err);

/* suppress_redis_open - url as for Store; does not connect. NULL with a reason */
SUPPRESS *suppress_redis_open(const char *url, unsigned timeout_ms, BUF *err);

/* suppress_redis_open_pool - on a pool the caller frees after the list */
SUPPRESS *suppress_redis_open_pool(REDIS_POOL *pool);

/* suppress_seterr - err = the formatted reason; returns -1 */
int suppress_seterr(BUF *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress.h - the suppression list: who unsubscribed from what.
 * Embedded (SQLite file in DataDirectory, WAL mode, shared by txmilter and
 * txmilter-unsubd) or Redis (the same Store as the rate limits). Entries
 * are (recipient, stream) pairs, both normalised; adding is idempotent.
 * Each keeps why it is there (reason), when, the evidence and when it
 * lapses (bounces may: BounceSuppressFor); a lapsed entry suppresses
 * nothing.
 */
#ifndef TX_SUPPRESS_H
#define TX_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SUPPRESS_FIELD_MAX 320     /* bytes of a recipient or stream, NUL included */
#define SUPPRESS_EVIDENCE_MAX 256  /* bytes of the evidence kept, NUL included */

typedef struct suppress SUPPRESS;

/* Why an entry is there. The names are stored (SQLite column, Redis value). */
typedef enum suppress_reason {
    SUPPRESS_UNSUBSCRIBE = 0,   /* List-Unsubscribe: one-click or mailto */
    SUPPRESS_BOUNCE,            /* a DSN: permanent failure, or too many transient */
    SUPPRESS_COMPLAINT,         /* an ARF feedback report */
    SUPPRESS_MANUAL,            /* txmilterctl suppress add */
    SUPPRESS_REASONS
} SUPPRESS_REASON;

typedef struct suppress_entry {
    const char *rcpt;
    const char *stream;
    uint64_t    created;        /* seconds since the epoch */
    const char *source;         /* "http", "mail", "txmilterctl", "dsn", "arf" */
    SUPPRESS_REASON reason;
    const char *evidence;       /* "" or e.g. "status=5.1.1 diag=smtp; 550 5.1.1 ..." */
    uint64_t    expires;        /* seconds since the epoch; 0 never */
} SUPPRESS_ENTRY;

/* What suppress_record() keeps besides the pair and the source. */
typedef struct suppress_info {
    SUPPRESS_REASON reason;
    const char *evidence;       /* NULL or text; cut to SUPPRESS_EVIDENCE_MAX - 1
                                 * bytes, control characters made spaces */
    uint64_t    expire_after;   /* seconds from now (the store's clock); 0 never */
} SUPPRESS_INFO;

typedef struct suppress_stats {
    uint64_t answered;          /* calls the store answered */
    uint64_t checks_failed;     /* suppress_check() that could not tell */
    uint64_t writes_failed;     /* suppress_add() that could not record */
    int      up;                /* the last call was answered */
} SUPPRESS_STATS;

/* suppress_open - "embedded" (SQLite at datadir/suppress.db, created with
 * mode 0640 if missing) or a redis URL as for Store. NULL with a reason. */
SUPPRESS *suppress_open(const char *store, const char *datadir, unsigned timeout_ms, BUF *err);
void suppress_close(SUPPRESS *s);

/* suppress_open_pool - the list in the Redis of pool, which the caller
 * shares (txmilter's rate store) and frees after suppress_close().
 * on_failure says in the outage log line what becomes of mail meanwhile. */
struct redis_pool;
SUPPRESS *suppress_open_pool(struct redis_pool *pool, const char *on_failure);

/* suppress_answered - lookups were answered for the list by another call on
 * its store (the rate script, rate_store.h's RATE_STORE_SUP): the list is up */
void suppress_answered(SUPPRESS *s);

/* suppress_stats - a copy of the counters */
void suppress_stats(SUPPRESS *s, SUPPRESS_STATS *st);

/* suppress_add - record (idempotent); 0, or -1 with a reason (store down).
 * The reason is manual for source "txmilterctl", else unsubscribe. */
int suppress_add(SUPPRESS *s, const char *rcpt, const char *stream, const char *source, BUF *err);

/* suppress_record - record with a reason, evidence and expiry. An entry
 * already there stays as it is unless it lapses (expires != 0) before the
 * new one would: a bounce never shortens an unsubscribe, a repeated bounce
 * renews its own. 0, or -1 with a reason. */
int suppress_record(SUPPRESS *s, const char *rcpt, const char *stream, const char *source,
                    const SUPPRESS_INFO *info, BUF *err);

#define SUPPRESS_REPORT_MAX 65    /* bytes of a report id, NUL included */

/* suppress_soft_count - count one soft bounce (mailbox full, delayed, a
 * transient or unclassified failure) of rcpt from stream: report is the
 * report's id (1 to SUPPRESS_REPORT_MAX - 1 letters, digits, '-', '_',
 * '.'), so that a report sent again (after a 451, or a timeout whose
 * command still ran) counts once. Returns the distinct reports counted
 * within the last window_s seconds (1 s to 366 days), this one included
 * (>= 1), or -1 with a reason (store down: the caller must not lose the
 * bounce). suppress_remove() forgets the pair's reports too. */
long suppress_soft_count(SUPPRESS *s, const char *rcpt, const char *stream, const char *report,
                         uint64_t window_s, BUF *err);

/* One (recipient, stream) pair's soft bounces within a window. */
typedef struct suppress_soft {
    const char *rcpt;
    const char *stream;
    long        count;          /* distinct reports in the window (>= 1) */
    uint64_t    first, last;    /* when the oldest and newest were counted; 0 unknown */
} SUPPRESS_SOFT;

/* suppress_soft_list - call fn for every pair (rcpt or stream NULL: all)
 * with soft bounce reports counted within the last window_s seconds (1 s
 * to 366 days), without counting or pruning anything; the number of
 * pairs, or -1 with a reason */
long suppress_soft_list(SUPPRESS *s, const char *rcpt, const char *stream, uint64_t window_s,
                        void (*fn)(const SUPPRESS_SOFT *e, void *arg), void *arg, BUF *err);

/* suppress_check - 1 suppressed, 0 not, -1 could not tell (reason in err) */
int suppress_check(SUPPRESS *s, const char *rcpt, const char *stream, BUF *err);

/* suppress_lookup - suppress_check() that also says why: on 1, reason and
 * evidence (evidence: SUPPRESS_EVIDENCE_MAX bytes, may be NULL) */
int suppress_lookup(SUPPRESS *s, const char *rcpt, const char *stream, SUPPRESS_REASON *reason,
                    char *evidence, BUF *err);

/* suppress_remove - 1 removed, 0 was not there, -1 error; the pair's
 * soft bounce reports (suppress_soft_count()) go with it */
int suppress_remove(SUPPRESS *s, const char *rcpt, const char *stream, BUF *err);

/* suppress_list - call fn for every entry (rcpt or stream NULL: all);
 * returns the count, or -1 on error */
long suppress_list(SUPPRESS *s, const char *rcpt, const char *stream,
                   void (*fn)(const SUPPRESS_ENTRY *e, void *arg), void *arg, BUF *err);

/* suppress_redis_value - a Redis list's stored entry ("CREATED SOURCE
 * REASON EXPIRES EVIDENCE", as the rate script hands over in RATE_STORE_SUP's
 * values) into reason and evidence (SUPPRESS_EVIDENCE_MAX bytes); 0, or -1
 * if malformed (reason manual, evidence "": it is there, cause unknown) */
int suppress_redis_value(const char *value, SUPPRESS_REASON *reason, char *evidence);

/* suppress_reason_name - "unsubscribe", "bounce", "complaint", "manual" */
const char *suppress_reason_name(SUPPRESS_REASON r);

/* suppress_reason_parse - the reason named s (case-insensitive); -1 if none */
int suppress_reason_parse(const char *s);

/* suppress_norm_stream - a stream as stored and sealed into tokens: an
 * address ("News+x@Shop.EXAMPLE.") is addr_norm()ed without subaddress
 * separators or the Gmail dot rule ("news+x@shop.example"), a domain is
 * lowercased, IDN A-labelled and loses a trailing dot. 0, or -1 with a
 * reason in err. */
int suppress_norm_stream(const char *stream, char *out, size_t outlen, BUF *err);

#endif

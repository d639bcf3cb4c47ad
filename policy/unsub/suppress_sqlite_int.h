/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress_sqlite_int.h - what suppress_sqlite.c and suppress_sqlite_soft.c
 * share: the SQLite handle, its helpers, and the soft bounce counts'
 * part of it. Not an interface for anyone else: callers use suppress.h.
 */
#ifndef TX_SUPPRESS_SQLITE_INT_H
#define TX_SUPPRESS_SQLITE_INT_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "suppress_impl.h"
#include "util.h"

/* the soft bounce reports' statements, prepared once at open */
typedef struct sq_soft {
    sqlite3_stmt   *add;                /* a report, unless there */
    sqlite3_stmt   *count;              /* a pair's reports in the window */
    sqlite3_stmt   *prune;              /* every report older than the window */
    sqlite3_stmt   *forget;             /* a pair's reports, when its entry goes */
    sqlite3_stmt   *list;               /* the pairs' counts in the window (txmilterctl) */
} SQ_SOFT;

typedef struct sq_store {
    SUPPRESS        base;
    pthread_mutex_t lock;               /* the connection and statements */
    sqlite3        *db;
    sqlite3_stmt   *add, *check, *del, *list;
    SQ_SOFT         soft;
    char            path[PATH_MAX];
} SQ_STORE;

/* suppress_sqlite_err - err = "path: what: SQLite's message"; -1 */
int  suppress_sqlite_err(SQ_STORE *q, BUF *err, const char *what);

/* suppress_sqlite_setup_sql - one statement of the setup, retried while locked */
int  suppress_sqlite_setup_sql(SQ_STORE *q, const char *sql, unsigned wait_ms, char *out,
                               size_t outlen, BUF *err);

/* suppress_sqlite_prepare - one statement kept until close */
int  suppress_sqlite_prepare(SQ_STORE *q, const char *sql, sqlite3_stmt **st, BUF *err);

/* suppress_sqlite_lock - take the handle's mutex */
void suppress_sqlite_lock(SQ_STORE *q);

/* suppress_sqlite_bind2 - rcpt and stream (either may be NULL) as ?1 and ?2 */
int  suppress_sqlite_bind2(sqlite3_stmt *st, const char *rcpt, const char *stream);

/* suppress_sqlite_soft_schema - inside the setup transaction: soft_report, made current */
int  suppress_sqlite_soft_schema(SQ_STORE *q, unsigned wait_ms, BUF *err);

/* suppress_sqlite_soft_prepare - the statements of SQ_SOFT */
int  suppress_sqlite_soft_prepare(SQ_STORE *q, BUF *err);

/* suppress_sqlite_soft_finalize - release them (NULL ones too) */
void suppress_sqlite_soft_finalize(SQ_STORE *q);

/* suppress_sqlite_soft_list - s->ops->soft_list: the pairs in the window; their number, or -1 */
long suppress_sqlite_soft_list(SUPPRESS *s, const char *rcpt, const char *stream,
                               uint64_t window_s, void (*fn)(const SUPPRESS_SOFT *e, void *arg),
                               void *arg, BUF *err);

/* suppress_sqlite_soft_count - s->ops->soft: count one report; the count, or -1 */
long suppress_sqlite_soft_count(SUPPRESS *s, const char *rcpt, const char *stream,
                                const char *report, uint64_t window_s, BUF *err);

/* suppress_sqlite_soft_forget - with the mutex held: the pair's reports go; 0 or -1 */
int  suppress_sqlite_soft_forget(SQ_STORE *q, const char *rcpt, const char *stream);

#endif

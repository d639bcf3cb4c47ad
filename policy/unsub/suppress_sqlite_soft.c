/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress_sqlite_soft.c - the embedded suppression list's soft bounce counts
 *
 * SYNOPSIS
 *	#include "suppress_sqlite_int.h"
 *
 *	int	suppress_sqlite_soft_schema(SQ_STORE *q, unsigned wait_ms,
 *			BUF *err)
 *	int	suppress_sqlite_soft_prepare(SQ_STORE *q, BUF *err)
 *	void	suppress_sqlite_soft_finalize(SQ_STORE *q)
 *	long	suppress_sqlite_soft_count(SUPPRESS *s, const char *rcpt,
 *			const char *stream, const char *report,
 *			uint64_t window_s, BUF *err)
 *	int	suppress_sqlite_soft_forget(SQ_STORE *q, const char *rcpt,
 *			const char *stream)
 *	long	suppress_sqlite_soft_list(SUPPRESS *s, const char *rcpt,
 *			const char *stream, uint64_t window_s,
 *			void (*fn)(const SUPPRESS_SOFT *e, void *arg),
 *			void *arg, BUF *err)
 *
 * DESCRIPTION
 *	The soft bounces of each (recipient, stream) pair, for
 *	BounceSoftLimit, in the same file as the list (suppress_sqlite.c):
 *
 *	CREATE TABLE soft_report (rcpt TEXT NOT NULL, stream TEXT NOT NULL,
 *		report TEXT NOT NULL, at INTEGER NOT NULL,
 *		PRIMARY KEY (rcpt, stream, report)) WITHOUT ROWID
 *	CREATE INDEX soft_report_at ON soft_report (at)
 *
 *	One row per report (its id: the same report sent again is one row)
 *	with when it was counted (time()). suppress_sqlite_soft_count() is
 *	one IMMEDIATE transaction: rows older than the window go (of every
 *	pair: the window is the same for all), the report is added unless
 *	there, and the pair's rows are counted; so two processes on one
 *	file never lose or double a count, and the table holds only the
 *	last window's.
 *
 *	suppress_sqlite_soft_schema() runs in suppress_sqlite.c's setup
 *	transaction of a file below the current schema: it makes the table
 *	(schema 2 had none) and turns schema 3's soft_bounce table (a count
 *	and when it started, per pair) into that many reports at its start
 *	(at most 1000), then drops it. suppress_sqlite_soft_forget() goes
 *	with the removal of an entry, under the handle's mutex, so that a
 *	recipient put back starts afresh. suppress_sqlite_soft_list() is one
 *	SELECT grouped by pair, in (rcpt, stream) order, of the rows within
 *	the window (older ones may still be there until the next count
 *	prunes them: they are not shown).
 *
 * DIAGNOSTICS
 *	-1 with SQLite's message in err (suppress_sqlite_err()); the count
 *	also when the transaction cannot begin ("database is locked" after
 *	the busy timeout) or the pair's count is not at least the report
 *	just added. suppress_sqlite_soft_forget() returns -1 alone: its
 *	caller words the reason.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "suppress_sqlite_int.h"

/* the table, made in the setup transaction of a file below the current schema */
static const char *const sq_soft_create[] = {
    "CREATE TABLE IF NOT EXISTS soft_report ("
    " rcpt TEXT NOT NULL, stream TEXT NOT NULL, report TEXT NOT NULL, at INTEGER NOT NULL,"
    " PRIMARY KEY (rcpt, stream, report)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS soft_report_at ON soft_report (at)",
    NULL
};

/* schema 3 -> 4, when its soft_bounce table is there: each count as reports at its start */
static const char *const sq_soft_migrate_3[] = {
    "INSERT OR IGNORE INTO soft_report (rcpt, stream, report, at)"
    " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
    " SELECT rcpt, stream, 'schema3-' || i, since FROM soft_bounce, n WHERE i <= count",
    "DROP TABLE soft_bounce",
    NULL
};

/* suppress_sqlite_soft_schema - soft_report there, schema 3's counts moved into it */
int suppress_sqlite_soft_schema(SQ_STORE *q, unsigned wait_ms, BUF *err)
{
    char old[24];
    size_t i;

    for (i = 0; sq_soft_create[i]; i++)
        if (suppress_sqlite_setup_sql(q, sq_soft_create[i], wait_ms, NULL, 0, err) != 0)
            return -1;
    if (suppress_sqlite_setup_sql(q, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                  " AND name = 'soft_bounce'", wait_ms, old, sizeof(old),
                                  err) != 0)
        return -1;
    for (i = 0; strcmp(old, "0") != 0 && sq_soft_migrate_3[i]; i++)
        if (suppress_sqlite_setup_sql(q, sq_soft_migrate_3[i], wait_ms, NULL, 0, err) != 0)
            return -1;
    return 0;
}

/* suppress_sqlite_soft_prepare - the five statements of the counts */
int suppress_sqlite_soft_prepare(SQ_STORE *q, BUF *err)
{
    SQ_SOFT *t = &q->soft;

    if (suppress_sqlite_prepare(q, "INSERT OR IGNORE INTO soft_report (rcpt, stream, report, at)"
                                " VALUES (?1, ?2, ?3, ?4)", &t->add, err) != 0
        || suppress_sqlite_prepare(q, "SELECT count(*) FROM soft_report"
                                   " WHERE rcpt = ?1 AND stream = ?2 AND at > ?3",
                                   &t->count, err) != 0
        || suppress_sqlite_prepare(q, "DELETE FROM soft_report WHERE at <= ?1",
                                   &t->prune, err) != 0
        || suppress_sqlite_prepare(q, "DELETE FROM soft_report WHERE rcpt = ?1 AND stream = ?2",
                                   &t->forget, err) != 0
        || suppress_sqlite_prepare(q, "SELECT rcpt, stream, count(*), min(at), max(at)"
                                   " FROM soft_report WHERE (?1 IS NULL OR rcpt = ?1)"
                                   " AND (?2 IS NULL OR stream = ?2) AND at > ?3"
                                   " GROUP BY rcpt, stream ORDER BY rcpt, stream",
                                   &t->list, err) != 0)
        return -1;
    return 0;
}

/* suppress_sqlite_soft_finalize - release the statements */
void suppress_sqlite_soft_finalize(SQ_STORE *q)
{
    sqlite3_finalize(q->soft.add);
    sqlite3_finalize(q->soft.count);
    sqlite3_finalize(q->soft.prune);
    sqlite3_finalize(q->soft.forget);
    sqlite3_finalize(q->soft.list);
}

/* sq_soft_step - bind and run one statement of the count; its first column for a row, 0 done, -1 */
static long sq_soft_step(sqlite3_stmt *st, const char *rcpt, const char *stream,
                         const char *report, sqlite3_int64 t)
{
    long v = -1;
    int rc;

    if ((rcpt == NULL || suppress_sqlite_bind2(st, rcpt, stream) == 0)
        && (report == NULL || sqlite3_bind_text(st, 3, report, -1, SQLITE_STATIC) == SQLITE_OK)
        && sqlite3_bind_int64(st, rcpt ? (report ? 4 : 3) : 1, t) == SQLITE_OK) {
        rc = sqlite3_step(st);
        v = rc == SQLITE_ROW ? (long) sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
    }
    (void) sqlite3_reset(st);
    (void) sqlite3_clear_bindings(st);
    return v;
}

/* suppress_sqlite_soft_count - count one soft bounce report in the window; the count, or -1 */
long suppress_sqlite_soft_count(SUPPRESS *s, const char *rcpt, const char *stream,
                                const char *report, uint64_t window_s, BUF *err)
{
    SQ_STORE *q = (SQ_STORE *) s;
    sqlite3_int64 now = (sqlite3_int64) time(NULL);
    long n = -1;

    suppress_sqlite_lock(q);
    if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        n = suppress_sqlite_err(q, err, "cannot count a soft bounce");
        pthread_mutex_unlock(&q->lock);
        return n;
    }
    if (sq_soft_step(q->soft.prune, NULL, NULL, NULL, now - (sqlite3_int64) window_s) < 0
        || sq_soft_step(q->soft.add, rcpt, stream, report, now) < 0
        || (n = sq_soft_step(q->soft.count, rcpt, stream, NULL,
                             now - (sqlite3_int64) window_s)) < 1
        || sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        n = suppress_sqlite_err(q, err, "cannot count a soft bounce");
        (void) sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&q->lock);
    return n;
}

/* suppress_sqlite_soft_forget - delete the pair's reports; 0, or -1 */
int suppress_sqlite_soft_forget(SQ_STORE *q, const char *rcpt, const char *stream)
{
    int rc = suppress_sqlite_bind2(q->soft.forget, rcpt, stream) == 0
        && sqlite3_step(q->soft.forget) == SQLITE_DONE ? 0 : -1;

    (void) sqlite3_reset(q->soft.forget);
    (void) sqlite3_clear_bindings(q->soft.forget);
    return rc;
}

/* sq_soft_time - a column of seconds as a time, 0 if it is none */
static uint64_t sq_soft_time(sqlite3_stmt *st, int col)
{
    sqlite3_int64 t = sqlite3_column_int64(st, col);

    return t > 0 ? (uint64_t) t : 0;
}

/* suppress_sqlite_soft_list - the pairs with reports in the window; their number, or -1 */
long suppress_sqlite_soft_list(SUPPRESS *s, const char *rcpt, const char *stream,
                               uint64_t window_s, void (*fn)(const SUPPRESS_SOFT *e, void *arg),
                               void *arg, BUF *err)
{
    SQ_STORE *q = (SQ_STORE *) s;
    sqlite3_stmt *st = q->soft.list;
    SUPPRESS_SOFT e;
    long n = 0;
    int rc;

    suppress_sqlite_lock(q);
    if (suppress_sqlite_bind2(st, rcpt, stream) != 0
        || sqlite3_bind_int64(st, 3, (sqlite3_int64) time(NULL) - (sqlite3_int64) window_s)
        != SQLITE_OK) {
        n = suppress_sqlite_err(q, err, "cannot list soft bounces");
    } else {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            e.rcpt = (const char *) sqlite3_column_text(st, 0);
            e.stream = (const char *) sqlite3_column_text(st, 1);
            e.count = (long) sqlite3_column_int64(st, 2);
            e.first = sq_soft_time(st, 3);
            e.last = sq_soft_time(st, 4);
            if (e.rcpt == NULL || e.stream == NULL)
                continue;
            fn(&e, arg);
            n++;
        }
        if (rc != SQLITE_DONE)
            n = suppress_sqlite_err(q, err, "cannot list soft bounces");
    }
    (void) sqlite3_reset(st);
    (void) sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&q->lock);
    return n;
}

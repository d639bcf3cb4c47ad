/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress_sqlite.c - the embedded suppression list: one SQLite file
 *
 * SYNOPSIS
 *	#include "suppress_impl.h"
 *
 *	SUPPRESS *suppress_sqlite_open(const char *datadir,
 *			unsigned timeout_ms, BUF *err)
 *
 *	and, through s->ops: add, check, remove, list, close (suppress.h);
 *	soft is suppress_sqlite_soft.c's.
 *
 *	#include "suppress_sqlite_int.h"
 *
 *	int	suppress_sqlite_err(SQ_STORE *q, BUF *err, const char *what)
 *	int	suppress_sqlite_setup_sql(SQ_STORE *q, const char *sql,
 *			unsigned wait_ms, char *out, size_t outlen, BUF *err)
 *	int	suppress_sqlite_prepare(SQ_STORE *q, const char *sql,
 *			sqlite3_stmt **st, BUF *err)
 *	void	suppress_sqlite_lock(SQ_STORE *q)
 *	int	suppress_sqlite_bind2(sqlite3_stmt *st, const char *rcpt,
 *			const char *stream)
 *
 * DESCRIPTION
 *	The list lives in datadir/suppress.db, shared by the threads of
 *	txmilter, by txmilter-unsubd and by txmilterctl, each another
 *	process with its own handle:
 *
 *	CREATE TABLE suppress (rcpt TEXT NOT NULL, stream TEXT NOT NULL,
 *		created INTEGER NOT NULL, source TEXT NOT NULL,
 *		reason TEXT NOT NULL DEFAULT 'unsubscribe',
 *		evidence TEXT NOT NULL DEFAULT '',
 *		expires INTEGER NOT NULL DEFAULT 0,
 *		PRIMARY KEY (rcpt, stream)) WITHOUT ROWID
 *	CREATE TABLE soft_report (rcpt TEXT NOT NULL, stream TEXT NOT NULL,
 *		report TEXT NOT NULL, at INTEGER NOT NULL,
 *		PRIMARY KEY (rcpt, stream, report)) WITHOUT ROWID
 *	CREATE INDEX soft_report_at ON soft_report (at)
 *	PRAGMA user_version = 4
 *
 *	A file of schema 1 (no reason, evidence, expires) is migrated when
 *	it is opened, in one IMMEDIATE transaction that the first process
 *	to get there runs and the others then find done: the three columns
 *	are added, entries of source txmilterctl get reason manual, the
 *	others unsubscribe (all that schema 1 could hold); schema 2 gains
 *	the soft_report table the same way; schema 3's soft_bounce (a
 *	count and when it started, per pair) becomes that many reports at
 *	its start (at most 1000) and is dropped. Expiry is checked against
 *	this host's clock (time()), at check time.
 *
 *	soft_report holds the soft bounces of each pair
 *	(suppress_sqlite_soft.c); removing an entry removes the pair's
 *	reports too.
 *
 *	For suppress_sqlite_soft.c, the handle's helpers:
 *	suppress_sqlite_err() sets err to "path: what: SQLite's message"
 *	and returns -1; suppress_sqlite_setup_sql() runs one statement of
 *	the setup transaction (retrying while another process holds a
 *	lock, up to wait_ms), the first column of its first row into out
 *	if not NULL; suppress_sqlite_prepare() prepares a statement kept
 *	until close; suppress_sqlite_lock() takes the handle's mutex;
 *	suppress_sqlite_bind2() binds rcpt and stream (NULL: SQL NULL) as
 *	?1 and ?2, 0 or -1.
 *
 *	The file is created with mode 0640 (whatever the umask) when it is
 *	missing and, when the creator runs as root (txmilterctl), given to
 *	the owner and group of datadir, so that the daemons (UserID) can
 *	still write it; SQLite gives its -wal and -shm files the same mode
 *	and owner. An existing file that others may access is refused.
 *	Both daemons must run as a user that may write datadir and the file.
 *
 *	Journal mode WAL: readers (txmilter's checks) never wait for a
 *	writer, writers (unsubscribes) take turns, waiting up to
 *	max(timeout_ms, 1000) ms for each other (busy timeout).
 *	synchronous=FULL: a committed entry survives a crash of either
 *	process and of the machine. Every statement is prepared once, at
 *	open; one mutex per handle serialises its use, so any number of
 *	threads may share a handle.
 *
 * DIAGNOSTICS
 *	NULL or -1 with one reason in err: the file cannot be created or
 *	opened, is not a regular file, is accessible by others, is not an
 *	SQLite database or has a newer schema; a statement failed (SQLite's
 *	message, e.g. "database is locked" after the busy timeout).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "suppress_sqlite_int.h"
#include "util.h"

#define SQ_FILE         "suppress.db"
#define SQ_MODE         0640
#define SQ_MIN_WAIT_MS  1000
#define SQ_SCHEMA       4


static const char sq_create[] =
    "CREATE TABLE IF NOT EXISTS suppress ("
    " rcpt TEXT NOT NULL, stream TEXT NOT NULL,"
    " created INTEGER NOT NULL, source TEXT NOT NULL,"
    " reason TEXT NOT NULL DEFAULT 'unsubscribe', evidence TEXT NOT NULL DEFAULT '',"
    " expires INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (rcpt, stream)) WITHOUT ROWID";

/* schema 1 -> 2, run inside the setup transaction when "reason" is missing */
static const char *const sq_migrate_1[] = {
    "ALTER TABLE suppress ADD COLUMN reason TEXT NOT NULL DEFAULT 'unsubscribe'",
    "ALTER TABLE suppress ADD COLUMN evidence TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE suppress ADD COLUMN expires INTEGER NOT NULL DEFAULT 0",
    "UPDATE suppress SET reason = 'manual' WHERE source = 'txmilterctl'",
    NULL
};

/* sq_ms_sleep - sleep ms milliseconds */
static void sq_ms_sleep(unsigned ms)
{
    struct timespec ts = { 0, (long) ms * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        /* void */ ;
}

/* sq_err - err = "path: what: SQLite's message"; -1 */
int suppress_sqlite_err(SQ_STORE *q, BUF *err, const char *what)
{
    return suppress_seterr(err, "%s: %s: %s", q->path, what,
                           q->db ? sqlite3_errmsg(q->db) : "no database");
}

/*
 * sq_setup_sql - run one setup statement, retrying while another process
 * holds a lock (a first journal_mode=WAL or CREATE can meet one that the
 * busy handler does not wait for) until wait_ms have passed; the first
 * column of its first row into out (if not NULL).
 */
int suppress_sqlite_setup_sql(SQ_STORE *q, const char *sql, unsigned wait_ms, char *out,
                              size_t outlen, BUF *err)
{
    sqlite3_stmt *st = NULL;
    unsigned waited = 0;
    int rc;

    for (;;) {
        rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if (out && outlen) {
                    const unsigned char *v = sqlite3_column_text(st, 0);

                    util_strlcpy(out, v ? (const char *) v : "", outlen);
                    out = NULL;
                }
            sqlite3_finalize(st);
            st = NULL;
        }
        if (rc == SQLITE_OK || rc == SQLITE_DONE)
            return 0;
        if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) || waited >= wait_ms)
            return suppress_sqlite_err(q, err, "cannot set the database up");
        sq_ms_sleep(10);
        waited += 10;
    }
}

/* sq_create_file - create path with mode 0640 (datadir's owner when root); -1 with a reason */
static int sq_create_file(SQ_STORE *q, const char *datadir, BUF *err)
{
    struct stat st;
    int fd;

    fd = open(q->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, SQ_MODE);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        return suppress_seterr(err, "cannot create %s: %s", q->path, strerror(errno));
    }
    if (fchmod(fd, SQ_MODE) != 0
        || (geteuid() == 0 && (stat(datadir, &st) != 0 || fchown(fd, st.st_uid, st.st_gid) != 0))) {
        (void) suppress_seterr(err, "cannot set the mode or owner of %s: %s", q->path,
                               strerror(errno));
        (void) close(fd);
        (void) unlink(q->path);
        return -1;
    }
    if (close(fd) != 0)
        return suppress_seterr(err, "cannot create %s: %s", q->path, strerror(errno));
    return 0;
}

/* sq_prepare - one persistent statement */
int suppress_sqlite_prepare(SQ_STORE *q, const char *sql, sqlite3_stmt **st, BUF *err)
{
    if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return suppress_sqlite_err(q, err, "cannot prepare a statement");
    return 0;
}

/* sq_close - finalise the statements and close the file */
static void sq_close(SUPPRESS *s)
{
    SQ_STORE *q = (SQ_STORE *) s;

    sqlite3_finalize(q->add);
    sqlite3_finalize(q->check);
    sqlite3_finalize(q->del);
    sqlite3_finalize(q->list);
    suppress_sqlite_soft_finalize(q);
    if (q->db)
        (void) sqlite3_close(q->db);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

/* sq_lock - take the handle's mutex */
void suppress_sqlite_lock(SQ_STORE *q)
{
    if (pthread_mutex_lock(&q->lock) != 0)
        log_fatal("suppression list: cannot lock");
}

/* sq_done - reset st after use and release the mutex */
static void sq_done(SQ_STORE *q, sqlite3_stmt *st)
{
    (void) sqlite3_reset(st);
    (void) sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&q->lock);
}

/* sq_bind2 - bind rcpt and stream (either may be NULL) as ?1 and ?2 */
int suppress_sqlite_bind2(sqlite3_stmt *st, const char *rcpt, const char *stream)
{
    int rc1 = rcpt ? sqlite3_bind_text(st, 1, rcpt, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 1);
    int rc2 = stream ? sqlite3_bind_text(st, 2, stream, -1, SQLITE_STATIC)
        : sqlite3_bind_null(st, 2);

    return rc1 == SQLITE_OK && rc2 == SQLITE_OK ? 0 : -1;
}

/* sq_add - INSERT, keeping an entry already there unless it lapses first */
static int sq_add(SUPPRESS *s, const char *rcpt, const char *stream, const char *source,
                  const SUPPRESS_INFO *info, BUF *err)
{
    SQ_STORE *q = (SQ_STORE *) s;
    sqlite3_int64 now = (sqlite3_int64) time(NULL);
    int rc = 0;

    suppress_sqlite_lock(q);
    if (suppress_sqlite_bind2(q->add, rcpt, stream) != 0
        || sqlite3_bind_int64(q->add, 3, now) != SQLITE_OK
        || sqlite3_bind_text(q->add, 4, source, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_text(q->add, 5, suppress_reason_name(info->reason), -1, SQLITE_STATIC)
        != SQLITE_OK
        || sqlite3_bind_text(q->add, 6, info->evidence, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_int64(q->add, 7, info->expire_after
                              ? now + (sqlite3_int64) info->expire_after : 0) != SQLITE_OK
        || sqlite3_step(q->add) != SQLITE_DONE)
        rc = suppress_sqlite_err(q, err, "cannot add");
    sq_done(q, q->add);
    return rc;
}

/* sq_text - column i as a string ("" for NULL) */
static const char *sq_text(sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);

    return v ? (const char *) v : "";
}

/* sq_reason - a stored reason name as the enum (unknown names: manual) */
static SUPPRESS_REASON sq_reason(const char *name)
{
    int r = suppress_reason_parse(name);

    return r < 0 ? SUPPRESS_MANUAL : (SUPPRESS_REASON) r;
}

/* sq_check - 1 if the entry is there and has not lapsed, with its reason */
static int sq_check(SUPPRESS *s, const char *rcpt, const char *stream, SUPPRESS_REASON *reason,
                    char *evidence, BUF *err)
{
    SQ_STORE *q = (SQ_STORE *) s;
    int rc;

    suppress_sqlite_lock(q);
    if (suppress_sqlite_bind2(q->check, rcpt, stream) != 0
        || sqlite3_bind_int64(q->check, 3, (sqlite3_int64) time(NULL)) != SQLITE_OK)
        rc = suppress_sqlite_err(q, err, "cannot check");
    else if ((rc = sqlite3_step(q->check)) == SQLITE_ROW) {
        *reason = sq_reason(sq_text(q->check, 0));
        util_strlcpy(evidence, sq_text(q->check, 1), SUPPRESS_EVIDENCE_MAX);
        rc = 1;
    } else if (rc == SQLITE_DONE)
        rc = 0;
    else
        rc = suppress_sqlite_err(q, err, "cannot check");
    sq_done(q, q->check);
    return rc;
}

/* sq_remove - 1 if an entry was deleted; the pair's soft reports go too */
static int sq_remove(SUPPRESS *s, const char *rcpt, const char *stream, BUF *err)
{
    SQ_STORE *q = (SQ_STORE *) s;
    int rc;

    suppress_sqlite_lock(q);
    if (suppress_sqlite_soft_forget(q, rcpt, stream) != 0) {
        rc = suppress_sqlite_err(q, err, "cannot remove");
        sq_done(q, q->del);
        return rc;
    }
    if (suppress_sqlite_bind2(q->del, rcpt, stream) != 0 || sqlite3_step(q->del) != SQLITE_DONE)
        rc = suppress_sqlite_err(q, err, "cannot remove");
    else
        rc = sqlite3_changes(q->db) > 0;
    sq_done(q, q->del);
    return rc;
}

/* sq_list - fn for every matching entry, in (rcpt, stream) order */
static long sq_list(SUPPRESS *s, const char *rcpt, const char *stream,
                    void (*fn)(const SUPPRESS_ENTRY *e, void *arg), void *arg, BUF *err)
{
    SQ_STORE *q = (SQ_STORE *) s;
    SUPPRESS_ENTRY e;
    long n = 0;
    int rc;

    suppress_sqlite_lock(q);
    if (suppress_sqlite_bind2(q->list, rcpt, stream) != 0) {
        n = suppress_sqlite_err(q, err, "cannot list");
    } else {
        while ((rc = sqlite3_step(q->list)) == SQLITE_ROW) {
            sqlite3_int64 c = sqlite3_column_int64(q->list, 2);
            sqlite3_int64 x = sqlite3_column_int64(q->list, 6);

            e.rcpt = sq_text(q->list, 0);
            e.stream = sq_text(q->list, 1);
            e.created = c > 0 ? (uint64_t) c : 0;
            e.source = sq_text(q->list, 3);
            e.reason = sq_reason(sq_text(q->list, 4));
            e.evidence = sq_text(q->list, 5);
            e.expires = x > 0 ? (uint64_t) x : 0;
            fn(&e, arg);
            n++;
        }
        if (rc != SQLITE_DONE)
            n = suppress_sqlite_err(q, err, "cannot list");
    }
    sq_done(q, q->list);
    return n;
}

static const SUPPRESS_OPS sq_ops = {
    sq_add, sq_check, suppress_sqlite_soft_count, suppress_sqlite_soft_list, sq_remove, sq_list,
    sq_close
};

/* sq_schema - inside the setup transaction: the table, made current; -1 with a reason */
static int sq_schema(SQ_STORE *q, unsigned wait_ms, BUF *err)
{
    char version[24], has[24], set[40];
    long v;
    size_t i;

    if (suppress_sqlite_setup_sql(q, sq_create, wait_ms, NULL, 0, err) != 0
        || suppress_sqlite_setup_sql(q, "PRAGMA user_version", wait_ms, version,
                                     sizeof(version), err) != 0)
        return -1;
    v = strtol(version, NULL, 10);
    if (v > SQ_SCHEMA)
        return suppress_seterr(err, "%s: schema version %ld is newer than this txmilter's (%d)",
                               q->path, v, SQ_SCHEMA);
    if (v == SQ_SCHEMA)
        return 0;
    if (suppress_sqlite_soft_schema(q, wait_ms, err) != 0
        || suppress_sqlite_setup_sql(q, "SELECT count(*) FROM pragma_table_info('suppress')"
                                     " WHERE name = 'reason'", wait_ms, has, sizeof(has),
                                     err) != 0)
        return -1;
    for (i = 0; strcmp(has, "0") == 0 && sq_migrate_1[i]; i++)
        if (suppress_sqlite_setup_sql(q, sq_migrate_1[i], wait_ms, NULL, 0, err) != 0)
            return -1;
    if (strcmp(has, "0") == 0 || v == 2 || v == 3)
        log_info("%s: suppression list migrated from schema %ld to %d", q->path, v, SQ_SCHEMA);
    snprintf(set, sizeof(set), "PRAGMA user_version = %d", SQ_SCHEMA);
    return suppress_sqlite_setup_sql(q, set, wait_ms, NULL, 0, err);
}

/* sq_setup - WAL, durability, the table; -1 with a reason */
static int sq_setup(SQ_STORE *q, unsigned wait_ms, BUF *err)
{
    char mode[16];

    if (suppress_sqlite_setup_sql(q, "PRAGMA journal_mode=WAL", wait_ms, mode, sizeof(mode),
                                  err) != 0
        || suppress_sqlite_setup_sql(q, "PRAGMA synchronous=FULL", wait_ms, NULL, 0, err) != 0)
        return -1;
    if (strcmp(mode, "wal") != 0)
        return suppress_seterr(err, "%s: cannot use WAL mode (journal mode is \"%s\")",
                               q->path, mode);
    if (suppress_sqlite_setup_sql(q, "BEGIN IMMEDIATE", wait_ms, NULL, 0, err) != 0)
        return -1;
    if (sq_schema(q, wait_ms, err) != 0) {
        (void) sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (suppress_sqlite_setup_sql(q, "COMMIT", wait_ms, NULL, 0, err) != 0) {
        (void) sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* suppress_sqlite_open - datadir/suppress.db, created if missing */
SUPPRESS *suppress_sqlite_open(const char *datadir, unsigned timeout_ms, BUF *err)
{
    SQ_STORE *q;
    struct stat st;
    unsigned wait_ms = timeout_ms > SQ_MIN_WAIT_MS ? timeout_ms : SQ_MIN_WAIT_MS;
    int bad = 0;

    if (sqlite3_threadsafe() == 0) {
        (void) suppress_seterr(err, "this SQLite library is built without thread support");
        return NULL;
    }
    q = xcalloc(1, sizeof(*q));
    q->base.ops = &sq_ops;
    if (pthread_mutex_init(&q->lock, NULL) != 0)
        log_fatal("suppression list: cannot make a mutex");
    if (snprintf(q->path, sizeof(q->path), "%s/%s", datadir, SQ_FILE) >= (int) sizeof(q->path)) {
        (void) suppress_seterr(err, "DataDirectory %s: path too long", datadir);
        sq_close(&q->base);
        return NULL;
    }
    if (sq_create_file(q, datadir, err) != 0) {
        sq_close(&q->base);
        return NULL;
    }
    if (stat(q->path, &st) != 0)
        bad = suppress_seterr(err, "cannot stat %s: %s", q->path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        bad = suppress_seterr(err, "%s: not a regular file", q->path);
    else if (st.st_mode & (S_IROTH | S_IWOTH | S_IXOTH))
        bad = suppress_seterr(err, "%s: accessible by others (mode %04o): chmod 640 it",
                              q->path, (unsigned) (st.st_mode & 07777));
    if (bad) {
        sq_close(&q->base);
        return NULL;
    }
    if (sqlite3_open_v2(q->path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK) {
        (void) suppress_sqlite_err(q, err, "cannot open");
        sq_close(&q->base);
        return NULL;
    }
    (void) sqlite3_extended_result_codes(q->db, 1);
    (void) sqlite3_busy_timeout(q->db, (int) wait_ms);
    if (sq_setup(q, wait_ms, err) != 0
        || suppress_sqlite_prepare(q, "INSERT INTO suppress (rcpt, stream, created, source,"
                                   " reason, evidence, expires)"
                                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                                   " ON CONFLICT (rcpt, stream) DO UPDATE"
                                   " SET created = excluded.created,"
                                   " source = excluded.source, reason = excluded.reason,"
                                   " evidence = excluded.evidence, expires = excluded.expires"
                                   " WHERE suppress.expires != 0 AND (excluded.expires = 0"
                                   " OR excluded.expires > suppress.expires)",
                                   &q->add, err) != 0
        || suppress_sqlite_prepare(q, "SELECT reason, evidence FROM suppress"
                                   " WHERE rcpt = ?1 AND stream = ?2"
                                   " AND (expires = 0 OR expires > ?3)", &q->check, err) != 0
        || suppress_sqlite_prepare(q, "DELETE FROM suppress WHERE rcpt = ?1 AND stream = ?2",
                                   &q->del, err) != 0
        || suppress_sqlite_soft_prepare(q, err) != 0
        || suppress_sqlite_prepare(q, "SELECT rcpt, stream, created, source, reason, evidence,"
                                   " expires FROM suppress"
                                   " WHERE (?1 IS NULL OR rcpt = ?1)"
                                   " AND (?2 IS NULL OR stream = ?2)"
                                   " ORDER BY rcpt, stream", &q->list, err) != 0) {
        sq_close(&q->base);
        return NULL;
    }
    return &q->base;
}

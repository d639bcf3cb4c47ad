/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testsuppress.c - the two-store suppression fixture of testsuppress.h,
 * shared by test_suppress_reason and test_suppress_soft, which run one
 * table of scenarios through the SQLite store and through Redis, and by
 * test_suppress (the scratch directory and the server's place).
 *
 * SYNOPSIS
 *	return th_sup_main(&suite);
 *	th_sup_init(name); ... th_sup_redis_group(group);
 *	th_sup_open(&t, 'q' or 'r'); ... th_sup_close(&t);
 *	th_sup_new_dir(), th_sup_raw(fmt, ...)
 *	TH_SUP_SCENARIOS(group, run, kind, rows); th_sup_step(...)
 *	th_sup_sqlite_file(db, sql), th_sup_sqlite_int(db, sql)
 *
 * DESCRIPTION
 *	th_sup_main() runs a test's whole plan (testsuppress.h) and says
 *	whether all of it passed.
 *	th_sup_init() makes the scratch directory and arranges for it and
 *	the server to go at exit, whatever the tests did.
 *	th_sup_redis_group() starts redis-server with a password on a free
 *	loopback port through tests/redis-launch.
 *	th_sup_open() gives an empty store: SQLite in a fresh directory, or
 *	the server after FLUSHALL, reached by its redis:// URL.
 *	th_sup_raw() talks to the server behind the store's back, to set up
 *	or inspect what the store wrote; th_sup_sqlite_file() and
 *	th_sup_sqlite_int() write and read SQLite files the same way.
 *	TH_SUP_SCENARIOS() runs a test's table of scenarios on one kind of
 *	store, a cmocka test per row named by the row; th_sup_step() is how
 *	a step that went wrong fails the row.
 *
 * DIAGNOSTICS
 *	Anything that does not work fails the calling test (cmocka's
 *	fail_msg or an assertion) with what went wrong; redis-server not
 *	installed fails too, never skips.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <cmocka.h>
#include <hiredis.h>
#include <sqlite3.h>

#include "suppress.h"
#include "testsuppress.h"
#include "testutil.h"
#include "util.h"

TH_SUP_RIG th_sup;

/* th_sup_cleanup - kill the server, remove the scratch directory */
static void th_sup_cleanup(void)
{
    th_redis_signal(&th_sup.rs, SIGKILL);
    if (th_sup.tmp[0])
        th_remove_dir(th_sup.tmp);
}

/* th_sup_init - the scratch directory, and its removal at exit */
int th_sup_init(const char *name)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(th_sup.tmp, sizeof(th_sup.tmp), "/tmp/txm-%s-test.XXXXXX", name);
    if (mkdtemp(th_sup.tmp) == NULL) {
        perror("mkdtemp");
        th_sup.tmp[0] = 0;
        return -1;
    }
    atexit(th_sup_cleanup);
    return 0;
}

/* test_start_redis - the server for the Redis tests */
static void test_start_redis(void **state)
{
    char *dir = xasprintf("%s/redis", th_sup.tmp);

    (void) state;
    th_sup.rs.password = TH_SUP_PASS;
    th_redis_start(&th_sup.rs, dir);
    free(dir);
}

/* th_sup_redis_group - start the server, as a group of one test */
int th_sup_redis_group(const char *group)
{
    const struct CMUnitTest setup[] = { cmocka_unit_test(test_start_redis) };

    return cmocka_run_group_tests_name(group, setup, NULL, NULL);
}

/* th_sup_new_dir - a fresh directory under the scratch directory */
char *th_sup_new_dir(void)
{
    static unsigned n;
    char *d = xasprintf("%s/d%u", th_sup.tmp, ++n);

    assert_int_equal(mkdir(d, 0750), 0);
    return d;
}

/* th_sup_raw - one command (printf form) on a fresh authenticated connection */
redisReply *th_sup_raw(const char *fmt, ...)
{
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", th_sup.rs.port, tv);
    redisReply *rep;
    va_list ap;

    assert_non_null(c);
    assert_int_equal(c->err, 0);
    redisSetTimeout(c, tv);
    rep = redisCommand(c, "AUTH %s", TH_SUP_PASS);
    assert_non_null(rep);
    freeReplyObject(rep);
    va_start(ap, fmt);
    rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    assert_non_null(rep);
    return rep;
}

/* th_sup_open - the store kind ('q' SQLite, 'r' Redis), empty */
void th_sup_open(TH_SUP_STORE *t, char kind)
{
    BUF err;
    char *url;

    buf_init(&err, 1024);
    memset(t, 0, sizeof(*t));
    if (kind == 'q') {
        t->dir = th_sup_new_dir();
        t->s = suppress_open("embedded", t->dir, 0, &err);
    } else {
        freeReplyObject(th_sup_raw("FLUSHALL"));
        url = xasprintf("redis://:" TH_SUP_PASS "@127.0.0.1:%d/0", th_sup.rs.port);
        t->s = suppress_open(url, NULL, 1000, &err);
        free(url);
    }
    if (t->s == NULL)
        fail_msg("suppress_open: %s", err.data ? err.data : "?");
    buf_free(&err);
}

/* th_sup_close - close and forget */
void th_sup_close(TH_SUP_STORE *t)
{
    suppress_close(t->s);
    free(t->dir);
}

static TH_SUP_RUN sc_run;           /* of the table th_sup_scenarios() runs */
static char sc_kind;

/* th_sup_scenario - one row of the table on a new store, through the test's runner */
static void th_sup_scenario(void **state)
{
    TH_SUP_STORE t;
    BUF err;

    th_sup_open(&t, sc_kind);
    buf_init(&err, 1024);
    sc_run(*state, &t, &err);
    buf_free(&err);
    th_sup_close(&t);
}

/* th_sup_scenarios - each row through run on a store of kind */
int th_sup_scenarios(const char *group, TH_SUP_RUN run, char kind, const void *rows,
                     size_t size, size_t n)
{
    sc_run = run;
    sc_kind = kind;
    return run_table(group, th_sup_scenario, rows, size, n);
}

/* th_sup_step - fail the row at a step that gave got, not want */
void th_sup_step(size_t step, char kind, long got, long want, const BUF *err)
{
    if (got != want)
        fail_msg("step %zu (%c): %ld, not %ld (%s)", step, kind, got, want,
                 err->data ? err->data : "");
}

/* th_sup_sqlite_int - the first column of the first row of sql on db */
int th_sup_sqlite_int(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    int v;

    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* th_sup_sqlite_file - db made by sql, mode 0640 */
void th_sup_sqlite_file(const char *db, const char *sql)
{
    sqlite3 *h;

    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(chmod(db, 0640), 0);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

/* th_sup_group - suite's group name with suffix */
static const char *th_sup_group(const TH_SUP_SUITE *suite, const char *suffix)
{
    static char name[128];

    snprintf(name, sizeof(name), "%s%s", suite->group, suffix);
    return name;
}

/* th_sup_main - the suite's groups in order; 0 if every test passed */
int th_sup_main(const TH_SUP_SUITE *suite)
{
    int rc = 0;

    if (th_sup_init(suite->name) < 0)
        return 1;
    rc |= _cmocka_run_group_tests(th_sup_group(suite, ""), suite->plain, suite->nplain, NULL,
                                  NULL);
    rc |= th_sup_scenarios(th_sup_group(suite, "_sqlite"), suite->run, 'q', suite->rows,
                           suite->size, suite->n);
    if (th_sup_redis_group(th_sup_group(suite, "_redis_server")) != 0)
        return 1;
    rc |= th_sup_scenarios(th_sup_group(suite, "_redis"), suite->run, 'r', suite->rows,
                           suite->size, suite->n);
    rc |= _cmocka_run_group_tests(suite->redis_group, suite->redis, suite->nredis, NULL, NULL);
    return rc ? 1 : 0;
}

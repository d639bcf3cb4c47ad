/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testsuppress.h - the two-store fixture of the suppression list's unit
 * tests (testsuppress.c): a scratch directory for SQLite files and a real
 * redis-server started through tests/redis-launch (testutil.h), both gone
 * at exit, and a store of either kind opened empty on them.
 */
#ifndef TX_TESTSUPPRESS_H
#define TX_TESTSUPPRESS_H

#include <stddef.h>

#include <hiredis.h>

#include "suppress.h"
#include "testutil.h"

/* TH_SUP_PASS - the fixture's redis-server password (requirepass) */
#define TH_SUP_PASS "pw"

/* The fixture: its scratch directory and its redis-server. */
typedef struct th_sup_rig {
    char     tmp[128];              /* /tmp/txm-NAME-test.XXXXXX */
    TH_REDIS rs;                    /* started by th_sup_redis_group() (or the test) */
} TH_SUP_RIG;

extern TH_SUP_RIG th_sup;

/* A store under test: the list, and for SQLite the directory that holds it. */
typedef struct th_sup_store {
    SUPPRESS *s;
    char     *dir;                  /* SQLite: the DataDirectory; NULL for Redis */
} TH_SUP_STORE;

/* th_sup_init - the scratch directory /tmp/txm-NAME-test.XXXXXX, SIGPIPE
 * ignored, and at exit the server killed and the directory removed; 0, or
 * -1 (said on stderr) if the directory cannot be made */
int th_sup_init(const char *name);

/* th_sup_redis_group - a cmocka group of one test, test_start_redis,
 * that starts the fixture's redis-server (password TH_SUP_PASS) under the
 * scratch directory; cmocka's result (non-zero: the server is not there) */
int th_sup_redis_group(const char *group);

/* th_sup_new_dir - a fresh directory under the scratch directory (free() it) */
char *th_sup_new_dir(void);

/* th_sup_raw - one command (printf form) on a fresh authenticated
 * connection to the fixture's server; the test fails without a reply */
redisReply *th_sup_raw(const char *fmt, ...);

/* th_sup_open - an empty store of kind 'q' (SQLite, in a new directory)
 * or 'r' (the fixture's Redis, flushed); the test fails if it cannot open */
void th_sup_open(TH_SUP_STORE *t, char kind);

/* th_sup_close - close the store and forget its directory */
void th_sup_close(TH_SUP_STORE *t);

/* A scenario runner of a test: one table row on t, an empty store, with
 * err (emptied) for the reasons of its calls. */
typedef void (*TH_SUP_RUN)(const void *row, TH_SUP_STORE *t, BUF *err);

/* th_sup_scenarios - run_table() of the rows, each through run on a new
 * empty store of kind ('q' SQLite, 'r' Redis), closed after it; cmocka's
 * result */
int th_sup_scenarios(const char *group, TH_SUP_RUN run, char kind, const void *rows,
                     size_t size, size_t n);

#define TH_SUP_SCENARIOS(group, run, kind, rows) \
    th_sup_scenarios(group, run, kind, rows, sizeof(rows[0]), sizeof(rows) / sizeof(rows[0]))

/* A suppression test's plan, run by th_sup_main() in this order: the
 * plain tests, the scenarios on SQLite, the redis-server started (if it
 * cannot be, nothing more runs), the scenarios on Redis, the Redis tests. */
typedef struct th_sup_suite {
    const char *name;               /* of the scratch directory, /tmp/txm-NAME-test.* */
    const char *group;              /* GROUP, GROUP_sqlite, GROUP_redis_server, GROUP_redis */
    const struct CMUnitTest *plain;
    size_t      nplain;
    TH_SUP_RUN  run;                /* the scenarios: rows of size bytes */
    const void *rows;
    size_t      size, n;
    const char *redis_group;        /* the group of the Redis tests */
    const struct CMUnitTest *redis;
    size_t      nredis;
} TH_SUP_SUITE;

/* TH_SUP_ARRAY - an array and its length, for a TH_SUP_SUITE */
#define TH_SUP_ARRAY(a) (a), sizeof(a) / sizeof((a)[0])
#define TH_SUP_ROWS(a)  (a), sizeof((a)[0]), sizeof(a) / sizeof((a)[0])

/* th_sup_main - th_sup_init() and the suite; main()'s exit status */
int th_sup_main(const TH_SUP_SUITE *suite);

/* th_sup_step - a scenario's step gave got where want was expected: the
 * test fails, naming the step, its kind and the store's error */
void th_sup_step(size_t step, char kind, long got, long want, const BUF *err);

/* th_sup_sqlite_file - the SQLite file db (mode 0640, as the store makes
 * its own) made by the statements sql, as an older build left it */
void th_sup_sqlite_file(const char *db, const char *sql);

/* th_sup_sqlite_int - the integer answer of one query on the SQLite file db */
int th_sup_sqlite_int(const char *db, const char *sql);

#endif

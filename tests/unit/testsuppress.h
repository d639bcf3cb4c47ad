/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testsuppress.h - the two-store fixture of the suppression list's unit
 * tests (testsuppress.c): a scratch directory for SQLite files and a real
 * redis-server started through tests/redis-launch (testutil.h), both gone
 * at exit, and a store of either kind opened empty on them.
 */
#ifndef TX_TESTSUPPRESS_H
#define TX_TESTSUPPRESS_H

#include <hiredis.h>

#include "suppress.h"
#include "testutil.h"

/* TH_SUP_PASS - the fixture's redis-server password (requirepass) */
#define TH_SUP_PASS "pw"

/* The fixture: its scratch directory and its redis-server. */
typedef struct th_sup_rig {
    char     tmp[128];              /* /tmp/txm-NAME-test.XXXXXX */
    TH_REDIS rs;                    /* started by th_sup_redis_group() */
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

#endif

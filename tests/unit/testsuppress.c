/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testsuppress.c - the two-store suppression fixture of testsuppress.h,
 * shared by test_suppress_reason and test_suppress_soft, which run one
 * table of scenarios through the SQLite store and through Redis.
 *
 * SYNOPSIS
 *	th_sup_init(name); ... th_sup_redis_group(group);
 *	th_sup_open(&t, 'q' or 'r'); ... th_sup_close(&t);
 *	th_sup_new_dir(), th_sup_raw(fmt, ...)
 *
 * DESCRIPTION
 *	th_sup_init() makes the scratch directory and arranges for it and
 *	the server to go at exit, whatever the tests did.
 *	th_sup_redis_group() starts redis-server with a password on a free
 *	loopback port through tests/redis-launch.
 *	th_sup_open() gives an empty store: SQLite in a fresh directory, or
 *	the server after FLUSHALL, reached by its redis:// URL.
 *	th_sup_raw() talks to the server behind the store's back, to set up
 *	or inspect what the store wrote.
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

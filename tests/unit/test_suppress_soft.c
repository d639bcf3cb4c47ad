/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_suppress_soft.c - the soft bounce counts of the suppression list
 * (suppress_soft_count(), suppress_sqlite.c, suppress_redis.c) through
 * both stores: the SQLite file in a temporary directory and a real
 * redis-server that the test starts on a free loopback port (the
 * fixture of testsuppress.h). Without redis-server the test fails.
 *
 * - one table of scenarios runs through both stores: distinct reports
 *   counted per (recipient, stream), the same report sent again counted
 *   once, a sliding window ("lapse" moves one report, or all of a
 *   pair's, a week into the past behind the store's back: SQLite's at,
 *   Redis's scores), suppress_remove() forgetting the reports, a count
 *   being no entry, bad windows and report ids refused; suppress_soft_list()
 *   showing each pair's count in the window (filtered by recipient and
 *   stream, lapsed reports left out, a stream holding the key's ':'),
 *   changing no count;
 * - SQLite: a schema 2 file (before soft counts) and a schema 3 file (a
 *   count per pair) migrated to 4 on open, entries and counts kept;
 *   reports older than the window pruned;
 * - Redis: the key in the list's namespace, a sorted set with the
 *   window as TTL; a count of the build before reports (a string)
 *   taken over; a Redis that does not answer gives -1 and counts a
 *   failed write.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <hiredis.h>
#include <sqlite3.h>

#include "redis_pool.h"
#include "suppress.h"
#include "testsuppress.h"
#include "testutil.h"
#include "util.h"

#define WEEK    (7 * 86400)

/* raw_int - an integer answer of th_sup_raw() */
static long long raw_int(const char *fmt, const char *a)
{
    redisReply *rep = th_sup_raw(fmt, a);
    long long v;

    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    v = rep->integer;
    freeReplyObject(rep);
    return v;
}

/* soft_key - the Redis key of a pair's count, as suppress_redis.c documents it */
static char *soft_key(const char *rcpt, const char *stream)
{
    return xasprintf("%s%zu:%s:%s", REDIS_SUP_SOFT, strlen(stream), stream, rcpt);
}

/* st_lapse - report (NULL: every report of the pair) counted a week
 * earlier, as the clock passing it would have it */
static void st_lapse(TH_SUP_STORE *t, const char *rcpt, const char *stream, const char *report)
{
    if (t->dir) {
        char *db = xasprintf("%s/suppress.db", t->dir), *sql;
        sqlite3 *h;

        assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
        sql = sqlite3_mprintf("UPDATE soft_report SET at = at - %d WHERE rcpt = %Q"
                              " AND stream = %Q AND (%Q IS NULL OR report = %Q)", WEEK, rcpt,
                              stream, report, report);
        assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
        assert_true(sqlite3_changes(h) >= 1);
        sqlite3_free(sql);
        sqlite3_close(h);
        free(db);
    } else {
        char *key = soft_key(rcpt, stream);
        redisReply *rep = th_sup_raw("EVAL %s 1 %s %s", "local n = 0\n"
                                     "for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
                                     "  if ARGV[1] == '*' or ARGV[1] == m then\n"
                                     "    redis.call('ZINCRBY', KEYS[1], -604800, m); n = n + 1\n"
                                     "  end\n"
                                     "end\nreturn n", key, report ? report : "*");

        assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
        assert_true(rep->integer >= 1);
        freeReplyObject(rep);
        free(key);
    }
}

/* ------------------------------------------------------------ scenarios */

typedef struct op {
    char        kind;       /* c count, x lapse, R record a bounce, d remove, k check, l list,
                             * s soft list (want: pairs), S soft list (want: their counts) */
    const char *rcpt;
    const char *stream;
    const char *report;     /* c: the report's id; x: the one to lapse (NULL all) */
    uint64_t    window;     /* c: seconds */
    long        want;       /* c: count or -1; d: 1/0; k: 1/0; l: entries */
} OP;

typedef struct sc_case {
    const char *name;
    OP          ops[12];
} SC_CASE;

#define X "x@example.com"
#define Y "y@example.com"
#define S "news@shop.example"
#define T "shop.example"

static const SC_CASE sc_cases[] = {
    { "counts_per_recipient_and_stream", {
        { 'c', X, S, "r1", WEEK, 1 }, { 'c', X, S, "r2", WEEK, 2 }, { 'c', X, S, "r3", WEEK, 3 },
        { 'c', Y, S, "r4", WEEK, 1 }, { 'c', X, T, "r5", WEEK, 1 }, { 'c', X, S, "r6", WEEK, 4 },
    } },
    { "a_report_sent_again_counts_once", {
        { 'c', X, S, "r1", WEEK, 1 }, { 'c', X, S, "r1", WEEK, 1 }, { 'c', X, S, "r2", WEEK, 2 },
        { 'c', X, S, "r1", WEEK, 2 }, { 'c', Y, S, "r1", WEEK, 1 },
    } },
    { "sliding_window", {
        { 'c', X, S, "r1", WEEK, 1 }, { 'c', X, S, "r2", WEEK, 2 }, { 'x', X, S, "r1", 0, 0 },
        { 'c', X, S, "r3", WEEK, 2 }, { 'x', X, S, NULL, 0, 0 }, { 'c', X, S, "r4", WEEK, 1 },
        { 'c', X, S, "r1", WEEK, 2 }, { 'c', Y, S, "r5", WEEK, 1 },
    } },
    { "remove_forgets_the_reports", {
        { 'c', X, S, "r1", WEEK, 1 }, { 'c', X, S, "r2", WEEK, 2 }, { 'R', X, S, NULL, 0, 0 },
        { 'k', X, S, NULL, 0, 1 }, { 'd', X, S, NULL, 0, 1 }, { 'k', X, S, NULL, 0, 0 },
        { 'c', X, S, "r3", WEEK, 1 }, { 'd', X, S, NULL, 0, 0 }, { 'c', X, S, "r4", WEEK, 1 },
    } },
    { "a_count_is_no_entry", {
        { 'c', X, S, "r1", WEEK, 1 }, { 'c', X, S, "r2", WEEK, 2 }, { 'k', X, S, NULL, 0, 0 },
        { 'l', NULL, NULL, NULL, 0, 0 },
    } },
    { "bad_window_and_report_refused", {
        { 'c', X, S, "r1", 0, -1 }, { 'c', X, S, "r1", 366ULL * 86400 + 1, -1 },
        { 'c', X, S, "", WEEK, -1 }, { 'c', X, S, "a b", WEEK, -1 },
        { 'c', X, S, "{X65}", WEEK, -1 }, { 'c', X, S, "{X64}", WEEK, 1 }, { 'c', X, S, "r1", WEEK, 2 },
        { 'c', Y, S, "r1", 1, 1 },
    } },
    { "soft_list_shows_the_counts", {
        { 'c', X, S, "r1", WEEK, 1 }, { 'c', X, S, "r2", WEEK, 2 }, { 'c', Y, S, "r3", WEEK, 1 },
        { 'c', X, T, "r4", WEEK, 1 }, { 's', NULL, NULL, NULL, WEEK, 3 },
        { 'S', NULL, NULL, NULL, WEEK, 4 }, { 's', X, NULL, NULL, WEEK, 2 },
        { 'S', X, S, NULL, WEEK, 2 }, { 's', NULL, T, NULL, WEEK, 1 },
        { 's', Y, T, NULL, WEEK, 0 }, { 'c', X, S, "r5", WEEK, 3 },
    } },
    { "soft_list_in_the_window_only", {
        { 'c', X, S, "r1", WEEK, 1 }, { 'c', X, S, "r2", WEEK, 2 }, { 'x', X, S, "r1", 0, 0 },
        { 'S', X, S, NULL, WEEK, 1 }, { 'S', X, S, NULL, 2 * WEEK, 2 }, { 'x', X, S, NULL, 0, 0 },
        { 's', X, S, NULL, WEEK, 0 }, { 'd', X, S, NULL, 0, 0 }, { 's', X, S, NULL, 3 * WEEK, 0 },
        { 's', X, S, NULL, 0, -1 },
    } },
    { "soft_list_of_a_stream_with_a_colon", {
        { 'c', "b:c@example.com", "a", "r1", WEEK, 1 }, { 'c', "c@example.com", "a:b", "r2", WEEK, 1 },
        { 'c', "c@example.com", "a:b", "r3", WEEK, 2 }, { 's', "c@example.com", NULL, NULL, WEEK, 1 },
        { 'S', NULL, "a:b", NULL, WEEK, 2 }, { 'S', "b:c@example.com", NULL, NULL, WEEK, 1 },
    } },
    { "separator_cannot_merge_pairs", {
        { 'c', "b:c@example.com", "a", "r1", WEEK, 1 }, { 'c', "c@example.com", "a:b", "r2", WEEK, 1 },
        { 'c', "b:c@example.com", "a", "r3", WEEK, 2 },
    } },
};

/* count_entry - suppress_list() callback */
static void count_entry(const SUPPRESS_ENTRY *e, void *arg)
{
    (void) e;
    (*(long *) arg)++;
}

/* The filters of a soft list, and what it showed. */
typedef struct soft_seen {
    const char *rcpt, *stream;
    long        counts;
} SOFT_SEEN;

/* soft_entry - suppress_soft_list() callback: a pair as asked for, with sane times */
static void soft_entry(const SUPPRESS_SOFT *e, void *arg)
{
    SOFT_SEEN *seen = arg;
    uint64_t now = (uint64_t) time(NULL);

    assert_true(e->count >= 1);
    assert_true(seen->rcpt == NULL || strcmp(e->rcpt, seen->rcpt) == 0);
    assert_true(seen->stream == NULL || strcmp(e->stream, seen->stream) == 0);
    assert_true(e->first > 0 && e->first <= e->last && e->last <= now + 5);
    seen->counts += e->count;
}

/* run_ops - one scenario on the empty store t */
static void run_ops(const void *row, TH_SUP_STORE *t, BUF *err)
{
    const SC_CASE *c = row;
    SUPPRESS_INFO in = { SUPPRESS_BOUNCE, "4.2.2; soft: 2 in 7d; smtp; 452", 0 };
    size_t i;

    for (i = 0; i < 12 && c->ops[i].kind; i++) {
        const OP *o = &c->ops[i];
        long got = 0, n = 0;

        char *report = o->report ? th_expand(o->report, NULL) : NULL;

        switch (o->kind) {
        case 'c':
            got = suppress_soft_count(t->s, o->rcpt, o->stream, report, o->window, err);
            break;
        case 'x': st_lapse(t, o->rcpt, o->stream, report); got = o->want; break;
        case 'R': got = suppress_record(t->s, o->rcpt, o->stream, "dsn", &in, err); break;
        case 'd': got = suppress_remove(t->s, o->rcpt, o->stream, err); break;
        case 'k': got = suppress_check(t->s, o->rcpt, o->stream, err); break;
        case 's':
        case 'S': {
            SOFT_SEEN seen = { o->rcpt, o->stream, 0 };

            got = suppress_soft_list(t->s, o->rcpt, o->stream, o->window, soft_entry, &seen, err);
            if (o->kind == 'S' && got >= 0)
                got = seen.counts;
            break;
        }
        default:
            got = suppress_list(t->s, NULL, NULL, count_entry, &n, err);
            assert_int_equal(n, got);
            break;
        }
        th_sup_step(i + 1, o->kind, got, o->want, err);
        free(report);
    }
}

/* ---------------------------------------------------------- the stores */

/* The suppress table of schema 2 and 3 (reasons, before soft reports). */
#define SCHEMA2_SUPPRESS \
    "CREATE TABLE suppress (rcpt TEXT NOT NULL, stream TEXT NOT NULL," \
    " created INTEGER NOT NULL, source TEXT NOT NULL," \
    " reason TEXT NOT NULL DEFAULT 'unsubscribe'," \
    " evidence TEXT NOT NULL DEFAULT ''," \
    " expires INTEGER NOT NULL DEFAULT 0," \
    " PRIMARY KEY (rcpt, stream)) WITHOUT ROWID;"

/* test_sqlite_schema2_migrated - a schema 2 file gains the reports, keeps its entries */
static void test_sqlite_schema2_migrated(void **state)
{
    char *dir = th_sup_new_dir(), *db = xasprintf("%s/suppress.db", dir);
    SUPPRESS_REASON why;
    char ev[SUPPRESS_EVIDENCE_MAX];
    SUPPRESS *s;

    (void) state;
    th_sup_sqlite_file(db, "PRAGMA journal_mode=WAL;" SCHEMA2_SUPPRESS
                       "INSERT INTO suppress VALUES ('a@example.com', 's@x.example', 7,"
                       " 'dsn', 'bounce', '5.1.1; smtp; 550', 0);"
                       "PRAGMA user_version = 2;");
    assert_non_null(s = suppress_open("embedded", dir, 0, NULL));
    assert_int_equal(suppress_lookup(s, "a@example.com", "s@x.example", &why, ev, NULL), 1);
    assert_int_equal(why, SUPPRESS_BOUNCE);
    assert_string_equal(ev, "5.1.1; smtp; 550");
    assert_int_equal(suppress_soft_count(s, "b@example.com", "s@x.example", "r1", WEEK, NULL), 1);
    assert_int_equal(suppress_soft_count(s, "b@example.com", "s@x.example", "r2", WEEK, NULL), 2);
    suppress_close(s);
    assert_int_equal(th_sup_sqlite_int(db, "PRAGMA user_version"), 4);
    /* a second open changes nothing, the count stays */
    assert_non_null(s = suppress_open("embedded", dir, 0, NULL));
    assert_int_equal(suppress_soft_count(s, "b@example.com", "s@x.example", "r3", WEEK, NULL), 3);
    suppress_close(s);
    free(db);
    free(dir);
}

/* test_sqlite_pruned - reports older than the window are deleted by the next count */
static void test_sqlite_pruned(void **state)
{
    char *db;
    TH_SUP_STORE t;

    (void) state;
    th_sup_open(&t, 'q');
    db = xasprintf("%s/suppress.db", t.dir);
    assert_int_equal(suppress_soft_count(t.s, X, S, "r1", WEEK, NULL), 1);
    assert_int_equal(suppress_soft_count(t.s, Y, S, "r2", WEEK, NULL), 1);
    assert_int_equal(th_sup_sqlite_int(db, "SELECT count(*) FROM soft_report"), 2);
    st_lapse(&t, X, S, NULL);
    assert_int_equal(suppress_soft_count(t.s, Y, S, "r3", WEEK, NULL), 2);
    assert_int_equal(th_sup_sqlite_int(db, "SELECT count(*) FROM soft_report"), 2);
    free(db);
    th_sup_close(&t);
}

/* test_sqlite_schema3_migrated - schema 3's counts become reports at their start */
static void test_sqlite_schema3_migrated(void **state)
{
    char *dir = th_sup_new_dir(), *db = xasprintf("%s/suppress.db", dir), *sql;
    SUPPRESS *s;
    sqlite3 *h;

    (void) state;
    sql = sqlite3_mprintf("PRAGMA journal_mode=WAL;" SCHEMA2_SUPPRESS
                          "CREATE TABLE soft_bounce (rcpt TEXT NOT NULL, stream TEXT NOT NULL,"
                          " since INTEGER NOT NULL, count INTEGER NOT NULL,"
                          " PRIMARY KEY (rcpt, stream)) WITHOUT ROWID;"
                          "INSERT INTO soft_bounce VALUES ('%q', '%q', %lld, 2);"
                          "INSERT INTO soft_bounce VALUES ('%q', '%q', 5, 9);"
                          "PRAGMA user_version = 3;", X, S, (long long) time(NULL) - 60, Y, S);
    th_sup_sqlite_file(db, sql);
    sqlite3_free(sql);
    assert_non_null(s = suppress_open("embedded", dir, 0, NULL));
    assert_int_equal(th_sup_sqlite_int(db, "PRAGMA user_version"), 4);
    /* X's two of a minute ago still count; Y's nine of 1970 are past any window */
    assert_int_equal(suppress_soft_count(s, X, S, "r1", WEEK, NULL), 3);
    assert_int_equal(suppress_soft_count(s, Y, S, "r1", WEEK, NULL), 1);
    suppress_close(s);
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "SELECT 1 FROM soft_bounce", NULL, NULL, NULL), SQLITE_ERROR);
    sqlite3_close(h);
    free(db);
    free(dir);
}

/* test_redis_key_and_ttl - one sorted set per pair, in the namespace, TTL the window */
static void test_redis_key_and_ttl(void **state)
{
    char *key = soft_key(X, S);
    redisReply *rep;
    TH_SUP_STORE t;

    (void) state;
    th_sup_open(&t, 'r');
    assert_int_equal(suppress_soft_count(t.s, X, S, "r1", WEEK, NULL), 1);
    rep = th_sup_raw("TYPE %s", key);
    assert_int_equal(rep->type, REDIS_REPLY_STATUS);
    assert_string_equal(rep->str, "zset");
    freeReplyObject(rep);
    assert_int_equal(raw_int("ZCARD %s", key), 1);
    assert_true(raw_int("TTL %s", key) > WEEK - 5 && raw_int("TTL %s", key) <= WEEK);
    assert_int_equal(raw_int("DBSIZE%s", ""), 1);
    free(key);
    th_sup_close(&t);
}

/* test_redis_old_count_taken_over - a count of the build before reports counts on */
static void test_redis_old_count_taken_over(void **state)
{
    char *key = soft_key(X, S);
    TH_SUP_STORE t;

    (void) state;
    th_sup_open(&t, 'r');
    freeReplyObject(th_sup_raw("SET %s 2 EX 1000", key));
    assert_int_equal(suppress_soft_count(t.s, X, S, "r1", WEEK, NULL), 3);
    assert_int_equal(suppress_soft_count(t.s, X, S, "r1", WEEK, NULL), 3);
    assert_int_equal(raw_int("ZCARD %s", key), 3);
    free(key);
    th_sup_close(&t);
}

/* test_redis_down - a Redis that does not answer: -1, a failed write counted */
static void test_redis_down(void **state)
{
    SUPPRESS_STATS st;
    SUPPRESS *s;
    BUF err;

    (void) state;
    buf_init(&err, 1024);
    assert_non_null(s = suppress_open("redis://127.0.0.1:1/0", NULL, 200, NULL));
    assert_int_equal(suppress_soft_count(s, X, S, "r1", WEEK, &err), -1);
    assert_non_null(strstr(err.data, "redis"));
    suppress_stats(s, &st);
    assert_int_equal(st.writes_failed, 1);
    assert_int_equal(st.up, 0);
    suppress_close(s);
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_sqlite_schema2_migrated),
        cmocka_unit_test(test_sqlite_pruned),
        cmocka_unit_test(test_sqlite_schema3_migrated),
        cmocka_unit_test(test_redis_down),
    };
    const struct CMUnitTest redis_tests[] = {
        cmocka_unit_test(test_redis_key_and_ttl),
        cmocka_unit_test(test_redis_old_count_taken_over),
    };
    const TH_SUP_SUITE suite = {
        "supsoft", "suppress_soft", TH_SUP_ARRAY(plain), run_ops, TH_SUP_ROWS(sc_cases),
        "suppress_soft_redis_more", TH_SUP_ARRAY(redis_tests),
    };

    return th_sup_main(&suite);
}

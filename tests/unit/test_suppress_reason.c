/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_suppress_reason.c - the suppression list's reasons, evidence and
 * expiry (suppress.c, suppress_sqlite.c, suppress_redis.c), through both
 * stores: the SQLite file in a temporary directory and a real
 * redis-server that the test starts on a free loopback port (the
 * fixture of testsuppress.h). Without redis-server the test fails.
 *
 * - one table of scenarios runs through both stores: reasons kept and
 *   listed, a bounce never weakening an unsubscribe, a bounce renewed, a
 *   lapsed entry suppressing nothing and replaced, evidence made safe;
 *   "lapse" turns an entry's expiry into the past behind the store's back
 *   (no clock is waited for);
 * - SQLite: a schema 1 file (before reasons) migrated on open, reasons
 *   derived from the source;
 * - Redis: a value written before reasons ("CREATED SOURCE") read back.
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

/* st_lapse - set the entry's expiry to long ago, as the clock passing it would */
static void st_lapse(TH_SUP_STORE *t, const char *rcpt, const char *stream)
{
    if (t->dir) {
        char *db = xasprintf("%s/suppress.db", t->dir), *sql;
        sqlite3 *h;

        assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
        sql = sqlite3_mprintf("UPDATE suppress SET expires = 5 WHERE rcpt = %Q AND stream = %Q",
                              rcpt, stream);
        assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_changes(h), 1);
        sqlite3_free(sql);
        sqlite3_close(h);
        free(db);
    } else {
        redisReply *rep = th_sup_raw("EVAL %s 1 %s%s %s", "local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
                                     "local a, b, c, d, e = string.match(v, '^(%d+) (%S+) (%S+) (%d+) ?(.*)$')\n"
                                     "redis.call('HSET', KEYS[1], ARGV[1], a .. ' ' .. b .. ' ' .. c .. ' 5 ' .. e)\n"
                                     "return 1", REDIS_SUP_HASH, stream, rcpt);

        assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
        freeReplyObject(rep);
    }
}

/* ------------------------------------------------------------ scenarios */

typedef struct op {
    char        kind;       /* a add, R record, k lookup, x lapse, l list, 0 end */
    const char *rcpt;
    const char *stream;
    const char *source;     /* a, R */
    int         reason;     /* R: the reason; k: the reason expected */
    const char *evidence;   /* R: given; k: expected */
    unsigned    after;      /* R: expire after (s) */
    long        want;       /* a, R: 0 or -1; k: 0/1; l: count */
    const char *lines;      /* l: "rcpt|stream|source|reason|EXP|evidence\n", EXP never, later, lapsed */
} OP;

typedef struct sc_case {
    const char *name;
    OP          ops[12];
} SC_CASE;

#define U SUPPRESS_UNSUBSCRIBE
#define B SUPPRESS_BOUNCE
#define C SUPPRESS_COMPLAINT
#define M SUPPRESS_MANUAL
#define X "x@example.com"
#define S "news@shop.example"
#define EV1 "5.1.1; smtp; 550 5.1.1 <x@example.com>: Recipient address rejected"

static const SC_CASE sc_cases[] = {
    { "each_reason_kept_and_listed", {
        { 'a', "u@example.com", S, "http", 0, NULL, 0, 0, NULL },
        { 'a', "m@example.com", S, "txmilterctl", 0, NULL, 0, 0, NULL },
        { 'R', "b@example.com", S, "dsn", B, EV1, 0, 0, NULL },
        { 'R', "c@example.com", S, "arf", C, "abuse from 192.0.2.1", 0, 0, NULL },
        { 'k', "u@example.com", S, NULL, U, "", 0, 1, NULL },
        { 'k', "m@example.com", S, NULL, M, "", 0, 1, NULL },
        { 'k', "b@example.com", S, NULL, B, EV1, 0, 1, NULL },
        { 'k', "c@example.com", S, NULL, C, "abuse from 192.0.2.1", 0, 1, NULL },
        { 'k', "b@example.com", "other@shop.example", NULL, 0, NULL, 0, 0, NULL },
        { 'l', NULL, NULL, NULL, 0, NULL, 0, 4, "b@example.com|" S "|dsn|bounce|never|" EV1 "\n"
          "c@example.com|" S "|arf|complaint|never|abuse from 192.0.2.1\n"
          "m@example.com|" S "|txmilterctl|manual|never|\n"
          "u@example.com|" S "|http|unsubscribe|never|\n" },
    } },
    { "bounce_never_weakens_an_unsubscribe", {
        { 'a', X, S, "http", 0, NULL, 0, 0, NULL },
        { 'R', X, S, "dsn", B, EV1, 3600, 0, NULL },
        { 'k', X, S, NULL, U, "", 0, 1, NULL },
        { 'l', NULL, NULL, NULL, 0, NULL, 0, 1, X "|" S "|http|unsubscribe|never|\n" },
    } },
    { "bounce_renewed_never_shortened", {
        { 'R', X, S, "dsn", B, "5.1.1 first", 100, 0, NULL },
        { 'R', X, S, "dsn", B, "5.1.2 second", 1000, 0, NULL },
        { 'k', X, S, NULL, B, "5.1.2 second", 0, 1, NULL },
        { 'R', X, S, "dsn", B, "5.1.3 shorter", 50, 0, NULL },
        { 'k', X, S, NULL, B, "5.1.2 second", 0, 1, NULL },
        { 'R', X, S, "dsn", B, "5.1.1 forever", 0, 0, NULL },
        { 'k', X, S, NULL, B, "5.1.1 forever", 0, 1, NULL },
        { 'l', NULL, NULL, NULL, 0, NULL, 0, 1, X "|" S "|dsn|bounce|never|5.1.1 forever\n" },
    } },
    { "lapsed_entry_suppresses_nothing_until_recorded_again", {
        { 'R', X, S, "dsn", B, EV1, 86400, 0, NULL },
        { 'l', NULL, NULL, NULL, 0, NULL, 0, 1, X "|" S "|dsn|bounce|later|" EV1 "\n" },
        { 'x', X, S, NULL, 0, NULL, 0, 0, NULL },
        { 'k', X, S, NULL, 0, NULL, 0, 0, NULL },
        { 'l', NULL, NULL, NULL, 0, NULL, 0, 1, X "|" S "|dsn|bounce|lapsed|" EV1 "\n" },
        { 'R', X, S, "dsn", B, "5.2.1 again", 86400, 0, NULL },
        { 'k', X, S, NULL, B, "5.2.1 again", 0, 1, NULL },
    } },
    { "unsubscribe_replaces_a_lapsed_bounce", {
        { 'R', X, S, "dsn", B, EV1, 100, 0, NULL },
        { 'x', X, S, NULL, 0, NULL, 0, 0, NULL },
        { 'a', X, S, "http", 0, NULL, 0, 0, NULL },
        { 'k', X, S, NULL, U, "", 0, 1, NULL },
        { 'l', NULL, NULL, NULL, 0, NULL, 0, 1, X "|" S "|http|unsubscribe|never|\n" },
    } },
    { "evidence_made_safe_and_bounded", {
        { 'R', X, S, "dsn", B, "5.1.1;\r\n\tsmtp;\x01 550", 0, 0, NULL },
        { 'k', X, S, NULL, B, "5.1.1;   smtp;  550", 0, 1, NULL },
        { 'R', "y@example.com", S, "dsn", B, "{X400}", 0, 0, NULL },
        { 'k', "y@example.com", S, NULL, B, "{X255}", 0, 1, NULL },
    } },
    { "bad_reason_and_expiry_refused", {
        { 'R', X, S, "dsn", SUPPRESS_REASONS, "", 0, -1, NULL },
        { 'R', X, S, "dsn", B, "", 4000000000u, -1, NULL },
        { 'k', X, S, NULL, 0, NULL, 0, 0, NULL },
    } },
};

/* lines_of - an entry as "rcpt|stream|source|reason|EXP|evidence\n" */
static void lines_of(const SUPPRESS_ENTRY *e, void *arg)
{
    uint64_t now = (uint64_t) time(NULL);

    assert_int_equal(buf_printf(arg, "%s|%s|%s|%s|%s|%s\n", e->rcpt, e->stream, e->source,
                                suppress_reason_name(e->reason), e->expires == 0 ? "never"
                                : e->expires <= now ? "lapsed" : "later", e->evidence), 0);
}

/* check_list - the listing in (rcpt, stream) order against want */
static void check_list(SUPPRESS *s, const OP *o, size_t step)
{
    BUF b, err;
    long n;
    char *sorted_lines;

    buf_init(&b, 1 << 16);
    buf_init(&err, 1024);
    assert_int_equal(buf_puts(&b, ""), 0);
    n = suppress_list(s, o->rcpt, o->stream, lines_of, &b, &err);
    sorted_lines = th_sort_lines(b.data);
    if (n != o->want || strcmp(sorted_lines, o->lines) != 0)
        fail_msg("step %zu: list gave %ld\n%s\nnot %ld\n%s", step, n, sorted_lines, o->want,
                 o->lines);
    free(sorted_lines);
    buf_free(&b);
    buf_free(&err);
}

/* run_ops - one scenario on the empty store t */
static void run_ops(const void *row, TH_SUP_STORE *t, BUF *err)
{
    const SC_CASE *c = row;
    char ev[SUPPRESS_EVIDENCE_MAX];
    SUPPRESS_REASON why;
    size_t i;

    for (i = 0; i < 12 && c->ops[i].kind; i++) {
        const OP *o = &c->ops[i];
        char *given = o->evidence ? th_expand(o->evidence, NULL) : NULL;
        SUPPRESS_INFO in = { (SUPPRESS_REASON) o->reason, given, o->after };
        long got = 0;

        switch (o->kind) {
        case 'a': got = suppress_add(t->s, o->rcpt, o->stream, o->source, err); break;
        case 'R': got = suppress_record(t->s, o->rcpt, o->stream, o->source, &in, err); break;
        case 'x': st_lapse(t, o->rcpt, o->stream); break;
        case 'l': check_list(t->s, o, i + 1); got = o->want; break;
        default:
            got = suppress_lookup(t->s, o->rcpt, o->stream, &why, ev, err);
            if (got == 1 && ((int) why != o->reason || strcmp(ev, given) != 0))
                fail_msg("step %zu: lookup gave %s \"%s\", not %s \"%s\"", i + 1,
                         suppress_reason_name(why), ev,
                         suppress_reason_name((SUPPRESS_REASON) o->reason), given);
            assert_int_equal(suppress_check(t->s, o->rcpt, o->stream, NULL), got);
            break;
        }
        th_sup_step(i + 1, o->kind, got, o->want, err);
        free(given);
    }
}

/* ----------------------------------------------------- older data kept */

/* test_sqlite_migrated - a schema 1 file gains the columns, reasons from sources */
static void test_sqlite_migrated(void **state)
{
    char *dir = th_sup_new_dir(), *db = xasprintf("%s/suppress.db", dir);
    TH_SUP_STORE t;
    BUF b;

    (void) state;
    th_sup_sqlite_file(db, "PRAGMA journal_mode=WAL;"
                       "CREATE TABLE suppress (rcpt TEXT NOT NULL, stream TEXT NOT NULL,"
                       " created INTEGER NOT NULL, source TEXT NOT NULL,"
                       " PRIMARY KEY (rcpt, stream)) WITHOUT ROWID;"
                       "INSERT INTO suppress VALUES ('a@example.com', 's@x.example', 7, 'http');"
                       "INSERT INTO suppress VALUES ('b@example.com', 's@x.example', 8, 'txmilterctl');"
                       "PRAGMA user_version = 1;");
    t.dir = dir;
    t.s = NULL;
    {
        BUF err;

        buf_init(&err, 1024);
        t.s = suppress_open("embedded", dir, 0, &err);
        if (t.s == NULL)
            fail_msg("open: %s", err.data);
        buf_free(&err);
    }
    buf_init(&b, 4096);
    assert_int_equal(buf_puts(&b, ""), 0);
    assert_int_equal(suppress_list(t.s, NULL, NULL, lines_of, &b, NULL), 2);
    assert_string_equal(b.data, "a@example.com|s@x.example|http|unsubscribe|never|\n"
                        "b@example.com|s@x.example|txmilterctl|manual|never|\n");
    assert_int_equal(suppress_check(t.s, "a@example.com", "s@x.example", NULL), 1);
    buf_free(&b);
    suppress_close(t.s);
    /* the version says so, and a second open changes nothing */
    t.s = NULL;
    assert_non_null(t.s = suppress_open("embedded", dir, 0, NULL));
    suppress_close(t.s);
    assert_int_equal(th_sup_sqlite_int(db, "PRAGMA user_version"), 4);
    free(db);
    free(dir);
}

/* test_redis_old_values - values written before reasons read as before */
static void test_redis_old_values(void **state)
{
    TH_SUP_STORE t;
    BUF b;

    (void) state;
    th_sup_open(&t, 'r');
    freeReplyObject(th_sup_raw("HSET %ss@x.example a@example.com %s", REDIS_SUP_HASH, "7 http"));
    freeReplyObject(th_sup_raw("HSET %ss@x.example b@example.com %s", REDIS_SUP_HASH, "8 txmilterctl"));
    freeReplyObject(th_sup_raw("SADD %s s@x.example", REDIS_SUP_STREAMS));
    buf_init(&b, 4096);
    assert_int_equal(buf_puts(&b, ""), 0);
    assert_int_equal(suppress_list(t.s, NULL, NULL, lines_of, &b, NULL), 2);
    {
        char *got = th_sort_lines(b.data);

        assert_string_equal(got, "a@example.com|s@x.example|http|unsubscribe|never|\n"
                            "b@example.com|s@x.example|txmilterctl|manual|never|\n");
        free(got);
    }
    assert_int_equal(suppress_check(t.s, "a@example.com", "s@x.example", NULL), 1);
    buf_free(&b);
    th_sup_close(&t);
}

/* test_reason_names - the names round-trip, in any case; others refused */
static void test_reason_names(void **state)
{
    int r;

    (void) state;
    for (r = 0; r < SUPPRESS_REASONS; r++)
        assert_int_equal(suppress_reason_parse(suppress_reason_name((SUPPRESS_REASON) r)), r);
    assert_int_equal(suppress_reason_parse("BOUNCE"), SUPPRESS_BOUNCE);
    assert_int_equal(suppress_reason_parse("bounced"), -1);
    assert_int_equal(suppress_reason_parse(""), -1);
    assert_int_equal(suppress_reason_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_sqlite_migrated),
    };
    const struct CMUnitTest redis_tests[] = { cmocka_unit_test(test_redis_old_values) };
    const TH_SUP_SUITE suite = {
        "supreason", "suppress_reason", TH_SUP_ARRAY(plain), run_ops, TH_SUP_ROWS(sc_cases),
        "suppress_reason_redis_old", TH_SUP_ARRAY(redis_tests),
    };

    return th_sup_main(&suite);
}

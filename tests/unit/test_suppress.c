/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_suppress.c - suppress.c and its two stores: the SQLite file
 * (suppress_sqlite.c) in a temporary directory, and Redis
 * (suppress_redis.c) against a real redis-server that the test starts on
 * a free loopback port (with a password, no persistence; through
 * tests/redis-launch, see testutil.h) and kills at the end (the scratch
 * directory and the server are testsuppress.h's). Without redis-server (Debian package redis-server) the test fails;
 * it never skips.
 *
 * - one table of scenarios (add idempotent, check, remove, list and its
 *   filters, streams and recipients independent, binary-safe fields) runs
 *   through both stores;
 * - SQLite: mode 0640 whatever the umask, WAL, two handles on one file,
 *   two processes writing at once, threads sharing a handle, close and
 *   reopen, files refused;
 * - Redis: key layout, two handles ("relays"), close and reopen, AUTH,
 *   unix socket, a dead server answered within the timeout, recovery; a
 *   frozen (SIGSTOP) server behind the pool's breaker: every failed check
 *   counted, one timeout per retry interval, bounded log lines, enforced
 *   again after SIGCONT;
 * - argument checks and suppress_norm_stream().
 *
 * TEST_TIME_SLACK_MS (environment) widens the time bounds, for valgrind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <hiredis.h>
#include <sqlite3.h>

#include "redis_pool.h"
#include "suppress.h"
#include "testsuppress.h"
#include "testutil.h"
#include "util.h"

#define TO_MS   200                     /* the Redis store's timeout */
#define PASS    "s3cret pass"           /* with a space: URL-escaped */
#define PASS_URL "s3cret%%20pass"      /* in a format string */

static long slack_ms;

/* ------------------------------------------------------------ redis-server */

/* raw - a command (argv form) on a fresh authenticated connection; NULL on error */
static redisReply *raw(int argc, const char **argv)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", th_sup.rs.port, tv);
    redisReply *rep;

    if (c == NULL || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    rep = redisCommand(c, "AUTH %s", PASS);
    if (rep)
        freeReplyObject(rep);
    rep = redisCommandArgv(c, argc, argv, NULL);
    redisFree(c);
    return rep;
}

/* raw1 - raw() of a command with up to three words; the reply */
static redisReply *raw1(const char *a, const char *b, const char *c)
{
    const char *argv[3] = { a, b, c };

    return raw(c ? 3 : b ? 2 : 1, argv);
}

/* rs_start - start (or restart on the same port) the redis-server */
static void rs_start(void)
{
    char *dir = xasprintf("%s/redis", th_sup.tmp);

    th_sup.rs.password = PASS;
    th_redis_start(&th_sup.rs, dir);
    free(dir);
}

/* redis_url - the server's URL with the password and db */
static char *redis_url(int db)
{
    return xasprintf("redis://:" PASS_URL "@127.0.0.1:%d/%d", th_sup.rs.port, db);
}

/* flushall - empty every db */
static void flushall(void)
{
    redisReply *rep = raw1("FLUSHALL", NULL, NULL);

    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_STATUS);
    freeReplyObject(rep);
}

/* -------------------------------------------------------------- fixtures */

/* open_sqlite - a store on dir (fails the test if it does not open) */
static SUPPRESS *open_sqlite(const char *dir)
{
    BUF err;
    SUPPRESS *s;

    buf_init(&err, 1024);
    if ((s = suppress_open("embedded", dir, 0, &err)) == NULL)
        fail_msg("suppress_open(embedded, %s): %s", dir, err.data ? err.data : "?");
    buf_free(&err);
    return s;
}

/* open_redis - a store on the test server's db */
static SUPPRESS *open_redis(int db)
{
    char *url = redis_url(db);
    BUF err;
    SUPPRESS *s;

    buf_init(&err, 1024);
    if ((s = suppress_open(url, NULL, TO_MS + (unsigned) slack_ms, &err)) == NULL)
        fail_msg("suppress_open(redis): %s", err.data ? err.data : "?");
    buf_free(&err);
    free(url);
    return s;
}

/* collect - suppress_list's callback: "rcpt|stream|source\n" lines */
static void collect(const SUPPRESS_ENTRY *e, void *arg)
{
    BUF *b = arg;
    uint64_t now = (uint64_t) time(NULL);

    assert_true(e->created + 5 >= now && e->created <= now + 5);
    assert_int_equal(buf_printf(b, "%s|%s|%s\n", e->rcpt, e->stream, e->source), 0);
}

/* list_all - the entries matching rcpt and stream, sorted lines; *n the count */
static char *list_all(SUPPRESS *s, const char *rcpt, const char *stream, long *n)
{
    BUF b, err;
    char *out;

    buf_init(&b, 1 << 20);
    buf_init(&err, 1024);
    *n = suppress_list(s, rcpt, stream, collect, &b, &err);
    if (*n < 0)
        fail_msg("suppress_list: %s", err.data ? err.data : "?");
    out = th_sort_lines(b.data);
    buf_free(&b);
    buf_free(&err);
    return out;
}

/* ------------------------------------------------------- shared scenarios */

typedef struct op {
    char        kind;                   /* a add, c check, r remove, l list, 0 end */
    const char *rcpt;
    const char *stream;
    const char *source;                 /* add */
    long        want;                   /* add: 0; check, remove: 0/1; list: the count */
    const char *lines;                  /* list: sorted "rcpt|stream|source\n" lines */
} OP;

typedef struct sc_case {
    const char *name;
    OP          ops[16];
} SC_CASE;

static const SC_CASE sc_cases[] = {
    { "add_then_check", {
        { 'c', "x@example.com", "news@shop.example", NULL, 0, NULL },
        { 'a', "x@example.com", "news@shop.example", "http", 0, NULL },
        { 'c', "x@example.com", "news@shop.example", NULL, 1, NULL },
        { 'c', "x@example.com", "other@shop.example", NULL, 0, NULL },
        { 'c', "y@example.com", "news@shop.example", NULL, 0, NULL },
    } },
    { "add_is_idempotent_first_source_kept", {
        { 'a', "x@example.com", "s@shop.example", "http", 0, NULL },
        { 'a', "x@example.com", "s@shop.example", "mail", 0, NULL },
        { 'a', "x@example.com", "s@shop.example", "txmilterctl", 0, NULL },
        { 'l', NULL, NULL, NULL, 1, "x@example.com|s@shop.example|http\n" },
        { 'c', "x@example.com", "s@shop.example", NULL, 1, NULL },
    } },
    { "remove", {
        { 'a', "x@example.com", "s@shop.example", "http", 0, NULL },
        { 'r', "x@example.com", "s@shop.example", NULL, 1, NULL },
        { 'c', "x@example.com", "s@shop.example", NULL, 0, NULL },
        { 'r', "x@example.com", "s@shop.example", NULL, 0, NULL },
        { 'l', NULL, NULL, NULL, 0, "" },
        { 'a', "x@example.com", "s@shop.example", "mail", 0, NULL },
        { 'l', NULL, NULL, NULL, 1, "x@example.com|s@shop.example|mail\n" },
    } },
    { "list_and_filters", {
        { 'a', "x@example.com", "s1@shop.example", "http", 0, NULL },
        { 'a', "x@example.com", "s2@shop.example", "mail", 0, NULL },
        { 'a', "y@example.com", "s1@shop.example", "http", 0, NULL },
        { 'a', "z@example.com", "shop.example", "txmilterctl", 0, NULL },
        { 'l', NULL, NULL, NULL, 4, "x@example.com|s1@shop.example|http\n"
          "x@example.com|s2@shop.example|mail\ny@example.com|s1@shop.example|http\n"
          "z@example.com|shop.example|txmilterctl\n" },
        { 'l', "x@example.com", NULL, NULL, 2, "x@example.com|s1@shop.example|http\n"
          "x@example.com|s2@shop.example|mail\n" },
        { 'l', NULL, "s1@shop.example", NULL, 2, "x@example.com|s1@shop.example|http\n"
          "y@example.com|s1@shop.example|http\n" },
        { 'l', "y@example.com", "s1@shop.example", NULL, 1,
          "y@example.com|s1@shop.example|http\n" },
        { 'l', "w@example.com", NULL, NULL, 0, "" },
        { 'l', NULL, "s9@shop.example", NULL, 0, "" },
        { 'l', "y@example.com", "s2@shop.example", NULL, 0, "" },
    } },
    { "one_stream_never_another", {
        { 'a', "x@example.com", "a@shop.example", "http", 0, NULL },
        { 'c', "x@example.com", "b@shop.example", NULL, 0, NULL },
        { 'c', "x@example.com", "shop.example", NULL, 0, NULL },
        { 'r', "x@example.com", "b@shop.example", NULL, 0, NULL },
        { 'c', "x@example.com", "a@shop.example", NULL, 1, NULL },
    } },
    { "one_recipient_never_another", {
        { 'a', "x@example.com", "s@shop.example", "http", 0, NULL },
        { 'c', "y@example.com", "s@shop.example", NULL, 0, NULL },
        { 'c', "x@example.co", "s@shop.example", NULL, 0, NULL },
        { 'c', "x@example.com.", "s@shop.example", NULL, 0, NULL },
        { 'r', "y@example.com", "s@shop.example", NULL, 0, NULL },
        { 'c', "x@example.com", "s@shop.example", NULL, 1, NULL },
    } },
    { "binary_safe_fields", {
        { 'a', "\"a b\"@example.com", "streams", "http", 0, NULL },
        { 'a', "*@example.com", "s:*", "http", 0, NULL },
        { 'a', "a|b@example.com", "[x]?@shop.example", "mail", 0, NULL },
        { 'a', "j\xc3\xb6rg@example.de", "s@shop.example", "http", 0, NULL },
        { 'c', "\"a b\"@example.com", "streams", NULL, 1, NULL },
        { 'c', "x@example.com", "s:*", NULL, 0, NULL },
        { 'c', "*@example.com", "s:x", NULL, 0, NULL },
        { 'c', "a|b@example.com", "[x]?@shop.example", NULL, 1, NULL },
        { 'c', "j\xc3\xb6rg@example.de", "s@shop.example", NULL, 1, NULL },
        { 'l', NULL, NULL, NULL, 4, "\"a b\"@example.com|streams|http\n*@example.com|s:*|http\n"
          "a|b@example.com|[x]?@shop.example|mail\nj\xc3\xb6rg@example.de|s@shop.example|http\n" },
        { 'l', "*@example.com", NULL, NULL, 1, "*@example.com|s:*|http\n" },
    } },
};

/* run_ops - one scenario on s */
static void run_ops(SUPPRESS *s, const SC_CASE *c)
{
    BUF err;
    const OP *o;
    size_t i;

    buf_init(&err, 1024);
    for (i = 0; i < 16 && (o = &c->ops[i])->kind; i++) {
        long got;
        char *lines;

        switch (o->kind) {
        case 'a':
            got = suppress_add(s, o->rcpt, o->stream, o->source, &err);
            break;
        case 'c':
            got = suppress_check(s, o->rcpt, o->stream, &err);
            break;
        case 'r':
            got = suppress_remove(s, o->rcpt, o->stream, &err);
            break;
        default:
            lines = list_all(s, o->rcpt, o->stream, &got);
            if (strcmp(lines, o->lines) != 0)
                fail_msg("step %zu: list gave\n%s\nnot\n%s", i + 1, lines, o->lines);
            free(lines);
            break;
        }
        if (got != o->want)
            fail_msg("step %zu (%c %s %s): %ld, not %ld (%s)", i + 1, o->kind,
                     o->rcpt ? o->rcpt : "-", o->stream ? o->stream : "-", got, o->want,
                     err.data ? err.data : "");
    }
    buf_free(&err);
}

/* test_scenario_sqlite - a scenario on a new SQLite file */
static void test_scenario_sqlite(void **state)
{
    char *dir = th_sup_new_dir();
    SUPPRESS *s = open_sqlite(dir);

    run_ops(s, *state);
    suppress_close(s);
    free(dir);
}

/* test_scenario_redis - a scenario on an empty Redis */
static void test_scenario_redis(void **state)
{
    SUPPRESS *s;

    flushall();
    s = open_redis(3);
    run_ops(s, *state);
    suppress_close(s);
}

/* ------------------------------------------------------------- SQLite */

/* file_mode - permission bits of path */
static unsigned file_mode(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (unsigned) (st.st_mode & 07777);
}

/* test_sqlite_file - mode 0640 whatever the umask, WAL, schema */
static void test_sqlite_file(void **state)
{
    static const mode_t masks[] = { 022, 077, 0 };
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        char *dir = th_sup_new_dir(), *db = xasprintf("%s/suppress.db", dir), *wal;
        mode_t old = umask(masks[i]);
        SUPPRESS *s = open_sqlite(dir);
        sqlite3 *raw_db;
        sqlite3_stmt *st;

        umask(old);
        assert_int_equal(file_mode(db), 0640);
        assert_int_equal(suppress_add(s, "x@example.com", "s@x.example", "http", NULL), 0);
        wal = xasprintf("%s-wal", db);
        assert_int_equal(file_mode(wal), 0640);
        /* another connection sees WAL mode and the schema version */
        assert_int_equal(sqlite3_open_v2(db, &raw_db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(raw_db, "PRAGMA journal_mode", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *) sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        assert_int_equal(sqlite3_prepare_v2(raw_db, "PRAGMA user_version", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), 4);
        sqlite3_finalize(st);
        sqlite3_close(raw_db);
        suppress_close(s);
        free(wal);
        free(db);
        free(dir);
    }
}

/* test_sqlite_two_handles - two handles on one file, as two processes hold them */
static void test_sqlite_two_handles(void **state)
{
    char *dir = th_sup_new_dir();
    SUPPRESS *a = open_sqlite(dir), *b = open_sqlite(dir);

    (void) state;
    assert_int_equal(suppress_check(b, "x@example.com", "s@x.example", NULL), 0);
    assert_int_equal(suppress_add(a, "x@example.com", "s@x.example", "http", NULL), 0);
    assert_int_equal(suppress_check(b, "x@example.com", "s@x.example", NULL), 1);
    assert_int_equal(suppress_add(b, "x@example.com", "s@x.example", "mail", NULL), 0);
    assert_int_equal(suppress_remove(b, "x@example.com", "s@x.example", NULL), 1);
    assert_int_equal(suppress_check(a, "x@example.com", "s@x.example", NULL), 0);
    assert_int_equal(suppress_remove(a, "x@example.com", "s@x.example", NULL), 0);
    suppress_close(a);
    suppress_close(b);
    free(dir);
}

#define PROC_N 150

/* add_many - PROC_N entries "tag-i@example.com" of one stream, each checked at once */
static int add_many(SUPPRESS *s, const char *tag)
{
    char rcpt[64];
    BUF err;
    int i, bad = 0;

    buf_init(&err, 1024);
    for (i = 0; i < PROC_N && !bad; i++) {
        snprintf(rcpt, sizeof(rcpt), "%s-%d@example.com", tag, i);
        if (suppress_add(s, rcpt, "s@x.example", "http", &err) != 0
            || suppress_check(s, rcpt, "s@x.example", &err) != 1) {
            fprintf(stderr, "%s: %s\n", rcpt, err.data ? err.data : "?");
            bad = 1;
        }
    }
    buf_free(&err);
    return bad;
}

/* test_sqlite_two_processes - txmilter and txmilter-unsubd writing at once */
static void test_sqlite_two_processes(void **state)
{
    char *dir = th_sup_new_dir(), go;
    int pfd[2], st;
    SUPPRESS *s;
    pid_t pid;
    long n;
    char *lines;

    (void) state;
    assert_int_equal(pipe(pfd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* another process: its own handle, opened at the same time as ours */
        close(pfd[1]);
        if (read(pfd[0], &go, 1) != 1)
            _exit(2);
        s = suppress_open("embedded", dir, 0, NULL);
        st = s == NULL || add_many(s, "child") != 0;
        suppress_close(s);
        free(dir);                      /* nothing left for valgrind to find in the child */
        _exit(st);
    }
    close(pfd[0]);
    assert_int_equal(write(pfd[1], "g", 1), 1);
    close(pfd[1]);
    s = open_sqlite(dir);
    assert_int_equal(add_many(s, "parent"), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    lines = list_all(s, NULL, NULL, &n);
    assert_int_equal(n, 2 * PROC_N);
    assert_int_equal(suppress_check(s, "child-0@example.com", "s@x.example", NULL), 1);
    assert_int_equal(suppress_check(s, "child-149@example.com", "s@x.example", NULL), 1);
    free(lines);
    suppress_close(s);
    free(dir);
}

typedef struct th_arg {
    SUPPRESS *s;
    char      tag[16];
    int       bad;
} TH_ARG;

/* th_run - a thread's share of the work */
static void *th_run(void *p)
{
    TH_ARG *a = p;

    a->bad = add_many(a->s, a->tag);
    return NULL;
}

/* test_sqlite_threads - several threads on one handle (txmilter's workers) */
static void test_sqlite_threads(void **state)
{
    char *dir = th_sup_new_dir();
    SUPPRESS *s = open_sqlite(dir);
    pthread_t t[4];
    TH_ARG a[4];
    long n;
    char *lines;
    int i;

    (void) state;
    for (i = 0; i < 4; i++) {
        a[i].s = s;
        snprintf(a[i].tag, sizeof(a[i].tag), "t%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, th_run, &a[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(a[i].bad, 0);
    }
    lines = list_all(s, NULL, NULL, &n);
    assert_int_equal(n, 4 * PROC_N);
    free(lines);
    suppress_close(s);
    free(dir);
}

/* test_sqlite_reopen - nothing lost when the process closes and opens again */
static void test_sqlite_reopen(void **state)
{
    char *dir = th_sup_new_dir(), *before, *after;
    SUPPRESS *s = open_sqlite(dir);
    long n;

    (void) state;
    assert_int_equal(suppress_add(s, "x@example.com", "s@x.example", "http", NULL), 0);
    assert_int_equal(suppress_add(s, "y@example.com", "s@x.example", "mail", NULL), 0);
    before = list_all(s, NULL, NULL, &n);
    suppress_close(s);
    s = open_sqlite(dir);
    after = list_all(s, NULL, NULL, &n);
    assert_int_equal(n, 2);
    assert_string_equal(before, after);
    assert_int_equal(suppress_check(s, "x@example.com", "s@x.example", NULL), 1);
    suppress_close(s);
    free(before);
    free(after);
    free(dir);
}

typedef struct bad_file {
    const char *name;
    const char *setup;                  /* m missing dir, o others can read, d a directory, j junk */
    const char *err;                    /* a piece of the reason */
} BAD_FILE;

static const BAD_FILE bad_files[] = {
    { "missing_directory", "m", "cannot create" },
    { "readable_by_others", "o", "accessible by others (mode 0644): chmod 640 it" },
    { "a_directory", "d", "not a regular file" },
    { "not_a_database", "j", "file is not a database" },
};

/* test_sqlite_bad_file - files refused, with their reasons */
static void test_sqlite_bad_file(void **state)
{
    const BAD_FILE *c = *state;
    char *dir = th_sup_new_dir(), *db = xasprintf("%s/suppress.db", dir), *use = xstrdup(dir);
    BUF err;
    int fd;

    switch (c->setup[0]) {
    case 'm':
        free(use);
        use = xasprintf("%s/nonexistent", dir);
        break;
    case 'o':
        assert_true((fd = open(db, O_CREAT | O_WRONLY, 0600)) >= 0);
        assert_int_equal(fchmod(fd, 0644), 0);
        close(fd);
        break;
    case 'd':
        assert_int_equal(mkdir(db, 0700), 0);
        break;
    default:
        assert_true((fd = open(db, O_CREAT | O_WRONLY, 0640)) >= 0);
        assert_int_equal(write(fd, "this is not SQLite, this is a text file with some bytes "
                               "in it that are long enough to be a header of a database\n",
                               110), 110);
        close(fd);
        break;
    }
    buf_init(&err, 1024);
    assert_null(suppress_open("embedded", use, 0, &err));
    assert_non_null(err.data);
    if (strstr(err.data, c->err) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", err.data, c->err);
    buf_free(&err);
    free(use);
    free(db);
    free(dir);
}

/* -------------------------------------------------------------- Redis */

/* test_redis_layout - the documented keys and values */
static void test_redis_layout(void **state)
{
    SUPPRESS *s;
    redisReply *rep;
    uint64_t now = (uint64_t) time(NULL);
    unsigned long long created;
    char src[32];

    (void) state;
    flushall();
    s = open_redis(0);
    assert_int_equal(suppress_add(s, "x@example.com", "s@x.example", "http", NULL), 0);
    assert_non_null(rep = raw1("HGET", "txm:{txmilter}:unsub:s:s@x.example", "x@example.com"));
    assert_int_equal(rep->type, REDIS_REPLY_STRING);
    assert_int_equal(sscanf(rep->str, "%llu %31s", &created, src), 2);
    assert_true(created + 5 >= now && created <= now + 5);          /* Redis TIME */
    assert_string_equal(src, "http");
    freeReplyObject(rep);
    assert_non_null(rep = raw1("SMEMBERS", "txm:{txmilter}:unsub:streams", NULL));
    assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
    assert_int_equal(rep->elements, 1);
    assert_string_equal(rep->element[0]->str, "s@x.example");
    freeReplyObject(rep);
    /* the last recipient of a stream gone: the stream leaves the index */
    assert_int_equal(suppress_add(s, "y@example.com", "s@x.example", "http", NULL), 0);
    assert_int_equal(suppress_remove(s, "x@example.com", "s@x.example", NULL), 1);
    assert_non_null(rep = raw1("SCARD", "txm:{txmilter}:unsub:streams", NULL));
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);
    assert_int_equal(suppress_remove(s, "y@example.com", "s@x.example", NULL), 1);
    assert_non_null(rep = raw1("DBSIZE", NULL, NULL));
    assert_int_equal(rep->integer, 0);
    freeReplyObject(rep);
    suppress_close(s);
}

/* test_redis_two_handles - two relays on one Redis; a closed handle loses nothing */
static void test_redis_two_handles(void **state)
{
    SUPPRESS *a, *b;
    char *l1, *l2;
    long n;

    (void) state;
    flushall();
    a = open_redis(1);
    b = open_redis(1);
    assert_int_equal(suppress_add(a, "x@example.com", "s@x.example", "http", NULL), 0);
    assert_int_equal(suppress_check(b, "x@example.com", "s@x.example", NULL), 1);
    assert_int_equal(suppress_add(b, "y@example.com", "s@x.example", "mail", NULL), 0);
    l1 = list_all(a, NULL, NULL, &n);
    assert_int_equal(n, 2);
    suppress_close(a);
    suppress_close(b);
    a = open_redis(1);
    l2 = list_all(a, NULL, NULL, &n);
    assert_string_equal(l1, l2);
    suppress_close(a);
    /* another db is another list */
    a = open_redis(2);
    assert_int_equal(suppress_check(a, "x@example.com", "s@x.example", NULL), 0);
    suppress_close(a);
    free(l1);
    free(l2);
}

/* test_redis_many - more entries than one HSCAN batch */
static void test_redis_many(void **state)
{
    SUPPRESS *s;
    char *lines;
    long n;

    (void) state;
    flushall();
    s = open_redis(0);
    assert_int_equal(add_many(s, "a"), 0);
    assert_int_equal(add_many(s, "b"), 0);
    assert_int_equal(add_many(s, "c"), 0);
    assert_int_equal(add_many(s, "d"), 0);
    lines = list_all(s, NULL, "s@x.example", &n);
    assert_int_equal(n, 4 * PROC_N);
    free(lines);
    lines = list_all(s, "c-7@example.com", NULL, &n);
    assert_int_equal(n, 1);
    free(lines);
    suppress_close(s);
}

/* test_redis_auth_and_unix - a wrong password fails; a unix socket works */
static void test_redis_auth_and_unix(void **state)
{
    char *url;
    BUF err;
    SUPPRESS *s;

    (void) state;
    flushall();
    buf_init(&err, 1024);
    url = xasprintf("redis://:wrong@127.0.0.1:%d/0", th_sup.rs.port);
    assert_non_null(s = suppress_open(url, NULL, TO_MS, &err));
    assert_int_equal(suppress_check(s, "x@example.com", "s@x.example", &err), -1);
    assert_non_null(err.data);
    assert_non_null(strstr(err.data, "redis: suppress check:"));
    assert_null(strstr(err.data, "wrong"));             /* never the password */
    suppress_close(s);
    free(url);
    url = xasprintf("redis+unix://:" PASS_URL "@%s?db=0", th_sup.rs.sock);
    assert_non_null(s = suppress_open(url, NULL, TO_MS, &err));
    assert_int_equal(suppress_add(s, "x@example.com", "s@x.example", "http", &err), 0);
    assert_int_equal(suppress_check(s, "x@example.com", "s@x.example", &err), 1);
    suppress_close(s);
    free(url);
    assert_null(suppress_open("redis://127.0.0.1:99999/0", NULL, TO_MS, &err));
    assert_non_null(strstr(err.data, "Store URL"));
    buf_free(&err);
}

/* test_redis_down - a dead Redis answers -1 within the timeout; back at once after */
static void test_redis_down(void **state)
{
    SUPPRESS *s;
    BUF err;
    uint64_t t0, took;

    (void) state;
    flushall();
    s = open_redis(0);
    buf_init(&err, 1024);
    assert_int_equal(suppress_add(s, "x@example.com", "s@x.example", "http", &err), 0);
    th_redis_signal(&th_sup.rs, SIGKILL);
    t0 = th_ms_now();
    assert_int_equal(suppress_check(s, "x@example.com", "s@x.example", &err), -1);
    took = th_ms_now() - t0;
    assert_true(took <= 2 * (TO_MS + (uint64_t) slack_ms) + 50);
    assert_non_null(err.data);
    assert_int_equal(suppress_add(s, "y@example.com", "s@x.example", "http", &err), -1);
    assert_true(suppress_list(s, NULL, NULL, collect, NULL, &err) == -1);
    rs_start();                         /* no persistence: an empty Redis */
    assert_int_equal(suppress_add(s, "y@example.com", "s@x.example", "http", &err), 0);
    assert_int_equal(suppress_check(s, "y@example.com", "s@x.example", &err), 1);
    buf_free(&err);
    suppress_close(s);
}

#define FROZEN_CHECKS 40
#define RETRY_MS      300

/* test_redis_frozen - on a pool with a breaker, a frozen Redis costs one
 * timeout per retry interval, not one per check; every failure counted,
 * a bounded number of log lines; enforced again once it answers */
static void test_redis_frozen(void **state)
{
    REDIS_POOL_OPTS po = { TO_MS, TO_MS, 4, RETRY_MS };
    REDIS_POOL_STATS ps;
    SUPPRESS_STATS st;
    REDIS_POOL *pool;
    SUPPRESS *s;
    char *url = redis_url(0), logf[300];
    BUF err;
    uint64_t end;
    int i, saved, fd, rc;

    (void) state;
    flushall();
    buf_init(&err, 1024);
    assert_non_null(pool = redis_pool_new(url, &po, &err));
    free(url);
    assert_non_null(s = suppress_open_pool(pool, "test: delivered unchecked"));
    assert_int_equal(suppress_add(s, "x@example.com", "s@x.example", "http", &err), 0);
    assert_int_equal(suppress_check(s, "x@example.com", "s@x.example", &err), 1);
    snprintf(logf, sizeof(logf), "%s/frozen.log", th_sup.tmp);
    fflush(stderr);
    saved = dup(2);
    assert_true((fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
    dup2(fd, 2);
    close(fd);

    th_redis_signal(&th_sup.rs, SIGSTOP);
    for (i = 0; i < FROZEN_CHECKS; i++)
        assert_int_equal(suppress_check(s, "x@example.com", "s@x.example", &err), -1);
    assert_int_equal(suppress_add(s, "y@example.com", "s@x.example", "mail", &err), -1);
    assert_non_null(strstr(err.data, "unavailable"));
    suppress_stats(s, &st);
    assert_int_equal(st.up, 0);
    assert_int_equal(st.checks_failed, FROZEN_CHECKS);
    assert_int_equal(st.writes_failed, 1);
    redis_pool_stats(pool, &ps);
    assert_int_equal(ps.up, 0);
    /* only the first call and the probes (one per RETRY_MS) waited */
    assert_true(ps.calls_failed >= 1);
    assert_true(ps.calls_failed + ps.calls_skipped == FROZEN_CHECKS + 1);
    assert_true(ps.calls_skipped >= FROZEN_CHECKS + 1 - 4);

    th_redis_signal(&th_sup.rs, SIGCONT);
    end = th_ms_now() + RETRY_MS + 2000 + (uint64_t) slack_ms;
    while ((rc = suppress_check(s, "x@example.com", "s@x.example", &err)) != 1 && th_ms_now() < end)
        th_ms_sleep(20);
    assert_int_equal(rc, 1);                    /* enforced again */
    assert_int_equal(suppress_add(s, "y@example.com", "s@x.example", "mail", &err), 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    suppress_stats(s, &st);
    assert_int_equal(st.up, 1);
    assert_int_equal(th_count_lines(logf, "suppression list unavailable"), 1);
    assert_int_equal(th_count_lines(logf, "test: delivered unchecked"), 1);
    assert_int_equal(th_count_lines(logf, "suppression list answers again"), 1);
    assert_int_equal(th_count_lines(logf, "unavailable: no command is sent"), 1);
    assert_int_equal(th_count_lines(logf, "answers again after"), 2);
    buf_free(&err);
    suppress_close(s);
    redis_pool_free(pool);
}

/* ------------------------------------------------------------- arguments */

typedef struct arg_case {
    const char *name;
    const char *rcpt;
    const char *stream;
    const char *source;
    const char *err;
} ARG_CASE;

static const ARG_CASE arg_cases[] = {
    { "empty_rcpt", "", "s", "http", "bad recipient" },
    { "null_rcpt", NULL, "s", "http", "bad recipient" },
    { "control_in_rcpt", "a\rb@x", "s", "http", "bad recipient" },
    { "del_in_stream", "a@x", "s\x7f", "http", "bad stream" },
    { "newline_in_stream", "a@x", "s\nt", "http", "bad stream" },
    { "rcpt_320", "{X316}@x.y", "s", "http", "bad recipient" },
    { "empty_stream", "a@x", "", "http", "bad stream" },
    { "null_source", "a@x", "s", NULL, "bad source" },
    { "empty_source", "a@x", "s", "", "bad source" },
    { "source_space", "a@x", "s", "by hand", "bad source" },
    { "source_33", "a@x", "s", "{X33}", "bad source" },
};

/* test_args - bad arguments refused by every call, nothing stored */
static void test_args(void **state)
{
    const ARG_CASE *c = *state;
    char *dir = th_sup_new_dir(), *rcpt = c->rcpt ? th_expand(c->rcpt, NULL) : NULL;
    char *source = c->source ? th_expand(c->source, NULL) : NULL;
    SUPPRESS *s = open_sqlite(dir);
    BUF err;
    long n;
    char *lines;

    buf_init(&err, 1024);
    assert_int_equal(suppress_add(s, rcpt, c->stream, source, &err), -1);
    assert_non_null(strstr(err.data, c->err));
    if (strcmp(c->err, "bad source") != 0) {
        buf_reset(&err);
        assert_int_equal(suppress_check(s, rcpt, c->stream, &err), -1);
        assert_non_null(strstr(err.data, c->err));
        assert_int_equal(suppress_remove(s, rcpt, c->stream, &err), -1);
        if (rcpt != NULL && c->stream != NULL)
            assert_int_equal(suppress_list(s, rcpt, c->stream, collect, NULL, &err), -1);
    }
    lines = list_all(s, NULL, NULL, &n);
    assert_int_equal(n, 0);
    free(lines);
    buf_free(&err);
    suppress_close(s);
    free(rcpt);
    free(source);
    free(dir);
}

/* test_open_args - stores that cannot be opened */
static void test_open_args(void **state)
{
    BUF err;

    (void) state;
    buf_init(&err, 1024);
    assert_null(suppress_open("memcached://127.0.0.1", "/tmp", 0, &err));
    assert_string_equal(err.data, "Store: expected \"embedded\" or a redis:// URL");
    assert_null(suppress_open("embedded", NULL, 0, &err));
    assert_string_equal(err.data, "no DataDirectory for the embedded suppression list");
    assert_null(suppress_open(NULL, "", 0, &err));
    assert_int_equal(suppress_check(NULL, "a@x", "s", &err), -1);
    assert_int_equal(suppress_list(NULL, NULL, NULL, collect, NULL, &err), -1);
    suppress_close(NULL);
    buf_free(&err);
}

typedef struct norm_case {
    const char *name;
    const char *in;
    const char *out;                    /* NULL: refused */
} NORM_CASE;

static const NORM_CASE norm_cases[] = {
    { "address_case", "News@Shop.EXAMPLE", "news@shop.example" },
    { "address_brackets_dot", "<news@shop.example.>", "news@shop.example" },
    { "subaddress_kept", "news+weekly@shop.example", "news+weekly@shop.example" },
    { "gmail_dots_kept", "n.e.w.s@gmail.com", "n.e.w.s@gmail.com" },
    { "domain", "Shop.Example.", "shop.example" },
    { "idn_domain", "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
    { "idn_address", "info@b\xc3\xbc" "cher.example", "info@xn--bcher-kva.example" },
    { "empty", "", NULL },
    { "null_sender", "<>", NULL },
    { "bad_domain", "a b.example", NULL },
    { "too_long", "{X400}.example", NULL },
};

/* test_norm_stream - suppress_norm_stream() */
static void test_norm_stream(void **state)
{
    const NORM_CASE *c = *state;
    char *in = th_expand(c->in, NULL), out[SUPPRESS_FIELD_MAX];
    BUF err;

    buf_init(&err, 1024);
    if (c->out) {
        if (suppress_norm_stream(in, out, sizeof(out), &err) != 0)
            fail_msg("refused: %s", err.data ? err.data : "?");
        assert_string_equal(out, c->out);
    } else {
        assert_int_equal(suppress_norm_stream(in, out, sizeof(out), &err), -1);
        assert_string_equal(out, "");
        assert_non_null(err.data);
    }
    buf_free(&err);
    free(in);
}

/* test_start_redis - the server for the Redis tests */
static void test_start_redis(void **state)
{
    (void) state;
    rs_start();
}

int main(void)
{
    const struct CMUnitTest setup[] = { cmocka_unit_test(test_start_redis) };
    const struct CMUnitTest sqlite_tests[] = {
        cmocka_unit_test(test_sqlite_file),
        cmocka_unit_test(test_sqlite_two_handles),
        cmocka_unit_test(test_sqlite_two_processes),
        cmocka_unit_test(test_sqlite_threads),
        cmocka_unit_test(test_sqlite_reopen),
        cmocka_unit_test(test_open_args),
    };
    const struct CMUnitTest redis_tests[] = {
        cmocka_unit_test(test_redis_layout),
        cmocka_unit_test(test_redis_two_handles),
        cmocka_unit_test(test_redis_many),
        cmocka_unit_test(test_redis_auth_and_unix),
        cmocka_unit_test(test_redis_down),
        cmocka_unit_test(test_redis_frozen),
    };
    const char *sl = getenv("TEST_TIME_SLACK_MS");
    int rc = 0;

    slack_ms = sl ? atol(sl) : 0;
    if (th_sup_init("suppress") < 0)
        return 1;
    rc |= RUN("suppress_sqlite_scenarios", test_scenario_sqlite, sc_cases);
    rc |= cmocka_run_group_tests_name("suppress_sqlite", sqlite_tests, NULL, NULL);
    rc |= RUN("suppress_sqlite_bad_files", test_sqlite_bad_file, bad_files);
    rc |= RUN("suppress_args", test_args, arg_cases);
    rc |= RUN("suppress_norm_stream", test_norm_stream, norm_cases);
    if (cmocka_run_group_tests_name("suppress_redis_server", setup, NULL, NULL) != 0)
        return 1;
    rc |= RUN("suppress_redis_scenarios", test_scenario_redis, sc_cases);
    rc |= cmocka_run_group_tests_name("suppress_redis", redis_tests, NULL, NULL);
    return rc ? 1 : 0;
}

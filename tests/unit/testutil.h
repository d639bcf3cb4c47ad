/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testutil.h - helpers shared by the table-driven unit tests: one cmocka
 * test per table row, temporary files, the fixtures directory, and the
 * test clock, rules and items of the rate-store tests, and Redis servers
 * started by tests/redis-launch.
 */
#ifndef TX_TESTUTIL_H
#define TX_TESTUTIL_H

#include <stddef.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>
#include <openssl/types.h>

#include "dns.h"
#include "rate_store.h"
#include "snapshot.h"
#include "util.h"

/* run_table - run fn once per table row, each row a test named by its
 * first member (a const char *); the row is the test's state */
int run_table(const char *group, CMUnitTestFunction fn, const void *rows, size_t size, size_t n);

#define RUN(group, fn, rows) run_table(group, fn, rows, sizeof(rows[0]), \
                                       sizeof(rows) / sizeof(rows[0]))

/* TH_ERR - the BUF *err of a call, over the array arr (emptied), whose
 * reason the test then reads as the string arr; the BUF lives as long as
 * the enclosing block: f(..., TH_ERR(why)); assert_string_equal(why, ...) */
#define TH_ERR(arr) buf_init_fixed(&(BUF) {0}, (arr), sizeof(arr))

/* th_expand - "{X<n>}" becomes n 'x' bytes, "{NUL}" a NUL byte; *lenp the length */
char *th_expand(const char *in, size_t *lenp);

/* A test's own "{...}" tokens for th_expand_with(): append the expansion of
 * the token at p to b and return the token's length, or 0 if p starts none. */
typedef size_t (*TH_TOKEN_FN)(const char *p, BUF *b);

/* th_expand_with - th_expand, plus the tokens that more recognises */
char *th_expand_with(const char *in, size_t *lenp, TH_TOKEN_FN more);

/* th_subst - replace "%<capital letter>" by vals[letter]; any other '%' stays */
char *th_subst(const char *tmpl, const char *const vals[26]);

/* th_crlf - s with every LF made CRLF, as a new string the caller frees */
char *th_crlf(const char *s);

/* th_tempfile - write content (after th_expand) to a new file in /tmp; its path */
char *th_tempfile(const char *content);

/* th_tempfile_with - the same after th_expand_with(content, more) */
char *th_tempfile_with(const char *content, TH_TOKEN_FN more);

/* th_unlink - remove and forget a temporary file */
void th_unlink(char *path);

/* th_datadir - tests/unit/data as an absolute path */
const char *th_datadir(void);

/* th_in_path - 1 if prog is an executable in $PATH */
int th_in_path(const char *prog);

/* th_free_port - a loopback TCP port nobody listens on now */
int th_free_port(void);

/* th_count_lines - lines of the file at path holding needle; -1 if unreadable */
int th_count_lines(const char *path, const char *needle);

/* th_ms_now, th_ms_sleep - CLOCK_MONOTONIC in ms; sleep ms milliseconds */
uint64_t th_ms_now(void);
void th_ms_sleep(unsigned ms);

/* th_psl_setup, th_psl_teardown - group fixtures: orgdomain with Debian's
 * public suffix list (setup fails, saying why, if it cannot be loaded) */
int th_psl_setup(void **state);
int th_psl_teardown(void **state);

/* th_clock - a test clock for the rate stores' clock hook; th_clock_set sets it */
uint64_t th_clock(void);
void th_clock_set(uint64_t t);

/* th_sort_lines - the "\n"-ended lines of s (NULL: none) sorted, as one
 * string the caller frees */
char *th_sort_lines(const char *s);

/* th_remove_dir - rm -rf dir (a test's scratch directory); 0 or -1 */
int th_remove_dir(const char *dir);

/* th_write_file - dir/name holding text, with mode (the test fails if it cannot) */
void th_write_file(const char *dir, const char *name, const char *text, mode_t mode);

/* th_keygen - a new private key: alg "RSA" (bits), "ED25519", "EC" (P-256);
 * the test fails if OpenSSL cannot make it. EVP_PKEY_free() it. */
EVP_PKEY *th_keygen(const char *alg, int bits);

/* th_write_key - dir/name holding pk in PKCS#8 PEM, mode 0600; its path
 * (static, overwritten by the next call) */
const char *th_write_key(const char *dir, const char *name, EVP_PKEY *pk);

/* th_signing_files - in dir: an Ed25519 key ed.pem, a KeyTable naming it
 * "ed" for example.com (selector s1), a SigningTable signing *@example.com
 * with it, and unsub.keys (one unsubscribe key) */
void th_signing_files(const char *dir);

/* th_snapshot - dir/txmilter.conf holding conf, built into a snapshot
 * (the test fails, with the errors, if it cannot be) */
SNAPSHOT *th_snapshot(const char *dir, const char *conf);

/* th_tables_snapshot - th_snapshot() of "Syslog no", dir/KeyTable and
 * dir/SigningTable (refile:), then each block of lines given, verbatim,
 * up to the NULL that ends them */
SNAPSHOT *th_tables_snapshot(const char *dir, ...) __attribute__((sentinel));

/* One name of a test's fake DNS: its answer to a query of type (0: any type). */
typedef struct th_rr {
    const char *name;
    int         type;
    DNS_STATUS  status;
    const char *txt[3];             /* up to 3 records */
} TH_RR;

/* A fake DNS over rr (ended by a NULL name); only_type: any other query type
 * fails the test. What was asked is counted and logged "name/type". */
typedef struct th_dns {
    const TH_RR *rr;
    int         only_type;
    int         queries;
    char        asked[16][80];      /* the first 16 queries */
} TH_DNS;

/* th_dns_lookup - a DNS_LOOKUP_FN over ctx, a TH_DNS: the first row of the
 * name (and type) answers with TTL 300 (DNS_TEMPFAIL: why "SERVFAIL"),
 * other names are NXDOMAIN */
void th_dns_lookup(void *ctx, const char *name, int rrtype, DNS_ANSWER *ans);

/* th_rule - a rate rule with a name, N, P and the shadow option */
RATE_RULE th_rule(const char *name, uint32_t limit, uint64_t period_ms, int shadow);

/* th_item - a store item for a rule and a key */
void th_item(RATE_STORE_ITEM *it, const RATE_RULE *r, const char *key);

/* A redis-server (or redis-sentinel) on 127.0.0.1, started by tests/redis-launch:
 * the launcher the integration tests use too (tests/integration/mailrig/redisserver.py).
 * Fill in port (0: a free one), password and sentinel_of before th_redis_start(). */
typedef struct th_redis {
    int         port;               /* kept across restarts */
    const char *password;           /* requirepass, or NULL */
    int         sentinel_of;        /* > 0: a redis-sentinel monitoring that port */
    char        dir[256];           /* its scratch directory */
    char        sock[300];          /* its unix socket ("" for a sentinel) */
    pid_t       pid;                /* the server; 0 when it is not running */
    pid_t       launcher;           /* tests/redis-launch, the server's parent */
    int         ctl;                /* the launcher's stdin: at its end, the server dies */
} TH_REDIS;

/* th_redis_start - start (or restart) r in dir and wait until it answers; the
 * test fails (never skips) if it cannot, redis-server not installed included */
void th_redis_start(TH_REDIS *r, const char *dir);

/* th_redis_signal - SIGSTOP, SIGCONT: freeze, thaw; SIGKILL, SIGTERM: stop r
 * and return when it is gone */
void th_redis_signal(TH_REDIS *r, int sig);

#endif

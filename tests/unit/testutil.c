/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testutil.c - helpers shared by the unit tests (see testutil.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "conf.h"
#include "orgdomain.h"
#include "testutil.h"
#include "util.h"

/* run_table - run fn once per table row, each row a test named by its
 * first member (a const char *), through cmocka's public group runner */
int run_table(const char *group, CMUnitTestFunction fn, const void *rows,
              size_t size, size_t n)
{
    size_t i;

    if (n == 0) {
        fprintf(stderr, "%s: an empty table tests nothing\n", group);
        return 1;
    }
    {
        /* a VLA, so that the macro's sizeof counts the rows */
        struct CMUnitTest t[n];

        memset(t, 0, sizeof(t));
        for (i = 0; i < n; i++) {
            const char *row = (const char *) rows + i * size;

            t[i].name = *(const char *const *) (const void *) row;
            t[i].test_func = fn;
            t[i].initial_state = (void *) (uintptr_t) row;
        }
        return cmocka_run_group_tests_name(group, t, NULL, NULL);
    }
}

/* th_expand_with - "{X<n>}" becomes n 'x' bytes, "{NUL}" a NUL byte, and
 * more (if any) expands the caller's own tokens */
char *th_expand_with(const char *in, size_t *lenp, TH_TOKEN_FN more)
{
    BUF b;
    const char *p;

    buf_init(&b, 1 << 20);
    assert_int_equal(buf_append(&b, "", 0), 0);
    for (p = in; *p; p++) {
        unsigned long n;
        char *end;
        size_t used;

        if (more != NULL && (used = more(p, &b)) > 0) {
            p += used - 1;
        } else if (strncmp(p, "{NUL}", 5) == 0) {
            assert_int_equal(buf_append(&b, "", 1), 0);
            p += 4;
        } else if (strncmp(p, "{X", 2) == 0 && (n = strtoul(p + 2, &end, 10)) > 0
                   && *end == '}') {
            while (n-- > 0)
                assert_int_equal(buf_append(&b, "x", 1), 0);
            p = end;
        } else {
            assert_int_equal(buf_append(&b, p, 1), 0);
        }
    }
    if (lenp)
        *lenp = b.len;
    return b.data;
}

char *th_expand(const char *in, size_t *lenp)
{
    return th_expand_with(in, lenp, NULL);
}

/* th_subst - replace "%<capital letter>" by vals[letter]; any other '%' stays */
char *th_subst(const char *tmpl, const char *const vals[26])
{
    BUF b;
    const char *p;

    buf_init(&b, 1 << 20);
    assert_int_equal(buf_append(&b, "", 0), 0);
    for (p = tmpl; *p; p++) {
        if (p[0] == '%' && p[1] >= 'A' && p[1] <= 'Z' && vals[p[1] - 'A'] != NULL) {
            assert_int_equal(buf_puts(&b, vals[p[1] - 'A']), 0);
            p++;
        } else {
            assert_int_equal(buf_append(&b, p, 1), 0);
        }
    }
    return b.data;
}

/* th_crlf - s with every LF made CRLF */
char *th_crlf(const char *s)
{
    char *out = xmalloc(strlen(s) * 2 + 1), *o = out;

    for (; *s; s++) {
        if (*s == '\n')
            *o++ = '\r';
        *o++ = *s;
    }
    *o = 0;
    return out;
}

/* th_tempfile_with - write content (after th_expand_with) to a new file in /tmp */
char *th_tempfile_with(const char *content, TH_TOKEN_FN more)
{
    char path[] = "/tmp/txmilter-test-XXXXXX";
    size_t len;
    char *data = th_expand_with(content, &len, more);
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    assert_int_equal(close(fd), 0);
    free(data);
    return xstrdup(path);
}

char *th_tempfile(const char *content)
{
    return th_tempfile_with(content, NULL);
}

/* th_unlink - remove and forget a temporary file */
void th_unlink(char *path)
{
    if (path != NULL) {
        (void) unlink(path);
        free(path);
    }
}

/* th_testsfile - tests/<rel> as an absolute path, from $srcdir (automake) or __FILE__ */
static void th_testsfile(char *out, size_t size, const char *rel)
{
    const char *srcdir = getenv("srcdir"), *slash;
    char *abs;

    if (srcdir != NULL && *srcdir) {
        snprintf(out, size, "%s/tests/%s", srcdir, rel);
    } else if ((slash = strrchr(__FILE__, '/')) != NULL) {
        snprintf(out, size, "%.*s/../%s", (int) (slash - __FILE__), __FILE__, rel);
    } else {
        snprintf(out, size, "../%s", rel);
    }
    /* Datasets name files by absolute path: "../tests" would be a list. */
    if ((abs = realpath(out, NULL)) != NULL) {
        snprintf(out, size, "%s", abs);
        free(abs);
    }
}

/* th_datadir - tests/unit/data as an absolute path */
const char *th_datadir(void)
{
    static char dir[4096];

    if (dir[0] == 0)
        th_testsfile(dir, sizeof(dir), "unit/data");
    return dir;
}

/* th_in_path - 1 if prog is an executable in $PATH */
int th_in_path(const char *prog)
{
    const char *path = getenv("PATH"), *p, *e;
    char f[4096];

    for (p = path ? path : "/usr/bin:/bin"; *p; p = *e ? e + 1 : e) {
        e = p + strcspn(p, ":");
        snprintf(f, sizeof(f), "%.*s/%s", (int) (e - p), p, prog);
        if (access(f, X_OK) == 0)
            return 1;
    }
    return 0;
}

/* th_free_port - a loopback TCP port nobody listens on now */
int th_free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* th_ms_now - CLOCK_MONOTONIC in ms */
uint64_t th_ms_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* th_ms_sleep - sleep ms milliseconds */
void th_ms_sleep(unsigned ms)
{
    struct timespec ts = { (time_t) (ms / 1000), (long) (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        /* void */ ;
}

static uint64_t th_clock_now;

uint64_t th_clock(void)
{
    return __atomic_load_n(&th_clock_now, __ATOMIC_SEQ_CST);
}

void th_clock_set(uint64_t t)
{
    __atomic_store_n(&th_clock_now, t, __ATOMIC_SEQ_CST);
}

RATE_RULE th_rule(const char *name, uint32_t limit, uint64_t period_ms, int shadow)
{
    RATE_RULE r;

    memset(&r, 0, sizeof(r));
    util_strlcpy(r.name, name, sizeof(r.name));
    r.limit = limit;
    r.period_ms = period_ms;
    r.shadow = shadow;
    return r;
}

void th_item(RATE_STORE_ITEM *it, const RATE_RULE *r, const char *key)
{
    it->rule = r;
    util_strlcpy(it->key, key, sizeof(it->key));
}

/* th_dns_lookup - the table's answer; unknown names are NXDOMAIN */
void th_dns_lookup(void *ctx, const char *name, int rrtype, DNS_ANSWER *ans)
{
    TH_DNS *f = ctx;

    memset(ans, 0, sizeof(*ans));
    ans->status = DNS_NXDOMAIN;
    ans->ttl = 300;
    if (f->queries < 16)
        snprintf(f->asked[f->queries], sizeof(f->asked[0]), "%s/%d", name, rrtype);
    f->queries++;
    if (f->only_type)
        assert_int_equal(rrtype, f->only_type);
    for (const TH_RR *r = f->rr; r && r->name; r++) {
        if (strcmp(r->name, name) != 0 || (r->type && r->type != rrtype))
            continue;
        ans->status = r->status;
        if (r->status == DNS_TEMPFAIL)
            snprintf(ans->why, sizeof(ans->why), "SERVFAIL");
        for (size_t i = 0; i < 3 && r->txt[i]; i++)
            ans->rec[ans->n++] = xstrdup(r->txt[i]);
        return;
    }
}

int th_psl_setup(void **state)
{
    BUF errs;
    int rc;

    (void) state;
    buf_init(&errs, 4096);
    rc = orgdomain_init(CONF_DEFAULT_PSL, &errs);
    if (rc < 0)
        fprintf(stderr, "%s", errs.data ? errs.data : "no public suffix list\n");
    buf_free(&errs);
    return rc;
}

int th_psl_teardown(void **state)
{
    (void) state;
    orgdomain_shutdown();
    return 0;
}

/* th_count_lines - lines of a file holding needle */
int th_count_lines(const char *path, const char *needle)
{
    char line[8192];
    FILE *fp = fopen(path, "r");
    int n = 0;

    if (fp == NULL)
        return -1;
    while (fgets(line, sizeof(line), fp))
        if (strstr(line, needle))
            n++;
    fclose(fp);
    return n;
}

/* th_redis_start - run tests/redis-launch for r in dir and read its one line:
 * "ready PORT PID SOCK" or "error MESSAGE" */
void th_redis_start(TH_REDIS *r, const char *dir)
{
    char launcher[4096], port[16], sen[16], line[1024], sock[300];
    const char *argv[12];
    int in[2], out[2], n = 0, got_port, got_pid;
    FILE *fp;
    pid_t pid;

    th_testsfile(launcher, sizeof(launcher), "redis-launch");
    argv[n++] = launcher;
    if (r->port > 0) {
        snprintf(port, sizeof(port), "%d", r->port);
        argv[n++] = "--port", argv[n++] = port;
    }
    if (r->password)
        argv[n++] = "--password", argv[n++] = r->password;
    if (r->sentinel_of > 0) {
        snprintf(sen, sizeof(sen), "%d", r->sentinel_of);
        argv[n++] = "--sentinel-of", argv[n++] = sen;
    } else {
        argv[n++] = "--unixsocket";
    }
    argv[n++] = dir;
    argv[n] = NULL;
    /* close-on-exec: another launcher must not hold this one's stdin open */
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execv(launcher, (char *const *) argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    assert_non_null(fp = fdopen(out[0], "r"));
    if (fgets(line, sizeof(line), fp) == NULL)
        snprintf(line, sizeof(line), "no answer (exec failed? see stderr)");
    fclose(fp);
    line[strcspn(line, "\n")] = 0;
    if (sscanf(line, "ready %d %d %299s", &got_port, &got_pid, sock) != 3) {
        close(in[1]);
        waitpid(pid, NULL, 0);
        fail_msg("%s %s: %s", launcher, dir, line);
    }
    r->port = got_port;
    r->pid = (pid_t) got_pid;
    r->launcher = pid;
    r->ctl = in[1];
    util_strlcpy(r->dir, dir, sizeof(r->dir));
    util_strlcpy(r->sock, strcmp(sock, "-") == 0 ? "" : sock, sizeof(r->sock));
}

/* th_redis_signal - send sig; after SIGKILL or SIGTERM wait for the launcher,
 * which exits once it has reaped the server */
void th_redis_signal(TH_REDIS *r, int sig)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, sig);
    if (sig == SIGKILL || sig == SIGTERM) {
        kill(r->pid, SIGCONT);
        waitpid(r->launcher, NULL, 0);
        close(r->ctl);
        r->pid = 0;
        r->launcher = 0;
        r->ctl = -1;
    }
}

/* th_write_file - dir/name holding text, with mode */
void th_write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
}

/* th_cmp_line - qsort of strings */
static int th_cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* th_sort_lines - the lines of s in order, as one string (the caller frees) */
char *th_sort_lines(const char *s)
{
    char *copy = xstrdup(s ? s : ""), *line, *save = NULL, **v = NULL;
    size_t n = 0, i;
    BUF b;

    buf_init(&b, 1 << 20);
    assert_int_equal(buf_puts(&b, ""), 0);
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        v = xrealloc(v, (n + 1) * sizeof(*v));
        v[n++] = line;
    }
    if (n > 0)
        qsort(v, n, sizeof(*v), th_cmp_line);
    for (i = 0; i < n; i++)
        assert_int_equal(buf_printf(&b, "%s\n", v[i]), 0);
    free(v);
    free(copy);
    return b.data;
}

/* th_remove_dir - rm -rf dir */
int th_remove_dir(const char *dir)
{
    char cmd[600];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* th_keygen - a private key of alg */
EVP_PKEY *th_keygen(const char *alg, int bits)
{
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);

    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    if (bits)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits), 1);
    if (strcmp(alg, "EC") == 0)
        assert_int_equal(EVP_PKEY_CTX_set_group_name(ctx, "P-256"), 1);
    assert_int_equal(EVP_PKEY_generate(ctx, &pk), 1);
    EVP_PKEY_CTX_free(ctx);
    return pk;
}

/* th_write_key - pk as dir/name, PKCS#8 PEM, 0600 */
const char *th_write_key(const char *dir, const char *name, EVP_PKEY *pk)
{
    static char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL), 1);
    fclose(fp);
    assert_int_equal(chmod(path, 0600), 0);
    return path;
}

/* th_signing_files - a key, KeyTable, SigningTable and unsubscribe key in dir */
void th_signing_files(const char *dir)
{
    EVP_PKEY *pk = th_keygen("ED25519", 0);
    char line[600];

    th_write_key(dir, "ed.pem", pk);
    EVP_PKEY_free(pk);
    snprintf(line, sizeof(line), "ed example.com:s1:%s/ed.pem\n", dir);
    th_write_file(dir, "KeyTable", line, 0644);
    th_write_file(dir, "SigningTable", "*@example.com ed\n", 0644);
    th_write_file(dir, "unsub.keys", "7 MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n", 0600);
}

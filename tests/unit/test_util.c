/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_util.c - unit tests for util.c: util_strlcpy(), util_trim(),
 * util_lower(), the bounded BUF (on the heap and over a caller's array),
 * util_err(), the STRV string vector, and util_open_file()/util_check_file()
 * on every kind of file.
 *
 * Every table row is one named cmocka test, so a failure names its case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"
#include "util.h"

/* util_strlcpy */

typedef struct {
    const char *name;
    const char *src;
    size_t size;
    const char *want;
    int want_rc;
} STRLCPY_CASE;

static const STRLCPY_CASE strlcpy_cases[] = {
    {"fits", "abc", 8, "abc", 0},
    {"fits exactly with terminator", "abc", 4, "abc", 0},
    {"one byte short truncates", "abcd", 4, "abc", -1},
    {"size one gives empty", "abc", 1, "", -1},
    {"empty source", "", 4, "", 0},
    {"size zero writes nothing", "abc", 0, "#######", -1},
};

/* test_strlcpy - copy, result and truncation report */
static void test_strlcpy(void **state)
{
    const STRLCPY_CASE *c = *state;
    char dst[8];

    memset(dst, '#', sizeof(dst) - 1);
    dst[sizeof(dst) - 1] = 0;
    assert_int_equal(util_strlcpy(dst, c->src, c->size), c->want_rc);
    assert_string_equal(dst, c->want);
}

/* util_trim and util_lower */

typedef struct {
    const char *name;
    const char *in;
    const char *trimmed;
    const char *lowered;
} TRIM_CASE;

static const TRIM_CASE trim_cases[] = {
    {"nothing to trim", "abc", "abc", "abc"},
    {"both ends", " \t a b \r\n", "a b", " \t a b \r\n"},
    {"only white space", " \t\n ", "", " \t\n "},
    {"empty", "", "", ""},
    {"inner space kept", "x  y", "x  y", "x  y"},
    {"mixed case", "  From: X-Mailer ", "From: X-Mailer", "  from: x-mailer "},
    {"8-bit bytes untouched by lower", "\xc3\x89T\xc3\xa9", "\xc3\x89T\xc3\xa9",
     "\xc3\x89t\xc3\xa9"},
};

/* test_trim_lower - util_trim() and util_lower() results */
static void test_trim_lower(void **state)
{
    const TRIM_CASE *c = *state;
    char buf[64], *t;

    assert_int_equal(util_strlcpy(buf, c->in, sizeof(buf)), 0);
    t = util_trim(buf);
    assert_string_equal(t, c->trimmed);
    assert_int_equal(util_strlcpy(buf, c->in, sizeof(buf)), 0);
    util_lower(buf);
    assert_string_equal(buf, c->lowered);
}

/* BUF: a sequence of appends against a bound */

enum buf_op { BUF_APPEND, BUF_PRINTF_BIG, BUF_RESET, BUF_END };

typedef struct {
    enum buf_op op;
    const char *arg;            /* BUF_APPEND: text; BUF_PRINTF_BIG: fill char */
    size_t n;                   /* BUF_PRINTF_BIG: length */
    int want_rc;
    const char *want;           /* contents after the step; NULL: don't check */
    size_t want_len;
} BUF_STEP;

typedef struct {
    const char *name;
    size_t max;
    BUF_STEP steps[6];
} BUF_CASE;

/* Every case runs twice: on the heap (buf_init) and over an array of
 * max + 1 bytes (buf_init_fixed), which must behave the same. */

static const BUF_CASE buf_cases[] = {
    {"appends within bound", 16, {
        {BUF_APPEND, "abc", 0, 0, "abc", 3},
        {BUF_APPEND, "def", 0, 0, "abcdef", 6},
        {BUF_END, NULL, 0, 0, NULL, 0}}},
    {"exactly at the bound", 6, {
        {BUF_APPEND, "abcdef", 0, 0, "abcdef", 6},
        {BUF_APPEND, "", 0, 0, "abcdef", 6},
        {BUF_APPEND, "g", 0, -1, "abcdef", 6},
        {BUF_END, NULL, 0, 0, NULL, 0}}},
    {"over the bound changes nothing", 4, {
        {BUF_APPEND, "ab", 0, 0, "ab", 2},
        {BUF_APPEND, "cde", 0, -1, "ab", 2},
        {BUF_APPEND, "cd", 0, 0, "abcd", 4},
        {BUF_END, NULL, 0, 0, NULL, 0}}},
    {"reset empties and allows reuse", 4, {
        {BUF_APPEND, "abcd", 0, 0, "abcd", 4},
        {BUF_RESET, NULL, 0, 0, "", 0},
        {BUF_APPEND, "wxyz", 0, 0, "wxyz", 4},
        {BUF_END, NULL, 0, 0, NULL, 0}}},
    {"printf longer than its stack buffer", 4096, {
        {BUF_APPEND, "<", 0, 0, "<", 1},
        {BUF_PRINTF_BIG, "x", 1000, 0, NULL, 1001},
        {BUF_APPEND, ">", 0, 0, NULL, 1002},
        {BUF_APPEND, "", 0, 0, NULL, 1002},
        {BUF_END, NULL, 0, 0, NULL, 0}}},
    {"printf over the bound refused", 100, {
        {BUF_PRINTF_BIG, "y", 600, -1, "", 0},
        {BUF_PRINTF_BIG, "y", 100, 0, NULL, 100},
        {BUF_END, NULL, 0, 0, NULL, 0}}},
};

/* buf_run - run the steps on b, checking each return value and the contents */
static void buf_run(const BUF_CASE *c, BUF *bp)
{
    const BUF_STEP *s;
    char big[1024];
    BUF b = *bp;

    for (s = c->steps; s->op != BUF_END; s++) {
        size_t before = b.len, i;
        int rc = 0;

        switch (s->op) {
        case BUF_APPEND:
            rc = buf_puts(&b, s->arg);
            break;
        case BUF_PRINTF_BIG:
            assert_true(s->n < sizeof(big));
            memset(big, s->arg[0], s->n);
            big[s->n] = 0;
            rc = buf_printf(&b, "%s", big);
            break;
        case BUF_RESET:
            buf_reset(&b);
            break;
        case BUF_END:
            break;
        }
        assert_int_equal(rc, s->want_rc);
        assert_int_equal(b.len, s->want_len);
        assert_true(b.len <= c->max);
        if (b.data != NULL)
            assert_int_equal(b.data[b.len], 0);
        if (s->want != NULL)
            assert_string_equal(b.data ? b.data : "", s->want);
        if (s->op == BUF_PRINTF_BIG && rc == 0)
            for (i = before; i < before + s->n; i++)
                assert_int_equal(b.data[i], s->arg[0]);
    }
    *bp = b;
}

/* test_buf - the steps on a heap BUF, freed to nothing after */
static void test_buf(void **state)
{
    BUF b;

    buf_init(&b, ((const BUF_CASE *) *state)->max);
    buf_run(*state, &b);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

/* test_buf_fixed - the same steps over an array (guarded on both sides),
 * which is written in place, never past its end, and kept by buf_free() */
static void test_buf_fixed(void **state)
{
    const BUF_CASE *c = *state;
    char *mem = xmalloc(c->max + 3);
    BUF b;

    mem[0] = mem[c->max + 2] = '#';
    buf_init_fixed(&b, mem + 1, c->max + 1);
    assert_ptr_equal(b.data, mem + 1);
    assert_string_equal(b.data, "");
    buf_run(c, &b);
    assert_ptr_equal(b.data, mem + 1);
    assert_int_equal(mem[0], '#');
    assert_int_equal(mem[c->max + 2], '#');
    buf_free(&b);
    assert_ptr_equal(b.data, mem + 1);
    assert_string_equal(b.data, "");
    free(mem);
}

/* util_err: reasons appended, cut at the bound, dropped with no BUF */

typedef struct {
    const char *name;
    size_t  size;               /* the array under the BUF; 0: no BUF at all */
    const char *before;         /* already in the BUF */
    const char *arg;            /* util_err(err, "reason: %s", arg) */
    const char *want;
} ERR_CASE;

static const ERR_CASE err_cases[] = {
    {"reason into an empty buffer", 64, "", "x", "reason: x"},
    {"appended after what is there", 64, "a; ", "x", "a; reason: x"},
    {"cut at the bound, not dropped", 12, "", "abcdefgh", "reason: abc"},
    {"a full buffer keeps what it had", 4, "abc", "x", "abc"},
    {"no buffer drops it", 0, NULL, "x", NULL},
};

/* test_util_err - what the buffer holds after one util_err(), over an
 * array and on the heap with the same bound; always -1 */
static void test_util_err(void **state)
{
    const ERR_CASE *c = *state;
    char mem[64];
    BUF b;

    if (c->size == 0) {
        assert_int_equal(util_err(NULL, "reason: %s", c->arg), -1);
        return;
    }
    assert_true(c->size <= sizeof(mem));
    buf_init_fixed(&b, mem, c->size);
    assert_int_equal(buf_puts(&b, c->before), 0);
    assert_int_equal(util_err(&b, "reason: %s", c->arg), -1);
    assert_string_equal(b.data, c->want);
    assert_int_equal(b.len, strlen(c->want));
    buf_init(&b, c->size - 1);
    assert_int_equal(buf_puts(&b, c->before), 0);
    assert_int_equal(util_err(&b, "reason: %s", c->arg), -1);
    assert_string_equal(b.data ? b.data : "", c->want);
    assert_int_equal(b.len, strlen(c->want));
    buf_free(&b);
}

/* test_util_err_long - a reason longer than util_verr()'s own stack
 * buffer is kept whole where it fits and cut at the bound where not */
static void test_util_err_long(void **state)
{
    static const size_t sizes[] = {2048, 1000};
    char arg[1501], mem[2048];
    BUF b;

    (void) state;
    memset(arg, 'y', sizeof(arg) - 1);
    arg[sizeof(arg) - 1] = 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t want = sizes[i] - 1 < 1500 ? sizes[i] - 1 : 1500;

        buf_init_fixed(&b, mem, sizes[i]);
        (void) util_err(&b, "%s", arg);
        assert_int_equal(b.len, want);
        assert_int_equal(strspn(b.data, "y"), want);
        buf_init(&b, sizes[i] - 1);
        (void) util_err(&b, "%s", arg);
        assert_int_equal(b.len, want);
        assert_int_equal(strspn(b.data, "y"), want);
        buf_free(&b);
    }
}

/* STRV */

typedef struct {
    const char *name;
    const char *list;
    const char *seps;
    const char *want;           /* items joined with '|' */
    const char *probe;          /* strv_contains_ci() argument */
    int want_contains;
} STRV_CASE;

static const STRV_CASE strv_cases[] = {
    {"commas and spaces", "a, b ,c", ", ", "a|b|c", "B", 1},
    {"empty items dropped", ",,a,,, ,b,", ", ", "a|b", "", 0},
    {"only separators", " , ,", ", ", "", "a", 0},
    {"empty list", "", ",", "", "a", 0},
    {"comma only keeps inner spaces", "x y, z", ",", "x y|z", "X Y", 1},
    {"items trimmed", " a\t,\tb ", ",", "a|b", "c", 0},
    {"case kept, compare ignores it", "From,TO", ",", "From|TO", "to", 1},
};

/* test_strv - strv_split() items, order, NULL terminator, contains */
static void test_strv(void **state)
{
    const STRV_CASE *c = *state;
    char joined[256] = "";
    size_t i;
    STRV sv;

    strv_init(&sv);
    strv_split(&sv, c->list, c->seps);
    for (i = 0; i < sv.n; i++) {
        if (i)
            strcat(joined, "|");
        assert_true(strlen(joined) + strlen(sv.v[i]) < sizeof(joined));
        strcat(joined, sv.v[i]);
    }
    assert_string_equal(joined, c->want);
    assert_null(sv.v[sv.n]);
    assert_int_equal(strv_contains_ci(&sv, c->probe), c->want_contains);
    strv_free(&sv);
    assert_null(sv.v);
    assert_int_equal(sv.n, 0);
}

/* test_strv_grow - many adds keep order and the terminator */
static void test_strv_grow(void **state)
{
    char item[16];
    STRV sv;
    int i;

    (void) state;
    strv_init(&sv);
    for (i = 0; i < 1000; i++) {
        snprintf(item, sizeof(item), "h%d", i);
        strv_add(&sv, item);
        assert_null(sv.v[sv.n]);
    }
    assert_int_equal(sv.n, 1000);
    assert_string_equal(sv.v[0], "h0");
    assert_string_equal(sv.v[999], "h999");
    assert_true(strv_contains_ci(&sv, "H500"));
    assert_false(strv_contains_ci(&sv, "h1000"));
    strv_free(&sv);
}

/* util_open_file, util_check_file */

typedef struct {
    const char *name;
    const char *path;           /* "%R" a regular file, "%P" a FIFO, "%D" a directory */
    int     want_rc;            /* 0: a descriptor; else UTIL_FILE_ERR or UTIL_FILE_NOTREG */
    const char *want_why;
} OPEN_FILE_CASE;

static const OPEN_FILE_CASE open_file_cases[] = {
    {"regular file", "%R", 0, ""},
    {"FIFO without a writer (must not block)", "%P", UTIL_FILE_NOTREG, "not a regular file"},
    {"directory", "%D", UTIL_FILE_NOTREG, "not a regular file"},
    {"character device", "/dev/null", UTIL_FILE_NOTREG, "not a regular file"},
    {"terminal-like device", "/dev/ptmx", UTIL_FILE_NOTREG, "not a regular file"},
    {"missing", "%D/missing", UTIL_FILE_ERR, "No such file or directory"},
    {"below a regular file", "%R/x", UTIL_FILE_ERR, "Not a directory"},
};

/* test_open_file - what each kind of file gives, without ever blocking */
static void test_open_file(void **state)
{
    const OPEN_FILE_CASE *c = *state;
    char dir[] = "/tmp/txtest-open-XXXXXX", why_mem[256], *vals[26] = {0}, *path;
    struct stat st;
    BUF why;
    int fd;

    assert_non_null(mkdtemp(dir));
    vals['D' - 'A'] = dir;
    vals['R' - 'A'] = xasprintf("%s/regular", dir);
    vals['P' - 'A'] = xasprintf("%s/fifo", dir);
    {
        FILE *fp = fopen(vals['R' - 'A'], "w");

        assert_non_null(fp);
        fputs("data\n", fp);
        fclose(fp);
    }
    assert_int_equal(mkfifo(vals['P' - 'A'], 0600), 0);
    path = th_subst(c->path, (const char *const *) vals);
    alarm(10);                          /* a regression fails instead of hanging */
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    fd = util_open_file(path, &st, &why);
    alarm(0);
    if (c->want_rc == 0) {
        assert_true(fd >= 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_size, 5);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
        assert_int_equal(util_check_file(path, &why), 0);
        assert_string_equal(why.data, "");
    } else {
        assert_int_equal(fd, c->want_rc);
        assert_string_equal(why.data, c->want_why);
        buf_reset(&why);
        assert_int_equal(util_check_file(path, &why), c->want_rc);
        assert_string_equal(why.data, c->want_why);
    }
    free(path);
    unlink(vals['R' - 'A']);
    unlink(vals['P' - 'A']);
    rmdir(dir);
    free(vals['R' - 'A']);
    free(vals['P' - 'A']);
}

/* test_xasprintf - formatting into fresh memory */
static void test_xasprintf(void **state)
{
    char *s;

    (void) state;
    s = xasprintf("%s:%d: %s", "f", 12, "msg");
    assert_string_equal(s, "f:12: msg");
    free(s);
    s = xstrndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
}

int main(void)
{
    static const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_strv_grow),
        cmocka_unit_test(test_xasprintf),
        cmocka_unit_test(test_util_err_long),
    };
    int fails = 0;

    fails += RUN("util_strlcpy", test_strlcpy, strlcpy_cases);
    fails += RUN("util_trim_lower", test_trim_lower, trim_cases);
    fails += RUN("buf", test_buf, buf_cases);
    fails += RUN("buf_fixed", test_buf_fixed, buf_cases);
    fails += RUN("util_err", test_util_err, err_cases);
    fails += RUN("strv_split", test_strv, strv_cases);
    fails += RUN("util_open_file", test_open_file, open_file_cases);
    fails += cmocka_run_group_tests_name("util_misc", misc, NULL, NULL);
    return fails ? 1 : 0;
}

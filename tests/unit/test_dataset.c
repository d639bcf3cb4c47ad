/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dataset.c - unit tests for dataset.c: loading flat files, refile:
 * and inline lists (entries, values, file and line of each entry, every
 * error message), and dataset_wildmatch().
 *
 * Every table row is one named cmocka test, so a failure names its case.
 * Files are written to /tmp at run time; "%F" in a row stands for that
 * file's path and "%D" for tests/unit/data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"
#include "dataset.h"
#include "util.h"

/* dataset_wildmatch */

typedef struct {
    const char *name;
    const char *pattern;
    const char *s;
    int want;
} WILD_CASE;

static const WILD_CASE wild_cases[] = {
    {"empty pattern, empty string", "", "", 1},
    {"empty pattern, some string", "", "a", 0},
    {"star matches empty", "*", "", 1},
    {"star matches anything", "*", "user@example.com", 1},
    {"double star matches empty", "**", "", 1},
    {"literal equal", "a@example.com", "a@example.com", 1},
    {"literal differs", "a@example.com", "b@example.com", 0},
    {"literal is not a prefix match", "a@example.com", "a@example.com.evil", 0},
    {"case ignored", "*@EXAMPLE.com", "Bob@example.COM", 1},
    {"any local part", "*@example.com", "bob@example.com", 1},
    {"any local part, other domain", "*@example.com", "bob@example.org", 0},
    {"subdomain pattern matches subdomain", "*@*.example.com", "a@b.example.com", 1},
    {"subdomain pattern deep", "*@*.example.com", "a@x.y.example.com", 1},
    {"subdomain pattern needs a dot", "*@*.example.com", "a@example.com", 0},
    {"subdomain pattern suffix trap", "*@*.example.com", "a@b.example.com.evil", 0},
    {"star in the middle", "a*c", "abbbc", 1},
    {"star in the middle, empty run", "a*c", "ac", 1},
    {"star in the middle, wrong end", "a*c", "abcd", 0},
    {"several stars need backtracking", "a*b*c", "aXbYbZc", 1},
    {"several stars, missing last", "a*b*c", "aXbY", 0},
    {"trailing star", "abc*", "abc", 1},
    {"leading star", "*c", "abc", 1},
    {"leading star, wrong end", "*c", "abd", 0},
    {"question mark is literal", "a?", "a?", 1},
    {"question mark is not a wildcard", "a?", "ab", 0},
    {"brackets are literal", "[ab]", "a", 0},
    {"pattern longer than string", "abcd", "abc", 0},
    {"no exponential blow-up",
     "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
};

/* test_wildmatch - one pattern against one string */
static void test_wildmatch(void **state)
{
    const WILD_CASE *c = *state;

    assert_int_equal(dataset_wildmatch(c->pattern, c->s), c->want);
}

/* dataset_load */

typedef struct {
    const char *name;
    const char *content;        /* written to %F; NULL: no file */
    const char *spec;           /* template */
    const char *where;
    const char *want;           /* "key[=value]@line|...", template; NULL: error */
    int want_re;
    const char *want_file;      /* template for every entry's file */
    const char *want_errs;      /* template */
} LOAD_CASE;

#define ERR_RDLONG "line longer than 8192 bytes"

static const LOAD_CASE load_cases[] = {
    {"file: keys, values, blank lines, comments",
     "a 1\n\nb  two words  \n# comment\n  c\t3\n", "%F", "conf:1",
     "a=1@1|b=two words@3|c=3@5", 0, "%F", NULL},
    {"file: prefix", "x\n", "file:%F", "conf:1", "x@1", 0, "%F", NULL},
    {"refile: prefix sets is_re", "*@example.com k1\n*  k2 @%\n", "refile:%F", "conf:1",
     "*@example.com=k1@1|*=k2 @%@2", 1, "%F", NULL},
    {"comment only after white space", "key#1 v # trailing\n#full\n  # indented\nk2 v2#x\n",
     "%F", NULL, "key#1=v@1|k2=v2#x@4", 0, "%F", NULL},
    {"CRLF line ends", "a 1\r\nb\r\n", "%F", NULL, "a=1@1|b@2", 0, "%F", NULL},
    {"last line without newline", "a 1\nb 2", "%F", NULL, "a=1@1|b=2@2", 0, "%F", NULL},
    {"empty file", "", "%F", NULL, "", 0, NULL, NULL},
    {"line of exactly 8192 bytes", "{X8192}\n", "%F", NULL, "{X8192}@1", 0, "%F", NULL},
    {"overlong lines named, others still read",
     "a\n{X8193}\nb 2\n{X9000}\n", "%F", NULL, NULL, 0, NULL,
     "%F:2: " ERR_RDLONG "\n%F:4: " ERR_RDLONG "\n"},
    {"NUL byte", "a\nb{NUL}c\nd\n", "%F", "conf:4", NULL, 0, NULL,
     "%F:2: line holds a NUL byte\n"},
    {"missing file names the directive", NULL, "/nonexistent/txmilter-ds", "conf:3", NULL, 0,
     NULL, "conf:3: cannot open /nonexistent/txmilter-ds: No such file or directory\n"},
    {"missing file without where", NULL, "refile:/nonexistent/x", NULL, NULL, 0, NULL,
     "/nonexistent/x: cannot open /nonexistent/x: No such file or directory\n"},
    {"directory is not a regular file", NULL, "/tmp", "conf:3", NULL, 0, NULL,
     "conf:3: /tmp is not a regular file\n"},
    {"inline list, commas and white space", NULL, "a, b  c,,d\te", "conf:9",
     "a@0|b@0|c@0|d@0|e@0", 0, "conf:9", NULL},
    {"csl: prefix", NULL, "csl:x,y", "conf:9", "x@0|y@0", 0, "conf:9", NULL},
    {"inline without where", NULL, "127.0.0.1", NULL, "127.0.0.1@0", 0, "(inline)", NULL},
    {"inline IPv6 is not a dataset type", NULL, "::1, 2001:db8::/32", "conf:2",
     "::1@0|2001:db8::/32@0", 0, "conf:2", NULL},
    {"inline of separators only", NULL, " , ,", "conf:2", "", 0, NULL, NULL},
    {"unsupported type", NULL, "LDAP://ldap.example.com/dc=example", "conf:2", NULL, 0, NULL,
     "conf:2: dataset type \"ldap:\" is not supported (use a file, \"refile:\" or an inline list)\n"},
    {"unsupported db:", NULL, "db:/etc/x.db", "conf:2", NULL, 0, NULL,
     "conf:2: dataset type \"db:\" is not supported (use a file, \"refile:\" or an inline list)\n"},
    {"file: without a name", NULL, "file:", "conf:2", NULL, 0, NULL,
     "conf:2: missing file name in \"file:\"\n"},
    {"refile: without a name", NULL, "refile:", "conf:2", NULL, 0, NULL,
     "conf:2: missing file name in \"refile:\"\n"},
    {"fixture file via srcdir", NULL, "%D/ds_hosts", "conf:1",
     "127.0.0.1@3|::1@4|192.0.2.0/24@5|!192.0.2.128/25@6|mail.example.com@7|.example.net@8",
     0, "%D/ds_hosts", NULL},
};

/* test_load - load one dataset and compare entries or errors */
static void test_load(void **state)
{
    const LOAD_CASE *c = *state;
    const char *vals[26] = {0};
    char *path = c->content ? th_tempfile(c->content) : NULL;
    char *spec, *want;
    DATASET *ds;
    BUF errs, got;
    size_t i;

    vals['F' - 'A'] = path;
    vals['D' - 'A'] = th_datadir();
    spec = th_subst(c->spec, vals);
    buf_init(&errs, 65536);
    buf_init(&got, 1 << 20);
    assert_int_equal(buf_puts(&got, ""), 0);
    ds = dataset_load(spec, c->where, &errs);
    if (c->want_errs != NULL) {
        char *we = th_subst(c->want_errs, vals);

        assert_null(ds);
        assert_string_equal(errs.data ? errs.data : "", we);
        free(we);
    } else {
        char *tmp;

        assert_non_null(ds);
        assert_int_equal(errs.len, 0);
        assert_int_equal(ds->is_re, c->want_re);
        for (i = 0; i < ds->n; i++) {
            const DATASET_ENTRY *e = &ds->ent[i];

            assert_int_equal(buf_printf(&got, "%s%s%s%s@%d", i ? "|" : "", e->key,
                                        e->value ? "=" : "", e->value ? e->value : "",
                                        e->line), 0);
            if (c->want_file) {
                char *wf = th_subst(c->want_file, vals);

                assert_string_equal(e->file, wf);
                free(wf);
            }
        }
        tmp = th_subst(c->want, vals);
        want = th_expand(tmp, NULL);
        free(tmp);
        assert_string_equal(got.data, want);
        free(want);
        dataset_free(ds);
    }
    buf_free(&errs);
    buf_free(&got);
    free(spec);
    th_unlink(path);
}

/* test_errs_bounded - a full error buffer cuts the list, never overflows */
static void test_errs_bounded(void **state)
{
    char *path;
    BUF errs;

    (void) state;
    path = th_tempfile("{X9000}\n{X9000}\n{X9000}\n{X9000}\n");
    buf_init(&errs, 60);
    assert_null(dataset_load(path, NULL, &errs));
    assert_true(errs.len <= 60);
    assert_true(errs.len > 0);
    buf_free(&errs);
    assert_null(dataset_load(path, NULL, NULL));
    th_unlink(path);
}

int main(void)
{
    static const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_errs_bounded),
    };
    int fails = 0;

    fails += RUN("dataset_wildmatch", test_wildmatch, wild_cases);
    fails += RUN("dataset_load", test_load, load_cases);
    fails += cmocka_run_group_tests_name("dataset_misc", misc, NULL, NULL);
    return fails ? 1 : 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pfcache.c - unit tests for pfcache.c: values copied in and out,
 * replacement, the size check, expiry on the monotonic clock, ttl 0,
 * the hit/miss counters and the bound on the table (expired entries
 * dropped first, else the whole table emptied).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pfcache.h"
#include "testutil.h"

#define PFCACHE_TEST_MAX 8192               /* PFCACHE_MAX in pfcache.c */

/* One step on the cache: put (ttl > 0 or put set) or get. */
typedef struct pf_step {
    const char *key;
    int         put;                /* 1: put val with ttl; 0: get */
    int         val;
    unsigned    ttl;
    size_t      size;               /* 0: sizeof(int) */
    int         found;              /* get: expected result */
    int         want;               /* get: expected value when found */
} PF_STEP;

typedef struct pf_case {
    const char *name;
    PF_STEP     steps[8];
    unsigned long hits, misses;
} PF_CASE;

#define PUT(k, v, t)     {k, 1, v, t, 0, 0, 0}
#define GET(k, f, w)     {k, 0, 0, 0, 0, f, w}
#define GETSZ(k, s)      {k, 0, 0, 0, s, 0, 0}
#define STEPS_END        {NULL, 0, 0, 0, 0, 0, 0}

static const PF_CASE pf_cases[] = {
    {"empty cache: miss", {GET("a", 0, 0), STEPS_END}, 0, 1},
    {"put then get", {PUT("a", 42, 60), GET("a", 1, 42), STEPS_END}, 1, 0},
    {"other key misses", {PUT("a", 42, 60), GET("b", 0, 0), STEPS_END}, 0, 1},
    {"ttl 0 stores nothing", {PUT("a", 42, 0), GET("a", 0, 0), STEPS_END}, 0, 1},
    {"ttl 0 leaves an older value alone", {PUT("a", 1, 60), PUT("a", 2, 0), GET("a", 1, 1), STEPS_END}, 1, 0},
    {"put replaces", {PUT("a", 1, 60), PUT("a", 2, 60), GET("a", 1, 2), STEPS_END}, 1, 0},
    {"keys are case-sensitive", {PUT("dmarc:Example.com", 1, 60), GET("dmarc:example.com", 0, 0),
                                 GET("dmarc:Example.com", 1, 1), STEPS_END}, 1, 1},
    {"a different size is a miss", {PUT("a", 7, 60), GETSZ("a", sizeof(int) * 2), GET("a", 1, 7), STEPS_END}, 1, 1},
    {"many keys in the same table", {PUT("k1", 1, 60), PUT("k2", 2, 60), PUT("k3", 3, 60),
                                     GET("k2", 1, 2), GET("k3", 1, 3), GET("k1", 1, 1), STEPS_END}, 3, 0},
};

/* test_steps - one row's puts and gets, and the counters they move */
static void test_steps(void **state)
{
    const PF_CASE *c = *state;
    unsigned long hits, misses;

    pfcache_clear();
    pfcache_stats(&hits, &misses);
    for (const PF_STEP *s = c->steps; s->key; s++) {
        int v[2] = {-1, -1};
        size_t size = s->size ? s->size : sizeof(int);

        if (s->put) {
            pfcache_put(s->key, &s->val, sizeof(int), s->ttl);
            continue;
        }
        int found = pfcache_get(s->key, v, size);

        if (found != s->found)
            fail_msg("case \"%s\": get %s: found %d, want %d", c->name, s->key, found, s->found);
        if (found && v[0] != s->want)
            fail_msg("case \"%s\": get %s: %d, want %d", c->name, s->key, v[0], s->want);
        if (!found && v[0] != -1)
            fail_msg("case \"%s\": a miss wrote into the value", c->name);
    }
    unsigned long h2, m2;

    pfcache_stats(&h2, &m2);
    if (h2 - hits != c->hits || m2 - misses != c->misses)
        fail_msg("case \"%s\": %lu hits %lu misses, want %lu and %lu", c->name, h2 - hits,
                 m2 - misses, c->hits, c->misses);
    pfcache_clear();
}

/* The value is copied: changing the caller's struct later changes nothing. */
static void test_copy(void **state)
{
    struct { char s[32]; int n; } in = {"first", 1}, out;

    (void) state;
    pfcache_clear();
    pfcache_put("spf:example.com", &in, sizeof(in), 60);
    strcpy(in.s, "changed");
    in.n = 2;
    assert_int_equal(pfcache_get("spf:example.com", &out, sizeof(out)), 1);
    assert_string_equal(out.s, "first");
    assert_int_equal(out.n, 1);
    pfcache_clear();
}

/* An entry with ttl 1 is gone once a second has passed; a long one stays. */
static void test_expiry(void **state)
{
    int v = 5, out = 0;

    (void) state;
    pfcache_clear();
    pfcache_put("short", &v, sizeof(v), 1);
    pfcache_put("long", &v, sizeof(v), 3600);
    assert_int_equal(pfcache_get("short", &out, sizeof(out)), 1);
    th_ms_sleep(1100);
    assert_int_equal(pfcache_get("short", &out, sizeof(out)), 0);
    assert_int_equal(pfcache_get("long", &out, sizeof(out)), 1);
    /* a put renews an expired entry */
    pfcache_put("short", &v, sizeof(v), 60);
    assert_int_equal(pfcache_get("short", &out, sizeof(out)), 1);
    pfcache_clear();
    assert_int_equal(pfcache_get("long", &out, sizeof(out)), 0);
}

/* fill - keys prefix0 .. prefix<n-1> with ttl */
static void fill(const char *prefix, int n, unsigned ttl)
{
    char key[64];

    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%s%d", prefix, i);
        pfcache_put(key, &i, sizeof(i), ttl);
    }
}

/* count - how many of prefix0 .. prefix<n-1> are found with their value */
static int count(const char *prefix, int n)
{
    char key[64];
    int found = 0, v;

    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%s%d", prefix, i);
        if (pfcache_get(key, &v, sizeof(v))) {
            assert_int_equal(v, i);
            found++;
        }
    }
    return found;
}

/* A full table with nothing expired is emptied before the next new key. */
static void test_bound_full(void **state)
{
    int v = 1, out;

    (void) state;
    pfcache_clear();
    fill("k", PFCACHE_TEST_MAX, 3600);
    assert_int_equal(count("k", PFCACHE_TEST_MAX), PFCACHE_TEST_MAX);
    /* replacing a key of a full table keeps everything */
    pfcache_put("k0", &v, sizeof(v), 3600);
    assert_int_equal(pfcache_get("k0", &out, sizeof(out)), 1);
    assert_int_equal(out, 1);
    pfcache_put("k0", &(int){0}, sizeof(int), 3600);
    assert_int_equal(count("k", PFCACHE_TEST_MAX), PFCACHE_TEST_MAX);
    pfcache_put("new", &v, sizeof(v), 3600);
    assert_int_equal(pfcache_get("new", &out, sizeof(out)), 1);
    assert_int_equal(count("k", PFCACHE_TEST_MAX), 0);
    pfcache_clear();
}

/* A full table with expired entries drops only those. */
static void test_bound_expired(void **state)
{
    int v = 1, out;

    (void) state;
    pfcache_clear();
    fill("old", 100, 1);
    fill("k", PFCACHE_TEST_MAX - 100, 3600);
    th_ms_sleep(1100);
    pfcache_put("new", &v, sizeof(v), 3600);
    assert_int_equal(pfcache_get("new", &out, sizeof(out)), 1);
    assert_int_equal(count("k", PFCACHE_TEST_MAX - 100), PFCACHE_TEST_MAX - 100);
    assert_int_equal(count("old", 100), 0);
    /* room for 99 more now, without emptying */
    fill("more", 99, 3600);
    assert_int_equal(count("k", PFCACHE_TEST_MAX - 100), PFCACHE_TEST_MAX - 100);
    assert_int_equal(count("more", 99), 99);
    pfcache_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_bound_full),
        cmocka_unit_test(test_bound_expired),
    };
    int rc = RUN("pfcache steps", test_steps, pf_cases);

    return rc | cmocka_run_group_tests(tests, NULL, NULL);
}

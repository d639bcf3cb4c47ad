/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rate_store_mem.c - unit tests for rate_store_mem.c, the embedded rate store:
 * atomic decisions over several rules (one refusing rule charges nothing),
 * shadow rules, refund, reset, peek, a rule reloaded with another N or P
 * (checked against rate_limiter_convert()), bounded memory (max_keys, the idle
 * sweep, idle states dropped before active ones), binary keys, bad input,
 * and 8 threads hammering one key never letting more than N through.
 *
 * Time comes from a test clock (th_clock); the scenario tables give times
 * in ms and the expected answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "testutil.h"
#include "rate_limiter.h"
#include "rate_store.h"
#include "rate_store_mem.h"
#include "util.h"


/* decide - decide at t; returns accepted, asserts RATE_STORE_OK */
static int decide(RATE_STORE *s, const RATE_STORE_ITEM *it, size_t n, RATE_STORE_RESULT *res,
                  uint64_t t, uint64_t *stamp)
{
    uint64_t st = 0;
    int acc = -1;

    th_clock_set(t);
    assert_int_equal(s->ops->decide(s, it, n, res, &acc, &st), RATE_STORE_OK);
    if (stamp)
        *stamp = st;
    return acc;
}

/* peek_count - the count of one item at t */
static uint32_t peek_count(RATE_STORE *s, const RATE_STORE_ITEM *it, uint64_t t)
{
    RATE_STORE_RESULT r;

    th_clock_set(t);
    assert_int_equal(s->ops->peek(s, it, &r), RATE_STORE_OK);
    return r.count;
}

/*
 * Scenarios over two rules A and B of one recipient. Each step decides
 * both at a time and expects: accepted, A allowed, B allowed, A's wait,
 * and afterwards the counts of A and B (peek).
 */
typedef struct pair_step {
    uint64_t t;
    int      acc, a_ok, b_ok;
    uint64_t a_wait;
    uint32_t a_cnt, b_cnt;
} PAIR_STEP;

typedef struct pair_case {
    const char *name;
    uint32_t a_n; uint64_t a_p; int a_shadow;
    uint32_t b_n; uint64_t b_p; int b_shadow;
    PAIR_STEP step[8];
    int nstep;
} PAIR_CASE;

static const PAIR_CASE pair_cases[] = {
    { "refusing_b_charges_nothing_on_a", 5, 10000, 0, 1, 10000, 0,
      { { 1000, 1, 1, 1, 0, 1, 1 }, { 2000, 0, 1, 0, 0, 1, 1 }, { 3000, 0, 1, 0, 0, 1, 1 },
        { 11000, 1, 1, 1, 0, 1, 1 } }, 4 },
    { "refusing_a_charges_nothing_on_b", 1, 1000, 0, 5, 10000, 0,
      { { 0, 1, 1, 1, 0, 1, 1 }, { 500, 0, 0, 1, 500, 1, 1 }, { 999, 0, 0, 1, 1, 1, 1 },
        { 1000, 1, 1, 1, 0, 1, 2 } }, 4 },
    { "shadow_b_refusing_still_accepted_and_charged", 5, 10000, 0, 2, 10000, 1,
      { { 0, 1, 1, 1, 0, 1, 1 }, { 1, 1, 1, 1, 0, 2, 2 }, { 2, 1, 1, 0, 0, 3, 2 },
        { 3, 1, 1, 0, 0, 4, 2 } }, 4 },
    { "shadow_b_not_charged_when_a_refuses", 1, 10000, 0, 3, 10000, 1,
      { { 0, 1, 1, 1, 0, 1, 1 }, { 1, 0, 0, 1, 9999, 1, 1 }, { 2, 0, 0, 1, 9998, 1, 1 } }, 3 },
    { "bucket_a_with_exact_b", 300, 255000, 0, 2, 1000, 0,
      { { 0, 1, 1, 1, 0, 1, 1 }, { 10, 1, 1, 1, 0, 2, 2 }, { 20, 0, 1, 0, 0, 2, 2 },
        { 1000, 1, 1, 1, 0, 3, 2 } }, 4 },
};

/* test_pair - run one two-rule scenario */
static void test_pair(void **state)
{
    const PAIR_CASE *c = *state;
    RATE_RULE a = th_rule("a", c->a_n, c->a_p, c->a_shadow);
    RATE_RULE b = th_rule("b", c->b_n, c->b_p, c->b_shadow);
    RATE_STORE *s = rate_store_mem_new(1000, th_clock);
    RATE_STORE_ITEM it[2];
    RATE_STORE_RESULT res[2];
    uint64_t stamp;
    int i;

    th_item(&it[0], &a, "a|rcpt=x@example.com");
    th_item(&it[1], &b, "b|rcpt=x@example.com");
    for (i = 0; i < c->nstep; i++) {
        const PAIR_STEP *st = &c->step[i];

        assert_int_equal(decide(s, it, 2, res, st->t, &stamp), st->acc);
        assert_int_equal(res[0].allowed, st->a_ok);
        assert_int_equal(res[1].allowed, st->b_ok);
        if (!st->a_ok)
            assert_int_equal(res[0].wait_ms, st->a_wait);
        if (st->acc)
            assert_int_equal(stamp, st->t);
        else
            assert_int_equal(stamp, 0);
        assert_int_equal(peek_count(s, &it[0], st->t), st->a_cnt);
        assert_int_equal(peek_count(s, &it[1], st->t), st->b_cnt);
    }
    s->ops->free(s);
}

/* test_refund_reset_peek - refund gives back, reset forgets, peek charges nothing */
static void test_refund_reset_peek(void **state)
{
    RATE_RULE a = th_rule("a", 2, 10000, 0), b = th_rule("b", 3, 10000, 0);
    RATE_STORE *s = rate_store_mem_new(100, th_clock);
    RATE_STORE_ITEM it[2];
    RATE_STORE_RESULT res[2], pr;
    uint64_t s1, s2;

    (void) state;
    th_item(&it[0], &a, "a|rcpt=x@example.com");
    th_item(&it[1], &b, "b|rcpt=x@example.com");
    th_clock_set(500);
    assert_int_equal(s->ops->peek(s, &it[0], &pr), RATE_STORE_OK);
    assert_int_equal(pr.allowed, 1);
    assert_int_equal(pr.count, 0);
    assert_int_equal(rate_store_mem_keys(s), 0);    /* peek makes no state */
    assert_int_equal(decide(s, it, 2, res, 1000, &s1), 1);
    assert_int_equal(decide(s, it, 2, res, 2000, &s2), 1);
    assert_int_equal(decide(s, it, 2, res, 3000, NULL), 0);
    assert_int_equal(peek_count(s, &it[1], 3000), 2);
    /* a refund at a stamp nobody was charged at changes nothing */
    assert_int_equal(s->ops->refund(s, it, 2, 1500), RATE_STORE_OK);
    assert_int_equal(peek_count(s, &it[0], 3000), 2);
    assert_int_equal(s->ops->refund(s, it, 2, s1), RATE_STORE_OK);
    assert_int_equal(peek_count(s, &it[0], 3000), 1);
    assert_int_equal(peek_count(s, &it[1], 3000), 1);
    assert_int_equal(decide(s, it, 2, res, 3000, NULL), 1);
    assert_int_equal(decide(s, it, 2, res, 3001, NULL), 0);
    assert_int_equal(res[0].wait_ms, 2000 + 10000 - 3001);
    assert_int_equal(rate_store_mem_keys(s), 2);
    assert_int_equal(s->ops->reset(s, it[0].key), RATE_STORE_OK);
    assert_int_equal(rate_store_mem_keys(s), 1);
    assert_int_equal(peek_count(s, &it[0], 3001), 0);
    assert_int_equal(peek_count(s, &it[1], 3001), 2);
    assert_int_equal(s->ops->reset(s, "no such key"), RATE_STORE_OK);
    assert_int_equal(decide(s, it, 2, res, 3002, NULL), 1);
    /* refunding after reset finds nothing to take back for a */
    assert_int_equal(s->ops->refund(s, it, 2, s2), RATE_STORE_OK);
    assert_int_equal(peek_count(s, &it[0], 3002), 1);
    assert_int_equal(peek_count(s, &it[1], 3002), 2);
    s->ops->free(s);
}

/* A rule reloaded with another N or P on the same key: the store must
 * carry the state over exactly as rate_limiter_convert() does. */
typedef struct change_case {
    const char *name;
    uint32_t n1; uint64_t p1; int charges;  /* charged 1 ms apart from t=1000 */
    uint32_t n2; uint64_t p2; uint64_t t2;  /* then decided under n2/p2 at t2 */
} CHANGE_CASE;

static const CHANGE_CASE change_cases[] = {
    { "exact_raise_limit", 3, 10000, 3, 5, 10000, 2000 },
    { "exact_lower_limit", 5, 10000, 5, 2, 10000, 2000 },
    { "exact_shorter_period", 5, 60000, 5, 5, 1000, 1003 },
    { "exact_to_bucket", 10, 10000, 10, 300, 255000, 5000 },
    { "bucket_to_exact", 400, 255000, 400, 100, 60000, 3000 },
    { "bucket_to_bucket", 400, 255000, 400, 300, 86400000, 3000 },
};

/* test_change - decide under the new rule, compare with rate_limiter_convert */
static void test_change(void **state)
{
    const CHANGE_CASE *c = *state;
    RATE_RULE r1 = th_rule("r", c->n1, c->p1, 0), r2 = th_rule("r", c->n2, c->p2, 0);
    RATE_STORE *s = rate_store_mem_new(100, th_clock);
    RATE_LIMITER_STATE *a = xmalloc(rate_limiter_size(c->n1));
    RATE_LIMITER_STATE *b = xmalloc(rate_limiter_size(c->n2));
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res, want;
    int i, round;

    rate_limiter_init(a, c->n1, c->p1);
    th_item(&it, &r1, "r|global");
    for (i = 0; i < c->charges; i++) {
        assert_int_equal(decide(s, &it, 1, &res, 1000 + (uint64_t) i, NULL), 1);
        assert_int_equal(rate_limiter_check(a, 1000 + (uint64_t) i, &want.count, &want.wait_ms), 1);
        rate_limiter_charge(a, 1000 + (uint64_t) i);
    }
    rate_limiter_convert(a, b, c->n2, c->p2, c->t2);
    it.rule = &r2;
    for (round = 0; round < 3; round++) {
        int acc = decide(s, &it, 1, &res, c->t2, NULL);

        want.allowed = rate_limiter_check(b, c->t2, &want.count, &want.wait_ms);
        if (want.allowed)
            rate_limiter_charge(b, c->t2);
        assert_int_equal(acc, want.allowed);
        assert_int_equal(res.count, want.count);
        if (!want.allowed)
            assert_int_equal(res.wait_ms, want.wait_ms);
    }
    free(a);
    free(b);
    s->ops->free(s);
}

/* test_max_keys - never more than max_keys states; idle ones swept */
static void test_max_keys(void **state)
{
    RATE_RULE lng = th_rule("long", 1, 86400000, 0), shrt = th_rule("short", 1, 1000, 0);
    RATE_STORE *s = rate_store_mem_new(100, th_clock);
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res;
    char key[64];
    int i;

    (void) state;
    /* 40 long-lived keys, then 2000 short ones: bounded all along */
    for (i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "long|rcpt=%d@example.com", i);
        th_item(&it, &lng, key);
        assert_int_equal(decide(s, &it, 1, &res, 1000, NULL), 1);
    }
    for (i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "short|rcpt=%d@example.com", i);
        th_item(&it, &shrt, key);
        assert_int_equal(decide(s, &it, 1, &res, 1000 + (uint64_t) i * 50, NULL), 1);
        assert_true(rate_store_mem_keys(s) <= 100);
    }
    /* the short keys went idle and were dropped first: every long key kept */
    for (i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "long|rcpt=%d@example.com", i);
        th_item(&it, &lng, key);
        assert_int_equal(peek_count(s, &it, 30000), 1);
    }
    /* an hour later every short key is idle: the sweep of later calls drops them */
    th_item(&it, &shrt, "short|rcpt=new@example.com");
    for (i = 0; i < 64; i++)
        (void) decide(s, &it, 1, &res, 3600000 + (uint64_t) i * 2000, NULL);
    assert_int_equal(rate_store_mem_keys(s), 41);
    /* nothing idle: the least recently used active key goes */
    for (i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "long|rcpt=more%d@example.com", i);
        th_item(&it, &lng, key);
        assert_int_equal(decide(s, &it, 1, &res, 3800000, NULL), 1);
        assert_true(rate_store_mem_keys(s) <= 100);
    }
    assert_int_equal(rate_store_mem_keys(s), 100);
    s->ops->free(s);
}

/* test_binary_keys - keys differing only in high or control bytes stay apart */
static void test_binary_keys(void **state)
{
    RATE_RULE r = th_rule("r", 1, 10000, 0);
    RATE_STORE *s = rate_store_mem_new(1000, th_clock);
    RATE_STORE_ITEM it;
    RATE_STORE_RESULT res;
    int i;

    (void) state;
    for (i = 1; i < 256; i++) {
        char key[8] = { 'r', '|', (char) i, 'x', 0 };

        th_item(&it, &r, key);
        assert_int_equal(decide(s, &it, 1, &res, 100, NULL), 1);
    }
    assert_int_equal(rate_store_mem_keys(s), 255);
    for (i = 1; i < 256; i++) {
        char key[8] = { 'r', '|', (char) i, 'x', 0 };

        th_item(&it, &r, key);
        assert_int_equal(decide(s, &it, 1, &res, 200, NULL), 0);
    }
    s->ops->free(s);
}

/* test_bad_items - a caller's bug gets RATE_STORE_UNAVAILABLE, not a crash */
static void test_bad_items(void **state)
{
    RATE_RULE zero = th_rule("z", 0, 1000, 0);
    RATE_STORE *s = rate_store_mem_new(10, th_clock);
    RATE_STORE_ITEM *it = xcalloc(RATE_STORE_ITEMS_MAX + 1, sizeof(*it));
    RATE_STORE_RESULT *res = xcalloc(RATE_STORE_ITEMS_MAX + 1, sizeof(*res));
    uint64_t stamp;
    int acc;

    (void) state;
    th_item(&it[0], NULL, "k");
    assert_int_equal(s->ops->decide(s, it, 1, res, &acc, &stamp), RATE_STORE_UNAVAILABLE);
    th_item(&it[0], &zero, "k");
    assert_int_equal(s->ops->decide(s, it, 1, res, &acc, &stamp), RATE_STORE_UNAVAILABLE);
    assert_int_equal(s->ops->peek(s, it, res), RATE_STORE_UNAVAILABLE);
    assert_int_equal(s->ops->decide(s, it, RATE_STORE_ITEMS_MAX + 1, res, &acc, &stamp),
                     RATE_STORE_UNAVAILABLE);
    assert_int_equal(s->ops->decide(s, it, 0, res, &acc, &stamp), RATE_STORE_OK);
    assert_int_equal(acc, 1);
    free(it);
    free(res);
    s->ops->free(s);
}

#define HAMMER_THREADS 8
#define HAMMER_CALLS   4000

typedef struct hammer {
    RATE_STORE *s;
    const RATE_STORE_ITEM *it;
    size_t n;
    int accepted, refunded;
} HAMMER;

/* hammer_run - one thread deciding over and over, refunding every 5th */
static void *hammer_run(void *arg)
{
    HAMMER *h = arg;
    RATE_STORE_RESULT res[2];
    uint64_t stamp;
    int acc, i;

    for (i = 0; i < HAMMER_CALLS; i++) {
        if (h->s->ops->decide(h->s, h->it, h->n, res, &acc, &stamp) != RATE_STORE_OK)
            return NULL;
        if (acc && ++h->accepted % 5 == 0 && h->refunded < 3) {
            if (h->s->ops->refund(h->s, h->it, h->n, stamp) == RATE_STORE_OK)
                h->refunded++;
        }
    }
    return NULL;
}

/* test_threads - 8 threads on one key (and a second rule): exactly N pass */
static void test_threads(void **state)
{
    RATE_RULE a = th_rule("a", 100, 3600000, 0), b = th_rule("b", 150, 3600000, 0);
    RATE_STORE *s = rate_store_mem_new(100, th_clock);
    HAMMER h[HAMMER_THREADS];
    pthread_t tid[HAMMER_THREADS];
    RATE_STORE_ITEM it[2];
    int i, acc = 0, ref = 0;

    (void) state;
    th_clock_set(5000);
    th_item(&it[0], &a, "a|global");
    th_item(&it[1], &b, "b|global");
    for (i = 0; i < HAMMER_THREADS; i++) {
        h[i].s = s;
        h[i].it = it;
        h[i].n = 2;
        h[i].accepted = h[i].refunded = 0;
        assert_int_equal(pthread_create(&tid[i], NULL, hammer_run, &h[i]), 0);
    }
    for (i = 0; i < HAMMER_THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        acc += h[i].accepted;
        ref += h[i].refunded;
    }
    /* each refund let exactly one more through; b was charged exactly as a */
    assert_int_equal(acc - ref, 100);
    assert_int_equal(peek_count(s, &it[0], 5000), 100);
    assert_int_equal(peek_count(s, &it[1], 5000), 100);
    s->ops->free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refund_reset_peek),
        cmocka_unit_test(test_max_keys),
        cmocka_unit_test(test_binary_keys),
        cmocka_unit_test(test_bad_items),
        cmocka_unit_test(test_threads),
    };
    int rc = 0;

    rc |= RUN("rate_store_mem_two_rules", test_pair, pair_cases);
    rc |= RUN("rate_store_mem_rule_change", test_change, change_cases);
    rc |= cmocka_run_group_tests_name("rate_store_mem", tests, NULL, NULL);
    return rc != 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rate_limiter.c - unit tests for rate_limiter.c: the shared case table
 * tests/unit/data/rate_limiter_cases.txt (the same cases the Redis Lua script
 * is tested against; its header documents the format), C-only tables for
 * idle detection, conversion and sizes, and randomised simulations with a
 * fixed seed against a brute-force sliding window:
 *
 *  - exact mode must decide exactly as the brute force does (allowed, count
 *    and wait), refunds and clock steps included;
 *  - bucket mode must never let more than N through in any window of
 *    length P, must never count fewer or wait less than the brute force,
 *    and must refuse at most w - 1 ms early (the measured maximum is
 *    printed);
 *  - rate_limiter_convert() to the same N and P changes no decision, and to
 *    another N and P never lets through more than the new rule would on
 *    the events the old state still held.
 *
 * The window at now is (now - P, now]: an event exactly P after the
 * oldest counted one is allowed, one at P - 1 is refused; the tables test
 * both sides of that edge, in both modes.
 *
 * Every table row (and every line of the case file) is one named cmocka
 * test, so a failure names its case, and the message names the op.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"
#include "rate_limiter.h"
#include "util.h"

/* lt_new - a fresh state for N and P */
static RATE_LIMITER_STATE *lt_new(uint32_t limit, uint64_t period)
{
    RATE_LIMITER_STATE *st = xmalloc(rate_limiter_size(limit));

    rate_limiter_init(st, limit, period);
    return st;
}

/* A case: the shared file's columns, or a C table row. */
typedef struct lt_case {
    const char *name;
    uint32_t    limit;
    uint64_t    period;
    const char *ops;
} LT_CASE;

/* lt_num - a decimal number at *pp, advancing it; -1 if none */
static int lt_num(const char **pp, uint64_t *v)
{
    const char *p = *pp;
    uint64_t n = 0;

    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (UINT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (uint64_t) (*p - '0');
    }
    *pp = p;
    *v = n;
    return 0;
}

/*
 * lt_op - run one op token on *stp. Beyond the shared syntax (c, r, p)
 * C-only rows may use "i@T=0|1" (rate_limiter_idle() at T) and "x@T=N/P"
 * (rate_limiter_convert() at T to N/P; the state is replaced).
 */
static void lt_op(const LT_CASE *c, RATE_LIMITER_STATE **stp, const char *tok, size_t len)
{
    char op[128], got[64];
    const char *p, *exp = "";
    uint64_t t = 0, step = 0, reps = 1, r, wait, v1 = 0, v2 = 0;
    uint32_t count;
    int kind, ok;

    if (len >= sizeof(op))
        fail_msg("case %s: op \"%.*s\" too long", c->name, (int) len, tok);
    memcpy(op, tok, len);
    op[len] = 0;
    p = op;
    kind = *p++;
    if (*p++ != '@' || lt_num(&p, &t) < 0)
        fail_msg("case %s: bad op \"%s\"", c->name, op);
    if (*p == '+' && (p++, lt_num(&p, &step) < 0))
        fail_msg("case %s: bad step in \"%s\"", c->name, op);
    if (*p == '*' && (p++, lt_num(&p, &reps) < 0))
        fail_msg("case %s: bad repeat in \"%s\"", c->name, op);
    if (*p == '=')
        exp = p + 1;
    else if (*p)
        fail_msg("case %s: bad op \"%s\"", c->name, op);
    if ((kind == 'r') != (*exp == 0))
        fail_msg("case %s: op \"%s\": outcome missing or unexpected", c->name, op);
    for (r = 0; r < reps; r++, t += step) {
        switch (kind) {
        case 'c':
        case 'p':
            ok = rate_limiter_check(*stp, t, &count, &wait);
            if (kind == 'p')
                snprintf(got, sizeof(got), "%u", count);
            else if (ok)
                snprintf(got, sizeof(got), "ok");
            else
                snprintf(got, sizeof(got), "no:%llu", (unsigned long long) wait);
            if (!ok && wait < 1)
                fail_msg("case %s: op \"%s\" at %llu: refused with a wait of 0", c->name, op,
                         (unsigned long long) t);
            if (strcmp(got, exp) != 0)
                fail_msg("case %s: op \"%s\" (#%llu, at %llu): expected %s, got %s", c->name,
                         op, (unsigned long long) r + 1, (unsigned long long) t, exp, got);
            if (kind == 'c' && ok)
                rate_limiter_charge(*stp, t);
            break;
        case 'r':
            rate_limiter_refund(*stp, t);
            break;
        case 'i':
            snprintf(got, sizeof(got), "%d", rate_limiter_idle(*stp, t));
            if (strcmp(got, exp) != 0)
                fail_msg("case %s: op \"%s\": expected idle=%s, got %s", c->name, op, exp, got);
            break;
        case 'x': {
            const char *q = exp;
            RATE_LIMITER_STATE *dst;

            if (lt_num(&q, &v1) < 0 || *q++ != '/' || lt_num(&q, &v2) < 0 || *q)
                fail_msg("case %s: bad convert \"%s\"", c->name, op);
            dst = xmalloc(rate_limiter_size((uint32_t) v1));
            rate_limiter_convert(*stp, dst, (uint32_t) v1, v2, t);
            free(*stp);
            *stp = dst;
            break;
        }
        default:
            fail_msg("case %s: unknown op \"%s\"", c->name, op);
        }
    }
}

/* lt_run_case - run every op of a case on a fresh state */
static void lt_run_case(void **state)
{
    const LT_CASE *c = *state;
    RATE_LIMITER_STATE *st = lt_new(c->limit, c->period);
    const char *p = c->ops, *e;

    for (;;) {
        p += strspn(p, " \t");
        if (*p == 0)
            break;
        e = p + strcspn(p, " \t");
        lt_op(c, &st, p, (size_t) (e - p));
        p = e;
    }
    free(st);
}

/* The shared file, loaded before the tests run. */
static LT_CASE *file_cases;
static size_t   file_ncases;
static char    *file_names[1024];
static char    *file_ops[1024];

/* lt_load_file - read rate_limiter_cases.txt into file_cases */
static void lt_load_file(void)
{
    char path[4200], line[65536];
    FILE *fp;
    int lineno = 0;

    snprintf(path, sizeof(path), "%s/rate_limiter_cases.txt", th_datadir());
    if ((fp = fopen(path, "r")) == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    file_cases = xcalloc(1024, sizeof(*file_cases));
    while (fgets(line, sizeof(line), fp) != NULL) {
        char name[128];
        unsigned long long n, per;
        int off = 0;

        lineno++;
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            fprintf(stderr, "%s:%d: line too long\n", path, lineno);
            exit(1);
        }
        if (line[strspn(line, " \t\r\n")] == 0 || line[strspn(line, " \t")] == '#')
            continue;
        if (sscanf(line, "%127s %llu %llu %n", name, &n, &per, &off) != 3 || off == 0
            || n == 0 || n > UINT32_MAX || file_ncases == 1024) {
            fprintf(stderr, "%s:%d: bad case line\n", path, lineno);
            exit(1);
        }
        line[strcspn(line, "\r\n")] = 0;
        file_names[file_ncases] = xstrdup(name);
        file_ops[file_ncases] = xstrdup(line + off);
        file_cases[file_ncases].name = file_names[file_ncases];
        file_cases[file_ncases].limit = (uint32_t) n;
        file_cases[file_ncases].period = per;
        file_cases[file_ncases].ops = file_ops[file_ncases];
        file_ncases++;
    }
    fclose(fp);
    if (file_ncases < 20) {
        fprintf(stderr, "%s: only %zu cases\n", path, file_ncases);
        exit(1);
    }
}

/* C-only cases: idle detection and conversion (ops i@ and x@). */
static const LT_CASE idle_cases[] = {
    {"idle-empty", 3, 1000, "i@0=1 i@123456=1"},
    {"idle-inside", 3, 1000, "c@100=ok i@100=0 i@1099=0 i@1100=1"},
    {"idle-newest-counts", 3, 1000, "c@0=ok c@900=ok i@1000=0 i@1899=0 i@1900=1"},
    {"idle-after-refund", 3, 1000, "c@100=ok r@100 i@100=1"},
    {"idle-clock-back", 3, 1000, "c@5000=ok i@0=0 i@5999=0 i@6000=1"},
    {"idle-peek-no-event", 3, 1000, "p@5000=0 i@5000=1"},
    {"idle-n1", 1, 1, "c@7=ok i@7=0 i@8=1"},
    {"idle-bucket-inside", 257, 255000, "c@500=ok i@1000=0 i@255500=0"},
    /* bucket mode: the slot [0, 999] leaves the window at 255999 */
    {"idle-bucket-slot", 257, 255000, "c@500=ok i@255998=0 i@255999=1"},
    {"idle-bucket-refund", 257, 255000, "c@500=ok r@500 i@500=1"},
    {"idle-bucket-far", 300, 86400000, "c@1=ok c@2=ok i@1000000000=1"},
};

static const LT_CASE convert_cases[] = {
    {"convert-same-exact", 3, 1000,
     "c@0=ok c@100=ok c@200=ok x@300=3/1000 c@300=no:700 c@1000=ok c@1000=no:100"},
    {"convert-n-down-exact", 5, 1000,
     "c@0=ok c@100=ok c@200=ok c@300=ok c@400=ok x@450=3/1000 p@450=3 c@450=no:750 c@1200=ok"},
    {"convert-n-up-exact", 2, 1000, "c@0=ok c@100=ok x@200=4/1000 c@200=ok c@300=ok c@400=no:600"},
    {"convert-p-down-exact", 3, 10000,
     "c@0=ok c@1000=ok c@2000=ok x@2500=3/2000 p@2500=2 c@2500=ok c@2600=no:400"},
    {"convert-p-up-exact", 2, 1000,
     "c@0=ok c@500=ok c@1000=ok x@1000=2/10000 p@1000=2 c@1000=no:9500"},
    /* 0 had left the old window but was still held: the new rule counts it */
    {"convert-p-up-stale", 2, 1000,
     "c@0=ok c@500=ok x@1200=3/10000 p@1200=2 c@1200=ok c@1300=no:8700"},
    {"convert-clock-back", 2, 1000, "c@5000=ok x@10=2/1000 p@10=1 c@10=ok c@10=no:1000"},
    {"convert-empty", 2, 1000, "x@10=300/255000 p@10=0 x@20=1/1 p@20=0 c@20=ok"},
    {"convert-exact-to-bucket", 256, 255000,
     "c@0+1*256=ok x@300=300/255000 p@300=256 c@300*44=ok c@300=no:255699"},
    {"convert-bucket-to-exact", 300, 255000,
     "c@0*100=ok c@1000*100=ok c@2000*100=ok x@2500=200/255000 p@2500=200 c@2500=no:254499"},
    {"convert-bucket-to-exact-n1", 300, 255000, "c@0*3=ok c@1500=ok x@1600=1/1000 c@1600=no:900"},
    {"convert-bucket-p-down", 300, 255000,
     "c@0*100=ok c@100000*100=ok x@150000=300/51000 p@150000=100 c@150000*200=ok c@150000=no:1199"},
    {"convert-bucket-p-up", 300, 255000, "c@0*100=ok x@1000=300/510000 p@1000=100 p@511999=0"},
    {"convert-bucket-n-down", 1000, 255000, "c@0*500=ok x@10=400/255000 p@10=500 c@10=no:255989"},
};

/* test_sizes - rate_limiter_size() and rate_limiter_init() per mode */
static void test_sizes(void **state)
{
    static const struct { uint32_t n; uint32_t slots; } t[] = {
        {0, 1}, {1, 1}, {2, 2}, {255, 255}, {256, 256}, {257, 256}, {100000, 256},
        {10000000, 256},
    };
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        RATE_LIMITER_STATE *st = lt_new(t[i].n, 1000);

        if (rate_limiter_size(t[i].n) != sizeof(RATE_LIMITER_STATE) + t[i].slots * sizeof(uint64_t)
            || st->nslots != t[i].slots || st->n != 0 || st->limit != (t[i].n ? t[i].n : 1))
            fail_msg("size case N=%u: size %zu nslots %u", t[i].n, rate_limiter_size(t[i].n),
                     st->nslots);
        free(st);
    }
    assert_true(rate_limiter_size(10000000) <= 2200);
    assert_int_equal(RATE_LIMITER_SLOT_MS(255000), 1000);
    assert_int_equal(RATE_LIMITER_SLOT_MS(255001), 1001);
    assert_int_equal(RATE_LIMITER_SLOT_MS(1), 1);
    assert_int_equal(RATE_LIMITER_SLOT_MS(0), 1);
    assert_int_equal(RATE_LIMITER_SLOT_MS(86400000), 338824);
}

/* ---- randomised simulations against a brute-force sliding window ---- */

/* A fixed-seed generator (xorshift64*), so every run is the same. */
static uint64_t rng_state;

/* rng - the next pseudo-random number */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* rng_below - a pseudo-random number in [0, n) (0 if n is 0) */
static uint64_t rng_below(uint64_t n)
{
    return n ? rng() % n : 0;
}

/* The reference: every accepted event not refunded, oldest first. */
typedef struct ref {
    uint64_t *t;
    size_t    n, cap, lo;       /* lo: first index that may be in the window */
} REF;

/* ref_add - append an accepted event */
static void ref_add(REF *r, uint64_t t)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 4096;
        r->t = xrealloc(r->t, r->cap * sizeof(*r->t));
    }
    r->t[r->n++] = t;
}

/* ref_remove - remove the newest event at t; 0 if none */
static int ref_remove(REF *r, uint64_t t)
{
    size_t i;

    for (i = r->n; i-- > r->lo;) {
        if (r->t[i] == t) {
            memmove(&r->t[i], &r->t[i + 1], (r->n - i - 1) * sizeof(*r->t));
            r->n--;
            return 1;
        }
        if (r->t[i] < t)
            break;
    }
    return 0;
}

/* ref_window - events in (now - P, now], by brute force from lo; returns
 * the count, and the index of the oldest one in *first */
static size_t ref_window(REF *r, uint64_t now, uint64_t period, size_t *first)
{
    while (r->lo < r->n && !(now < period || r->t[r->lo] > now - period))
        r->lo++;
    *first = r->lo;
    return r->n - r->lo;
}

/* sim_next_time - the next event time: bursts, a steady pace near the
 * limit, quiet spells, long gaps, and now and then a clock step back */
static uint64_t sim_next_time(uint64_t t, uint32_t limit, uint64_t period, int *phase,
                              uint64_t *phase_left)
{
    uint64_t pace = period / limit ? period / limit : 1;

    if (*phase_left == 0) {
        *phase = (int) rng_below(10);
        *phase_left = 1 + rng_below(2 * (uint64_t) limit);
    }
    (*phase_left)--;
    if (rng_below(500) == 0 && t > 20000)
        return t - rng_below(20000);            /* clock steps back */
    switch (*phase) {
    case 0: case 1: case 2:
        return t + rng_below(3);                /* burst */
    case 3: case 4: case 5: case 6:
        return t + pace / 2 + rng_below(pace);  /* near the limit */
    case 7: case 8:
        return t + rng_below(4 * pace + 1);     /* a bit slower */
    default:
        if (rng_below(limit) == 0)
            return t + period + rng_below(period);      /* long gap */
        return t + rng_below(20 * pace + 1);
    }
}

/* A simulation: N, P, events, and for bucket mode the slot width. */
typedef struct sim_case {
    const char *name;
    uint32_t    limit;
    uint64_t    period;
    size_t      events;
    uint64_t    seed;
} SIM_CASE;

/*
 * sim_run - drive one state with generated events (with refunds of recent
 * events and clock steps), checking it against the reference at every
 * step; returns the largest early refusal (bucket wait - exact wait).
 */
static uint64_t sim_run(const SIM_CASE *c, uint64_t *refused_out, uint64_t *early_sum)
{
    RATE_LIMITER_STATE *st = lt_new(c->limit, c->period);
    REF ref = {0};
    uint64_t t = 1000, now = 0, wait, ref_wait, max_early = 0, refused = 0, phase_left = 0;
    uint64_t w = RATE_LIMITER_SLOT_MS(c->period), recent[16];
    size_t i, first, cnt, nrecent = 0;
    uint32_t count;
    int exact = c->limit <= RATE_LIMITER_EXACT_MAX, phase = 0, ok;

    rng_state = c->seed;
    for (i = 0; i < c->events; i++) {
        t = sim_next_time(t, c->limit, c->period, &phase, &phase_left);
        if (nrecent > 0 && rng_below(20) == 0) {
            size_t k = rng_below(nrecent);

            /* Both forget an event that has left the window. */
            rate_limiter_refund(st, recent[k]);
            (void) ref_remove(&ref, recent[k]);
            recent[k] = recent[--nrecent];
            continue;
        }
        now = t > now ? t : now;        /* the limiter's clock rule */
        ok = rate_limiter_check(st, t, &count, &wait);
        cnt = ref_window(&ref, now, c->period, &first);
        ref_wait = cnt >= c->limit ? ref.t[first + cnt - c->limit] + c->period - now : 0;
        if (exact) {
            if (ok != (cnt < c->limit) || count != cnt || (!ok && wait != ref_wait))
                fail_msg("sim %s: event %zu at %llu: limiter %d count %u wait %llu, "
                         "reference count %zu wait %llu", c->name, i, (unsigned long long) now,
                         ok, count, (unsigned long long) wait, cnt,
                         (unsigned long long) ref_wait);
        } else {
            if (count < cnt)
                fail_msg("sim %s: event %zu at %llu: counted %u < %zu in the window", c->name,
                         i, (unsigned long long) now, count, cnt);
            if (ok && cnt >= c->limit)
                fail_msg("sim %s: event %zu at %llu: allowed with %zu in the window", c->name,
                         i, (unsigned long long) now, cnt);
            if (!ok) {
                if (wait < ref_wait || wait - ref_wait > w - 1)
                    fail_msg("sim %s: event %zu at %llu: wait %llu, exact wait %llu, w %llu",
                             c->name, i, (unsigned long long) now, (unsigned long long) wait,
                             (unsigned long long) ref_wait, (unsigned long long) w);
                if (wait - ref_wait > max_early)
                    max_early = wait - ref_wait;
                *early_sum += wait - ref_wait;
                refused++;
            }
        }
        if (ok) {
            rate_limiter_charge(st, t);
            ref_add(&ref, now);
            if (nrecent < 16)
                recent[nrecent++] = now;
            else
                recent[rng_below(16)] = now;
        }
    }
    /* Every window of length P over the accepted events holds at most N. */
    for (i = 0, first = 0; i < ref.n; i++) {
        while (ref.t[first] + c->period <= ref.t[i])
            first++;
        if (i - first + 1 > c->limit)
            fail_msg("sim %s: %zu accepted in the window ending at %llu", c->name,
                     i - first + 1, (unsigned long long) ref.t[i]);
    }
    if (ref.n < c->limit)
        fail_msg("sim %s: only %zu accepted: the simulation never reached the limit", c->name,
                 ref.n);
    free(ref.t);
    free(st);
    *refused_out = refused;
    return max_early;
}

static const SIM_CASE sim_cases[] = {
    {"sim-exact-n1", 1, 1000, 200000, 1},
    {"sim-exact-n2", 2, 1000, 200000, 2},
    {"sim-exact-n7", 7, 60000, 200000, 3},
    {"sim-exact-n100", 100, 3600000, 300000, 4},
    {"sim-exact-n256", 256, 1000, 300000, 5},
    {"sim-bucket-n257", 257, 255000, 400000, 6},
    {"sim-bucket-n1000-1h", 1000, 3600000, 600000, 7},
    {"sim-bucket-n5000-1m", 5000, 60000, 600000, 8},
    {"sim-bucket-n100000-1d", 100000, 86400000, 5000000, 9},
};

/* test_sim - one simulation; bucket mode prints the measured early refusal */
static void test_sim(void **state)
{
    const SIM_CASE *c = *state;
    uint64_t refused = 0, early_sum = 0, max_early = sim_run(c, &refused, &early_sum);
    uint64_t w = RATE_LIMITER_SLOT_MS(c->period);

    if (c->limit > RATE_LIMITER_EXACT_MAX) {
        print_message("%s: w=%llu ms, %llu refusals, early refusal max %llu ms (bound w-1 = "
                      "%llu), mean %.1f ms\n", c->name, (unsigned long long) w,
                      (unsigned long long) refused, (unsigned long long) max_early,
                      (unsigned long long) (w - 1),
                      refused ? (double) early_sum / (double) refused : 0.0);
        if (refused == 0)
            fail_msg("sim %s: no refusal: the simulation tests nothing", c->name);
    }
}

/* ---- conversion simulations ---- */

typedef struct conv_case {
    const char *name;
    uint32_t    na;
    uint64_t    pa;
    uint32_t    nb;
    uint64_t    pb;
    uint64_t    seed;
} CONV_CASE;

static const CONV_CASE conv_cases[] = {
    {"conv-same-exact", 5, 10000, 5, 10000, 11},
    {"conv-same-bucket", 400, 255000, 400, 255000, 12},
    {"conv-same-bucket-1d", 100000, 86400000, 100000, 86400000, 13},
    {"conv-exact-n-down", 10, 10000, 3, 10000, 14},
    {"conv-exact-n-up", 3, 10000, 10, 10000, 15},
    {"conv-exact-p-down", 10, 60000, 10, 7000, 16},
    {"conv-exact-p-up", 10, 7000, 10, 60000, 17},
    {"conv-exact-to-bucket", 200, 60000, 1000, 60000, 18},
    {"conv-bucket-to-exact", 1000, 60000, 200, 60000, 19},
    {"conv-bucket-p-down", 2000, 3600000, 2000, 600000, 20},
    {"conv-bucket-p-up", 2000, 600000, 2000, 3600000, 21},
    {"conv-bucket-n-down-p-up", 5000, 600000, 300, 86400000, 22},
    {"conv-exact-n1-to-bucket", 1, 1000, 100000, 86400000, 23},
};

/*
 * test_conv - run events under rule A, convert at a random time to rule B,
 * go on. The same N and P: every later decision equals an unconverted
 * copy's. Otherwise every event accepted after the conversion at t has
 * fewer than N_B accepted events in (t - P_B, t] that the old state could
 * know of (those after T - P_A), i.e. dst never lets more through.
 */
static void test_conv(void **state)
{
    const CONV_CASE *c = *state;
    RATE_LIMITER_STATE *st = lt_new(c->na, c->pa), *copy = NULL, *dst;
    REF ref = {0};
    uint64_t t = 1000, now = 0, conv_at, horizon = 0, wait, wait2, phase_left = 0;
    size_t i, first, events = 200000, switched = 0, lo = 0;
    uint32_t count, count2;
    int phase = 0, ok, ok2, same = c->na == c->nb && c->pa == c->pb;

    rng_state = c->seed;
    conv_at = 0;
    for (i = 0; i < events; i++) {
        uint32_t lim = switched ? c->nb : c->na;
        uint64_t per = switched ? c->pb : c->pa;

        t = sim_next_time(t, lim, per, &phase, &phase_left);
        now = t > now ? t : now;
        if (!switched && i == events / 2) {
            conv_at = now;
            dst = xmalloc(rate_limiter_size(c->nb));
            rate_limiter_convert(st, dst, c->nb, c->pb, now);
            if (same) {
                copy = st;
            } else {
                free(st);
            }
            st = dst;
            horizon = now >= c->pa ? now - c->pa : 0;  /* older events: forgotten */
            switched = ref.n;
            for (lo = 0; lo < ref.n && ref.t[lo] <= horizon && now >= c->pa; lo++)
                /* void */ ;
            continue;
        }
        ok = rate_limiter_check(st, t, &count, &wait);
        if (copy != NULL) {
            ok2 = rate_limiter_check(copy, t, &count2, &wait2);
            if (ok != ok2 || count != count2 || (!ok && wait != wait2))
                fail_msg("conv %s: event %zu at %llu: converted %d/%u/%llu, original "
                         "%d/%u/%llu", c->name, i, (unsigned long long) now, ok, count,
                         (unsigned long long) wait, ok2, count2, (unsigned long long) wait2);
        }
        if (ok) {
            rate_limiter_charge(st, t);
            if (copy != NULL)
                rate_limiter_charge(copy, t);
            ref_add(&ref, now);
        }
    }
    assert_true(switched > 0 && conv_at > 0);
    /* The property, over the accepted events after the conversion. */
    for (i = switched, first = lo; i < ref.n; i++) {
        while (first < i && ref.t[first] + c->pb <= ref.t[i])
            first++;
        if (i - first + 1 > c->nb)
            fail_msg("conv %s: %zu accepted in the new window ending at %llu (converted at "
                     "%llu)", c->name, i - first + 1, (unsigned long long) ref.t[i],
                     (unsigned long long) conv_at);
    }
    free(ref.t);
    free(st);
    free(copy);
}

int main(void)
{
    static const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_sizes),
    };
    int rc = 0;

    lt_load_file();
    rc |= run_table("rate_limiter_cases.txt", lt_run_case, file_cases, sizeof(*file_cases),
                    file_ncases);
    rc |= RUN("limiter idle", lt_run_case, idle_cases);
    rc |= RUN("limiter convert", lt_run_case, convert_cases);
    rc |= cmocka_run_group_tests_name("limiter sizes", misc, NULL, NULL);
    rc |= RUN("limiter simulations", test_sim, sim_cases);
    rc |= RUN("limiter conversions", test_conv, conv_cases);
    for (size_t i = 0; i < file_ncases; i++) {
        free(file_names[i]);
        free(file_ops[i]);
    }
    free(file_cases);
    return rc ? 1 : 0;
}

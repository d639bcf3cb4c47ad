/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_store_mem.c - the embedded rate store: rate state in the txmilter process
 *
 * SYNOPSIS
 *	#include "rate_store_mem.h"
 *
 *	RATE_STORE *rate_store_mem_new(size_t max_keys, uint64_t (*clock_ms)(void))
 *	size_t	rate_store_mem_keys(RATE_STORE *s)
 *
 *	and, through s->ops (rate_store.h):
 *	decide(s, items, n, res, &accepted, &stamp), refund(s, items, n, stamp),
 *	peek(s, item, res), reset(s, key), free(s)
 *
 * DESCRIPTION
 *	rate_store_mem_new() makes an empty store that keeps one rate_limiter.h state
 *	per rate key (the item's key string, which names its rule), in a
 *	hash table with a secret random seed (recipients come from outside:
 *	no hash flooding). clock_ms is the clock in milliseconds; NULL means
 *	CLOCK_REALTIME. One mutex guards the table, so a decide() over all the
 *	rules of one recipient is atomic for libmilter's worker threads; the
 *	work under the lock is a few hash look-ups and ring updates.
 *
 *	decide() finds or makes the state of every item (a state built for
 *	another N or P, after a policy reload, is carried over with
 *	rate_limiter_convert()), checks each with rate_limiter_check() at now, and if
 *	no non-shadow item refuses, charges every item (shadow ones too) with
 *	one stamp: now, or the newest event of any of the keys when the clock
 *	went backwards, so that a refund at the stamp finds every charge.
 *	The stamp is 0 when nothing was charged.
 *
 *	refund() gives back one event at stamp on each item's key that still
 *	exists (rate_limiter_refund()); peek() reports count and wait for one item
 *	without charging (a key never seen: allowed, count 0); reset() drops
 *	one key. Keys are C strings: any bytes but NUL, at most RATE_STORE_KEY_MAX.
 *
 *	Memory is bounded: at most max_keys states (raised to RATE_STORE_ITEMS_MAX if
 *	smaller, so that one call always fits), each at most rate_limiter_size(N).
 *	Every decide() sweeps a few hash buckets, dropping idle states
 *	(nothing left in their window, and no later time seen); a full table is swept whole (at most once a
 *	second), and if no state is idle the least recently used one is
 *	dropped: that key starts afresh (logged, at most once a minute, with
 *	the number of such drops).
 *
 *	rate_store_mem_keys() returns the number of states held.
 *
 * DIAGNOSTICS
 *	decide(), refund() and peek() return RATE_STORE_UNAVAILABLE, and log the
 *	caller's bug, for a NULL item rule, a limit of 0, or more than
 *	RATE_STORE_ITEMS_MAX items; otherwise RATE_STORE_OK.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rate_limiter.h"
#include "rate_store_mem.h"
#include "util.h"

#define MEM_SWEEP_STEP      16          /* buckets swept by every call */
#define MEM_FULL_SWEEP_MS   1000        /* full sweeps when full: at most this often */
#define MEM_EVICT_LOG_MS    60000       /* "store full" log line: at most this often */

typedef struct mem_ent {
    struct mem_ent *hnext;              /* hash chain */
    struct mem_ent *prev, *next;        /* LRU list; lru.next is the newest */
    RATE_LIMITER_STATE *st;
    uint64_t pin;                       /* serial of the call using it */
    uint64_t hash;
    char     key[];                     /* NUL-terminated */
} MEM_ENT;

typedef struct rate_store_mem {
    RATE_STORE store;
    pthread_mutex_t lock;
    uint64_t (*clock_ms)(void);
    MEM_ENT **tab;
    size_t   mask;                      /* buckets - 1 (a power of two) */
    size_t   nkeys, max_keys;
    MEM_ENT  lru;                       /* list head */
    size_t   sweep_pos;
    uint64_t serial;
    uint64_t last_full_sweep;
    uint64_t evicted, evicted_logged, last_evict_log;
    uint64_t k0, k1;                    /* hash seed */
} RATE_STORE_MEM;

/* mem_realtime - CLOCK_REALTIME in milliseconds */
static uint64_t mem_realtime(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

#define MEM_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define MEM_SIPROUND(v0, v1, v2, v3) do { \
    v0 += v1; v1 = MEM_ROTL(v1, 13); v1 ^= v0; v0 = MEM_ROTL(v0, 32); \
    v2 += v3; v3 = MEM_ROTL(v3, 16); v3 ^= v2; \
    v0 += v3; v3 = MEM_ROTL(v3, 21); v3 ^= v0; \
    v2 += v1; v1 = MEM_ROTL(v1, 17); v1 ^= v2; v2 = MEM_ROTL(v2, 32); \
} while (0)

/* mem_hash - SipHash-2-4 of a key with the store's secret seed */
static uint64_t mem_hash(const RATE_STORE_MEM *m, const char *key, size_t len)
{
    uint64_t v0 = m->k0 ^ 0x736f6d6570736575ULL, v1 = m->k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = m->k0 ^ 0x6c7967656e657261ULL, v3 = m->k1 ^ 0x7465646279746573ULL;
    const unsigned char *p = (const unsigned char *) key;
    uint64_t b = (uint64_t) len << 56, w;
    size_t i, j;

    for (i = 0; i + 8 <= len; i += 8) {
        for (w = 0, j = 0; j < 8; j++)
            w |= (uint64_t) p[i + j] << (8 * j);
        v3 ^= w;
        MEM_SIPROUND(v0, v1, v2, v3);
        MEM_SIPROUND(v0, v1, v2, v3);
        v0 ^= w;
    }
    for (j = 0; i + j < len; j++)
        b |= (uint64_t) p[i + j] << (8 * j);
    v3 ^= b;
    MEM_SIPROUND(v0, v1, v2, v3);
    MEM_SIPROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (j = 0; j < 4; j++)
        MEM_SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

/* mem_lru_unlink - take an entry off the LRU list */
static void mem_lru_unlink(MEM_ENT *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

/* mem_lru_front - make an entry the most recently used */
static void mem_lru_front(RATE_STORE_MEM *m, MEM_ENT *e)
{
    e->prev = &m->lru;
    e->next = m->lru.next;
    m->lru.next->prev = e;
    m->lru.next = e;
}

/* mem_lookup - the entry for key, or NULL */
static MEM_ENT *mem_lookup(RATE_STORE_MEM *m, const char *key, size_t len, uint64_t h)
{
    MEM_ENT *e;

    for (e = m->tab[h & m->mask]; e; e = e->hnext)
        if (e->hash == h && strncmp(e->key, key, len + 1) == 0)
            return e;
    return NULL;
}

/* mem_drop - unlink and free one entry */
static void mem_drop(RATE_STORE_MEM *m, MEM_ENT *e)
{
    MEM_ENT **pp;

    for (pp = &m->tab[e->hash & m->mask]; *pp != e; pp = &(*pp)->hnext)
        /* void */ ;
    *pp = e->hnext;
    mem_lru_unlink(e);
    free(e->st);
    free(e);
    m->nkeys--;
}

/* mem_sweep_bucket - drop the idle, unpinned states of one bucket */
static void mem_sweep_bucket(RATE_STORE_MEM *m, size_t b, uint64_t now)
{
    MEM_ENT *e = m->tab[b], *next;

    for (; e; e = next) {
        next = e->hnext;
        /* A state that saw a later time than now (the clock went back)
         * is kept: a fresh one would not stand still at that time. */
        if (e->pin != m->serial && e->st->last_ms <= now && rate_limiter_idle(e->st, now))
            mem_drop(m, e);
    }
}

/* mem_sweep - the incremental sweep done by every call */
static void mem_sweep(RATE_STORE_MEM *m, uint64_t now)
{
    int i;

    for (i = 0; i < MEM_SWEEP_STEP; i++) {
        mem_sweep_bucket(m, m->sweep_pos, now);
        m->sweep_pos = (m->sweep_pos + 1) & m->mask;
    }
}

/* mem_make_room - free one slot in a full table: idle states, else the LRU one */
static void mem_make_room(RATE_STORE_MEM *m, uint64_t now)
{
    MEM_ENT *e;
    size_t b;

    if (now >= m->last_full_sweep + MEM_FULL_SWEEP_MS || now < m->last_full_sweep) {
        m->last_full_sweep = now;
        for (b = 0; b <= m->mask; b++)
            mem_sweep_bucket(m, b, now);
        if (m->nkeys < m->max_keys)
            return;
    }
    for (e = m->lru.prev; e != &m->lru; e = e->prev) {
        if (e->pin != m->serial) {
            mem_drop(m, e);
            m->evicted++;
            break;
        }
    }
    if (m->evicted > m->evicted_logged
        && (now >= m->last_evict_log + MEM_EVICT_LOG_MS || now < m->last_evict_log)) {
        log_warn("embedded rate store full (%zu keys): dropped the state of %llu active keys "
                 "so far; those keys start afresh", m->max_keys,
                 (unsigned long long) m->evicted);
        m->evicted_logged = m->evicted;
        m->last_evict_log = now;
    }
}

/* mem_state_for - bring an entry's state to the rule's N and P */
static void mem_state_for(MEM_ENT *e, const RATE_RULE *r, uint64_t now)
{
    RATE_LIMITER_STATE *st;

    if (e->st->limit == r->limit && e->st->period_ms == r->period_ms)
        return;
    st = xmalloc(rate_limiter_size(r->limit));
    rate_limiter_convert(e->st, st, r->limit, r->period_ms, now);
    free(e->st);
    e->st = st;
}

/* mem_get - the entry for an item, made (and pinned) if new */
static MEM_ENT *mem_get(RATE_STORE_MEM *m, const RATE_STORE_ITEM *it, uint64_t now)
{
    size_t len = strnlen(it->key, RATE_STORE_KEY_MAX - 1);
    uint64_t h = mem_hash(m, it->key, len);
    MEM_ENT *e = mem_lookup(m, it->key, len, h);

    if (e == NULL) {
        if (m->nkeys >= m->max_keys)
            mem_make_room(m, now);
        e = xmalloc(sizeof(*e) + len + 1);
        memcpy(e->key, it->key, len);
        e->key[len] = 0;
        e->hash = h;
        e->st = xmalloc(rate_limiter_size(it->rule->limit));
        rate_limiter_init(e->st, it->rule->limit, it->rule->period_ms);
        e->hnext = m->tab[h & m->mask];
        m->tab[h & m->mask] = e;
        m->nkeys++;
    } else {
        mem_lru_unlink(e);
        mem_state_for(e, it->rule, now);
    }
    mem_lru_front(m, e);
    e->pin = m->serial;
    return e;
}

/* mem_bad_items - 1 (logged) if the caller passed items no store accepts */
static int mem_bad_items(const RATE_STORE_ITEM *items, size_t n, const char *fn)
{
    size_t i;

    if (n > RATE_STORE_ITEMS_MAX) {
        log_err("embedded rate store: %s: %zu items, at most %d", fn, n, RATE_STORE_ITEMS_MAX);
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (items[i].rule == NULL || items[i].rule->limit == 0) {
            log_err("embedded rate store: %s: item %zu has no rule or a limit of 0", fn, i);
            return 1;
        }
    }
    return 0;
}

/* mem_decide - check every item, charge all if no enforcing rule refuses */
static RATE_STORE_STATUS mem_decide(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                    RATE_STORE_RESULT *res, int *accepted, uint64_t *stamp_ms)
{
    RATE_STORE_MEM *m = (RATE_STORE_MEM *) s;
    MEM_ENT *ent[RATE_STORE_ITEMS_MAX];
    uint64_t now, stamp;
    size_t i;
    int ok = 1;

    if (mem_bad_items(items, n, "decide"))
        return RATE_STORE_UNAVAILABLE;
    if (pthread_mutex_lock(&m->lock) != 0)
        log_fatal("embedded rate store: cannot lock");
    now = m->clock_ms();
    m->serial++;
    mem_sweep(m, now);
    stamp = now;
    for (i = 0; i < n; i++) {
        ent[i] = mem_get(m, &items[i], now);
        if (ent[i]->st->last_ms > stamp)
            stamp = ent[i]->st->last_ms;
    }
    for (i = 0; i < n; i++) {
        res[i].allowed = rate_limiter_check(ent[i]->st, now, &res[i].count, &res[i].wait_ms);
        if (res[i].allowed)
            res[i].wait_ms = 0;
        else if (!items[i].rule->shadow)
            ok = 0;
    }
    if (ok)
        for (i = 0; i < n; i++)
            rate_limiter_charge(ent[i]->st, stamp);
    pthread_mutex_unlock(&m->lock);
    *accepted = ok;
    *stamp_ms = ok ? stamp : 0;
    return RATE_STORE_OK;
}

/* mem_refund - give back the events charged at stamp */
static RATE_STORE_STATUS mem_refund(RATE_STORE *s, const RATE_STORE_ITEM *items, size_t n,
                                    uint64_t stamp_ms)
{
    RATE_STORE_MEM *m = (RATE_STORE_MEM *) s;
    size_t i, len;
    MEM_ENT *e;

    if (mem_bad_items(items, n, "refund"))
        return RATE_STORE_UNAVAILABLE;
    if (pthread_mutex_lock(&m->lock) != 0)
        log_fatal("embedded rate store: cannot lock");
    for (i = 0; i < n; i++) {
        len = strnlen(items[i].key, RATE_STORE_KEY_MAX - 1);
        if ((e = mem_lookup(m, items[i].key, len, mem_hash(m, items[i].key, len))) != NULL)
            rate_limiter_refund(e->st, stamp_ms);
    }
    pthread_mutex_unlock(&m->lock);
    return RATE_STORE_OK;
}

/* mem_peek - count and wait of one item, charging nothing */
static RATE_STORE_STATUS mem_peek(RATE_STORE *s, const RATE_STORE_ITEM *item,
                                  RATE_STORE_RESULT *res)
{
    RATE_STORE_MEM *m = (RATE_STORE_MEM *) s;
    size_t len;
    uint64_t now;
    MEM_ENT *e;

    if (mem_bad_items(item, 1, "peek"))
        return RATE_STORE_UNAVAILABLE;
    len = strnlen(item->key, RATE_STORE_KEY_MAX - 1);
    if (pthread_mutex_lock(&m->lock) != 0)
        log_fatal("embedded rate store: cannot lock");
    now = m->clock_ms();
    if ((e = mem_lookup(m, item->key, len, mem_hash(m, item->key, len))) != NULL) {
        mem_state_for(e, item->rule, now);
        res->allowed = rate_limiter_check(e->st, now, &res->count, &res->wait_ms);
        if (res->allowed)
            res->wait_ms = 0;
    } else {
        res->allowed = 1;
        res->count = 0;
        res->wait_ms = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return RATE_STORE_OK;
}

/* mem_reset - forget one key */
static RATE_STORE_STATUS mem_reset(RATE_STORE *s, const char *key)
{
    RATE_STORE_MEM *m = (RATE_STORE_MEM *) s;
    size_t len = strnlen(key, RATE_STORE_KEY_MAX - 1);
    MEM_ENT *e;

    if (pthread_mutex_lock(&m->lock) != 0)
        log_fatal("embedded rate store: cannot lock");
    if ((e = mem_lookup(m, key, len, mem_hash(m, key, len))) != NULL)
        mem_drop(m, e);
    pthread_mutex_unlock(&m->lock);
    return RATE_STORE_OK;
}

/* mem_free - destroy the store and every state */
static void mem_free(RATE_STORE *s)
{
    RATE_STORE_MEM *m = (RATE_STORE_MEM *) s;

    if (m == NULL)
        return;
    while (m->lru.next != &m->lru)
        mem_drop(m, m->lru.next);
    pthread_mutex_destroy(&m->lock);
    free(m->tab);
    free(m);
}

static const RATE_STORE_OPS mem_ops = {
    mem_decide, mem_refund, mem_peek, mem_reset, mem_free, "embedded", NULL,
};

/* rate_store_mem_new - an empty embedded store */
RATE_STORE *rate_store_mem_new(size_t max_keys, uint64_t (*clock_ms)(void))
{
    RATE_STORE_MEM *m = xcalloc(1, sizeof(*m));
    uint64_t seed[2];
    size_t nb = 16;

    if (max_keys < RATE_STORE_ITEMS_MAX)
        max_keys = RATE_STORE_ITEMS_MAX;
    while (nb < max_keys && nb < ((size_t) 1 << 24))
        nb <<= 1;
    m->store.ops = &mem_ops;
    m->clock_ms = clock_ms ? clock_ms : mem_realtime;
    m->tab = xcalloc(nb, sizeof(*m->tab));
    m->mask = nb - 1;
    m->max_keys = max_keys;
    m->lru.next = m->lru.prev = &m->lru;
    if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t) sizeof(seed)) {
        seed[0] = mem_realtime() ^ ((uint64_t) getpid() << 32);
        seed[1] = (uint64_t) (uintptr_t) m ^ 0x9e3779b97f4a7c15ULL;
    }
    m->k0 = seed[0];
    m->k1 = seed[1];
    if (pthread_mutex_init(&m->lock, NULL) != 0)
        log_fatal("embedded rate store: cannot make a mutex");
    return &m->store;
}

/* rate_store_mem_keys - number of states held */
size_t rate_store_mem_keys(RATE_STORE *s)
{
    RATE_STORE_MEM *m = (RATE_STORE_MEM *) s;
    size_t n;

    if (pthread_mutex_lock(&m->lock) != 0)
        log_fatal("embedded rate store: cannot lock");
    n = m->nkeys;
    pthread_mutex_unlock(&m->lock);
    return n;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pfcache.c - TTL-bounded cache of preflight facts
 *
 * SYNOPSIS
 *	#include "pfcache.h"
 *
 *	int	pfcache_get(const char *key, void *val, size_t size)
 *	void	pfcache_put(const char *key, const void *val, size_t size,
 *			unsigned ttl)
 *	void	pfcache_clear(void)
 *
 * DESCRIPTION
 *	A hash table of at most PFCACHE_MAX entries under one mutex. Values
 *	are plain structs copied in and out, so a caller never holds a
 *	pointer into the cache. An entry lives until its TTL (taken from the
 *	DNS answers behind it, and capped by the caller) runs out on the
 *	monotonic clock. When the table is full, expired entries are dropped;
 *	if none are, the whole table is emptied (simple, and bounded: the
 *	next messages rebuild what they need from libunbound's own cache).
 *
 * DIAGNOSTICS
 *	None: a full table drops its expired entries, or is emptied when
 *	none are; allocation failure is fatal.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pfcache.h"
#include "util.h"

#define PFCACHE_BUCKETS 1024
#define PFCACHE_MAX     8192

typedef struct pfcache_ent PFCACHE_ENT;

struct pfcache_ent {
    char        *key;
    void        *val;
    size_t       size;
    time_t       expires;
    PFCACHE_ENT *next;
};

static pthread_mutex_t pfcache_lock = PTHREAD_MUTEX_INITIALIZER;
static PFCACHE_ENT *pfcache_tab[PFCACHE_BUCKETS];
static size_t pfcache_n;
static unsigned long pfcache_hits, pfcache_misses;

/* pfcache_now - seconds on the monotonic clock */
static time_t pfcache_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* pfcache_hash - FNV-1a */
static size_t pfcache_hash(const char *key)
{
    unsigned long h = 2166136261UL;

    for (; *key; key++)
        h = (h ^ (unsigned char) *key) * 16777619UL;
    return (size_t) (h % PFCACHE_BUCKETS);
}

static void pfcache_free_ent(PFCACHE_ENT *e)
{
    free(e->key);
    free(e->val);
    free(e);
}

/* pfcache_prune - drop expired entries (all of them if all is set); locked */
static void pfcache_prune(time_t now, int all)
{
    for (size_t b = 0; b < PFCACHE_BUCKETS; b++) {
        PFCACHE_ENT **pp = &pfcache_tab[b], *e;

        while ((e = *pp) != NULL) {
            if (all || e->expires <= now) {
                *pp = e->next;
                pfcache_free_ent(e);
                pfcache_n--;
            } else {
                pp = &e->next;
            }
        }
    }
}

int pfcache_get(const char *key, void *val, size_t size)
{
    time_t now = pfcache_now();
    int found = 0;

    pthread_mutex_lock(&pfcache_lock);
    for (PFCACHE_ENT *e = pfcache_tab[pfcache_hash(key)]; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            if (e->expires > now && e->size == size) {
                memcpy(val, e->val, size);
                found = 1;
            }
            break;
        }
    }
    if (found)
        pfcache_hits++;
    else
        pfcache_misses++;
    pthread_mutex_unlock(&pfcache_lock);
    return found;
}

void pfcache_put(const char *key, const void *val, size_t size, unsigned ttl)
{
    time_t now;
    size_t b = pfcache_hash(key);
    PFCACHE_ENT *e;

    if (ttl == 0)
        return;
    now = pfcache_now();
    pthread_mutex_lock(&pfcache_lock);
    for (e = pfcache_tab[b]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            break;
    if (e == NULL) {
        if (pfcache_n >= PFCACHE_MAX) {
            pfcache_prune(now, 0);
            if (pfcache_n >= PFCACHE_MAX)
                pfcache_prune(now, 1);
        }
        e = xcalloc(1, sizeof(*e));
        e->key = xstrdup(key);
        e->next = pfcache_tab[b];
        pfcache_tab[b] = e;
        pfcache_n++;
    }
    free(e->val);
    e->val = xmalloc(size);
    memcpy(e->val, val, size);
    e->size = size;
    e->expires = now + (time_t) ttl;
    pthread_mutex_unlock(&pfcache_lock);
}

void pfcache_clear(void)
{
    pthread_mutex_lock(&pfcache_lock);
    pfcache_prune(0, 1);
    pthread_mutex_unlock(&pfcache_lock);
}

void pfcache_stats(unsigned long *hits, unsigned long *misses)
{
    pthread_mutex_lock(&pfcache_lock);
    *hits = pfcache_hits;
    *misses = pfcache_misses;
    pthread_mutex_unlock(&pfcache_lock);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pfcache.h - a small process-wide cache of preflight results (DMARC
 * discovery, published-key checks, SPF results), each kept no longer
 * than the TTLs of the DNS answers it was made from.
 */
#ifndef TX_PFCACHE_H
#define TX_PFCACHE_H

#include <stddef.h>

/* pfcache_get - copy the value stored under key into val (exactly size
 * bytes); 1 if a fresh value was found, 0 otherwise. */
int pfcache_get(const char *key, void *val, size_t size);

/* pfcache_put - store size bytes of val under key for ttl seconds
 * (nothing is stored when ttl is 0). */
void pfcache_put(const char *key, const void *val, size_t size, unsigned ttl);

/* pfcache_clear - forget everything (at exit, and in tests) */
void pfcache_clear(void);

/* pfcache_stats - lookups that found a value, and that did not */
void pfcache_stats(unsigned long *hits, unsigned long *misses);

#endif

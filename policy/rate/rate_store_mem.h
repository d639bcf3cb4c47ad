/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_store_mem.h - the embedded rate store: state in the txmilter process,
 * safe for libmilter's worker threads, bounded in memory.
 */
#ifndef TX_RATE_STORE_MEM_H
#define TX_RATE_STORE_MEM_H

#include <stdint.h>

#include "rate_store.h"

/* rate_store_mem_new - an embedded store holding at most max_keys keys; idle
 * keys (nothing inside their window) are dropped first when it is full,
 * and swept periodically. clock_ms may be NULL (CLOCK_REALTIME in ms) or
 * a test clock. */
RATE_STORE *rate_store_mem_new(size_t max_keys, uint64_t (*clock_ms)(void));

/* rate_store_mem_keys - how many keys are held (for tests and txmilterctl) */
size_t rate_store_mem_keys(RATE_STORE *s);

#endif

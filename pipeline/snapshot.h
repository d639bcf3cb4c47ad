/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * snapshot.h - everything read-only that a message needs: configuration,
 * InternalHosts, MTA names, key tables, loaded keys, the libopendkim
 * handle. Built and validated completely before use, then shared by
 * reference; a reload builds a new one and swaps it in atomically.
 */
#ifndef TX_SNAPSHOT_H
#define TX_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>

#include <opendkim/dkim.h>

#include "conf.h"
#include "keys.h"
#include "keytable.h"
#include "addr_norm.h"
#include "netlist.h"
#include "rate_policy.h"
#include "unsub_token.h"
#include "util.h"

typedef struct snapshot_keycache SNAPSHOT_KEYCACHE;

typedef struct snapshot {
    atomic_int      refs;
    unsigned long   generation;
    TXCONF           *cf;
    NETLIST        *internal;
    STRV            mta;            /* {daemon_name} values that mean outbound */
    KEYTABLE       *kt;
    KEYS_KEY      **keys;           /* per KeyTable entry; NULL for '%' paths */
    size_t          nkeys;
    DKIM_LIB       *dkim;
    RATE_POLICY    *policy;         /* RateLimitPolicy; NULL: no rate limits */
    ADDR_NORM_OPTS  norm;           /* how recipients are normalised for it */
    UNSUB_KEYS     *unsub_keys;     /* UnsubscribeKeyFile; NULL: none */
    STRV            unsub_exempt;   /* UnsubscribeExempt patterns */
    STRV            rp_exempt;      /* ReturnPathExempt patterns (lowercase) */
    struct unsub_routes *unsub_routes; /* UnsubscribeTable; NULL: none */
    pthread_mutex_t cache_lock;     /* guards the '%' key cache */
    SNAPSHOT_KEYCACHE *cache;
} SNAPSHOT;

/* snapshot_build - read the configuration file and everything it names;
 * NULL with "file:line: message" lines in errs if anything is wrong. */
SNAPSHOT *snapshot_build(const char *path, BUF *errs);

/* snapshot_build_all - the same for every program's directives (txmilter
 * -n), but an incomplete snapshot (members of
 * failed stages NULL) is returned with *bad set, for txmilter -n to check
 * further; NULL only when the file cannot be read. Release it with
 * snapshot_release(); never install it. */
SNAPSHOT *snapshot_build_all(const char *path, BUF *errs, int *bad);

/* snapshot_install - make snap the current snapshot; the previous one is
 * freed when its last user releases it. */
void snapshot_install(SNAPSHOT *snap);

/* snapshot_acquire - a reference to the current snapshot (NULL if none). */
SNAPSHOT *snapshot_acquire(void);
void snapshot_release(SNAPSHOT *snap);

/* snapshot_key - the private key for a pick: preloaded, or for a KeyTable
 * path holding '%', read on first use and cached. NULL with err set. */
const KEYS_KEY *snapshot_key(SNAPSHOT *snap, const KEYTABLE_PICK *pick, BUF *err);

/* snapshot_shutdown - drop the current snapshot (at exit). */
void snapshot_shutdown(void);

#endif

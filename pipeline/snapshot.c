/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * snapshot.c - immutable configuration snapshots and their atomic swap.
 *
 * SYNOPSIS
 *	#include "snapshot.h"
 *
 *	SNAPSHOT * snapshot_build(const char *path, BUF *errs)
 *	void	snapshot_install(SNAPSHOT *snap)
 *	SNAPSHOT * snapshot_acquire(void)
 *	void	snapshot_release(SNAPSHOT *snap)
 *	void	snapshot_shutdown(void)
 *	const KEYS_KEY * snapshot_key(SNAPSHOT *snap, const KEYTABLE_PICK *pick,
 *			BUF *err)
 *
 * DESCRIPTION
 *	snapshot_build() parses the configuration, checks that every file it
 *	names is a regular file (conf_check_file(): a FIFO is refused with
 *	its file:line before anything tries to read it), builds InternalHosts,
 *	the MTA list and the key tables, loads every key file (refusing unsafe
 *	ones) and creates the libopendkim handle. A configuration without a
 *	signing key is refused unless it says "Signing no"; so is an
 *	UnsubscribeKeyFile that nothing uses (UnsubscribeURL,
 *	UnsubscribeMailto, ReturnPath or ComplaintAddress: the message names
 *	them all) and an UnsubscribeURL or UnsubscribeMailto without
 *	one. Any failure
 *	discards the whole snapshot: a reload never leaves a half-applied
 *	configuration.
 *
 *	Every stage runs even after an earlier one failed (only what needs
 *	the failed stage's result is skipped), so that all problems are
 *	reported at once; snapshot_build_all() hands the incomplete snapshot
 *	to txmilter -n for its further checks (conf_check.c). snapshot_build()
 *	reads the file as txmilter does (the directives of the other
 *	programs are skipped); snapshot_build_all() parses and checks every
 *	program's directives, so that -n finds every error of the file.
 *
 *	snapshot_install() swaps the global pointer under a mutex;
 *	snapshot_acquire() and snapshot_release() count references, so a
 *	message keeps the snapshot it started with until it ends.
 *
 *	snapshot_key() returns the key for a KeyTable pick. Keys whose path
 *	holds '%' depend on the From domain and cannot all be read at start;
 *	they are read on first use (as the unprivileged user) and cached in
 *	the snapshot, so a reload also re-reads them.
 *
 * DIAGNOSTICS
 *	snapshot_build() returns NULL with "file:line: message" lines in
 *	errs for every problem found. snapshot_key() returns NULL with the
 *	reason in err when a per-domain key file cannot be read.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <strings.h>

#include "dataset.h"
#include "dns_dkim.h"
#include "feedback_id.h"
#include "return_path.h"
#include "rate_store_redis.h"
#include "unsub_msg.h"
#include "log.h"
#include "preflight.h"
#include "sign.h"
#include "snapshot.h"

#define SNAPSHOT_CACHE_MAX 1024        /* '%' keys cached per snapshot */

struct snapshot_keycache {
    char              *path;
    KEYS_KEY          *key;
    SNAPSHOT_KEYCACHE *next;
};

static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;
static SNAPSHOT *snapshot_current;
static unsigned long snapshot_generation;

/* snapshot_free - release everything a snapshot owns */
static void snapshot_free(SNAPSHOT *s)
{
    SNAPSHOT_KEYCACHE *c, *next;

    if (s == NULL)
        return;
    for (c = s->cache; c; c = next) {
        next = c->next;
        keys_free(c->key);
        free(c->path);
        free(c);
    }
    for (size_t i = 0; i < s->nkeys; i++)
        keys_free(s->keys[i]);
    free(s->keys);
    sign_lib_free(s->dkim);
    rate_policy_free(s->policy);
    unsub_keys_free(s->unsub_keys);
    unsub_routes_free(s->unsub_routes);
    strv_free(&s->unsub_exempt);
    strv_free(&s->rp_exempt);
    keytable_free(s->kt);
    netlist_free(s->internal);
    strv_free(&s->mta);
    conf_free(s->cf);
    pthread_mutex_destroy(&s->cache_lock);
    free(s);
}

/* snapshot_check_keyfile - a key file is a regular file, blamed on the line naming it */
static int snapshot_check_keyfile(const TXCONF *cf, const KEYTABLE_KEY *k, BUF *errs)
{
    char why_mem[256];
    BUF why;

    if (cf->sign.keyfile && strcmp(k->keypath, cf->sign.keyfile) == 0)
        return conf_check_file(cf, "KeyFile", k->keypath, errs);
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if (util_check_file(k->keypath, &why) != UTIL_FILE_NOTREG)
        return 0;
    buf_printf(errs, "%s:%d: KeyTable key file %s: %s\n", k->file, k->line, k->keypath, why.data);
    return -1;
}

/* snapshot_check_files - every file the configuration names is a regular
 * file, before any reader opens one */
static int snapshot_check_files(const TXCONF *cf, BUF *errs)
{
    static const char *const datasets[] = {
        "InternalHosts", "MTA", "KeyTable", "SigningTable", "Domain",
        "UnsubscribeTable", "UnsubscribeExempt",
    };
    const char *const specs[] = {
        cf->outbound.internal_hosts, cf->outbound.mta, cf->sign.keytable, cf->sign.signingtable, cf->sign.domain,
        cf->unsub.table, cf->unsub.exempt,
    };
    int rc = 0;

    for (size_t i = 0; i < sizeof(datasets) / sizeof(datasets[0]); i++)
        if (conf_check_dataset(cf, datasets[i], specs[i], errs) < 0)
            rc = -1;
    if (conf_check_file(cf, "RateLimitPolicy", cf->rate.policy, errs) < 0)
        rc = -1;
    if (conf_check_file(cf, "UnsubscribeKeyFile", cf->unsub.keyfile, errs) < 0)
        rc = -1;
    return rc;
}

/* snapshot_load_keys - read every key that does not depend on the From domain */
static int snapshot_load_keys(SNAPSHOT *s, BUF *errs)
{
    size_t n, i;
    const KEYTABLE_KEY *k = keytable_keys(s->kt, &n);
    int ok = 1;

    s->keys = xcalloc(n ? n : 1, sizeof(KEYS_KEY *));
    s->nkeys = n;
    for (i = 0; i < n; i++) {
        if (k[i].keypath && strchr(k[i].keypath, '%'))
            continue;
        if (k[i].keypath) {
            if (snapshot_check_keyfile(s->cf, &k[i], errs) < 0) {
                ok = 0;
                continue;
            }
            s->keys[i] = keys_load_file(k[i].keypath, errs);
        } else {
            char origin[512];
            struct stat st;

            /* A KeyTable holding keys is a secret like a key file. */
            if (stat(k[i].file, &st) == 0 && (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH))) {
                buf_printf(errs, "%s:%d: the KeyTable holds a private key but is accessible by "
                           "group or others (mode %04o): chmod 600 it\n", k[i].file, k[i].line,
                           (unsigned) (st.st_mode & 07777));
                ok = 0;
                continue;
            }
            snprintf(origin, sizeof(origin), "%s:%d", k[i].file, k[i].line);
            s->keys[i] = keys_load_inline(k[i].inline_key, origin, errs);
        }
        if (s->keys[i] == NULL)
            ok = 0;
    }
    return ok ? 0 : -1;
}

/* snapshot_check_store - a Store URL that parses (nothing is connected) */
static int snapshot_check_store(const TXCONF *cf, BUF *errs)
{
    RATE_STORE_REDIS_OPTS o = {0, 0, 1, NULL};
    RATE_STORE *st;
    BUF err;
    char where[1024];

    if (strcasecmp(cf->rate.store, "embedded") == 0)
        return 0;
    buf_init(&err, 1024);
    if ((st = rate_store_redis_new(cf->rate.store, &o, &err)) == NULL) {
        conf_where(cf, "Store", where, sizeof(where));
        buf_printf(errs, "%s: Store: %s\n", where, err.data ? err.data : "bad URL");
        buf_free(&err);
        return -1;
    }
    st->ops->free(st);
    buf_free(&err);
    return 0;
}

/* snapshot_unsub_keyfile - UnsubscribeKeyFile set when, and only when, something uses its keys */
static int snapshot_unsub_keyfile(const TXCONF *cf, BUF *errs)
{
    const char *lister = cf->unsub.url ? "UnsubscribeURL" : cf->unsub.mailto ? "UnsubscribeMailto"
        : NULL;
    char where[1024];

    if (cf->unsub.keyfile == NULL && lister) {
        conf_where(cf, lister, where, sizeof(where));
        buf_printf(errs, "%s: %s needs UnsubscribeKeyFile: its tokens are sealed with those "
                   "keys\n", where, lister);
        return -1;
    }
    /* ReturnPath seals tokens of its own; ComplaintAddress opens those of mail already sent */
    if (cf->unsub.keyfile && lister == NULL && cf->bounce.return_path == NULL
        && cf->bounce.complaint_addrs.n == 0) {
        conf_where(cf, "UnsubscribeKeyFile", where, sizeof(where));
        buf_printf(errs, "%s: UnsubscribeKeyFile is set but nothing uses its keys: they seal and "
                   "open the tokens of UnsubscribeURL (https, one-click), UnsubscribeMailto (mail "
                   "only), ReturnPath (bounces) and ComplaintAddress (feedback reports): set one "
                   "of them, or remove it\n", where);
        return -1;
    }
    return 0;
}

/* snapshot_unsub - List-Unsubscribe keys and exemptions */
static int snapshot_unsub(SNAPSHOT *s, BUF *errs)
{
    char where[1024];

    if (snapshot_unsub_keyfile(s->cf, errs) < 0)
        return -1;
    if (s->cf->unsub.keyfile && (s->unsub_keys = unsub_keys_load(s->cf->unsub.keyfile, errs)) == NULL)
        return -1;
    if (s->cf->unsub.table) {
        conf_where(s->cf, "UnsubscribeTable", where, sizeof(where));
        if ((s->unsub_routes = unsub_routes_load(s->cf->unsub.table, where, errs)) == NULL)
            return -1;
    }
    if (s->cf->unsub.exempt) {
        DATASET *ds;

        conf_where(s->cf, "UnsubscribeExempt", where, sizeof(where));
        if ((ds = dataset_load(s->cf->unsub.exempt, where, errs)) == NULL)
            return -1;
        for (size_t i = 0; i < ds->n; i++) {
            char *lower = xstrdup(ds->ent[i].key);

            util_lower(lower);
            strv_add(&s->unsub_exempt, lower);
            free(lower);
        }
        dataset_free(ds);
    }
    return 0;
}

/* snapshot_bounce - the FeedbackID and ReturnPath templates, ReturnPathExempt */
static int snapshot_bounce(SNAPSHOT *s, BUF *errs)
{
    char where[1024], why_mem[128];
    int bad = 0;
    BUF why;

    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if (s->cf->bounce.feedback_id && feedback_id_check(s->cf->bounce.feedback_id, &why) != 0) {
        conf_where(s->cf, "FeedbackID", where, sizeof(where));
        buf_printf(errs, "%s: FeedbackID: bad template \"%s\": %s\n", where,
                   s->cf->bounce.feedback_id, why.data);
        bad = -1;
    }
    buf_reset(&why);
    if (s->cf->bounce.return_path && return_path_check(s->cf->bounce.return_path, &why) != 0) {
        conf_where(s->cf, "ReturnPath", where, sizeof(where));
        buf_printf(errs, "%s: ReturnPath: bad template \"%s\": %s\n", where,
                   s->cf->bounce.return_path, why.data);
        bad = -1;
    }
    if (s->cf->bounce.return_path_exempt) {
        DATASET *ds;

        conf_where(s->cf, "ReturnPathExempt", where, sizeof(where));
        if ((ds = dataset_load(s->cf->bounce.return_path_exempt, where, errs)) == NULL)
            return -1;
        for (size_t i = 0; i < ds->n; i++) {
            char *lower = xstrdup(ds->ent[i].key);

            util_lower(lower);
            strv_add(&s->rp_exempt, lower);
            free(lower);
        }
        dataset_free(ds);
    }
    return bad;
}

/* snapshot_build_prog - every stage, each reporting all it finds; the
 * file read for the programs in prog */
static SNAPSHOT *snapshot_build_prog(const char *path, unsigned prog, BUF *errs, int *bad)
{
    SNAPSHOT *s = xcalloc(1, sizeof(*s));
    char where[1024];
    int conf_bad = 0;

    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->cache_lock, NULL);
    strv_init(&s->mta);
    strv_init(&s->unsub_exempt);
    strv_init(&s->rp_exempt);
    *bad = 1;
    if ((s->cf = conf_load_all(path, prog, errs, &conf_bad)) == NULL) {
        snapshot_free(s);
        return NULL;
    }
    *bad = conf_bad;
    /* A stage that fails keeps the later ones going (one -n run reports
     * everything); only what needs its result is skipped. */
    if (snapshot_check_files(s->cf, errs) < 0) {
        *bad = 1;
        return s;                           /* no reader may open a FIFO */
    }
    if (preflight_config_check(s->cf, errs) < 0)
        *bad = 1;
    conf_where(s->cf, "InternalHosts", where, sizeof(where));
    if ((s->internal = netlist_build(s->cf->outbound.internal_hosts, where, errs)) == NULL)
        *bad = 1;
    if (s->cf->outbound.mta) {
        DATASET *ds;

        conf_where(s->cf, "MTA", where, sizeof(where));
        if ((ds = dataset_load(s->cf->outbound.mta, where, errs)) == NULL) {
            *bad = 1;
        } else {
            for (size_t i = 0; i < ds->n; i++)
                strv_add(&s->mta, ds->ent[i].key);
            dataset_free(ds);
        }
    }
    if ((s->kt = keytable_build(s->cf, errs)) == NULL)
        *bad = 1;
    else if (snapshot_load_keys(s, errs) < 0)
        *bad = 1;
    if ((s->dkim = sign_lib_new(s->cf, errs)) == NULL)
        *bad = 1;
    else
        dns_dkim_hooks(s->dkim);            /* libopendkim's DNS, if ever used, goes through dns.c */
    if (s->cf->rate.policy && (s->policy = rate_policy_load(s->cf->rate.policy, errs)) == NULL)
        *bad = 1;
    if (snapshot_unsub(s, errs) < 0)
        *bad = 1;
    if (snapshot_bounce(s, errs) < 0)
        *bad = 1;
    s->norm.separators = s->cf->rate.recipient_delimiter;
    s->norm.gmail_dots = 1;
    if (snapshot_check_store(s->cf, errs) < 0)
        *bad = 1;
    if (s->kt) {
        size_t n;

        (void) keytable_keys(s->kt, &n);
        if (conf_check_signing(s->cf, n, errs) < 0)
            *bad = 1;
    }
    return s;
}

/* snapshot_build_all - txmilter -n: the whole file, for all programs */
SNAPSHOT *snapshot_build_all(const char *path, BUF *errs, int *bad)
{
    return snapshot_build_prog(path, CONF_PROG_ALL, errs, bad);
}

/* snapshot_build - a complete, validated snapshot or nothing: the file
 * as txmilter reads it */
SNAPSHOT *snapshot_build(const char *path, BUF *errs)
{
    int bad;
    SNAPSHOT *s = snapshot_build_prog(path, CONF_PROG_TXMILTER, errs, &bad);

    if (s != NULL && bad) {
        snapshot_free(s);
        return NULL;
    }
    return s;
}

/* snapshot_install - swap in a new current snapshot */
void snapshot_install(SNAPSHOT *snap)
{
    SNAPSHOT *old;

    pthread_mutex_lock(&snapshot_lock);
    old = snapshot_current;
    snap->generation = ++snapshot_generation;
    snapshot_current = snap;
    pthread_mutex_unlock(&snapshot_lock);
    if (old)
        snapshot_release(old);
}

SNAPSHOT *snapshot_acquire(void)
{
    SNAPSHOT *s;

    pthread_mutex_lock(&snapshot_lock);
    s = snapshot_current;
    if (s)
        atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&snapshot_lock);
    return s;
}

void snapshot_release(SNAPSHOT *snap)
{
    if (snap && atomic_fetch_sub(&snap->refs, 1) == 1)
        snapshot_free(snap);
}

void snapshot_shutdown(void)
{
    SNAPSHOT *old;

    pthread_mutex_lock(&snapshot_lock);
    old = snapshot_current;
    snapshot_current = NULL;
    pthread_mutex_unlock(&snapshot_lock);
    snapshot_release(old);
}

/* snapshot_key - the key for one pick */
const KEYS_KEY *snapshot_key(SNAPSHOT *snap, const KEYTABLE_PICK *pick, BUF *err)
{
    size_t n, idx;
    const KEYTABLE_KEY *base = keytable_keys(snap->kt, &n);
    SNAPSHOT_KEYCACHE *c;
    KEYS_KEY *key;
    size_t count = 0;

    idx = (size_t) (pick->key - base);
    if (idx >= n) {
        buf_printf(err, "internal error: key pick outside the KeyTable");
        return NULL;
    }
    if (snap->keys[idx])
        return snap->keys[idx];
    if (pick->keypath[0] == 0) {
        buf_printf(err, "key %s was not loaded", pick->key->name);
        return NULL;
    }
    pthread_mutex_lock(&snap->cache_lock);
    for (c = snap->cache; c; c = c->next, count++)
        if (strcmp(c->path, pick->keypath) == 0) {
            pthread_mutex_unlock(&snap->cache_lock);
            return c->key;
        }
    /* Keys are small; reading one under the lock keeps the cache simple. */
    key = keys_load_file(pick->keypath, err);
    if (key && count < SNAPSHOT_CACHE_MAX) {
        c = xcalloc(1, sizeof(*c));
        c->path = xstrdup(pick->keypath);
        c->key = key;
        c->next = snap->cache;
        snap->cache = c;
    } else if (key) {
        keys_free(key);
        key = NULL;
        buf_printf(err, "more than %d per-domain keys: cache full", SNAPSHOT_CACHE_MAX);
    }
    pthread_mutex_unlock(&snap->cache_lock);
    return key;
}

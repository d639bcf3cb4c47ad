/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suppress.c - the suppression list: who unsubscribed from what
 *
 * SYNOPSIS
 *	#include "suppress.h"
 *
 *	SUPPRESS *suppress_open(const char *store, const char *datadir,
 *			unsigned timeout_ms, BUF *err)
 *	SUPPRESS *suppress_open_pool(REDIS_POOL *pool, const char *on_failure)
 *	void	suppress_close(SUPPRESS *s)
 *	void	suppress_answered(SUPPRESS *s)
 *	void	suppress_stats(SUPPRESS *s, SUPPRESS_STATS *st)
 *	int	suppress_add(SUPPRESS *s, const char *rcpt, const char *stream,
 *			const char *source, BUF *err)
 *	int	suppress_record(SUPPRESS *s, const char *rcpt,
 *			const char *stream, const char *source,
 *			const SUPPRESS_INFO *info, BUF *err)
 *	long	suppress_soft_count(SUPPRESS *s, const char *rcpt,
 *			const char *stream, const char *report,
 *			uint64_t window_s, BUF *err)
 *	int	suppress_check(SUPPRESS *s, const char *rcpt, const char *stream,
 *			BUF *err)
 *	int	suppress_lookup(SUPPRESS *s, const char *rcpt,
 *			const char *stream, SUPPRESS_REASON *reason,
 *			char *evidence, BUF *err)
 *	int	suppress_remove(SUPPRESS *s, const char *rcpt,
 *			const char *stream, BUF *err)
 *	long	suppress_list(SUPPRESS *s, const char *rcpt, const char *stream,
 *			void (*fn)(const SUPPRESS_ENTRY *e, void *arg),
 *			void *arg, BUF *err)
 *	long	suppress_soft_list(SUPPRESS *s, const char *rcpt,
 *			const char *stream, uint64_t window_s,
 *			void (*fn)(const SUPPRESS_SOFT *e, void *arg),
 *			void *arg, BUF *err)
 *	int	suppress_norm_stream(const char *stream, char *out,
 *			size_t outlen, BUF *err)
 *	const char *suppress_reason_name(SUPPRESS_REASON r)
 *	int	suppress_reason_parse(const char *s)
 *
 * DESCRIPTION
 *	This module checks the arguments and hands each call to the store
 *	that suppress_open() chose from the Store directive's value:
 *
 *	NULL or "embedded"
 *		SQLite file datadir/suppress.db (suppress_sqlite.c), shared
 *		by txmilter's threads, txmilter-unsubd and txmilterctl.
 *	"redis://...", "redis+unix://...", "redis-sentinel://..."
 *		Redis, through rate_store_redis.c's connection pool
 *		(suppress_redis.c).
 *
 *	timeout_ms bounds each Redis command (and its connect); SQLite
 *	waits for another writer's lock max(timeout_ms, 1000) ms.
 *	suppress_open_pool() opens the Redis list on a pool the caller
 *	made: txmilter gives it the rate store's, so that one circuit
 *	breaker (redis_pool.c) spares every message the wait for a Redis
 *	that is down, whichever store asks first.
 *
 *	Outages: a store that cannot answer (not a bad argument) is
 *	counted (suppress_stats(): checks that could not tell, additions
 *	that could not record) and logged once when it starts, once a
 *	minute while it lasts, and once when it ends; what the caller does
 *	meanwhile (StoreFailure) is the caller's, and on_failure names it
 *	in those lines. suppress_answered() counts an answer that came by
 *	another call on the same store (the rate script fetches a
 *	recipient's suppressions), so that an outage ends there too.
 *
 *	A recipient or a stream is 1 to SUPPRESS_FIELD_MAX - 1 bytes
 *	without control characters; a source 1 to 32 of [A-Za-z0-9_.-].
 *	The caller normalises them (addr_norm() for recipients,
 *	suppress_norm_stream() for streams) so that txmilter, txmilter-unsubd
 *	and txmilterctl name an entry alike. suppress_add() keeps the first
 *	created time and source of an entry already there.
 *
 *	Every entry has a reason: unsubscribe (txmilter-unsubd, requests
 *	by mail), bounce (DSNs), complaint (ARF reports) or manual
 *	(txmilterctl); suppress_add() gives manual to source "txmilterctl"
 *	and unsubscribe to the others, suppress_record() the one it is
 *	told, with evidence (at most SUPPRESS_EVIDENCE_MAX - 1 bytes, control
 *	characters made spaces, longer text cut) and an expiry. An entry
 *	whose expiry has passed suppresses nothing (suppress_check() and
 *	suppress_lookup() answer 0) but stays listed until recorded again
 *	or removed. Recording over an entry replaces it only when the old
 *	one lapses and the new one lapses later or never: an unsubscribe
 *	is never turned into a bounce that expires, a bounce recorded
 *	again is renewed with its new evidence.
 *
 *	suppress_soft_count() counts soft bounces (BounceSoftLimit) per
 *	(recipient, stream) beside the entries: the distinct reports (by
 *	the caller's id of each) within any window of window_s seconds (1 s
 *	to 366 days) ending now, as N/period means in the rate policy; the
 *	caller decides what the count means. A report counted once is not
 *	counted again, so a report whose count was made but not answered
 *	(a timeout) can be refused and sent again safely. suppress_remove()
 *	forgets the reports with the entry, so that an operator who lifts
 *	a suppression starts the recipient afresh. Counts are no entries:
 *	suppress_list() never shows them; suppress_soft_list() does, for
 *	txmilterctl: each pair's reports within the window, read only (it
 *	neither counts nor prunes, so looking changes nothing).
 *
 *	suppress_list() calls fn for every entry matching rcpt and stream
 *	(NULL matches everything); fn must not call back into s. The SQLite
 *	store lists in (rcpt, stream) order, Redis by stream.
 *
 *	A SUPPRESS may be used by any number of threads at once. Open it
 *	after fork(), never before (SQLite and hiredis connections do not
 *	survive a fork).
 *
 * DIAGNOSTICS
 *	Every function but suppress_close() returns -1 with one reason (no
 *	newline) in err, which it resets first: a bad argument, the store
 *	unreachable or failing. Besides the outage lines above, log lines
 *	are the caller's to write (the Redis pool logs its own connection
 *	trouble).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr_norm.h"
#include "log.h"
#include "suppress.h"
#include "suppress_impl.h"
#include "util.h"

#define SP_SOURCE_MAX 32
#define SP_LOG_MS     60000         /* an outage is logged again after this */

struct sp_health {
    pthread_mutex_t lock;
    char     on_failure[128];
    SUPPRESS_STATS st;
    uint64_t down_since, logged_at, failed_at_open;
};

/* sp_mono - CLOCK_MONOTONIC in milliseconds */
static uint64_t sp_mono(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* sp_health_new - s with counters and the outage log; s itself */
static SUPPRESS *sp_health_new(SUPPRESS *s, const char *on_failure)
{
    if (s == NULL)
        return NULL;
    s->health = xcalloc(1, sizeof(*s->health));
    if (pthread_mutex_init(&s->health->lock, NULL) != 0)
        log_fatal("suppression list: cannot make a mutex");
    util_strlcpy(s->health->on_failure, on_failure ? on_failure : "the caller decides",
                 sizeof(s->health->on_failure));
    s->health->st.up = 1;
    return s;
}

/* sp_outcome - count a store call (rc < 0: not answered); log outages */
static int sp_outcome(SUPPRESS *s, int rc, int check, int write, const BUF *err)
{
    struct sp_health *h = s->health;
    uint64_t now = sp_mono(), failed = 0, ms = 0;
    int say = 0;

    if (pthread_mutex_lock(&h->lock) != 0)
        log_fatal("suppression list: cannot lock");
    if (rc >= 0) {
        h->st.answered++;
        if (!h->st.up) {
            h->st.up = 1;
            say = 3;
            ms = now - h->down_since;
            failed = h->st.checks_failed + h->st.writes_failed - h->failed_at_open;
        }
    } else {
        h->st.checks_failed += check;
        h->st.writes_failed += write;
        if (h->st.up) {
            h->st.up = 0;
            say = 1;
            h->down_since = h->logged_at = now;
            h->failed_at_open = h->st.checks_failed + h->st.writes_failed - 1;
        } else if (now >= h->logged_at + SP_LOG_MS) {
            say = 2;
            h->logged_at = now;
            ms = now - h->down_since;
            failed = h->st.checks_failed + h->st.writes_failed - h->failed_at_open;
        }
    }
    pthread_mutex_unlock(&h->lock);
    if (say == 1)
        log_warn("suppression list unavailable (%s): %s until it answers",
                 err && err->data ? err->data : "", h->on_failure);
    else if (say == 2)
        log_warn("suppression list still unavailable after %llu s: %llu checks or additions "
                 "failed so far: %s", (unsigned long long) (ms / 1000),
                 (unsigned long long) failed, h->on_failure);
    else if (say == 3)
        log_info("suppression list answers again after %llu ms; %llu checks or additions "
                 "failed meanwhile", (unsigned long long) ms, (unsigned long long) failed);
    return rc;
}

/* suppress_seterr - err = the formatted reason; returns -1 */
int suppress_seterr(BUF *err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    (void) vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    buf_reset(err);
    (void) buf_puts(err, msg);
    return -1;
}

/* sp_field_ok - 1 if s is a recipient or stream a store accepts */
static int sp_field_ok(const char *s)
{
    size_t i, n;

    if (s == NULL || (n = strnlen(s, SUPPRESS_FIELD_MAX)) == 0 || n >= SUPPRESS_FIELD_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* sp_args - check rcpt and stream (each may be NULL when may_be_null); -1 with a reason */
static int sp_args(SUPPRESS *s, const char *rcpt, const char *stream, int may_be_null, BUF *err)
{
    if (err)
        buf_reset(err);
    if (s == NULL)
        return suppress_seterr(err, "no suppression list");
    if (!(rcpt == NULL && may_be_null) && !sp_field_ok(rcpt))
        return suppress_seterr(err, "bad recipient: empty, longer than %d bytes or holding "
                               "control characters", SUPPRESS_FIELD_MAX - 1);
    if (!(stream == NULL && may_be_null) && !sp_field_ok(stream))
        return suppress_seterr(err, "bad stream: empty, longer than %d bytes or holding "
                               "control characters", SUPPRESS_FIELD_MAX - 1);
    return 0;
}

/* suppress_open - the store named by Store */
SUPPRESS *suppress_open(const char *store, const char *datadir, unsigned timeout_ms, BUF *err)
{
    if (err)
        buf_reset(err);
    if (store == NULL || strcmp(store, "embedded") == 0) {
        if (datadir == NULL || *datadir == 0) {
            (void) suppress_seterr(err, "no DataDirectory for the embedded suppression list");
            return NULL;
        }
        return sp_health_new(suppress_sqlite_open(datadir, timeout_ms, err), NULL);
    }
    if (strncmp(store, "redis://", 8) == 0 || strncmp(store, "redis+unix://", 13) == 0
        || strncmp(store, "redis-sentinel://", 17) == 0)
        return sp_health_new(suppress_redis_open(store, timeout_ms, err), NULL);
    (void) suppress_seterr(err, "Store: expected \"embedded\" or a redis:// URL");
    return NULL;
}

/* suppress_open_pool - the Redis list on the caller's pool */
SUPPRESS *suppress_open_pool(REDIS_POOL *pool, const char *on_failure)
{
    if (pool == NULL)
        log_fatal("suppress_open_pool: no pool");
    return sp_health_new(suppress_redis_open_pool(pool), on_failure);
}

/* suppress_close - close the store; NULL is ignored */
void suppress_close(SUPPRESS *s)
{
    struct sp_health *h;

    if (s == NULL)
        return;
    h = s->health;
    s->ops->close(s);
    if (h) {
        pthread_mutex_destroy(&h->lock);
        free(h);
    }
}

/* suppress_answered - an answer for the list by another call on its store */
void suppress_answered(SUPPRESS *s)
{
    (void) sp_outcome(s, 0, 0, 0, NULL);
}

/* suppress_stats - a copy of the counters */
void suppress_stats(SUPPRESS *s, SUPPRESS_STATS *st)
{
    if (pthread_mutex_lock(&s->health->lock) != 0)
        log_fatal("suppression list: cannot lock");
    *st = s->health->st;
    pthread_mutex_unlock(&s->health->lock);
}

static const char *const sp_reasons[SUPPRESS_REASONS] = {
    "unsubscribe", "bounce", "complaint", "manual",
};

/* suppress_reason_name - the stored name of r */
const char *suppress_reason_name(SUPPRESS_REASON r)
{
    return (unsigned) r < SUPPRESS_REASONS ? sp_reasons[r] : "unknown";
}

/* suppress_reason_parse - the reason named s; -1 if none */
int suppress_reason_parse(const char *s)
{
    int i;

    for (i = 0; s && i < SUPPRESS_REASONS; i++)
        if (strcasecmp(s, sp_reasons[i]) == 0)
            return i;
    return -1;
}

/* sp_evidence - text bounded and without control characters into out */
static void sp_evidence(const char *text, char out[SUPPRESS_EVIDENCE_MAX])
{
    size_t i;

    util_strlcpy(out, text ? text : "", SUPPRESS_EVIDENCE_MAX);
    for (i = 0; out[i]; i++)
        if ((unsigned char) out[i] < 0x20 || out[i] == 0x7f)
            out[i] = ' ';
}

/* suppress_record - record rcpt for stream, with why */
int suppress_record(SUPPRESS *s, const char *rcpt, const char *stream, const char *source,
                    const SUPPRESS_INFO *info, BUF *err)
{
    char evidence[SUPPRESS_EVIDENCE_MAX];
    SUPPRESS_INFO in;
    size_t n;

    if (sp_args(s, rcpt, stream, 0, err) != 0)
        return -1;
    if (source == NULL || (n = strnlen(source, SP_SOURCE_MAX + 1)) == 0 || n > SP_SOURCE_MAX
        || strspn(source, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
        return suppress_seterr(err, "bad source: 1 to %d of letters, digits, '_', '.', '-'",
                               SP_SOURCE_MAX);
    if (info == NULL || (unsigned) info->reason >= SUPPRESS_REASONS)
        return suppress_seterr(err, "bad reason");
    if (info->expire_after > (uint64_t) 100 * 365 * 86400)
        return suppress_seterr(err, "bad expiry: more than 100 years");
    in = *info;
    sp_evidence(info->evidence, evidence);
    in.evidence = evidence;
    return sp_outcome(s, s->ops->add(s, rcpt, stream, source, &in, err), 0, 1, err);
}

/* suppress_add - record that rcpt unsubscribed from stream */
int suppress_add(SUPPRESS *s, const char *rcpt, const char *stream, const char *source, BUF *err)
{
    SUPPRESS_INFO in = { SUPPRESS_UNSUBSCRIBE, "", 0 };

    if (source && strcmp(source, "txmilterctl") == 0)
        in.reason = SUPPRESS_MANUAL;
    return suppress_record(s, rcpt, stream, source, &in, err);
}

/* suppress_soft_count - one soft bounce of rcpt from stream counted */
long suppress_soft_count(SUPPRESS *s, const char *rcpt, const char *stream, const char *report,
                         uint64_t window_s, BUF *err)
{
    size_t rn;
    long n;

    if (sp_args(s, rcpt, stream, 0, err) != 0)
        return -1;
    if (window_s < 1 || window_s > (uint64_t) 366 * 86400)
        return suppress_seterr(err, "bad soft bounce window: 1 s to 366 days");
    if (report == NULL || (rn = strnlen(report, SUPPRESS_REPORT_MAX)) == 0
        || rn >= SUPPRESS_REPORT_MAX
        || strspn(report, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != rn)
        return suppress_seterr(err, "bad report id: 1 to %d of letters, digits, '_', '.', '-'",
                               SUPPRESS_REPORT_MAX - 1);
    n = s->ops->soft(s, rcpt, stream, report, window_s, err);
    (void) sp_outcome(s, n < 0 ? -1 : 0, 0, 1, err);
    return n;
}

/* suppress_lookup - 1 if rcpt is suppressed from stream, and why */
int suppress_lookup(SUPPRESS *s, const char *rcpt, const char *stream, SUPPRESS_REASON *reason,
                    char *evidence, BUF *err)
{
    char ev[SUPPRESS_EVIDENCE_MAX];
    SUPPRESS_REASON r = SUPPRESS_UNSUBSCRIBE;
    int rc;

    if (sp_args(s, rcpt, stream, 0, err) != 0)
        return -1;
    ev[0] = 0;
    rc = sp_outcome(s, s->ops->check(s, rcpt, stream, &r, ev, err), 1, 0, err);
    if (rc == 1 && reason)
        *reason = r;
    if (rc == 1 && evidence)
        util_strlcpy(evidence, ev, SUPPRESS_EVIDENCE_MAX);
    return rc;
}

/* suppress_check - 1 if rcpt is suppressed from stream */
int suppress_check(SUPPRESS *s, const char *rcpt, const char *stream, BUF *err)
{
    return suppress_lookup(s, rcpt, stream, NULL, NULL, err);
}

/* suppress_remove - forget one entry */
int suppress_remove(SUPPRESS *s, const char *rcpt, const char *stream, BUF *err)
{
    if (sp_args(s, rcpt, stream, 0, err) != 0)
        return -1;
    return sp_outcome(s, s->ops->remove(s, rcpt, stream, err), 0, 0, err);
}

/* suppress_list - every entry matching rcpt and stream (NULL: any) */
long suppress_list(SUPPRESS *s, const char *rcpt, const char *stream,
                   void (*fn)(const SUPPRESS_ENTRY *e, void *arg), void *arg, BUF *err)
{
    long n;

    if (sp_args(s, rcpt, stream, 1, err) != 0)
        return -1;
    if (fn == NULL)
        return suppress_seterr(err, "no function to call for each entry");
    n = s->ops->list(s, rcpt, stream, fn, arg, err);
    (void) sp_outcome(s, n < 0 ? -1 : 0, 0, 0, err);
    return n;
}

/* suppress_soft_list - the pairs with soft bounces counted in the window */
long suppress_soft_list(SUPPRESS *s, const char *rcpt, const char *stream, uint64_t window_s,
                        void (*fn)(const SUPPRESS_SOFT *e, void *arg), void *arg, BUF *err)
{
    long n;

    if (sp_args(s, rcpt, stream, 1, err) != 0)
        return -1;
    if (fn == NULL)
        return suppress_seterr(err, "no function to call for each pair");
    if (window_s < 1 || window_s > (uint64_t) 366 * 86400)
        return suppress_seterr(err, "bad soft bounce window: 1 s to 366 days");
    n = s->ops->soft_list(s, rcpt, stream, window_s, fn, arg, err);
    (void) sp_outcome(s, n < 0 ? -1 : 0, 0, 0, err);
    return n;
}

/* suppress_norm_stream - a stream (address or domain) in its stored form */
int suppress_norm_stream(const char *stream, char *out, size_t outlen, BUF *err)
{
    static const ADDR_NORM_OPTS exact = { "", 0 };
    char tmp[ADDR_NORM_MAX], dom[ADDR_NORM_MAX];
    BUF reason;
    int rc;

    if (out && outlen)
        out[0] = 0;
    if (err)
        buf_reset(err);
    if (stream == NULL || out == NULL || outlen == 0 || *stream == 0)
        return suppress_seterr(err, "empty stream");
    buf_init(&reason, 512);
    if (strchr(stream, '@') != NULL) {
        rc = addr_norm(stream, &exact, out, outlen, &reason);
    } else if (snprintf(tmp, sizeof(tmp), "x@%s", stream) >= (int) sizeof(tmp)) {
        rc = -1;
        (void) buf_puts(&reason, "too long");
    } else if ((rc = addr_norm(tmp, &exact, dom, sizeof(dom), &reason)) == 0
               && util_strlcpy(out, addr_domain(dom), outlen) != 0) {
        rc = -1;
        out[0] = 0;
        (void) buf_puts(&reason, "too long");
    }
    if (rc != 0)
        (void) suppress_seterr(err, "bad stream: %s", reason.data ? reason.data : "not an "
                               "address or a domain");
    buf_free(&reason);
    if (rc == 0 && !sp_field_ok(out))
        return suppress_seterr(err, "bad stream: empty or longer than %d bytes",
                               SUPPRESS_FIELD_MAX - 1);
    return rc;
}

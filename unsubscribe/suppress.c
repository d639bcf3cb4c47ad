/*
 * suppress.c - the suppression list: who unsubscribed from what
 *
 * SYNOPSIS
 *	#include "suppress.h"
 *
 *	SUPPRESS *suppress_open(const char *store, const char *datadir,
 *			unsigned timeout_ms, BUF *err)
 *	void	suppress_close(SUPPRESS *s)
 *	int	suppress_add(SUPPRESS *s, const char *rcpt, const char *stream,
 *			const char *source, BUF *err)
 *	int	suppress_check(SUPPRESS *s, const char *rcpt, const char *stream,
 *			BUF *err)
 *	int	suppress_remove(SUPPRESS *s, const char *rcpt,
 *			const char *stream, BUF *err)
 *	long	suppress_list(SUPPRESS *s, const char *rcpt, const char *stream,
 *			void (*fn)(const SUPPRESS_ENTRY *e, void *arg),
 *			void *arg, BUF *err)
 *	int	suppress_norm_stream(const char *stream, char *out,
 *			size_t outlen, BUF *err)
 *
 * DESCRIPTION
 *	This module checks the arguments and hands each call to the store
 *	that suppress_open() chose from the Store directive's value:
 *
 *	NULL or "embedded"
 *		SQLite file datadir/suppress.db (suppress_sqlite.c), shared
 *		by txmilter's threads, txmilter-unsubd and txmilterctl.
 *	"redis://...", "redis+unix://...", "redis-sentinel://..."
 *		Redis, through store_redis.c's connection pool
 *		(suppress_redis.c).
 *
 *	timeout_ms bounds each Redis command (and its connect); SQLite
 *	waits for another writer's lock max(timeout_ms, 1000) ms.
 *
 *	A recipient or a stream is 1 to SUPPRESS_FIELD_MAX - 1 bytes
 *	without control characters; a source 1 to 32 of [A-Za-z0-9_.-].
 *	The caller normalises them (addr_norm() for recipients,
 *	suppress_norm_stream() for streams) so that txmilter, txmilter-unsubd
 *	and txmilterctl name an entry alike. suppress_add() keeps the first
 *	created time and source of an entry already there.
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
 *	unreachable or failing. Log lines are the caller's to write (the
 *	Redis pool logs its own connection trouble).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr_norm.h"
#include "suppress.h"
#include "suppress_impl.h"
#include "util.h"

#define SP_SOURCE_MAX 32

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
        return suppress_sqlite_open(datadir, timeout_ms, err);
    }
    if (strncmp(store, "redis://", 8) == 0 || strncmp(store, "redis+unix://", 13) == 0
        || strncmp(store, "redis-sentinel://", 17) == 0)
        return suppress_redis_open(store, timeout_ms, err);
    (void) suppress_seterr(err, "Store: expected \"embedded\" or a redis:// URL");
    return NULL;
}

/* suppress_close - close the store; NULL is ignored */
void suppress_close(SUPPRESS *s)
{
    if (s)
        s->ops->close(s);
}

/* suppress_add - record that rcpt unsubscribed from stream */
int suppress_add(SUPPRESS *s, const char *rcpt, const char *stream, const char *source, BUF *err)
{
    size_t n;

    if (sp_args(s, rcpt, stream, 0, err) != 0)
        return -1;
    if (source == NULL || (n = strnlen(source, SP_SOURCE_MAX + 1)) == 0 || n > SP_SOURCE_MAX
        || strspn(source, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
        return suppress_seterr(err, "bad source: 1 to %d of letters, digits, '_', '.', '-'",
                               SP_SOURCE_MAX);
    return s->ops->add(s, rcpt, stream, source, err);
}

/* suppress_check - 1 if rcpt unsubscribed from stream */
int suppress_check(SUPPRESS *s, const char *rcpt, const char *stream, BUF *err)
{
    if (sp_args(s, rcpt, stream, 0, err) != 0)
        return -1;
    return s->ops->check(s, rcpt, stream, err);
}

/* suppress_remove - forget one entry */
int suppress_remove(SUPPRESS *s, const char *rcpt, const char *stream, BUF *err)
{
    if (sp_args(s, rcpt, stream, 0, err) != 0)
        return -1;
    return s->ops->remove(s, rcpt, stream, err);
}

/* suppress_list - every entry matching rcpt and stream (NULL: any) */
long suppress_list(SUPPRESS *s, const char *rcpt, const char *stream,
                   void (*fn)(const SUPPRESS_ENTRY *e, void *arg), void *arg, BUF *err)
{
    if (sp_args(s, rcpt, stream, 1, err) != 0)
        return -1;
    if (fn == NULL)
        return suppress_seterr(err, "no function to call for each entry");
    return s->ops->list(s, rcpt, stream, fn, arg, err);
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

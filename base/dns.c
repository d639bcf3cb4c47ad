/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns.c - the process's one resolver (libunbound), with timeouts.
 *
 * SYNOPSIS
 *	#include "dns.h"
 *
 *	int	dns_init(const DNS_SETTINGS *cf, BUF *errs)
 *	void	dns_shutdown(void)
 *	void	dns_lookup(void *ctx, const char *name, int rrtype, DNS_ANSWER *ans)
 *	char	*dns_rdata_mx(const unsigned char *rdata, size_t len)
 *	const DNS_RESOLVER *dns_resolver(void)
 *	struct ub_result *dns_resolve_raw(const char *name, int rrtype,
 *			DNS_STATUS *st, BUF *err)
 *	void	dns_budget_begin(int seconds), dns_budget_end(void)
 *
 * DESCRIPTION
 *	dns_init() creates one libunbound context: forwarders from
 *	Nameservers ("127.0.0.1@5353, 192.0.2.53"), otherwise the servers
 *	of /etc/resolv.conf (and /etc/hosts); TrustAnchorFile turns on
 *	DNSSEC validation. The context runs asynchronously in a thread of
 *	libunbound's own, so a query can be given up after DNSTimeout
 *	seconds: a collector thread of ours reads the answers (ub_process())
 *	and hands each to the thread waiting for it. libunbound's cache is
 *	shared by every query of the process and honours the records' TTLs.
 *
 *	dns_resolve_raw() classifies every answer by its rcode, never by
 *	the call's return value alone: NOERROR with data is DNS_OK, without
 *	data DNS_NODATA, NXDOMAIN is DNS_NXDOMAIN, and everything else
 *	(SERVFAIL, REFUSED, a timeout, a DNSSEC-bogus answer, a resolver
 *	error) is DNS_TEMPFAIL with the reason appended to err. A name that is not a
 *	valid domain name (empty label, label over 63 bytes, over 253 bytes)
 *	is DNS_NXDOMAIN without a query.
 *
 *	dns_lookup() does the same and turns the records into text: TXT
 *	strings concatenated, A/AAAA addresses, MX "PREFERENCE EXCHANGE."
 *	("0 ." for a null MX, RFC 7505; bytes of a label other than
 *	letters, digits, '-' and '_' become '?', and an MX whose name is
 *	not in plain labels is left out: dns_rdata_mx(), which returns a
 *	string to free, or NULL). dns_resolver() is that
 *	lookup as the service the programs hand to the pipeline (SERVICES),
 *	where a test may hand another.
 *
 *	dns_budget_begin() bounds the total time of one operation (the
 *	preflight of one message): each query waits at most DNSTimeout and
 *	never past the budget; once the budget is spent, queries fail at once.
 *
 * DIAGNOSTICS
 *	dns_init() reports an unusable Nameservers or TrustAnchorFile value
 *	in errs. A changed DNS configuration on reload is logged: it takes
 *	effect after a restart.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "dns.h"
#include "log.h"

#define DNS_COLLECT_MS  200             /* collector wakes this often to see dns_stop */

typedef struct dns_query {
    int     done;                       /* answer arrived */
    int     abandoned;                  /* the waiter gave up: the callback frees */
    int     err;                        /* libunbound error code */
    struct ub_result *result;
} DNS_QUERY;

static pthread_mutex_t dns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dns_cond;
static struct ub_ctx *dns_ctx;
static pthread_t dns_collector_tid;
static atomic_int dns_stop;
static int dns_timeout_ms = 5000;
static char *dns_config;                /* the settings it was made with */
static atomic_ulong dns_nqueries;
static atomic_ulong dns_results[5];     /* per DNS_R_*: the answers of dns_resolve_raw() */
static atomic_ulong dns_failing;        /* timeouts and errors since the last answer */

enum { DNS_R_OK, DNS_R_NXDOMAIN, DNS_R_NODATA, DNS_R_TIMEOUT, DNS_R_ERROR };

static _Thread_local struct timespec dns_deadline;  /* 0: no budget */
static _Thread_local int dns_spent;

/* dns_now - the monotonic clock */
static struct timespec dns_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

/* dns_after - now plus ms */
static struct timespec dns_after(long ms)
{
    struct timespec ts = dns_now();

    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* dns_before - a earlier than b */
static int dns_before(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* dns_describe - the settings that need a restart to change */
static char *dns_describe(const DNS_SETTINGS *cf)
{
    return xasprintf("ns=%s ta=%s timeout=%d", cf->nameservers ? cf->nameservers : "",
                     cf->trust_anchor_file ? cf->trust_anchor_file : "", cf->dns_timeout);
}

/* dns_collector - read answers as they come and run their callbacks */
static void *dns_collector(void *arg)
{
    int fd = ub_fd(dns_ctx);

    (void) arg;
    while (!atomic_load(&dns_stop)) {
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, DNS_COLLECT_MS);

        if (n > 0) {
            int rc = ub_process(dns_ctx);

            if (rc != 0) {
                log_err("DNS: reading answers from libunbound: %s", ub_strerror(rc));
                struct timespec ts = {0, 100 * 1000 * 1000};

                nanosleep(&ts, NULL);
            }
        } else if (n < 0 && errno != EINTR) {
            log_err("DNS: poll: %s", strerror(errno));
            break;
        }
    }
    return NULL;
}

/* dns_set_forwarders - Nameservers "a[@port], b[@port]" as forwarders */
static int dns_set_forwarders(struct ub_ctx *ctx, const char *list, BUF *errs)
{
    STRV sv;
    int rc = 0;

    strv_init(&sv);
    strv_split(&sv, list, ", \t");
    for (size_t i = 0; i < sv.n; i++) {
        int r = ub_ctx_set_fwd(ctx, sv.v[i]);

        if (r != 0) {
            buf_printf(errs, "Nameservers: %s: %s\n", sv.v[i], ub_strerror(r));
            rc = -1;
        }
    }
    strv_free(&sv);
    return rc;
}

/* dns_init - the process's resolver */
int dns_init(const DNS_SETTINGS *cf, BUF *errs)
{
    struct ub_ctx *ctx;
    char *desc = dns_describe(cf), why_mem[256];
    BUF why;
    sigset_t all, old;
    int r;

    pthread_mutex_lock(&dns_lock);
    if (dns_ctx != NULL) {
        if (strcmp(desc, dns_config) != 0)
            log_warn("Nameservers, TrustAnchorFile and DNSTimeout changes take effect only "
                     "after a restart");
        pthread_mutex_unlock(&dns_lock);
        free(desc);
        return 0;
    }
    if ((ctx = ub_ctx_create()) == NULL) {
        pthread_mutex_unlock(&dns_lock);
        buf_printf(errs, "DNS: cannot create the libunbound context\n");
        free(desc);
        return -1;
    }
    /* A forwarder on loopback (a local cache, a test server) is normal. */
    (void) ub_ctx_set_option(ctx, "do-not-query-localhost:", "no");
    if (cf->nameservers) {
        r = dns_set_forwarders(ctx, cf->nameservers, errs) == 0 ? 0 : -1;
    } else {
        if ((r = ub_ctx_resolvconf(ctx, NULL)) != 0)
            log_warn("DNS: /etc/resolv.conf: %s: resolving from the root servers",
                     ub_strerror(r));
        if (ub_ctx_hosts(ctx, NULL) != 0)
            log_warn("DNS: /etc/hosts cannot be read: ignored");
        r = 0;
    }
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if (r == 0 && cf->trust_anchor_file && util_check_file(cf->trust_anchor_file, &why) < 0) {
        buf_printf(errs, "TrustAnchorFile %s: %s\n", cf->trust_anchor_file, why.data);
        r = -1;
    } else if (r == 0 && cf->trust_anchor_file && (r = ub_ctx_add_ta_file(ctx, cf->trust_anchor_file)) != 0)
        buf_printf(errs, "TrustAnchorFile %s: %s\n", cf->trust_anchor_file, ub_strerror(r));
    if (r == 0 && (r = ub_ctx_async(ctx, 1)) != 0)
        buf_printf(errs, "DNS: libunbound cannot run in a thread: %s\n", ub_strerror(r));
    if (r != 0) {
        ub_ctx_delete(ctx);
        pthread_mutex_unlock(&dns_lock);
        free(desc);
        return -1;
    }
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&dns_cond, &ca);
        pthread_condattr_destroy(&ca);
    }
    dns_ctx = ctx;
    dns_timeout_ms = cf->dns_timeout * 1000;
    dns_config = desc;
    atomic_store(&dns_stop, 0);
    /* Signals belong to the main thread (daemon.c). */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    r = pthread_create(&dns_collector_tid, NULL, dns_collector, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        dns_ctx = NULL;
        dns_config = NULL;
        ub_ctx_delete(ctx);
        pthread_cond_destroy(&dns_cond);
        pthread_mutex_unlock(&dns_lock);
        buf_printf(errs, "DNS: cannot start a thread: %s\n", strerror(r));
        free(desc);
        return -1;
    }
    pthread_mutex_unlock(&dns_lock);
    return 0;
}

/* dns_check_config - warn when a reload changes what needs a restart */
void dns_check_config(const DNS_SETTINGS *cf)
{
    char *desc = dns_describe(cf);

    pthread_mutex_lock(&dns_lock);
    if (dns_ctx != NULL && strcmp(desc, dns_config) != 0)
        log_warn("Nameservers, TrustAnchorFile and DNSTimeout changes take effect only "
                 "after a restart");
    pthread_mutex_unlock(&dns_lock);
    free(desc);
}

int dns_ready(void)
{
    int ready;

    pthread_mutex_lock(&dns_lock);
    ready = dns_ctx != NULL;
    pthread_mutex_unlock(&dns_lock);
    return ready;
}

/* dns_shutdown - stop and free the resolver */
void dns_shutdown(void)
{
    struct ub_ctx *ctx;

    pthread_mutex_lock(&dns_lock);
    ctx = dns_ctx;
    pthread_mutex_unlock(&dns_lock);
    if (ctx == NULL)
        return;
    atomic_store(&dns_stop, 1);
    pthread_join(dns_collector_tid, NULL);
    pthread_mutex_lock(&dns_lock);
    dns_ctx = NULL;
    free(dns_config);
    dns_config = NULL;
    pthread_mutex_unlock(&dns_lock);
    /* Abandoned queries still inside libunbound are freed with it; their
     * DNS_QUERY structs were freed by the waiter (ub_cancel succeeded). */
    ub_ctx_delete(ctx);
    pthread_cond_destroy(&dns_cond);
}

/* dns_callback - an answer: hand it to its waiter, or drop it */
static void dns_callback(void *arg, int err, struct ub_result *result)
{
    DNS_QUERY *q = arg;

    pthread_mutex_lock(&dns_lock);
    if (q->abandoned) {
        pthread_mutex_unlock(&dns_lock);
        if (result)
            ub_resolve_free(result);
        free(q);
        return;
    }
    q->done = 1;
    q->err = err;
    q->result = result;
    pthread_cond_broadcast(&dns_cond);
    pthread_mutex_unlock(&dns_lock);
}

/* dns_valid_name - a domain name libunbound can ask for */
static int dns_valid_name(const char *name)
{
    size_t len = strlen(name), label = 0;

    if (len && name[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];

        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (c <= ' ' || c == 0x7f || ++label > 63) {
            return 0;
        }
    }
    return label > 0;
}

/* dns_rcode_name - text for an rcode */
static const char *dns_rcode_name(int rcode)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP", "REFUSED"};

    return rcode >= 0 && rcode < 6 ? names[rcode] : "rcode";
}

/* dns_count - count how a query ended */
static void dns_count(int result)
{
    atomic_fetch_add_explicit(&dns_results[result], 1, memory_order_relaxed);
    if (result == DNS_R_TIMEOUT || result == DNS_R_ERROR)
        atomic_fetch_add_explicit(&dns_failing, 1, memory_order_relaxed);
    else
        atomic_store_explicit(&dns_failing, 0, memory_order_relaxed);
}

/* dns_stats - a copy of the counters */
void dns_stats(DNS_STATS *st)
{
    st->ok = atomic_load(&dns_results[DNS_R_OK]);
    st->nxdomain = atomic_load(&dns_results[DNS_R_NXDOMAIN]);
    st->nodata = atomic_load(&dns_results[DNS_R_NODATA]);
    st->timeout = atomic_load(&dns_results[DNS_R_TIMEOUT]);
    st->error = atomic_load(&dns_results[DNS_R_ERROR]);
    st->failing = atomic_load(&dns_failing);
}

/* dns_resolve_query - one query, classified (dns_resolve_raw() counts it);
 * *timed_out 1 when it got no answer in time */
static struct ub_result *dns_resolve_query(const char *name, int rrtype, DNS_STATUS *st,
                                           BUF *err, int *out_timed_out)
{
    struct timespec deadline = dns_after(dns_timeout_ms);
    struct ub_result *res;
    DNS_QUERY *q;
    int id = 0, rc, timed_out = 0;

    *st = DNS_TEMPFAIL;
    *out_timed_out = 0;
    if (!dns_valid_name(name)) {
        *st = DNS_NXDOMAIN;
        (void) util_err(err, "not a valid domain name");
        return NULL;
    }
    if (dns_deadline.tv_sec) {
        if (!dns_before(dns_now(), dns_deadline)) {
            dns_spent = 1;
            *out_timed_out = 1;
            (void) util_err(err, "no time left for DNS (DNSTimeout budget spent)");
            return NULL;
        }
        if (dns_before(dns_deadline, deadline))
            deadline = dns_deadline;
    }
    pthread_mutex_lock(&dns_lock);
    if (dns_ctx == NULL) {
        pthread_mutex_unlock(&dns_lock);
        (void) util_err(err, "resolver not initialised");
        return NULL;
    }
    pthread_mutex_unlock(&dns_lock);
    q = xcalloc(1, sizeof(*q));
    atomic_fetch_add(&dns_nqueries, 1);
    if ((rc = ub_resolve_async(dns_ctx, name, rrtype, 1, q, dns_callback, &id)) != 0) {
        free(q);
        (void) util_err(err, "resolver error: %s", ub_strerror(rc));
        return NULL;
    }
    pthread_mutex_lock(&dns_lock);
    while (!q->done) {
        if (pthread_cond_timedwait(&dns_cond, &dns_lock, &deadline) == ETIMEDOUT && !q->done) {
            timed_out = 1;
            break;
        }
    }
    if (timed_out) {
        /* ub_cancel() succeeding means the callback never runs: ours to
         * free. Otherwise the answer is on its way and the callback frees. */
        q->abandoned = 1;
        if (ub_cancel(dns_ctx, id) == 0)
            free(q);
        pthread_mutex_unlock(&dns_lock);
        if (dns_deadline.tv_sec && !dns_before(dns_now(), dns_deadline))
            dns_spent = 1;
        *out_timed_out = 1;
        (void) util_err(err, "no answer within %d ms", dns_timeout_ms);
        return NULL;
    }
    pthread_mutex_unlock(&dns_lock);
    res = q->result;
    rc = q->err;
    free(q);
    if (rc != 0 || res == NULL) {
        (void) util_err(err, "resolver error: %s", ub_strerror(rc));
        if (res)
            ub_resolve_free(res);
        return NULL;
    }
    if (res->bogus) {
        (void) util_err(err, "DNSSEC validation failed: %s", res->why_bogus ? res->why_bogus : "bogus");
    } else if (res->rcode == 3) {
        *st = DNS_NXDOMAIN;
    } else if (res->rcode != 0) {
        (void) util_err(err, "%s from the DNS server", dns_rcode_name(res->rcode));
    } else {
        *st = res->havedata ? DNS_OK : DNS_NODATA;
    }
    return res;
}

/* dns_resolve_raw - one query, classified and counted */
struct ub_result *dns_resolve_raw(const char *name, int rrtype, DNS_STATUS *st, BUF *err)
{
    int timed_out;
    struct ub_result *res = dns_resolve_query(name, rrtype, st, err, &timed_out);

    if (res == NULL && *st == DNS_NXDOMAIN)
        return NULL;                        /* not a name: nothing was asked */
    if (*st == DNS_TEMPFAIL)
        dns_count(timed_out ? DNS_R_TIMEOUT : DNS_R_ERROR);
    else
        dns_count(*st == DNS_OK ? DNS_R_OK : *st == DNS_NXDOMAIN ? DNS_R_NXDOMAIN : DNS_R_NODATA);
    return res;
}

/* dns_txt_text - TXT rdata (<len><bytes>...) as one string */
static char *dns_txt_text(const unsigned char *d, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0, i = 0;

    while (i < len) {
        size_t n = d[i++];

        if (n > len - i)
            n = len - i;                /* malformed: keep what is there */
        for (size_t k = 0; k < n && o < DNS_TXT_MAX; k++)
            out[o++] = d[i + k] ? (char) d[i + k] : '?';
        i += n;
    }
    out[o] = 0;
    return out;
}

/* dns_rdata_mx - MX rdata (preference, exchange in uncompressed labels) as
 * "PREF NAME."; NULL if it is not that */
char *dns_rdata_mx(const unsigned char *d, size_t len)
{
    char name[DNS_NAME_MAX + 2], out[DNS_NAME_MAX + 16];
    size_t i = 2, n = 0;

    if (len < 3)
        return NULL;
    while (i < len && d[i] != 0) {
        size_t l = d[i++];

        if (l > DNS_LABEL_MAX || i + l > len || n + l + 1 >= sizeof(name))
            return NULL;                    /* a compression pointer, or too long */
        for (size_t k = 0; k < l; k++)
            name[n++] = isalnum(d[i + k]) || d[i + k] == '-' || d[i + k] == '_' ? (char) d[i + k]
                : '?';
        name[n++] = '.';
        i += l;
    }
    if (i >= len)
        return NULL;
    if (n == 0)
        name[n++] = '.';
    name[n] = 0;
    snprintf(out, sizeof(out), "%u %s", (unsigned) (d[0] << 8 | d[1]), name);
    return xstrdup(out);
}

/* dns_lookup - one query, records as text */
void dns_lookup(void *ctx, const char *name, int rrtype, DNS_ANSWER *ans)
{
    struct ub_result *res;
    BUF why;

    (void) ctx;
    memset(ans, 0, sizeof(*ans));
    buf_init_fixed(&why, ans->why, sizeof(ans->why));
    res = dns_resolve_raw(name, rrtype, &ans->status, &why);
    if (res == NULL)
        return;
    ans->ttl = res->ttl > 0 ? (unsigned) res->ttl : 0;
    for (int i = 0; ans->status == DNS_OK && res->data[i] && ans->n < DNS_MAX_RR; i++) {
        const unsigned char *d = (const unsigned char *) res->data[i];
        size_t len = (size_t) res->len[i];
        char addr[INET6_ADDRSTRLEN];

        if (rrtype == 16) {
            ans->rec[ans->n++] = dns_txt_text(d, len);
        } else if (rrtype == 1 && len == 4 && inet_ntop(AF_INET, d, addr, sizeof(addr))) {
            ans->rec[ans->n++] = xstrdup(addr);
        } else if (rrtype == 28 && len == 16 && inet_ntop(AF_INET6, d, addr, sizeof(addr))) {
            ans->rec[ans->n++] = xstrdup(addr);
        } else if (rrtype == 15 && (ans->rec[ans->n] = dns_rdata_mx(d, len)) != NULL) {
            ans->n++;
        }
    }
    if (ans->status == DNS_OK && ans->n == 0)
        ans->status = DNS_NODATA;
    ub_resolve_free(res);
}

/* dns_resolver - dns_lookup as a service */
const DNS_RESOLVER *dns_resolver(void)
{
    static const DNS_RESOLVER process = {dns_lookup, NULL};

    return &process;
}

void dns_answer_free(DNS_ANSWER *ans)
{
    for (size_t i = 0; i < ans->n; i++)
        free(ans->rec[i]);
    ans->n = 0;
}

void dns_budget_begin(int seconds)
{
    dns_deadline = dns_after((long) seconds * 1000);
    dns_spent = 0;
}

void dns_budget_end(void)
{
    dns_deadline.tv_sec = 0;
    dns_deadline.tv_nsec = 0;
}

int dns_budget_spent(void)
{
    return dns_spent;
}

const char *dns_status_str(DNS_STATUS st)
{
    switch (st) {
    case DNS_OK: return "ok";
    case DNS_NXDOMAIN: return "NXDOMAIN";
    case DNS_NODATA: return "no data";
    default: return "temporary failure";
    }
}

unsigned long dns_queries(void)
{
    return atomic_load(&dns_nqueries);
}

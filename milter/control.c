/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control.c - the daemon's control socket.
 *
 * SYNOPSIS
 *	#include "control.h"
 *
 *	void	control_handle(const SERVICES *svc, const char *request,
 *			const CONTROL_PEER *peer, struct buf *out)
 *	int	control_open(const char *path, uid_t uid, gid_t gid,
 *			mode_t mode)
 *	int	control_start(const SERVICES *svc)
 *	void	control_stop(void)
 *
 * DESCRIPTION
 *	One request per connection: a line of at most 4 KB, then the answer,
 *	then the daemon closes. Requests:
 *
 *	  EXPLAIN rcpt=A [sender=S] [client=IP] [auth=LOGIN]
 *	      (addresses read as smtpd reads RCPT/MAIL arguments; one that
 *	      cannot be normalised is reported refused, before any rule)
 *	      every rule of the current policy: whether it applies to that
 *	      recipient, its key, the current count and what it would say;
 *	      then the verdict. Nothing is consumed.
 *	  SHOW KEY      count, limit and wait of one rate key ("rule|...")
 *	  RESET KEY     forget one rate key
 *	  STATS         the store in use and its failover counters, and how
 *	                often signing used the key parsed at load
 *
 *	The answer ends with "OK" or "ERR reason". Values are printed as
 *	received, with control characters replaced, so an address cannot
 *	forge a line of the answer.
 *
 *	Who may ask: whoever may connect (ControlSocketMode and
 *	ControlSocketGroup, default 0600 owned by UserID) may EXPLAIN, SHOW
 *	and ask for STATS. A request that changes state (RESET) also needs
 *	a privileged peer, by its credentials (SO_PEERCRED): root or the
 *	daemon's own uid. Postfix is in the UserID group (it needs the milter
 *	socket), so the group alone must never be enough. Anyone else gets
 *	"ERR permission denied: ..." and a log line with its uid and pid.
 *
 * DIAGNOSTICS
 *	control_open() returns -1 after logging why the socket cannot be
 *	made; control_start() -1 when its thread cannot start. A bad
 *	request gets "ERR reason"; a refused RESET is also logged with the
 *	peer's uid and pid.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr_norm.h"
#include "addr_smtp.h"
#include "control.h"
#include "log.h"
#include "metrics.h"
#include "rate_match.h"
#include "rate_store_failover.h"
#include "rate_store_mem.h"
#include "sign_key.h"
#include "snapshot.h"
#include "suppress.h"
#include "unsub_msg.h"
#include "util.h"

#define CONTROL_LINE_MAX 4096

static int control_fd = -1;
static char control_path[108];
static pthread_t control_tid;
static volatile int control_running;
static SERVICES control_svc;            /* the thread's, copied at control_start() */

/* control_clean - printable copy of an untrusted value */
static void control_clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 32 || *s == 127)
            *s = '?';
}

/* control_arg - value of "name=" among the words of a request */
static const char *control_arg(char **words, size_t n, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < n; i++)
        if (strncmp(words[i], name, len) == 0 && words[i][len] == '=')
            return words[i] + len + 1;
    return NULL;
}

/* control_rule_of - the policy rule a key belongs to ("rule|...") */
static const RATE_RULE *control_rule_of(const RATE_POLICY *p, const char *key)
{
    const char *bar = strchr(key, '|');
    size_t len = bar ? (size_t) (bar - key) : strlen(key);

    for (size_t i = 0; p && i < p->n; i++)
        if (strlen(p->rule[i].name) == len && strncmp(p->rule[i].name, key, len) == 0)
            return &p->rule[i];
    return NULL;
}

/* Requests that change state: they need a privileged peer. */
static const char *const control_writers[] = {"RESET", NULL};

/* control_writes - 1 if the request verb changes state */
static int control_writes(const char *verb)
{
    for (size_t i = 0; control_writers[i]; i++)
        if (strcasecmp(verb, control_writers[i]) == 0)
            return 1;
    return 0;
}

/* control_privileged - root or the daemon's own uid (unknown: neither) */
static int control_privileged(const CONTROL_PEER *peer)
{
    return peer != NULL && peer->uid >= 0 && (peer->uid == 0 || peer->uid == peer->self_uid);
}

/* control_explain_addrs - the addresses as Postfix's smtpd reads a RCPT TO
 * or MAIL FROM argument, refused as txmilter refuses them there (-1: the
 * answer is written) */
static int control_explain_addrs(SNAPSHOT *snap, const char *rcpt, const char *sender, char *nrcpt,
                                 char *nsender, BUF *out)
{
    char addr[ADDR_NORM_MAX];
    BUF err;
    int rc = 0;

    buf_init(&err, 256);
    if (addr_smtp_norm(NULL, sender ? sender : "", &snap->norm, addr, nsender, &err) < 0) {
        buf_printf(out, "sender %s is refused: it cannot be normalised: %s\n"
                   "verdict: reject (553 5.1.7 bad sender address) before any rule\nOK\n", sender,
                   err.data);
        rc = -1;
    } else if (addr_smtp_norm(NULL, rcpt, &snap->norm, addr, nrcpt, &err) < 0 || nrcpt[0] == 0) {
        buf_printf(out, "recipient %s is refused: it cannot be normalised: %s\n"
                   "verdict: reject (550 5.1.3 bad recipient address) before any rule\nOK\n",
                   rcpt, err.len ? err.data : "empty address");
        rc = -1;
    }
    buf_free(&err);
    return rc;
}

/* control_explain_rules - every rule of the policy for these facts, and the verdict */
static void control_explain_rules(RATE_STORE *store, const RATE_POLICY *policy,
                                  const RATE_MATCH_CTX *ctx, BUF *out)
{
    RATE_STORE_ITEM *items = xcalloc(RATE_STORE_ITEMS_MAX, sizeof(RATE_STORE_ITEM));
    RATE_STORE_RESULT *res = xcalloc(RATE_STORE_ITEMS_MAX, sizeof(RATE_STORE_RESULT));
    size_t n = rate_match_items(policy, ctx, items, RATE_STORE_ITEMS_MAX);
    RATE_MATCH_VERDICT v;

    for (size_t i = 0; i < policy->n; i++) {
        const RATE_RULE *r = &policy->rule[i];
        size_t j;
        char desc[256];

        for (j = 0; j < n && items[j].rule != r; j++)
            ;
        rate_policy_describe(r, desc, sizeof(desc));
        if (j == n) {
            buf_printf(out, "rule %s (%s): does not apply (%s)\n", r->name, desc,
                       rate_match_why_not(r, ctx));
            continue;
        }
        if (store == NULL || store->ops->peek(store, &items[j], &res[j]) != RATE_STORE_OK) {
            buf_printf(out, "rule %s (%s): key %s: store unavailable\n", r->name, desc, items[j].key);
            res[j].allowed = 1;
            continue;
        }
        buf_printf(out, "rule %s (%s): key %s: %u of %u used, %s\n", r->name, desc, items[j].key,
                   res[j].count, r->limit, res[j].allowed ? "allows" : "refuses");
        if (!res[j].allowed)
            buf_printf(out, "  retry in %llu s%s\n",
                       (unsigned long long) rate_match_retry_s(res[j].wait_ms),
                       r->shadow ? " (shadow: logged only)" : "");
    }
    rate_match_verdict(items, res, n, &v);
    if (v.refused)
        buf_printf(out, "verdict: %s by rule %s, retry in %llu s\n",
                   v.action == RATE_ACTION_REJECT ? "reject"
                   : v.action == RATE_ACTION_QUARANTINE ? "quarantine" : "tempfail", v.rule->name,
                   (unsigned long long) rate_match_retry_s(v.wait_ms));
    else
        buf_printf(out, "verdict: accept%s\n", v.shadow ? " (shadow rules would refuse)" : "");
    free(items);
    free(res);
}

/* control_explain - EXPLAIN */
static void control_explain(const SERVICES *svc, SNAPSHOT *snap, char **w, size_t nw, BUF *out)
{
    const char *rcpt = control_arg(w, nw, "rcpt"), *sender = control_arg(w, nw, "sender");
    const char *client = control_arg(w, nw, "client"), *auth = control_arg(w, nw, "auth");
    char nrcpt[ADDR_NORM_MAX], nsender[ADDR_NORM_MAX];
    RATE_MATCH_CTX ctx;

    if (rcpt == NULL) {
        buf_puts(out, "ERR EXPLAIN needs rcpt=ADDRESS\n");
        return;
    }
    if (snap->policy == NULL) {
        buf_puts(out, "no RateLimitPolicy is configured: every recipient is accepted\nOK\n");
        return;
    }
    if (control_explain_addrs(snap, rcpt, sender, nrcpt, nsender, out) < 0)
        return;
    ctx.rcpt = nrcpt;
    ctx.sender = nsender;
    ctx.client = client ? client : "";
    ctx.auth = auth ? auth : "";
    buf_printf(out, "recipient %s (normalised from %s), sender <%s>, client %s, auth %s\n", nrcpt, rcpt,
               nsender, ctx.client[0] ? ctx.client : "-", ctx.auth[0] ? ctx.auth : "-");
    control_explain_rules(svc->rate, snap->policy, &ctx, out);
    buf_puts(out, "OK\n");
}

/* control_show - SHOW and RESET */
static void control_key(const SERVICES *svc, SNAPSHOT *snap, const char *cmd, const char *key,
                        BUF *out)
{
    RATE_STORE *store = svc->rate;
    RATE_STORE_ITEM item;
    RATE_STORE_RESULT res;
    const RATE_RULE *r = control_rule_of(snap->policy, key);

    if (store == NULL) {
        buf_puts(out, "ERR no rate store\n");
        return;
    }
    if (strcasecmp(cmd, "RESET") == 0) {
        if (store->ops->reset(store, key) != RATE_STORE_OK)
            buf_puts(out, "ERR store unavailable\n");
        else
            buf_printf(out, "%s: reset\nOK\n", key);
        return;
    }
    if (r == NULL) {
        buf_printf(out, "ERR no rule of the current policy is named by key %s\n", key);
        return;
    }
    memset(&item, 0, sizeof(item));
    item.rule = r;
    util_strlcpy(item.key, key, sizeof(item.key));
    if (store->ops->peek(store, &item, &res) != RATE_STORE_OK) {
        buf_puts(out, "ERR store unavailable\n");
        return;
    }
    buf_printf(out, "%s: %u of %u used in %llu s%s", key, res.count, r->limit,
               (unsigned long long) (r->period_ms / 1000), res.allowed ? "\n" : ", full");
    if (!res.allowed)
        buf_printf(out, ", next in %llu s\n", (unsigned long long) rate_match_retry_s(res.wait_ms));
    buf_puts(out, "OK\n");
}

/* control_rule_counts - what each rule of the policy in force decided
 * since start (the pipeline's counters; the same with either store) */
static void control_rule_counts(const SERVICES *svc, SNAPSHOT *snap, BUF *out)
{
    METRICS_FAMILY *f = svc->metrics ? svc->metrics->rate : NULL;

    if (f == NULL || snap->policy == NULL)
        return;
    for (size_t i = 0; i < snap->policy->n; i++) {
        const char *name = snap->policy->rule[i].name;

        buf_printf(out, "rule %s: allowed %.0f, refused %.0f, shadow-refused %.0f\n", name,
                   metrics_value(f, METRICS_L(name, "allowed")), metrics_value(f, METRICS_L(name, "refused")),
                   metrics_value(f, METRICS_L(name, "shadow-refused")));
    }
}

/* control_stats - STATS */
static void control_stats(const SERVICES *svc, SNAPSHOT *snap, BUF *out)
{
    RATE_STORE *store = svc->rate;
    uint64_t hits, misses;

    /* "embedded (embedded)" said nothing; the store in use differs from the
     * configured one only with StoreFailure's failover around Redis */
    if (store == NULL)
        buf_printf(out, "store: %s (not open)\n", snap->cf->rate.store);
    else if (strcmp(store->ops->name, "failover") == 0)
        buf_printf(out, "store: %s (with StoreFailure %s while it is down)\n", snap->cf->rate.store,
                   rate_store_failover_policy_str((RATE_STORE_FAILURE)
                                                  snap->cf->rate.store_failure));
    else
        buf_printf(out, "store: %s\n", snap->cf->rate.store);
    if (store && strcmp(store->ops->name, "failover") == 0) {
        RATE_STORE_FAILOVER_STATS st;

        rate_store_failover_stats(store, &st);
        buf_printf(out, "primary: %s\ndecided by primary: %llu\nprimary failures: %llu\n"
                   "decided while unavailable: %llu\n", st.primary_up ? "up" : "down",
                   (unsigned long long) st.primary_ok, (unsigned long long) st.primary_failed,
                   (unsigned long long) st.fallback);
    }
    if (store && strcmp(store->ops->name, "embedded") == 0)
        buf_printf(out, "keys: %zu\n", rate_store_mem_keys(store));
    if (svc->suppress) {
        SUPPRESS_STATS ss;

        suppress_stats(svc->suppress, &ss);
        buf_printf(out, "suppression list: %s\nsuppression checks failed: %llu\n"
                   "suppression additions failed: %llu\n", ss.up ? "up" : "down",
                   (unsigned long long) ss.checks_failed, (unsigned long long) ss.writes_failed);
    }
    sign_key_stats(&hits, &misses);
    buf_printf(out, "signing keys: %llu loads from the parsed key, %llu parsed again%s\n",
               (unsigned long long) hits, (unsigned long long) misses,
               sign_key_active() ? "" : " (override not in effect)");
    buf_printf(out, "policy: %s (%zu rules)\n", snap->cf->rate.policy ? snap->cf->rate.policy
               : "none", snap->policy ? snap->policy->n : 0);
    control_rule_counts(svc, snap, out);
    buf_puts(out, "OK\n");
}

/* control_handle - answer one request from peer */
void control_handle(const SERVICES *svc, const char *request, const CONTROL_PEER *peer, BUF *out)
{
    char *copy = xstrdup(request), *save = NULL, *words[16];
    size_t nw = 0;
    SNAPSHOT *snap = snapshot_acquire();

    copy[strcspn(copy, "\r\n")] = 0;      /* one line: the first */
    control_clean(copy);
    for (char *t = strtok_r(copy, " \t\r\n", &save); t && nw < 16; t = strtok_r(NULL, " \t\r\n", &save))
        words[nw++] = t;
    if (nw > 0 && control_writes(words[0]) && !control_privileged(peer)) {
        long uid = peer ? peer->uid : -1, pid = peer ? peer->pid : -1, self = peer ? peer->self_uid : -1;

        log_warn("control socket: %.32s refused: peer uid=%ld pid=%ld is neither root nor uid %ld "
                 "(the daemon's own)", words[0], uid, pid, self);
        buf_printf(out, "ERR permission denied: %.32s changes state and needs root or uid %ld "
                   "(the daemon's own); you are uid %ld\n", words[0], self, uid);
    } else if (snap == NULL)
        buf_puts(out, "ERR not configured\n");
    else if (nw == 0)
        buf_puts(out, "ERR empty request\n");
    else if (strcasecmp(words[0], "EXPLAIN") == 0)
        control_explain(svc, snap, words + 1, nw - 1, out);
    else if ((strcasecmp(words[0], "SHOW") == 0 || strcasecmp(words[0], "RESET") == 0) && nw == 2)
        control_key(svc, snap, words[0], words[1], out);
    else if (strcasecmp(words[0], "STATS") == 0)
        control_stats(svc, snap, out);
    else
        buf_printf(out, "ERR unknown request %s (EXPLAIN, SHOW KEY, RESET KEY, STATS)\n", words[0]);
    snapshot_release(snap);
    free(copy);
}

/* control_peer - who is at the other end of fd (uid -1 if unknown) */
static void control_peer(int fd, CONTROL_PEER *peer)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);

    peer->uid = peer->pid = -1;
    peer->self_uid = (long) geteuid();
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && len == sizeof(cr)) {
        peer->uid = (long) cr.uid;
        peer->pid = (long) cr.pid;
    } else
        log_warn("control socket: cannot tell who connected (%s): nothing that changes state "
                 "is allowed", strerror(errno));
}

/* control_serve - read one line, answer, close */
static void control_serve(const SERVICES *svc, int fd)
{
    char line[CONTROL_LINE_MAX + 1];
    size_t len = 0;
    BUF out;
    struct pollfd p = {fd, POLLIN, 0};
    CONTROL_PEER peer;

    while (len < CONTROL_LINE_MAX && memchr(line, '\n', len) == NULL) {
        ssize_t got;

        if (poll(&p, 1, 5000) <= 0)
            break;
        if ((got = read(fd, line + len, CONTROL_LINE_MAX - len)) <= 0)
            break;
        len += (size_t) got;
    }
    line[len] = 0;
    buf_init(&out, 1 << 20);
    control_peer(fd, &peer);
    if (memchr(line, '\n', len) == NULL)
        buf_puts(&out, "ERR request line missing or longer than 4096 bytes\n");
    else
        control_handle(svc, line, &peer, &out);
    for (size_t off = 0; off < out.len;) {
        ssize_t w = write(fd, out.data + off, out.len - off);

        if (w <= 0)
            break;
        off += (size_t) w;
    }
    buf_free(&out);
}

static void *control_thread(void *arg)
{
    const SERVICES *svc = arg;

    while (control_running) {
        struct pollfd p = {control_fd, POLLIN, 0};
        int fd;

        if (poll(&p, 1, 500) <= 0)
            continue;
        if ((fd = accept4(control_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
            continue;
        control_serve(svc, fd);
        close(fd);
    }
    return NULL;
}

/* control_fail - log why the socket cannot be offered; close (and remove) it */
static int control_fail(const char *path, const char *what, int bound)
{
    log_warn("ControlSocket %s: %s: %s", path, what, strerror(errno));
    if (bound)
        (void) unlink(path);
    close(control_fd);
    control_fd = -1;
    return -1;
}

int control_open(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
    struct sockaddr_un sun;
    mode_t old;
    int rc;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        log_warn("ControlSocket %s: path too long", path);
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        log_warn("ControlSocket %s: %s", path, strerror(errno));
        return -1;
    }
    (void) unlink(path);
    /* Born owner-only; owner, group and mode are set before anyone may connect. */
    old = umask(0177);
    rc = bind(control_fd, (struct sockaddr *) &sun, sizeof(sun));
    umask(old);
    if (rc < 0)
        return control_fail(path, "cannot bind", 0);
    if ((uid != (uid_t) -1 || gid != (gid_t) -1) && lchown(path, uid, gid) < 0)
        return control_fail(path, "cannot set its owner and group", 1);
    if (chmod(path, mode) < 0)
        return control_fail(path, "cannot set its mode", 1);
    if (listen(control_fd, 16) < 0)
        return control_fail(path, "cannot listen", 1);
    util_strlcpy(control_path, path, sizeof(control_path));
    return 0;
}

int control_start(const SERVICES *svc)
{
    sigset_t all;
    pthread_attr_t attr;
    int rc;

    if (control_fd < 0)
        return 0;
    /* Signals belong to the main thread (see daemon.c); it never blocks
     * them itself, so the new thread is born with them blocked. */
    sigfillset(&all);
    control_svc = *svc;
    control_running = 1;
    rc = pthread_attr_init(&attr);
    if (rc == 0 && (rc = pthread_attr_setsigmask_np(&attr, &all)) == 0)
        rc = pthread_create(&control_tid, &attr, control_thread, &control_svc);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        control_running = 0;
        log_err("cannot start the control socket thread");
        return -1;
    }
    return 0;
}

void control_stop(void)
{
    if (control_fd < 0)
        return;
    if (control_running) {
        control_running = 0;
        pthread_join(control_tid, NULL);
    }
    close(control_fd);
    control_fd = -1;
    (void) unlink(control_path);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_check.c - txmilter -n beyond parsing: likely mistakes, and what
 * would only fail at run time
 *
 * SYNOPSIS
 *	#include "conf_check.h"
 *
 *	void	conf_check_warnings(const SNAPSHOT *snap, BUF *warns)
 *	void	conf_check_log_warnings(const SNAPSHOT *snap)
 *	int	conf_check_runtime(const SNAPSHOT *snap, BUF *errs, BUF *warns)
 *
 * DESCRIPTION
 *	conf_check_warnings() appends "file:line: warning: ..." lines for
 *	what works but is probably not meant: the OpenDKIM directives the
 *	parser ignored (cf->warnings); an InternalHosts entry that lets
 *	every client in ("0.0.0.0/0", "::/0", any "/0", "*": an open
 *	signer); a Socket on every interface (inet: without @host, or
 *	@0.0.0.0, @[::]); a flat SigningTable (no "refile:") whose patterns
 *	hold '*' other than OpenDKIM's "*" and "user@*" fallbacks: they
 *	match only that literal text, so mail is never signed with them.
 *	conf_check_log_warnings() logs the same lines (start-up, reload).
 *
 *	conf_check_runtime() is for txmilter -n only. Errors: the UserID
 *	user or group does not exist; a file the daemon reads again as that
 *	user on reload (the configuration, every table and dataset file, the
 *	key files, RateLimitPolicy, UnsubscribeKeyFile, PublicSuffixList,
 *	TrustAnchorFile) opens now but not for that user: a forked child
 *	drops to the user (initgroups, setgid, setuid, as the daemon does)
 *	and opens each one, without blocking; DataDirectory is missing, not
 *	a directory, or not writable by that user when the embedded
 *	suppression list lives there. Warnings: a Redis Store does not
 *	answer a PING within one second (that one line: the pool asked is
 *	quiet, so the reason does not come twice); the resolver does not answer one
 *	query (the first key's DKIM record, or the root's NS) within
 *	DNSTimeout, when the alignment preflight uses DNS. Run as another
 *	user than root and UserID, the access checks are left out with a
 *	warning.
 *
 * DIAGNOSTICS
 *	conf_check_runtime() returns -1 when it appended an error, 0
 *	otherwise. Each line names the file:line that set what is wrong.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf_check.h"
#include "dataset.h"
#include "dns.h"
#include "log.h"
#include "proc.h"
#include "rate_store_failover.h"
#include "redis_pool.h"
#include "unsub_msg.h"

#define CC_WHERE_MAX 1024
#define CC_REDIS_MS 1000                /* one PING: connect and answer */

/* One file the daemon opens again as UserID. */
typedef struct cc_item {
    char    where[CC_WHERE_MAX];
    const char *what;           /* the directive, or "KeyTable key file" */
    const char *path;
    int     is_key;             /* a private key: must stay 0600, chown it */
    int     dir;                /* DataDirectory: a directory to write into */
    int     err;                /* errno as the user, 0: fine */
} CC_ITEM;

typedef struct cc_list {
    CC_ITEM *v;
    size_t  n, cap;
} CC_LIST;

/* cc_warn_internal - InternalHosts entries that let every client in */
static void cc_warn_internal(const TXCONF *cf, BUF *warns)
{
    char where[CC_WHERE_MAX];
    DATASET *ds;

    conf_where(cf, "InternalHosts", where, sizeof(where));
    if ((ds = dataset_load(cf->outbound.internal_hosts, where, NULL)) == NULL)
        return;
    for (size_t i = 0; i < ds->n; i++) {
        const char *k = ds->ent[i].key;
        size_t len = strlen(k);

        if (k[0] == '!' || !(strcmp(k, "*") == 0 || (len > 2 && strcmp(k + len - 2, "/0") == 0)))
            continue;
        util_err_at(warns, ds->ent[i].file, ds->ent[i].line,
                    "warning: InternalHosts %s lets every client in: anyone who reaches the "
                    "relay gets mail signed as your domains (an open signer); list your own "
                    "networks", k);
    }
    dataset_free(ds);
}

/* cc_warn_socket - a TCP socket that listens on every interface */
static void cc_warn_socket(const TXCONF *cf, BUF *warns)
{
    char where[CC_WHERE_MAX];
    const char *at;

    if (cf->daemon.socket == NULL || (strncmp(cf->daemon.socket, "inet:", 5) != 0
                               && strncmp(cf->daemon.socket, "inet6:", 6) != 0))
        return;
    at = strchr(cf->daemon.socket, '@');
    if (at && strcmp(at, "@0.0.0.0") != 0 && strcmp(at, "@[::]") != 0 && strcmp(at, "@::") != 0)
        return;
    conf_where(cf, "Socket", where, sizeof(where));
    util_err_at(warns, where, 0, "warning: Socket %s listens on every interface: use "
                "inet:PORT@localhost unless remote MTAs must connect (then firewall the port)",
                cf->daemon.socket);
}

/* cc_flat_star - a flat SigningTable key that holds '*' but never matches */
static int cc_flat_star(const char *k)
{
    const char *at = strchr(k, '@');

    if (strchr(k, '*') == NULL || strcmp(k, "*") == 0)
        return 0;
    /* "user@*" is OpenDKIM's per-user fallback */
    return !(at && strcmp(at, "@*") == 0 && memchr(k, '*', (size_t) (at - k)) == NULL);
}

/* cc_warn_signingtable - '*' patterns in a SigningTable without refile: */
static void cc_warn_signingtable(const TXCONF *cf, BUF *warns)
{
    char where[CC_WHERE_MAX];
    DATASET *ds;
    const char *path;

    if (cf->sign.signingtable == NULL || (path = dataset_path(cf->sign.signingtable)) == NULL
        || strncasecmp(cf->sign.signingtable, "refile:", 7) == 0)
        return;
    conf_where(cf, "SigningTable", where, sizeof(where));
    if ((ds = dataset_load(cf->sign.signingtable, where, NULL)) == NULL)
        return;
    for (size_t i = 0; i < ds->n; i++)
        if (cc_flat_star(ds->ent[i].key))
            util_err_at(warns, ds->ent[i].file, ds->ent[i].line,
                        "warning: \"%s\" never matches: without refile: the SigningTable's "
                        "'*' is no wildcard; write \"SigningTable refile:%s\" (%s)%s",
                        ds->ent[i].key, path, where, cf->sign.on_nokey == CONF_ACT_ACCEPT
                        ? "; with On-NoKey accept that mail goes out unsigned" : "");
    dataset_free(ds);
}

/* conf_check_warnings - what works but is probably not meant */
void conf_check_warnings(const SNAPSHOT *snap, BUF *warns)
{
    const TXCONF *cf = snap->cf;

    for (size_t i = 0; i < cf->warnings.n; i++)
        (void) buf_printf(warns, "%s\n", cf->warnings.v[i]);
    cc_warn_internal(cf, warns);
    cc_warn_socket(cf, warns);
    cc_warn_signingtable(cf, warns);
}

/* conf_check_log_warnings - the warnings, one log line each */
void conf_check_log_warnings(const SNAPSHOT *snap)
{
    BUF warns;
    char *line, *save = NULL;

    buf_init(&warns, 64 * 1024);
    conf_check_warnings(snap, &warns);
    for (line = strtok_r(warns.data ? warns.data : (char *) "", "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        log_warn("%s", line);
    buf_free(&warns);
}

/* cc_add - one more file the daemon opens as UserID */
static CC_ITEM *cc_add(CC_LIST *l, const TXCONF *cf, const char *what, const char *path)
{
    CC_ITEM *it;
    int fd;

    if (path == NULL || *path == 0)
        return NULL;
    /* what cannot be opened now was reported by its reader already */
    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
        return NULL;
    (void) close(fd);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    it = &l->v[l->n++];
    memset(it, 0, sizeof(*it));
    conf_where(cf, what, it->where, sizeof(it->where));
    it->what = what;
    it->path = path;
    return it;
}

/* cc_collect - every file a reload reads, with the line to blame */
static void cc_collect(const SNAPSHOT *snap, const char *conf_path, CC_LIST *l)
{
    const TXCONF *cf = snap->cf;
    CC_ITEM *it;

    if ((it = cc_add(l, cf, "configuration file", conf_path)) != NULL)
        snprintf(it->where, sizeof(it->where), "%s", conf_path);
#define CC_DATASET(name, spec) (void) cc_add(l, cf, name, (spec) ? dataset_path(spec) : NULL)
    CC_DATASET("InternalHosts", cf->outbound.internal_hosts);
    CC_DATASET("MTA", cf->outbound.mta);
    CC_DATASET("KeyTable", cf->sign.keytable);
    CC_DATASET("SigningTable", cf->sign.signingtable);
    CC_DATASET("Domain", cf->sign.domain);
    CC_DATASET("UnsubscribeTable", cf->unsub.table);
    CC_DATASET("UnsubscribeExempt", cf->unsub.exempt);
#undef CC_DATASET
    (void) cc_add(l, cf, "RateLimitPolicy", cf->rate.policy);
    (void) cc_add(l, cf, "UnsubscribeKeyFile", cf->unsub.keyfile);
    if (conf_preflight(cf))
        (void) cc_add(l, cf, "PublicSuffixList", cf->align.public_suffix_list);
    (void) cc_add(l, cf, "TrustAnchorFile", cf->align.trust_anchor_file);
    if (snap->kt) {
        size_t n;
        const KEYTABLE_KEY *k = keytable_keys(snap->kt, &n);

        for (size_t i = 0; i < n; i++) {
            if (k[i].keypath == NULL || strchr(k[i].keypath, '%'))
                continue;
            if (cf->sign.keyfile && strcmp(k[i].keypath, cf->sign.keyfile) == 0) {
                it = cc_add(l, cf, "KeyFile", k[i].keypath);
            } else if ((it = cc_add(l, cf, "KeyTable key file", k[i].keypath)) != NULL) {
                snprintf(it->where, sizeof(it->where), "%s:%d", k[i].file, k[i].line);
            }
            if (it)
                it->is_key = 1;
        }
    }
}

/* cc_try - as the user now: can it open each file, write the directory */
static void cc_try(CC_LIST *l, int fd)
{
    for (size_t i = 0; i < l->n; i++) {
        CC_ITEM *it = &l->v[i];
        struct stat st;
        int e = 0, f;

        if (it->dir) {
            if (stat(it->path, &st) < 0)
                e = errno;
            else if (!S_ISDIR(st.st_mode))
                e = ENOTDIR;
            else if (access(it->path, W_OK | X_OK) < 0)
                e = errno;
        } else if ((f = open(it->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
            e = errno;
        } else {
            (void) close(f);
        }
        if (write(fd, &e, sizeof(e)) != (ssize_t) sizeof(e))
            return;
    }
}

/* cc_as_user - run cc_try() in a child that became uid/gid; -1 if it could not */
static int cc_as_user(CC_LIST *l, uid_t uid, gid_t gid, const char *name, int drop)
{
    int pfd[2], status;
    pid_t pid;
    size_t got = 0;
    char *p;

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -1;
    if ((pid = fork()) < 0) {
        (void) close(pfd[0]);
        (void) close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        (void) close(pfd[0]);
        if (drop && proc_drop(uid, gid, name) < 0)
            _exit(1);
        cc_try(l, pfd[1]);
        _exit(0);
    }
    (void) close(pfd[1]);
    for (size_t i = 0; i < l->n; i++) {
        int e;
        ssize_t r;

        p = (char *) &e;
        for (got = 0; got < sizeof(e); got += (size_t) r)
            if ((r = read(pfd[0], p + got, sizeof(e) - got)) <= 0)
                break;
        if (got < sizeof(e))
            break;
        l->v[i].err = e;
    }
    (void) close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        /* void */ ;
    return got == sizeof(int) || l->n == 0 ? 0 : -1;
}

/* cc_report - the files the user cannot read, the directory it cannot write */
static int cc_report(const CC_LIST *l, const char *user, const char *group, BUF *errs)
{
    int rc = 0;

    for (size_t i = 0; i < l->n; i++) {
        const CC_ITEM *it = &l->v[i];

        if (it->err == 0)
            continue;
        rc = -1;
        if (it->dir && (it->err == ENOENT || it->err == ENOTDIR))
            util_err_at(errs, it->where, 0, "DataDirectory %s: %s: create the directory, "
                        "owned by %s (the embedded suppression list keeps its SQLite file there)",
                        it->path, strerror(it->err), user);
        else if (it->dir)
            util_err_at(errs, it->where, 0, "DataDirectory %s: %s cannot write it (%s): "
                        "chown %s %s", it->path, user, strerror(it->err), user, it->path);
        else if (it->is_key)
            util_err_at(errs, it->where, 0, "%s %s: %s cannot read it (%s), so a reload "
                        "(SIGHUP), which runs as that user, fails: chown %s %s", it->what,
                        it->path, user, strerror(it->err), user, it->path);
        else
            util_err_at(errs, it->where, 0, "%s %s: %s cannot read it (%s), so a reload "
                        "(SIGHUP), which runs as that user, fails: chgrp %s and chmod g+r it "
                        "(and its directories)", it->what, it->path, user, strerror(it->err),
                        group);
    }
    return rc;
}

/* cc_suppress_dir - DataDirectory, when the embedded suppression list uses it */
static const char *cc_suppress_dir(const TXCONF *cf)
{
    if (cf->unsub.data_directory == NULL || strcasecmp(cf->rate.store, "embedded") != 0)
        return NULL;
    if (!conf_suppression_list(cf))
        return NULL;
    return cf->unsub.data_directory;
}

/* cc_access - the UserID exists and can read and write what it must */
static int cc_access(const SNAPSHOT *snap, BUF *errs, BUF *warns)
{
    const TXCONF *cf = snap->cf;
    char where[CC_WHERE_MAX], *user, *colon, *gname;
    struct passwd *pw;
    struct group *gr;
    uid_t uid = geteuid();
    gid_t gid = getegid();
    CC_LIST l = {NULL, 0, 0};
    CC_ITEM *it;
    const char *dir;
    int rc = 0, drop = 0;

    conf_where(cf, "UserID", where, sizeof(where));
    user = xstrdup(cf->daemon.user ? cf->daemon.user : "");
    if ((colon = strchr(user, ':')) != NULL)
        *colon++ = 0;
    if (cf->daemon.user) {
        if ((pw = getpwnam(user)) == NULL) {
            util_err_at(errs, where, 0, "UserID: no such user \"%s\"", user);
            free(user);
            return -1;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
        if (colon && (gr = getgrnam(colon)) == NULL) {
            util_err_at(errs, where, 0, "UserID: no such group \"%s\"", colon);
            free(user);
            return -1;
        }
        if (colon)
            gid = gr->gr_gid;
        if (uid != geteuid()) {
            if (geteuid() != 0) {
                util_err_at(warns, where, 0, "warning: not run as root: cannot check which "
                            "files UserID %s can read (run txmilter -n as root)", user);
                free(user);
                return 0;
            }
            drop = 1;
        }
    } else {
        free(user);
        user = xstrdup((pw = getpwuid(uid)) ? pw->pw_name : "the running user");
    }
    gname = xstrdup((gr = getgrgid(gid)) ? gr->gr_name : "the UserID group");
    cc_collect(snap, cf->path, &l);
    if ((dir = cc_suppress_dir(cf)) != NULL) {
        if (l.n == l.cap) {
            l.cap = l.cap ? 2 * l.cap : 16;
            l.v = xrealloc(l.v, l.cap * sizeof(*l.v));
        }
        it = &l.v[l.n++];
        memset(it, 0, sizeof(*it));
        conf_where(cf, "DataDirectory", it->where, sizeof(it->where));
        it->what = "DataDirectory";
        it->path = dir;
        it->dir = 1;
    }
    if (cc_as_user(&l, uid, gid, user, drop) < 0) {
        util_err_at(errs, where, 0, "cannot check what %s can read: the checking process "
                    "failed", user);
        rc = -1;
    } else {
        rc = cc_report(&l, user, gname, errs);
    }
    free(l.v);
    free(user);
    free(gname);
    return rc;
}

/* cc_redis - a Redis Store answers one PING; one warning if not (the pool logs nothing) */
static void cc_redis(const TXCONF *cf, BUF *warns)
{
    REDIS_POOL_OPTS o = {CC_REDIS_MS, CC_REDIS_MS, 1, 0};
    char where[CC_WHERE_MAX];
    REDIS_POOL *pool;
    BUF err;

    if (strcasecmp(cf->rate.store, "embedded") == 0)
        return;
    buf_init(&err, 1024);
    if ((pool = redis_pool_new(cf->rate.store, &o, &err)) != NULL)
        redis_pool_quiet(pool);
    if (pool && redis_pool_ping(pool, &err) < 0) {
        conf_where(cf, "Store", where, sizeof(where));
        util_err_at(warns, where, 0, "warning: Store %s does not answer (%s): until it does, "
                    "StoreFailure %s applies", cf->rate.store, err.data ? err.data : "no reply",
                    rate_store_failover_policy_str((RATE_STORE_FAILURE) cf->rate.store_failure));
    }
    redis_pool_free(pool);
    buf_free(&err);
}

/* cc_resolver - the resolver answers one query within DNSTimeout */
static int cc_resolver(const SNAPSHOT *snap, BUF *errs, BUF *warns)
{
    const TXCONF *cf = snap->cf;
    char where[CC_WHERE_MAX], name[600];
    DNS_ANSWER ans;
    DNS_SETTINGS ds;
    BUF err;
    int rrtype = ns_t_ns;

    if (!conf_preflight(cf))
        return 0;
    conf_where(cf, cf->align.nameservers ? "Nameservers" : "TrustAnchorFile", where, sizeof(where));
    buf_init(&err, 1024);
    ds = conf_dns(cf);
    if (dns_init(&ds, &err) < 0) {
        util_err_at(errs, where, 0, "cannot start the resolver: %s",
                    err.data ? err.data : "unknown error");
        buf_free(&err);
        return -1;
    }
    buf_free(&err);
    snprintf(name, sizeof(name), ".");
    if (snap->kt) {
        size_t n;
        const KEYTABLE_KEY *k = keytable_keys(snap->kt, &n);

        if (n > 0 && strcmp(k[0].domain, "%") != 0) {
            snprintf(name, sizeof(name), "%s._domainkey.%s", k[0].selector, k[0].domain);
            rrtype = ns_t_txt;
        }
    }
    memset(&ans, 0, sizeof(ans));
    dns_budget_begin(cf->align.dns_timeout);
    dns_lookup(NULL, name, rrtype, &ans);
    dns_budget_end();
    if (ans.status == DNS_TEMPFAIL)
        util_err_at(warns, where, 0, "warning: the resolver (%s) gave no answer for %s: %s; "
                    "until it does, the alignment preflight follows On-DNSError %s",
                    cf->align.nameservers ? cf->align.nameservers : "/etc/resolv.conf", name,
                    ans.why[0] ? ans.why : "temporary failure",
                    cf->align.on_dnserror == CONF_ACT_ACCEPT ? "accept" : "tempfail");
    dns_answer_free(&ans);
    dns_shutdown();
    return 0;
}

/* conf_check_runtime - what would fail later, checked now */
int conf_check_runtime(const SNAPSHOT *snap, BUF *errs, BUF *warns)
{
    int rc = 0;

    if (cc_access(snap, errs, warns) < 0)
        rc = -1;
    cc_redis(snap->cf, warns);
    if (cc_resolver(snap, errs, warns) < 0)
        rc = -1;
    return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.c - the txmilter daemon: startup, privileges, signals, reload.
 *
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	int	daemon_run(const char *path, int foreground)
 *
 * DESCRIPTION
 *	daemon_run() builds the first configuration snapshot (refusing to
 *	start on any error), opens the milter socket as the starting user,
 *	hands a unix socket to UserID, sets TCP_NODELAY on an inet listener,
 *	detaches unless -f, writes PidFile, drops to UserID, then runs
 *	libmilter's smfi_main() in a thread of its own.
 *
 *	Signals. libmilter treats SIGHUP like SIGTERM and, on SIGTERM,
 *	abandons connections in flight. So the main thread keeps HUP, TERM
 *	and INT unblocked with handlers of its own, while libmilter's threads
 *	block them (smfi_main() does so in the thread that runs it). The
 *	kernel delivers a signal sent to the process to the main thread when
 *	that thread does not block it, so these signals come here:
 *	  SIGHUP   build a new snapshot in a reload thread of its own; swap
 *	           it in only if it is complete, otherwise log why and keep
 *	           serving with the old one (SIGUSR1 does the same, as it does
 *	           for OpenDKIM). A reload that turns off signing, rate
 *	           limiting, List-Unsubscribe or the preflight is applied and
 *	           logged as an error naming what went off. The main thread
 *	           never waits for a reload: a SIGHUP during one is logged and
 *	           runs after it, and SIGTERM stops the daemon regardless;
 *	  SIGTERM, SIGINT
 *	           stop taking new messages, let those in flight finish (at
 *	           most ShutdownTimeout seconds), then stop libmilter.
 *
 * DIAGNOSTICS
 *	daemon_run() returns the exit status: 1 after logging why the
 *	daemon cannot start (configuration with file:line, socket,
 *	privileges, pid file), 0 after a clean stop. A reload that fails
 *	is logged and leaves the running configuration in place.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "conf.h"
#include "conf_check.h"
#include "control.h"
#include "daemon_metrics.h"
#include "rate_match.h"
#include "rate_store_failover.h"
#include "rate_store_mem.h"
#include "rate_store_redis.h"
#include "redis_pool.h"
#include "suppress.h"
#include "unsub_msg.h"
#include "daemon.h"
#include "proc.h"
#include "log.h"
#include "preflight.h"
#include "sign_key.h"
#include "snapshot.h"
#include "util.h"

static int daemon_pipe[2] = {-1, -1};
static volatile sig_atomic_t daemon_got_hup, daemon_got_term;

/* The reload thread's state, under daemon_reload_lock. */
static pthread_mutex_t daemon_reload_lock = PTHREAD_MUTEX_INITIALIZER;
static int daemon_reloading;            /* a reload thread runs */
static int daemon_reload_again;         /* a SIGHUP came while it ran */
static int daemon_stopping;             /* shutdown began: install nothing */
static time_t daemon_reload_since;

/* daemon_signal - note the signal and wake the main loop */
static void daemon_signal(int sig)
{
    int saved = errno;
    char c = (char) sig;

    if (sig == SIGHUP || sig == SIGUSR1)
        daemon_got_hup = 1;
    else
        daemon_got_term = 1;
    if (daemon_pipe[1] >= 0) {
        ssize_t w = write(daemon_pipe[1], &c, 1);
        (void) w;
    }
    errno = saved;
}

/* daemon_socket_spec - the libmilter form of the Socket value */
static char *daemon_socket_spec(const char *s, int *is_unix, const char **path)
{
    *path = NULL;
    *is_unix = 0;
    if (s[0] == '/') {
        *is_unix = 1;
        *path = s;
        return xasprintf("unix:%s", s);
    }
    if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
        *is_unix = 1;
        *path = strchr(s, ':') + 1;
    }
    return xstrdup(s);
}

/* daemon_nodelay - TCP_NODELAY on the inet listener libmilter opened.
 * libmilter does not expose the descriptor; the listener is the only
 * listening socket in the process, so find it. Accepted sockets inherit
 * the option on Linux. */
static void daemon_nodelay(void)
{
    int fd, found = 0;

    for (fd = 0; fd < 1024; fd++) {
        int listening = 0, one = 1;
        socklen_t len = sizeof(listening);
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);

        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
            continue;
        if (getsockname(fd, (struct sockaddr *) &ss, &sl) < 0
            || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
            log_warn("cannot set TCP_NODELAY on the milter socket: %s", strerror(errno));
        else
            found = 1;
    }
    if (!found)
        log_warn("milter listener not found: TCP_NODELAY not set; replies may stall on Nagle's algorithm");
}

/* daemon_check_key_owners - keys are read again as UserID on SIGHUP */
static void daemon_check_key_owners(SNAPSHOT *snap, uid_t uid)
{
    size_t n;
    const KEYTABLE_KEY *k = keytable_keys(snap->kt, &n);
    struct stat st;

    for (size_t i = 0; i < n; i++) {
        if (k[i].keypath == NULL || strchr(k[i].keypath, '%') || stat(k[i].keypath, &st) < 0)
            continue;
        if (st.st_uid != uid)
            log_warn("%s is owned by uid %ld, not by UserID %s: txmilter starts, but a reload "
                     "(SIGHUP) will not be able to read it; chown it to %s",
                     k[i].keypath, (long) st.st_uid, snap->cf->daemon.user, snap->cf->daemon.user);
    }
}

/* daemon_store - the rate store for the process's lifetime; with Redis,
 * *pool is its connection pool, for the suppression list to share */
static RATE_STORE *daemon_store(const TXCONF *cf, REDIS_POOL **pool)
{
    RATE_STORE *local = rate_store_mem_new((size_t) cf->rate.max_keys, NULL), *primary;
    REDIS_POOL_OPTS o;
    BUF err;

    *pool = NULL;
    if (strcasecmp(cf->rate.store, "embedded") == 0)
        return local;
    memset(&o, 0, sizeof(o));
    o.connect_timeout_ms = (unsigned) cf->rate.store_connect_timeout_ms;
    o.timeout_ms = (unsigned) cf->rate.store_timeout_ms;
    o.pool_size = 8;
    o.retry_ms = (unsigned) cf->rate.store_retry_ms;
    buf_init(&err, 1024);
    if ((*pool = redis_pool_new(cf->rate.store, &o, &err)) == NULL
        || (primary = rate_store_redis_open(*pool, NULL, &err)) == NULL) {
        log_err("Store %s: %s", cf->rate.store, err.data ? err.data : "");   /* checked by snapshot_build() */
        buf_free(&err);
        redis_pool_free(*pool);
        *pool = NULL;
        local->ops->free(local);
        return NULL;
    }
    buf_free(&err);
    if (cf->rate.store_failure != RATE_STORE_FAIL_LOCAL) {
        local->ops->free(local);
        local = NULL;
    }
    /* 0: the pool's breaker (shared with the suppression list) decides when to probe */
    return rate_store_failover_new(primary, local, (RATE_STORE_FAILURE) cf->rate.store_failure, 0);
}

/* daemon_suppress - the suppression list: on the rate store's pool with Redis */
static SUPPRESS *daemon_suppress(const TXCONF *cf, REDIS_POOL *pool, BUF *err)
{
    char what[160];

    if (pool == NULL)
        return suppress_open(cf->rate.store, cf->unsub.data_directory, (unsigned) cf->rate.store_timeout_ms, err);
    if ((RATE_STORE_FAILURE) cf->rate.store_failure == RATE_STORE_FAIL_TEMPFAIL)
        snprintf(what, sizeof(what), "StoreFailure tempfail: messages are deferred (451 4.3.0)");
    else
        snprintf(what, sizeof(what), "StoreFailure %s: messages go out without the suppression "
                 "check", (RATE_STORE_FAILURE) cf->rate.store_failure == RATE_STORE_FAIL_LOCAL
                 ? "local" : "accept");
    return suppress_open_pool(pool, what);
}

static void *daemon_milter_thread(void *arg)
{
    int *rc = arg;

    *rc = smfi_main();
    return NULL;
}

/* What the reload thread needs; allocated once, outlives a reload that
 * is still running at exit. */
typedef struct daemon_reload_arg {
    const char *path;
    DAEMON_METRICS *metrics;
} DAEMON_RELOAD_ARG;

/* daemon_reload - SIGHUP: a complete new snapshot, or the old one stays */
static void daemon_reload(const DAEMON_RELOAD_ARG *rl, const TXCONF *running)
{
    const char *path = rl->path;
    BUF errs, off;
    SNAPSHOT *snap;
    int stopping;

    buf_init(&errs, 64 * 1024);
    snap = snapshot_build(path, &errs);
    if (snap == NULL) {
        char *line, *save = NULL;

        log_err("reload of %s failed; the previous configuration stays in force:", path);
        for (line = strtok_r(errs.data ? errs.data : "", "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            log_err("%s", line);
        buf_free(&errs);
        daemon_metrics_reloaded(rl->metrics, 0);
        return;
    }
    if (strcmp(snap->cf->daemon.socket, running->daemon.socket) != 0
        || (snap->cf->daemon.user == NULL) != (running->daemon.user == NULL)
        || (snap->cf->daemon.user && strcmp(snap->cf->daemon.user, running->daemon.user) != 0))
        log_warn("reload: Socket and UserID changes take effect only after a restart");
    if ((snap->cf->daemon.metrics_listen == NULL) != (running->daemon.metrics_listen == NULL)
        || (snap->cf->daemon.metrics_listen
            && strcmp(snap->cf->daemon.metrics_listen, running->daemon.metrics_listen) != 0))
        log_warn("reload: MetricsListen changes take effect only after a restart");
    conf_check_log_warnings(snap);
    if (strcmp(snap->cf->rate.store, running->rate.store) != 0 || snap->cf->rate.store_failure != running->rate.store_failure
        || snap->cf->rate.store_timeout_ms != running->rate.store_timeout_ms
        || snap->cf->rate.store_connect_timeout_ms != running->rate.store_connect_timeout_ms
        || snap->cf->rate.store_retry_ms != running->rate.store_retry_ms
        || snap->cf->rate.max_keys != running->rate.max_keys
        || (snap->cf->daemon.control_socket == NULL) != (running->daemon.control_socket == NULL)
        || (snap->cf->daemon.control_socket && strcmp(snap->cf->daemon.control_socket, running->daemon.control_socket))
        || snap->cf->daemon.control_socket_mode != running->daemon.control_socket_mode
        || (snap->cf->daemon.control_socket_group == NULL) != (running->daemon.control_socket_group == NULL)
        || (snap->cf->daemon.control_socket_group
            && strcmp(snap->cf->daemon.control_socket_group, running->daemon.control_socket_group)))
        log_warn("reload: Store*, RateLimitMaxKeys and ControlSocket* changes take effect only "
                 "after a restart; rate policy changes apply now");
    /* A valid file that turns a protection off may be meant (the operator
     * edited it), so it is applied; but never quietly. */
    buf_init(&off, 1024);
    if (conf_turned_off(running, snap->cf, &off) > 0)
        log_err("reload of %s turns off %s: outbound mail goes on without it; if that is not "
                "intended, restore the directives and reload again", path, off.data);
    buf_free(&off);
    /* SIGTERM may have come while the snapshot was built: nothing is
     * installed once shutdown has begun. */
    pthread_mutex_lock(&daemon_reload_lock);
    if ((stopping = daemon_stopping) == 0)
        snapshot_install(snap);
    pthread_mutex_unlock(&daemon_reload_lock);
    if (stopping) {
        snapshot_release(snap);
        buf_free(&errs);
        return;
    }
    log_set_debug(snap->cf->daemon.logwhy);
    daemon_metrics_reloaded(rl->metrics, 1);
    log_info("configuration reloaded from %s (generation %lu)", path, snap->generation);
    buf_free(&errs);
}

/* daemon_reload_thread - reload until no SIGHUP is pending */
static void *daemon_reload_thread(void *arg)
{
    const DAEMON_RELOAD_ARG *rl = arg;

    for (;;) {
        SNAPSHOT *cur = snapshot_acquire();

        if (cur != NULL) {
            daemon_reload(rl, cur->cf);
            snapshot_release(cur);
        }
        pthread_mutex_lock(&daemon_reload_lock);
        if (!daemon_reload_again || daemon_stopping) {
            daemon_reloading = 0;
            pthread_mutex_unlock(&daemon_reload_lock);
            return NULL;
        }
        daemon_reload_again = 0;
        daemon_reload_since = time(NULL);
        pthread_mutex_unlock(&daemon_reload_lock);
    }
}

/* daemon_thread - a thread that never takes the main thread's signals */
static int daemon_thread(pthread_t *tid, void *(*fn) (void *), void *arg, int detached)
{
    sigset_t block;
    pthread_attr_t attr;
    int rc;

    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGUSR1);
    if (pthread_attr_init(&attr) != 0)
        return -1;
    rc = pthread_attr_setsigmask_np(&attr, &block) == 0
        && (!detached || pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0)
        && pthread_create(tid, &attr, fn, arg) == 0 ? 0 : -1;
    pthread_attr_destroy(&attr);
    return rc;
}

/* daemon_hup - start a reload in its own thread, so that nothing a reload
 * waits for can keep the main thread from SIGTERM or later SIGHUPs */
static void daemon_hup(DAEMON_RELOAD_ARG *rl)
{
    pthread_t tid;

    pthread_mutex_lock(&daemon_reload_lock);
    if (daemon_reloading) {
        daemon_reload_again = 1;
        log_warn("SIGHUP: the reload started %ld s ago has not finished; another follows when it does",
                 (long) (time(NULL) - daemon_reload_since));
    } else {
        daemon_reloading = 1;
        daemon_reload_since = time(NULL);
        if (daemon_thread(&tid, daemon_reload_thread, rl, 1) < 0) {
            daemon_reloading = 0;
            log_err("SIGHUP: cannot start a reload thread; the configuration stays as it was");
        }
    }
    pthread_mutex_unlock(&daemon_reload_lock);
}

/* daemon_socket_error - why the milter socket cannot be opened, as precisely
 * as we can tell (libmilter itself says nothing useful) */
static void daemon_socket_error(const char *spec, const char *upath, int err)
{
    char dir[PATH_MAX];
    const char *slash;
    struct stat st;

    if (upath && (slash = strrchr(upath, '/')) != NULL && slash > upath
        && (size_t) (slash - upath) < sizeof(dir)) {
        memcpy(dir, upath, (size_t) (slash - upath));
        dir[slash - upath] = 0;
        if (stat(dir, &st) < 0) {
            log_err("cannot open milter socket %s: directory %s: %s", spec, dir, strerror(errno));
            return;
        }
        if (!S_ISDIR(st.st_mode)) {
            log_err("cannot open milter socket %s: %s is not a directory", spec, dir);
            return;
        }
    }
    log_err("cannot open milter socket %s: %s", spec, err ? strerror(err) : "libmilter gives no reason");
}

/* daemon_control_open - the control socket, owned by UserID (uid, gid)
 * and ControlSocketGroup; -1 only for a group that does not exist */
static int daemon_control_open(const TXCONF *cf, uid_t uid, gid_t gid)
{
    uid_t cuid = cf->daemon.user ? uid : (uid_t) -1;
    gid_t cgid = cf->daemon.user ? gid : (gid_t) -1;

    if (cf->daemon.control_socket_group && proc_group("ControlSocketGroup", cf->daemon.control_socket_group, &cgid) < 0)
        return -1;
    if (control_open(cf->daemon.control_socket, cuid, cgid, cf->daemon.control_socket_mode) < 0)
        log_warn("txmilterctl cannot reach this daemon: no control socket");
    return 0;
}

/* daemon_drain - SIGTERM: let messages in flight finish */
static void daemon_drain(int timeout)
{
    time_t deadline = time(NULL) + timeout;
    int n;

    callbacks_drain();
    if ((n = callbacks_inflight()) == 0)
        log_info("shutting down: no message in flight");
    else
        log_info("shutting down: %d message(s) in flight, waiting up to %d s", n, timeout);
    while ((n = callbacks_inflight()) > 0 && time(NULL) < deadline) {
        struct timespec ts = {0, 50 * 1000 * 1000};

        nanosleep(&ts, NULL);
    }
    if (n > 0)
        log_warn("shutting down with %d message(s) still in flight: the MTA will tempfail them", n);
}

/* What one run of the daemon holds, so that every way out releases it. */
typedef struct daemon_run_state {
    SNAPSHOT   *snap;           /* until snapshot_install(), then NULL */
    char       *spec;           /* libmilter's socket spec */
    const char *upath;          /* the unix socket's path, inside spec */
    int         is_unix;
    uid_t       uid;
    gid_t       gid;
    char       *uname;
    SERVICES    svc;            /* the stores, counters, resolver and clock */
    REDIS_POOL *pool;
    int         preflight;      /* preflight_init() done */
    pthread_t   tid;
    int         milter_rc;
    DAEMON_METRICS *metrics;    /* the counters and MetricsListen */
    DAEMON_RELOAD_ARG *reload;  /* for the reload thread */
} DAEMON_RUN;

/* daemon_open_socket - the milter socket, given to UserID */
static int daemon_open_socket(DAEMON_RUN *d, const TXCONF *cf)
{
    d->spec = daemon_socket_spec(cf->daemon.socket, &d->is_unix, &d->upath);
    umask(cf->daemon.umask);
    if (smfi_setconn(d->spec) != MI_SUCCESS || smfi_register(*callbacks_desc(d->is_unix)) != MI_SUCCESS
        || smfi_opensocket(1) != MI_SUCCESS) {
        daemon_socket_error(cf->daemon.socket, d->is_unix ? d->upath : NULL, errno);
        return -1;
    }
    if (d->is_unix && cf->daemon.user && chown(d->upath, d->uid, d->gid) < 0) {
        log_err("cannot give socket %s to %s: %s", d->upath, cf->daemon.user, strerror(errno));
        return -1;
    }
    if (!d->is_unix)
        daemon_nodelay();               /* conf_check warns about a socket on every interface */
    return 0;
}

/* daemon_signals - our handlers, before anything can send us a signal */
static int daemon_signals(void)
{
    struct sigaction sa;

    /* A SIGTERM that comes as soon as the PidFile exists must find them
     * (and never reach libmilter, see above). */
    if (pipe2(daemon_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        log_err("pipe: %s", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = daemon_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);          /* OpenDKIM's reload signal */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* daemon_become - control socket, detach, PidFile, then UserID for good */
static int daemon_become(DAEMON_RUN *d, const TXCONF *cf, int foreground)
{
    if (cf->daemon.control_socket && daemon_control_open(cf, d->uid, d->gid) < 0)
        return -1;
    if (!foreground && proc_detach() < 0) {
        log_err("cannot detach: %s", strerror(errno));
        return -1;
    }
    if (cf->daemon.pidfile && proc_pidfile(cf->daemon.pidfile, d->uid, d->gid, cf->daemon.user != NULL) < 0)
        return -1;
    if (cf->daemon.user && proc_drop(d->uid, d->gid, d->uname) < 0)
        return -1;
    return 0;
}

/* daemon_services - the rate store, the suppression list, the resolver */
static int daemon_services(DAEMON_RUN *d, const TXCONF *cf)
{
    services_init(&d->svc);
    if ((d->svc.rate = daemon_store(cf, &d->pool)) == NULL)
        return -1;
    if (conf_suppression_list(cf)) {
        BUF err;

        buf_init(&err, 1024);
        d->svc.suppress = daemon_suppress(cf, d->pool, &err);
        if (d->svc.suppress == NULL)
            log_err("cannot open the suppression list (Store %s, DataDirectory %s): %s", cf->rate.store,
                    cf->unsub.data_directory ? cf->unsub.data_directory : "none", err.data ? err.data : "");
        buf_free(&err);
        if (d->svc.suppress == NULL)
            return -1;
    }
    if (preflight_init(cf) < 0)             /* DNS for the alignment preflight, before threads */
        return -1;
    d->preflight = 1;
    d->svc.metrics = daemon_metrics_msg(d->metrics);
    if (daemon_metrics_serve(d->metrics, cf, &d->svc, d->pool) < 0)
        return -1;
    if (!sign_key_active())
        log_warn("libopendkim will parse the private key again for every signature "
                 "(PEM_read_bio_PrivateKey override not in effect): signing is 2 to 4 times slower");
    return 0;
}

/* daemon_release - give back what the run holds (also after a failed start) */
static void daemon_release(DAEMON_RUN *d)
{
    daemon_metrics_free(d->metrics);        /* first: it reads the stores */
    free(d->reload);
    if (d->snap)
        snapshot_release(d->snap);
    else
        snapshot_shutdown();
    if (d->preflight)
        preflight_shutdown();
    if (d->svc.rate)
        d->svc.rate->ops->free(d->svc.rate);
    suppress_close(d->svc.suppress);
    redis_pool_free(d->pool);
    free(d->spec);
    free(d->uname);
}

/* daemon_serve - wait for signals until SIGTERM; 1 if libmilter stopped by itself */
static int daemon_serve(DAEMON_RUN *d)
{
    for (;;) {
        struct pollfd pfd = {daemon_pipe[0], POLLIN, 0};
        char drain[64];

        if (poll(&pfd, 1, 1000) > 0)
            while (read(daemon_pipe[0], drain, sizeof(drain)) > 0)
                ;
        if (daemon_got_term)
            return 0;
        if (daemon_got_hup) {
            daemon_got_hup = 0;
            daemon_hup(d->reload);
        }
        if (pthread_tryjoin_np(d->tid, NULL) == 0) {
            /* libmilter's own signal thread took a signal meant for us
             * (possible only while the main thread cannot take it, e.g.
             * stopped by a debugger), or it failed: stop in order anyway. */
            if (d->milter_rc == MI_SUCCESS)
                log_warn("libmilter stopped by itself: shutting down");
            else
                log_err("libmilter failed (status %d): shutting down", d->milter_rc);
            return 1;
        }
    }
}

/* daemon_stop - drain, stop libmilter and the control socket; 1 if a
 * reload is still running (its thread may use what the run holds) */
static int daemon_stop(DAEMON_RUN *d, int joined)
{
    SNAPSHOT *cur;
    int reloading, timeout;
    char *pidfile;

    pthread_mutex_lock(&daemon_reload_lock);
    daemon_stopping = 1;
    reloading = daemon_reloading;
    pthread_mutex_unlock(&daemon_reload_lock);
    if (reloading)
        log_warn("shutting down while a reload started %ld s ago has not finished: not waiting for it",
                 (long) (time(NULL) - daemon_reload_since));
    cur = snapshot_acquire();
    timeout = cur->cf->daemon.shutdown_timeout;
    pidfile = cur->cf->daemon.pidfile ? xstrdup(cur->cf->daemon.pidfile) : NULL;
    snapshot_release(cur);
    if (!joined) {
        daemon_drain(timeout);
        (void) smfi_stop();
        pthread_join(d->tid, NULL);
    }
    control_stop();
    if (pidfile) {
        (void) unlink(pidfile);
        free(pidfile);
    }
    return reloading;
}

/* daemon_start - everything between the configuration and serving */
static int daemon_start(DAEMON_RUN *d, int foreground)
{
    const TXCONF *cf = d->snap->cf;

    /* In the foreground, stderr as well, unless syslog already gets the
     * lines and stderr is not a terminal (systemd would log them twice). */
    log_init("txmilter", cf->daemon.syslog, cf->daemon.syslog_facility,
             foreground && (!cf->daemon.syslog || isatty(STDERR_FILENO)));
    log_set_debug(cf->daemon.logwhy);
    conf_check_log_warnings(d->snap);
    if (cf->daemon.user && proc_user(cf->daemon.user, &d->uid, &d->gid, &d->uname) < 0)
        return -1;
    if (cf->daemon.user)
        daemon_check_key_owners(d->snap, d->uid);
    if (daemon_open_socket(d, cf) < 0 || daemon_metrics_listen(d->metrics, cf) < 0 || daemon_signals() < 0
        || daemon_become(d, cf, foreground) < 0
        || daemon_services(d, cf) < 0)
        return -1;
    callbacks_services(&d->svc);            /* before the milter thread calls back */
    snapshot_install(d->snap);
    d->snap = NULL;
    if (control_start(&d->svc) < 0)
        return -1;
    /* The milter thread starts with the signals blocked (libmilter keeps
     * them blocked there and in every thread it creates); the main thread
     * never blocks them, not even for a moment, so none is left pending
     * for libmilter's signal thread to take. */
    if (daemon_thread(&d->tid, daemon_milter_thread, &d->milter_rc, 0) < 0) {
        log_err("cannot start the milter thread");
        control_stop();
        return -1;
    }
    log_info("txmilter %s started on %s (pid %ld)", PACKAGE_VERSION, cf->daemon.socket, (long) getpid());
    log_started();
    return 0;
}

int daemon_run(const char *path, int foreground)
{
    DAEMON_RUN d;
    BUF errs;

    memset(&d, 0, sizeof(d));
    d.metrics = daemon_metrics_new();
    d.reload = xcalloc(1, sizeof(*d.reload));
    d.reload->path = path;
    d.reload->metrics = d.metrics;
    buf_init(&errs, 64 * 1024);
    if ((d.snap = snapshot_build(path, &errs)) == NULL) {
        fputs(errs.data ? errs.data : "configuration error\n", stderr);
        buf_free(&errs);
        daemon_metrics_free(d.metrics);
        free(d.reload);
        return 1;
    }
    buf_free(&errs);
    if (daemon_start(&d, foreground) < 0) {
        daemon_release(&d);
        return 1;
    }
    if (daemon_stop(&d, daemon_serve(&d))) {
        /* The reload thread may still use the snapshot, the resolver or
         * the stores: leave them to exit(). */
        log_info("stopped");
        return d.milter_rc == MI_SUCCESS ? 0 : 1;
    }
    daemon_release(&d);
    log_info("stopped");
    return d.milter_rc == MI_SUCCESS ? 0 : 1;
}

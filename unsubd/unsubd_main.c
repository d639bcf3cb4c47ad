/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_main.c - txmilter-unsubd command line and daemon life cycle
 *
 * SYNOPSIS
 *	txmilter-unsubd [-f] [-x CONFIG]     serve the one-click endpoint
 *	txmilter-unsubd -n [-x CONFIG]       check the configuration, keys and templates
 *
 * DESCRIPTION
 *	Reads the same configuration file as txmilter (default
 *	$sysconfdir/txmilter/txmilter.conf). Start-up, in this order: the
 *	configuration, UnsubscribeKeyFile and the templates of
 *	UnsubscribeTemplateDirectory are loaded (any error: exit 1
 *	with "file:line: message" lines on stderr); UnsubscribeListen is
 *	bound as the starting user (a port below 1024 works); unless -f the
 *	process detaches; UnsubscribePidFile is written (never PidFile, which
 *	is txmilter's); privileges drop to UserID for good (nothing to do when started as UserID already, e.g. by systemd's
 *	User=); then the suppression store is opened as UserID (so that a
 *	SQLite file it creates belongs to UserID, as txmilter's does) and
 *	libmicrohttpd starts.
 *
 *	Signals are blocked in every thread and taken by the main thread
 *	with sigwaitinfo():
 *	  SIGHUP, SIGUSR1  read UnsubscribeKeyFile (rotation) and the
 *	                   templates of UnsubscribeTemplateDirectory again;
 *	                   a file that does not load keeps the old keys or
 *	                   pages, logged. Other directives change only with
 *	                   a restart.
 *	  SIGTERM, SIGINT  stop accepting, finish the requests in flight
 *	                   (at most ShutdownTimeout seconds), exit 0.
 *
 * DIAGNOSTICS
 *	Exit status: 0 after SIGTERM or a good -n, 1 on any start-up error,
 *	2 on a usage error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "suppress.h"
#include "unsub_token.h"
#include "unsubd.h"
#include "unsubd_conf.h"
#include "util.h"

#define UNSUBD_STORE_TIMEOUT_MIN 1000       /* ms: an HTTP client can wait for a durable write */

static void usage(FILE *fp)
{
    fprintf(fp, "usage: txmilter-unsubd [-f] [-x CONFIG]\n"
            "       txmilter-unsubd -n [-x CONFIG]\n"
            "  -f  stay in the foreground\n"
            "  -n  check the configuration and the key file, then exit\n"
            "  -x  configuration file (default %s)\n", CONF_DEFAULT_FILE);
}

/* unsubd_load_keys - the key file, or NULL with its errors logged */
static UNSUB_KEYS *unsubd_load_keys(const char *path)
{
    BUF errs;
    UNSUB_KEYS *k;

    buf_init(&errs, 16 * 1024);
    if ((k = unsub_keys_load(path, &errs)) == NULL) {
        log_err_lines(errs.data);
        if (errs.len == 0)
            log_err("%s: cannot load the unsubscribe keys", path);
    }
    buf_free(&errs);
    return k;
}

/* unsubd_load_pages - the pages, or NULL with their errors logged */
static UNSUBD_PAGES *unsubd_load_pages(const UNSUBD_CONF *uc)
{
    UNSUBD_PAGES *ps;
    BUF errs;

    buf_init(&errs, 64 * 1024);
    if ((ps = unsubd_conf_pages(uc, &errs)) == NULL)
        log_err_lines(errs.data);
    buf_free(&errs);
    return ps;
}

/* unsubd_block_signals - block the signals the main thread waits for, into *set */
static int unsubd_block_signals(sigset_t *set)
{
    /* Signals go to the main thread only: block them before any thread
     * starts, and before the socket listens, so that one sent as soon as
     * the port answers waits for sigwaitinfo() instead of killing us. */
    (void) signal(SIGPIPE, SIG_IGN);
    sigemptyset(set);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, set, NULL) != 0) {
        fprintf(stderr, "txmilter-unsubd: cannot block signals\n");
        return -1;
    }
    return 0;
}

/* unsubd_become - listen (the endpoint and UnsubscribeMetricsListen), detach, write
 * the pid file and drop privileges; the endpoint's socket or -1 */
static int unsubd_become(UNSUBD_CONF *uc, UNSUBD_METRICS *um, int foreground)
{
    const TXCONF *cf = uc->cf;
    char *uname = NULL;
    uid_t uid = 0;
    gid_t gid = 0;
    struct stat st;
    int fd;

    if (cf->daemon.user && proc_user(cf->daemon.user, &uid, &gid, &uname) < 0)
        return -1;
    if (cf->daemon.user && stat(uc->keyfile, &st) == 0 && st.st_uid != uid)
        log_warn("%s is owned by uid %ld, not by UserID %s: a reload (SIGHUP) will not be able to "
                 "read it; chown it to %s", uc->keyfile, (long) st.st_uid, cf->daemon.user, uname);
    umask(cf->daemon.umask);
    if ((fd = unsubd_listen(uc)) < 0 || unsubd_metrics_listen(um, uc) < 0
        || (!foreground && proc_detach() < 0 && (log_err("cannot detach: %s", strerror(errno)), 1))
        || (uc->pidfile && proc_pidfile(uc->pidfile, uid, gid, cf->daemon.user != NULL) < 0)
        || (cf->daemon.user && !(getuid() == uid && geteuid() == uid && getegid() == gid)
            && proc_drop(uid, gid, uname) < 0)) {
        if (fd >= 0)
            (void) close(fd);
        fd = -1;
    }
    free(uname);
    return fd;
}

/* unsubd_open_store - the suppression store, or NULL after logging why */
static SUPPRESS *unsubd_open_store(UNSUBD_CONF *uc)
{
    const TXCONF *cf = uc->cf;
    char errtext[1024];
    SUPPRESS *store;
    BUF err;

    buf_init(&err, sizeof(errtext) - 1);
    store = suppress_open(cf->rate.store, uc->datadir,
                          cf->rate.store_timeout_ms > UNSUBD_STORE_TIMEOUT_MIN ? (unsigned) cf->rate.store_timeout_ms
                          : UNSUBD_STORE_TIMEOUT_MIN, &err);
    if (store == NULL)
        log_err("Store %s (DataDirectory %s): %s", cf->rate.store, uc->datadir, err.data ? err.data : "cannot open");
    buf_free(&err);
    return store;
}

/* unsubd_wait - reload the keys on SIGHUP or SIGUSR1 until another signal; that signal */
static int unsubd_wait(UNSUBD *d, const sigset_t *set)
{
    int sig;

    for (;;) {
        sig = sigwaitinfo(set, NULL);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            log_err("sigwaitinfo: %s", strerror(errno));
            return sig;
        }
        if (sig == SIGHUP || sig == SIGUSR1) {
            (void) unsubd_reload_keys(d);
            (void) unsubd_reload_pages(d);
        }
        else
            return sig;
    }
}

/* unsubd_serve - everything after the configuration was read */
static int unsubd_serve(UNSUBD_CONF *uc, int foreground)
{
    const TXCONF *cf = uc->cf;
    UNSUB_KEYS *keys;
    UNSUBD_PAGES *pages;
    SUPPRESS *store;
    UNSUBD *d;
    UNSUBD_METRICS *um = NULL;
    sigset_t set;
    int fd, sig;

    if (unsubd_block_signals(&set) < 0)
        return 1;
    log_init("txmilter-unsubd", cf->daemon.syslog, cf->daemon.syslog_facility,
             foreground && (!cf->daemon.syslog || isatty(STDERR_FILENO)));
    log_set_debug(cf->daemon.logwhy);
    for (size_t i = 0; i < cf->warnings.n; i++)
        log_warn("%s", cf->warnings.v[i]);
    keys = unsubd_load_keys(uc->keyfile);
    pages = keys ? unsubd_load_pages(uc) : NULL;
    um = pages ? unsubd_metrics_new(cf) : NULL;
    fd = pages ? unsubd_become(uc, um, foreground) : -1;
    store = fd >= 0 ? unsubd_open_store(uc) : NULL;
    if (store && unsubd_metrics_serve(um, store) < 0) {
        suppress_close(store);
        store = NULL;
    }
    if ((d = store ? unsubd_start(uc, fd, keys, pages, store, um) : NULL) == NULL) {
        unsubd_metrics_free(um);
        if (store)
            suppress_close(store);
        if (fd >= 0)
            (void) close(fd);
        unsub_keys_free(keys);
        unsubd_page_free(pages);
        return 1;
    }
    log_info("txmilter-unsubd started (configuration %s, keys %s, store %s, pages %s)", cf->path, uc->keyfile,
             cf->rate.store, uc->template_dir ? uc->template_dir : "built-in");
    log_started();
    sig = unsubd_wait(d, &set);
    log_info("shutting down (signal %d)", sig);
    unsubd_stop(d, cf->daemon.shutdown_timeout);
    unsubd_metrics_free(um);
    suppress_close(store);
    if (uc->pidfile)
        (void) unlink(uc->pidfile);         /* best effort: its directory may not be ours */
    log_info("stopped");
    return 0;
}

int main(int argc, char **argv)
{
    const char *config = CONF_DEFAULT_FILE;
    int foreground = 0, check = 0, c, rc;
    UNSUBD_CONF *uc;
    char *abs;
    BUF errs;

    log_init("txmilter-unsubd", 0, 0, 1);
    while ((c = getopt(argc, argv, "fnx:h")) != -1) {
        switch (c) {
        case 'f': foreground = 1; break;
        case 'n': check = 1; break;
        case 'x': config = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    /* A detached daemon changes to "/": keep the path good for messages. */
    abs = realpath(config, NULL);
    buf_init(&errs, 64 * 1024);
    uc = unsubd_conf_load(abs ? abs : config, &errs);
    free(abs);
    if (uc == NULL) {
        fputs(errs.data ? errs.data : "configuration error\n", stderr);
        buf_free(&errs);
        return 1;
    }
    buf_free(&errs);
    if (check) {
        UNSUB_KEYS *k = unsubd_load_keys(uc->keyfile);
        UNSUBD_PAGES *ps = unsubd_load_pages(uc);

        for (size_t i = 0; i < uc->cf->warnings.n; i++)
            fprintf(stderr, "%s\n", uc->cf->warnings.v[i]);
        if (k != NULL && ps != NULL)
            printf("%s: configuration is valid (listen %s, keys %s, pages %s)\n", uc->cf->path, uc->listen,
                   uc->keyfile, uc->template_dir ? uc->template_dir : "built-in");
        rc = k && ps ? 0 : 1;
        unsub_keys_free(k);
        unsubd_page_free(ps);
    } else {
        rc = unsubd_serve(uc, foreground);
    }
    unsubd_conf_free(uc);
    return rc;
}

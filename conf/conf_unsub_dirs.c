/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_unsub_dirs.c - the List-Unsubscribe directives of txmilter.conf(5)
 *
 * SYNOPSIS
 *	#include "conf_int.h"
 *
 *	const CONF_PART conf_unsub_part
 *
 * DESCRIPTION
 *	conf_unsub_part holds the rows of cf->unsub and cf->unsubd, with
 *	their defaults. UnsubscribeKeyFile, UnsubscribeMaxAge and
 *	DataDirectory serve txmilter and txmilter-unsubd (DataDirectory
 *	txmilterctl too); UnsubscribeURL, UnsubscribeMailto,
 *	UnsubscribeExempt, UnsubscribeTable, UnsubscribeExisting and
 *	UnsubscribeScope are txmilter's; UnsubscribeListen,
 *	UnsubscribePidFile, UnsubscribeTrustedProxy, UnsubscribeRateLimit
 *	(default 120/1m) and UnsubscribeTemplateDirectory are
 *	txmilter-unsubd's.
 *
 *	Its check tells the operator about the pid files, which the two
 *	daemons keep apart: txmilter-unsubd never writes PidFile.
 *
 * DIAGNOSTICS
 *	For txmilter-unsubd, a warning when PidFile is set and
 *	UnsubscribePidFile is not (it then writes no pid file at all).
 *	When both are parsed (txmilter -n), an error when they name the
 *	same file.
 */
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"
#include "util.h"

#define CONF_DEFAULT_DATADIR	"/var/lib/txmilter"

static const CONF_DIR conf_unsub_dirs[] = {
    {"UnsubscribeKeyFile", CONF_M | CONF_U, conf_parse_optpath, CONF_OFF(unsub.keyfile), 0, 0},
    {"UnsubscribeURL", CONF_M, conf_parse_unsub_url, CONF_OFF(unsub.url), 0, 0},
    {"UnsubscribeMailto", CONF_M, conf_parse_unsub_mailto, CONF_OFF(unsub.mailto), 0, 0},
    {"UnsubscribeExempt", CONF_M, conf_parse_str, CONF_OFF(unsub.exempt), 0, 0},
    {"UnsubscribeTable", CONF_M, conf_parse_str, CONF_OFF(unsub.table), 0, 0},
    {"UnsubscribeExisting", CONF_M, conf_parse_choice, CONF_OFF(unsub.replace), 0, 0},
    {"UnsubscribeScope", CONF_M, conf_parse_choice, CONF_OFF(unsub.scope_domain), 1, 0},
    {"UnsubscribeMaxAge", CONF_M | CONF_U, conf_parse_int, CONF_OFF(unsub.max_age), 0, 315360000},
    {"DataDirectory", CONF_M | CONF_U | CONF_C, conf_parse_optpath, CONF_OFF(unsub.data_directory), 0, 0},
    /* txmilter-unsubd's own */
    {"UnsubscribeListen", CONF_U, conf_parse_hostport, CONF_OFF(unsubd.listen), 0, 0},
    {"UnsubscribePidFile", CONF_U, conf_parse_str, CONF_OFF(unsubd.pidfile), 0, 0},
    {"UnsubscribeTrustedProxy", CONF_U, conf_parse_str, CONF_OFF(unsubd.trusted_proxy), 0, 0},
    {"UnsubscribeTemplateDirectory", CONF_U, conf_parse_optpath, CONF_OFF(unsubd.template_dir), 0, 0},
    {"UnsubscribeRateLimit", CONF_U, conf_parse_ratespec, CONF_OFF(unsubd.rate), 0, 0},
    {"UnsubscribeMetricsListen", CONF_U, conf_parse_hostport, CONF_OFF(unsubd.metrics_listen), 0, 0},
};

/* conf_unsub_defaults - what an empty file gives */
static void conf_unsub_defaults(TXCONF *cf)
{
    cf->unsub.data_directory = xstrdup(CONF_DEFAULT_DATADIR);
    cf->unsubd.listen = xstrdup("127.0.0.1:8025");
    cf->unsubd.trusted_proxy = xstrdup("127.0.0.1, ::1");
    cf->unsubd.rate.limit = 120;                /* what mailbox providers need, from few addresses */
    cf->unsubd.rate.period_ms = 60 * 1000;
}

/* conf_unsub_release - free the part's strings */
static void conf_unsub_release(TXCONF *cf)
{
    free(cf->unsub.keyfile);
    free(cf->unsub.url);
    free(cf->unsub.mailto);
    free(cf->unsub.exempt);
    free(cf->unsub.table);
    free(cf->unsub.data_directory);
    free(cf->unsubd.listen);
    free(cf->unsubd.pidfile);
    free(cf->unsubd.trusted_proxy);
    free(cf->unsubd.template_dir);
    free(cf->unsubd.metrics_listen);
}

/* conf_unsub_same_port - a's listen address is b's too (an error): 1 */
static int conf_unsub_same_port(TXCONF *cf, BUF *errs, const char *an, const char *a,
                                const char *bn, const char *b)
{
    if (a == NULL || b == NULL || strcmp(a, b) != 0)
        return 0;
    util_err_at(errs, cf->path, conf_line(cf, an), "%s %s is also %s (line %d): "
                "the two cannot listen on one address", an, a, bn, conf_line(cf, bn));
    return 1;
}

/* conf_unsub_check - the two daemons' pid files and ports stay apart */
static int conf_unsub_check(TXCONF *cf, unsigned prog, BUF *errs)
{
    int pid_line = conf_line(cf, "PidFile");

    if ((prog & CONF_U) && conf_unsub_same_port(cf, errs, "UnsubscribeMetricsListen",
                                                cf->unsubd.metrics_listen, "UnsubscribeListen",
                                                cf->unsubd.listen))
        return -1;
    if ((prog & CONF_M) && (prog & CONF_U)
        && (conf_unsub_same_port(cf, errs, "MetricsListen", cf->daemon.metrics_listen,
                                 "UnsubscribeListen", cf->unsubd.listen)
            || conf_unsub_same_port(cf, errs, "MetricsListen", cf->daemon.metrics_listen,
                                    "UnsubscribeMetricsListen", cf->unsubd.metrics_listen)))
        return -1;

    if ((prog & CONF_M) && (prog & CONF_U) && cf->daemon.pidfile && cf->unsubd.pidfile
        && strcmp(cf->daemon.pidfile, cf->unsubd.pidfile) == 0) {
        util_err_at(errs, cf->path, conf_line(cf, "UnsubscribePidFile"),
                    "UnsubscribePidFile %s is also PidFile (line %d): txmilter and "
                    "txmilter-unsubd would overwrite each other's pid file",
                    cf->unsubd.pidfile, pid_line);
        return -1;
    }
    if ((prog & CONF_U) && !(prog & CONF_M) && pid_line > 0 && cf->unsubd.pidfile == NULL)
        conf_warn(cf, pid_line, "PidFile is txmilter's pid file; txmilter-unsubd writes "
                  "none unless UnsubscribePidFile is set");
    return 0;
}

const CONF_PART conf_unsub_part = {
    conf_unsub_dirs, CONF_NELEM(conf_unsub_dirs),
    conf_unsub_defaults, conf_unsub_release, conf_unsub_check,
};

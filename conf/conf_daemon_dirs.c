/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_daemon_dirs.c - the daemon, logging and outbound directives of
 * txmilter.conf(5)
 *
 * SYNOPSIS
 *	#include "conf_int.h"
 *
 *	const CONF_PART conf_daemon_part
 *	const CONF_PART conf_outbound_part
 *
 * DESCRIPTION
 *	conf_daemon_part holds the rows of cf->daemon: Socket, UserID,
 *	PidFile, UMask, Syslog, SyslogFacility, LogWhy, ShutdownTimeout,
 *	MaximumHeaders, MetricsListen and the ControlSocket directives, with their
 *	defaults. UserID, UMask, the logging directives and ShutdownTimeout
 *	serve txmilter-unsubd too; ControlSocket serves txmilterctl;
 *	the rest is txmilter's.
 *
 *	conf_outbound_part holds cf->outbound: InternalHosts and MTA, what
 *	makes mail outbound (txmilter only).
 *
 * DIAGNOSTICS
 *	None here: the value parsers (conf_value.c) report bad values.
 */
#include <stdlib.h>

#include "conf_int.h"
#include "log.h"
#include "util.h"

#define CONF_DEFAULT_SOCKET	"unix:/run/txmilter/txmilter.sock"
#define CONF_DEFAULT_CONTROL	"/run/txmilter/control.sock"
#define CONF_DEFAULT_INTERNAL	"127.0.0.1, ::1"

static const CONF_DIR conf_daemon_dirs[] = {
    {"Socket", CONF_M, conf_parse_socket, CONF_OFF(daemon.socket), 0, 0},
    {"UserID", CONF_M | CONF_U, conf_parse_user, CONF_OFF(daemon.user), 0, 0},
    {"PidFile", CONF_M, conf_parse_str, CONF_OFF(daemon.pidfile), 0, 0},
    {"UMask", CONF_M | CONF_U, conf_parse_umask, CONF_OFF(daemon.umask), 0, 0777},
    {"Syslog", CONF_M | CONF_U, conf_parse_bool, CONF_OFF(daemon.syslog), 0, 0},
    {"SyslogFacility", CONF_M | CONF_U, conf_parse_facility, CONF_OFF(daemon.syslog_facility), 0, 0},
    {"LogWhy", CONF_M | CONF_U, conf_parse_bool, CONF_OFF(daemon.logwhy), 0, 0},
    {"ShutdownTimeout", CONF_M | CONF_U, conf_parse_int, CONF_OFF(daemon.shutdown_timeout), 0, 3600},
    {"MaximumHeaders", CONF_M, conf_parse_size, CONF_OFF(daemon.max_headers), 1024, 67108864},
    {"ControlSocket", CONF_M | CONF_C, conf_parse_optpath, CONF_OFF(daemon.control_socket), 0, 0},
    {"ControlSocketGroup", CONF_M, conf_parse_group, CONF_OFF(daemon.control_socket_group), 0, 0},
    {"ControlSocketMode", CONF_M, conf_parse_sockmode, CONF_OFF(daemon.control_socket_mode), 0, 0770},
    {"MetricsListen", CONF_M, conf_parse_hostport, CONF_OFF(daemon.metrics_listen), 0, 0},
};

static const CONF_DIR conf_outbound_dirs[] = {
    {"InternalHosts", CONF_M, conf_parse_str, CONF_OFF(outbound.internal_hosts), 0, 0},
    {"MTA", CONF_M, conf_parse_str, CONF_OFF(outbound.mta), 0, 0},
};

/* conf_daemon_defaults - what an empty file gives */
static void conf_daemon_defaults(TXCONF *cf)
{
    CONF_DAEMON *p = &cf->daemon;

    p->socket = xstrdup(CONF_DEFAULT_SOCKET);
    p->umask = 007;
    p->syslog = 1;
    p->syslog_facility = log_facility_code("mail");
    p->shutdown_timeout = 60;
    p->max_headers = 1048576;
    p->control_socket = xstrdup(CONF_DEFAULT_CONTROL);
    p->control_socket_mode = 0600;          /* not the UserID group: Postfix is in it */
}

/* conf_daemon_release - free the part's strings */
static void conf_daemon_release(TXCONF *cf)
{
    CONF_DAEMON *p = &cf->daemon;

    free(p->socket);
    free(p->user);
    free(p->pidfile);
    free(p->control_socket);
    free(p->control_socket_group);
    free(p->metrics_listen);
}

/* conf_outbound_defaults - what an empty file gives */
static void conf_outbound_defaults(TXCONF *cf)
{
    cf->outbound.internal_hosts = xstrdup(CONF_DEFAULT_INTERNAL);
}

/* conf_outbound_release - free the part's strings */
static void conf_outbound_release(TXCONF *cf)
{
    free(cf->outbound.internal_hosts);
    free(cf->outbound.mta);
}

const CONF_PART conf_daemon_part = {
    conf_daemon_dirs, CONF_NELEM(conf_daemon_dirs),
    conf_daemon_defaults, conf_daemon_release, NULL,
};

const CONF_PART conf_outbound_part = {
    conf_outbound_dirs, CONF_NELEM(conf_outbound_dirs),
    conf_outbound_defaults, conf_outbound_release, NULL,
};

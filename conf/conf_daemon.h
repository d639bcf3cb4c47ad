/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_daemon.h - the daemon and logging part of txmilter.conf(5)
 * (cf->daemon) and what is outbound (cf->outbound); rows in conf_daemon_dirs.c.
 */
#ifndef TX_CONF_DAEMON_H
#define TX_CONF_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

typedef struct conf_daemon {
    char   *socket;             /* Socket: libmilter spec (unix:, local:, inet:, inet6:) */
    char   *user;               /* UserID: "user" or "user:group"; NULL keeps the starting user */
    char   *pidfile;            /* PidFile (txmilter's only); NULL for none */
    mode_t  umask;              /* UMask (octal), default 007 */
    int     syslog;             /* Syslog yes|no, default yes */
    int     syslog_facility;    /* SyslogFacility, default mail */
    int     logwhy;             /* LogWhy yes|no: debug detail, default no */
    int     shutdown_timeout;   /* ShutdownTimeout seconds to let messages finish on SIGTERM, default 60 */
    size_t  max_headers;        /* MaximumHeaders bytes of header block, default 1048576 */
    char   *control_socket;     /* ControlSocket for txmilterctl, default /run/txmilter/control.sock;
                                 * "none" disables it (NULL) */
    char   *control_socket_group; /* ControlSocketGroup; NULL: the UserID group */
    mode_t  control_socket_mode;/* ControlSocketMode, default 0600 (nothing for the group) */
    char   *metrics_listen;     /* MetricsListen host:port of /metrics and /health; NULL (default): off */
} CONF_DAEMON;

/* What is outbound (txmilter only). */
typedef struct conf_outbound {
    char   *internal_hosts;     /* InternalHosts dataset, default "127.0.0.1, ::1" */
    char   *mta;                /* MTA dataset of {daemon_name} values; NULL: not used */
} CONF_OUTBOUND;

#endif

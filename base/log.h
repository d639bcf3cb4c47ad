/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - operator-facing logging: syslog in daemon mode, stderr in the
 * foreground or in offline (-t, -n) runs.
 */
#ifndef TX_LOG_H
#define TX_LOG_H

#include <stdarg.h>

void log_init(const char *ident, int use_syslog, int facility, int use_stderr);
/* log_started - start-up is over: errors no longer go to stderr as well
 * (until then they do, whatever log_init() chose, so that a daemon that
 * cannot start says why to whoever started it) */
void log_started(void);
void log_set_debug(int on);
int  log_debug_enabled(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err_lines(const char *text);    /* each line of text as an error */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A broken internal invariant or an impossible condition: log and exit. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Map a syslog facility name ("mail", "local0", ...) to its value; -1 if unknown. */
int log_facility_code(const char *name);

#endif

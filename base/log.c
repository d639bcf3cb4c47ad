/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - logging for txmilter.
 *
 * SYNOPSIS
 *	#include "log.h"
 *
 *	void	log_init(const char *ident, int use_syslog, int facility,
 *			int use_stderr)
 *	void	log_started(void)
 *	void	log_set_debug(int on)
 *	int	log_debug_enabled(void)
 *	void	log_debug(const char *fmt, ...)
 *	void	log_err_lines(const char *text)
 *	void	log_fatal(const char *fmt, ...)
 *	int	log_facility_code(const char *name)
 *
 * DESCRIPTION
 *	log_init() chooses the destinations: syslog (with the given facility)
 *	and/or stderr. Before log_init() everything goes to stderr, so that
 *	configuration errors reach the operator who typed the command.
 *
 *	log_info(), log_warn(), log_err(), log_debug() write one line each;
 *	log_debug() writes only when debug logging is on (LogWhy yes or -v).
 *	log_err_lines() writes each line of text (the "file:line: ..."
 *	messages a loader collected) as one error line; empty lines are
 *	skipped. log_fatal() writes and exits with status 1.
 *
 *	Lines are written whole (one write per line) so that lines from
 *	libmilter's worker threads do not interleave on stderr.
 *
 * DIAGNOSTICS
 *	None: a line longer than the internal buffer is truncated.
 *	log_facility_code() returns -1 for an unknown facility name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static int log_syslog;
static int log_stderr = 1;
static int log_starting = 1;    /* errors go to stderr too until log_started() */
static int log_debug_on;
static const char *log_ident = "txmilter";

void log_init(const char *ident, int use_syslog, int facility, int use_stderr)
{
    log_ident = ident;
    log_stderr = use_stderr;
    if (use_syslog && !log_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, facility);
    log_syslog = use_syslog;
}

void log_started(void)
{
    log_starting = 0;
}

void log_set_debug(int on)
{
    log_debug_on = on;
}

int log_debug_enabled(void)
{
    return log_debug_on;
}

static void log_vwrite(int prio, const char *tag, const char *fmt, va_list ap)
{
    char line[4096];
    int n;
    va_list ap2;

    va_copy(ap2, ap);
    n = vsnprintf(line, sizeof(line), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    /* Control characters never reach the log as such. */
    for (char *p = line; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            *p = '?';
    if (log_syslog)
        syslog(prio, "%s%s", tag, line);
    /* A daemon that cannot start must say why where it was started, even
     * when syslog alone gets its lines (and may not be running). */
    if (log_stderr || (log_starting && prio <= LOG_ERR)) {
        char out[4200];
        int m = snprintf(out, sizeof(out), "%s[%ld]: %s%s\n", log_ident,
                         (long) getpid(), tag, line);

        if (m > 0) {
            size_t len = (size_t) m < sizeof(out) ? (size_t) m : sizeof(out) - 1;
            ssize_t w = write(STDERR_FILENO, out, len);
            (void) w;
        }
    }
}

#define LOG_FN(name, prio, tag) \
void name(const char *fmt, ...) \
{ \
    va_list ap; \
    va_start(ap, fmt); \
    log_vwrite(prio, tag, fmt, ap); \
    va_end(ap); \
}

LOG_FN(log_info, LOG_INFO, "")
LOG_FN(log_warn, LOG_WARNING, "warning: ")
LOG_FN(log_err, LOG_ERR, "error: ")

/* log_err_lines - one error line per line of text */
void log_err_lines(const char *text)
{
    while (text != NULL && *text) {
        size_t n = strcspn(text, "\n");

        if (n > 0)
            log_err("%.*s", n > 4000 ? 4000 : (int) n, text);
        text += n;
        if (*text == '\n')
            text++;
    }
}

void log_debug(const char *fmt, ...)
{
    va_list ap;

    if (!log_debug_on)
        return;
    va_start(ap, fmt);
    log_vwrite(LOG_DEBUG, "debug: ", fmt, ap);
    va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    exit(1);
}

static const struct {
    const char *name;
    int code;
} facilities[] = {
    {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

/* log_facility_code - syslog facility by name */
int log_facility_code(const char *name)
{
    for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
        if (strcasecmp(name, facilities[i].name) == 0)
            return facilities[i].code;
    return -1;
}

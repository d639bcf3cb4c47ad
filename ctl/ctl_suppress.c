/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_suppress.c - txmilterctl suppress: the suppression list by hand
 *
 * SYNOPSIS
 *	txmilterctl [-x CONFIG] suppress list [--rcpt ADDR] [--stream S]
 *			[--reason R]
 *	txmilterctl [-x CONFIG] suppress list --soft [--rcpt ADDR]
 *			[--stream S]
 *	txmilterctl [-x CONFIG] suppress add RCPT STREAM [--reason R]
 *			[--evidence TEXT]
 *	txmilterctl [-x CONFIG] suppress remove RCPT STREAM
 *	txmilterctl [-x CONFIG] suppress export
 *
 *	int	ctl_suppress_main(const char *config, int argc, char **argv)
 *
 * DESCRIPTION
 *	Works directly on the configured Store (the SQLite file in
 *	DataDirectory, or Redis), like txmilter and txmilter-unsubd: no
 *	daemon needs to run. A recipient is normalised as txmilter does
 *	(RecipientDelimiter, Gmail dots), a stream (the From address, or its
 *	domain with UnsubscribeScope domain) by suppress_norm_stream(), so
 *	"Foo+x@Example.COM" names the entry txmilter checks.
 *
 *	list	one line per entry: recipient, stream, created (ISO 8601,
 *		UTC), source, reason, expires (ISO 8601 UTC, "never", or
 *		"lapsed TIME" once past), evidence, separated by tabs; the
 *		count on stderr. --reason keeps the entries of one reason
 *		(unsubscribe, bounce, complaint, manual). With --soft, not
 *		the entries but the soft bounces BounceSoftLimit counts:
 *		one line per recipient and stream with reports within its
 *		period: recipient, stream, the count, the limit (N/period),
 *		when the oldest and the newest of them were counted (ISO
 *		8601 UTC, "-" unknown), separated by tabs; the number of
 *		pairs on stderr. Reading changes no count. Without
 *		BounceSoftLimit nothing is counted: it says so on stderr
 *		and lists nothing.
 *	add	records the entry with source "txmilterctl" and reason
 *		manual, or the one given (bounce entries lapse after
 *		BounceSuppressFor); an entry already there keeps its time and
 *		source unless it lapses first (suppress.h).
 *	remove	deletes the entry, whatever its reason: a bounce or a
 *		complaint is lifted like an unsubscribe.
 *	export	CSV (RFC 4180) with the header
 *		rcpt,stream,created,source,reason,expires,evidence; times in
 *		ISO 8601 UTC (expires empty for never); fields quoted when
 *		they hold a comma, a quote or a space.
 *
 *	Run as root, txmilterctl gives a suppress.db it creates to the owner
 *	of DataDirectory (see suppress_sqlite.c).
 *
 * EXIT STATUS
 *	0 done, 1 the store failed or (remove) the entry was not there,
 *	2 usage, a bad address or a configuration error.
 *
 * DIAGNOSTICS
 *	ctl_suppress_main() returns the exit status: 0 success, 1 when the
 *	Store cannot be opened or a command fails (the reason on stderr),
 *	2 on a usage or configuration error or an address that cannot be
 *	normalised.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr_norm.h"
#include "conf.h"
#include "ctl_suppress.h"
#include "ratespec.h"
#include "suppress.h"
#include "util.h"

#define CS_TIMEOUT_MS 2000              /* an operator can wait longer than mail */

typedef struct cs_out {
    int csv;
    int reason;                         /* -1 every reason */
    long shown;
} CS_OUT;

typedef struct cs_args {
    const char *cmd, *rcpt, *stream, *evidence;
    int reason;                         /* -1: none given */
    int soft;                           /* list --soft */
} CS_ARGS;

/* cs_usage - the suppress commands */
static int cs_usage(void)
{
    fprintf(stderr, "usage: txmilterctl [-x CONFIG] suppress list [--rcpt ADDR] [--stream S] "
            "[--reason R]\n"
            "       txmilterctl [-x CONFIG] suppress list --soft [--rcpt ADDR] [--stream S]\n"
            "       txmilterctl [-x CONFIG] suppress add RCPT STREAM [--reason R] "
            "[--evidence TEXT]\n"
            "       txmilterctl [-x CONFIG] suppress remove RCPT STREAM\n"
            "       txmilterctl [-x CONFIG] suppress export\n");
    return 2;
}

/* cs_time - t as ISO 8601 UTC */
static const char *cs_time(uint64_t t, char *buf, size_t len)
{
    time_t tt = (time_t) t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%llu", (unsigned long long) t);
    return buf;
}

/* cs_csv_field - one CSV field, quoted when it must be */
static void cs_csv_field(const char *s, int last)
{
    const char *p;

    if (strpbrk(s, ",\" \t\r\n") == NULL) {
        fputs(s, stdout);
    } else {
        putchar('"');
        for (p = s; *p; p++) {
            if (*p == '"')
                putchar('"');
            putchar(*p);
        }
        putchar('"');
    }
    fputs(last ? "\r\n" : ",", stdout);
}

/* cs_print - one entry, as a list line or a CSV record */
static void cs_print(const SUPPRESS_ENTRY *e, void *arg)
{
    CS_OUT *o = arg;
    char when[64], exp[64], until[80];

    if (o->reason >= 0 && (int) e->reason != o->reason)
        return;
    o->shown++;
    cs_time(e->created, when, sizeof(when));
    if (e->expires)
        cs_time(e->expires, exp, sizeof(exp));
    else
        exp[0] = 0;
    if (o->csv) {
        cs_csv_field(e->rcpt, 0);
        cs_csv_field(e->stream, 0);
        cs_csv_field(when, 0);
        cs_csv_field(e->source, 0);
        cs_csv_field(suppress_reason_name(e->reason), 0);
        cs_csv_field(exp, 0);
        cs_csv_field(e->evidence, 1);
        return;
    }
    if (e->expires == 0)
        snprintf(until, sizeof(until), "never");
    else
        snprintf(until, sizeof(until), "%s%s", e->expires <= (uint64_t) time(NULL)
                 ? "lapsed " : "", exp);
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e->rcpt, e->stream, when, e->source,
           suppress_reason_name(e->reason), until, e->evidence);
}

/* cs_soft_print - one pair's soft bounces, as a list line */
static void cs_soft_print(const SUPPRESS_SOFT *e, void *arg)
{
    const char *limit = arg;
    char first[64] = "-", last[64] = "-";

    if (e->first)
        cs_time(e->first, first, sizeof(first));
    if (e->last)
        cs_time(e->last, last, sizeof(last));
    printf("%s\t%s\t%ld\t%s\t%s\t%s\n", e->rcpt, e->stream, e->count, limit, first, last);
}

/* cs_soft - list --soft: the soft bounce counts in BounceSoftLimit's period; the pairs, or -1 */
static long cs_soft(SUPPRESS *s, const TXCONF *cf, const CS_ARGS *a, BUF *err)
{
    const CONF_RATESPEC *sl = &cf->bounce.soft_limit;
    char period[24], limit[48];
    long n;

    if (sl->limit == 0) {
        fprintf(stderr, "txmilterctl: BounceSoftLimit is not set: soft bounces are not counted\n");
        return 0;
    }
    ratespec_period_str(sl->period_ms, period, sizeof(period));
    snprintf(limit, sizeof(limit), "%u/%s", (unsigned) sl->limit, period);
    if ((n = suppress_soft_list(s, a->rcpt, a->stream, sl->period_ms / 1000, cs_soft_print, limit,
                                err)) >= 0)
        fprintf(stderr, "%ld recipient%s with soft bounces\n", n, n == 1 ? "" : "s");
    return n;
}

/* cs_norm - normalise a recipient (is_rcpt) or a stream; -1 after a message */
static int cs_norm(const TXCONF *cf, const char *in, int is_rcpt, char *out, size_t outlen)
{
    ADDR_NORM_OPTS o;
    BUF why;
    int rc;

    buf_init(&why, 1024);
    o.separators = cf->rate.recipient_delimiter;
    o.gmail_dots = 1;
    if (is_rcpt)
        rc = addr_norm(in, &o, out, outlen, &why);
    else
        rc = suppress_norm_stream(in, out, outlen, &why);
    if (rc == 0 && out[0] == 0) {
        (void) buf_puts(&why, "empty");
        rc = -1;
    }
    if (rc != 0)
        fprintf(stderr, "txmilterctl: bad %s \"%s\": %s\n", is_rcpt ? "recipient" : "stream",
                in, why.data ? why.data : "?");
    buf_free(&why);
    return rc;
}

/* cs_run - one command on the open store; the exit status */
static int cs_run(SUPPRESS *s, const TXCONF *cf, const CS_ARGS *a)
{
    const char *cmd = a->cmd, *rcpt = a->rcpt, *stream = a->stream;
    CS_OUT o = { 0, a->reason, 0 };
    SUPPRESS_INFO in = { SUPPRESS_MANUAL, a->evidence, 0 };
    BUF err;
    long n;
    int rc = 0;

    buf_init(&err, 1024);
    if (strcmp(cmd, "add") == 0) {
        if (a->reason >= 0)
            in.reason = (SUPPRESS_REASON) a->reason;
        if (in.reason == SUPPRESS_BOUNCE)
            in.expire_after = (uint64_t) cf->bounce.suppress_for;
        if (suppress_record(s, rcpt, stream, "txmilterctl", &in, &err) != 0)
            rc = 1;
        else
            printf("suppressed: %s from %s (%s)\n", rcpt, stream,
                   suppress_reason_name(in.reason));
    } else if (strcmp(cmd, "remove") == 0) {
        if ((n = suppress_remove(s, rcpt, stream, &err)) < 0) {
            rc = 1;
        } else if (n == 0) {
            fprintf(stderr, "txmilterctl: %s was not suppressed from %s\n", rcpt, stream);
            rc = 1;
        } else {
            printf("removed: %s from %s\n", rcpt, stream);
        }
    } else if (a->soft) {
        if (cs_soft(s, cf, a, &err) < 0)
            rc = 1;
    } else {
        if ((o.csv = strcmp(cmd, "export") == 0) != 0)
            fputs("rcpt,stream,created,source,reason,expires,evidence\r\n", stdout);
        if ((n = suppress_list(s, rcpt, stream, cs_print, &o, &err)) < 0)
            rc = 1;
        else if (!o.csv)
            fprintf(stderr, "%ld entr%s\n", o.shown, o.shown == 1 ? "y" : "ies");
    }
    if (rc != 0 && err.data)
        fprintf(stderr, "txmilterctl: %s\n", err.data);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "txmilterctl: cannot write the output\n");
        rc = 1;
    }
    buf_free(&err);
    return rc;
}

/* cs_parse - the command's arguments into a; 0, or the usage exit status */
static int cs_parse(int argc, char **argv, CS_ARGS *a)
{
    static const struct option opts[] = {
        {"rcpt", required_argument, NULL, 'r'}, {"stream", required_argument, NULL, 's'},
        {"reason", required_argument, NULL, 'w'}, {"evidence", required_argument, NULL, 'e'},
        {"soft", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0},
    };
    int c, list, add;

    memset(a, 0, sizeof(*a));
    a->reason = -1;
    if (argc < 2)
        return cs_usage();
    a->cmd = argv[1];
    list = strcmp(a->cmd, "list") == 0;
    add = strcmp(a->cmd, "add") == 0;
    if (strcmp(a->cmd, "export") == 0)
        return argc == 2 ? 0 : cs_usage();
    if (!list && !add && strcmp(a->cmd, "remove") != 0)
        return cs_usage();
    optind = 0;                         /* glibc: start afresh, permuting (main used "+") */
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r': if (!list) return cs_usage(); a->rcpt = optarg; break;
        case 's': if (!list) return cs_usage(); a->stream = optarg; break;
        case 'e': if (!add) return cs_usage(); a->evidence = optarg; break;
        case 'f': if (!list) return cs_usage(); a->soft = 1; break;
        case 'w':
            if ((!list && !add) || (a->reason = suppress_reason_parse(optarg)) < 0) {
                fprintf(stderr, "txmilterctl: --reason: expected unsubscribe, bounce, "
                        "complaint or manual\n");
                return 2;
            }
            break;
        default: return cs_usage();
        }
    }
    if (list && a->soft && a->reason >= 0) {
        fprintf(stderr, "txmilterctl: --soft lists counts, not entries: no --reason\n");
        return 2;
    }
    if (list)
        return optind == argc - 1 ? 0 : cs_usage();
    if (optind + 1 + 2 != argc)
        return cs_usage();
    a->rcpt = argv[optind + 1];
    a->stream = argv[optind + 2];
    return 0;
}

/* ctl_suppress_main - txmilterctl suppress ... */
int ctl_suppress_main(const char *config, int argc, char **argv)
{
    char rcpt[ADDR_NORM_MAX], stream[ADDR_NORM_MAX];
    CS_ARGS a;
    TXCONF *cf;
    SUPPRESS *s;
    BUF errs;
    int rc;

    if ((rc = cs_parse(argc, argv, &a)) != 0)
        return rc;
    buf_init(&errs, 64 * 1024);
    if ((cf = conf_load(config, CONF_PROG_CTL, &errs)) == NULL) {
        fputs(errs.data ? errs.data : "configuration error\n", stderr);
        buf_free(&errs);
        return 2;
    }
    if ((a.rcpt && cs_norm(cf, a.rcpt, 1, rcpt, sizeof(rcpt)) != 0)
        || (a.stream && cs_norm(cf, a.stream, 0, stream, sizeof(stream)) != 0)) {
        buf_free(&errs);
        conf_free(cf);
        return 2;
    }
    a.rcpt = a.rcpt ? rcpt : NULL;
    a.stream = a.stream ? stream : NULL;
    buf_reset(&errs);
    s = suppress_open(cf->rate.store, cf->unsub.data_directory,
                      cf->rate.store_timeout_ms > CS_TIMEOUT_MS ? (unsigned) cf->rate.store_timeout_ms
                      : CS_TIMEOUT_MS, &errs);
    if (s == NULL) {
        fprintf(stderr, "txmilterctl: suppression list: %s\n", errs.data ? errs.data : "?");
        rc = 1;
    } else {
        rc = cs_run(s, cf, &a);
        suppress_close(s);
    }
    buf_free(&errs);
    conf_free(cf);
    return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - txmilter command line.
 *
 * SYNOPSIS
 *	txmilter [-f] [-x CONFIG]            run the milter daemon
 *	txmilter -n [-x CONFIG]              check the configuration, keys and tables
 *	txmilter -V                          versions of txmilter and its libraries
 *	txmilter -t MESSAGE [-x CONFIG] --from A --rcpt B [--rcpt C ...]
 *	         [--client IP] [--hostname NAME] [--auth LOGIN] [--daemon-name NAME]
 *	                                     run the pipeline offline on MESSAGE
 *
 * DESCRIPTION
 *	Parses the command line and hands over: daemon_run() (daemon.c),
 *	snapshot_build() for -n, version_print() for -V, offline_run() for -t.
 *
 * DIAGNOSTICS
 *	Exit status: 0 success, 1 error (with "file:line: message" lines on
 *	stderr for configuration problems), 2 usage error, and for -t 3 when
 *	the message would be refused.
 */
#include "config.h"

#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "conf_check.h"
#include "daemon.h"
#include "log.h"
#include "offline.h"
#include "snapshot.h"
#include "util.h"
#include "version.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: txmilter [-f] [-x CONFIG]\n"
            "       txmilter -n [-x CONFIG]\n"
            "       txmilter -V\n"
            "       txmilter -t MESSAGE [-x CONFIG] --from ADDR --rcpt ADDR [--rcpt ADDR ...]\n"
            "                [--client IP] [--hostname NAME] [--auth LOGIN] [--daemon-name NAME]\n"
            "default CONFIG: %s\n", CONF_DEFAULT_FILE);
}

/* check_config - txmilter -n: every problem of every stage in one run */
static int check_config(const char *path)
{
    BUF errs, warns;
    SNAPSHOT *snap;
    size_t nkeys = 0;
    int bad = 1;
    char where[1200];

    buf_init(&errs, 64 * 1024);
    buf_init(&warns, 64 * 1024);
    if ((snap = snapshot_build_all(path, &errs, &bad)) != NULL) {
        /* the daemon would refuse to start on it */
        if (snap->cf->daemon.control_socket && snap->cf->daemon.control_socket_group
            && getgrnam(snap->cf->daemon.control_socket_group) == NULL) {
            buf_printf(&errs, "%s: ControlSocketGroup: no such group \"%s\"\n",
                       conf_where(snap->cf, "ControlSocketGroup", where, sizeof(where)),
                       snap->cf->daemon.control_socket_group);
            bad = 1;
        }
        conf_check_warnings(snap, &warns);
        if (conf_check_runtime(snap, &errs, &warns) < 0)
            bad = 1;
        if (snap->kt)
            (void) keytable_keys(snap->kt, &nkeys);
    }
    if (errs.data)
        fputs(errs.data, stderr);
    if (warns.data)
        fputs(warns.data, stderr);
    if (bad) {
        if (errs.data == NULL)
            fputs("configuration error\n", stderr);
    } else {
        size_t nwarn = 0;

        for (const char *p = warns.data; p && (p = strchr(p, '\n')) != NULL; p++)
            nwarn++;
        printf("%s: configuration is valid (%zu signing key%s", path, nkeys, nkeys == 1 ? "" : "s");
        if (nwarn)
            printf(", %zu warning%s", nwarn, nwarn == 1 ? "" : "s");
        printf(")\n");
    }
    snapshot_release(snap);
    buf_free(&errs);
    buf_free(&warns);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    enum { OPT_FROM = 256, OPT_RCPT, OPT_CLIENT, OPT_HOSTNAME, OPT_AUTH, OPT_DAEMON };
    static const struct option longopts[] = {
        {"from", required_argument, NULL, OPT_FROM},
        {"rcpt", required_argument, NULL, OPT_RCPT},
        {"client", required_argument, NULL, OPT_CLIENT},
        {"hostname", required_argument, NULL, OPT_HOSTNAME},
        {"auth", required_argument, NULL, OPT_AUTH},
        {"daemon-name", required_argument, NULL, OPT_DAEMON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = CONF_DEFAULT_FILE;
    int foreground = 0, check = 0, version = 0, c, rc;
    OFFLINE_OPTS off;

    memset(&off, 0, sizeof(off));
    strv_init(&off.rcpts);
    log_init("txmilter", 0, 0, 1);
    while ((c = getopt_long(argc, argv, "fx:nVt:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': foreground = 1; break;
        case 'x': config = optarg; break;
        case 'n': check = 1; break;
        case 'V': version = 1; break;
        case 't': off.message = optarg; break;
        case OPT_FROM: off.envfrom = optarg; break;
        case OPT_RCPT: strv_add(&off.rcpts, optarg); break;
        case OPT_CLIENT: off.client = optarg; break;
        case OPT_HOSTNAME: off.hostname = optarg; break;
        case OPT_AUTH: off.auth = optarg; break;
        case OPT_DAEMON: off.daemon_name = optarg; break;
        case 'h': usage(stdout); strv_free(&off.rcpts); return 0;
        default: usage(stderr); strv_free(&off.rcpts); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        strv_free(&off.rcpts);
        return 2;
    }
    if (version) {
        version_print(stdout);
        rc = 0;
    } else if (check) {
        rc = check_config(config);
    } else if (off.message) {
        if (off.envfrom == NULL || off.rcpts.n == 0) {
            fprintf(stderr, "txmilter: -t needs --from and at least one --rcpt\n");
            strv_free(&off.rcpts);
            return 2;
        }
        off.conf = config;
        rc = offline_run(&off, stdout);
    } else {
        /* A detached daemon changes to "/": keep the path good for SIGHUP. */
        char *abs = realpath(config, NULL);

        rc = daemon_run(abs ? abs : config, foreground);
        free(abs);
    }
    strv_free(&off.rcpts);
    return rc;
}

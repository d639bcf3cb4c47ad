/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * txmilterctl.c - operator commands for txmilter.
 *
 * SYNOPSIS
 *	txmilterctl [-x CONFIG] policy lint|explain ...
 *	txmilterctl [-x CONFIG] ratelimit show|reset|stats ...
 *	txmilterctl [-x CONFIG] dns-check [DOMAIN...]
 *	txmilterctl genkey --domain D --selector S ...
 *	txmilterctl [-x CONFIG] suppress list|export|add|remove ...
 *
 * DESCRIPTION
 *	txmilterctl [-x CONFIG] policy lint [FILE]
 *	    parse a rate policy (default: the configured RateLimitPolicy);
 *	    print each rule as understood, or every error as file:line.
 *	txmilterctl [-x CONFIG] policy explain --rcpt A [--sender S] [--client IP] [--auth LOGIN]
 *	    which rules apply to that recipient, their keys, current counts
 *	    and the verdict, from the running daemon; nothing is consumed.
 *	txmilterctl [-x CONFIG] ratelimit show KEY | reset KEY | stats
 *	    one rate key's state, forget it, or the store's counters.
 *
 *	txmilterctl [-x CONFIG] dns-check [DOMAIN...]
 *	txmilterctl genkey --domain D --selector S [--type T] [--bits N] [--out F]
 *	    published SPF/DKIM/DMARC against the configuration, and new
 *	    keys with their DNS records (ctl_dns.c; exit status there).
 *
 *	txmilterctl [-x CONFIG] suppress list [--rcpt A] [--stream S] | export
 *	txmilterctl [-x CONFIG] suppress add|remove RCPT STREAM
 *	    the suppression list, straight from the Store (ctl_suppress.c;
 *	    exit status there).
 *
 *	Everything about live rate state goes through the daemon's control
 *	socket (ControlSocket), so it works the same with the embedded store
 *	and with Redis, and reports what the daemon itself sees.
 *
 * DIAGNOSTICS
 *	Exit status: 0 success, 1 error (bad policy, daemon unreachable,
 *	request refused: the daemon's "ERR reason" is printed on stderr as
 *	"txmilterctl: reason", e.g. "permission denied: ..." for a reset by
 *	a user that is neither root nor the daemon's), 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "ctl_dns.h"
#include "ctl_suppress.h"
#include "log.h"
#include "rate_policy.h"
#include "util.h"


static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: txmilterctl [-x CONFIG] policy lint [FILE]\n"
            "       txmilterctl [-x CONFIG] policy explain --rcpt ADDR [--sender ADDR] [--client IP] [--auth LOGIN]\n"
            "       txmilterctl [-x CONFIG] ratelimit show KEY\n"
            "       txmilterctl [-x CONFIG] ratelimit reset KEY\n"
            "       txmilterctl [-x CONFIG] ratelimit stats\n"
            "       txmilterctl [-x CONFIG] dns-check [DOMAIN...]\n"
            "       txmilterctl genkey --domain D --selector S [--type rsa|ed25519] [--bits N] [--out FILE]\n"
            "       txmilterctl [-x CONFIG] suppress list [--rcpt ADDR] [--stream S] | export\n"
            "       txmilterctl [-x CONFIG] suppress add|remove RCPT STREAM\n"
            "default CONFIG: %s/txmilter/txmilter.conf\n", SYSCONFDIR);
}

/* ctl_conf - the configuration, or NULL after printing why */
static TXCONF *ctl_conf(const char *path)
{
    BUF errs;
    TXCONF *cf;

    buf_init(&errs, 64 * 1024);
    if ((cf = conf_load(path, CONF_PROG_CTL, &errs)) == NULL)
        fputs(errs.data ? errs.data : "configuration error\n", stderr);
    buf_free(&errs);
    return cf;
}

/* ctl_lint - policy lint */
static int ctl_lint(const char *config, const char *file)
{
    TXCONF *cf = NULL;
    RATE_POLICY *p;
    BUF errs;
    char desc[256];

    if (file == NULL) {
        if ((cf = ctl_conf(config)) == NULL)
            return 1;
        if ((file = cf->rate.policy) == NULL) {
            fprintf(stderr, "txmilterctl: %s sets no RateLimitPolicy; name a file\n", config);
            conf_free(cf);
            return 1;
        }
    }
    buf_init(&errs, 64 * 1024);
    if ((p = rate_policy_load(file, &errs)) == NULL) {
        fputs(errs.data ? errs.data : "policy error\n", stderr);
        buf_free(&errs);
        conf_free(cf);
        return 1;
    }
    for (size_t i = 0; i < p->n; i++)
        printf("%s:%d: %s %s\n", p->rule[i].file, p->rule[i].line, p->rule[i].name,
               rate_policy_describe(&p->rule[i], desc, sizeof(desc)));
    printf("%s: %zu rule%s, valid\n", file, p->n, p->n == 1 ? "" : "s");
    rate_policy_free(p);
    buf_free(&errs);
    conf_free(cf);
    return 0;
}

/* ctl_ask - send one request line to the daemon and print the answer */
static int ctl_ask(const char *config, const char *request)
{
    TXCONF *cf = ctl_conf(config);
    struct sockaddr_un sun;
    char buf[4096];
    BUF answer;
    int fd, rc = 1;
    ssize_t got;

    if (cf == NULL)
        return 1;
    if (cf->daemon.control_socket == NULL) {
        fprintf(stderr, "txmilterctl: %s sets ControlSocket none\n", config);
        conf_free(cf);
        return 1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (util_strlcpy(sun.sun_path, cf->daemon.control_socket, sizeof(sun.sun_path)) < 0
        || (fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
        fprintf(stderr, "txmilterctl: bad ControlSocket %s\n", cf->daemon.control_socket);
        conf_free(cf);
        return 1;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        fprintf(stderr, "txmilterctl: cannot connect to %s: %s (%s)\n", cf->daemon.control_socket,
                strerror(errno), errno == EACCES ? "run as root or as UserID, or see ControlSocketGroup "
                "and ControlSocketMode" : "is txmilter running?");
        close(fd);
        conf_free(cf);
        return 1;
    }
    if (write(fd, request, strlen(request)) != (ssize_t) strlen(request) || write(fd, "\n", 1) != 1) {
        fprintf(stderr, "txmilterctl: %s: %s\n", cf->daemon.control_socket, strerror(errno));
        close(fd);
        conf_free(cf);
        return 1;
    }
    /* The answer's last line says OK or ERR; a refusal goes to stderr. */
    buf_init(&answer, 1 << 20);
    while ((got = read(fd, buf, sizeof(buf))) > 0)
        if (buf_append(&answer, buf, (size_t) got) < 0)
            break;
    if (answer.len) {
        char *end = answer.data + answer.len, *line;

        while (end > answer.data && end[-1] == '\n')
            *--end = 0;
        line = strrchr(answer.data, '\n');
        line = line ? line + 1 : answer.data;
        rc = strcmp(line, "OK") == 0 ? 0 : 1;
        if (rc == 0) {
            /* "OK" is the protocol's, not the operator's: only the exit status says it */
            if (line > answer.data)
                printf("%.*s\n", (int) (line - answer.data - 1), answer.data);
        } else if (strncmp(line, "ERR ", 4) != 0) {
            printf("%s\n", answer.data);
        } else {
            if (line > answer.data)
                printf("%.*s\n", (int) (line - answer.data - 1), answer.data);
            fprintf(stderr, "txmilterctl: %s\n", line + 4);
        }
    } else
        fprintf(stderr, "txmilterctl: no answer from %s\n", cf->daemon.control_socket);
    buf_free(&answer);
    close(fd);
    conf_free(cf);
    return rc;
}

/* ctl_word_ok - request words may not carry spaces or line breaks */
static int ctl_word_ok(const char *s)
{
    return *s && strpbrk(s, " \t\r\n") == NULL;
}

int main(int argc, char **argv)
{
    const char *config = CONF_DEFAULT_FILE;
    int c;

    log_init("txmilterctl", 0, 0, 1);
    while ((c = getopt(argc, argv, "+x:h")) != -1) {
        switch (c) {
        case 'x': config = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    argc -= optind;
    argv += optind;
    if (argc >= 1 && (strcmp(argv[0], "dns-check") == 0 || strcmp(argv[0], "genkey") == 0))
        return ctl_dns_main(config, argc, argv);
    if (argc >= 1 && strcmp(argv[0], "suppress") == 0)
        return ctl_suppress_main(config, argc, argv);
    if (argc >= 2 && strcmp(argv[0], "policy") == 0 && strcmp(argv[1], "lint") == 0 && argc <= 3)
        return ctl_lint(config, argc == 3 ? argv[2] : NULL);
    if (argc >= 2 && strcmp(argv[0], "policy") == 0 && strcmp(argv[1], "explain") == 0) {
        static const struct option opts[] = {
            {"rcpt", required_argument, NULL, 'r'}, {"sender", required_argument, NULL, 's'},
            {"client", required_argument, NULL, 'c'}, {"auth", required_argument, NULL, 'a'},
            {NULL, 0, NULL, 0},
        };
        const char *rcpt = NULL, *sender = NULL, *client = NULL, *auth = NULL;
        BUF req;
        int rc;

        optind = 1;
        while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
            switch (c) {
            case 'r': rcpt = optarg; break;
            case 's': sender = optarg; break;
            case 'c': client = optarg; break;
            case 'a': auth = optarg; break;
            default: usage(stderr); return 2;
            }
        }
        if (rcpt == NULL || optind != argc - 1) {
            usage(stderr);
            return 2;
        }
        if (!ctl_word_ok(rcpt) || (sender && !ctl_word_ok(sender)) || (client && !ctl_word_ok(client))
            || (auth && !ctl_word_ok(auth))) {
            fprintf(stderr, "txmilterctl: values may not contain white space\n");
            return 2;
        }
        buf_init(&req, 4000);
        if (buf_printf(&req, "EXPLAIN rcpt=%s", rcpt) < 0
            || (sender && buf_printf(&req, " sender=%s", sender) < 0)
            || (client && buf_printf(&req, " client=%s", client) < 0)
            || (auth && buf_printf(&req, " auth=%s", auth) < 0)) {
            fprintf(stderr, "txmilterctl: request too long\n");
            buf_free(&req);
            return 2;
        }
        rc = ctl_ask(config, req.data);
        buf_free(&req);
        return rc;
    }
    if (argc == 3 && strcmp(argv[0], "ratelimit") == 0
        && (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "reset") == 0)) {
        char req[700];

        if (!ctl_word_ok(argv[2]) || strlen(argv[2]) > 600) {
            fprintf(stderr, "txmilterctl: bad key\n");
            return 2;
        }
        snprintf(req, sizeof(req), "%s %s", strcmp(argv[1], "show") == 0 ? "SHOW" : "RESET", argv[2]);
        return ctl_ask(config, req);
    }
    if (argc == 2 && strcmp(argv[0], "ratelimit") == 0 && strcmp(argv[1], "stats") == 0)
        return ctl_ask(config, "STATS");
    usage(stderr);
    return 2;
}

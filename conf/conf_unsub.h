/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_unsub.h - the List-Unsubscribe part of txmilter.conf(5): what
 * txmilter and txmilter-unsubd share (cf->unsub) and what only
 * txmilter-unsubd reads (cf->unsubd); rows in conf_unsub_dirs.c.
 */
#ifndef TX_CONF_UNSUB_H
#define TX_CONF_UNSUB_H

#include <stdint.h>

/* A rate limit "N/period" (conf_parse_ratespec). */
typedef struct conf_ratespec {
    uint32_t limit;
    uint64_t period_ms;
} CONF_RATESPEC;

typedef struct conf_unsub {
    char   *keyfile;            /* UnsubscribeKeyFile; with UnsubscribeURL it turns the headers on */
    char   *url;                /* UnsubscribeURL template: %{token}, %{domain} */
    char   *mailto;             /* UnsubscribeMailto template: an address with %{token} in its local part */
    char   *exempt;             /* UnsubscribeExempt dataset: From address or domain patterns */
    char   *table;              /* UnsubscribeTable dataset: per From domain URL [mailto] templates */
    int     replace;            /* UnsubscribeExisting keep|replace, default keep */
    int     scope_domain;       /* UnsubscribeScope address|domain: the stream is the From address (default) or domain */
    int     max_age;            /* UnsubscribeMaxAge seconds a token stays valid, 0 (default): forever */
    char   *data_directory;     /* DataDirectory, default /var/lib/txmilter */
} CONF_UNSUB;

/* What only txmilter-unsubd reads. */
typedef struct conf_unsubd {
    char   *listen;             /* UnsubscribeListen host:port, default 127.0.0.1:8025 */
    char   *pidfile;            /* UnsubscribePidFile (it ignores PidFile, txmilter's); NULL: none */
    char   *trusted_proxy;      /* UnsubscribeTrustedProxy: the address whose X-Forwarded-For is believed */
    char   *template_dir;       /* UnsubscribeTemplateDirectory: the operator's pages; NULL: built-in */
    CONF_RATESPEC rate;         /* UnsubscribeRateLimit per client address, default 120/1m */
    char   *metrics_listen;     /* UnsubscribeMetricsListen host:port of /metrics, /health; NULL (default): off */
} CONF_UNSUBD;

#endif

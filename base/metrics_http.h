/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics_http.h - the metrics endpoint of a daemon (libmicrohttpd):
 * GET /metrics (the registry, text format or OpenMetrics) and GET
 * /health (200, or 503 with the reason).
 */
#ifndef TX_METRICS_HTTP_H
#define TX_METRICS_HTTP_H

#include <stddef.h>

#include "metrics.h"
#include "util.h"

#define METRICS_HTTP_BODY_MAX   (4 * 1024 * 1024)   /* bytes of one scrape */
#define METRICS_HTTP_CONN_MAX   16                  /* connections at once */
#define METRICS_HTTP_TIMEOUT    10                  /* seconds a connection may idle */

/* A health check: 1 when the daemon can do its job; otherwise 0 with
 * what is wrong appended to reason ("store redis: down (...)"). */
typedef int (*METRICS_HEALTH_FN) (void *arg, BUF *reason);

typedef struct metrics_http METRICS_HTTP;

/* metrics_http_bind - bind listen ("host:port", the value of the
 * directive what) while the process may bind any port: 0 with *out
 * set, also 0 with *out NULL when listen is NULL (off), -1 (logged) if
 * the address cannot be bound */
int metrics_http_bind(const char *what, const char *listen, METRICS_HTTP **out);

/* metrics_http_serve - answer with reg and health on the bound socket
 * from now on; a NULL h (off) does nothing. 0, or -1 (logged) if
 * libmicrohttpd cannot start. */
int metrics_http_serve(METRICS_HTTP *h, METRICS *reg, METRICS_HEALTH_FN health, void *arg);

/* metrics_http_stop - stop serving, close the socket and free; NULL is a no-op */
void metrics_http_stop(METRICS_HTTP *h);

#endif

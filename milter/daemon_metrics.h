/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon_metrics.h - txmilter's metric families, its MetricsListen
 * endpoint and the /health decision.
 */
#ifndef TX_DAEMON_METRICS_H
#define TX_DAEMON_METRICS_H

#include <stddef.h>

#include "conf.h"
#include "metrics.h"
#include "msg_metrics.h"
#include "redis_pool.h"
#include "services.h"

#define DAEMON_HEALTH_DNS_FAILING 3     /* failed queries in a row that mean "resolver down" */
#define DAEMON_HEALTH_STORE_TTL 5       /* seconds a Redis PING's answer is kept for scrapes */
#define DAEMON_HEALTH_DNS_PROBE 5       /* seconds between probes of a resolver that reads as down */

/* What /health decides on. */
typedef struct daemon_health {
    int      redis;                 /* the rate store (and suppression list) is Redis */
    int      redis_up;              /* it answered a PING (DAEMON_HEALTH_STORE_TTL) */
    int      breaker_open;          /* its circuit breaker is open */
    int      suppress;              /* a suppression list is open */
    int      suppress_up;           /* its last call was answered */
    int      resolver;              /* the alignment preflight needs DNS */
    unsigned long dns_failing;      /* queries that failed in a row */
} DAEMON_HEALTH;

/* daemon_metrics_health - 1 if txmilter can do its job; else 0 with
 * every reason appended to reason ("; " between them). Pure: the unit
 * tests call it. */
int daemon_metrics_health(const DAEMON_HEALTH *h, BUF *reason);

typedef struct daemon_metrics DAEMON_METRICS;

/* daemon_metrics_new - the registry with every family of txmilter; the
 * counters run whether or not MetricsListen is set (txmilterctl
 * ratelimit stats reads them) */
DAEMON_METRICS *daemon_metrics_new(void);

/* daemon_metrics_msg - the pipeline's families, for SERVICES */
const MSG_METRICS *daemon_metrics_msg(DAEMON_METRICS *dm);

/* daemon_metrics_registry - the registry (for the control socket) */
METRICS *daemon_metrics_registry(DAEMON_METRICS *dm);

/* daemon_metrics_listen - bind MetricsListen (before privileges are
 * dropped); 0, also when it is not set, or -1 (logged) */
int daemon_metrics_listen(DAEMON_METRICS *dm, const TXCONF *cf);

/* daemon_metrics_serve - start answering on the bound socket, reading
 * the stores of svc (pool: the Redis pool, or NULL) and whether cf's
 * preflight needs DNS. 0, or -1 (logged). */
int daemon_metrics_serve(DAEMON_METRICS *dm, const TXCONF *cf, const SERVICES *svc, REDIS_POOL *pool);

/* daemon_metrics_reloaded - count a configuration (re)load that ok or failed */
void daemon_metrics_reloaded(DAEMON_METRICS *dm, int ok);

/* daemon_metrics_free - stop the endpoint, free everything; NULL is a no-op */
void daemon_metrics_free(DAEMON_METRICS *dm);

#endif

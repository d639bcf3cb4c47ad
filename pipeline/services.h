/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * services.h - the shared services the pipeline uses and does not own:
 * the rate store, the suppression list, the counters, the resolver and
 * the clock. The program opens them (they outlive configuration
 * reloads), fills one SERVICES (services_init() first) and hands it to
 * every msg_new(); the pipeline reads none of them from a global.
 */
#ifndef TX_SERVICES_H
#define TX_SERVICES_H

#include <time.h>

#include "dns.h"
#include "msg_metrics.h"
#include "rate_store.h"
#include "suppress.h"

/* The clock: seconds since the epoch (time(), or a test's fixed time). */
typedef time_t (*SERVICES_CLOCK)(void);

typedef struct services {
    RATE_STORE *rate;           /* rate state; NULL: rates are not counted */
    SUPPRESS *suppress;         /* suppression list; NULL: none to consult or add to */
    const MSG_METRICS *metrics; /* counters; NULL: nothing is counted (txmilter -t, tests) */
    const DNS_RESOLVER *dns;    /* the alignment preflight's resolver; NULL: dns_resolver() */
    SERVICES_CLOCK now;         /* unsubscribe token times; NULL: services_time() */
} SERVICES;

/* services_init - no stores, no counters, the process's resolver, the
 * system clock */
void    services_init(SERVICES *svc);

/* services_time - the system clock (time()) as a SERVICES_CLOCK */
time_t  services_time(void);

/* services_now - svc's clock, read */
time_t  services_now(const SERVICES *svc);

#endif

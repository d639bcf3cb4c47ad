/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * services.h - the shared services the pipeline uses and does not own:
 * the rate store, the suppression list and the counters. The program opens them (they
 * outlive configuration reloads), fills one SERVICES and hands it to
 * every msg_new(); the pipeline reads no store from a global.
 */
#ifndef TX_SERVICES_H
#define TX_SERVICES_H

#include "msg_metrics.h"
#include "rl_store.h"
#include "suppress.h"

typedef struct services {
    RL_STORE *rate;             /* rate state; NULL: rates are not counted */
    SUPPRESS *suppress;         /* suppression list; NULL: none to consult or add to */
    const MSG_METRICS *metrics; /* counters; NULL: nothing is counted (txmilter -t, tests) */
} SERVICES;

#endif

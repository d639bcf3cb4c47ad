/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_metrics.h - the counters the pipeline keeps, at the point where it
 * decides: the metric families (base/metrics.h) the program registered,
 * handed to every message in SERVICES. NULL families count nothing.
 */
#ifndef TX_MSG_METRICS_H
#define TX_MSG_METRICS_H

#include "metrics.h"

typedef struct msg_metrics {
    METRICS_FAMILY *messages;       /* txmilter_messages_total{action} */
    METRICS_FAMILY *signatures;     /* txmilter_signatures_total{domain,selector,algorithm} */
    METRICS_FAMILY *sig_errors;     /* txmilter_signature_errors_total{domain} */
    METRICS_FAMILY *refusals;       /* txmilter_refusals_total{reason} */
    METRICS_FAMILY *rate;           /* txmilter_ratelimit_decisions_total{rule,result} */
    METRICS_FAMILY *preflight;      /* txmilter_preflight_verdicts_total{domain,verdict} */
    METRICS_FAMILY *stage;          /* txmilter_stage_duration_seconds{stage} */
    METRICS_FAMILY *bounces;        /* txmilter_bounces_total{class} */
    METRICS_FAMILY *suppressions;   /* txmilter_suppressions_total{reason} */
    METRICS_FAMILY *complaints;     /* txmilter_complaints_total{result} */
} MSG_METRICS;

#endif

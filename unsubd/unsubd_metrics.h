/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_metrics.h - txmilter-unsubd's metric families and its
 * UnsubscribeMetricsListen endpoint (/metrics, /health).
 */
#ifndef TX_UNSUBD_METRICS_H
#define TX_UNSUBD_METRICS_H

#include <stddef.h>

#include "metrics.h"
#include "suppress.h"
#include "unsubd_conf.h"

#define UNSUBD_METRICS_STREAMS  256     /* stream labels (the signing domains) before they fold into "other" */

typedef struct unsubd_metrics UNSUBD_METRICS;

/* unsubd_metrics_new - the registry: txmilter_unsubd_requests_total{code},
 * txmilter_unsubd_unsubscribes_total{stream} (its labels the signing
 * domains of cf's KeyTable or Domain, and "other"; unreadable tables are
 * logged and leave "other" alone), txmilter_unsubd_store_up,
 * txmilter_build_info */
UNSUBD_METRICS *unsubd_metrics_new(const TXCONF *cf);

/* unsubd_metrics_registry - the registry (tests) */
METRICS *unsubd_metrics_registry(UNSUBD_METRICS *um);

/* unsubd_metrics_listen - bind UnsubscribeMetricsListen while privileged;
 * 0, also when it is not set, or -1 (logged) */
int unsubd_metrics_listen(UNSUBD_METRICS *um, const UNSUBD_CONF *uc);

/* unsubd_metrics_serve - answer there, /health reading store; 0 or -1 (logged) */
int unsubd_metrics_serve(UNSUBD_METRICS *um, SUPPRESS *store);

/* unsubd_metrics_response - one HTTP answer with this status; NULL um: nothing */
void unsubd_metrics_response(UNSUBD_METRICS *um, unsigned status);

/* unsubd_metrics_unsubscribed - one unsubscribe recorded for stream */
void unsubd_metrics_unsubscribed(UNSUBD_METRICS *um, const char *stream);

/* unsubd_metrics_stream - the label of a stream: its domain (the part
 * after the last '@', or the whole stream of UnsubscribeScope domain),
 * spelled as domains has it, when domains names it ignoring case; else
 * "other". A token's stream is the From address an application chose,
 * so only configured domains may name a series. */
const char *unsubd_metrics_stream(const STRV *domains, const char *stream);

/* unsubd_metrics_free - stop the endpoint and free; NULL is a no-op */
void unsubd_metrics_free(UNSUBD_METRICS *um);

#endif

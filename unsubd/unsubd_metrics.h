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

#define UNSUBD_METRICS_STREAMS  64      /* stream domains before they fold into "other" */

typedef struct unsubd_metrics UNSUBD_METRICS;

/* unsubd_metrics_new - the registry: txmilter_unsubd_requests_total{code},
 * txmilter_unsubd_unsubscribes_total{stream}, txmilter_unsubd_store_up,
 * txmilter_build_info */
UNSUBD_METRICS *unsubd_metrics_new(void);

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
 * after the last '@', lowercased, at most len - 1 bytes); "other" for one
 * that is not a plain domain name. The set is bounded twice: streams come
 * only from tokens txmilter sealed for its own senders, and past
 * UNSUBD_METRICS_STREAMS domains the registry folds them into "other". */
const char *unsubd_metrics_stream(const char *stream, char *out, size_t len);

/* unsubd_metrics_free - stop the endpoint and free; NULL is a no-op */
void unsubd_metrics_free(UNSUBD_METRICS *um);

#endif

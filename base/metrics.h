/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.h - a registry of metric families (counters, gauges,
 * histograms) with bounded label sets, written out in the Prometheus
 * text format or in OpenMetrics. Counting is lock-free (atomics), so the
 * pipeline counts on its hot path.
 */
#ifndef TX_METRICS_H
#define TX_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define METRICS_LABELS_MAX  4       /* label names of one family */
#define METRICS_VALUE_MAX   128     /* bytes of one label value */
#define METRICS_OTHER       "other" /* what a label value folds into */

typedef enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM } METRICS_TYPE;

typedef struct metrics METRICS;
typedef struct metrics_family METRICS_FAMILY;

/* metrics_new - an empty registry; metrics_free - it and its families */
METRICS *metrics_new(void);
void metrics_free(METRICS *reg);

/* metrics_family - register a family: name (a counter's ends in _total),
 * help, labels "a,b" (NULL or "" for none), at most max_series label
 * sets; further sets fold into one whose every value is "other".
 * Histograms take bounds (seconds, ascending, nbounds of them). Returns
 * NULL (and logs) on a bad name or label list: a bug of the caller. */
METRICS_FAMILY *metrics_family(METRICS *reg, METRICS_TYPE type, const char *name, const char *help,
                               const char *labels, size_t max_series, const double *bounds,
                               size_t nbounds);

/* metrics_series - the index of the label set vals[] (one per label
 * name; NULL is ""), added if new: -1 only for a NULL family. Values
 * longer than METRICS_VALUE_MAX are cut. */
int metrics_series(METRICS_FAMILY *f, const char *const *vals);

/* Counting by series index (from metrics_series()); a NULL family or a
 * negative index does nothing, so callers need not test either. */
void metrics_add(METRICS_FAMILY *f, int series, uint64_t n);
void metrics_set(METRICS_FAMILY *f, int series, double v);       /* gauges; counters: their total */
void metrics_observe(METRICS_FAMILY *f, int series, double v);   /* histograms */

/* metrics_zero - every label set of a gauge back to 0 (an info family
 * whose sets changed: a reloaded rate policy) */
void metrics_zero(METRICS_FAMILY *f);

/* metrics_inc - metrics_add(f, metrics_series(f, vals), 1) */
void metrics_inc(METRICS_FAMILY *f, const char *const *vals);

/* METRICS_L - a label value list in place: METRICS_L("signed") */
#define METRICS_L(...) ((const char *const[]) {__VA_ARGS__})

/* metrics_value - a counter's or gauge's value (tests, txmilterctl), 0 if
 * that label set was never used */
double metrics_value(METRICS_FAMILY *f, const char *const *vals);

/* metrics_on_collect - fn(arg) runs before every metrics_render(), to set
 * the gauges read from elsewhere (store state, resolver counters) */
void metrics_on_collect(METRICS *reg, void (*fn)(void *), void *arg);

/* metrics_render - every family into out, OpenMetrics (with its # EOF)
 * if openmetrics, else the Prometheus text format 0.0.4. -1 if out
 * filled up. */
int metrics_render(METRICS *reg, int openmetrics, BUF *out);

/* The Content-Type of each format. */
#define METRICS_CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* metrics_accept_openmetrics - 1 if an HTTP Accept header value (NULL:
 * none) prefers OpenMetrics to the text format: application/openmetrics-
 * text has a q above 0 and no lower than that of text/plain, text/ * or
 * * / *. Malformed parts are skipped; only the first 4096 bytes count. */
int metrics_accept_openmetrics(const char *accept);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics_text.c - the registry written out for a scraper
 *
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	int	metrics_render(METRICS *reg, int openmetrics, BUF *out)
 *
 * DESCRIPTION
 *	metrics_render() runs the collect hook (metrics_on_collect()), then
 *	writes every family in registration order: # HELP and # TYPE, then
 *	one sample per label set in use (a histogram: cumulative _bucket
 *	samples with le, then _sum and _count). The Prometheus text format
 *	0.0.4 names a counter family with its _total; OpenMetrics 1.0 names
 *	the family without it, the samples with it, and ends with # EOF.
 *	Label values are escaped (backslash, double quote, line feed) and
 *	were made printable ASCII when they were added.
 *
 * DIAGNOSTICS
 *	-1 when out reached its limit (what fits is in it); 0 otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_int.h"

/* metrics_num - a sample value as the formats write it */
static void metrics_num(char *dst, size_t len, double v)
{
    if (isnan(v))
        snprintf(dst, len, "NaN");
    else if (isinf(v))
        snprintf(dst, len, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(dst, len, "%.0f", v);
    else {
        /* the shortest of %.15g and %.17g that reads back as v */
        snprintf(dst, len, "%.15g", v);
        if (strtod(dst, NULL) != v)
            snprintf(dst, len, "%.17g", v);
    }
}

/* metrics_escaped - s with \, " and LF escaped (help: no quotes) */
static int metrics_escaped(BUF *out, const char *s, int quotes)
{
    int rc = 0;

    for (; *s && rc == 0; s++) {
        if (*s == '\\')
            rc = buf_puts(out, "\\\\");
        else if (*s == '\n')
            rc = buf_puts(out, "\\n");
        else if (*s == '"' && quotes)
            rc = buf_puts(out, "\\\"");
        else
            rc = buf_append(out, s, 1);
    }
    return rc;
}

/* metrics_labelset - {a="x",b="y"} with an optional le, or nothing */
static int metrics_labelset(BUF *out, const METRICS_FAMILY *f, const METRICS_REC *r, const char *le)
{
    int rc = 0;

    if (f->nlabels == 0 && le == NULL)
        return 0;
    rc |= buf_puts(out, "{");
    for (size_t k = 0; k < f->nlabels; k++) {
        rc |= buf_printf(out, "%s%s=\"", k ? "," : "", f->label[k]);
        rc |= metrics_escaped(out, r->vals[k], 1);
        rc |= buf_puts(out, "\"");
    }
    if (le)
        rc |= buf_printf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
    rc |= buf_puts(out, "}");
    return rc;
}

/* metrics_sample - name[suffix]{labels} value */
static int metrics_sample(BUF *out, const METRICS_FAMILY *f, const char *suffix, const METRICS_REC *r,
                          const char *le, double v)
{
    char num[64];
    int rc;

    metrics_num(num, sizeof(num), v);
    rc = buf_printf(out, "%s%s", f->name, suffix);
    rc |= metrics_labelset(out, f, r, le);
    rc |= buf_printf(out, " %s\n", num);
    return rc;
}

/* metrics_histogram - the samples of one histogram label set */
static int metrics_histogram(BUF *out, const METRICS_FAMILY *f, METRICS_REC *r)
{
    uint64_t cum = 0, count = atomic_load_explicit(&r->count, memory_order_relaxed);
    char le[64];
    int rc = 0;

    for (size_t b = 0; b < f->nbounds; b++) {
        cum += atomic_load_explicit(&r->buckets[b], memory_order_relaxed);
        if (cum > count)
            count = cum;        /* an observation counted in its bucket, not yet in count */
        metrics_num(le, sizeof(le), f->bounds[b]);
        if (strchr(le, '.') == NULL && strchr(le, 'e') == NULL && strchr(le, 'I') == NULL)
            (void) strncat(le, ".0", sizeof(le) - strlen(le) - 1);
        rc |= metrics_sample(out, f, "_bucket", r, le, (double) cum);
    }
    rc |= metrics_sample(out, f, "_bucket", r, "+Inf", (double) count);
    rc |= metrics_sample(out, f, "_sum", r, NULL,
                         metrics_bits_double(atomic_load_explicit(&r->sum, memory_order_relaxed)));
    rc |= metrics_sample(out, f, "_count", r, NULL, (double) count);
    return rc;
}

/* metrics_family_render - one family */
static int metrics_family_render(BUF *out, METRICS_FAMILY *f, int om)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    size_t n = atomic_load_explicit(&f->n, memory_order_acquire), len = strlen(f->name);
    int rc = 0;

    if (om && f->type == METRICS_COUNTER && len > 6 && strcmp(f->name + len - 6, "_total") == 0)
        len -= 6;
    rc |= buf_printf(out, "# HELP %.*s ", (int) len, f->name);
    rc |= metrics_escaped(out, f->help, 0);
    rc |= buf_printf(out, "\n# TYPE %.*s %s\n", (int) len, f->name, types[f->type]);
    for (size_t i = 0; i <= f->max && rc == 0; i++) {
        METRICS_REC *r = &f->rec[i];

        if (i >= n && (i < f->max || !atomic_load_explicit(&f->other_used, memory_order_relaxed)))
            continue;
        if (f->type == METRICS_HISTOGRAM)
            rc |= metrics_histogram(out, f, r);
        else if (f->type == METRICS_GAUGE)
            rc |= metrics_sample(out, f, "", r, NULL,
                                 metrics_bits_double(atomic_load_explicit(&r->v, memory_order_relaxed)));
        else
            rc |= metrics_sample(out, f, "", r, NULL,
                                 (double) atomic_load_explicit(&r->v, memory_order_relaxed));
    }
    return rc;
}

/* metrics_render - every family, in one of the two formats */
int metrics_render(METRICS *reg, int openmetrics, BUF *out)
{
    int rc = 0;

    pthread_mutex_lock(&reg->lock);
    if (reg->collect)
        reg->collect(reg->collect_arg);
    for (METRICS_FAMILY *f = reg->first; f && rc == 0; f = f->next)
        rc |= metrics_family_render(out, f, openmetrics);
    if (openmetrics && rc == 0)
        rc |= buf_puts(out, "# EOF\n");
    pthread_mutex_unlock(&reg->lock);
    return rc ? -1 : 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.c - the metric registry: families, label sets, counting
 *
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	METRICS * metrics_new(void)
 *	void	metrics_free(METRICS *reg)
 *	METRICS_FAMILY * metrics_family(METRICS *reg, METRICS_TYPE type,
 *			const char *name, const char *help, const char *labels,
 *			size_t max_series, const double *bounds, size_t nbounds)
 *	int	metrics_series(METRICS_FAMILY *f, const char *const *vals)
 *	void	metrics_add(METRICS_FAMILY *f, int series, uint64_t n)
 *	void	metrics_set(METRICS_FAMILY *f, int series, double v)
 *	void	metrics_observe(METRICS_FAMILY *f, int series, double v)
 *	void	metrics_inc(METRICS_FAMILY *f, const char *const *vals)
 *	void	metrics_zero(METRICS_FAMILY *f)
 *	double	metrics_value(METRICS_FAMILY *f, const char *const *vals)
 *	void	metrics_on_collect(METRICS *reg, void (*fn)(void *), void *arg)
 *
 * DESCRIPTION
 *	A family has a fixed list of label names and room for max_series
 *	label sets. Finding a set is a lookup without a lock in a hash index
 *	of the sets published so far (each record is complete before the
 *	index entry that makes it visible is stored), so a policy of 256
 *	rules costs no more per decision than one of two; adding a set takes
 *	the family's mutex. A set past
 *	the room, or one whose every value is "other", is the family's
 *	reserved "other" set, so that no input can grow the registry:
 *	callers fold values they do not know (a domain not configured) into
 *	"other" themselves, and the bound is the last line of defence.
 *	Values are atomics (relaxed: a scrape sees each one whole, not all
 *	of them at one instant); a histogram keeps a count per bucket, the
 *	number of observations and their sum.
 *
 *	Label values keep printable ASCII only (anything else becomes '?'),
 *	so that what is written out is always valid UTF-8.
 *
 * DIAGNOSTICS
 *	metrics_family() logs and returns NULL for a name or label list that
 *	is not valid in Prometheus (a caller's bug); counting on a NULL
 *	family is a no-op, so a program without metrics pays a test.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics_int.h"

/* metrics_new - an empty registry */
METRICS *metrics_new(void)
{
    METRICS *reg = xcalloc(1, sizeof(*reg));

    if (pthread_mutex_init(&reg->lock, NULL) != 0)
        log_fatal("cannot initialise a mutex");
    return reg;
}

/* metrics_family_free - one family */
static void metrics_family_free(METRICS_FAMILY *f)
{
    for (size_t i = 0; i <= f->max; i++) {
        for (size_t k = 0; k < f->nlabels; k++)
            free(f->rec[i].vals[k]);
        free(f->rec[i].buckets);
    }
    for (size_t k = 0; k < f->nlabels; k++)
        free(f->label[k]);
    free(f->rec);
    free(f->slots);
    free(f->bounds);
    free(f->name);
    free(f->help);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/* metrics_free - the registry and its families */
void metrics_free(METRICS *reg)
{
    METRICS_FAMILY *f, *next;

    if (reg == NULL)
        return;
    for (f = reg->first; f; f = next) {
        next = f->next;
        metrics_family_free(f);
    }
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

/* metrics_valid_name - [a-zA-Z_:][a-zA-Z0-9_:]*, no "__" prefix */
static int metrics_valid_name(const char *s, int colon_ok)
{
    if (s == NULL || *s == 0 || (s[0] >= '0' && s[0] <= '9') || strncmp(s, "__", 2) == 0)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || *s == '_' || (colon_ok && *s == ':')))
            return 0;
    return 1;
}

/* metrics_labels - split "a,b" into f->label[]; -1 if a name is bad */
static int metrics_labels(METRICS_FAMILY *f, const char *labels)
{
    STRV sv;
    int rc = 0;

    strv_init(&sv);
    if (labels && *labels)
        strv_split(&sv, labels, ",");
    if (sv.n > METRICS_LABELS_MAX)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < sv.n; i++) {
        if (!metrics_valid_name(sv.v[i], 0) || strcmp(sv.v[i], "le") == 0)
            rc = -1;
        else
            f->label[f->nlabels++] = xstrdup(sv.v[i]);
    }
    strv_free(&sv);
    return rc;
}

/* metrics_rec_init - label values of one record, sanitised */
static void metrics_rec_init(METRICS_FAMILY *f, METRICS_REC *r, const char *const *vals)
{
    for (size_t k = 0; k < f->nlabels; k++) {
        const char *v = vals && vals[k] ? vals[k] : "";
        size_t len = strnlen(v, METRICS_VALUE_MAX);

        r->vals[k] = xstrndup(v, len);
        for (char *p = r->vals[k]; *p; p++)
            if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e)
                *p = '?';
    }
    if (f->type == METRICS_HISTOGRAM)
        r->buckets = xcalloc(f->nbounds + 1, sizeof(*r->buckets));
}

/* metrics_family - register one family */
METRICS_FAMILY *metrics_family(METRICS *reg, METRICS_TYPE type, const char *name, const char *help,
                               const char *labels, size_t max_series, const double *bounds,
                               size_t nbounds)
{
    METRICS_FAMILY *f = xcalloc(1, sizeof(*f));
    static const char *const others[METRICS_LABELS_MAX] = {METRICS_OTHER, METRICS_OTHER,
                                                           METRICS_OTHER, METRICS_OTHER};

    if (pthread_mutex_init(&f->lock, NULL) != 0)
        log_fatal("cannot initialise a mutex");
    f->type = type;
    f->name = xstrdup(name ? name : "");
    f->help = xstrdup(help ? help : "");
    if (!metrics_valid_name(name, 1) || metrics_labels(f, labels) < 0
        || (type == METRICS_HISTOGRAM && (bounds == NULL || nbounds == 0))) {
        log_err("internal error: metric %s: bad name, labels or buckets", f->name);
        f->max = 0;
        f->rec = xcalloc(1, sizeof(*f->rec));
        metrics_family_free(f);
        return NULL;
    }
    if (type == METRICS_HISTOGRAM) {
        f->bounds = xcalloc(nbounds, sizeof(double));
        memcpy(f->bounds, bounds, nbounds * sizeof(double));
        f->nbounds = nbounds;
    }
    f->max = f->nlabels == 0 ? 1 : (max_series ? max_series : 1);
    f->rec = xcalloc(f->max + 1, sizeof(*f->rec));
    for (size_t i = 0; i <= f->max; i++)
        atomic_init(&f->rec[i].v, 0);
    for (f->nslots = 4; f->nslots < 2 * f->max; f->nslots *= 2)
        ;
    f->slots = xcalloc(f->nslots, sizeof(*f->slots));
    metrics_rec_init(f, &f->rec[f->max], others);
    if (f->nlabels == 0) {
        metrics_rec_init(f, &f->rec[0], NULL);
        atomic_store(&f->n, 1);
    }
    pthread_mutex_lock(&reg->lock);
    if (reg->last)
        reg->last->next = f;
    else
        reg->first = f;
    reg->last = f;
    pthread_mutex_unlock(&reg->lock);
    return f;
}

/* metrics_clean - a label value's byte as it is kept (metrics_rec_init()) */
static unsigned char metrics_clean(unsigned char c)
{
    return c < 0x20 || c > 0x7e ? '?' : c;
}

/* metrics_rec_match - record r holds vals, as kept (cut and cleaned) */
static int metrics_rec_match(const METRICS_FAMILY *f, const METRICS_REC *r, const char *const *vals)
{
    for (size_t k = 0; k < f->nlabels; k++) {
        const unsigned char *a = (const unsigned char *) r->vals[k];
        const unsigned char *b = (const unsigned char *) (vals[k] ? vals[k] : "");

        for (size_t i = 0; i < METRICS_VALUE_MAX; i++) {
            unsigned char c = b[i] ? metrics_clean(b[i]) : 0;

            if (a[i] != c)
                return 0;
            if (c == 0)
                break;
        }
    }
    return 1;
}

/* metrics_hash - FNV-1a of vals as kept */
static size_t metrics_hash(const METRICS_FAMILY *f, const char *const *vals)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t k = 0; k < f->nlabels; k++) {
        const unsigned char *b = (const unsigned char *) (vals[k] ? vals[k] : "");

        for (size_t i = 0; i < METRICS_VALUE_MAX && b[i]; i++)
            h = (h ^ metrics_clean(b[i])) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return (size_t) h;
}

/* metrics_all_other - every value is "other" */
static int metrics_all_other(const METRICS_FAMILY *f, const char *const *vals)
{
    for (size_t k = 0; k < f->nlabels; k++)
        if (vals[k] == NULL || strcmp(vals[k], METRICS_OTHER) != 0)
            return 0;
    return 1;
}

/* metrics_find - the record of vals in the index, or -1; *slot (if not
 * NULL) the empty slot where it would go */
static int metrics_find(const METRICS_FAMILY *f, const char *const *vals, size_t *slot)
{
    size_t mask = f->nslots - 1, h = metrics_hash(f, vals);

    for (size_t j = 0; j < f->nslots; j++) {
        size_t s = (h + j) & mask;
        int idx = atomic_load_explicit(&f->slots[s], memory_order_acquire);

        if (idx == 0) {
            if (slot)
                *slot = s;
            return -1;
        }
        if (metrics_rec_match(f, &f->rec[idx - 1], vals))
            return idx - 1;
    }
    return -1;                      /* cannot be: the index is never more than half full */
}

/* metrics_series - find or add a label set */
int metrics_series(METRICS_FAMILY *f, const char *const *vals)
{
    size_t n, slot = 0;
    int i;

    if (f == NULL)
        return -1;
    if (f->nlabels == 0)
        return 0;
    if (metrics_all_other(f, vals)) {
        atomic_store_explicit(&f->other_used, 1, memory_order_relaxed);
        return (int) f->max;
    }
    if ((i = metrics_find(f, vals, NULL)) >= 0)
        return i;
    pthread_mutex_lock(&f->lock);
    n = atomic_load_explicit(&f->n, memory_order_relaxed);
    if ((i = metrics_find(f, vals, &slot)) < 0) {
        if (n < f->max) {
            metrics_rec_init(f, &f->rec[n], vals);
            atomic_store_explicit(&f->n, n + 1, memory_order_release);
            atomic_store_explicit(&f->slots[slot], (int) n + 1, memory_order_release);
            i = (int) n;
        } else {
            atomic_store_explicit(&f->other_used, 1, memory_order_relaxed);
            i = (int) f->max;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return i;
}

/* metrics_rec - the record of a series index, or NULL */
static METRICS_REC *metrics_rec(METRICS_FAMILY *f, int series)
{
    if (f == NULL || series < 0 || (size_t) series > f->max)
        return NULL;
    return &f->rec[series];
}

/* metrics_add - a counter goes up by n */
void metrics_add(METRICS_FAMILY *f, int series, uint64_t n)
{
    METRICS_REC *r = metrics_rec(f, series);

    if (r && f->type == METRICS_COUNTER)
        atomic_fetch_add_explicit(&r->v, n, memory_order_relaxed);
}

/* metrics_double_bits - the bits of a double */
static uint64_t metrics_double_bits(double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    return bits;
}

/* metrics_bits_double - a double from its bits */
double metrics_bits_double(uint64_t bits)
{
    double v;

    memcpy(&v, &bits, sizeof(v));
    return v;
}

/* metrics_set - a gauge's value, or a counter's total taken from elsewhere */
void metrics_set(METRICS_FAMILY *f, int series, double v)
{
    METRICS_REC *r = metrics_rec(f, series);

    if (r == NULL)
        return;
    if (f->type == METRICS_GAUGE)
        atomic_store_explicit(&r->v, metrics_double_bits(v), memory_order_relaxed);
    else if (f->type == METRICS_COUNTER && v >= 0 && v < 1.8e19)
        atomic_store_explicit(&r->v, (uint64_t) v, memory_order_relaxed);
}

/* metrics_observe - one observation into a histogram */
void metrics_observe(METRICS_FAMILY *f, int series, double v)
{
    METRICS_REC *r = metrics_rec(f, series);
    uint64_t old, sum;
    size_t b = 0;

    if (r == NULL || f->type != METRICS_HISTOGRAM || isnan(v))
        return;
    while (b < f->nbounds && v > f->bounds[b])
        b++;
    atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
    old = atomic_load_explicit(&r->sum, memory_order_relaxed);
    do {
        sum = metrics_double_bits(metrics_bits_double(old) + v);
    } while (!atomic_compare_exchange_weak_explicit(&r->sum, &old, sum, memory_order_relaxed,
                                                    memory_order_relaxed));
}

/* metrics_zero - a gauge's every label set to 0 */
void metrics_zero(METRICS_FAMILY *f)
{
    size_t n;

    if (f == NULL || f->type != METRICS_GAUGE)
        return;
    n = atomic_load_explicit(&f->n, memory_order_acquire);
    for (size_t i = 0; i <= f->max; i++)
        if (i < n || i == f->max)
            atomic_store_explicit(&f->rec[i].v, 0, memory_order_relaxed);
}

/* metrics_inc - count one for a label set */
void metrics_inc(METRICS_FAMILY *f, const char *const *vals)
{
    metrics_add(f, metrics_series(f, vals), 1);
}

/* metrics_value - what a counter or gauge holds for vals (0 if unused) */
double metrics_value(METRICS_FAMILY *f, const char *const *vals)
{
    METRICS_REC *r;
    int i;

    if (f == NULL)
        return 0;
    if (f->nlabels == 0)
        i = 0;
    else if (metrics_all_other(f, vals))
        i = (int) f->max;
    else
        i = metrics_find(f, vals, NULL);
    if ((r = metrics_rec(f, i)) == NULL)
        return 0;
    if (f->type == METRICS_GAUGE)
        return metrics_bits_double(atomic_load_explicit(&r->v, memory_order_relaxed));
    if (f->type == METRICS_HISTOGRAM)
        return (double) atomic_load_explicit(&r->count, memory_order_relaxed);
    return (double) atomic_load_explicit(&r->v, memory_order_relaxed);
}

/* metrics_on_collect - run fn before every render */
void metrics_on_collect(METRICS *reg, void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&reg->lock);
    reg->collect = fn;
    reg->collect_arg = arg;
    pthread_mutex_unlock(&reg->lock);
}

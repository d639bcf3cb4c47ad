/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics_int.h - the registry's insides, shared by metrics.c (families,
 * counting) and metrics_text.c (the exposition formats); no one else
 * includes it.
 */
#ifndef TX_METRICS_INT_H
#define TX_METRICS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "metrics.h"

/* One label set of a family and its values. */
typedef struct metrics_rec {
    char   *vals[METRICS_LABELS_MAX];
    _Atomic uint64_t v;             /* counter total, or a gauge's double bits */
    _Atomic uint64_t count;         /* histogram: observations */
    _Atomic uint64_t sum;           /* histogram: the double bits of their sum */
    _Atomic uint64_t *buckets;      /* histogram: per bound, then above the last */
} METRICS_REC;

struct metrics_family {
    METRICS_TYPE type;
    char   *name;
    char   *help;
    size_t  nlabels;
    char   *label[METRICS_LABELS_MAX];
    double *bounds;
    size_t  nbounds;
    size_t  max;                    /* label sets before they fold */
    _Atomic size_t n;               /* rec[0..n-1] are in use */
    _Atomic int other_used;         /* rec[max]: every value "other" */
    METRICS_REC *rec;               /* max + 1 of them */
    _Atomic int *slots;             /* hash index: 1 + record, 0 empty; nslots >= 2 max */
    size_t  nslots;
    pthread_mutex_t lock;           /* adding a label set */
    struct metrics_family *next;
};

struct metrics {
    pthread_mutex_t lock;           /* the family list; one render at a time */
    METRICS_FAMILY *first, *last;
    void  (*collect)(void *);
    void   *collect_arg;
};

/* metrics_bits_double - a gauge's value from its bits */
double metrics_bits_double(uint64_t bits);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratespec.h - "N/period" rate limits (3/10m, 120/1m) as the rate policy
 * file and txmilter.conf(5) write them: one parser for both.
 */
#ifndef TX_RATESPEC_H
#define TX_RATESPEC_H

#include <stddef.h>
#include <stdint.h>

#define RATESPEC_LIMIT_MAX  10000000u
#define RATESPEC_PERIOD_MAX (366ULL * 86400000ULL)     /* ms */

/* What is wrong with a spec. */
enum ratespec_err {
    RATESPEC_OK = 0,
    RATESPEC_BAD_LIMIT,         /* no '/' or N is not a number */
    RATESPEC_NO_UNIT,           /* the period is a bare number */
    RATESPEC_BAD_PERIOD,        /* not a number and s, m, h, d or w */
    RATESPEC_PERIOD_RANGE,      /* 0 or over 366 days */
    RATESPEC_LIMIT_RANGE,       /* N is 0 or over RATESPEC_LIMIT_MAX */
};

/* ratespec_number - a decimal number of 1 to 12 digits in [s, s+len); -1 if not */
int ratespec_number(const char *s, size_t len, uint64_t *v);

/* ratespec_parse - "N/period" into *limit and *period_ms (*period_ms set
 * only on RATESPEC_OK; *limit holds N whenever the result is not
 * RATESPEC_BAD_LIMIT, so that a caller can tell of both problems); the
 * first problem found, in the order of the enum. */
enum ratespec_err ratespec_parse(const char *spec, uint64_t *limit, uint64_t *period_ms);

/* ratespec_period_str - period_ms as the largest of d, h, m, s that
 * divides it ("7d", "90m"), or in ms; out holds at least 24 bytes */
void ratespec_period_str(uint64_t period_ms, char *out, size_t outlen);

/* ratespec_why - a phrase for an error ("the period has no unit ...") */
const char *ratespec_why(enum ratespec_err e);

#endif

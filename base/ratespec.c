/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratespec.c - "N/period" rate limits
 *
 * SYNOPSIS
 *	#include "ratespec.h"
 *
 *	int	ratespec_number(const char *s, size_t len, uint64_t *v)
 *	enum ratespec_err ratespec_parse(const char *spec, uint64_t *limit,
 *				       uint64_t *period_ms)
 *	const char *ratespec_why(enum ratespec_err e)
 *	void	ratespec_period_str(uint64_t period_ms, char *out,
 *			size_t outlen)
 *
 * DESCRIPTION
 *	ratespec_parse() reads "N/period": N a decimal number from 1 to
 *	RATESPEC_LIMIT_MAX, the period a decimal number and one unit (s, m,
 *	h, d or w) from 1s to 366d. It is what the rate policy file
 *	(rate_policy.c) and UnsubscribeRateLimit (conf_value.c) accept.
 *
 *	ratespec_period_str() writes a period back for log lines and
 *	evidence: the largest unit of d, h, m and s that divides it (a week
 *	is "7d", as operators write it), else milliseconds ("1500ms").
 *
 *	ratespec_number() is its number reader: 1 to 12 digits, nothing
 *	else (no sign, no white space), so the result never overflows.
 *
 * DIAGNOSTICS
 *	ratespec_parse() returns the first problem (RATESPEC_BAD_LIMIT
 *	before the period's problems, the period's before the limit's
 *	range); ratespec_why() turns it into words for a message.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ratespec.h"

static const struct {
    char    unit;
    uint64_t ms;
} ratespec_units[] = {
    {'w', 604800000ULL}, {'d', 86400000ULL}, {'h', 3600000ULL}, {'m', 60000ULL}, {'s', 1000ULL},
};

/* ratespec_number - 1 to 12 decimal digits */
int ratespec_number(const char *s, size_t len, uint64_t *v)
{
    size_t i;

    if (len == 0 || len > 12)
        return -1;
    for (*v = 0, i = 0; i < len; i++) {
        if (!isdigit((unsigned char) s[i]))
            return -1;
        *v = *v * 10 + (uint64_t) (s[i] - '0');
    }
    return 0;
}

/* ratespec_parse - N/period */
enum ratespec_err ratespec_parse(const char *spec, uint64_t *limit, uint64_t *period_ms)
{
    const char *slash = strchr(spec, '/'), *per;
    uint64_t n, v;
    size_t plen, i;

    if (slash == NULL || ratespec_number(spec, (size_t) (slash - spec), &n) < 0)
        return RATESPEC_BAD_LIMIT;
    *limit = n;
    per = slash + 1;
    plen = strlen(per);
    if (plen > 0 && ratespec_number(per, plen, &v) == 0)
        return RATESPEC_NO_UNIT;
    for (i = 0; plen > 1 && i < sizeof(ratespec_units) / sizeof(ratespec_units[0]); i++)
        if (per[plen - 1] == ratespec_units[i].unit)
            break;
    if (plen < 2 || i == sizeof(ratespec_units) / sizeof(ratespec_units[0])
        || ratespec_number(per, plen - 1, &v) < 0)
        return RATESPEC_BAD_PERIOD;
    v *= ratespec_units[i].ms;          /* at most 12 digits: no overflow */
    if (v == 0 || v > RATESPEC_PERIOD_MAX)
        return RATESPEC_PERIOD_RANGE;
    if (n < 1 || n > RATESPEC_LIMIT_MAX)
        return RATESPEC_LIMIT_RANGE;
    *period_ms = v;
    return RATESPEC_OK;
}

/* ratespec_why - words for an error */
const char *ratespec_why(enum ratespec_err e)
{
    switch (e) {
    case RATESPEC_OK: return "valid";
    case RATESPEC_BAD_LIMIT: return "expected N/period, e.g. 3/10m";
    case RATESPEC_NO_UNIT: return "the period has no unit (s, m, h, d or w)";
    case RATESPEC_BAD_PERIOD: return "the period must be a number and s, m, h, d or w, e.g. 10m";
    case RATESPEC_PERIOD_RANGE: return "the period must be from 1s to 366d";
    case RATESPEC_LIMIT_RANGE: return "N must be from 1 to 10000000";
    }
    return "invalid";
}

/* ratespec_period_str - a period in the largest unit that divides it */
void ratespec_period_str(uint64_t period_ms, char *out, size_t outlen)
{
    size_t i;

    for (i = 1; period_ms && i < sizeof(ratespec_units) / sizeof(ratespec_units[0]); i++)
        if (period_ms % ratespec_units[i].ms == 0) {
            snprintf(out, outlen, "%llu%c", (unsigned long long) (period_ms / ratespec_units[i].ms),
                     ratespec_units[i].unit);
            return;
        }
    snprintf(out, outlen, "%llums", (unsigned long long) period_ms);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_rate_dirs.c - the rate limit and store directives of txmilter.conf(5)
 *
 * SYNOPSIS
 *	#include "conf_int.h"
 *
 *	const CONF_PART conf_rate_part
 *
 * DESCRIPTION
 *	conf_rate_part holds the rows of cf->rate, with their defaults:
 *	RateLimitPolicy and RecipientDelimiter (txmilter, and txmilterctl
 *	for "ratelimit check" and "suppress"), Store and StoreTimeout (all
 *	three programs: the suppression list lives in the same store),
 *	StoreFailure, StoreConnectTimeout, StoreRetryInterval and
 *	RateLimitMaxKeys (txmilter).
 *
 * DIAGNOSTICS
 *	None here: the value parsers (conf_value.c) report bad values.
 */
#include <stdlib.h>

#include "conf_int.h"
#include "util.h"

static const CONF_DIR conf_rate_dirs[] = {
    {"RateLimitPolicy", CONF_M | CONF_C, conf_parse_str, CONF_OFF(rate.policy), 0, 0},
    {"Store", CONF_M | CONF_U | CONF_C, conf_parse_store, CONF_OFF(rate.store), 0, 0},
    {"StoreFailure", CONF_M, conf_parse_storefail, CONF_OFF(rate.store_failure), 0, 0},
    {"StoreTimeout", CONF_M | CONF_U | CONF_C, conf_parse_int, CONF_OFF(rate.store_timeout_ms), 1, 10000},
    {"StoreConnectTimeout", CONF_M, conf_parse_int, CONF_OFF(rate.store_connect_timeout_ms), 1, 10000},
    {"StoreRetryInterval", CONF_M, conf_parse_int, CONF_OFF(rate.store_retry_ms), 10, 600000},
    {"RateLimitMaxKeys", CONF_M, conf_parse_int, CONF_OFF(rate.max_keys), 1000, 100000000},
    {"RecipientDelimiter", CONF_M | CONF_C, conf_parse_str, CONF_OFF(rate.recipient_delimiter), 0, 0},
};

/* conf_rate_defaults - what an empty file gives */
static void conf_rate_defaults(TXCONF *cf)
{
    CONF_RATE *p = &cf->rate;

    p->store = xstrdup("embedded");
    p->store_failure = 0;                   /* local */
    p->store_timeout_ms = 50;
    p->store_connect_timeout_ms = 100;
    p->store_retry_ms = 1000;
    p->max_keys = 1000000;
    p->recipient_delimiter = xstrdup("+");
}

/* conf_rate_release - free the part's strings */
static void conf_rate_release(TXCONF *cf)
{
    free(cf->rate.policy);
    free(cf->rate.store);
    free(cf->rate.recipient_delimiter);
}

const CONF_PART conf_rate_part = {
    conf_rate_dirs, CONF_NELEM(conf_rate_dirs),
    conf_rate_defaults, conf_rate_release, NULL,
};

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_rate.h - the rate limit and store part of txmilter.conf(5)
 * (cf->rate); rows in conf_rate_dirs.c. The Store serves the suppression list
 * too.
 */
#ifndef TX_CONF_RATE_H
#define TX_CONF_RATE_H

typedef struct conf_rate {
    char   *policy;             /* RateLimitPolicy file; NULL: no rate limits */
    char   *store;              /* Store: "embedded" (default) or a Redis URL */
    int     store_failure;      /* StoreFailure local|accept|tempfail (RATE_STORE_FAIL_*),
                                 * default local */
    int     store_timeout_ms;   /* StoreTimeout ms per Redis command, default 50 */
    int     store_connect_timeout_ms; /* StoreConnectTimeout ms, default 100 */
    int     store_retry_ms;     /* StoreRetryInterval ms before Redis is asked again, default 1000 */
    int     max_keys;           /* RateLimitMaxKeys for the embedded store, default 1000000 */
    char   *recipient_delimiter;/* RecipientDelimiter: subaddress separators, default "+" */
} CONF_RATE;

#endif

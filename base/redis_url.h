/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * redis_url.h - the Store URL grammar (redis://, redis+unix://,
 * redis-sentinel://) that the Redis pool, and through it the rate and
 * suppression stores, are configured with.
 */
#ifndef TX_REDIS_URL_H
#define TX_REDIS_URL_H

#include "util.h"

#define RD_HOST_MAX     255
#define RD_PATH_MAX     107             /* sun_path */
#define RD_SECRET_MAX   256
#define RD_MASTER_MAX   128
#define RD_SENTINELS    16
#define RD_ERR_MAX      640             /* a diagnostic: host, path and hiredis text fit */

typedef enum { RD_TCP, RD_UNIX, RD_SENTINEL } RD_KIND;

typedef struct rd_addr {
    char host[RD_HOST_MAX + 1];
    int  port;
} RD_ADDR;

typedef struct rd_url {
    RD_KIND kind;
    RD_ADDR addr;                       /* TCP */
    char    path[RD_PATH_MAX + 1];      /* UNIX */
    RD_ADDR sentinel[RD_SENTINELS];
    int     nsentinel;
    char    master[RD_MASTER_MAX + 1];
    char    user[RD_SECRET_MAX + 1];
    char    pass[RD_SECRET_MAX + 1];
    long    db;
} RD_URL;

/* redis_url_parse - the URL grammar of rate_store_redis.h into u; -1 with the
 * reason in err */
int redis_url_parse(const char *url, RD_URL *u, BUF *err);

/* redis_url_seterr - "Store URL: msg" into err; returns -1 */
int redis_url_seterr(BUF *err, const char *msg);

/* redis_url_num - decimal digits s[0..n) as a number <= max; -1 if not */
int redis_url_num(const char *s, size_t n, long max, long *out);

#endif

/*
 * store_redis_int.h - between the parts of the Redis store: the URL
 * grammar (store_redis_url.c), the Lua script (store_redis_lua.c), the
 * connection pool (redis_pool.c) and the calls (store_redis.c). Nothing
 * else includes it.
 */
#ifndef TX_STORE_REDIS_INT_H
#define TX_STORE_REDIS_INT_H

#include "rl_store.h"
#include "util.h"

#define RD_HOST_MAX     255
#define RD_PATH_MAX     107             /* sun_path */
#define RD_SECRET_MAX   256
#define RD_MASTER_MAX   128
#define RD_SENTINELS    16
#define RD_PREFIX_MAX   64
#define RD_ERR_MAX      640             /* a diagnostic: host, path and hiredis text fit */
#define RD_LOG_MS       60000
/* The hash tag: on Redis Cluster only "txmilter" is hashed, so every key
 * of one EVALSHA lives in one slot, as a script's keys must. */
#define RD_TAG          "{txmilter}:"
#define RD_TAG_LEN      (sizeof(RD_TAG) - 1)
/* every argument of one EVALSHA: command, sha, numkeys, keys, op, now,
 * stamp, 3 per key, 5 for a recipient's suppressions */
#define RD_ARGS_MAX     (11 + 4 * RL_MAX_KEYS)

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

/* store_redis_parse_url - the URL grammar of store_redis.h into u;
 * -1 with the reason in err */
int store_redis_parse_url(const char *url, RD_URL *u, BUF *err);

/* store_redis_seterr - "Store URL: msg" into err; returns -1 */
int store_redis_seterr(BUF *err, const char *msg);

/* store_redis_num - decimal digits s[0..n) as a number <= max; -1 if not */
int store_redis_num(const char *s, size_t n, long max, long *out);

/* store_redis_lua - the script EVALSHA runs (see store_redis_lua.c) */
extern const char store_redis_lua[];

#endif

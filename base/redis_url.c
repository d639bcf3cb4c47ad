/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * redis_url.c - the Store URL grammar of rate_store_redis.h.
 *
 * SYNOPSIS
 *	#include "redis_url.h"
 *
 *	int	redis_url_seterr(BUF *err, const char *msg)
 *	int	redis_url_num(const char *s, size_t n, long max, long *out)
 *	int	redis_url_parse(const char *url, RD_URL *u, BUF *err)
 *
 * DESCRIPTION
 *	redis_url_parse() reads redis://, redis+unix:// and
 *	redis-sentinel:// URLs, with %XX escapes in passwords, into *u.
 *	redis_url_num() reads a bounded decimal number of n bytes;
 *	redis_url_seterr() puts one "Store URL: ..." reason in err.
 *
 * DIAGNOSTICS
 *	redis_url_parse() returns -1 with "Store URL: reason" in err,
 *	naming the part that is wrong (scheme, host, port, path, database,
 *	sentinel list); passwords never appear in the reason.
 *	redis_url_num() returns -1 for anything but digits within the
 *	bound.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redis_url.h"

/* redis_url_seterr - a URL diagnostic into err */
int redis_url_seterr(BUF *err, const char *msg)
{
    if (err) {
        buf_reset(err);
        (void) buf_printf(err, "Store URL: %s", msg);
    }
    return -1;
}

/* rd_unescape - s[0..n) with %XX decoded into out (NUL-terminated); -1 if bad or long */
static int rd_unescape(const char *s, size_t n, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const char *hi, *lo;
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (o + 1 >= size)
            return -1;
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (i + 2 >= n || s[i + 1] == 0 || s[i + 2] == 0
            || (hi = strchr(hex, s[i + 1] | 0x20)) == NULL
            || (lo = strchr(hex, s[i + 2] | 0x20)) == NULL || (hi == hex && lo == hex))
            return -1;
        out[o++] = (char) ((hi - hex) * 16 + (lo - hex));
        i += 2;
    }
    out[o] = 0;
    return 0;
}

/* redis_url_num - decimal digits s[0..n) as a number <= max; -1 if not */
int redis_url_num(const char *s, size_t n, long max, long *out)
{
    long v = 0;
    size_t i;

    if (n == 0 || n > 10)
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* rd_hostport - "host[:port]" or "[v6addr][:port]" */
static int rd_hostport(const char *s, size_t n, int defport, RD_ADDR *a, BUF *err)
{
    const char *colon = NULL, *h = s;
    size_t hl;
    long port = defport;

    if (n > 0 && s[0] == '[') {
        const char *end = memchr(s, ']', n);

        if (end == NULL)
            return redis_url_seterr(err, "'[' without ']' around an IPv6 address");
        h = s + 1;
        hl = (size_t) (end - h);
        if (end + 1 < s + n) {
            if (end[1] != ':')
                return redis_url_seterr(err, "text after ']' that is not :port");
            colon = end + 1;
        }
    } else {
        colon = memchr(s, ':', n);
        hl = colon ? (size_t) (colon - s) : n;
    }
    if (hl == 0)
        return redis_url_seterr(err, "no host name");
    if (hl > RD_HOST_MAX)
        return redis_url_seterr(err, "host name too long");
    if (colon && (redis_url_num(colon + 1, (size_t) (s + n - colon - 1), 65535, &port) != 0 || port == 0))
        return redis_url_seterr(err, "bad port (want 1-65535)");
    memcpy(a->host, h, hl);
    a->host[hl] = 0;
    if (strpbrk(a->host, "@/?,[]% ") != NULL)
        return redis_url_seterr(err, "bad character in a host name");
    a->port = (int) port;
    return 0;
}

/* rd_credentials - [[user]:password@] before aend into u; *hostp after it */
static int rd_credentials(const char *p, const char *aend, RD_URL *u, const char **hostp, BUF *err)
{
    const char *at, *q, *colon;

    /* It ends at the last '@' before the path. */
    for (at = NULL, q = p; q < aend; q++)
        if (*q == '@')
            at = q;
    *hostp = p;
    if (at == NULL)
        return 0;
    if ((colon = memchr(p, ':', (size_t) (at - p))) == NULL)
        return redis_url_seterr(err, "credentials without ':' (write redis://:password@host)");
    if (rd_unescape(p, (size_t) (colon - p), u->user, sizeof(u->user)) != 0
        || rd_unescape(colon + 1, (size_t) (at - colon - 1), u->pass, sizeof(u->pass)) != 0)
        return redis_url_seterr(err, "bad %-escape or too long a user name or password");
    if (u->pass[0] == 0)
        return redis_url_seterr(err, "empty password");
    *hostp = at + 1;
    return 0;
}

/* rd_parse_tcp - redis://: host[:port] from auth to path, then [/db] */
static int rd_parse_tcp(const char *auth, const char *path, RD_URL *u, BUF *err)
{
    if (rd_hostport(auth, (size_t) (path - auth), 6379, &u->addr, err) != 0)
        return -1;
    if (*path == '?')
        return redis_url_seterr(err, "unknown parameter");
    if (*path == '/' && path[1] && redis_url_num(path + 1, strlen(path + 1), INT_MAX, &u->db) != 0)
        return redis_url_seterr(err, "bad database number");
    return 0;
}

/* rd_parse_unix - redis+unix://: no host, then /path[?db=N] */
static int rd_parse_unix(const char *auth, const char *path, RD_URL *u, BUF *err)
{
    const char *q;
    size_t i;

    if (path != auth)
        return redis_url_seterr(err, "a socket URL has no host (write redis+unix:///path)");
    if (*path != '/' || path[1] == 0 || path[1] == '?')
        return redis_url_seterr(err, "no socket path");
    q = strchr(path, '?');
    i = q ? (size_t) (q - path) : strlen(path);
    if (i > RD_PATH_MAX)
        return redis_url_seterr(err, "socket path too long");
    memcpy(u->path, path, i);
    u->path[i] = 0;
    if (q && strncmp(q, "?db=", 4) != 0)
        return redis_url_seterr(err, "unknown parameter (only ?db=N)");
    if (q && redis_url_num(q + 4, strlen(q + 4), INT_MAX, &u->db) != 0)
        return redis_url_seterr(err, "bad database number");
    return 0;
}

/* rd_parse_sentinel - redis-sentinel://: host[:port],... from auth to path, then /master[/db] */
static int rd_parse_sentinel(const char *auth, const char *path, RD_URL *u, BUF *err)
{
    const char *q, *colon, *slash;
    size_t i;

    if (path == auth)
        return redis_url_seterr(err, "no sentinel host");
    for (q = auth; q < path; q = colon + 1) {
        colon = memchr(q, ',', (size_t) (path - q));
        if (colon == NULL)
            colon = path;
        if (u->nsentinel == RD_SENTINELS)
            return redis_url_seterr(err, "more than 16 sentinels");
        if (rd_hostport(q, (size_t) (colon - q), 26379, &u->sentinel[u->nsentinel++], err) != 0)
            return -1;
        if (colon == path)
            break;
    }
    if (*path != '/' || path[1] == 0 || path[1] == '/')
        return redis_url_seterr(err, "no master name (redis-sentinel://host:port/master)");
    slash = strchr(path + 1, '/');
    i = slash ? (size_t) (slash - path - 1) : strlen(path + 1);
    if (i > RD_MASTER_MAX)
        return redis_url_seterr(err, "master name too long");
    memcpy(u->master, path + 1, i);
    u->master[i] = 0;
    if (strchr(u->master, '?'))
        return redis_url_seterr(err, "unknown parameter");
    if (slash && redis_url_num(slash + 1, strlen(slash + 1), INT_MAX, &u->db) != 0)
        return redis_url_seterr(err, "bad database number");
    return 0;
}

/* redis_url_parse - the URL grammar of rate_store_redis.h into u */
int redis_url_parse(const char *url, RD_URL *u, BUF *err)
{
    static const struct { const char *scheme; RD_KIND kind; } schemes[] = {
        { "redis://", RD_TCP }, { "redis+unix://", RD_UNIX }, { "redis-sentinel://", RD_SENTINEL },
    };
    const char *p = NULL, *auth, *path;
    size_t i;

    memset(u, 0, sizeof(*u));
    if (url == NULL || *url == 0)
        return redis_url_seterr(err, "empty");
    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strncmp(url, schemes[i].scheme, strlen(schemes[i].scheme)) == 0) {
            p = url + strlen(schemes[i].scheme);
            u->kind = schemes[i].kind;
        }
    }
    if (p == NULL)
        return redis_url_seterr(err, "unknown scheme (want redis://, redis+unix:// or redis-sentinel://)");
    if (strpbrk(p, " \t\r\n") != NULL)
        return redis_url_seterr(err, "white space in the URL");
    path = p + strcspn(p, "/?");
    if (rd_credentials(p, path, u, &auth, err) != 0)
        return -1;
    switch (u->kind) {
    case RD_TCP:
        return rd_parse_tcp(auth, path, u, err);
    case RD_UNIX:
        return rd_parse_unix(auth, path, u, err);
    case RD_SENTINEL:
    default:
        return rd_parse_sentinel(auth, path, u, err);
    }
}


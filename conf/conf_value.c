/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_value.c - the value parsers of txmilter.conf(5) directives.
 *
 * SYNOPSIS
 *	#include "conf_int.h"
 *
 *	int	conf_parse_str(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_bool(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_int(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_duration(TXCONF *, const CONF_DIR *,
 *			const char *, char *, size_t)
 *	int	conf_parse_size(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_umask(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_facility(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_socket(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_user(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_canon(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_headers(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_action(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_mode(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_safekeys(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_storefail(TXCONF *, const CONF_DIR *,
 *			const char *, char *, size_t)
 *	int	conf_parse_store(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_optpath(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_egress(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_mailboxes(TXCONF *, const CONF_DIR *,
 *			const char *, char *, size_t)
 *	int	conf_parse_align(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_dmarcmode(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_nameservers(TXCONF *, const CONF_DIR *,
 *			const char *, char *, size_t)
 *	int	conf_parse_abspath(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_unsub_url(TXCONF *, const CONF_DIR *,
 *			const char *, char *, size_t)
 *	int	conf_parse_unsub_mailto(TXCONF *, const CONF_DIR *,
 *			const char *, char *, size_t)
 *	int	conf_parse_hostport(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_choice(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_group(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_sockmode(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_parse_ratespec(TXCONF *, const CONF_DIR *, const char *,
 *			char *, size_t)
 *	int	conf_unsub_url_ok(const char *tmpl)
 *	int	conf_unsub_mailto_ok(const char *tmpl)
 *
 * DESCRIPTION
 *	Each conf_parse_*() checks one value as far as that needs no outside
 *	state and stores it in the TXCONF field its table row names (see
 *	conf.c): strings, booleans (yes/no/true/false/1/0), numbers within
 *	the row's range, the Socket and UserID syntax, header names, actions
 *	among those the row allows, IP addresses, mailboxes (local@domain,
 *	ASCII: a dot-atom local part, a host name; the domain lowercased),
 *	templates. On a bad value
 *	it writes one message (without location: conf.c adds file:line) to
 *	err and returns -1, leaving the field unchanged.
 *
 * DIAGNOSTICS
 *	Each parser returns -1 with one message in err (conf.c adds
 *	file:line); the field keeps its previous value.
 *	conf_unsub_url_ok() and conf_unsub_mailto_ok() return 0 for a
 *	template that would break the header.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "conf_int.h"
#include "log.h"
#include "net_listen.h"
#include "ratespec.h"
#include "util.h"

/* conf_parse_str - a string kept as written (paths, datasets) */
int conf_parse_str(TXCONF *cf, const CONF_DIR *d, const char *value,
                          char *err, size_t errlen)
{
    char  **field = CONF_FIELD(cf, d, char *);

    (void) err;
    (void) errlen;
    free(*field);
    *field = xstrdup(value);
    return 0;
}

/* conf_bool - 1, 0, or -1 for something that is not a boolean */
static int conf_bool(const char *value)
{
    static const char *const yes[] = {"yes", "true", "1"}, *const no[] = {"no", "false", "0"};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(value, yes[i]) == 0)
            return 1;
        if (strcasecmp(value, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* conf_parse_bool - yes/no/true/false/1/0 into an int field */
int conf_parse_bool(TXCONF *cf, const CONF_DIR *d, const char *value,
                           char *err, size_t errlen)
{
    int b = conf_bool(value);

    if (b < 0) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected yes or no", d->name, value);
        return -1;
    }
    *CONF_FIELD(cf, d, int) = b;
    return 0;
}

/* conf_number - parse digits in base (8 or 10) within [min, max] */
static int conf_number(const char *value, int base, long min, long max, long *out)
{
    const char *digits = base == 8 ? "01234567" : "0123456789";
    unsigned long v;
    char *end;

    if (*value == 0 || strspn(value, digits) != strlen(value) || strlen(value) > 10)
        return -1;
    errno = 0;
    v = strtoul(value, &end, base);
    if (errno != 0 || *end != 0 || v < (unsigned long) min || v > (unsigned long) max)
        return -1;
    *out = (long) v;
    return 0;
}

/* conf_parse_duration - "forever" (0), or N with a unit s, m, h, d or w
 * (none: seconds), as a long of seconds within the row's range */
int conf_parse_duration(TXCONF *cf, const CONF_DIR *d, const char *value,
                        char *err, size_t errlen)
{
    static const struct { char unit; long secs; } units[] = {
        {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800},
    };
    char digits[24];
    size_t n = strlen(value), i;
    long mult = 1, v;

    if (strcasecmp(value, "forever") == 0) {
        *CONF_FIELD(cf, d, long) = 0;
        return 0;
    }
    for (i = 0; n > 1 && i < CONF_NELEM(units); i++)
        if (value[n - 1] == units[i].unit) {
            mult = units[i].secs;
            n--;
        }
    if (n == 0 || n >= sizeof(digits) || (memcpy(digits, value, n), digits[n] = 0,
                                           conf_number(digits, 10, 1, LONG_MAX / 604800, &v)) < 0
        || v > d->max / mult || v * mult < d->min) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected \"forever\" or a duration "
                 "(N with s, m, h, d or w) from %lds to %ldd", d->name, value, d->min,
                 d->max / 86400);
        return -1;
    }
    *CONF_FIELD(cf, d, long) = v * mult;
    return 0;
}

/* conf_parse_int - a decimal integer within the row's range */
int conf_parse_int(TXCONF *cf, const CONF_DIR *d, const char *value,
                          char *err, size_t errlen)
{
    long v;

    if (conf_number(value, 10, d->min, d->max, &v) < 0) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected an integer from %ld to %ld",
                 d->name, value, d->min, d->max);
        return -1;
    }
    *CONF_FIELD(cf, d, int) = (int) v;
    return 0;
}

/* conf_parse_size - a byte count within the row's range */
int conf_parse_size(TXCONF *cf, const CONF_DIR *d, const char *value,
                           char *err, size_t errlen)
{
    long v;

    if (conf_number(value, 10, d->min, d->max, &v) < 0) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected a number of bytes from %ld to %ld",
                 d->name, value, d->min, d->max);
        return -1;
    }
    *CONF_FIELD(cf, d, size_t) = (size_t) v;
    return 0;
}

/* conf_parse_umask - an octal file mode mask */
int conf_parse_umask(TXCONF *cf, const CONF_DIR *d, const char *value,
                            char *err, size_t errlen)
{
    long v;

    if (conf_number(value, 8, d->min, d->max, &v) < 0) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected an octal number from 0 to 0777",
                 d->name, value);
        return -1;
    }
    *CONF_FIELD(cf, d, mode_t) = (mode_t) v;
    return 0;
}

/* conf_parse_facility - a syslog facility name */
int conf_parse_facility(TXCONF *cf, const CONF_DIR *d, const char *value,
                               char *err, size_t errlen)
{
    int code = log_facility_code(value);

    if (code < 0) {
        snprintf(err, errlen, "%s: unknown syslog facility \"%s\" "
                 "(expected mail, daemon, user or local0 to local7)", d->name, value);
        return -1;
    }
    *CONF_FIELD(cf, d, int) = code;
    return 0;
}

/* conf_socket_path - an absolute path that fits in sun_path */
static int conf_socket_path(const char *path)
{
    struct sockaddr_un sun;

    return path[0] == '/' && strlen(path) < sizeof(sun.sun_path);
}

/* conf_socket_inet - "port" or "port@host" */
static int conf_socket_inet(const char *spec)
{
    const char *at = strchr(spec, '@');
    char port[8];
    long v;
    size_t plen = at ? (size_t) (at - spec) : strlen(spec);

    if (plen == 0 || plen >= sizeof(port))
        return -1;
    memcpy(port, spec, plen);
    port[plen] = 0;
    if (conf_number(port, 10, 1, 65535, &v) < 0)
        return -1;
    if (at != NULL) {
        const char *h = at + 1;

        if (*h == 0 || strspn(h, "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]") != strlen(h))
            return -1;
    }
    return 0;
}

/* conf_parse_socket - a libmilter socket specification */
int conf_parse_socket(TXCONF *cf, const CONF_DIR *d, const char *value,
                             char *err, size_t errlen)
{
    char  **field = CONF_FIELD(cf, d, char *);
    const char *rest;
    char   *p;
    int ok = 0;

    if (value[0] == '/') {
        if (conf_socket_path(value)) {
            free(*field);
            *field = xasprintf("unix:%s", value);
            return 0;
        }
    } else if (strncasecmp(value, "unix:", 5) == 0 || strncasecmp(value, "local:", 6) == 0) {
        rest = strchr(value, ':') + 1;
        ok = conf_socket_path(rest);
    } else if (strncasecmp(value, "inet:", 5) == 0 || strncasecmp(value, "inet6:", 6) == 0) {
        rest = strchr(value, ':') + 1;
        ok = conf_socket_inet(rest) == 0;
    }
    if (!ok) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected unix:/absolute/path, "
                 "inet:port@host or inet6:port@host (port 1 to 65535)", d->name, value);
        return -1;
    }
    free(*field);
    *field = xstrdup(value);
    /* The type in lower case, the form every libmilter version accepts. */
    for (p = *field; *p != ':'; p++)
        *p = (char) tolower((unsigned char) *p);
    return 0;
}

/* conf_valid_account - a user or group name (syntax only) */
static int conf_valid_account(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > 64 || s[0] == '-')
        return 0;
    for (i = 0; i < len; i++)
        if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return 0;
    return 1;
}

/* conf_parse_user - "user" or "user:group" */
int conf_parse_user(TXCONF *cf, const CONF_DIR *d, const char *value,
                           char *err, size_t errlen)
{
    char  **field = CONF_FIELD(cf, d, char *);
    const char *colon = strchr(value, ':');
    int ok;

    if (colon == NULL)
        ok = conf_valid_account(value, strlen(value));
    else
        ok = conf_valid_account(value, (size_t) (colon - value))
            && conf_valid_account(colon + 1, strlen(colon + 1));
    if (!ok) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected user or user:group",
                 d->name, value);
        return -1;
    }
    free(*field);
    *field = xstrdup(value);
    return 0;
}

/* conf_canon_word - "relaxed" or "simple" (any case), or -1 */
static int conf_canon_word(const char *s, size_t len)
{
    if (len == 7 && strncasecmp(s, "relaxed", 7) == 0)
        return CONF_CANON_RELAXED;
    if (len == 6 && strncasecmp(s, "simple", 6) == 0)
        return CONF_CANON_SIMPLE;
    return -1;
}

/* conf_parse_canon - "header/body"; one word sets the header, body simple */
int conf_parse_canon(TXCONF *cf, const CONF_DIR *d, const char *value,
                            char *err, size_t errlen)
{
    const char *slash = strchr(value, '/');
    int h, b;

    if (slash == NULL) {
        h = conf_canon_word(value, strlen(value));
        b = CONF_CANON_SIMPLE;
    } else {
        h = conf_canon_word(value, (size_t) (slash - value));
        b = conf_canon_word(slash + 1, strlen(slash + 1));
    }
    if (h < 0 || b < 0) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected relaxed or simple, "
                 "or header/body such as relaxed/relaxed", d->name, value);
        return -1;
    }
    cf->sign.hdr_canon = (enum conf_canon) h;
    cf->sign.body_canon = (enum conf_canon) b;
    return 0;
}

/* conf_valid_field_name - RFC 5322 ftext: printable ASCII except ':' */
static int conf_valid_field_name(const char *s)
{
    if (*s == 0)
        return 0;
    for (; *s; s++)
        if ((unsigned char) *s < 33 || (unsigned char) *s > 126 || *s == ':')
            return 0;
    return 1;
}

/* conf_parse_headers - a comma- or space-separated list of header names */
int conf_parse_headers(TXCONF *cf, const CONF_DIR *d, const char *value,
                              char *err, size_t errlen)
{
    STRV   *field = CONF_FIELD(cf, d, STRV);
    STRV    in, out;
    size_t  i;

    strv_init(&in);
    strv_split(&in, value, ", \t");
    for (i = 0; i < in.n; i++) {
        if (!conf_valid_field_name(in.v[i])) {
            snprintf(err, errlen, "%s: bad header name \"%s\"", d->name, in.v[i]);
            strv_free(&in);
            return -1;
        }
    }
    strv_init(&out);
    for (i = 0; i < in.n; i++) {
        util_lower(in.v[i]);
        if (!strv_contains_ci(&out, in.v[i]))
            strv_add(&out, in.v[i]);
    }
    strv_free(&in);
    strv_free(field);
    *field = out;
    return 0;
}

/* conf_parse_action - an action among those the row allows */
int conf_parse_action(TXCONF *cf, const CONF_DIR *d, const char *value,
                             char *err, size_t errlen)
{
    static const char *const names[] = {"accept", "tempfail", "reject"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((d->max & CONF_ACT_BIT(i)) && strcasecmp(value, names[i]) == 0) {
            *CONF_FIELD(cf, d, enum conf_action) = (enum conf_action) i;
            return 0;
        }
    }
    snprintf(err, errlen, "%s: bad value \"%s\": expected %s", d->name, value,
             (d->max & CONF_ACT_BIT(CONF_ACT_REJECT)) ? "accept, tempfail or reject"
             : "accept or tempfail");
    return -1;
}

/* conf_parse_mode - OpenDKIM's Mode: only signing ("s") exists here */
int conf_parse_mode(TXCONF *cf, const CONF_DIR *d, const char *value,
                           char *err, size_t errlen)
{
    (void) cf;
    (void) d;
    if (strspn(value, "sS") != strlen(value)) {
        snprintf(err, errlen, "txmilter signs only; Mode %s is not supported: write "
                 "\"Mode s\" and keep OpenDKIM or OpenDMARC for inbound verification", value);
        return -1;
    }
    return 0;
}

/* conf_parse_safekeys - OpenDKIM's RequireSafeKeys: always on here */
int conf_parse_safekeys(TXCONF *cf, const CONF_DIR *d, const char *value,
                               char *err, size_t errlen)
{
    int b = conf_bool(value);

    (void) cf;
    if (b < 0) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected yes or no", d->name, value);
        return -1;
    }
    if (b == 0) {
        snprintf(err, errlen, "%s: cannot be turned off: txmilter refuses private keys "
                 "that group or others can read (chmod 600, owned by UserID)", d->name);
        return -1;
    }
    return 0;
}

/* conf_defaults - a TXCONF holding every default */
/* conf_parse_storefail - StoreFailure local|accept|tempfail */
int conf_parse_storefail(TXCONF *cf, const CONF_DIR *d, const char *value,
                                char *err, size_t errlen)
{
    static const char *const names[] = {"local", "accept", "tempfail"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(value, names[i]) == 0) {
            *CONF_FIELD(cf, d, int) = (int) i;
            return 0;
        }
    snprintf(err, errlen, "%s: \"%s\" is not one of local, accept, tempfail", d->name, value);
    return -1;
}

/* conf_parse_store - "embedded" or a Redis URL (checked in full at start).
 * The value is kept in one spelling ("embedded", lowercase scheme) so that
 * every module deciding the store type by comparing it agrees with -n. */
int conf_parse_store(TXCONF *cf, const CONF_DIR *d, const char *value,
                            char *err, size_t errlen)
{
    static const char *const schemes[] = {"redis://", "redis+unix://", "redis-sentinel://"};
    char  **field = CONF_FIELD(cf, d, char *);
    size_t i, n;

    if (strcasecmp(value, "embedded") == 0)
        return conf_parse_str(cf, d, "embedded", err, errlen);
    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strncasecmp(value, schemes[i], strlen(schemes[i])) == 0)
            break;
    if (i == sizeof(schemes) / sizeof(schemes[0])) {
        snprintf(err, errlen, "%s: \"%s\" is neither \"embedded\" nor a redis://, "
                 "redis+unix:// or redis-sentinel:// URL", d->name, value);
        return -1;
    }
    if (conf_parse_str(cf, d, value, err, errlen) < 0)
        return -1;
    n = strlen(schemes[i]);
    memcpy(*field, schemes[i], n);
    return 0;
}

/* conf_parse_optpath - an absolute path, or "none" for NULL */
int conf_parse_optpath(TXCONF *cf, const CONF_DIR *d, const char *value,
                              char *err, size_t errlen)
{
    char  **field = CONF_FIELD(cf, d, char *);

    if (strcasecmp(value, "none") == 0) {
        free(*field);
        *field = NULL;
        return 0;
    }
    if (value[0] != '/') {
        snprintf(err, errlen, "%s: \"%s\" is not an absolute path (or \"none\")", d->name, value);
        return -1;
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

/* conf_ip_literal - an IPv4 or IPv6 address in its usual text form, or -1 */
static int conf_ip_literal(const char *s, char *out, size_t outlen)
{
    unsigned char bin[sizeof(struct in6_addr)];

    if (inet_pton(AF_INET, s, bin) == 1)
        return inet_ntop(AF_INET, bin, out, (socklen_t) outlen) ? 0 : -1;
    if (inet_pton(AF_INET6, s, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, (socklen_t) outlen) ? 0 : -1;
    return -1;
}

/* conf_parse_egress - EgressAddress: a list of IP addresses (no networks) */
int conf_parse_egress(TXCONF *cf, const CONF_DIR *d, const char *value,
                             char *err, size_t errlen)
{
    STRV   *field = CONF_FIELD(cf, d, STRV);
    STRV    in, out;
    char    addr[INET6_ADDRSTRLEN];

    strv_init(&in);
    strv_init(&out);
    strv_split(&in, value, ", \t");
    for (size_t i = 0; i < in.n; i++) {
        if (conf_ip_literal(in.v[i], addr, sizeof(addr)) < 0) {
            snprintf(err, errlen, "%s: \"%s\" is not an IPv4 or IPv6 address "
                     "(list each address the relay sends from, no networks)", d->name, in.v[i]);
            strv_free(&in);
            strv_free(&out);
            return -1;
        }
        if (!strv_contains_ci(&out, addr))
            strv_add(&out, addr);
    }
    strv_free(&in);
    if (out.n == 0) {
        snprintf(err, errlen, "%s: no address given", d->name);
        strv_free(&out);
        return -1;
    }
    strv_free(field);
    *field = out;
    return 0;
}

/* conf_mailbox_ok - local@domain: a dot-atom local part of at most 64
 * bytes and a host name (letters, digits, hyphens; at least two labels) */
static int conf_mailbox_ok(const char *a)
{
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
    const char *at = strrchr(a, '@'), *p;
    size_t labels = 1, llen = 0;

    if (at == NULL || at == a || at - a > 64 || strlen(at + 1) > 253 || at[1] == 0)
        return 0;
    for (p = a; p < at; p++)
        if (!isalnum((unsigned char) *p) && strchr(atext, *p) == NULL
            && !(*p == '.' && p != a && p + 1 != at && p[1] != '.'))
            return 0;
    for (p = at + 1; *p; p++) {
        if (*p == '.') {
            if (llen == 0 || p[-1] == '-')
                return 0;
            labels++;
            llen = 0;
        } else if (isalnum((unsigned char) *p) || (*p == '-' && llen > 0)) {
            if (++llen > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return llen > 0 && p[-1] != '-' && labels >= 2;
}

/* conf_parse_mailboxes - a list of addresses (ComplaintAddress) */
int conf_parse_mailboxes(TXCONF *cf, const CONF_DIR *d, const char *value,
                         char *err, size_t errlen)
{
    STRV   *field = CONF_FIELD(cf, d, STRV);
    STRV    in, out;

    strv_init(&in);
    strv_init(&out);
    strv_split(&in, value, ", \t");
    for (size_t i = 0; i < in.n; i++) {
        char *at;

        if (!conf_mailbox_ok(in.v[i])) {
            snprintf(err, errlen, "%s: \"%.200s\" is not an address such as fbl@bounce.example.com "
                     "(local@domain, no angle brackets, no comments)", d->name, in.v[i]);
            strv_free(&in);
            strv_free(&out);
            return -1;
        }
        at = strrchr(in.v[i], '@');
        util_lower(at);
        if (!strv_contains_ci(&out, in.v[i]))
            strv_add(&out, in.v[i]);
    }
    strv_free(&in);
    if (out.n == 0) {
        snprintf(err, errlen, "%s: no address given", d->name);
        strv_free(&out);
        return -1;
    }
    strv_free(field);
    *field = out;
    return 0;
}

/* conf_parse_align - AlignmentAction reject|tempfail|quarantine|log */
int conf_parse_align(TXCONF *cf, const CONF_DIR *d, const char *value,
                            char *err, size_t errlen)
{
    static const struct { const char *name; enum conf_align a; } names[] = {
        {"reject", CONF_ALIGN_REJECT}, {"tempfail", CONF_ALIGN_TEMPFAIL},
        {"quarantine", CONF_ALIGN_QUARANTINE}, {"log", CONF_ALIGN_LOG},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(value, names[i].name) == 0) {
            *CONF_FIELD(cf, d, enum conf_align) = names[i].a;
            return 0;
        }
    snprintf(err, errlen, "%s: bad value \"%s\": expected reject, tempfail, quarantine or log",
             d->name, value);
    return -1;
}

/* conf_parse_dmarcmode - DMARCMode 7489|9989|both */
int conf_parse_dmarcmode(TXCONF *cf, const CONF_DIR *d, const char *value,
                         char *err, size_t errlen)
{
    static const struct { const char *name; enum conf_dmarc_mode m; } names[] = {
        {"both", CONF_DMARC_BOTH}, {"7489", CONF_DMARC_7489}, {"9989", CONF_DMARC_9989},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(value, names[i].name) == 0) {
            *CONF_FIELD(cf, d, enum conf_dmarc_mode) = names[i].m;
            return 0;
        }
    snprintf(err, errlen, "%s: bad value \"%s\": expected 7489, 9989 or both", d->name, value);
    return -1;
}

/* conf_parse_nameservers - "addr[@port], ...": the resolvers to forward to */
int conf_parse_nameservers(TXCONF *cf, const CONF_DIR *d, const char *value,
                                  char *err, size_t errlen)
{
    char  **field = CONF_FIELD(cf, d, char *);
    STRV    in;
    BUF     out;
    int     rc = 0;

    strv_init(&in);
    strv_split(&in, value, ", \t");
    buf_init(&out, 4096);
    for (size_t i = 0; i < in.n && rc == 0; i++) {
        char   *at = strchr(in.v[i], '@'), addr[INET6_ADDRSTRLEN];
        long    port = 53;

        if (at)
            *at = 0;
        if (conf_ip_literal(in.v[i], addr, sizeof(addr)) < 0
            || (at && conf_number(at + 1, 10, 1, 65535, &port) < 0)) {
            if (at)
                *at = '@';
            snprintf(err, errlen, "%s: bad value \"%s\": expected IP addresses with an optional "
                     "port, such as 127.0.0.1@5353 or ::1", d->name, in.v[i]);
            rc = -1;
        } else if (buf_printf(&out, "%s%s@%ld", out.len ? ", " : "", addr, port) < 0) {
            snprintf(err, errlen, "%s: too many addresses", d->name);
            rc = -1;
        }
    }
    if (rc == 0 && in.n == 0) {
        snprintf(err, errlen, "%s: no address given", d->name);
        rc = -1;
    }
    strv_free(&in);
    if (rc == 0) {
        free(*field);
        *field = xstrdup(out.data);
    }
    buf_free(&out);
    return rc;
}

/* conf_parse_abspath - an absolute path */
int conf_parse_abspath(TXCONF *cf, const CONF_DIR *d, const char *value,
                              char *err, size_t errlen)
{
    if (value[0] != '/') {
        snprintf(err, errlen, "%s: \"%s\" is not an absolute path", d->name, value);
        return -1;
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

/* conf_unsub_url_ok - an https URL template holding %{token} (RFC 8058
 * section 3.1: the one-click URI must be HTTPS; plain http is refused) */
int conf_unsub_url_ok(const char *tmpl)
{
    return strncasecmp(tmpl, "https://", 8) == 0 && tmpl[8] != 0 && tmpl[8] != '/'
        && strstr(tmpl, "%{token}") != NULL && strpbrk(tmpl, " \t<>\",") == NULL;
}

/* conf_unsub_mailto_ok - a mailto template with %{token} in the local part */
int conf_unsub_mailto_ok(const char *tmpl)
{
    const char *tok = strstr(tmpl, "%{token}"), *at = strrchr(tmpl, '@');

    return tok != NULL && at != NULL && tok < at && at[1] != 0 && strpbrk(tmpl, " \t<>\",?") == NULL;
}

/* conf_parse_unsub_url - an https:// URL holding %{token} */
int conf_parse_unsub_url(TXCONF *cf, const CONF_DIR *d, const char *value,
                                char *err, size_t errlen)
{
    if (!conf_unsub_url_ok(value)) {
        snprintf(err, errlen, "%s: \"%s\" is not an https:// URL holding %%{token} "
                 "(without spaces, quotes, commas or angle brackets)", d->name, value);
        return -1;
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

/* conf_parse_unsub_mailto - local%{token}@domain */
int conf_parse_unsub_mailto(TXCONF *cf, const CONF_DIR *d, const char *value,
                                   char *err, size_t errlen)
{
    if (!conf_unsub_mailto_ok(value)) {
        snprintf(err, errlen, "%s: \"%s\" is not an address with %%{token} in its local part, "
                 "e.g. unsubscribe+%%{token}@example.com", d->name, value);
        return -1;
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

/* conf_parse_hostport - "host:port" or "[v6]:port" (net_listen_split()) */
int conf_parse_hostport(TXCONF *cf, const CONF_DIR *d, const char *value,
                               char *err, size_t errlen)
{
    char host[256], port[8];

    if (net_listen_split(value, host, sizeof(host), port, sizeof(port)) < 0) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected host:port", d->name, value);
        return -1;
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

/* conf_parse_choice - UnsubscribeExisting keep|replace (min 0) and
 * UnsubscribeScope address|domain (min 1): 0 for the first word, 1 for the second */
int conf_parse_choice(TXCONF *cf, const CONF_DIR *d, const char *value,
                             char *err, size_t errlen)
{
    static const char *const words[2][2] = {{"keep", "replace"}, {"address", "domain"}};
    const char *const *w = words[d->min];

    for (int i = 0; i < 2; i++)
        if (strcasecmp(value, w[i]) == 0) {
            *CONF_FIELD(cf, d, int) = i;
            return 0;
        }
    snprintf(err, errlen, "%s: \"%s\" is not one of %s, %s", d->name, value, w[0], w[1]);
    return -1;
}


/* conf_parse_group - a group name (ControlSocketGroup; looked up at start) */
int conf_parse_group(TXCONF *cf, const CONF_DIR *d, const char *value,
                     char *err, size_t errlen)
{
    if (!conf_valid_account(value, strlen(value))) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected a group name", d->name, value);
        return -1;
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

/* conf_parse_sockmode - an octal socket mode with no bits outside the
 * row's max (ControlSocketMode: nothing for others, whose requests the
 * mode is there to keep out) */
int conf_parse_sockmode(TXCONF *cf, const CONF_DIR *d, const char *value,
                        char *err, size_t errlen)
{
    long v;

    if (conf_number(value, 8, 0, 0777, &v) < 0 || (v & ~d->max) != 0) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected an octal mode within 0%lo "
                 "(no access for others)", d->name, value, (unsigned long) d->max);
        return -1;
    }
    *CONF_FIELD(cf, d, mode_t) = (mode_t) v;
    return 0;
}

/* conf_parse_ratespec - "N/period" (as in the rate policy file) */
int conf_parse_ratespec(TXCONF *cf, const CONF_DIR *d, const char *value,
                        char *err, size_t errlen)
{
    uint64_t n = 0, ms = 0;
    enum ratespec_err e = ratespec_parse(value, &n, &ms);

    if (e != RATESPEC_OK) {
        snprintf(err, errlen, "%s: bad value \"%s\": %s (N from 1 to %u, a period from 1s "
                 "to 366d, e.g. 120/1m)", d->name, value, ratespec_why(e), RATESPEC_LIMIT_MAX);
        return -1;
    }
    CONF_FIELD(cf, d, CONF_RATESPEC)->limit = (uint32_t) n;
    CONF_FIELD(cf, d, CONF_RATESPEC)->period_ms = ms;
    return 0;
}

/*
 * conf.c - parse txmilter.conf(5) into an immutable TXCONF
 *
 * SYNOPSIS
 *	#include "conf.h"
 *
 *	TXCONF	*conf_defaults(void)
 *	TXCONF	*conf_load(const char *path, BUF *errs)
 *	void	conf_free(TXCONF *cf)
 *	int	conf_line(const TXCONF *cf, const char *name)
 *	const char *conf_where(const TXCONF *cf, const char *name,
 *			       char *buf, size_t size)
 *	const char *const conf_default_sign_headers[]
 *	const char *const conf_default_oversign_headers[]
 *
 * DESCRIPTION
 *	conf_defaults() returns a TXCONF holding every default value.
 *
 *	conf_load() starts from the defaults and applies the file at path,
 *	which must be a regular file. Each line is "Name value": the name is
 *	the first word (any case), the value the rest of the line, trimmed.
 *	'#' starts a comment at the start of a line or after white space;
 *	blank lines are skipped. Each directive is one row of conf_dirs[]:
 *	its name, the parser for its value and the TXCONF field it sets.
 *	Values are checked here as far as that needs no outside state:
 *	booleans (yes/no/true/false/1/0), numbers and their ranges, the
 *	Socket and UserID syntax, header names. Datasets (InternalHosts,
 *	KeyTable, ...) are kept as text and parsed by their own modules;
 *	conf_where() tells those modules which line to blame.
 *
 *	OpenDKIM migration: "Mode s" is accepted (txmilter only signs);
 *	"RequireSafeKeys yes" is accepted (txmilter always requires it).
 *	Directives planned but not implemented yet are refused with a
 *	message distinct from that for unknown directives.
 *
 *	conf_free() releases a TXCONF; conf_line() and conf_where() report
 *	where a directive was set.
 *
 * DIAGNOSTICS
 *	conf_load() keeps going after an error, so that one run reports every
 *	problem: one "file:line: message\n" per problem is appended to errs
 *	(just "file: message\n" for a file that cannot be opened), and NULL
 *	is returned if there was any. Problems: unknown, unsupported,
 *	repeated directives, missing or bad values, overlong lines, NUL
 *	bytes, and a SignHeaders list without "from".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "dataset.h"
#include "log.h"
#include "util.h"

#define CONF_DEFAULT_SOCKET	"unix:/run/txmilter/txmilter.sock"
#define CONF_DEFAULT_INTERNAL	"127.0.0.1, ::1"
#define CONF_ERR_MAX		512	/* one diagnostic, without location */

const char *const conf_default_sign_headers[] = {
    "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
    "mime-version", "content-type", "content-transfer-encoding", "content-id",
    "content-description", "resent-date", "resent-from", "resent-sender",
    "resent-to", "resent-cc", "resent-message-id", "in-reply-to", "references",
    "list-id", "list-help", "list-unsubscribe", "list-subscribe", "list-post",
    "list-owner", "list-archive", "list-unsubscribe-post", NULL,
};

const char *const conf_default_oversign_headers[] = {
    "from", "to", "cc", "subject", "reply-to", "date", "message-id",
    "content-type", "list-unsubscribe", "list-unsubscribe-post", NULL,
};

typedef struct conf_dir CONF_DIR;

/* A value parser: set the field, or write a message to err and return -1. */
typedef int (*CONF_PARSE_FN) (TXCONF *cf, const CONF_DIR *d, const char *value,
                              char *err, size_t errlen);

struct conf_dir {
    const char *name;
    CONF_PARSE_FN parse;
    size_t  off;                /* offset of the TXCONF field */
    long    min, max;           /* range for numbers; allowed actions (bits) */
};

#define CONF_FIELD(cf, d, type) ((type *) (void *) ((char *) (cf) + (d)->off))
#define CONF_ACT_BIT(a) (1L << (a))

static int conf_parse_str(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_bool(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_int(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_size(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_umask(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_facility(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_socket(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_user(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_canon(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_headers(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_action(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_mode(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_safekeys(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_unsupported(TXCONF *, const CONF_DIR *, const char *, char *, size_t);

#define OFF(field) offsetof(TXCONF, field)
#define UNSUPPORTED(name) { name, conf_parse_unsupported, 0, 0, 0 }

/* One row per directive; a later feature adds its row here. */
static const CONF_DIR conf_dirs[] = {
    {"Socket", conf_parse_socket, OFF(socket), 0, 0},
    {"UserID", conf_parse_user, OFF(user), 0, 0},
    {"PidFile", conf_parse_str, OFF(pidfile), 0, 0},
    {"UMask", conf_parse_umask, OFF(umask), 0, 0777},
    {"Syslog", conf_parse_bool, OFF(syslog), 0, 0},
    {"SyslogFacility", conf_parse_facility, OFF(syslog_facility), 0, 0},
    {"LogWhy", conf_parse_bool, OFF(logwhy), 0, 0},
    {"ShutdownTimeout", conf_parse_int, OFF(shutdown_timeout), 0, 3600},
    {"MaximumHeaders", conf_parse_size, OFF(max_headers), 1024, 67108864},
    {"InternalHosts", conf_parse_str, OFF(internal_hosts), 0, 0},
    {"MTA", conf_parse_str, OFF(mta), 0, 0},
    {"KeyTable", conf_parse_str, OFF(keytable), 0, 0},
    {"SigningTable", conf_parse_str, OFF(signingtable), 0, 0},
    {"Domain", conf_parse_str, OFF(domain), 0, 0},
    {"Selector", conf_parse_str, OFF(selector), 0, 0},
    {"KeyFile", conf_parse_str, OFF(keyfile), 0, 0},
    {"SubDomains", conf_parse_bool, OFF(subdomains), 0, 0},
    {"MultipleSignatures", conf_parse_bool, OFF(multiple_signatures), 0, 0},
    {"Canonicalization", conf_parse_canon, 0, 0, 0},
    {"SignHeaders", conf_parse_headers, OFF(sign_headers), 0, 0},
    {"OversignHeaders", conf_parse_headers, OFF(oversign_headers), 0, 0},
    {"On-NoKey", conf_parse_action, OFF(on_nokey), 0,
        CONF_ACT_BIT(CONF_ACT_ACCEPT) | CONF_ACT_BIT(CONF_ACT_TEMPFAIL)},
    {"On-SignatureError", conf_parse_action, OFF(on_sigerr), 0,
        CONF_ACT_BIT(CONF_ACT_ACCEPT) | CONF_ACT_BIT(CONF_ACT_TEMPFAIL)
        | CONF_ACT_BIT(CONF_ACT_REJECT)},
    /* OpenDKIM migration */
    {"Mode", conf_parse_mode, 0, 0, 0},
    {"RequireSafeKeys", conf_parse_safekeys, 0, 0, 0},
    /* Named in DESIGN.md, not implemented yet */
    UNSUPPORTED("EgressAddress"),
    UNSUPPORTED("AlignmentAction"),
    UNSUPPORTED("PublicSuffixList"),
    UNSUPPORTED("Nameservers"),
    UNSUPPORTED("UnsubscribeKeyFile"),
    UNSUPPORTED("UnsubscribeURL"),
    UNSUPPORTED("UnsubscribeMailto"),
    UNSUPPORTED("UnsubscribeExempt"),
    UNSUPPORTED("UnsubscribeListen"),
    UNSUPPORTED("RateLimitPolicy"),
    UNSUPPORTED("Store"),
    UNSUPPORTED("DataDirectory"),
    UNSUPPORTED("StoreFailure"),
};

#define CONF_NDIRS (sizeof(conf_dirs) / sizeof(conf_dirs[0]))

/* conf_err - append "file:line: message" (or "file: message") to errs */
static void __attribute__((format(printf, 4, 5)))
conf_err(BUF *errs, const char *file, int line, const char *fmt, ...)
{
    char msg[CONF_ERR_MAX + 512];
    va_list ap;

    if (errs == NULL)
        return;
    va_start(ap, fmt);
    (void) vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Past the error buffer's bound the rest is dropped on purpose. */
    if (line > 0)
        (void) buf_printf(errs, "%s:%d: %s\n", file, line, msg);
    else
        (void) buf_printf(errs, "%s: %s\n", file, msg);
}

/* conf_find - the table row for a directive name, or NULL */
static const CONF_DIR *conf_find(const char *name)
{
    size_t i;

    for (i = 0; i < CONF_NDIRS; i++)
        if (strcasecmp(conf_dirs[i].name, name) == 0)
            return &conf_dirs[i];
    return NULL;
}

/* conf_parse_str - a string kept as written (paths, datasets) */
static int conf_parse_str(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_bool(TXCONF *cf, const CONF_DIR *d, const char *value,
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

/* conf_parse_int - a decimal integer within the row's range */
static int conf_parse_int(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_size(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_umask(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_facility(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_socket(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_user(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_canon(TXCONF *cf, const CONF_DIR *d, const char *value,
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
    cf->hdr_canon = (enum conf_canon) h;
    cf->body_canon = (enum conf_canon) b;
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
static int conf_parse_headers(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_action(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_mode(TXCONF *cf, const CONF_DIR *d, const char *value,
                           char *err, size_t errlen)
{
    (void) cf;
    (void) d;
    if (strspn(value, "sS") != strlen(value)) {
        snprintf(err, errlen, "txmilter signs only; Mode %s is not supported "
                 "(use OpenDKIM or OpenDMARC for inbound verification)", value);
        return -1;
    }
    return 0;
}

/* conf_parse_safekeys - OpenDKIM's RequireSafeKeys: always on here */
static int conf_parse_safekeys(TXCONF *cf, const CONF_DIR *d, const char *value,
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

/* conf_parse_unsupported - a planned directive that this version lacks */
static int conf_parse_unsupported(TXCONF *cf, const CONF_DIR *d, const char *value,
                                  char *err, size_t errlen)
{
    (void) cf;
    (void) value;
    snprintf(err, errlen, "directive %s is not supported by this version of txmilter",
             d->name);
    return -1;
}

/* conf_defaults - a TXCONF holding every default */
TXCONF *conf_defaults(void)
{
    TXCONF   *cf = xcalloc(1, sizeof(*cf));
    size_t  i;

    cf->socket = xstrdup(CONF_DEFAULT_SOCKET);
    cf->umask = 007;
    cf->syslog = 1;
    cf->syslog_facility = log_facility_code("mail");
    cf->shutdown_timeout = 60;
    cf->max_headers = 1048576;
    cf->internal_hosts = xstrdup(CONF_DEFAULT_INTERNAL);
    cf->hdr_canon = CONF_CANON_RELAXED;
    cf->body_canon = CONF_CANON_RELAXED;
    strv_init(&cf->sign_headers);
    for (i = 0; conf_default_sign_headers[i]; i++)
        strv_add(&cf->sign_headers, conf_default_sign_headers[i]);
    strv_init(&cf->oversign_headers);
    for (i = 0; conf_default_oversign_headers[i]; i++)
        strv_add(&cf->oversign_headers, conf_default_oversign_headers[i]);
    cf->on_nokey = CONF_ACT_ACCEPT;
    cf->on_sigerr = CONF_ACT_TEMPFAIL;
    cf->lines = xcalloc(CONF_NDIRS, sizeof(int));
    return cf;
}

/* conf_apply - one "Name value" line; -1 after reporting an error */
static int conf_apply(TXCONF *cf, char *line, int lineno, BUF *errs)
{
    char    err[CONF_ERR_MAX];
    const CONF_DIR *d;
    char   *value;
    size_t  idx;

    for (value = line; *value && !isspace((unsigned char) *value); value++)
        /* void */ ;
    if (*value)
        *value++ = 0;
    value = util_trim(value);
    if ((d = conf_find(line)) == NULL) {
        conf_err(errs, cf->path, lineno, "unknown directive \"%s\"", line);
        return -1;
    }
    idx = (size_t) (d - conf_dirs);
    if (cf->lines[idx] != 0) {
        conf_err(errs, cf->path, lineno, "%s given twice (first at line %d)",
                 d->name, cf->lines[idx]);
        return -1;
    }
    /* Recorded even when the value is bad, so that a repeat is reported. */
    cf->lines[idx] = lineno;
    if (*value == 0) {
        conf_err(errs, cf->path, lineno, "%s: missing value", d->name);
        return -1;
    }
    err[0] = 0;
    if (d->parse(cf, d, value, err, sizeof(err)) < 0) {
        conf_err(errs, cf->path, lineno, "%s", err);
        return -1;
    }
    return 0;
}

/* conf_check - rules that involve the whole file */
static int conf_check(TXCONF *cf, BUF *errs)
{
    if (!strv_contains_ci(&cf->sign_headers, "from")) {
        conf_err(errs, cf->path, conf_line(cf, "SignHeaders"),
                 "SignHeaders must include \"from\" (RFC 6376 5.4)");
        return -1;
    }
    return 0;
}

/* conf_load - parse the file at path */
TXCONF   *conf_load(const char *path, BUF *errs)
{
    char    line[DATASET_LINE_MAX + 1];
    enum dataset_line rc;
    struct stat st;
    TXCONF   *cf;
    FILE   *fp;
    int     fd, lineno = 0, bad = 0;

    if (path == NULL) {
        conf_err(errs, "(null)", 0, "no configuration file name");
        return NULL;
    }
    /* O_NONBLOCK: a FIFO in place of the file must not hang us. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
        conf_err(errs, path, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        conf_err(errs, path, 0, "not a regular file");
        (void) close(fd);
        return NULL;
    }
    if ((fp = fdopen(fd, "r")) == NULL) {
        conf_err(errs, path, 0, "cannot read: %s", strerror(errno));
        (void) close(fd);
        return NULL;
    }
    cf = conf_defaults();
    cf->path = xstrdup(path);
    while ((rc = dataset_readline(fp, line, sizeof(line))) != DATASET_LINE_EOF) {
        lineno++;
        if (rc == DATASET_LINE_ERR) {
            conf_err(errs, path, lineno, "read error: %s", strerror(errno));
            bad = 1;
            break;
        }
        if (rc == DATASET_LINE_LONG) {
            conf_err(errs, path, lineno, "line longer than %d bytes", DATASET_LINE_MAX);
            bad = 1;
        } else if (rc == DATASET_LINE_NUL) {
            conf_err(errs, path, lineno, "line holds a NUL byte");
            bad = 1;
        } else if (line[0] != 0 && conf_apply(cf, line, lineno, errs) < 0) {
            bad = 1;
        }
    }
    (void) fclose(fp);
    if (conf_check(cf, errs) < 0)
        bad = 1;
    if (bad) {
        conf_free(cf);
        return NULL;
    }
    return cf;
}

/* conf_free - release a TXCONF */
void conf_free(TXCONF *cf)
{
    if (cf == NULL)
        return;
    free(cf->path);
    free(cf->socket);
    free(cf->user);
    free(cf->pidfile);
    free(cf->internal_hosts);
    free(cf->mta);
    free(cf->keytable);
    free(cf->signingtable);
    free(cf->domain);
    free(cf->selector);
    free(cf->keyfile);
    strv_free(&cf->sign_headers);
    strv_free(&cf->oversign_headers);
    free(cf->lines);
    free(cf);
}

/* conf_line - the line that set a directive, 0 if none */
int conf_line(const TXCONF *cf, const char *name)
{
    const CONF_DIR *d;

    if (cf == NULL || name == NULL || cf->lines == NULL || (d = conf_find(name)) == NULL)
        return 0;
    return cf->lines[d - conf_dirs];
}

/* conf_where - "file:line" of a directive, for later diagnostics */
const char *conf_where(const TXCONF *cf, const char *name, char *buf, size_t size)
{
    int     line = conf_line(cf, name);
    const char *file = (cf && cf->path) ? cf->path : "(defaults)";

    if (size == 0)
        return buf;
    if (line > 0)
        (void) snprintf(buf, size, "%s:%d", file, line);
    else
        (void) snprintf(buf, size, "%s", file);
    return buf;
}

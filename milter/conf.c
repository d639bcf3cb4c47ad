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
 *	Socket and UserID syntax, header names, the IP addresses of
 *	EgressAddress and Nameservers (addr[@port]). Datasets (InternalHosts,
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "conf.h"
#include "dataset.h"
#include "log.h"
#include "unsub_msg.h"
#include "util.h"

#define CONF_DEFAULT_SOCKET	"unix:/run/txmilter/txmilter.sock"
#define CONF_DEFAULT_INTERNAL	"127.0.0.1, ::1"
#define CONF_DEFAULT_CONTROL	"/run/txmilter/control.sock"
#define CONF_DEFAULT_DATADIR	"/var/lib/txmilter"
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
static int conf_parse_storefail(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_store(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_optpath(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_unsub_url(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_unsub_mailto(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_hostport(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_choice(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_egress(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_align(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_nameservers(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
static int conf_parse_abspath(TXCONF *, const CONF_DIR *, const char *, char *, size_t);

#define OFF(field) offsetof(TXCONF, field)

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
    {"On-MultipleFrom", conf_parse_action, OFF(on_multifrom), 0,
        CONF_ACT_BIT(CONF_ACT_ACCEPT) | CONF_ACT_BIT(CONF_ACT_TEMPFAIL)
        | CONF_ACT_BIT(CONF_ACT_REJECT)},
    {"On-SignatureError", conf_parse_action, OFF(on_sigerr), 0,
        CONF_ACT_BIT(CONF_ACT_ACCEPT) | CONF_ACT_BIT(CONF_ACT_TEMPFAIL)
        | CONF_ACT_BIT(CONF_ACT_REJECT)},
    /* OpenDKIM migration */
    {"Mode", conf_parse_mode, 0, 0, 0},
    {"RequireSafeKeys", conf_parse_safekeys, 0, 0, 0},
    /* Named in DESIGN.md, not implemented yet */
    /* List-Unsubscribe */
    {"UnsubscribeKeyFile", conf_parse_optpath, OFF(unsub_keyfile), 0, 0},
    {"UnsubscribeURL", conf_parse_unsub_url, OFF(unsub_url), 0, 0},
    {"UnsubscribeMailto", conf_parse_unsub_mailto, OFF(unsub_mailto), 0, 0},
    {"UnsubscribeExempt", conf_parse_str, OFF(unsub_exempt), 0, 0},
    {"UnsubscribeTable", conf_parse_str, OFF(unsub_table), 0, 0},
    {"UnsubscribeListen", conf_parse_hostport, OFF(unsub_listen), 0, 0},
    {"UnsubscribeExisting", conf_parse_choice, OFF(unsub_replace), 0, 0},
    {"UnsubscribeScope", conf_parse_choice, OFF(unsub_scope_domain), 1, 0},
    {"UnsubscribeMaxAge", conf_parse_int, OFF(unsub_max_age), 0, 315360000},
    {"UnsubscribeTrustedProxy", conf_parse_str, OFF(unsub_trusted_proxy), 0, 0},
    {"DataDirectory", conf_parse_optpath, OFF(data_directory), 0, 0},
    /* rate limits */
    {"RateLimitPolicy", conf_parse_str, OFF(ratelimit_policy), 0, 0},
    {"Store", conf_parse_store, OFF(store), 0, 0},
    {"StoreFailure", conf_parse_storefail, OFF(store_failure), 0, 0},
    {"StoreTimeout", conf_parse_int, OFF(store_timeout_ms), 1, 10000},
    {"StoreConnectTimeout", conf_parse_int, OFF(store_connect_timeout_ms), 1, 10000},
    {"StoreRetryInterval", conf_parse_int, OFF(store_retry_ms), 10, 600000},
    {"RateLimitMaxKeys", conf_parse_int, OFF(ratelimit_max_keys), 1000, 100000000},
    {"RecipientDelimiter", conf_parse_str, OFF(recipient_delimiter), 0, 0},
    {"ControlSocket", conf_parse_optpath, OFF(control_socket), 0, 0},
    /* alignment preflight and DNS */
    {"EgressAddress", conf_parse_egress, OFF(egress), 0, 0},
    {"AlignmentAction", conf_parse_align, OFF(alignment_action), 0, 0},
    {"PublicSuffixList", conf_parse_abspath, OFF(public_suffix_list), 0, 0},
    {"Nameservers", conf_parse_nameservers, OFF(nameservers), 0, 0},
    {"TrustAnchorFile", conf_parse_abspath, OFF(trust_anchor_file), 0, 0},
    {"DNSTimeout", conf_parse_int, OFF(dns_timeout), 1, 60},
    {"On-DNSError", conf_parse_action, OFF(on_dnserror), 0,
        CONF_ACT_BIT(CONF_ACT_ACCEPT) | CONF_ACT_BIT(CONF_ACT_TEMPFAIL)},
};

#define CONF_NDIRS (sizeof(conf_dirs) / sizeof(conf_dirs[0]))

#define conf_err util_err_at

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

/* conf_defaults - a TXCONF holding every default */
/* conf_parse_storefail - StoreFailure local|accept|tempfail */
static int conf_parse_storefail(TXCONF *cf, const CONF_DIR *d, const char *value,
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

/* conf_parse_store - "embedded" or a Redis URL (checked in full at start) */
static int conf_parse_store(TXCONF *cf, const CONF_DIR *d, const char *value,
                            char *err, size_t errlen)
{
    static const char *const schemes[] = {"redis://", "redis+unix://", "redis-sentinel://"};

    if (strcasecmp(value, "embedded") != 0) {
        size_t i;

        for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
            if (strncasecmp(value, schemes[i], strlen(schemes[i])) == 0)
                break;
        if (i == sizeof(schemes) / sizeof(schemes[0])) {
            snprintf(err, errlen, "%s: \"%s\" is neither \"embedded\" nor a redis://, "
                     "redis+unix:// or redis-sentinel:// URL", d->name, value);
            return -1;
        }
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

/* conf_parse_optpath - an absolute path, or "none" for NULL */
static int conf_parse_optpath(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_egress(TXCONF *cf, const CONF_DIR *d, const char *value,
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

/* conf_parse_align - AlignmentAction reject|tempfail|quarantine|log */
static int conf_parse_align(TXCONF *cf, const CONF_DIR *d, const char *value,
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

/* conf_parse_nameservers - "addr[@port], ...": the resolvers to forward to */
static int conf_parse_nameservers(TXCONF *cf, const CONF_DIR *d, const char *value,
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
static int conf_parse_abspath(TXCONF *cf, const CONF_DIR *d, const char *value,
                              char *err, size_t errlen)
{
    if (value[0] != '/') {
        snprintf(err, errlen, "%s: \"%s\" is not an absolute path", d->name, value);
        return -1;
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

int conf_preflight(const TXCONF *cf)
{
    return cf->egress.n > 0 || cf->alignment_action != CONF_ALIGN_UNSET;
}

enum conf_align conf_align_action(const TXCONF *cf)
{
    return cf->alignment_action == CONF_ALIGN_UNSET ? CONF_ALIGN_LOG : cf->alignment_action;
}

/* conf_parse_unsub_url - an https:// (or http://) URL holding %{token} */
static int conf_parse_unsub_url(TXCONF *cf, const CONF_DIR *d, const char *value,
                                char *err, size_t errlen)
{
    if (!unsub_url_ok(value)) {
        snprintf(err, errlen, "%s: \"%s\" is not an https:// URL holding %%{token} "
                 "(without spaces, quotes, commas or angle brackets)", d->name, value);
        return -1;
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

/* conf_parse_unsub_mailto - local%{token}@domain */
static int conf_parse_unsub_mailto(TXCONF *cf, const CONF_DIR *d, const char *value,
                                   char *err, size_t errlen)
{
    if (!unsub_mailto_ok(value)) {
        snprintf(err, errlen, "%s: \"%s\" is not an address with %%{token} in its local part, "
                 "e.g. unsubscribe+%%{token}@example.com", d->name, value);
        return -1;
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

/* conf_parse_hostport - "host:port" or "[v6]:port" */
static int conf_parse_hostport(TXCONF *cf, const CONF_DIR *d, const char *value,
                               char *err, size_t errlen)
{
    const char *colon = strrchr(value, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;

    if (colon == NULL || colon == value || *end != 0 || port < 1 || port > 65535) {
        snprintf(err, errlen, "%s: bad value \"%s\": expected host:port", d->name, value);
        return -1;
    }
    return conf_parse_str(cf, d, value, err, errlen);
}

/* conf_parse_choice - UnsubscribeExisting keep|replace (min 0) and
 * UnsubscribeScope address|domain (min 1): 0 for the first word, 1 for the second */
static int conf_parse_choice(TXCONF *cf, const CONF_DIR *d, const char *value,
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
    cf->on_multifrom = CONF_ACT_REJECT;
    cf->store = xstrdup("embedded");
    cf->store_failure = 0;                  /* local */
    cf->store_timeout_ms = 50;
    cf->store_connect_timeout_ms = 100;
    cf->store_retry_ms = 1000;
    cf->ratelimit_max_keys = 1000000;
    cf->recipient_delimiter = xstrdup("+");
    cf->control_socket = xstrdup(CONF_DEFAULT_CONTROL);
    cf->unsub_listen = xstrdup("127.0.0.1:8025");
    cf->unsub_trusted_proxy = xstrdup("127.0.0.1, ::1");
    cf->data_directory = xstrdup(CONF_DEFAULT_DATADIR);
    strv_init(&cf->egress);
    cf->alignment_action = CONF_ALIGN_UNSET;
    cf->public_suffix_list = xstrdup(CONF_DEFAULT_PSL);
    cf->dns_timeout = 5;
    cf->on_dnserror = CONF_ACT_TEMPFAIL;
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
    TXCONF   *cf;
    FILE   *fp;
    int     lineno = 0, bad = 0;
    char    why[1200];

    if (path == NULL) {
        conf_err(errs, "(null)", 0, "no configuration file name");
        return NULL;
    }
    if ((fp = dataset_fopen(path, why, sizeof(why))) == NULL) {
        if (errs != NULL)
            (void) buf_printf(errs, "%s\n", why);
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
    free(cf->ratelimit_policy);
    free(cf->store);
    free(cf->recipient_delimiter);
    free(cf->control_socket);
    free(cf->unsub_keyfile);
    free(cf->unsub_url);
    free(cf->unsub_mailto);
    free(cf->unsub_exempt);
    free(cf->unsub_table);
    free(cf->unsub_listen);
    free(cf->unsub_trusted_proxy);
    free(cf->data_directory);
    strv_free(&cf->egress);
    free(cf->public_suffix_list);
    free(cf->nameservers);
    free(cf->trust_anchor_file);
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

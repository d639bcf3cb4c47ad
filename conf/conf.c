/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.c - parse txmilter.conf(5) into an immutable TXCONF
 *
 * SYNOPSIS
 *	#include "conf.h"
 *
 *	TXCONF	*conf_defaults(void)
 *	TXCONF	*conf_load(const char *path, BUF *errs)
 *	TXCONF	*conf_load_all(const char *path, BUF *errs, int *bad)
 *	void	conf_free(TXCONF *cf)
 *	int	conf_line(const TXCONF *cf, const char *name)
 *	const char *conf_where(const TXCONF *cf, const char *name,
 *			       char *buf, size_t size)
 *	int	conf_check_file(const TXCONF *cf, const char *name,
 *				const char *path, BUF *errs)
 *	int	conf_check_dataset(const TXCONF *cf, const char *name,
 *				   const char *spec, BUF *errs)
 *	int	conf_check_signing(const TXCONF *cf, size_t nkeys, BUF *errs)
 *	int	conf_turned_off(const TXCONF *running, const TXCONF *next,
 *				BUF *what)
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
 *	The value parsers live in conf_value.c.
 *
 *	conf_load_all() is conf_load() that returns what parsed even after
 *	an error (*bad is then 1; NULL only when the file cannot be read),
 *	so that txmilter -n goes on to check the tables too.
 *
 *	OpenDKIM directives without a row here go to conf_migrate.c: they
 *	are accepted, accepted with a warning (kept in cf->warnings), or
 *	refused with a hint saying what to write instead.
 *
 *	conf_free() releases a TXCONF; conf_line() and conf_where() report
 *	where a directive was set.
 *
 *	conf_check_file() opens the file a directive names the way its
 *	reader will (util_open_file(): never blocking) and reports
 *	"file:line: Name PATH: not a regular file" for a FIFO, device or
 *	directory, so that no reader is ever handed one; a file that cannot
 *	be opened at all is left to the reader to report. conf_check_dataset()
 *	does the same for a dataset spec that names a file.
 *
 *	conf_check_signing() refuses a configuration that signs nothing
 *	(nkeys is the number of keys in the KeyTable or shorthand) unless it
 *	says "Signing no", and refuses "Signing no" next to signing keys.
 *
 *	conf_turned_off() appends to what the protections on in running and
 *	off in next (signing, rate limiting, List-Unsubscribe, the alignment
 *	preflight), each with the directive behind it, comma-separated, and
 *	returns how many there are: a reload logs them as an error.
 *
 * DIAGNOSTICS
 *	conf_load() keeps going after an error, so that one run reports every
 *	problem: one "file:line: message\n" per problem is appended to errs
 *	(just "file: message\n" for a file that cannot be opened), and NULL
 *	is returned if there was any. Problems: unknown,
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
#include "conf_int.h"
#include "conf_migrate.h"
#include "dataset.h"
#include "log.h"
#include "util.h"

#define CONF_DEFAULT_SOCKET	"unix:/run/txmilter/txmilter.sock"
#define CONF_DEFAULT_INTERNAL	"127.0.0.1, ::1"
#define CONF_DEFAULT_CONTROL	"/run/txmilter/control.sock"
#define CONF_DEFAULT_DATADIR	"/var/lib/txmilter"

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
    {"Signing", conf_parse_bool, OFF(signing), 0, 0},
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
    /* List-Unsubscribe */
    {"UnsubscribeKeyFile", conf_parse_optpath, OFF(unsub_keyfile), 0, 0},
    {"UnsubscribeURL", conf_parse_unsub_url, OFF(unsub_url), 0, 0},
    {"UnsubscribeMailto", conf_parse_unsub_mailto, OFF(unsub_mailto), 0, 0},
    {"UnsubscribeExempt", conf_parse_str, OFF(unsub_exempt), 0, 0},
    {"UnsubscribeTable", conf_parse_str, OFF(unsub_table), 0, 0},
    {"UnsubscribeListen", conf_parse_hostport, OFF(unsub_listen), 0, 0},
    {"UnsubscribePidFile", conf_parse_str, OFF(unsub_pidfile), 0, 0},
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
    {"ControlSocketGroup", conf_parse_group, OFF(control_socket_group), 0, 0},
    {"ControlSocketMode", conf_parse_sockmode, OFF(control_socket_mode), 0, 0770},
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

int conf_preflight(const TXCONF *cf)
{
    return cf->egress.n > 0 || cf->alignment_action != CONF_ALIGN_UNSET;
}

int conf_signs(const TXCONF *cf)
{
    return cf->signing;
}

int conf_rate_limits(const TXCONF *cf)
{
    return cf->ratelimit_policy != NULL;
}

DNS_SETTINGS conf_dns(const TXCONF *cf)
{
    DNS_SETTINGS ds = {cf->nameservers, cf->trust_anchor_file, cf->dns_timeout};

    return ds;
}

int conf_unsubscribes(const TXCONF *cf)
{
    return cf->unsub_keyfile != NULL && cf->unsub_url != NULL;
}

enum conf_align conf_align_action(const TXCONF *cf)
{
    return cf->alignment_action == CONF_ALIGN_UNSET ? CONF_ALIGN_LOG : cf->alignment_action;
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
    cf->signing = 1;
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
    cf->control_socket_mode = 0600;         /* not the UserID group: Postfix is in it */
    cf->unsub_listen = xstrdup("127.0.0.1:8025");
    cf->unsub_trusted_proxy = xstrdup("127.0.0.1, ::1");
    cf->data_directory = xstrdup(CONF_DEFAULT_DATADIR);
    strv_init(&cf->egress);
    cf->alignment_action = CONF_ALIGN_UNSET;
    cf->public_suffix_list = xstrdup(CONF_DEFAULT_PSL);
    cf->dns_timeout = 5;
    cf->on_dnserror = CONF_ACT_TEMPFAIL;
    strv_init(&cf->warnings);
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
        switch (conf_migrate_check(line, value, err, sizeof(err))) {
        case CONF_MIGRATE_SAME:
            return 0;
        case CONF_MIGRATE_IGNORED: {
            char   *w = xasprintf("%s:%d: warning: %s", cf->path, lineno, err);

            strv_add(&cf->warnings, w);
            free(w);
            return 0;
        }
        case CONF_MIGRATE_REFUSED:
            conf_err(errs, cf->path, lineno, "%s", err);
            return -1;
        default:
            conf_err(errs, cf->path, lineno, "unknown directive \"%s\"", line);
            return -1;
        }
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
    int     bad;
    TXCONF *cf = conf_load_all(path, errs, &bad);

    if (cf != NULL && bad) {
        conf_free(cf);
        return NULL;
    }
    return cf;
}

/* conf_load_all - parse the file at path, keeping what parsed */
TXCONF   *conf_load_all(const char *path, BUF *errs, int *nbad)
{
    char    line[DATASET_LINE_MAX + 1];
    enum dataset_line rc;
    TXCONF   *cf;
    FILE   *fp;
    int     lineno = 0, bad = 0;
    char    why[1200];

    *nbad = 1;
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
    *nbad = bad;
    return cf;
}

/* conf_check_file - a file named by directive name is a regular file */
int conf_check_file(const TXCONF *cf, const char *name, const char *path, BUF *errs)
{
    char where[1024], why[256];

    if (path == NULL || *path == 0 || util_check_file(path, why, sizeof(why)) != UTIL_FILE_NOTREG)
        return 0;
    (void) buf_printf(errs, "%s: %s %s: %s\n", conf_where(cf, name, where, sizeof(where)),
                      name, path, why);
    return -1;
}

/* conf_check_dataset - the same for a dataset spec that names a file */
int conf_check_dataset(const TXCONF *cf, const char *name, const char *spec, BUF *errs)
{
    return conf_check_file(cf, name, dataset_path(spec), errs);
}

/* conf_check_signing - a configuration that signs nothing says so */
int conf_check_signing(const TXCONF *cf, size_t nkeys, BUF *errs)
{
    char where[1024];

    if (cf->signing && nkeys == 0) {
        conf_where(cf, cf->keytable ? "KeyTable" : "Domain", where, sizeof(where));
        (void) buf_printf(errs, "%s: no signing key configured (%s): all mail would leave "
                          "unsigned; make a key with \"txmilterctl genkey\" and add it to the "
                          "KeyTable, or say \"Signing no\" if that is intended\n", where,
                          cf->keytable ? "the KeyTable holds no key"
                          : "no KeyTable, no Domain/Selector/KeyFile");
        return -1;
    }
    if (!cf->signing && nkeys > 0) {
        conf_where(cf, "Signing", where, sizeof(where));
        (void) buf_printf(errs, "%s: Signing no, but signing keys are configured (%s): "
                          "remove one or the other\n", where,
                          cf->keytable ? "KeyTable" : "Domain/Selector/KeyFile");
        return -1;
    }
    return 0;
}

/* conf_turned_off - protections on in running that next turns off */
int conf_turned_off(const TXCONF *running, const TXCONF *next, BUF *what)
{
    static const struct {
        const char *what;
        int     (*on) (const TXCONF *);
    } prot[] = {
        {"signing (Signing no)", conf_signs},
        {"rate limiting (no RateLimitPolicy)", conf_rate_limits},
        {"List-Unsubscribe (no UnsubscribeKeyFile/UnsubscribeURL)", conf_unsubscribes},
        {"the alignment preflight (no EgressAddress/AlignmentAction)", conf_preflight},
    };
    int n = 0;

    for (size_t i = 0; i < sizeof(prot) / sizeof(prot[0]); i++)
        if (prot[i].on(running) && !prot[i].on(next))
            (void) buf_printf(what, "%s%s", n++ ? ", " : "", prot[i].what);
    return n;
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
    free(cf->control_socket_group);
    free(cf->unsub_keyfile);
    free(cf->unsub_url);
    free(cf->unsub_mailto);
    free(cf->unsub_exempt);
    free(cf->unsub_table);
    free(cf->unsub_listen);
    free(cf->unsub_pidfile);
    free(cf->unsub_trusted_proxy);
    free(cf->data_directory);
    strv_free(&cf->egress);
    free(cf->public_suffix_list);
    free(cf->nameservers);
    free(cf->trust_anchor_file);
    strv_free(&cf->warnings);
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

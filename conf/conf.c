/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.c - parse txmilter.conf(5) into an immutable TXCONF
 *
 * SYNOPSIS
 *	#include "conf.h"
 *
 *	TXCONF	*conf_defaults(void)
 *	TXCONF	*conf_load(const char *path, unsigned prog, BUF *errs)
 *	TXCONF	*conf_load_all(const char *path, unsigned prog, BUF *errs,
 *			       int *bad)
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
 *
 * DESCRIPTION
 *	conf_defaults() returns a TXCONF holding every default value.
 *
 *	conf_load() starts from the defaults and applies the file at path,
 *	which must be a regular file. Each line is "Name value": the name is
 *	the first word (any case), the value the rest of the line, trimmed.
 *	'#' starts a comment at the start of a line or after white space;
 *	blank lines are skipped. Each directive is one row of its feature's
 *	table (conf_daemon_dirs.c, conf_sign_dirs.c, conf_rate_dirs.c,
 *	conf_align_dirs.c, conf_unsub_dirs.c, conf_bounce_dirs.c; conf_parts[] lists them): its
 *	name, the programs that use it, the parser for its value and the
 *	TXCONF field it sets. Only the rows of the programs in prog are
 *	parsed; the rows of the other programs are recognised and skipped
 *	(their line is kept for conf_line(), their value is not looked at,
 *	their field keeps its default), so that one program's mistake does
 *	not stop another. CONF_PROG_ALL (txmilter -n) parses every row.
 *	After the file, each part's check runs (rules that involve several
 *	directives).
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
 *	refused with a hint saying what to write instead; they are
 *	txmilter's, skipped by the other programs.

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
 *	is returned if there was any. Problems: unknown directives (for
 *	every program), and for the program's own directives: repeated
 *	ones, missing or bad values; overlong lines, NUL bytes, and what
 *	the parts' checks refuse (conf_sign_dirs.c, conf_unsub_dirs.c).
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

/* Every part; a feature adds its part here and its rows in its own file. */
static const CONF_PART *const conf_parts[] = {
    &conf_daemon_part, &conf_outbound_part, &conf_sign_part, &conf_rate_part,
    &conf_align_part, &conf_unsub_part, &conf_bounce_part,
};

#define CONF_NPARTS CONF_NELEM(conf_parts)

#define conf_err util_err_at

/* conf_ndirs - the number of rows of every part */
static size_t conf_ndirs(void)
{
    size_t n = 0;

    for (size_t p = 0; p < CONF_NPARTS; p++)
        n += conf_parts[p]->ndirs;
    return n;
}

/* conf_find - the row for a directive name and its index over all parts
 * (for cf->lines), or NULL */
static const CONF_DIR *conf_find(const char *name, size_t *idx)
{
    size_t base = 0;

    for (size_t p = 0; p < CONF_NPARTS; p++) {
        for (size_t i = 0; i < conf_parts[p]->ndirs; i++) {
            if (strcasecmp(conf_parts[p]->dirs[i].name, name) == 0) {
                *idx = base + i;
                return &conf_parts[p]->dirs[i];
            }
        }
        base += conf_parts[p]->ndirs;
    }
    return NULL;
}

/* conf_warn - one warning with the file's location */
void conf_warn(TXCONF *cf, int line, const char *fmt, ...)
{
    char    msg[CONF_ERR_MAX], *w;
    va_list ap;

    va_start(ap, fmt);
    (void) vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    w = xasprintf("%s:%d: warning: %s", cf->path ? cf->path : "(defaults)", line, msg);
    strv_add(&cf->warnings, w);
    free(w);
}

int conf_preflight(const TXCONF *cf)
{
    return cf->align.egress.n > 0 || cf->align.action != CONF_ALIGN_UNSET;
}

int conf_signs(const TXCONF *cf)
{
    return cf->sign.signing;
}

int conf_rate_limits(const TXCONF *cf)
{
    return cf->rate.policy != NULL;
}

DNS_SETTINGS conf_dns(const TXCONF *cf)
{
    DNS_SETTINGS ds = {cf->align.nameservers, cf->align.trust_anchor_file, cf->align.dns_timeout};

    return ds;
}

int conf_unsubscribes(const TXCONF *cf)
{
    return cf->unsub.keyfile != NULL && (cf->unsub.url != NULL || cf->unsub.mailto != NULL);
}

int conf_suppression_list(const TXCONF *cf)
{
    return conf_unsubscribes(cf) || cf->unsub.mailto != NULL || cf->unsub.table != NULL
        || (cf->bounce.return_path != NULL && cf->unsub.keyfile != NULL)
        || (cf->bounce.complaint_addrs.n > 0 && cf->unsub.keyfile != NULL);
}

enum conf_align conf_align_action(const TXCONF *cf)
{
    return cf->align.action == CONF_ALIGN_UNSET ? CONF_ALIGN_LOG : cf->align.action;
}

TXCONF *conf_defaults(void)
{
    TXCONF   *cf = xcalloc(1, sizeof(*cf));

    cf->prog = CONF_PROG_ALL;
    for (size_t p = 0; p < CONF_NPARTS; p++)
        conf_parts[p]->defaults(cf);
    strv_init(&cf->warnings);
    cf->lines = xcalloc(conf_ndirs(), sizeof(int));
    return cf;
}

/* conf_unknown - a name without a row: an OpenDKIM directive (txmilter's
 * to judge, skipped by the others) or an error */
static int conf_unknown(TXCONF *cf, const char *name, const char *value, int lineno, BUF *errs)
{
    char    err[CONF_ERR_MAX];
    enum conf_migrate m = conf_migrate_check(name, value, err, sizeof(err));

    if (m != CONF_MIGRATE_UNKNOWN && !(cf->prog & CONF_M))
        return 0;
    switch (m) {
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
        conf_err(errs, cf->path, lineno, "unknown directive \"%s\"", name);
        return -1;
    }
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
    if ((d = conf_find(line, &idx)) == NULL)
        return conf_unknown(cf, line, value, lineno, errs);
    if ((d->progs & cf->prog) == 0) {
        /* Another program's: its reader judges the value. */
        if (cf->lines[idx] == 0)
            cf->lines[idx] = lineno;
        return 0;
    }
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

/* conf_check - rules that involve several directives, part by part */
static int conf_check(TXCONF *cf, BUF *errs)
{
    int rc = 0;

    for (size_t p = 0; p < CONF_NPARTS; p++)
        if (conf_parts[p]->check && conf_parts[p]->check(cf, cf->prog, errs) < 0)
            rc = -1;
    return rc;
}

/* conf_load - parse the file at path */
TXCONF   *conf_load(const char *path, unsigned prog, BUF *errs)
{
    int     bad;
    TXCONF *cf = conf_load_all(path, prog, errs, &bad);

    if (cf != NULL && bad) {
        conf_free(cf);
        return NULL;
    }
    return cf;
}

/* conf_load_all - parse the file at path, keeping what parsed */
TXCONF   *conf_load_all(const char *path, unsigned prog, BUF *errs, int *nbad)
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
    cf->prog = prog & CONF_PROG_ALL;
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

    if (cf->sign.signing && nkeys == 0) {
        conf_where(cf, cf->sign.keytable ? "KeyTable" : "Domain", where, sizeof(where));
        (void) buf_printf(errs, "%s: no signing key configured (%s): all mail would leave "
                          "unsigned; make a key with \"txmilterctl genkey\" and add it to the "
                          "KeyTable, or say \"Signing no\" if that is intended\n", where,
                          cf->sign.keytable ? "the KeyTable holds no key"
                          : "no KeyTable, no Domain/Selector/KeyFile");
        return -1;
    }
    if (!cf->sign.signing && nkeys > 0) {
        conf_where(cf, "Signing", where, sizeof(where));
        (void) buf_printf(errs, "%s: Signing no, but signing keys are configured (%s): "
                          "remove one or the other\n", where,
                          cf->sign.keytable ? "KeyTable" : "Domain/Selector/KeyFile");
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
    for (size_t p = 0; p < CONF_NPARTS; p++)
        conf_parts[p]->release(cf);
    strv_free(&cf->warnings);
    free(cf->lines);
    free(cf);
}

/* conf_line - the line that set a directive, 0 if none */
int conf_line(const TXCONF *cf, const char *name)
{
    size_t  idx;

    if (cf == NULL || name == NULL || cf->lines == NULL || conf_find(name, &idx) == NULL)
        return 0;
    return cf->lines[idx];
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

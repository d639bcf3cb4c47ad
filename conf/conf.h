/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.h - the txmilter.conf(5) configuration, parsed into one struct of
 * per-feature parts (cf->daemon, cf->sign, cf->rate, ...).
 *
 * The file holds "Name value" lines, '#' comments and blank lines, as in
 * opendkim.conf(5). Names are case-insensitive. Each program parses only
 * its own directives (conf_load()'s prog) and skips the others'. Unknown
 * names, repeated names (except where noted), and bad values are errors
 * reported as "file:line: message". The struct is immutable once conf_load() returns;
 * the snapshot module builds the derived tables (InternalHosts, KeyTable,
 * SigningTable, keys) from it.
 */
#ifndef TX_CONF_H
#define TX_CONF_H

#include "dns.h"
#include "util.h"

#include "conf_align.h"
#include "conf_bounce.h"
#include "conf_daemon.h"
#include "conf_rate.h"
#include "conf_sign.h"
#include "conf_unsub.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
/* the file txmilter, txmilterctl and txmilter-unsubd read unless told otherwise */
#define CONF_DEFAULT_FILE SYSCONFDIR "/txmilter/txmilter.conf"

/* The programs that read the file: each directive's row names those that
 * use it (conf_load()'s prog); CONF_PROG_ALL is txmilter -n's view. */
enum conf_prog {
    CONF_PROG_TXMILTER = 1,
    CONF_PROG_UNSUBD = 2,
    CONF_PROG_CTL = 4,
    CONF_PROG_ALL = 7
};

/* One part per feature; each part's rows live in conf_<part>_dirs.c. */
typedef struct conf {
    char   *path;               /* the file this came from; NULL from conf_defaults() */
    unsigned prog;              /* the programs whose directives were parsed (enum conf_prog) */
    CONF_DAEMON daemon;         /* conf_daemon_dirs.c */
    CONF_OUTBOUND outbound;     /* conf_daemon_dirs.c */
    CONF_SIGN sign;             /* conf_sign_dirs.c */
    CONF_RATE rate;             /* conf_rate_dirs.c */
    CONF_ALIGN align;           /* conf_align_dirs.c */
    CONF_UNSUB unsub;           /* conf_unsub_dirs.c */
    CONF_UNSUBD unsubd;         /* conf_unsub_dirs.c */
    CONF_BOUNCE bounce;         /* conf_bounce_dirs.c */

    STRV    warnings;           /* "file:line: warning: message": OpenDKIM directives
                                 * accepted but ignored (conf_migrate.c), directives
                                 * another program reads that look meant for this one */
    int    *lines;              /* private to conf.c: where each directive was set;
                                 * use conf_line() and conf_where() */
} TXCONF;

/* conf_defaults - a TXCONF holding every default (what an empty file gives) */
TXCONF *conf_defaults(void);

/* conf_load - parse path for the programs in prog (enum conf_prog): their
 * directives are parsed and checked, those of the other programs only
 * recognised and skipped. On success returns a new TXCONF. On any error
 * returns NULL and appends one "file:line: message\n" per problem to errs. */
TXCONF *conf_load(const char *path, unsigned prog, BUF *errs);

/* conf_load_all - conf_load() that returns what parsed even after errors
 * (then *bad is 1), so that later checks run too: never use such a TXCONF
 * but for reporting. NULL only when the file cannot be read. */
TXCONF *conf_load_all(const char *path, unsigned prog, BUF *errs, int *bad);

void conf_free(TXCONF *cf);

/* conf_line - the line of cf->path that set directive name (any case);
 * 0 when the directive holds its default or is unknown. */
int conf_line(const TXCONF *cf, const char *name);

/* conf_where - "file:line" where directive name was set, for messages
 * about values parsed later (datasets, keys): just "file" when it holds
 * its default, "(defaults)" for conf_defaults(). Writes at most size bytes
 * to buf and returns buf. */
const char *conf_where(const TXCONF *cf, const char *name, char *buf, size_t size);

/* conf_preflight - 1 if the alignment preflight is on (EgressAddress or
 * AlignmentAction set); conf_align_action - the action in force (log
 * when AlignmentAction is not set). */
int conf_preflight(const TXCONF *cf);
enum conf_align conf_align_action(const TXCONF *cf);

/* conf_signs - Signing is not "no"; conf_rate_limits - a RateLimitPolicy
 * is configured. */
int conf_signs(const TXCONF *cf);
int conf_rate_limits(const TXCONF *cf);

/* conf_dns - the resolver's settings: Nameservers, TrustAnchorFile,
 * DNSTimeout */
DNS_SETTINGS conf_dns(const TXCONF *cf);

/* conf_unsubscribes - List-Unsubscribe headers are added:
 * UnsubscribeKeyFile and UnsubscribeURL set */
int conf_unsubscribes(const TXCONF *cf);

/* conf_suppression_list - txmilter keeps a suppression list: it adds
 * List-Unsubscribe, takes unsubscribe requests by mail (UnsubscribeMailto,
 * UnsubscribeTable), or reads bounces to its return path (ReturnPath with
 * UnsubscribeKeyFile, even without List-Unsubscribe), or complaints to a
 * ComplaintAddress */
int conf_suppression_list(const TXCONF *cf);

/* conf_unsub_url_ok, conf_unsub_mailto_ok - the template checks of
 * UnsubscribeURL (an http(s) URL holding %{token}, nothing that would
 * break the header) and UnsubscribeMailto (%{token} in the local part) */
int conf_unsub_url_ok(const char *tmpl);
int conf_unsub_mailto_ok(const char *tmpl);

/* conf_check_file - -1 after appending "file:line: name PATH: not a
 * regular file\n" to errs when path (named by directive name) opens but is
 * a FIFO, device, directory...; 0 otherwise (a missing or unreadable file
 * is for its reader to report). Opening never blocks. conf_check_dataset -
 * the same for the file a dataset spec names (nothing for inline lists). */
int conf_check_file(const TXCONF *cf, const char *name, const char *path, BUF *errs);
int conf_check_dataset(const TXCONF *cf, const char *name, const char *spec, BUF *errs);

/* conf_check_signing - -1 with "file: no signing key configured ...\n" in
 * errs when nkeys is 0 and Signing is not "no", or when "Signing no" stands
 * next to nkeys > 0 keys; 0 otherwise. */
int conf_check_signing(const TXCONF *cf, size_t nkeys, BUF *errs);

/* conf_turned_off - the number of protections (signing, rate limiting,
 * List-Unsubscribe, alignment preflight) on in running and off in next;
 * their names, comma-separated, are appended to what. */
int conf_turned_off(const TXCONF *running, const TXCONF *next, BUF *what);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.h - the txmilter.conf(5) configuration, parsed into one struct.
 *
 * The file holds "Name value" lines, '#' comments and blank lines, as in
 * opendkim.conf(5). Names are case-insensitive. Unknown names, repeated
 * names (except where noted), and bad values are errors reported as
 * "file:line: message". The struct is immutable once conf_load() returns;
 * the snapshot module builds the derived tables (InternalHosts, KeyTable,
 * SigningTable, keys) from it.
 */
#ifndef TX_CONF_H
#define TX_CONF_H

#include <sys/types.h>

#include "dns.h"
#include "util.h"

enum conf_canon { CONF_CANON_RELAXED = 0, CONF_CANON_SIMPLE = 1 };

/* What to do with outbound mail for which no signing key applies, or when
 * signing itself fails. */
enum conf_action { CONF_ACT_ACCEPT = 0, CONF_ACT_TEMPFAIL = 1, CONF_ACT_REJECT = 2 };

/* AlignmentAction: what a failed alignment preflight does to mail whose
 * DMARC policy is quarantine or reject. UNSET: the directive is absent. */
enum conf_align { CONF_ALIGN_UNSET = 0, CONF_ALIGN_REJECT, CONF_ALIGN_TEMPFAIL,
                  CONF_ALIGN_QUARANTINE, CONF_ALIGN_LOG };

#define CONF_DEFAULT_PSL "/usr/share/publicsuffix/public_suffix_list.dat"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
/* the file txmilter, txmilterctl and txmilter-unsubd read unless told otherwise */
#define CONF_DEFAULT_FILE SYSCONFDIR "/txmilter/txmilter.conf"

typedef struct conf {
    char   *path;               /* the file this came from; NULL from conf_defaults() */

    /* daemon */
    char   *socket;             /* Socket: libmilter spec (unix:, local:, inet:, inet6:) */
    char   *user;               /* UserID: "user" or "user:group"; NULL keeps the starting user */
    char   *pidfile;            /* PidFile; NULL for none */
    mode_t  umask;              /* UMask (octal), default 007 */
    int     syslog;             /* Syslog yes|no, default yes */
    int     syslog_facility;    /* SyslogFacility, default mail */
    int     logwhy;             /* LogWhy yes|no: debug detail, default no */
    int     shutdown_timeout;   /* ShutdownTimeout seconds to let messages finish on SIGTERM, default 60 */
    size_t  max_headers;        /* MaximumHeaders bytes of header block, default 1048576 */

    /* what is outbound */
    char   *internal_hosts;     /* InternalHosts dataset, default "127.0.0.1, ::1" */
    char   *mta;                /* MTA dataset of {daemon_name} values; NULL: not used */

    /* signing */
    char   *keytable;           /* KeyTable dataset */
    char   *signingtable;       /* SigningTable dataset */
    char   *domain;             /* Domain (shorthand): dataset of domains */
    char   *selector;           /* Selector (shorthand) */
    char   *keyfile;            /* KeyFile (shorthand) */
    int     signing;            /* Signing yes|no, default yes: "no" says that a
                                 * configuration without keys is intended */
    int     subdomains;         /* SubDomains yes|no, default no */
    int     multiple_signatures;/* MultipleSignatures yes|no, default no */
    enum conf_canon hdr_canon;  /* Canonicalization header/body, default relaxed/relaxed */
    enum conf_canon body_canon;
    STRV    sign_headers;       /* SignHeaders: lowercase names */
    STRV    oversign_headers;   /* OversignHeaders: lowercase names */
    enum conf_action on_nokey;  /* On-NoKey accept|tempfail, default accept */
    enum conf_action on_sigerr; /* On-SignatureError accept|tempfail|reject, default tempfail */
    enum conf_action on_multifrom; /* On-MultipleFrom accept|tempfail|reject: several From fields or
                                 * mailboxes (RFC 7489 6.6.1), default reject */

    /* rate limits (policy/) */
    char   *ratelimit_policy;   /* RateLimitPolicy file; NULL: no rate limits */
    char   *store;              /* Store: "embedded" (default) or a Redis URL */
    int     store_failure;      /* StoreFailure local|accept|tempfail (STORE_FAIL_*), default local */
    int     store_timeout_ms;   /* StoreTimeout ms per Redis command, default 50 */
    int     store_connect_timeout_ms; /* StoreConnectTimeout ms, default 100 */
    int     store_retry_ms;     /* StoreRetryInterval ms before Redis is asked again, default 1000 */
    int     ratelimit_max_keys; /* RateLimitMaxKeys for the embedded store, default 1000000 */
    char   *recipient_delimiter;/* RecipientDelimiter: subaddress separators, default "+" */
    char   *control_socket;     /* ControlSocket for txmilterctl, default /run/txmilter/control.sock;
                                 * "none" disables it (NULL) */
    char   *control_socket_group; /* ControlSocketGroup; NULL: the UserID group */
    mode_t  control_socket_mode;/* ControlSocketMode, default 0600 (nothing for the group) */

    /* alignment preflight and DNS (preflight.c, dns.c); the preflight runs
     * only when EgressAddress or AlignmentAction is set (conf_preflight()) */
    STRV    egress;             /* EgressAddress: the relay's public IP addresses */
    enum conf_align alignment_action; /* AlignmentAction, default unset (log when preflight runs) */
    char   *public_suffix_list; /* PublicSuffixList, default CONF_DEFAULT_PSL */
    char   *nameservers;        /* Nameservers "addr[@port], ..."; NULL: /etc/resolv.conf */
    char   *trust_anchor_file;  /* TrustAnchorFile: DNSSEC root key; NULL: no validation */
    int     dns_timeout;        /* DNSTimeout seconds per query, default 5 */
    enum conf_action on_dnserror; /* On-DNSError accept|tempfail, default tempfail */

    /* List-Unsubscribe (policy/unsub/, unsubd/) */
    char   *unsub_keyfile;      /* UnsubscribeKeyFile; with UnsubscribeURL it turns the headers on */
    char   *unsub_url;          /* UnsubscribeURL template: %{token}, %{domain} */
    char   *unsub_mailto;       /* UnsubscribeMailto template: an address with %{token} in its local part */
    char   *unsub_exempt;       /* UnsubscribeExempt dataset: From address or domain patterns */
    char   *unsub_table;        /* UnsubscribeTable dataset: per From domain URL [mailto] templates */
    char   *unsub_listen;       /* UnsubscribeListen host:port of txmilter-unsubd, default 127.0.0.1:8025 */
    char   *unsub_pidfile;      /* UnsubscribePidFile of txmilter-unsubd (it ignores PidFile); NULL: none */
    int     unsub_replace;      /* UnsubscribeExisting keep|replace, default keep */
    int     unsub_scope_domain; /* UnsubscribeScope address|domain: the stream is the From address (default) or domain */
    int     unsub_max_age;      /* UnsubscribeMaxAge seconds a token stays valid, 0 (default): forever */
    char   *unsub_trusted_proxy;/* UnsubscribeTrustedProxy: the address whose X-Forwarded-For is believed */
    char   *data_directory;     /* DataDirectory, default /var/lib/txmilter */

    STRV    warnings;           /* "file:line: message" for OpenDKIM directives
                                 * accepted but ignored (conf_migrate.c) */
    int    *lines;              /* private to conf.c: where each directive was set;
                                 * use conf_line() and conf_where() */
} TXCONF;

/* conf_defaults - a TXCONF holding every default (what an empty file gives) */
TXCONF *conf_defaults(void);

/* conf_load - parse path. On success returns a new TXCONF. On any error
 * returns NULL and appends one "file:line: message\n" per problem to errs. */
TXCONF *conf_load(const char *path, BUF *errs);

/* conf_load_all - conf_load() that returns what parsed even after errors
 * (then *bad is 1), so that later checks run too: never use such a TXCONF
 * but for reporting. NULL only when the file cannot be read. */
TXCONF *conf_load_all(const char *path, BUF *errs, int *bad);

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

/* The built-in SignHeaders and OversignHeaders lists (NULL-terminated). */
extern const char *const conf_default_sign_headers[];
extern const char *const conf_default_oversign_headers[];

#endif

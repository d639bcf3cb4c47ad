/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_conf.h - what txmilter-unsubd takes from txmilter.conf(5): the
 * common daemon directives (UserID, UMask, Syslog,
 * SyslogFacility, LogWhy, ShutdownTimeout, Store, StoreTimeout) and the
 * Unsubscribe* (UnsubscribeRateLimit among them) and DataDirectory values,
 * parsed and checked.
 */
#ifndef TX_UNSUBD_CONF_H
#define TX_UNSUBD_CONF_H

#include <stdint.h>

#include "conf.h"
#include "netlist.h"
#include "unsubd_page.h"
#include "util.h"

typedef struct unsubd_conf {
    TXCONF   *cf;               /* the whole file (owned) */
    const char *listen;         /* UnsubscribeListen as written */
    char      host[256];        /* its host part, without brackets; "*": any */
    char      port[8];          /* its port */
    const char *keyfile;        /* UnsubscribeKeyFile (required) */
    const char *pidfile;        /* UnsubscribePidFile; NULL: none (never PidFile, txmilter's) */
    uint64_t  max_age;          /* UnsubscribeMaxAge seconds; 0: no limit */
    const char *datadir;        /* DataDirectory */
    NETLIST  *trusted;          /* UnsubscribeTrustedProxy; NULL: none */
    const char *template_dir;   /* UnsubscribeTemplateDirectory; NULL: the built-in pages */
    uint32_t  rate_limit;       /* requests per client address ... */
    uint64_t  rate_period_ms;   /* ... in any window this long */
} UNSUBD_CONF;

/* unsubd_conf_load - NULL with "file:line: message\n" lines in errs */
UNSUBD_CONF *unsubd_conf_load(const char *path, BUF *errs);
void unsubd_conf_free(UNSUBD_CONF *uc);

/* unsubd_conf_pages - the pages (built-in, and UnsubscribeTemplateDirectory's);
 * NULL with "file:line: message" lines in errs */
UNSUBD_PAGES *unsubd_conf_pages(const UNSUBD_CONF *uc, BUF *errs);

/* unsubd_conf_listen - split "host:port" or "[v6]:port"; -1 if malformed */
int unsubd_conf_listen(const char *value, char *host, size_t hostlen, char *port, size_t portlen);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd.h - txmilter-unsubd's HTTP server: the one-click unsubscribe
 * endpoint (RFC 8058) on libmicrohttpd.
 */
#ifndef TX_UNSUBD_H
#define TX_UNSUBD_H

#include "suppress.h"
#include "unsub_token.h"
#include "unsubd_conf.h"
#include "unsubd_metrics.h"

#define UNSUBD_BODY_MAX      4096        /* bytes of a POST body */
#define UNSUBD_URL_MAX       1024        /* bytes of a request path */
#define UNSUBD_CONN_MAX      256         /* connections at once */
#define UNSUBD_CONN_TIMEOUT  10          /* seconds a connection may idle */
#define UNSUBD_THREADS       4           /* request threads */

typedef struct unsubd UNSUBD;

/* unsubd_listen - a listening TCP socket for uc->host:uc->port, or -1
 * (logged). Called before privileges are dropped. */
int unsubd_listen(const UNSUBD_CONF *uc);

/* unsubd_start - serve on fd with keys and pages (owned from then on:
 * freed by unsubd_stop()), store and metrics (borrowed; metrics may be
 * NULL). NULL (logged) if libmicrohttpd cannot start; keys, pages and fd
 * stay the caller's then. */
UNSUBD *unsubd_start(const UNSUBD_CONF *uc, int fd, UNSUB_KEYS *keys, UNSUBD_PAGES *pages,
                     SUPPRESS *store, UNSUBD_METRICS *metrics);

/* unsubd_reload_keys - read UnsubscribeKeyFile again; on any error the
 * keys in use stay, and the reasons are logged. 0 or -1. */
int unsubd_reload_keys(UNSUBD *d);

/* unsubd_reload_pages - read UnsubscribeTemplateDirectory again (nothing
 * to do without one); on any error the pages in use stay, and the
 * reasons are logged. 0 or -1. */
int unsubd_reload_pages(UNSUBD *d);

/* unsubd_stop - stop accepting, let requests in flight finish (at most
 * timeout seconds), stop and free everything but the store. */
void unsubd_stop(UNSUBD *d, int timeout);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_conf.c - txmilter-unsubd's view of txmilter.conf(5)
 *
 * SYNOPSIS
 *	#include "unsubd_conf.h"
 *
 *	UNSUBD_CONF *unsubd_conf_load(const char *path, BUF *errs)
 *	UNSUBD_PAGES *unsubd_conf_pages(const UNSUBD_CONF *uc, BUF *errs)
 *	void	unsubd_conf_free(UNSUBD_CONF *uc)
 *	int	unsubd_conf_listen(const char *value, char *host, size_t hostlen,
 *				   char *port, size_t portlen)
 *
 * DESCRIPTION
 *	unsubd_conf_load() reads the same file as txmilter with conf_load()
 *	for CONF_PROG_UNSUBD (so the two never disagree on a directive both
 *	read, and txmilter's own directives are skipped unparsed), and checks
 *	what the endpoint needs on top:
 *
 *	UnsubscribeListen host:port	"[::1]:8025" for IPv6, "*:8025" for
 *					every address
 *	UnsubscribeKeyFile path		required here (txmilter can do
 *					without: then it adds no headers)
 *	UnsubscribeMaxAge seconds	0: no limit
 *	UnsubscribePidFile path		its own pid file (PidFile is
 *					txmilter's and is ignored here)
 *	DataDirectory path		required with Store embedded
 *	UnsubscribeTrustedProxy list	peers whose X-Forwarded-For is
 *					believed: an InternalHosts-style
 *					dataset, or "none"
 *	UnsubscribeTemplateDirectory path  the operator's page templates
 *					(unsubd_page.c), or "none": the
 *					built-in pages
 *	UnsubscribeRateLimit N/period	requests per client address
 *					(parsed by conf_value.c)
 *
 *	unsubd_conf_pages() loads the pages, the templates of
 *	UnsubscribeTemplateDirectory checked (at start-up, by -n, and again
 *	on each SIGHUP).
 *
 *	unsubd_conf_listen() splits host:port (the host without brackets).
 *
 * DIAGNOSTICS
 *	NULL with one "file:line: message" line per problem in errs:
 *	anything conf_load() reports for txmilter-unsubd's directives (the
 *	warnings it collects, such as a PidFile without UnsubscribePidFile,
 *	are in uc->cf->warnings), a listen address without a port, a
 *	missing key file or one that is not a regular file, a bad proxy
 *	list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net_listen.h"
#include "unsubd_conf.h"

/* unsubd_conf_listen - split host:port */
int unsubd_conf_listen(const char *value, char *host, size_t hostlen, char *port, size_t portlen)
{
    return net_listen_split(value, host, hostlen, port, portlen);
}

/* unsubd_conf_load - the endpoint's configuration */
UNSUBD_CONF *unsubd_conf_load(const char *path, BUF *errs)
{
    UNSUBD_CONF *uc;
    TXCONF *cf;
    char where[1100];
    int bad = 0;

    if ((cf = conf_load(path, CONF_PROG_UNSUBD, errs)) == NULL)
        return NULL;
    uc = xcalloc(1, sizeof(*uc));
    uc->cf = cf;
    uc->listen = cf->unsubd.listen;
    if (uc->listen == NULL
        || unsubd_conf_listen(uc->listen, uc->host, sizeof(uc->host), uc->port, sizeof(uc->port)) < 0) {
        util_err_at(errs, path, conf_line(cf, "UnsubscribeListen"), "UnsubscribeListen: bad value "
                    "\"%s\": expected host:port (e.g. 127.0.0.1:8025, [::1]:8025 or *:8025)",
                    uc->listen ? uc->listen : "");
        bad = 1;
    }
    if ((uc->keyfile = cf->unsub.keyfile) == NULL) {
        util_err_at(errs, path, conf_line(cf, "UnsubscribeKeyFile"),
                    "UnsubscribeKeyFile is required by txmilter-unsubd");
        bad = 1;
    } else if (conf_check_file(cf, "UnsubscribeKeyFile", uc->keyfile, errs) < 0) {
        bad = 1;
    }
    uc->pidfile = cf->unsubd.pidfile;
    uc->max_age = cf->unsub.max_age > 0 ? (uint64_t) cf->unsub.max_age : 0;
    uc->datadir = cf->unsub.data_directory;
    if (uc->datadir == NULL && strcasecmp(cf->rate.store, "embedded") == 0) {
        util_err_at(errs, path, conf_line(cf, "DataDirectory"),
                    "DataDirectory is required with Store embedded");
        bad = 1;
    }
    if (cf->unsubd.trusted_proxy != NULL && strcasecmp(cf->unsubd.trusted_proxy, "none") != 0
        && (conf_check_dataset(cf, "UnsubscribeTrustedProxy", cf->unsubd.trusted_proxy, errs) < 0
            || (uc->trusted = netlist_build(cf->unsubd.trusted_proxy,
                                        conf_where(cf, "UnsubscribeTrustedProxy", where, sizeof(where)),
                                        errs)) == NULL))
        bad = 1;
    uc->template_dir = cf->unsubd.template_dir;
    uc->rate_limit = cf->unsubd.rate.limit;
    uc->rate_period_ms = cf->unsubd.rate.period_ms;
    if (bad) {
        unsubd_conf_free(uc);
        return NULL;
    }
    return uc;
}

/* unsubd_conf_pages - the pages of this configuration */
UNSUBD_PAGES *unsubd_conf_pages(const UNSUBD_CONF *uc, BUF *errs)
{
    return unsubd_page_load(uc->template_dir, uc->cf->path,
                            conf_line(uc->cf, "UnsubscribeTemplateDirectory"), errs);
}

/* unsubd_conf_free - release everything */
void unsubd_conf_free(UNSUBD_CONF *uc)
{
    if (uc == NULL)
        return;
    if (uc->trusted)
        netlist_free(uc->trusted);
    conf_free(uc->cf);
    free(uc);
}

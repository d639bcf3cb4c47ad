/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_metrics.c - txmilter-unsubd's metrics and health endpoint
 *
 * SYNOPSIS
 *	#include "unsubd_metrics.h"
 *
 *	UNSUBD_METRICS *unsubd_metrics_new(const TXCONF *cf)
 *	METRICS * unsubd_metrics_registry(UNSUBD_METRICS *um)
 *	int	unsubd_metrics_listen(UNSUBD_METRICS *um, const UNSUBD_CONF *uc)
 *	int	unsubd_metrics_serve(UNSUBD_METRICS *um, SUPPRESS *store)
 *	void	unsubd_metrics_response(UNSUBD_METRICS *um, unsigned status)
 *	void	unsubd_metrics_unsubscribed(UNSUBD_METRICS *um,
 *			const char *stream)
 *	const char * unsubd_metrics_stream(const STRV *domains,
 *			const char *stream)
 *	void	unsubd_metrics_free(UNSUBD_METRICS *um)
 *
 * DESCRIPTION
 *	The endpoint counts every answer it gives by HTTP status
 *	(txmilter_unsubd_requests_total{code}: the codes it can give exist
 *	from the start with 0) and every unsubscribe it records by the
 *	stream's domain (txmilter_unsubd_unsubscribes_total{stream}); no
 *	label carries a recipient or a token. txmilter_unsubd_store_up says
 *	whether the suppression list answered its last call.
 *
 *	A stream's domain is its label only when the KeyTable (or Domain)
 *	of cf names it, as txmilter's domain labels: a token is authentic,
 *	but its stream is the From address an application chose, and the
 *	application may choose any domain. Every other domain is counted
 *	as "other" (unsubd_metrics_stream()), so the label set is the
 *	configured domains and "other", each there from the start with 0.
 *
 *	/health is 503 "suppression list: last call failed" while the list
 *	does not answer (the endpoint then answers 503 to unsubscribes),
 *	else 200.
 *
 * DIAGNOSTICS
 *	unsubd_metrics_listen() and unsubd_metrics_serve() log why the
 *	endpoint cannot start and return -1; txmilter-unsubd does not start.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "keytable.h"
#include "log.h"
#include "metrics_http.h"
#include "unsubd_metrics.h"

struct unsubd_metrics {
    METRICS *reg;
    METRICS_FAMILY *requests, *unsubscribes, *store_up, *build;
    METRICS_HTTP *http;         /* UnsubscribeMetricsListen, or NULL */
    SUPPRESS *store;
    STRV     domains;           /* the signing domains: the stream labels */
};

/* unsubd_metrics_domains - the signing domains of cf into um, each at 0 */
static void unsubd_metrics_domains(UNSUBD_METRICS *um, const TXCONF *cf)
{
    const KEYTABLE_KEY *k;
    KEYTABLE *kt;
    BUF errs;
    size_t n;

    buf_init(&errs, 4096);
    if ((kt = keytable_build(cf, &errs)) == NULL) {
        log_warn("KeyTable, SigningTable or Domain cannot be read: every unsubscribe is counted under "
                 "stream \"other\": %s", errs.data ? errs.data : "");
        buf_free(&errs);
        return;
    }
    buf_free(&errs);
    k = keytable_keys(kt, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].domain, "%") != 0 && strcmp(k[i].domain, "*") != 0
            && !strv_contains_ci(&um->domains, k[i].domain)) {
            strv_add(&um->domains, k[i].domain);
            (void) metrics_series(um->unsubscribes, METRICS_L(k[i].domain));
        }
    (void) metrics_series(um->unsubscribes, METRICS_L(METRICS_OTHER));
    keytable_free(kt);
}

/* unsubd_metrics_new - the registry */
UNSUBD_METRICS *unsubd_metrics_new(const TXCONF *cf)
{
    static const char *const codes[] = {"200", "400", "404", "405", "413", "414", "429", "500", "503"};
    UNSUBD_METRICS *um = xcalloc(1, sizeof(*um));

    um->reg = metrics_new();
    strv_init(&um->domains);
    um->requests = metrics_family(um->reg, METRICS_COUNTER, "txmilter_unsubd_requests_total",
                                  "HTTP answers of the unsubscribe endpoint, by status code.", "code", 32,
                                  NULL, 0);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        (void) metrics_series(um->requests, METRICS_L(codes[i]));
    um->unsubscribes = metrics_family(um->reg, METRICS_COUNTER, "txmilter_unsubd_unsubscribes_total",
                                      "Unsubscribes recorded, by the domain of the stream.", "stream",
                                      UNSUBD_METRICS_STREAMS, NULL, 0);
    um->store_up = metrics_family(um->reg, METRICS_GAUGE, "txmilter_unsubd_store_up",
                                  "1 if the suppression list answered its last call.", NULL, 1, NULL, 0);
    um->build = metrics_family(um->reg, METRICS_GAUGE, "txmilter_build_info", "The txmilter version running.",
                               "version", 2, NULL, 0);
    metrics_set(um->build, metrics_series(um->build, METRICS_L(PACKAGE_VERSION)), 1);
    metrics_set(um->store_up, 0, 1);
    unsubd_metrics_domains(um, cf);
    return um;
}

METRICS *unsubd_metrics_registry(UNSUBD_METRICS *um)
{
    return um->reg;
}

/* unsubd_metrics_stream - a stream's label: its domain if configured, else "other" */
const char *unsubd_metrics_stream(const STRV *domains, const char *stream)
{
    const char *at = stream ? strrchr(stream, '@') : NULL, *dom = at ? at + 1 : stream;

    for (size_t i = 0; dom && i < domains->n; i++)
        if (strcasecmp(domains->v[i], dom) == 0)
            return domains->v[i];
    return METRICS_OTHER;
}

/* unsubd_metrics_response - count one answer */
void unsubd_metrics_response(UNSUBD_METRICS *um, unsigned status)
{
    char code[8];

    if (um == NULL)
        return;
    snprintf(code, sizeof(code), "%u", status < 1000 ? status : 999);
    metrics_inc(um->requests, METRICS_L(code));
}

/* unsubd_metrics_unsubscribed - count one unsubscribe */
void unsubd_metrics_unsubscribed(UNSUBD_METRICS *um, const char *stream)
{
    if (um != NULL)
        metrics_inc(um->unsubscribes, METRICS_L(unsubd_metrics_stream(&um->domains, stream)));
}

/* unsubd_metrics_store_up - the list answered its last call */
static int unsubd_metrics_store_up(UNSUBD_METRICS *um)
{
    SUPPRESS_STATS st;

    if (um->store == NULL)
        return 1;
    suppress_stats(um->store, &st);
    return st.up;
}

/* unsubd_metrics_collect - the gauge read at scrape time */
static void unsubd_metrics_collect(void *arg)
{
    UNSUBD_METRICS *um = arg;

    metrics_set(um->store_up, 0, unsubd_metrics_store_up(um));
}

/* unsubd_metrics_health - /health */
static int unsubd_metrics_health(void *arg, BUF *reason)
{
    if (unsubd_metrics_store_up(arg))
        return 1;
    (void) util_err(reason, "suppression list: last call failed");
    return 0;
}

/* unsubd_metrics_listen - bind UnsubscribeMetricsListen */
int unsubd_metrics_listen(UNSUBD_METRICS *um, const UNSUBD_CONF *uc)
{
    return metrics_http_bind("UnsubscribeMetricsListen", uc->cf->unsubd.metrics_listen, &um->http);
}

/* unsubd_metrics_serve - answer on the bound socket */
int unsubd_metrics_serve(UNSUBD_METRICS *um, SUPPRESS *store)
{
    um->store = store;
    metrics_on_collect(um->reg, unsubd_metrics_collect, um);
    return metrics_http_serve(um->http, um->reg, unsubd_metrics_health, um);
}

/* unsubd_metrics_free - stop and free */
void unsubd_metrics_free(UNSUBD_METRICS *um)
{
    if (um == NULL)
        return;
    metrics_http_stop(um->http);
    metrics_free(um->reg);
    strv_free(&um->domains);
    free(um);
}

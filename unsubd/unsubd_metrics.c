/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_metrics.c - txmilter-unsubd's metrics and health endpoint
 *
 * SYNOPSIS
 *	#include "unsubd_metrics.h"
 *
 *	UNSUBD_METRICS *unsubd_metrics_new(void)
 *	METRICS * unsubd_metrics_registry(UNSUBD_METRICS *um)
 *	int	unsubd_metrics_listen(UNSUBD_METRICS *um, const UNSUBD_CONF *uc)
 *	int	unsubd_metrics_serve(UNSUBD_METRICS *um, SUPPRESS *store)
 *	void	unsubd_metrics_response(UNSUBD_METRICS *um, unsigned status)
 *	void	unsubd_metrics_unsubscribed(UNSUBD_METRICS *um,
 *			const char *stream)
 *	const char * unsubd_metrics_stream(const char *stream, char *out,
 *			size_t len)
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
 *	/health is 503 "suppression list: last call failed" while the list
 *	does not answer (the endpoint then answers 503 to unsubscribes),
 *	else 200.
 *
 * DIAGNOSTICS
 *	unsubd_metrics_listen() and unsubd_metrics_serve() log why the
 *	endpoint cannot start and return -1; txmilter-unsubd does not start.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics_http.h"
#include "unsubd_metrics.h"

struct unsubd_metrics {
    METRICS *reg;
    METRICS_FAMILY *requests, *unsubscribes, *store_up, *build;
    METRICS_HTTP *http;         /* UnsubscribeMetricsListen, or NULL */
    SUPPRESS *store;
};

/* unsubd_metrics_new - the registry */
UNSUBD_METRICS *unsubd_metrics_new(void)
{
    static const char *const codes[] = {"200", "400", "404", "405", "413", "414", "429", "500", "503"};
    UNSUBD_METRICS *um = xcalloc(1, sizeof(*um));

    um->reg = metrics_new();
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
    return um;
}

METRICS *unsubd_metrics_registry(UNSUBD_METRICS *um)
{
    return um->reg;
}

/* unsubd_metrics_stream - a stream's domain, for its label */
const char *unsubd_metrics_stream(const char *stream, char *out, size_t len)
{
    const char *at = stream ? strrchr(stream, '@') : NULL, *dom = at ? at + 1 : stream;
    size_t n;

    if (dom == NULL || *dom == 0 || (n = strlen(dom)) >= len)
        return METRICS_OTHER;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char) dom[i];

        if (!isalnum(ch) && ch != '.' && ch != '-')
            return METRICS_OTHER;
        out[i] = (char) tolower(ch);
    }
    out[n] = 0;
    return out;
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
    char dom[256];

    if (um != NULL)
        metrics_inc(um->unsubscribes, METRICS_L(unsubd_metrics_stream(stream, dom, sizeof(dom))));
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
    free(um);
}

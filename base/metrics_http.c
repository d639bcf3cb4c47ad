/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics_http.c - the /metrics and /health endpoint (libmicrohttpd)
 *
 * SYNOPSIS
 *	#include "metrics_http.h"
#include "net_listen.h"
 *
 *	int	metrics_http_bind(const char *what, const char *listen,
 *			METRICS_HTTP **out)
 *	int	metrics_http_serve(METRICS_HTTP *h, METRICS *reg,
 *			METRICS_HEALTH_FN health, void *arg)
 *	void	metrics_http_stop(METRICS_HTTP *h)
 *
 * DESCRIPTION
 *	metrics_http_bind() binds the address early (net_listen_tcp(),
 *	before privileges are dropped); metrics_http_serve() starts one
 *	libmicrohttpd thread on it (MetricsListen, UnsubscribeMetricsListen),
 *	which answers:
 *
 *	 - GET or HEAD /metrics: 200 with the registry (metrics_render()),
 *	   in OpenMetrics when the Accept header prefers it
 *	   (metrics_accept_openmetrics()), else the Prometheus text format;
 *	 - GET or HEAD /health: 200 "ok", or 503 with the health check's
 *	   reason, as plain text;
 *	 - any other path 404, any other method 405 with Allow.
 *
 *	A request body is never read. At most METRICS_HTTP_CONN_MAX
 *	connections, each idle for at most METRICS_HTTP_TIMEOUT seconds.
 *	The endpoint has no authentication: bind it to loopback or a
 *	management network.
 *
 * DIAGNOSTICS
 *	metrics_http_bind() logs why an address cannot be bound and
 *	metrics_http_serve() why libmicrohttpd cannot start; both return -1. A scrape that does not fit METRICS_HTTP_BODY_MAX is
 *	answered 500 and logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics_http.h"
#include "net_listen.h"

struct metrics_http {
    struct MHD_Daemon *mhd;
    int     fd;                 /* the bound socket, until libmicrohttpd has it */
    char   *listen;
    char   *what;
    METRICS *reg;
    METRICS_HEALTH_FN health;
    void   *arg;
};

/* metrics_http_reply - queue one response (the body is copied) */
static enum MHD_Result metrics_http_reply(struct MHD_Connection *c, unsigned status, const char *ctype,
                                          const char *body, size_t len, const char *allow)
{
    struct MHD_Response *resp;
    enum MHD_Result ok;

    resp = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES
        || MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES
        || (allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    ok = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* metrics_http_text - a plain-text response */
static enum MHD_Result metrics_http_text(struct MHD_Connection *c, unsigned status, const char *text,
                                         const char *allow)
{
    return metrics_http_reply(c, status, "text/plain; charset=utf-8", text, strlen(text), allow);
}

/* metrics_http_scrape - the registry in the format asked for */
static enum MHD_Result metrics_http_scrape(METRICS_HTTP *h, struct MHD_Connection *c)
{
    int om = metrics_accept_openmetrics(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                                    MHD_HTTP_HEADER_ACCEPT));
    enum MHD_Result ok;
    BUF out;

    buf_init(&out, METRICS_HTTP_BODY_MAX);
    if (metrics_render(h->reg, om, &out) < 0) {
        log_err("%s: the metrics exceed %d bytes; scrape refused", h->what, METRICS_HTTP_BODY_MAX);
        buf_free(&out);
        return metrics_http_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics too large\n", NULL);
    }
    ok = metrics_http_reply(c, MHD_HTTP_OK, om ? METRICS_CT_OPENMETRICS : METRICS_CT_TEXT,
                            out.data ? out.data : "", out.len, NULL);
    buf_free(&out);
    return ok;
}

/* metrics_http_healthz - 200 or 503 with the reason */
static enum MHD_Result metrics_http_healthz(METRICS_HTTP *h, struct MHD_Connection *c)
{
    char reason_mem[512], body[600];
    BUF reason;

    buf_init_fixed(&reason, reason_mem, sizeof(reason_mem));
    if (h->health == NULL || h->health(h->arg, &reason))
        return metrics_http_text(c, MHD_HTTP_OK, "ok\n", NULL);
    snprintf(body, sizeof(body), "unhealthy: %s\n", reason.len ? reason.data : "unknown");
    return metrics_http_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, body, NULL);
}

/* metrics_http_access - one request: answered at its first call */
static enum MHD_Result metrics_http_access(void *cls, struct MHD_Connection *c, const char *url,
                                           const char *method, const char *version,
                                           const char *upload_data, size_t *upload_data_size,
                                           void **req_cls)
{
    METRICS_HTTP *h = cls;

    (void) version;
    (void) upload_data;
    if (*req_cls == NULL) {
        *req_cls = h;                       /* headers seen; answer on the next call */
        return MHD_YES;
    }
    *upload_data_size = 0;                  /* a body is not read */
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return metrics_http_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");
    if (strcmp(url, "/metrics") == 0)
        return metrics_http_scrape(h, c);
    if (strcmp(url, "/health") == 0)
        return metrics_http_healthz(h, c);
    return metrics_http_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /health\n", NULL);
}

/* metrics_http_bind - bind the address now, serve later */
int metrics_http_bind(const char *what, const char *listen, METRICS_HTTP **out)
{
    METRICS_HTTP *h;
    int fd;

    *out = NULL;
    if (listen == NULL)
        return 0;
    if ((fd = net_listen_tcp(what, listen)) < 0)
        return -1;
    h = xcalloc(1, sizeof(*h));
    h->fd = fd;
    h->what = xstrdup(what);
    h->listen = xstrdup(listen);
    *out = h;
    return 0;
}

/* metrics_http_serve - answer on the bound socket */
int metrics_http_serve(METRICS_HTTP *h, METRICS *reg, METRICS_HEALTH_FN health, void *arg)
{
    if (h == NULL)
        return 0;
    h->reg = reg;
    h->health = health;
    h->arg = arg;
    h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_AUTO,
                              0, NULL, NULL, metrics_http_access, h,
                              MHD_OPTION_LISTEN_SOCKET, (MHD_socket) h->fd,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned int) METRICS_HTTP_CONN_MAX,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) METRICS_HTTP_TIMEOUT,
                              MHD_OPTION_END);
    if (h->mhd == NULL) {
        log_err("%s %s: libmicrohttpd cannot start", h->what, h->listen);
        return -1;
    }
    h->fd = -1;                             /* libmicrohttpd's now */
    log_info("metrics on http://%s/metrics, health on /health", h->listen);
    return 0;
}

/* metrics_http_stop - stop and free */
void metrics_http_stop(METRICS_HTTP *h)
{
    MHD_socket fd;

    if (h == NULL)
        return;
    if (h->mhd) {
        fd = MHD_quiesce_daemon(h->mhd);
        MHD_stop_daemon(h->mhd);
        if (fd != MHD_INVALID_SOCKET)
            (void) close(fd);
    }
    if (h->fd >= 0)
        (void) close(h->fd);
    free(h->what);
    free(h->listen);
    free(h);
}

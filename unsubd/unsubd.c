/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd.c - the one-click unsubscribe endpoint (RFC 8058)
 *
 * SYNOPSIS
 *	#include "unsubd.h"
 *
 *	int	unsubd_listen(const UNSUBD_CONF *uc)
 *	UNSUBD	*unsubd_start(const UNSUBD_CONF *uc, int fd, UNSUB_KEYS *keys,
 *			      UNSUBD_PAGES *pages, SUPPRESS *store,
 *			      UNSUBD_METRICS *metrics)
 *	int	unsubd_reload_keys(UNSUBD *d)
 *	int	unsubd_reload_pages(UNSUBD *d)
 *	void	unsubd_stop(UNSUBD *d, int timeout)
 *
 * DESCRIPTION
 *	unsubd_listen() binds UnsubscribeListen ("*" as the host: every
 *	address) while the process may still bind any port.
 *
 *	unsubd_start() runs libmicrohttpd with UNSUBD_THREADS threads, at
 *	most UNSUBD_CONN_MAX connections, UNSUBD_CONN_TIMEOUT seconds of
 *	idling, and no listening socket of its own: the gate
 *	(unsubd_gate.c) accepts on fd and hands it only whole requests that
 *	unsubd_head_check() found well-formed, one per connection (every
 *	answer says Connection: close); it answers the others itself. The
 *	path is taken as received (MHD_OPTION_URI_LOG_CALLBACK), never as
 *	libmicrohttpd decodes it. Every request:
 *
 *	 - counts against the client's rate (UnsubscribeRateLimit, the
 *	   embedded rate store of policy/, keyed per address, IPv6 per /64;
 *	   the client is the peer, or X-Forwarded-For from a trusted proxy):
 *	   over it, 429 with Retry-After;
 *	 - path longer than UNSUBD_URL_MAX: 414; a method other than GET,
 *	   HEAD, POST: 405 with Allow; a path other than /u/TOKEN: 404;
 *	 - a token that unsub_token_open() refuses (malformed, unknown key,
 *	   bad tag, older than UnsubscribeMaxAge): 400, nothing stored; a
 *	   person sees the error page (GET, HEAD, or a POST whose Accept
 *	   asks for HTML), a machine a line of text;
 *	 - GET or HEAD: 200 with the confirmation page (unsubd_page.c), in
 *	   the language Accept-Language prefers; nothing is stored,
 *	   whatever the request holds (link scanners);
 *	 - POST: a body over UNSUBD_BODY_MAX is 413 (at once when
 *	   Content-Length says so; otherwise after the body, of which at
 *	   most 64 KB is read before the connection is closed); a body that
 *	   is not List-Unsubscribe=One-Click (urlencoded or multipart, as
 *	   libmicrohttpd's post processor reads it, fed as the body comes) is
 *	   400; otherwise suppress_add(rcpt, stream, "http") and 200. Adding
 *	   is idempotent, so a repeated POST is 200 again. A store that
 *	   cannot record it: 503 with Retry-After, so that the receiver
 *	   tries again; the suppression is never reported as done when it
 *	   was not. The answer is the result page when Accept asks for HTML
 *	   (the page's own button, in a browser), else one line of text (the
 *	   RFC 8058 POST of a mailbox provider: nothing to render).
 *	No answer is ever a redirect. Every answer carries Cache-Control:
 *	no-store, Referrer-Policy: no-referrer (the token is in the URL),
 *	X-Frame-Options and a Content-Security-Policy that forbid framing
 *	(the button must not be clickjacked) and any outside resource (a
 *	page's policy allows its own <style> elements by hash),
 *	Permissions-Policy (no camera, microphone, location, payment...)
 *	and Cross-Origin-Opener-Policy: same-origin. Pages carry
 *	Content-Language.
 *
 *	One log line per request (info for 2xx, warning otherwise):
 *	  client=IP method=M path=/u/PREFIX... status=N result=WHAT [details]
 *	The path keeps UNSUBD_TOKEN_PREFIX characters of a token: a log line
 *	never lets its reader unsubscribe anybody. An unsubscribe logs the
 *	stream (the sender's address), the recipient's domain, and
 *	rcpt_hash: the first 16 hex digits of SHA-256 of the normalised
 *	recipient, so that an operator can answer "did X unsubscribe?" with
 *	  printf %s x@example.org | sha256sum | cut -c1-16
 *	without the log holding anybody's address (txmilterctl suppress
 *	list holds the authoritative answer).
 *
 *	unsubd_reload_keys() loads the key file again and swaps the keys
 *	under a write lock; requests hold the read lock while they open a
 *	token. A file that does not load leaves the running keys alone.
 *	unsubd_reload_pages() does the same for UnsubscribeTemplateDirectory.
 *
 *	unsubd_stop() stops accepting (MHD_quiesce_daemon), waits until no
 *	request is between its first byte and its answer, or until timeout,
 *	then stops libmicrohttpd (idle keep-alive connections close).
 *
 * DIAGNOSTICS
 *	Problems of the environment (store, key file, libmicrohttpd) are
 *	logged; bad requests are answered and logged, never fatal.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/evp.h>

#include "log.h"
#include "net_listen.h"
#include "rate_store.h"
#include "rate_store_mem.h"
#include "unsubd.h"
#include "unsubd_answer.h"
#include "unsubd_gate.h"
#include "unsubd_http.h"
#include "unsubd_lang.h"
#include "unsubd_page.h"

#define UNSUBD_DISCARD_MAX   (64 * 1024) /* body bytes read before giving up on a client */
#define UNSUBD_HDR_MEMORY    (64 * 1024) /* libmicrohttpd memory per connection: more than
                                           * the gate lets through, so that it never refuses */
#define UNSUBD_RATE_KEYS     100000      /* client addresses the limiter remembers */
#define UNSUBD_RETRY_STORE   60          /* Retry-After when the store is down */
#define UNSUBD_PP_BUFFER     1024        /* the post processor's buffer (at least 256) */

struct unsubd {
    const UNSUBD_CONF *uc;
    struct MHD_Daemon *mhd;
    int     fd;
    pthread_rwlock_t keys_lock;
    UNSUB_KEYS *keys;
    pthread_rwlock_t pages_lock;
    UNSUBD_PAGES *pages;
    SUPPRESS *store;
    RATE_STORE *rate;
    RATE_RULE rule;
    UNSUBD_GATE *gate;          /* accepts, checks whole requests, hands them to mhd */
    atomic_int inflight;
    UNSUBD_METRICS *metrics;    /* counters (unsubd_metrics.c), or NULL */
};

/* One request. */
typedef struct unsubd_req {
    char    raw[UNSUBD_URL_MAX + 2];    /* the path as received (before decoding), query cut off */
    int     begun;                      /* unsubd_begin() ran */
    char    client[UNSUBD_IP_MAX];
    char    path[UNSUBD_LOGPATH_MAX];
    char    method[8];
    int     answered;           /* a response is queued (and logged) */
    int     is_post;
    int     html;               /* a person: answer with a page */
    int     lang;               /* the page's language (unsubd_text_langs[]) */
    char    csp[UNSUBD_CSP_MAX];    /* a page's policy; "": the plain one */
    size_t  seen;               /* body bytes received */
    struct MHD_PostProcessor *pp;   /* the form parser of a POST; NULL: not a form */
    int     body_bad;           /* the post processor refused the body */
    UNSUBD_FORM form;           /* what it found */
    UNSUB_PAYLOAD p;            /* the token's contents */
    UNSUBD_METRICS *metrics;    /* where its answer is counted, or NULL */
} UNSUBD_REQ;

/* unsubd_listen - bind and listen */
int unsubd_listen(const UNSUBD_CONF *uc)
{
    return net_listen_tcp("UnsubscribeListen", uc->listen);
}

/* unsubd_mhd_log - libmicrohttpd's own complaints, as warnings */
static void unsubd_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[1024];
    size_t n;

    (void) cls;
    if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
        return;
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    log_warn("libmicrohttpd: %s", line);
}

/* unsubd_rcpt_hash - 16 hex digits of SHA-256(rcpt) */
static void unsubd_rcpt_hash(const char *rcpt, char out[17])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";

    if (EVP_Digest(rcpt, strlen(rcpt), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 8) {
        (void) util_strlcpy(out, "-", 17);
        return;
    }
    for (int i = 0; i < 8; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[16] = 0;
}

/* unsubd_respond - queue one answer and write the request's log line */
static enum MHD_Result unsubd_respond(struct MHD_Connection *c, UNSUBD_REQ *r, unsigned status,
                                      const char *ctype, const char *body, const char *hname,
                                      const char *hvalue, const char *result)
{
    struct MHD_Response *resp;
    enum MHD_Result ok = MHD_YES;

    resp = MHD_create_response_from_buffer(strlen(body), (void *) body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        log_err("client=%s method=%s path=%s: cannot allocate a response", r->client, r->method, r->path);
        return MHD_NO;
    }
    for (const UNSUBD_HEADER *h = unsubd_answer_headers; h->name && ok == MHD_YES; h++)
        ok = MHD_add_response_header(resp, h->name, h->value);
    if (ok != MHD_YES
        || MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES
        || MHD_add_response_header(resp, "Content-Security-Policy",
                                   r->csp[0] ? r->csp : UNSUBD_CSP_TEXT) != MHD_YES
        || (r->csp[0] && MHD_add_response_header(resp, "Content-Language",
                                                 unsubd_text_langs[r->lang]) != MHD_YES)
        || (hname && MHD_add_response_header(resp, hname, hvalue) != MHD_YES)) {
        log_err("client=%s method=%s path=%s: cannot add response headers", r->client, r->method, r->path);
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    ok = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    r->answered = 1;
    unsubd_metrics_response(r->metrics, status);
    if (status < 400)
        log_info("client=%s method=%s path=%s status=%u result=%s", r->client, r->method, r->path,
                 status, result);
    else
        log_warn("client=%s method=%s path=%s status=%u result=%s", r->client, r->method, r->path,
                 status, result);
    return ok;
}

/* unsubd_text - a plain-text answer */
static enum MHD_Result unsubd_text(struct MHD_Connection *c, UNSUBD_REQ *r, unsigned status,
                                   const char *body, const char *result)
{
    return unsubd_respond(c, r, status, "text/plain; charset=utf-8", body, NULL, NULL, result);
}

/* unsubd_page - a page for a person (the text answer for a machine) */
static enum MHD_Result unsubd_page(UNSUBD *d, struct MHD_Connection *c, UNSUBD_REQ *r, unsigned status,
                                   enum unsubd_page_kind kind, const char *text, const char *hname,
                                   const char *hvalue, const char *result)
{
    char masked[UNSUB_FIELD_MAX + 8];
    const char *stream = NULL;
    enum MHD_Result ok;
    BUF page;
    int rc;

    if (!r->html)
        return unsubd_respond(c, r, status, "text/plain; charset=utf-8", text, hname, hvalue, result);
    if (kind == UNSUBD_PAGE_CONFIRM || kind == UNSUBD_PAGE_DONE) {
        unsubd_http_mask(r->p.rcpt, masked, sizeof(masked));
        stream = r->p.stream;
    }
    buf_init(&page, UNSUBD_PAGE_MAX);
    if (pthread_rwlock_rdlock(&d->pages_lock) != 0) {
        rc = -1;
    } else {
        rc = unsubd_page_render(d->pages, kind, r->lang, stream, stream ? masked : NULL, &page,
                                r->csp, sizeof(r->csp));
        (void) pthread_rwlock_unlock(&d->pages_lock);
    }
    if (rc < 0) {
        r->csp[0] = 0;
        log_err("client=%s path=%s: the page does not fit in %d bytes", r->client, r->path, UNSUBD_PAGE_MAX);
        ok = unsubd_respond(c, r, status, "text/plain; charset=utf-8", text, hname, hvalue, result);
    } else {
        ok = unsubd_respond(c, r, status, "text/html; charset=utf-8", page.data, hname, hvalue, result);
    }
    buf_free(&page);
    return ok;
}

/* unsubd_xff_line - append one X-Forwarded-For line to the joined list */
static enum MHD_Result unsubd_xff_line(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    BUF *b = cls;

    (void) kind;
    if (key != NULL && value != NULL && strcasecmp(key, "X-Forwarded-For") == 0
        && ((b->len > 0 && buf_puts(b, ",") < 0) || buf_puts(b, value) < 0))
        return MHD_NO;                      /* over the bound: keep what is there */
    return MHD_YES;
}

/* unsubd_client - who the client is: the peer, or (with_xff) from a
 * trusted proxy the right end of all its X-Forwarded-For lines, joined in
 * order */
static void unsubd_client(UNSUBD *d, struct MHD_Connection *c, int with_xff, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char peer[UNSUBD_IP_MAX] = "";
    BUF xff;

    if (ci != NULL && ci->client_addr != NULL
        && getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6
                       ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
                       peer, sizeof(peer), NULL, 0, NI_NUMERICHOST) != 0)
        peer[0] = 0;
    buf_init(&xff, UNSUBD_HDR_MEMORY);
    if (with_xff && d->uc->trusted != NULL)
        (void) MHD_get_connection_values(c, MHD_HEADER_KIND, unsubd_xff_line, &xff);
    unsubd_http_client(peer[0] ? peer : NULL, xff.len > 0 ? xff.data : NULL, d->uc->trusted, out, outlen);
    buf_free(&xff);
}

/* unsubd_rate - charge the client; 0 allowed, else seconds to wait */
static unsigned long unsubd_rate(UNSUBD *d, const UNSUBD_REQ *r)
{
    RATE_STORE_ITEM item;
    RATE_STORE_RESULT res;
    int accepted = 0;
    uint64_t stamp;

    item.rule = &d->rule;
    unsubd_http_ratekey(r->client, item.key, sizeof(item.key));
    if (d->rate->ops->decide(d->rate, &item, 1, &res, &accepted, &stamp) != RATE_STORE_OK)
        return 0;                           /* a bug, logged by the store: do not lock anybody out */
    if (accepted)
        return 0;
    return res.wait_ms >= 1000 ? (unsigned long) ((res.wait_ms + 999) / 1000) : 1;
}

/* unsubd_open_token - verify the token under the keys' read lock */
static int unsubd_open_token(UNSUBD *d, const char *token, UNSUB_PAYLOAD *p, BUF *err)
{
    int rc;

    if (pthread_rwlock_rdlock(&d->keys_lock) != 0)
        return util_err(err, "internal error (lock)");
    rc = unsub_token_open(d->keys, token, d->uc->max_age, (uint64_t) time(NULL), p, err);
    (void) pthread_rwlock_unlock(&d->keys_lock);
    return rc;
}

/* unsubd_uri - the request line is in: keep the path as received, before
 * libmicrohttpd decodes %XX in it (a decoded "%00" would cut it short) */
static void *unsubd_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    UNSUBD *d = cls;
    UNSUBD_REQ *r = xcalloc(1, sizeof(*r));
    size_t n = strcspn(uri ? uri : "", "?");

    r->metrics = d->metrics;
    if (n > UNSUBD_URL_MAX)
        n = UNSUBD_URL_MAX + 1;             /* too long: 414, and this much is enough to say so */
    memcpy(r->raw, uri ? uri : "", n);
    r->raw[n] = 0;
    /* For the log line of a request that libmicrohttpd refuses before unsubd_begin(). */
    unsubd_client(d, c, 0, r->client, sizeof(r->client));
    unsubd_http_logpath(r->raw, r->path, sizeof(r->path));
    (void) util_strlcpy(r->method, "-", sizeof(r->method));
    atomic_fetch_add(&d->inflight, 1);
    return r;
}

/* unsubd_form_field - the post processor's piece of a field's value */
static enum MHD_Result unsubd_form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *filename, const char *content_type,
                                         const char *transfer_encoding, const char *data,
                                         uint64_t off, size_t size)
{
    UNSUBD_REQ *r = cls;

    (void) kind, (void) filename, (void) content_type, (void) transfer_encoding;
    unsubd_http_form_feed(&r->form, key, off, data, size);
    return MHD_YES;
}

/* unsubd_begin - the request line and headers are in: answer now if we can */
static enum MHD_Result unsubd_begin(UNSUBD *d, struct MHD_Connection *c, UNSUBD_REQ *r,
                                    const char *url, const char *method)
{
    char why_mem[128], result[256], retry[24];
    const char *token, *clen;
    unsigned long wait;
    BUF why;

    unsubd_client(d, c, 1, r->client, sizeof(r->client));
    (void) url;                             /* decoded by libmicrohttpd: never looked at */
    unsubd_http_logpath(r->raw, r->path, sizeof(r->path));
    (void) snprintf(r->method, sizeof(r->method), "%.7s", method);
    r->is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    r->lang = unsubd_page_lang(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language"));
    r->html = !r->is_post
        || unsubd_lang_wants_html(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));

    if ((wait = unsubd_rate(d, r)) > 0) {
        (void) snprintf(retry, sizeof(retry), "%lu", wait);
        (void) snprintf(result, sizeof(result), "rate-limited retry=%lus", wait);
        return unsubd_respond(c, r, MHD_HTTP_TOO_MANY_REQUESTS, "text/plain; charset=utf-8",
                              "Too many requests; please try again later.\n", MHD_HTTP_HEADER_RETRY_AFTER,
                              retry, result);
    }
    if (strlen(r->raw) > UNSUBD_URL_MAX)
        return unsubd_text(c, r, MHD_HTTP_URI_TOO_LONG, "Request URI too long.\n", "uri-too-long");
    if (!r->is_post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return unsubd_respond(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                              "Method not allowed.\n", MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST",
                              "method-not-allowed");
    switch (unsubd_http_path(r->raw, &token)) {
    case UNSUBD_PATH_OTHER:
        return unsubd_text(c, r, MHD_HTTP_NOT_FOUND, "Not found.\n", "not-found");
    case UNSUBD_PATH_BADTOKEN:
        return unsubd_page(d, c, r, MHD_HTTP_BAD_REQUEST, UNSUBD_PAGE_INVALID,
                           "This unsubscribe link is not valid.\n", NULL, NULL, "bad-token reason=\"malformed\"");
    case UNSUBD_PATH_TOKEN:
        break;
    }
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if (unsubd_open_token(d, token, &r->p, &why) < 0) {
        (void) snprintf(result, sizeof(result), "bad-token reason=\"%s\"", why.data);
        return unsubd_page(d, c, r, MHD_HTTP_BAD_REQUEST, UNSUBD_PAGE_INVALID,
                           "This unsubscribe link is not valid or has expired.\n", NULL, NULL, result);
    }
    if (!r->is_post)
        return unsubd_page(d, c, r, MHD_HTTP_OK, UNSUBD_PAGE_CONFIRM, "", NULL, NULL, "confirm-page");
    clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (clen != NULL && (strlen(clen) > 9 || strtoul(clen, NULL, 10) > UNSUBD_BODY_MAX))
        return unsubd_text(c, r, MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large.\n", "body-too-large");
    switch (unsubd_http_form_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                              MHD_HTTP_HEADER_CONTENT_TYPE))) {
    case UNSUBD_FORM_URLENCODED:
    case UNSUBD_FORM_MULTIPART:             /* NULL without a usable boundary */
        r->pp = MHD_create_post_processor(c, UNSUBD_PP_BUFFER, unsubd_form_field, r);
        break;
    default:
        break;
    }
    return MHD_YES;                         /* read the body */
}

/* unsubd_finish - a POST with its whole body */
static enum MHD_Result unsubd_finish(UNSUBD *d, struct MHD_Connection *c, UNSUBD_REQ *r)
{
    char why_mem[128], result[1024], hash[17], err[512];
    const char *at;
    BUF why, e;
    int rc;

    if (r->seen > UNSUBD_BODY_MAX)
        return unsubd_text(c, r, MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large.\n", "body-too-large");
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if (r->pp == NULL)
        (void) util_err(&why, "%s",
                        unsubd_http_form_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                              MHD_HTTP_HEADER_CONTENT_TYPE)) == UNSUBD_FORM_MULTIPART
                        ? "multipart body without a usable boundary" : "not a form (Content-Type)");
    else if (MHD_destroy_post_processor(r->pp) != MHD_YES || r->body_bad)
        (void) util_err(&why, "malformed form body");
    r->pp = NULL;
    if (why.len != 0 || !unsubd_http_form_done(&r->form, &why)) {
        (void) snprintf(result, sizeof(result), "bad-body reason=\"%s\"", why.data);
        return unsubd_text(c, r, MHD_HTTP_BAD_REQUEST,
                           "Bad request: the body must be List-Unsubscribe=One-Click (RFC 8058).\n", result);
    }
    buf_init(&e, 400);
    rc = suppress_add(d->store, r->p.rcpt, r->p.stream, "http", &e);    /* thread-safe */
    (void) snprintf(err, sizeof(err), "%s", e.data ? e.data : "");
    buf_free(&e);
    unsubd_rcpt_hash(r->p.rcpt, hash);
    at = strrchr(r->p.rcpt, '@');
    if (rc < 0) {
        char retry[16];

        log_err("client=%s path=%s: suppression not stored: %s", r->client, r->path, err);
        (void) snprintf(retry, sizeof(retry), "%d", UNSUBD_RETRY_STORE);
        (void) snprintf(result, sizeof(result), "store-error stream=%s rcpt_domain=%s rcpt_hash=%s",
                        r->p.stream, at ? at + 1 : "-", hash);
        return unsubd_page(d, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, UNSUBD_PAGE_UNAVAILABLE,
                           "The unsubscribe could not be recorded right now; please try again later.\n",
                           MHD_HTTP_HEADER_RETRY_AFTER, retry, result);
    }
    (void) snprintf(result, sizeof(result), "unsubscribed stream=%s rcpt_domain=%s rcpt_hash=%s key=%u age=%llds",
                    r->p.stream, at ? at + 1 : "-", hash, r->p.key_id,
                    (long long) time(NULL) - (long long) r->p.issued);
    unsubd_metrics_unsubscribed(d->metrics, r->p.stream);
    return unsubd_page(d, c, r, MHD_HTTP_OK, UNSUBD_PAGE_DONE, "You have been unsubscribed.\n", NULL, NULL,
                       result);
}

/* unsubd_access - libmicrohttpd's request handler */
static enum MHD_Result unsubd_access(void *cls, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version, const char *data,
                                     size_t *data_size, void **con_cls)
{
    UNSUBD *d = cls;
    UNSUBD_REQ *r = *con_cls;

    (void) version;
    if (r == NULL)                          /* unsubd_uri() made it; a bug otherwise */
        return MHD_NO;
    if (!r->begun) {
        r->begun = 1;
        return unsubd_begin(d, c, r, url, method);
    }
    if (*data_size > 0) {
        if (!r->answered && r->pp != NULL && r->seen + *data_size <= UNSUBD_BODY_MAX
            && MHD_post_process(r->pp, data, *data_size) != MHD_YES)
            r->body_bad = 1;
        r->seen += *data_size;
        *data_size = 0;
        return r->seen > UNSUBD_DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (r->answered)
        return MHD_YES;
    if (!r->is_post)                        /* answered in unsubd_begin() */
        return MHD_NO;
    return unsubd_finish(d, c, r);
}

/* unsubd_completed - the request is over: log an abandoned one, free it */
static void unsubd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                             enum MHD_RequestTerminationCode toe)
{
    UNSUBD *d = cls;
    UNSUBD_REQ *r = *con_cls;

    (void) c;
    if (r == NULL)
        return;
    if (!r->answered)
        log_warn("client=%s method=%s path=%s status=- result=aborted reason=%s", r->client, r->method,
                 r->path, toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
                 : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client-closed"
                 : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutdown"
                 : r->seen > UNSUBD_DISCARD_MAX ? "body-too-large" : "error");
    if (r->pp != NULL)
        (void) MHD_destroy_post_processor(r->pp);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&d->inflight, 1);
}

/* unsubd_connection - libmicrohttpd opened or closed a connection the gate handed over */
static void unsubd_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    UNSUBD *d = cls;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

    (void) socket_context;
    if (d->gate == NULL)                    /* cannot be: only the gate hands connections over */
        return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        unsubd_gate_opened(d->gate);
    else
        unsubd_gate_closed(d->gate, ci != NULL ? ci->connect_fd : -1);
}

/* unsubd_free - what unsubd_start() allocated besides libmicrohttpd */
static void unsubd_free(UNSUBD *d)
{
    d->rate->ops->free(d->rate);
    strv_free(&d->rule.exempt_rcpt);
    strv_free(&d->rule.exempt_sender);
    strv_free(&d->rule.exempt_client_list);
    strv_free(&d->rule.exempt_auth);
    (void) pthread_rwlock_destroy(&d->keys_lock);
    (void) pthread_rwlock_destroy(&d->pages_lock);
    free(d);
}

/* unsubd_start - run libmicrohttpd */
UNSUBD *unsubd_start(const UNSUBD_CONF *uc, int fd, UNSUB_KEYS *keys, UNSUBD_PAGES *pages,
                     SUPPRESS *store, UNSUBD_METRICS *metrics)
{
    UNSUBD *d = xcalloc(1, sizeof(*d));

    d->metrics = metrics;
    d->uc = uc;
    d->fd = fd;
    d->keys = keys;
    d->pages = pages;
    d->store = store;
    atomic_init(&d->inflight, 0);
    (void) util_strlcpy(d->rule.name, "unsubd-client", sizeof(d->rule.name));
    d->rule.keys = RATE_KEY_CLIENT_IP;
    d->rule.v4len = 32;
    d->rule.v6len = 64;
    d->rule.limit = uc->rate_limit;
    d->rule.period_ms = uc->rate_period_ms;
    d->rule.action = RATE_ACTION_TEMPFAIL;
    strv_init(&d->rule.exempt_rcpt);
    strv_init(&d->rule.exempt_sender);
    strv_init(&d->rule.exempt_client_list);
    strv_init(&d->rule.exempt_auth);
    if (pthread_rwlock_init(&d->keys_lock, NULL) != 0 || pthread_rwlock_init(&d->pages_lock, NULL) != 0)
        log_fatal("cannot initialise locks");
    d->rate = rate_store_mem_new(UNSUBD_RATE_KEYS, NULL);
    d->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG
                              | MHD_USE_AUTO | MHD_USE_NO_LISTEN_SOCKET,
                              0, NULL, NULL, unsubd_access, d,
                              MHD_OPTION_EXTERNAL_LOGGER, unsubd_mhd_log, NULL,   /* first */
                              MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) UNSUBD_THREADS,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned int) UNSUBD_CONN_MAX,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) UNSUBD_CONN_TIMEOUT,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) UNSUBD_HDR_MEMORY,
                              MHD_OPTION_NOTIFY_COMPLETED, unsubd_completed, d,
                              MHD_OPTION_URI_LOG_CALLBACK, unsubd_uri, d,
                              MHD_OPTION_NOTIFY_CONNECTION, unsubd_connection, d,
                              MHD_OPTION_END);
    if (d->mhd == NULL) {
        log_err("libmicrohttpd cannot start on %s", uc->listen);
        unsubd_free(d);                     /* the caller still owns keys and pages */
        return NULL;
    }
    if (unsubd_gate_start(fd, d->mhd, uc->trusted, metrics, &d->gate) == NULL) {
        MHD_stop_daemon(d->mhd);            /* no connection was handed over */
        unsubd_free(d);
        return NULL;
    }
    log_info("listening on %s (rate limit %u per %llu s per client; trusted proxies %s)",
             uc->listen, uc->rate_limit, (unsigned long long) (uc->rate_period_ms / 1000),
             uc->trusted ? "configured" : "none");
    return d;
}

/* unsubd_reload_keys - SIGHUP */
int unsubd_reload_keys(UNSUBD *d)
{
    UNSUB_KEYS *k, *old;
    BUF errs;

    buf_init(&errs, 16 * 1024);
    if ((k = unsub_keys_load(d->uc->keyfile, &errs)) == NULL) {
        log_err("reload: keys in %s not loaded; the previous keys stay in force:", d->uc->keyfile);
        log_err_lines(errs.data);
        buf_free(&errs);
        return -1;
    }
    buf_free(&errs);
    if (pthread_rwlock_wrlock(&d->keys_lock) != 0) {
        log_err("reload: cannot lock the keys; the previous keys stay in force");
        unsub_keys_free(k);
        return -1;
    }
    old = d->keys;
    d->keys = k;
    (void) pthread_rwlock_unlock(&d->keys_lock);
    unsub_keys_free(old);
    log_info("reload: keys loaded from %s", d->uc->keyfile);
    return 0;
}

/* unsubd_reload_pages - SIGHUP: UnsubscribeTemplateDirectory again */
int unsubd_reload_pages(UNSUBD *d)
{
    UNSUBD_PAGES *ps, *old;
    BUF errs;

    if (d->uc->template_dir == NULL)
        return 0;                           /* the built-in pages do not change */
    buf_init(&errs, 64 * 1024);
    if ((ps = unsubd_conf_pages(d->uc, &errs)) == NULL) {
        log_err("reload: templates in %s not loaded; the previous pages stay in force:", d->uc->template_dir);
        log_err_lines(errs.data);
        buf_free(&errs);
        return -1;
    }
    buf_free(&errs);
    if (pthread_rwlock_wrlock(&d->pages_lock) != 0) {
        log_err("reload: cannot lock the pages; the previous pages stay in force");
        unsubd_page_free(ps);
        return -1;
    }
    old = d->pages;
    d->pages = ps;
    (void) pthread_rwlock_unlock(&d->pages_lock);
    unsubd_page_free(old);
    log_info("reload: %d template(s) loaded from %s", unsubd_page_count(ps), d->uc->template_dir);
    return 0;
}

/* unsubd_stop - graceful shutdown */
void unsubd_stop(UNSUBD *d, int timeout)
{
    time_t deadline = time(NULL) + timeout;
    int n;

    unsubd_gate_quiesce(d->gate);           /* the listening socket closes */
    n = atomic_load(&d->inflight) + unsubd_gate_busy(d->gate);
    if (n > 0)
        log_info("shutting down: %d request(s) in flight, waiting up to %d s", n, timeout);
    while ((n = atomic_load(&d->inflight) + unsubd_gate_busy(d->gate)) > 0 && time(NULL) < deadline) {
        struct timespec ts = {0, 20 * 1000 * 1000};

        nanosleep(&ts, NULL);
    }
    if (n > 0)
        log_warn("shutting down with %d request(s) unanswered", n);
    unsubd_gate_stop(d->gate);              /* hands nothing over any more */
    MHD_stop_daemon(d->mhd);                /* its close callbacks still count in the gate */
    unsubd_gate_free(d->gate);
    d->gate = NULL;
    unsub_keys_free(d->keys);
    unsubd_page_free(d->pages);
    unsubd_free(d);
}

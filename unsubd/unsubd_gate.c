/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_gate.c - txmilter-unsubd's front door
 *
 * SYNOPSIS
 *	#include "unsubd_gate.h"
 *
 *	UNSUBD_GATE *unsubd_gate_start(int listen_fd, struct MHD_Daemon *mhd,
 *				       const NETLIST *trusted, UNSUBD_METRICS *metrics,
 *				       UNSUBD_GATE **slot)
 *	void	unsubd_gate_opened(UNSUBD_GATE *g)
 *	void	unsubd_gate_closed(UNSUBD_GATE *g, int fd)
 *	void	unsubd_gate_quiesce(UNSUBD_GATE *g)
 *	int	unsubd_gate_busy(UNSUBD_GATE *g)
 *	void	unsubd_gate_stop(UNSUBD_GATE *g)
 *	void	unsubd_gate_free(UNSUBD_GATE *g)
 *
 * DESCRIPTION
 *	One thread accepts every connection and watches it (epoll,
 *	edge-triggered) until the client has sent a whole request: it looks
 *	at the bytes with MSG_PEEK, so they stay in the socket, and asks
 *	unsubd_head_check() about them. A whole, well-formed request goes to
 *	libmicrohttpd with MHD_add_connection(), which then finds it complete
 *	in the socket: libmicrohttpd never waits for a slow client and never
 *	answers a malformed request by itself. Since every answer says
 *	Connection: close, a connection carries one request, so nothing
 *	reaches libmicrohttpd unchecked. The gate answers by itself, with
 *	unsubd_answer_raw() and one log line in the format of unsubd.c:
 *
 *	 - a request that unsubd_head_check() refuses: its status (400, 411,
 *	   413, 414, 417, 431, 505);
 *	 - a request not whole UNSUBD_GATE_DEADLINE seconds after the
 *	   connection was accepted (header fields and body together, however
 *	   slowly they trickle): 408; a connection that sent nothing by then
 *	   is closed without an answer;
 *	 - a client address (IPv6: its /64) with UNSUBD_GATE_PER_CLIENT
 *	   connections open already, here or in libmicrohttpd: 429 at once,
 *	   with Retry-After (slowloris from one address cannot take the slots others need);
 *	   the trusted proxy is exempt;
 *	 - a whole request from the trusted proxy whose client (its
 *	   X-Forwarded-For, read by unsubd_http_client() as unsubd.c reads
 *	   it; IPv6: its /64) has UNSUBD_GATE_PER_CLIENT requests in
 *	   libmicrohttpd already: 429 with Retry-After, logged under that
 *	   client, as unsubd.c would. Counting them here, and not once a
 *	   request thread of libmicrohttpd takes them, is what lets the limit
 *	   be reached: one client behind the proxy cannot queue more than its
 *	   share, while the proxy's other clients still get through;
 *	 - UNSUBD_GATE_PENDING requests being received already: 503.
 *	After an answer it shuts its side, reads and drops what the client
 *	still sends for up to two seconds (so the answer is not lost to a
 *	reset), and closes. A client that sends "Expect: 100-continue" gets
 *	its 100 once the header fields are in.
 *
 *	unsubd_gate_quiesce() closes the listening socket; requests begun go
 *	on, and unsubd_gate_busy() counts them, so that a shutdown can wait
 *	for them. unsubd_gate_stop() ends the thread (nothing is handed over
 *	after it), unsubd_gate_free() frees the gate once libmicrohttpd,
 *	whose callbacks use it, has stopped.
 *
 * DIAGNOSTICS
 *	Refusals are logged as warnings (client=IP method=M path=P
 *	status=N result=WHAT) and counted in txmilter_unsubd_requests_total
 *	like every other answer; a client that closes mid-request is logged as
 *	result=aborted. Problems of the system (epoll, accept, the thread)
 *	are logged as errors.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "unsubd_answer.h"
#include "unsubd_gate.h"
#include "unsubd_head.h"
#include "unsubd_http.h"
#include "unsubd_metrics.h"
#include "util.h"

#define UNSUBD_GATE_LINGER_MS  2000     /* reading what follows an answer */
#define UNSUBD_GATE_EVENTS     64
#define UNSUBD_GATE_CLIENTS    (UNSUBD_GATE_PENDING + 1024)    /* addresses counted at once */

enum unsubd_gate_state { GATE_READING, GATE_CLOSING };

/* One connection the gate holds. */
typedef struct unsubd_conn {
    int     fd;
    enum unsubd_gate_state state;
    struct sockaddr_storage sa;
    socklen_t salen;
    char    ip[UNSUBD_IP_MAX];
    char    key[UNSUBD_IP_MAX + 16];    /* counted as; "" for the trusted proxy */
    long long deadline_ms;
    size_t  got;                        /* bytes the client has sent */
    int     continued;                  /* 100 Continue sent */
} UNSUBD_CONN;

/* A connection handed to libmicrohttpd, counted for its client until it closes. */
typedef struct unsubd_handed {
    int     fd;
    char    key[UNSUBD_IP_MAX + 16];
} UNSUBD_HANDED;

/* Connections per client address. */
typedef struct unsubd_count {
    char    key[UNSUBD_IP_MAX + 16];
    unsigned n;
} UNSUBD_COUNT;

struct unsubd_gate {
    int     lfd, ep, wake;
    struct MHD_Daemon *mhd;
    const NETLIST *trusted;
    UNSUBD_METRICS *metrics;            /* where its answers are counted, or NULL */
    pthread_t thread;
    atomic_int stopping, quiesce, busy, listening;
    atomic_int handing;                 /* given to libmicrohttpd, not yet opened there */
    atomic_int mhd_open;                /* open in libmicrohttpd: each a request in flight */
    UNSUBD_CONN *conns[UNSUBD_GATE_PENDING];
    size_t  nconns;
    pthread_mutex_t lock;               /* counts, nclients */
    UNSUBD_COUNT counts[UNSUBD_GATE_CLIENTS];
    size_t  ncounts;
    UNSUBD_HANDED handed[UNSUBD_GATE_CLIENTS];  /* under lock too */
    size_t  nhanded;
    char    peek[UNSUBD_HEAD_WHOLE + 2];
};

static const char unsubd_gate_listen_tag, unsubd_gate_wake_tag;

/* unsubd_gate_now - monotonic milliseconds */
static long long unsubd_gate_now(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* unsubd_gate_key - the counting key of an address ("" if trusted) and its text */
static void unsubd_gate_key(const UNSUBD_GATE *g, const struct sockaddr *sa, char *ip, size_t iplen,
                            char *key, size_t keylen)
{
    char host[UNSUBD_IP_MAX] = "";

    if (getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
                    host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
        host[0] = 0;
    unsubd_http_client(host[0] ? host : NULL, NULL, NULL, ip, iplen);
    if (g->trusted != NULL && netlist_match_str(g->trusted, ip, NULL))
        key[0] = 0;
    else
        unsubd_http_ratekey(ip, key, keylen);
}

/* unsubd_gate_count - change key's count by delta (under the lock); with
 * a limit, -1 and no change when it would go over */
static int unsubd_gate_count(UNSUBD_GATE *g, const char *key, int delta, unsigned limit)
{
    size_t i;
    int rc = 0;

    if (key[0] == 0)
        return 0;
    (void) pthread_mutex_lock(&g->lock);
    for (i = 0; i < g->ncounts && strcmp(g->counts[i].key, key) != 0; i++)
        ;
    if (delta > 0) {
        if (i == g->ncounts && g->ncounts == UNSUBD_GATE_CLIENTS)
            rc = -1;                        /* more addresses than connections: cannot be */
        else if (i < g->ncounts && limit > 0 && g->counts[i].n >= limit)
            rc = -1;
        else {
            if (i == g->ncounts) {
                (void) util_strlcpy(g->counts[i].key, key, sizeof(g->counts[i].key));
                g->counts[i].n = 0;
                g->ncounts++;
            }
            g->counts[i].n++;
        }
    } else if (i < g->ncounts && --g->counts[i].n == 0) {
        g->counts[i] = g->counts[--g->ncounts];
    }
    (void) pthread_mutex_unlock(&g->lock);
    return rc;
}

/* unsubd_gate_opened - libmicrohttpd took a connection (counted per client since the handover) */
void unsubd_gate_opened(UNSUBD_GATE *g)
{
    atomic_fetch_add(&g->mhd_open, 1);      /* before handing goes down: never both 0 */
    atomic_fetch_sub(&g->handing, 1);
}

/* unsubd_gate_hand - note fd as handed over for key, counted (with a limit: -1 and
 * nothing noted when key has that many in libmicrohttpd) */
static int unsubd_gate_hand(UNSUBD_GATE *g, int fd, const char *key, unsigned limit)
{
    int full;

    if (unsubd_gate_count(g, key, 1, limit) < 0)
        return -1;
    (void) pthread_mutex_lock(&g->lock);
    if (!(full = g->nhanded == UNSUBD_GATE_CLIENTS)) {     /* at most UNSUBD_CONN_MAX there */
        g->handed[g->nhanded].fd = fd;
        (void) util_strlcpy(g->handed[g->nhanded++].key, key, sizeof(g->handed[0].key));
    }
    (void) pthread_mutex_unlock(&g->lock);
    if (full)
        (void) unsubd_gate_count(g, key, -1, 0);
    return full ? -1 : 0;
}

/* unsubd_gate_unhand - fd is no longer libmicrohttpd's: its client's count goes down */
static void unsubd_gate_unhand(UNSUBD_GATE *g, int fd)
{
    char key[UNSUBD_IP_MAX + 16] = "";
    size_t i;

    (void) pthread_mutex_lock(&g->lock);
    for (i = 0; i < g->nhanded && g->handed[i].fd != fd; i++)
        ;
    if (i < g->nhanded) {
        (void) util_strlcpy(key, g->handed[i].key, sizeof(key));
        g->handed[i] = g->handed[--g->nhanded];
    }
    (void) pthread_mutex_unlock(&g->lock);
    (void) unsubd_gate_count(g, key, -1, 0);
}

/* unsubd_gate_closed - libmicrohttpd closes fd (still open, so not yet reused) */
void unsubd_gate_closed(UNSUBD_GATE *g, int fd)
{
    unsubd_gate_unhand(g, fd);
    atomic_fetch_sub(&g->mhd_open, 1);
}

/* unsubd_gate_drop - forget connection i (closing its socket when close_fd) */
static void unsubd_gate_drop(UNSUBD_GATE *g, size_t i, int close_fd)
{
    UNSUBD_CONN *c = g->conns[i];

    (void) epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (close_fd)
        (void) close(c->fd);
    if (c->state == GATE_READING && c->got > 0)
        atomic_fetch_sub(&g->busy, 1);
    (void) unsubd_gate_count(g, c->key, -1, 0);
    free(c);
    g->conns[i] = g->conns[--g->nconns];
}

/* unsubd_gate_answer - answer and log; the connection lingers, then closes */
static void unsubd_gate_answer(UNSUBD_GATE *g, UNSUBD_CONN *c, const UNSUBD_HEAD *h, unsigned status,
                               const char *result, const char *text)
{
    char path[UNSUBD_LOGPATH_MAX];
    BUF b;

    unsubd_http_logpath(h && h->target[0] ? h->target : "-", path, sizeof(path));
    log_warn("client=%s method=%s path=%s status=%u result=%s", c->ip, h ? h->method : "-", path,
             status, result);
    unsubd_metrics_response(g->metrics, status);
    buf_init(&b, 4096);
    if (unsubd_answer_raw(&b, status, unsubd_head_reason(status), status == 429 ? "1" : NULL, text) == 0)
        (void) send(c->fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);  /* small: fits the buffer */
    buf_free(&b);
    (void) shutdown(c->fd, SHUT_WR);
    if (c->state == GATE_READING && c->got > 0)
        atomic_fetch_sub(&g->busy, 1);
    c->state = GATE_CLOSING;
    c->deadline_ms = unsubd_gate_now() + UNSUBD_GATE_LINGER_MS;
}

/* unsubd_gate_text - the body of the gate's answers */
static const char *unsubd_gate_text(unsigned status)
{
    switch (status) {
    case 408: return "The request took too long.\n";
    case 411: return "Length required: send the body with a Content-Length.\n";
    case 413: return "Request body too large.\n";
    case 414: return "Request URI too long.\n";
    case 417: return "Expectation failed.\n";
    case 429: return "Too many connections from your address; please try again later.\n";
    case 431: return "Request header fields too large.\n";
    case 503: return "Too busy; please try again later.\n";
    case 505: return "HTTP version not supported: use HTTP/1.1.\n";
    default: return "Bad request.\n";
    }
}

static int unsubd_gate_read(UNSUBD_GATE *g, size_t i, int hup);

/* unsubd_gate_forwarded - the client behind the trusted proxy that c's whole request h
 * is from (its counting key into key), as unsubd.c will name it; 0 if none is named */
static int unsubd_gate_forwarded(const UNSUBD_GATE *g, const UNSUBD_CONN *c, const UNSUBD_HEAD *h,
                                 char *client, size_t clientlen, char *key, size_t keylen)
{
    BUF xff;

    buf_init(&xff, UNSUBD_HEAD_MAX);        /* the fields are no longer: always fits */
    (void) unsubd_head_xff(h, g->peek, &xff);
    unsubd_http_client(c->ip, xff.len > 0 ? xff.data : NULL, g->trusted, client, clientlen);
    buf_free(&xff);
    if (strcmp(client, c->ip) == 0)
        return 0;                           /* the proxy's own request */
    unsubd_http_ratekey(client, key, keylen);
    return 1;
}

/* unsubd_gate_handover - give connection i, whose whole request is h, to
 * libmicrohttpd (or refuse it: its client behind the proxy has too many there);
 * 1 if it was dropped */
static int unsubd_gate_handover(UNSUBD_GATE *g, size_t i, const UNSUBD_HEAD *h)
{
    UNSUBD_CONN *c = g->conns[i];
    int fd = c->fd;
    struct sockaddr_storage sa = c->sa;
    socklen_t salen = c->salen;
    char key[sizeof(c->key)], client[UNSUBD_IP_MAX];
    unsigned limit = 0;                     /* counted at accept already */

    (void) util_strlcpy(key, c->key, sizeof(key));
    (void) util_strlcpy(client, c->ip, sizeof(client));
    if (key[0] == 0 && unsubd_gate_forwarded(g, c, h, client, sizeof(client), key, sizeof(key)))
        limit = UNSUBD_GATE_PER_CLIENT;
    /* Still open, so still its client's until libmicrohttpd closes it: a busy
     * worker thread starts it (unsubd_gate_opened) only later. */
    if (unsubd_gate_hand(g, fd, key, limit) < 0) {
        (void) util_strlcpy(c->ip, client, sizeof(c->ip));     /* logged as unsubd.c would */
        unsubd_gate_answer(g, c, h, 429, "too-many-connections",
                           "Too many requests at once; please try again later.\n");
        return unsubd_gate_read(g, i, 0);
    }
    atomic_fetch_add(&g->handing, 1);       /* before busy goes down: never both 0 */
    unsubd_gate_drop(g, i, 0);
    if (MHD_add_connection(g->mhd, fd, (const struct sockaddr *) &sa, salen) != MHD_YES) {
        log_err("libmicrohttpd did not take a connection: %s", strerror(errno));
        atomic_fetch_sub(&g->handing, 1);
        unsubd_gate_unhand(g, fd);
    }
    return 1;
}

/* unsubd_gate_read - new bytes (or the end) on a connection; 1 if it was dropped */
static int unsubd_gate_read(UNSUBD_GATE *g, size_t i, int hup)
{
    UNSUBD_CONN *c = g->conns[i];
    UNSUBD_HEAD h;
    ssize_t n;

    if (c->state == GATE_CLOSING) {
        while ((n = recv(c->fd, g->peek, sizeof(g->peek), 0)) > 0)
            ;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            unsubd_gate_drop(g, i, 1);
            return 1;
        }
        return 0;
    }
    n = recv(c->fd, g->peek, UNSUBD_HEAD_WHOLE + 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n <= 0) {                           /* closed before a byte, or an error */
        unsubd_gate_drop(g, i, 1);
        return 1;
    }
    if (c->got == 0)
        atomic_fetch_add(&g->busy, 1);
    c->got = (size_t) n;
    switch (unsubd_head_check(g->peek, (size_t) n, &h)) {
    case UNSUBD_HEAD_BAD:
        unsubd_gate_answer(g, c, &h, h.status, h.result, unsubd_gate_text(h.status));
        return unsubd_gate_read(g, i, hup);     /* read what is there already: no reset */
    case UNSUBD_HEAD_MORE:
        if (hup) {                          /* the client closed its side mid-request */
            char path[UNSUBD_LOGPATH_MAX];

            unsubd_http_logpath(h.target[0] ? h.target : "-", path, sizeof(path));
            log_warn("client=%s method=%s path=%s status=- result=aborted reason=client-closed",
                     c->ip, h.method, path);
            unsubd_gate_drop(g, i, 1);
            return 1;
        }
        if (h.head_len > 0 && h.expect_continue && !c->continued) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

            (void) send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            c->continued = 1;
        }
        return 0;
    case UNSUBD_HEAD_OK:
        break;
    }
    return unsubd_gate_handover(g, i, &h);
}

/* unsubd_gate_accept - every connection waiting */
static void unsubd_gate_accept(UNSUBD_GATE *g)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof(sa);
        struct epoll_event ev;
        UNSUBD_CONN *c;
        int fd = accept4(g->lfd, (struct sockaddr *) &sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                log_err("accept: %s", strerror(errno));
            return;
        }
        c = xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->sa = sa;
        c->salen = salen;
        c->deadline_ms = unsubd_gate_now() + UNSUBD_GATE_DEADLINE * 1000LL;
        unsubd_gate_key(g, (struct sockaddr *) &sa, c->ip, sizeof(c->ip), c->key, sizeof(c->key));
        if (g->nconns == UNSUBD_GATE_PENDING
            || unsubd_gate_count(g, c->key, 1, UNSUBD_GATE_PER_CLIENT) < 0) {
            UNSUBD_CONN tmp = *c;
            unsigned status = g->nconns == UNSUBD_GATE_PENDING ? 503 : 429;

            free(c);
            tmp.state = GATE_CLOSING;       /* no busy count, no lingering: close at once */
            unsubd_gate_answer(g, &tmp, NULL, status, status == 503 ? "too-busy" : "too-many-connections",
                               unsubd_gate_text(status));
            (void) close(fd);
            continue;
        }
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = c;
        if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            log_err("epoll: %s", strerror(errno));
            (void) unsubd_gate_count(g, c->key, -1, 0);
            (void) close(fd);
            free(c);
            continue;
        }
        g->conns[g->nconns++] = c;
    }
}

/* unsubd_gate_sweep - deadlines; the milliseconds until the next one */
static int unsubd_gate_sweep(UNSUBD_GATE *g)
{
    long long now = unsubd_gate_now(), next = now + 1000;
    size_t i = 0;

    while (i < g->nconns) {
        UNSUBD_CONN *c = g->conns[i];

        if (c->deadline_ms <= now) {
            if (c->state == GATE_CLOSING || c->got == 0) {
                unsubd_gate_drop(g, i, 1);  /* i now holds another */
                continue;
            }
            {
                UNSUBD_HEAD h;
                ssize_t n = recv(c->fd, g->peek, UNSUBD_HEAD_WHOLE + 1, MSG_PEEK);

                (void) unsubd_head_check(g->peek, n > 0 ? (size_t) n : 0, &h);   /* for the log */
                unsubd_gate_answer(g, c, &h, 408, "request-timeout", unsubd_gate_text(408));
                if (unsubd_gate_read(g, i, 0))
                    continue;               /* dropped: i now holds another */
            }
        }
        if (c->deadline_ms < next)
            next = c->deadline_ms;
        i++;
    }
    return next > now ? (int) (next - now) : 0;
}

/* unsubd_gate_find - the index of connection c, or the count */
static size_t unsubd_gate_find(const UNSUBD_GATE *g, const UNSUBD_CONN *c)
{
    size_t i;

    for (i = 0; i < g->nconns && g->conns[i] != c; i++)
        ;
    return i;
}

/* unsubd_gate_main - the thread */
static void *unsubd_gate_main(void *arg)
{
    UNSUBD_GATE *g = arg;
    struct epoll_event evs[UNSUBD_GATE_EVENTS];

    while (!atomic_load(&g->stopping)) {
        int n = epoll_wait(g->ep, evs, UNSUBD_GATE_EVENTS, unsubd_gate_sweep(g));

        if (atomic_load(&g->quiesce) && g->lfd >= 0) {
            (void) epoll_ctl(g->ep, EPOLL_CTL_DEL, g->lfd, NULL);
            (void) close(g->lfd);
            g->lfd = -1;
            atomic_store(&g->listening, 0);
        }
        for (int k = 0; k < n; k++) {
            if (evs[k].data.ptr == &unsubd_gate_listen_tag) {
                if (g->lfd >= 0)
                    unsubd_gate_accept(g);
            } else if (evs[k].data.ptr == &unsubd_gate_wake_tag) {
                uint64_t v;

                if (read(g->wake, &v, sizeof(v)) < 0)
                    continue;               /* EAGAIN: another event drained it */
            } else {
                size_t i = unsubd_gate_find(g, evs[k].data.ptr);

                if (i < g->nconns)          /* not dropped by an earlier event of this round */
                    (void) unsubd_gate_read(g, i, (evs[k].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
            }
        }
    }
    return NULL;
}

/* unsubd_gate_start - the thread and its epoll */
UNSUBD_GATE *unsubd_gate_start(int listen_fd, struct MHD_Daemon *mhd, const NETLIST *trusted,
                               UNSUBD_METRICS *metrics, UNSUBD_GATE **slot)
{
    UNSUBD_GATE *g = xcalloc(1, sizeof(*g));
    struct epoll_event ev;

    g->lfd = listen_fd;
    g->mhd = mhd;
    g->trusted = trusted;
    g->metrics = metrics;
    atomic_init(&g->stopping, 0);
    atomic_init(&g->quiesce, 0);
    atomic_init(&g->busy, 0);
    atomic_init(&g->listening, 1);
    atomic_init(&g->handing, 0);
    atomic_init(&g->mhd_open, 0);
    (void) pthread_mutex_init(&g->lock, NULL);
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    g->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = (void *) &unsubd_gate_listen_tag;
    *slot = g;                              /* before the first connection is handed over */
    if (g->ep < 0 || g->wake < 0 || epoll_ctl(g->ep, EPOLL_CTL_ADD, listen_fd, &ev) < 0
        || (ev.data.ptr = (void *) &unsubd_gate_wake_tag, epoll_ctl(g->ep, EPOLL_CTL_ADD, g->wake, &ev)) < 0
        || pthread_create(&g->thread, NULL, unsubd_gate_main, g) != 0) {
        log_err("cannot start accepting connections: %s", strerror(errno));
        *slot = NULL;
        if (g->ep >= 0)
            (void) close(g->ep);
        if (g->wake >= 0)
            (void) close(g->wake);
        (void) pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    return g;
}

/* unsubd_gate_wakeup - make the thread look at its flags */
static void unsubd_gate_wakeup(UNSUBD_GATE *g)
{
    uint64_t one = 1;

    /* Fails only when the counter is full, i.e. a wake-up is pending anyway. */
    if (write(g->wake, &one, sizeof(one)) < 0)
        return;
}

/* unsubd_gate_quiesce - close the listening socket (in the thread) */
void unsubd_gate_quiesce(UNSUBD_GATE *g)
{
    atomic_store(&g->quiesce, 1);
    unsubd_gate_wakeup(g);
    while (atomic_load(&g->listening)) {                /* the thread closes it */
        struct timespec ts = {0, 5 * 1000 * 1000};

        nanosleep(&ts, NULL);
    }
}

/* unsubd_gate_busy - requests begun: being received, being handed over,
 * or in libmicrohttpd (read in the order the counts hand over) */
int unsubd_gate_busy(UNSUBD_GATE *g)
{
    int n = atomic_load(&g->busy);

    n += atomic_load(&g->handing);
    return n + atomic_load(&g->mhd_open);
}

/* unsubd_gate_stop - end the thread and close what it holds */
void unsubd_gate_stop(UNSUBD_GATE *g)
{
    atomic_store(&g->stopping, 1);
    unsubd_gate_wakeup(g);
    (void) pthread_join(g->thread, NULL);
    while (g->nconns > 0)
        unsubd_gate_drop(g, g->nconns - 1, 1);
    if (g->lfd >= 0)
        (void) close(g->lfd);
    g->lfd = -1;
}

/* unsubd_gate_free - after libmicrohttpd stopped (its callbacks use the gate) */
void unsubd_gate_free(UNSUBD_GATE *g)
{
    (void) close(g->ep);
    (void) close(g->wake);
    (void) pthread_mutex_destroy(&g->lock);
    free(g);
}

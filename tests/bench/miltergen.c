/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * miltergen.c - a milter-protocol (version 6) load generator, playing the MTA.
 *
 *	It talks to a milter the way Postfix's milter8 client does: OPTNEG
 *	(offering every action and step), then per connection CONNECT and HELO,
 *	per message MAIL (with i and {auth_authen}), N x RCPT, DATA, one HEADER
 *	per header field, EOH, BODY in chunks of 65535 bytes, EOM, and it reads
 *	every reply, modification requests included (counted; envelope sender
 *	changes and Feedback-ID headers also apart).  Macros are sent in 'D'
 *	packets before each step, only those the milter asked for when it sent
 *	a symbol list (as Postfix does), otherwise Postfix's defaults.  Steps
 *	the milter negotiated away (SMFIP_NO*) are not sent and steps it asked
 *	no reply for (SMFIP_NR_*) are not waited for.
 *
 *	C connections run at once (one thread each), each sends M messages and
 *	then quits and reconnects, until N messages in total have been sent.
 *	Reported: messages/s (wall), p50/p99/max latency of one message (MAIL
 *	to the final EOM reply), the replies seen, and the CPU the milter used
 *	per message (utime+stime of /proc/PID/stat for each --pid, before and
 *	after; a PID's threads are included, its children are not).
 *
 *	Only a benchmark: built by `make bench`, see tests/bench/RESULTS.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNK       65535           /* MILTER_CHUNK_SIZE: Postfix's body chunk */
#define MAXPKT      (1 << 20)       /* largest reply accepted */
#define MAXPIDS     64
#define NSTAGES     7               /* SMFIM_CONNECT .. SMFIM_EOH */

/* SMFIP_* and SMFIF_* as in libmilter/mfdef.h (not included: no build dep) */
#define P_NOCONNECT 0x1
#define P_NOHELO    0x2
#define P_NOMAIL    0x4
#define P_NORCPT    0x8
#define P_NOBODY    0x10
#define P_NOHDRS    0x20
#define P_NOEOH     0x40
#define P_NR_HDR    0x80
#define P_NODATA    0x200
#define P_NR_CONN   0x1000
#define P_NR_HELO   0x2000
#define P_NR_MAIL   0x4000
#define P_NR_RCPT   0x8000
#define P_NR_DATA   0x10000
#define P_NR_EOH    0x40000
#define P_NR_BODY   0x80000
#define P_LEADSPC   0x100000
#define OFFER_STEPS 0x001fffffUL    /* what Postfix 3.7 offers (milter8.c) */
#define OFFER_ACTS  0x1ffUL

typedef struct {
    const char *name;
    const char *value;
} MACRO;

/* What Postfix sends by default for each stage (mail_params.h), with values. */
static MACRO m_conn[] = { {"j", "mx.bench.example"}, {"{daemon_name}", "smtpd"},
                          {"{daemon_addr}", "127.0.0.1"}, {"{client_port}", "40000"},
                          {"v", "Postfix 3.7.11"}, {"_", "client.bench.example [127.0.0.1]"},
                          {NULL, NULL} };
static MACRO m_helo[] = { {"{tls_version}", ""}, {NULL, NULL} };
static MACRO m_mail[] = { {"i", NULL}, {"{auth_type}", "PLAIN"}, {"{auth_authen}", "bench"},
                          {"{mail_addr}", NULL}, {"{mail_host}", ""}, {"{mail_mailer}", "smtp"},
                          {NULL, NULL} };
static MACRO m_rcpt[] = { {"i", NULL}, {"{rcpt_addr}", NULL}, {"{rcpt_host}", "127.0.0.1"},
                          {"{rcpt_mailer}", "smtp"}, {NULL, NULL} };
static MACRO m_data[] = { {"i", NULL}, {NULL, NULL} };
static MACRO m_eoh[]  = { {"i", NULL}, {NULL, NULL} };
static MACRO m_eom[]  = { {"i", NULL}, {NULL, NULL} };

/* options */
static struct sockaddr_storage o_addr;
static socklen_t o_addrlen;
static int o_inet;
static int o_conc = 1, o_per_conn = 100, o_total = 1000, o_rcpts = 1, o_quiet;
static const char *o_sender = "sender@example.com";
static const char *o_rcpt_domain = "receiver.example";
static int o_timeout = 30;
static pid_t o_pids[MAXPIDS];
static int o_npids;

/* the message */
typedef struct {
    char *name;
    char *value;                    /* without leading space, folds as "\n" */
} HDR;
static HDR *hdrs;
static int nhdrs;
static char *body;                  /* CRLF */
static size_t bodylen;

/* results */
static atomic_int next_msg;
static atomic_long n_ok, n_fail, n_signed, n_unsub, n_mods, n_accept, n_continue,
                   n_tempfail, n_reject, n_discard, n_other, n_conns, n_chgfrom, n_fbid;
static double *lat_ms;              /* one per message */
static atomic_int lat_n;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_err[256];

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "miltergen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void note_err(const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&err_lock);
    if (first_err[0] == 0) {
        va_start(ap, fmt);
        vsnprintf(first_err, sizeof(first_err), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&err_lock);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---------------------------------------------------------------- message */

static void load_message(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *raw, *p, *end;
    size_t cap = 64, n, i;

    if (f == NULL || fstat(fileno(f), &st) < 0)
        die("%s: %s", path, strerror(errno));
    raw = malloc(st.st_size + 1);
    if (raw == NULL || fread(raw, 1, st.st_size, f) != (size_t) st.st_size)
        die("%s: cannot read", path);
    fclose(f);
    raw[st.st_size] = 0;
    end = raw + st.st_size;
    hdrs = calloc(cap, sizeof(*hdrs));
    p = raw;
    /* headers: up to the first empty line; continuation lines fold with "\n" */
    while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
        char *line = p, *colon, *v, *e;
        size_t vl = 0;

        do {                        /* find the end of this field (with folds) */
            char *nl = memchr(p, '\n', end - p);
            p = nl ? nl + 1 : end;
        } while (p < end && (*p == ' ' || *p == '\t'));
        colon = memchr(line, ':', p - line);
        if (colon == NULL)
            die("%s: header line without ':'", path);
        if (nhdrs == (int) cap)
            hdrs = realloc(hdrs, (cap *= 2) * sizeof(*hdrs));
        hdrs[nhdrs].name = strndup(line, colon - line);
        v = colon + 1;
        if (v < p && *v == ' ')
            v++;
        hdrs[nhdrs].value = malloc(p - v + 1);
        for (e = v; e < p; e++) {   /* CRLF -> LF, drop the final LF */
            if (*e == '\r')
                continue;
            hdrs[nhdrs].value[vl++] = *e;
        }
        if (vl && hdrs[nhdrs].value[vl - 1] == '\n')
            vl--;
        hdrs[nhdrs].value[vl] = 0;
        nhdrs++;
    }
    if (p < end && *p == '\r')
        p++;
    if (p < end)
        p++;
    /* body: to CRLF */
    n = end - p;
    body = malloc(2 * n + 3);
    bodylen = 0;
    for (i = 0; i < n; i++) {
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            body[bodylen++] = '\r';
        body[bodylen++] = p[i];
    }
    free(raw);
}

/* ---------------------------------------------------------------- wire */

typedef struct {
    int fd;
    unsigned long steps;            /* what the milter asked for */
    char *symlist[NSTAGES];         /* NULL: Postfix's defaults */
    char *out;                      /* output buffer: packets batched until a reply is due */
    size_t outlen, outcap;
    char *in;
    size_t incap;
} CONN;

static void out_pkt(CONN *c, char cmd, const void *data, size_t len)
{
    uint32_t nl = htonl((uint32_t) len + 1);

    if (c->outlen + len + 5 > c->outcap) {
        c->outcap = (c->outlen + len + 5) * 2;
        c->out = realloc(c->out, c->outcap);
    }
    memcpy(c->out + c->outlen, &nl, 4);
    c->out[c->outlen + 4] = cmd;
    memcpy(c->out + c->outlen + 5, data, len);
    c->outlen += len + 5;
}

/* flush - write what is buffered (Postfix writes each packet; we batch the
 * packets that get no reply with the next one, as the kernel would anyway
 * with TCP_NODELAY off; on unix sockets it makes no difference to the milter) */
static int flush(CONN *c)
{
    size_t off = 0;

    while (off < c->outlen) {
        ssize_t w = write(c->fd, c->out + off, c->outlen - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            note_err("write: %s", strerror(errno));
            return -1;
        }
        off += w;
    }
    c->outlen = 0;
    return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t r = read(fd, (char *) buf + off, len - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            note_err("read: %s", r == 0 ? "connection closed by the milter" : strerror(errno));
            return -1;
        }
        off += r;
    }
    return 0;
}

/* read_pkt - one reply packet: its command, data in c->in, length */
static int read_pkt(CONN *c, char *cmd, size_t *len)
{
    uint32_t nl;
    size_t n;

    if (read_full(c->fd, &nl, 4) < 0)
        return -1;
    n = ntohl(nl);
    if (n < 1 || n > MAXPKT) {
        note_err("bad reply length %zu", n);
        return -1;
    }
    if (n > c->incap) {
        c->incap = n;
        c->in = realloc(c->in, n + 1);
    }
    if (read_full(c->fd, c->in, n) < 0)
        return -1;
    *cmd = c->in[0];
    memmove(c->in, c->in + 1, n - 1);
    c->in[n - 1] = 0;
    *len = n - 1;
    return 0;
}

/* macros - queue a 'D' packet for stage (SMFIM_*) and command cmd */
static void macros(CONN *c, int stage, char cmd, MACRO *m, const char *qid, const char *addr)
{
    char buf[2048];
    size_t n = 0;

    buf[n++] = cmd;
    for (; m->name; m++) {
        const char *v = m->value;
        size_t nl = strlen(m->name), vl;

        if (c->symlist[stage]) {    /* only what the milter asked for */
            const char *s = c->symlist[stage], *hit;
            int found = 0;

            for (hit = strstr(s, m->name); hit; hit = strstr(hit + 1, m->name))
                if ((hit == s || hit[-1] == ' ') && (hit[nl] == 0 || hit[nl] == ' ')) {
                    found = 1;
                    break;
                }
            if (!found)
                continue;
        }
        if (v == NULL)
            v = strcmp(m->name, "i") == 0 ? qid : addr;
        vl = strlen(v);
        if (n + nl + vl + 2 > sizeof(buf))
            break;
        memcpy(buf + n, m->name, nl + 1);
        n += nl + 1;
        memcpy(buf + n, v, vl + 1);
        n += vl + 1;
    }
    out_pkt(c, 'D', buf, n);
}

/* reply - flush, then read the reply to a step; 0 continue, 1 message over
 * (accept/reject/tempfail/discard), -1 error.  At EOM, modification packets
 * come first. */
static int reply(CONN *c, int eom, int *signed_, int *unsub)
{
    char cmd;
    size_t len;
    int bound = 10000;

    if (flush(c) < 0)
        return -1;
    while (bound-- > 0) {
        if (read_pkt(c, &cmd, &len) < 0)
            return -1;
        switch (cmd) {
        case 'c':
            if (eom)
                atomic_fetch_add(&n_continue, 1);
            return eom ? 1 : 0;
        case 's':                   /* skip: the rest of the body */
            return 2;
        case 'p':                   /* progress */
            continue;
        case 'a':
            atomic_fetch_add(&n_accept, 1);
            return 1;
        case 't':
            atomic_fetch_add(&n_tempfail, 1);
            return 1;
        case 'r':
            atomic_fetch_add(&n_reject, 1);
            return 1;
        case 'd':
            atomic_fetch_add(&n_discard, 1);
            return 1;
        case 'y':
            if (len && c->in[0] == '4')
                atomic_fetch_add(&n_tempfail, 1);
            else
                atomic_fetch_add(&n_reject, 1);
            if (!o_quiet && atomic_load(&n_tempfail) + atomic_load(&n_reject) <= 3)
                fprintf(stderr, "miltergen: reply %s\n", c->in);
            return 1;
        case 'h':                   /* add header: name\0value\0 */
        case 'i':                   /* insert header: index(4) name\0value\0 */
        case 'm': {                 /* change header: index(4) name\0value\0 */
            const char *name = c->in + (cmd == 'h' ? 0 : 4);

            if (!eom || len < 5) {
                note_err("modification '%c' outside EOM", cmd);
                return -1;
            }
            atomic_fetch_add(&n_mods, 1);
            if (strcasecmp(name, "DKIM-Signature") == 0)
                (*signed_)++;
            if (strcasecmp(name, "List-Unsubscribe") == 0)
                (*unsub)++;
            if (strcasecmp(name, "Feedback-ID") == 0)
                atomic_fetch_add(&n_fbid, 1);
            continue;
        }
        case 'e':                   /* change envelope sender: addr\0[args\0] */
            if (!eom || len < 2 || memchr(c->in, '\0', len) == NULL) {
                note_err("bad or misplaced envelope sender change ('e', %zu bytes)", len);
                return -1;
            }
            atomic_fetch_add(&n_mods, 1);
            atomic_fetch_add(&n_chgfrom, 1);
            continue;
        case '+': case '-': case '2': case 'b': case 'q':
            if (!eom) {
                note_err("modification '%c' outside EOM", cmd);
                return -1;
            }
            atomic_fetch_add(&n_mods, 1);
            continue;
        default:
            atomic_fetch_add(&n_other, 1);
            note_err("unexpected reply '%c'", cmd);
            return -1;
        }
    }
    return -1;
}

static int do_connect(CONN *c)
{
    int one = 1;
    struct timeval tv = { o_timeout, 0 };
    char buf[64];
    uint32_t v[3];
    char cmd;
    size_t len, off;

    memset(c, 0, sizeof(*c));
    c->fd = socket(o_addr.ss_family, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (o_inet)
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *) &o_addr, o_addrlen) < 0) {
        note_err("connect: %s", strerror(errno));
        close(c->fd);
        return -1;
    }
    atomic_fetch_add(&n_conns, 1);
    v[0] = htonl(6);
    v[1] = htonl(OFFER_ACTS);
    v[2] = htonl(OFFER_STEPS);
    out_pkt(c, 'O', v, sizeof(v));
    if (flush(c) < 0 || read_pkt(c, &cmd, &len) < 0)
        return -1;
    if (cmd != 'O' || len < 12) {
        note_err("bad OPTNEG reply '%c'", cmd);
        return -1;
    }
    memcpy(v, c->in, 12);
    c->steps = ntohl(v[2]);
    for (off = 12; off + 5 <= len;) {   /* symbol lists: stage(4) "names"\0 */
        uint32_t st;
        size_t l;

        memcpy(&st, c->in + off, 4);
        st = ntohl(st);
        l = strnlen(c->in + off + 4, len - off - 4);
        if (st < NSTAGES && c->symlist[st] == NULL)
            c->symlist[st] = strndup(c->in + off + 4, l);
        off += 4 + l + 1;
    }
    if (!(c->steps & P_NOCONNECT)) {
        static const char conn[] = "client.bench.example\0" "4" "\x9c\x40" "127.0.0.1";
        macros(c, 0, 'C', m_conn, "", "");
        out_pkt(c, 'C', conn, sizeof(conn));     /* includes the final NUL */
        if (!(c->steps & P_NR_CONN) && reply(c, 0, NULL, NULL) != 0)
            return -1;
    }
    if (!(c->steps & P_NOHELO)) {
        snprintf(buf, sizeof(buf), "client.bench.example");
        macros(c, 1, 'H', m_helo, "", "");
        out_pkt(c, 'H', buf, strlen(buf) + 1);
        if (!(c->steps & P_NR_HELO) && reply(c, 0, NULL, NULL) != 0)
            return -1;
    }
    return 0;
}

static void do_close(CONN *c)
{
    int i;

    if (c->fd >= 0) {
        out_pkt(c, 'Q', "", 0);
        flush(c);
        close(c->fd);
    }
    for (i = 0; i < NSTAGES; i++)
        free(c->symlist[i]);
    free(c->out);
    free(c->in);
    c->fd = -1;
}

/* send_headers - the header fields, each answered unless negotiated
 * without reply; 0, or reply()'s result when one ends the message */
static int send_headers(CONN *c, int *sig, int *uns)
{
    int leadspc = (c->steps & P_LEADSPC) != 0, r;

    for (int i = 0; i < nhdrs; i++) {
        size_t nl = strlen(hdrs[i].name), vl = strlen(hdrs[i].value);
        char *p = malloc(nl + vl + 3);

        memcpy(p, hdrs[i].name, nl + 1);
        if (leadspc)
            p[nl + 1] = ' ';
        memcpy(p + nl + 1 + leadspc, hdrs[i].value, vl + 1);
        out_pkt(c, 'L', p, nl + vl + 2 + leadspc);
        free(p);
        if (!(c->steps & P_NR_HDR) && (r = reply(c, 0, sig, uns)) != 0)
            return r;
    }
    return 0;
}

/* send_body - the body in chunks; 0 (also when the milter says skip), or
 * reply()'s result when one ends the message, -1 when the connection breaks */
static int send_body(CONN *c, int *sig, int *uns)
{
    int r;

    for (size_t off = 0; off < bodylen; off += CHUNK) {
        size_t n = bodylen - off < CHUNK ? bodylen - off : CHUNK;

        out_pkt(c, 'B', body + off, n);
        if (!(c->steps & P_NR_BODY)) {
            r = reply(c, 0, sig, uns);
            if (r == 2)
                return 0;           /* skip */
            if (r != 0)
                return r;
        } else if (flush(c) < 0) {
            return -1;
        }
    }
    return 0;
}

/* one_message - 0 done (any verdict), -1 connection broken */
static int one_message(CONN *c, int msgno)
{
    char qid[32], from[256], rcpt[256], buf[1024];
    int r, i, sig = 0, uns = 0;
    double t0 = now_ms();

    snprintf(qid, sizeof(qid), "4B%08X", (unsigned) msgno);
    snprintf(from, sizeof(from), "<%s>", o_sender);
    /* MAIL */
    if (!(c->steps & P_NOMAIL)) {
        macros(c, 2, 'M', m_mail, qid, o_sender);
        out_pkt(c, 'M', from, strlen(from) + 1);
        if (!(c->steps & P_NR_MAIL) && (r = reply(c, 0, &sig, &uns)) != 0)
            goto done;
    }
    for (i = 0; i < o_rcpts; i++) {
        snprintf(rcpt, sizeof(rcpt), "<r%dx%d@%s>", msgno, i, o_rcpt_domain);
        if (c->steps & P_NORCPT)
            break;
        snprintf(buf, sizeof(buf), "r%dx%d@%s", msgno, i, o_rcpt_domain);
        macros(c, 3, 'R', m_rcpt, qid, buf);
        out_pkt(c, 'R', rcpt, strlen(rcpt) + 1);
        if (!(c->steps & P_NR_RCPT) && (r = reply(c, 0, &sig, &uns)) != 0)
            goto done;
    }
    if (!(c->steps & P_NODATA)) {
        macros(c, 4, 'T', m_data, qid, "");
        out_pkt(c, 'T', "", 0);
        if (!(c->steps & P_NR_DATA) && (r = reply(c, 0, &sig, &uns)) != 0)
            goto done;
    }
    if (!(c->steps & P_NOHDRS) && (r = send_headers(c, &sig, &uns)) != 0)
        goto done;
    if (!(c->steps & P_NOEOH)) {
        macros(c, 6, 'N', m_eoh, qid, "");
        out_pkt(c, 'N', "", 0);
        if (!(c->steps & P_NR_EOH) && (r = reply(c, 0, &sig, &uns)) != 0)
            goto done;
    }
    if (!(c->steps & P_NOBODY) && (r = send_body(c, &sig, &uns)) != 0)
        goto done;
    macros(c, 5, 'E', m_eom, qid, "");   /* SMFIM_EOM is 5 */
    out_pkt(c, 'E', "", 0);
    r = reply(c, 1, &sig, &uns);
done:
    if (r < 0) {
        atomic_fetch_add(&n_fail, 1);
        return -1;
    }
    if (r == 0)                     /* cannot happen: EOM always ends it */
        r = 1;
    atomic_fetch_add(&n_ok, 1);
    if (sig)
        atomic_fetch_add(&n_signed, 1);
    if (uns)
        atomic_fetch_add(&n_unsub, 1);
    lat_ms[atomic_fetch_add(&lat_n, 1)] = now_ms() - t0;
    return 0;
}

static void *worker(void *arg)
{
    CONN c;
    int fails = 0;

    (void) arg;
    c.fd = -1;
    for (;;) {
        int k, m;

        if (atomic_load(&next_msg) >= o_total)
            break;
        if (do_connect(&c) < 0) {
            do_close(&c);
            atomic_fetch_add(&n_fail, 1);
            if (++fails > 20)
                break;
            usleep(10000);
            continue;
        }
        for (k = 0; k < o_per_conn; k++) {
            m = atomic_fetch_add(&next_msg, 1);
            if (m >= o_total)
                break;
            if (one_message(&c, m) < 0) {
                if (++fails > 20)
                    break;
                break;
            }
        }
        do_close(&c);
        if (fails > 20)
            break;
    }
    return NULL;
}

/* ---------------------------------------------------------------- CPU */

static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[2048], *p;
    unsigned long ut, st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    if ((p = strrchr(buf, ')')) == NULL)
        return -1;
    /* fields after ")": 3 state ... 14 utime 15 stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double) (ut + st) / sysconf(_SC_CLK_TCK);
}

static double cpu_sum(void)
{
    double s = 0;
    int i;

    for (i = 0; i < o_npids; i++) {
        double v = proc_cpu_s(o_pids[i]);
        if (v < 0)
            die("cannot read /proc/%d/stat", (int) o_pids[i]);
        s += v;
    }
    return s;
}

static double self_cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

/* ---------------------------------------------------------------- main */

static void parse_socket(const char *s)
{
    memset(&o_addr, 0, sizeof(o_addr));
    if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0 || s[0] == '/') {
        struct sockaddr_un *un = (struct sockaddr_un *) &o_addr;
        const char *path = s[0] == '/' ? s : strchr(s, ':') + 1;

        if (strlen(path) >= sizeof(un->sun_path))
            die("socket path too long");
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, path);
        o_addrlen = sizeof(*un);
        return;
    }
    if (strncmp(s, "inet:", 5) == 0) {      /* inet:PORT@HOST (libmilter) or inet:HOST:PORT */
        char host[256], port[16];
        const char *at = strchr(s + 5, '@'), *colon = strrchr(s + 5, ':');
        struct addrinfo hints, *ai;

        if (at) {
            snprintf(port, sizeof(port), "%.*s", (int) (at - s - 5), s + 5);
            snprintf(host, sizeof(host), "%s", at + 1);
        } else if (colon) {
            snprintf(host, sizeof(host), "%.*s", (int) (colon - s - 5), s + 5);
            snprintf(port, sizeof(port), "%s", colon + 1);
        } else
            die("socket %s: want inet:PORT@HOST", s);
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        if (getaddrinfo(host, port, &hints, &ai) != 0)
            die("socket %s: bad address (numeric host and port)", s);
        memcpy(&o_addr, ai->ai_addr, ai->ai_addrlen);
        o_addrlen = ai->ai_addrlen;
        freeaddrinfo(ai);
        o_inet = 1;
        return;
    }
    die("socket %s: want unix:PATH or inet:PORT@HOST", s);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: miltergen -s unix:PATH|inet:PORT@HOST -f MESSAGE [-c CONNS] [-m MSGS_PER_CONN]\n"
            "                 [-n TOTAL] [-r RCPTS] [--pid PID[,PID...]]... [--sender ADDR]\n"
            "                 [--rcpt-domain DOMAIN] [--timeout S] [--label TEXT] [-q]\n");
    exit(2);
}

/* parse_args - the command line into the o_* options; *sock, *file, *label */
static void parse_args(int argc, char **argv, const char **sock, const char **file, const char **label)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-q") == 0) {
            o_quiet = 1;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (!strcmp(a, "-s") || !strcmp(a, "--socket"))
            *sock = v;
        else if (!strcmp(a, "-f") || !strcmp(a, "--message"))
            *file = v;
        else if (!strcmp(a, "-c") || !strcmp(a, "--concurrency"))
            o_conc = atoi(v);
        else if (!strcmp(a, "-m") || !strcmp(a, "--per-conn"))
            o_per_conn = atoi(v);
        else if (!strcmp(a, "-n") || !strcmp(a, "--messages"))
            o_total = atoi(v);
        else if (!strcmp(a, "-r") || !strcmp(a, "--rcpts"))
            o_rcpts = atoi(v);
        else if (!strcmp(a, "--sender"))
            o_sender = v;
        else if (!strcmp(a, "--rcpt-domain"))
            o_rcpt_domain = v;
        else if (!strcmp(a, "--timeout"))
            o_timeout = atoi(v);
        else if (!strcmp(a, "--label"))
            *label = v;
        else if (!strcmp(a, "--pid")) {
            char *copy = strdup(v), *tok, *save = NULL;

            for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (o_npids == MAXPIDS)
                    die("too many pids");
                o_pids[o_npids++] = atoi(tok);
            }
            free(copy);
        } else
            usage();
    }
}

int main(int argc, char **argv)
{
    const char *sock = NULL, *file = NULL, *label = "";
    pthread_t *th;
    double t0, t1, c0, c1, s0, s1, wall, *l;
    int i, n;

    parse_args(argc, argv, &sock, &file, &label);
    if (!sock || !file || o_conc < 1 || o_conc > 4096 || o_per_conn < 1 || o_total < 1
        || o_total > 10000000 || o_rcpts < 1 || o_rcpts > 1000 || o_timeout < 1)
        usage();
    parse_socket(sock);
    load_message(file);
    lat_ms = calloc(o_total, sizeof(double));
    th = calloc(o_conc, sizeof(*th));
    c0 = o_npids ? cpu_sum() : 0;
    s0 = self_cpu_s();
    t0 = now_ms();
    for (i = 0; i < o_conc; i++)
        if (pthread_create(&th[i], NULL, worker, NULL) != 0)
            die("pthread_create failed");
    for (i = 0; i < o_conc; i++)
        pthread_join(th[i], NULL);
    t1 = now_ms();
    s1 = self_cpu_s();
    c1 = o_npids ? cpu_sum() : 0;
    wall = (t1 - t0) / 1e3;
    n = atomic_load(&lat_n);
    l = lat_ms;
    qsort(l, n, sizeof(double), cmp_d);
#define PCT(p) (n ? l[(int) ((n - 1) * (p))] : 0.0)
    printf("%slabel=%s conc=%d per_conn=%d rcpts=%d body=%zu msgs=%d ok=%ld fail=%ld "
           "secs=%.3f msgs_per_s=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "milter_cpu_ms_per_msg=%s%.3f gen_cpu_ms_per_msg=%.3f signed=%ld unsub=%ld mods=%ld "
           "chgfrom=%ld feedback_id=%ld accept=%ld continue=%ld tempfail=%ld reject=%ld discard=%ld conns=%ld%s%s\n",
           "", label, o_conc, o_per_conn, o_rcpts, bodylen, n, atomic_load(&n_ok),
           atomic_load(&n_fail), wall, n / wall, PCT(0.5), PCT(0.99), n ? l[n - 1] : 0.0,
           o_npids ? "" : "(no --pid)", n && o_npids ? (c1 - c0) * 1e3 / n : 0.0,
           n ? (s1 - s0) * 1e3 / n : 0.0, atomic_load(&n_signed), atomic_load(&n_unsub),
           atomic_load(&n_mods), atomic_load(&n_chgfrom), atomic_load(&n_fbid), atomic_load(&n_accept), atomic_load(&n_continue),
           atomic_load(&n_tempfail), atomic_load(&n_reject), atomic_load(&n_discard),
           atomic_load(&n_conns), first_err[0] ? " first_error=" : "", first_err);
    return atomic_load(&n_fail) || n != o_total ? 1 : 0;
}

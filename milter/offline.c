/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * offline.c - run one message file through the pipeline without an MTA.
 *
 * SYNOPSIS
 *	#include "offline.h"
 *
 *	int	offline_run(const OFFLINE_OPTS *o, FILE *out)
 *
 * DESCRIPTION
 *	offline_run() reads the message as Postfix would hand it to a milter:
 *	header fields with their exact bytes (folded lines joined with LF,
 *	the leading space kept), then the body with CRLF line ends, streamed
 *	in chunks. It prints the outbound decision, the verdict with its SMTP
 *	reply, the resulting header section (added fields in place) and the
 *	summary line the daemon would log.
 *
 *	A header line without a colon ends the header, as in Postfix; the
 *	line becomes the first body line.
 *
 *	A dry run: nothing is written anywhere. The message is marked so
 *	(msg_set_dry_run), so no rate store is asked (no quota is taken, not
 *	even in a Redis shared with running relays) and an unsubscribe
 *	request by mail (--rcpt of an UnsubscribeMailto address) is printed
 *	as "would record unsubscribe of <rcpt> from stream S", not stored;
 *	a feedback report to a ComplaintAddress, or a bounce to a
 *	ReturnPath address (--rcpt, with --client outside InternalHosts),
 *	is read to its end and what it would suppress (or count towards
 *	BounceSoftLimit) is in the summary, nothing stored.
 *	The suppression list is only read; an embedded one that does not
 *	exist yet is not created.
 *
 * DIAGNOSTICS
 *	offline_run() returns 0 when the message would be accepted (or
 *	discarded: an unsubscribe or complaint by mail), 3 when
 *	it would be refused (the reply is printed), 1 when the message
 *	file cannot be read, with the reason on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "offline.h"
#include "snapshot.h"
#include "suppress.h"
#include "unsub_msg.h"

#define OFFLINE_CHUNK 65536

/* offline_strip_eol - drop a trailing LF or CRLF; returns the new length */
static size_t offline_strip_eol(char *line, size_t n)
{
    if (n && line[n - 1] == '\n')
        line[--n] = 0;
    if (n && line[n - 1] == '\r')
        line[--n] = 0;
    return n;
}

/* offline_verdict - print a decision that ends the message: 1 a refusal,
 * 2 an acceptance or discard; 0 if the message goes on */
static int offline_verdict(FILE *out, const char *step, REPLY r)
{
    if (r.verdict == REPLY_CONTINUE)
        return 0;
    if (r.verdict == REPLY_ACCEPT || r.verdict == REPLY_DISCARD) {
        fprintf(out, "verdict: %s (at %s)\n", r.verdict == REPLY_ACCEPT ? "accept untouched"
                : "discard", step);
        return 2;
    }
    fprintf(out, "verdict: %s at %s: %s %s %s\n",
            r.verdict == REPLY_REJECT ? "reject" : "tempfail", step, r.rcode, r.xcode, r.text);
    return 1;
}

/* offline_suppress - the suppression list, to read (NULL: none to consult) */
static SUPPRESS *offline_suppress(const TXCONF *cf, FILE *out)
{
    SUPPRESS *s;
    BUF err;

    if (cf->unsub.data_directory && strcasecmp(cf->rate.store, "embedded") == 0) {
        char db[4096];

        /* opening would create it (suppress_sqlite.c): a dry run writes nothing */
        snprintf(db, sizeof(db), "%s/suppress.db", cf->unsub.data_directory);
        if (access(db, F_OK) < 0) {
            fprintf(out, "suppression list: %s does not exist yet: nobody is suppressed\n", db);
            return NULL;
        }
    }
    buf_init(&err, 1024);
    if ((s = suppress_open(cf->rate.store, cf->unsub.data_directory, (unsigned) cf->rate.store_timeout_ms, &err)) == NULL)
        fprintf(out, "suppression list: unavailable (%s): not consulted\n", err.data ? err.data : "");
    buf_free(&err);
    return s;
}

typedef struct offline_field {
    char *name, *value;
} OFFLINE_FIELD;

/* One message being read: the header fields as read, the field being
 * folded, the body chunk being filled, and whether the pipeline stopped. */
typedef struct offline_read {
    MSG           *m;
    FILE          *out;
    OFFLINE_FIELD *fields;
    size_t         nf, capf;
    char          *cur_name;
    BUF            cur_value;
    BUF            body;
    int            in_body;
    int            stopped;
} OFFLINE_READ;

/* offline_field_end - the field being read is complete: keep it, show it to the pipeline */
static void offline_field_end(OFFLINE_READ *rd)
{
    if (rd->cur_name == NULL)
        return;
    if (rd->nf == rd->capf) {
        rd->capf = rd->capf ? 2 * rd->capf : 32;
        rd->fields = xrealloc(rd->fields, rd->capf * sizeof(*rd->fields));
    }
    rd->fields[rd->nf].name = rd->cur_name;
    rd->fields[rd->nf].value = xstrdup(rd->cur_value.data ? rd->cur_value.data : "");
    rd->nf++;
    rd->cur_name = NULL;
    buf_reset(&rd->cur_value);
    if (!rd->stopped)
        rd->stopped = offline_verdict(rd->out, "header", msg_header(rd->m, rd->fields[rd->nf - 1].name,
                                                                    rd->fields[rd->nf - 1].value));
}

/* offline_line - one line of the message file, without its line end */
static void offline_line(OFFLINE_READ *rd, const char *line, size_t n)
{
    const char *colon;

    if (!rd->in_body) {
        if ((line[0] == ' ' || line[0] == '\t') && rd->cur_name) {
            (void) buf_append(&rd->cur_value, "\n", 1);
            (void) buf_append(&rd->cur_value, line, n);
            return;
        }
        offline_field_end(rd);
        if (n > 0 && (colon = memchr(line, ':', n)) != NULL && colon > line) {
            rd->cur_name = xstrndup(line, (size_t) (colon - line));
            (void) buf_append(&rd->cur_value, colon + 1, n - (size_t) (colon - line) - 1);
            return;
        }
        rd->in_body = 1;
        if (!rd->stopped)
            rd->stopped = offline_verdict(rd->out, "end of header", msg_eoh(rd->m));
        if (n == 0)
            return;                 /* the empty separator line */
    }
    (void) buf_append(&rd->body, line, n);
    (void) buf_append(&rd->body, "\r\n", 2);
    if (rd->body.len >= OFFLINE_CHUNK && !rd->stopped) {
        rd->stopped = offline_verdict(rd->out, "body", msg_body(rd->m, (unsigned char *) rd->body.data,
                                                                rd->body.len));
        buf_reset(&rd->body);
    }
}

/* offline_read - feed the whole file to the pipeline; what stopped it (offline_verdict()) */
static int offline_read(OFFLINE_READ *rd, FILE *in)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;

    while (!rd->stopped && (got = getline(&line, &cap, in)) > 0)
        offline_line(rd, line, offline_strip_eol(line, (size_t) got));
    free(line);
    if (!rd->in_body && !rd->stopped) {     /* a message that is all header */
        offline_field_end(rd);
        if (!rd->stopped)
            rd->stopped = offline_verdict(rd->out, "end of header", msg_eoh(rd->m));
    }
    if (!rd->stopped && rd->body.len)
        rd->stopped = offline_verdict(rd->out, "body", msg_body(rd->m, (unsigned char *) rd->body.data,
                                                                rd->body.len));
    if (!rd->stopped)
        rd->stopped = offline_verdict(rd->out, "end of message", msg_eom(rd->m));
    return rd->stopped;
}

/* offline_print_header - the header section as the MTA would deliver it,
 * and the removals */
static void offline_print_header(FILE *out, const MSG *m, const OFFLINE_FIELD *fields, size_t nf)
{
    const MSG_HDROP *ops;
    size_t nops = msg_hdrops(m, &ops), i;

    fprintf(out, "verdict: accept\n");
    fprintf(out, "--- resulting header ---\n");
    for (i = nops; i-- > 0;)               /* each insertion went to the top */
        if (ops[i].kind == MSG_HDR_INSERT_TOP)
            fprintf(out, "%s: %s\n", ops[i].name, ops[i].value);
    for (i = 0; i < nf; i++)
        fprintf(out, "%s:%s\n", fields[i].name, fields[i].value);
    for (i = 0; i < nops; i++)
        if (ops[i].kind == MSG_HDR_APPEND)
            fprintf(out, "%s: %s\n", ops[i].name, ops[i].value);
    fprintf(out, "---\n");
    for (i = 0; i < nops; i++) {
        if (ops[i].kind == MSG_HDR_DELETE)
            fprintf(out, "removed field: %s #%d\n", ops[i].name, ops[i].index);
        else if (ops[i].kind == MSG_RCPT_DELETE)
            fprintf(out, "removed recipient: %s\n", ops[i].name);
        else if (ops[i].kind == MSG_FROM_CHANGE)
            fprintf(out, "envelope sender: <%s>\n", ops[i].name);
    }
}

/* offline_envelope - the connection, MAIL FROM and RCPT TO; 1 if that
 * already decides the message (refused, or not outbound) */
static int offline_envelope(const OFFLINE_OPTS *o, MSG *m, FILE *out, int *status)
{
    const char *why;

    if (offline_verdict(out, "MAIL FROM", msg_mail(m))) {
        *status = 3;
        return 1;
    }
    for (size_t i = 0; i < o->rcpts.n; i++) {
        REPLY rr = msg_rcpt(m, o->rcpts.v[i], NULL);

        if (rr.verdict != REPLY_CONTINUE)
            fprintf(out, "recipient %s: %s %s %s\n", o->rcpts.v[i], rr.rcode, rr.xcode, rr.text);
        else if (rr.text[0])
            fprintf(out, "recipient %s: %s\n", o->rcpts.v[i], rr.text);
    }
    if (msg_outbound(m, &why)) {
        fprintf(out, "outbound: yes (%s)\n", why);
    } else if (msg_complaint(m)) {
        fprintf(out, "outbound: no (%s): a feedback report to ComplaintAddress, read as one\n", why);
    } else if (msg_bounce_report(m)) {
        fprintf(out, "outbound: no (%s): mail to a ReturnPath address, read as a bounce\n", why);
    } else {
        fprintf(out, "outbound: no (%s)\n", why);
        fprintf(out, "verdict: accept untouched (not outbound)\n");
        return 1;
    }
    return 0;
}

/* offline_msg_new - the message, as from the connection the options describe */
static MSG *offline_msg_new(const OFFLINE_OPTS *o, SNAPSHOT *snap, const SERVICES *svc)
{
    MSG_CONN conn;
    MSG *m;

    memset(&conn, 0, sizeof(conn));
    util_strlcpy(conn.addr, o->client ? o->client : "127.0.0.1", sizeof(conn.addr));
    util_strlcpy(conn.hostname, o->hostname ? o->hostname : "localhost", sizeof(conn.hostname));
    util_strlcpy(conn.auth_authen, o->auth ? o->auth : "", sizeof(conn.auth_authen));
    util_strlcpy(conn.daemon_name, o->daemon_name ? o->daemon_name : "", sizeof(conn.daemon_name));
    m = msg_new(snap, svc, &conn, o->envfrom ? o->envfrom : "");
    msg_set_queueid(m, "OFFLINE");
    msg_set_dry_run(m);
    return m;
}

int offline_run(const OFFLINE_OPTS *o, FILE *out)
{
    BUF errs;
    SNAPSHOT *snap;
    OFFLINE_READ rd;
    FILE *in;
    SERVICES svc;               /* a dry run takes no rate quota: no rate store */
    int status = 0;

    services_init(&svc);
    buf_init(&errs, 64 * 1024);
    if ((snap = snapshot_build(o->conf, &errs)) == NULL) {
        fputs(errs.data ? errs.data : "configuration error\n", stderr);
        buf_free(&errs);
        return 1;
    }
    buf_free(&errs);
    if (strcmp(o->message, "-") == 0)
        in = stdin;
    else if ((in = fopen(o->message, "r")) == NULL) {
        fprintf(stderr, "txmilter: %s: %m\n", o->message);
        snapshot_release(snap);
        return 1;
    }
    memset(&rd, 0, sizeof(rd));
    if (conf_suppression_list(snap->cf))
        svc.suppress = offline_suppress(snap->cf, out);
    rd.m = offline_msg_new(o, snap, &svc);
    rd.out = out;
    if (snap->policy)
        fprintf(out, "rate limits: not counted offline (txmilterctl policy explain shows the "
                "running daemon's state)\n");
    if (!offline_envelope(o, rd.m, out, &status)) {
        int stopped;

        buf_init(&rd.cur_value, 64 * 1024 * 1024);
        buf_init(&rd.body, OFFLINE_CHUNK + 8192);
        if ((stopped = offline_read(&rd, in)) == 1)
            status = 3;
        else if (stopped == 0)
            offline_print_header(out, rd.m, rd.fields, rd.nf);
        for (size_t i = 0; i < rd.nf; i++) {
            free(rd.fields[i].name);
            free(rd.fields[i].value);
        }
        free(rd.fields);
        free(rd.cur_name);
        buf_free(&rd.body);
        buf_free(&rd.cur_value);
    }
    fprintf(out, "summary: %s\n", msg_summary(rd.m));
    msg_free(rd.m);
    snapshot_release(snap);
    suppress_close(svc.suppress);
    if (in != stdin)
        fclose(in);
    return status;
}

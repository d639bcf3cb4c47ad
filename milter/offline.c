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
 *	as "would record unsubscribe of <rcpt> from stream S", not stored.
 *	The suppression list is only read; an embedded one that does not
 *	exist yet is not created.
 *
 * DIAGNOSTICS
 *	offline_run() returns 0 when the message would be accepted, 3 when
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

/* offline_verdict - print a refusal; 1 if the message stops here */
static int offline_verdict(FILE *out, const char *step, REPLY r)
{
    if (r.verdict == REPLY_CONTINUE)
        return 0;
    if (r.verdict == REPLY_ACCEPT)
        fprintf(out, "verdict: accept untouched (at %s)\n", step);
    else if (r.verdict == REPLY_DISCARD)
        fprintf(out, "verdict: discard (at %s)\n", step);
    else
        fprintf(out, "verdict: %s at %s: %s %s %s\n",
                r.verdict == REPLY_REJECT ? "reject" : "tempfail", step, r.rcode, r.xcode, r.text);
    return 1;
}

/* offline_suppress - the suppression list, to read (NULL: none to consult) */
static SUPPRESS *offline_suppress(const TXCONF *cf, FILE *out)
{
    SUPPRESS *s;
    BUF err;

    if (cf->data_directory && strcasecmp(cf->store, "embedded") == 0) {
        char db[4096];

        /* opening would create it (suppress_sqlite.c): a dry run writes nothing */
        snprintf(db, sizeof(db), "%s/suppress.db", cf->data_directory);
        if (access(db, F_OK) < 0) {
            fprintf(out, "suppression list: %s does not exist yet: nobody is suppressed\n", db);
            return NULL;
        }
    }
    buf_init(&err, 1024);
    if ((s = suppress_open(cf->store, cf->data_directory, (unsigned) cf->store_timeout_ms, &err)) == NULL)
        fprintf(out, "suppression list: unavailable (%s): not consulted\n", err.data ? err.data : "");
    buf_free(&err);
    return s;
}

typedef struct offline_field {
    char *name, *value;
} OFFLINE_FIELD;

int offline_run(const OFFLINE_OPTS *o, FILE *out)
{
    BUF errs, body;
    SNAPSHOT *snap;
    MSG_CONN conn;
    MSG *m;
    FILE *in;
    char *line = NULL, *cur_name = NULL;
    BUF cur_value;
    size_t cap = 0, i, nf = 0, capf = 0;
    ssize_t got;
    OFFLINE_FIELD *fields = NULL;
    const char *why;
    SUPPRESS *suppress = NULL;
    int status = 0, stopped = 0, in_body = 0;
    REPLY r;

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
    memset(&conn, 0, sizeof(conn));
    util_strlcpy(conn.addr, o->client ? o->client : "127.0.0.1", sizeof(conn.addr));
    util_strlcpy(conn.hostname, o->hostname ? o->hostname : "localhost", sizeof(conn.hostname));
    util_strlcpy(conn.auth_authen, o->auth ? o->auth : "", sizeof(conn.auth_authen));
    util_strlcpy(conn.daemon_name, o->daemon_name ? o->daemon_name : "", sizeof(conn.daemon_name));
    m = msg_new(snap, &conn, o->envfrom ? o->envfrom : "");
    msg_set_queueid(m, "OFFLINE");
    msg_set_dry_run(m);
    if (conf_unsubscribes(snap->cf) || snap->cf->unsub_mailto || snap->cf->unsub_table)
        suppress = offline_suppress(snap->cf, out);
    unsub_set_store(suppress);
    if (snap->policy)
        fprintf(out, "rate limits: not counted offline (txmilterctl policy explain shows the "
                "running daemon's state)\n");
    if (offline_verdict(out, "MAIL FROM", msg_mail(m))) {
        status = 3;
        goto done;
    }
    for (i = 0; i < o->rcpts.n; i++) {
        REPLY rr = msg_rcpt(m, o->rcpts.v[i], NULL);

        if (rr.verdict != REPLY_CONTINUE)
            fprintf(out, "recipient %s: %s %s %s\n", o->rcpts.v[i], rr.rcode, rr.xcode, rr.text);
        else if (rr.text[0])
            fprintf(out, "recipient %s: %s\n", o->rcpts.v[i], rr.text);
    }
    {
        int ob = msg_outbound(m, &why);

        fprintf(out, "outbound: %s (%s)\n", ob ? "yes" : "no", why);
    }
    if (!msg_outbound(m, NULL)) {
        fprintf(out, "verdict: accept untouched (not outbound)\n");
        goto done;
    }

    buf_init(&cur_value, 64 * 1024 * 1024);
    buf_init(&body, OFFLINE_CHUNK + 8192);
    while ((got = getline(&line, &cap, in)) > 0 && !stopped) {
        size_t n = offline_strip_eol(line, (size_t) got);
        char *colon;

        if (!in_body) {
            if ((line[0] == ' ' || line[0] == '\t') && cur_name) {
                (void) buf_append(&cur_value, "\n", 1);
                (void) buf_append(&cur_value, line, n);
                continue;
            }
            if (cur_name) {
                if (nf == capf) {
                    capf = capf ? 2 * capf : 32;
                    fields = xrealloc(fields, capf * sizeof(*fields));
                }
                fields[nf].name = cur_name;
                fields[nf].value = xstrdup(cur_value.data ? cur_value.data : "");
                nf++;
                stopped = offline_verdict(out, "header", msg_header(m, cur_name, fields[nf - 1].value));
                cur_name = NULL;
                buf_reset(&cur_value);
            }
            if (n > 0 && (colon = memchr(line, ':', n)) != NULL && colon > line) {
                cur_name = xstrndup(line, (size_t) (colon - line));
                (void) buf_append(&cur_value, colon + 1, n - (size_t) (colon - line) - 1);
                continue;
            }
            in_body = 1;
            if (!stopped)
                stopped = offline_verdict(out, "end of header", msg_eoh(m));
            if (n == 0)
                continue;           /* the empty separator line */
        }
        (void) buf_append(&body, line, n);
        (void) buf_append(&body, "\r\n", 2);
        if (body.len >= OFFLINE_CHUNK && !stopped) {
            stopped = offline_verdict(out, "body", msg_body(m, (unsigned char *) body.data, body.len));
            buf_reset(&body);
        }
    }
    if (!in_body && !stopped) {
        if (cur_name) {
            if (nf == capf) {
                capf = capf ? 2 * capf : 32;
                fields = xrealloc(fields, capf * sizeof(*fields));
            }
            fields[nf].name = cur_name;
            fields[nf].value = xstrdup(cur_value.data ? cur_value.data : "");
            nf++;
            (void) msg_header(m, cur_name, fields[nf - 1].value);
            cur_name = NULL;
        }
        stopped = offline_verdict(out, "end of header", msg_eoh(m));
    }
    if (!stopped && body.len)
        stopped = offline_verdict(out, "body", msg_body(m, (unsigned char *) body.data, body.len));
    if (!stopped) {
        r = msg_eom(m);
        stopped = offline_verdict(out, "end of message", r);
    }
    if (stopped)
        status = 3;
    else {
        const MSG_HDROP *ops;
        size_t nops = msg_hdrops(m, &ops);

        fprintf(out, "verdict: accept\n");
        fprintf(out, "--- resulting header ---\n");
        for (i = nops; i-- > 0;)           /* each insertion went to the top */
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
        }
    }
    for (i = 0; i < nf; i++) {
        free(fields[i].name);
        free(fields[i].value);
    }
    free(fields);
    free(cur_name);
    free(line);
    buf_free(&body);
    buf_free(&cur_value);
done:
    fprintf(out, "summary: %s\n", msg_summary(m));
    msg_free(m);
    snapshot_release(snap);
    unsub_set_store(NULL);
    suppress_close(suppress);
    if (in != stdin)
        fclose(in);
    return status;
}

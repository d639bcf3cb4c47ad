/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_msg.c - libFuzzer target: the milter side of a message
 * (pipeline/msg.c with msg_unsub.c, hdr.c, keytable.c, sign.c): header
 * fields as the MTA hands them over, then end of header, body and end
 * of message, as the callbacks drive it, without a socket.
 *
 * Set up once: an RSA and an Ed25519 key, KeyTable, SigningTable
 * (example.com signs with both, example.net with RSA), List-Unsubscribe
 * with a test key (replacing the message's own), in a snapshot built
 * from a real configuration file; one recipient.
 * Input: a message as `txmilter -t` reads one: header lines ("Name:
 * value", folded lines joined with LF, the leading space kept), up to the
 * first line without a colon; the rest is the body, fed in chunks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "msg.h"
#include "snapshot.h"
#include "util.h"

#define CHUNK 1024

static SNAPSHOT *snap;

/* write_key - a new private key file of type alg */
static void write_key(const char *file, const char *alg, int bits)
{
    char *pem = fuzz_new_key(alg, bits);

    (void) fuzz_file(file, pem, strlen(pem));
    free(pem);
}

/* stopped - 1 if a reply ends the message (the callbacks stop there) */
static int stopped(REPLY r)
{
    if (r.verdict == REPLY_TEMPFAIL || r.verdict == REPLY_REJECT) {
        if (strlen(r.rcode) != 3 || r.xcode[0] != r.rcode[0] || r.text[0] == 0)
            abort();            /* every refusal carries a full SMTP reply */
        return 1;
    }
    return r.verdict != REPLY_CONTINUE;
}

/* headers - feed the header fields of the message at p; returns where the body starts */
static size_t headers(MSG *m, const char *p, size_t size, int *stop)
{
    BUF value;
    char *name = NULL;
    size_t at = 0;

    buf_init(&value, FUZZ_MAX_INPUT);
    while (at < size && !*stop) {
        const char *line = p + at, *nl = memchr(line, '\n', size - at), *colon;
        size_t n = nl ? (size_t) (nl - line) : size - at, len = n;

        if (len && line[len - 1] == '\r')
            len--;
        if ((line[0] == ' ' || line[0] == '\t') && name) {
            (void) buf_append(&value, "\n", 1);
            (void) buf_append(&value, line, len);
            at += n + (nl != NULL);
            continue;
        }
        if (name) {
            *stop = stopped(msg_header(m, name, value.data ? value.data : ""));
            free(name);
            name = NULL;
            buf_reset(&value);
        }
        if (len == 0 || (colon = memchr(line, ':', len)) == NULL || colon == line)
            break;              /* the body starts here (an empty line is skipped) */
        name = xstrndup(line, (size_t) (colon - line));
        (void) buf_append(&value, colon + 1, len - (size_t) (colon - line) - 1);
        at += n + (nl != NULL);
    }
    if (name && !*stop)
        *stop = stopped(msg_header(m, name, value.data ? value.data : ""));
    free(name);
    buf_free(&value);
    if (at < size && p[at] == '\n')
        at++;
    else if (at + 1 < size && p[at] == '\r' && p[at + 1] == '\n')
        at += 2;
    return at;
}

/* run - one message through the pipeline; 1 if it was signed */
static int run(const uint8_t *data, size_t size)
{
    MSG_CONN conn;
    MSG *m;
    const MSG_HDROP *ops;
    size_t at, n;
    int stop = 0, ok = 0;

    memset(&conn, 0, sizeof(conn));
    snprintf(conn.addr, sizeof(conn.addr), "127.0.0.1");
    snprintf(conn.hostname, sizeof(conn.hostname), "localhost");
    m = msg_new(snap, NULL, &conn, "<app@example.com>");
    msg_set_queueid(m, "FUZZ");
    (void) msg_mail(m);
    (void) msg_rcpt(m, "<Rcpt+tag@Example.ORG>", NULL); /* one: List-Unsubscribe needs that */
    at = headers(m, (const char *) data, size, &stop);
    if (!stop)
        stop = stopped(msg_eoh(m));
    for (; !stop && at < size; at += n) {
        n = size - at < CHUNK ? size - at : CHUNK;
        stop = stopped(msg_body(m, data + at, n));
    }
    if (!stop && !stopped(msg_eom(m))) {
        n = msg_hdrops(m, &ops);
        for (size_t i = 0; i < n; i++)
            if (ops[i].name == NULL || ops[i].value == NULL || strchr(ops[i].value, '\r'))
                abort();        /* what goes back to the MTA is well formed */
        ok = strstr(msg_summary(m), "action=signed") != NULL
            && strstr(msg_summary(m), "unsubscribe=added") != NULL;
    }
    msg_free(m);
    return ok;
}

/* fuzz_setup - keys, tables and the snapshot, and one message that must be signed */
void fuzz_setup(void)
{
    static const char unsub_keys[] = "1 ULiCRWjdPFI4D/dCFT18WuJd5GNesD2urx3uZjaexr0=\n";
    const char *d;
    char *text;
    BUF errs;

    d = fuzz_dir();
    write_key("rsa.pem", "RSA", 1024);
    write_key("ed.pem", "ED25519", 0);
    text = xasprintf("rsa example.com:s1:%s/rsa.pem\ned example.com:s2:%s/ed.pem\n"
                     "net example.net:n1:%s/rsa.pem\n", d, d, d);
    (void) fuzz_file("KeyTable", text, strlen(text));
    free(text);
    text = "*@example.com rsa\n*@example.com ed\n*@example.net net\n";
    (void) fuzz_file("SigningTable", text, strlen(text));
    (void) fuzz_file("unsub.keys", unsub_keys, strlen(unsub_keys));
    text = xasprintf("Syslog no\nKeyTable %s/KeyTable\nSigningTable refile:%s/SigningTable\n"
                     "MultipleSignatures yes\nInternalHosts 127.0.0.1\n"
                     "UnsubscribeKeyFile %s/unsub.keys\n"
                     "UnsubscribeURL https://unsub.example.com/u/%%{token}\n"
                     "UnsubscribeMailto unsub+%%{token}@example.com\n"
                     "UnsubscribeExisting replace\n", d, d, d);
    buf_init(&errs, 8192);
    if ((snap = snapshot_build(fuzz_file("txmilter.conf", text, strlen(text)), &errs)) == NULL) {
        fprintf(stderr, "fuzz_msg: %s", errs.data ? errs.data : "no snapshot\n");
        abort();
    }
    buf_free(&errs);
    free(text);
    /* a plain message is signed and gets List-Unsubscribe, or the target tests little */
    text = "From: App <app@example.com>\nSubject: hello\n\nHello.\r\n";
    if (!run((const uint8_t *) text, strlen(text))) {
        fprintf(stderr, "fuzz_msg: a plain message was not signed\n");
        abort();
    }
}

/* LLVMFuzzerTestOneInput - one message */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return -1;
    (void) run(data, size);
    return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_offline.c - unit tests for milter/offline.c (txmilter -t): a table
 * of message files, envelopes and clients run through offline_run() on a
 * real configuration with an Ed25519 key, checking the exit status and
 * what it prints: the outbound decision, the verdict with its SMTP reply,
 * the resulting header (DKIM-Signature on top, folded fields kept, a line
 * without a colon ending the header), recipients refused, and that a dry
 * run creates no suppression list and only describes an unsubscribe
 * request by mail, a feedback report to a ComplaintAddress or a DSN to
 * a ReturnPath address (dead, or soft under BounceSoftLimit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "offline.h"
#include "rp_token.h"
#include "unsub_token.h"
#include "testutil.h"

static char dir[] = "/tmp/txoffline.XXXXXX";

/* setup - a key, its tables and the unsubscribe key in dir */
static int setup(void)
{
    char buf[600];

    if (mkdtemp(dir) == NULL)
        return -1;
    th_signing_files(dir);
    snprintf(buf, sizeof(buf), "%s/data", dir);
    return mkdir(buf, 0700);
}

#define UNSUB "UnsubscribeKeyFile %D/unsub.keys\nUnsubscribeURL https://u.example/u/%{token}\n" \
    "DataDirectory %D/data\n"

typedef struct offline_case {
    const char *name;
    const char *conf;               /* directives besides the keys and InternalHosts; %D: the directory */
    const char *message;            /* the file's text; NULL: a file that does not exist */
    const char *client, *auth;      /* NULL: the defaults (127.0.0.1, none) */
    const char *rcpt;               /* with TOKEN (here or in message): a valid unsubscribe token there */
    int         status;             /* offline_run()'s */
    const char *want[3];            /* in what it prints */
    const char *not_want;
} OFFLINE_CASE;

static const OFFLINE_CASE offline_cases[] = {
    {"internal client: signed, DKIM-Signature on top", "", "From: a@example.com\nSubject: hi\n\nhello\n",
     NULL, NULL, "<b@example.org>", 0,
     {"outbound: yes (internal client 127.0.0.1)", "--- resulting header ---\nDKIM-Signature: v=1;",
      "summary: from=<a@example.com> outbound"}, "verdict: reject"},
    {"other client: accepted untouched", "", "From: a@example.com\n\nhello\n", "198.51.100.7", NULL,
     "<b@example.org>", 0, {"outbound: no (client", "verdict: accept untouched (not outbound)", NULL},
     "DKIM-Signature"},
    {"authenticated client: signed", "", "From: a@example.com\n\nhello\n", "198.51.100.7", "user",
     "<b@example.org>", 0, {"outbound: yes (authenticated as user)", "DKIM-Signature: v=1;", NULL}, NULL},
    {"no From field: 550 5.6.0 at end of header", "", "Subject: hi\n\nhello\n", NULL, NULL, "<b@example.org>",
     3, {"verdict: reject at end of header: 550 5.6.0 message has no From header field", NULL, NULL},
     "--- resulting header ---"},
    {"folded field kept with its line break", "", "From: a@example.com\nSubject: one\n two\n\nhello\n", NULL,
     NULL, "<b@example.org>", 0, {"Subject: one\n two\n", NULL, NULL}, NULL},
    {"a line without a colon ends the header", "", "From: a@example.com\nnot a field\nSubject: body\n", NULL,
     NULL, "<b@example.org>", 0, {"From: a@example.com\n---\n", NULL, NULL}, "Subject: body"},
    {"header only: signed", "", "From: a@example.com\n", NULL, NULL, "<b@example.org>", 0,
     {"DKIM-Signature: v=1;", NULL, NULL}, NULL},
    {"bad recipient: its refusal printed", "", "From: a@example.com\n\nhello\n", NULL, NULL,
     "<john doe@example.org>", 0, {"recipient <john doe@example.org>: 550 5.1.3", NULL, NULL}, NULL},
    {"List-Unsubscribe added, no suppression list created", UNSUB, "From: a@example.com\n\nhello\n", NULL,
     NULL, "<b@example.org>", 0, {"does not exist yet: nobody is suppressed", "List-Unsubscribe: <https://u.example/u/",
                                  "List-Unsubscribe-Post: List-Unsubscribe=One-Click"}, NULL},
    {"unsubscribe request by mail: described, nothing stored", UNSUB
     "UnsubscribeMailto unsubscribe+%{token}@u.example\n", "From: bob@example.org\n\nplease\n", "198.51.100.7",
     NULL, "<unsubscribe+TOKEN@u.example>", 0,
     {"would record unsubscribe of <bob@example.org> from stream app@example.com (dry run: nothing written)",
      "verdict: accept untouched", NULL}, NULL},
    {"feedback report to ComplaintAddress: read, described, nothing stored", UNSUB
     "ComplaintAddress fbl@u.example\n", "From: Yahoo! <feedback@arf.mail.yahoo.com>\n"
     "Content-Type: multipart/report; report-type=feedback-report; boundary=b\n\n"
     "--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n\n"
     "--b\nContent-Type: message/rfc822\n\nList-Unsubscribe: <https://u.example/u/TOKEN>\n\nhi\n--b--\n",
     "198.51.100.7", NULL, "<fbl@u.example>", 0,
     {"a feedback report to ComplaintAddress, read as one", "verdict: discard (at end of message)",
      "complaint=abuse suppressed=<bob@example.org> stream=app@example.com reason=complaint not "
      "recorded (dry run)"}, "verdict: accept"},
    {"DSN of a dead address to the return path: read, described, nothing stored", UNSUB
     "ReturnPath bounces+%{token}@bounce.%{domain}\n", "From: MAILER-DAEMON@mx.example.org\n"
     "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
     "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
     "Final-Recipient: rfc822; bob@example.org\nAction: failed\nStatus: 5.1.1\n\n--b--\n",
     "198.51.100.7", NULL, "<bounces+RPTOKEN@bounce.example.com>", 0,
     {"verdict: discard (at end of message)", "bounce=dead status=5.1.1 rcpt=<bob@example.org> "
      "stream=app@example.com would be suppressed (dry run: nothing written)", NULL}, "verdict: accept"},
    {"soft bounce under BounceSoftLimit: described, not counted", UNSUB
     "ReturnPath bounces+%{token}@bounce.%{domain}\nBounceSoftLimit 3/7d\n",
     "From: MAILER-DAEMON@mx.example.org\n"
     "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
     "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
     "Final-Recipient: rfc822; bob@example.org\nAction: failed\nStatus: 4.2.2\n\n--b--\n",
     "198.51.100.7", NULL, "<bounces+RPTOKEN@bounce.example.com>", 0,
     {"bounce=full status=4.2.2 rcpt=<bob@example.org> stream=app@example.com would be counted "
      "towards BounceSoftLimit (dry run: nothing written)", NULL, NULL}, NULL},
    {"message file missing: status 1", "", NULL, NULL, NULL, "<b@example.org>", 1, {NULL, NULL, NULL},
     "verdict"},
};

/* with_token - *rcpt (or a message) with TOKEN replaced by a token for bob@example.org's
 * unsubscribe from app@example.com, or RPTOKEN by a return-path token for the same
 * recipient and stream (sender a@example.com), sealed with dir/unsub.keys */
static void with_token(char **rcpt)
{
    char path[300], token[UNSUB_TOKEN_MAX], *at = strstr(*rcpt, "TOKEN"), *next;
    char *rp = strstr(*rcpt, "RPTOKEN");
    UNSUB_KEYS *k;
    BUF errs;

    snprintf(path, sizeof(path), "%s/unsub.keys", dir);
    buf_init(&errs, 1024);
    if ((k = unsub_keys_load(path, &errs)) == NULL)
        fail_msg("%s: %s", path, errs.data);
    buf_free(&errs);
    if (rp)
        assert_int_equal(rp_token_seal(k, "bob@example.org", "app@example.com", "a@example.com",
                                       (uint64_t) time(NULL), token, sizeof(token)), 0);
    else
        assert_int_equal(unsub_token_seal(k, "bob@example.org", "app@example.com", (uint64_t) time(NULL),
                                          token, sizeof(token)), 0);
    unsub_keys_free(k);
    if (rp)
        at = rp;
    next = xasprintf("%.*s%s%s", (int) (at - *rcpt), *rcpt, token, at + (rp ? 7 : 5));
    free(*rcpt);
    *rcpt = next;
}

/* test_offline - one row through offline_run() */
static void test_offline(void **state)
{
    const OFFLINE_CASE *c = *state;
    const char *vals[26] = {0};
    char conf_path[300], msg_path[300], db[300], *extra, *text, *out = NULL;
    char base[1024];
    size_t outlen = 0;
    OFFLINE_OPTS o;
    FILE *fp;
    int rc;

    vals['D' - 'A'] = dir;
    extra = th_subst(c->conf, vals);
    snprintf(base, sizeof(base), "Syslog no\nKeyTable %s/KeyTable\nSigningTable refile:%s/SigningTable\n"
             "InternalHosts 127.0.0.1\n", dir, dir);
    text = xasprintf("%s%s", base, extra);
    th_write_file(dir, "txmilter.conf", text, 0644);
    snprintf(conf_path, sizeof(conf_path), "%s/txmilter.conf", dir);
    snprintf(msg_path, sizeof(msg_path), "%s/%s", dir, c->message ? "message" : "missing");
    if (c->message) {
        char *msg = xstrdup(c->message);

        if (strstr(msg, "TOKEN"))
            with_token(&msg);
        th_write_file(dir, "message", msg, 0644);
        free(msg);
    }
    memset(&o, 0, sizeof(o));
    o.conf = conf_path;
    o.message = msg_path;
    o.envfrom = "<a@example.com>";
    strv_init(&o.rcpts);
    strv_add(&o.rcpts, c->rcpt);
    if (strstr(c->rcpt, "TOKEN"))
        with_token(&o.rcpts.v[0]);
    o.client = c->client;
    o.auth = c->auth;
    fp = open_memstream(&out, &outlen);
    assert_non_null(fp);
    rc = offline_run(&o, fp);
    fclose(fp);
    if (rc != c->status)
        fail_msg("case \"%s\": status %d, want %d:\n%s", c->name, rc, c->status, out);
    for (size_t i = 0; i < 3 && c->want[i]; i++)
        if (strstr(out, c->want[i]) == NULL)
            fail_msg("case \"%s\": \"%s\" not in\n%s", c->name, c->want[i], out);
    if (c->not_want && strstr(out, c->not_want))
        fail_msg("case \"%s\": \"%s\" in\n%s", c->name, c->not_want, out);
    snprintf(db, sizeof(db), "%s/data/suppress.db", dir);
    if (access(db, F_OK) == 0)
        fail_msg("case \"%s\": the dry run created %s", c->name, db);
    strv_free(&o.rcpts);
    free(out);
    free(text);
    free(extra);
    unlink(msg_path);
}

int main(void)
{
    int rc;

    if (setup() < 0) {
        fprintf(stderr, "test_offline: cannot set up %s\n", dir);
        return 1;
    }
    rc = RUN("offline", test_offline, offline_cases);
    return (th_remove_dir(dir) < 0 || rc) ? 1 : 0;
}

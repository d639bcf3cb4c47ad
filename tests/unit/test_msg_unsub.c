/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_msg_unsub.c - unit tests for msg_unsub.c through the pipeline's
 * public functions (msg_rcpt, msg_eoh, msg_eom, msg_hdrops): recipients
 * on a real SQLite suppression list in a temporary directory removed (or
 * the message refused when none is left), List-Unsubscribe added for a
 * single recipient, an application's own kept or replaced, exempt
 * senders, UnsubscribeScope domain, and requests by mail to the
 * UnsubscribeMailto address stored in the list (their age measured by
 * the services' clock).
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

#include "msg.h"
#include "services.h"
#include "snapshot.h"
#include "suppress.h"
#include "testmsg.h"
#include "testutil.h"
#include "unsub_msg.h"
#include "unsub_token.h"

/* One message from app@example.com (or from) to rcpts, with the list holding sup. */
typedef struct unsub_case {
    const char *name;
    const char *conf;               /* extra directives */
    const char *from;               /* From field value */
    const char *rcpts[4];
    const char *sup[4];             /* "rcpt stream" pairs already on the list */
    const char *existing;           /* List-Unsubscribe the application set, or NULL */
    REPLY_VERDICT verdict;          /* of msg_eoh() */
    const char *xcode;              /* when refused */
    const char *removed[4];         /* recipients deleted */
    int         added;              /* our List-Unsubscribe and -Post added */
    int         deleted;            /* fields of the application deleted */
    const char *note;               /* substring of the summary */
    const char *token_rcpt;         /* the recipient our token names */
    const char *reply;              /* when refused, a substring (NULL: "unsubscribed") */
} UNSUB_CASE;

#define APP " app@example.com"

static const UNSUB_CASE unsub_cases[] = {
    {"one recipient: header added", "", APP, {"bob@example.org"}, {NULL}, NULL,
     REPLY_CONTINUE, NULL, {NULL}, 1, 0, "unsubscribe=added", "bob@example.org", NULL},
    {"two recipients: no header (a token names one)", "", APP, {"bob@example.org", "eve@example.org"}, {NULL},
     NULL, REPLY_CONTINUE, NULL, {NULL}, 0, 0, "unsubscribe=skipped-2-recipients", NULL, NULL},
    {"the only recipient unsubscribed: 550", "", APP, {"bob@example.org"},
     {"bob@example.org app@example.com"}, NULL, REPLY_REJECT, "5.7.1", {NULL}, 0, 0, "", NULL, NULL},
    {"every recipient unsubscribed: 550", "", APP, {"bob@example.org", "eve@example.org"},
     {"bob@example.org app@example.com", "eve@example.org app@example.com"}, NULL,
     REPLY_REJECT, "5.7.1", {NULL}, 0, 0, "", NULL, NULL},
    {"one of two removed, header for the other", "", APP, {"bob@example.org", "eve@example.org"},
     {"bob@example.org app@example.com"}, NULL, REPLY_CONTINUE, NULL, {"<bob@example.org>"}, 1, 0,
     "suppressed=<bob@example.org>", "eve@example.org", NULL},
    {"unsubscribed from another stream only", "", APP, {"bob@example.org"},
     {"bob@example.org news@example.com"}, NULL, REPLY_CONTINUE, NULL, {NULL}, 1, 0, "unsubscribe=added",
     "bob@example.org", NULL},
    {"suppression matches the normalised address", "", APP, {"Bob@Example.ORG"},
     {"bob@example.org app@example.com"}, NULL, REPLY_REJECT, "5.7.1", {NULL}, 0, 0, "", NULL, NULL},
    {"scope domain: any sender of the domain", "UnsubscribeScope domain\n", APP, {"bob@example.org"},
     {"bob@example.org example.com"}, NULL, REPLY_REJECT, "5.7.1", {NULL}, 0, 0, "", NULL, NULL},
    {"scope address: a domain entry does not apply", "", APP, {"bob@example.org"},
     {"bob@example.org example.com"}, NULL, REPLY_CONTINUE, NULL, {NULL}, 1, 0, "unsubscribe=added",
     "bob@example.org", NULL},
    {"exempt sender: neither removed nor header", "UnsubscribeExempt app@example.com\n", APP,
     {"bob@example.org"}, {"bob@example.org app@example.com"}, NULL, REPLY_CONTINUE, NULL, {NULL}, 0, 0,
     "unsubscribe=exempt", NULL, NULL},
    {"exempt domain", "UnsubscribeExempt example.com\n", APP, {"bob@example.org"}, {NULL}, NULL,
     REPLY_CONTINUE, NULL, {NULL}, 0, 0, "unsubscribe=exempt", NULL, NULL},
    {"exempt elsewhere does not apply", "UnsubscribeExempt reset@example.com\n", APP, {"bob@example.org"},
     {NULL}, NULL, REPLY_CONTINUE, NULL, {NULL}, 1, 0, "unsubscribe=added", "bob@example.org", NULL},
    {"existing header kept", "", APP, {"bob@example.org"}, {NULL}, "<https://app.example/u>",
     REPLY_CONTINUE, NULL, {NULL}, 0, 0, "unsubscribe=kept-existing", NULL, NULL},
    {"existing header replaced", "UnsubscribeExisting replace\n", APP, {"bob@example.org"}, {NULL},
     "<https://app.example/u>", REPLY_CONTINUE, NULL, {NULL}, 1, 2, "unsubscribe=replaced", "bob@example.org", NULL},
    {"the only recipient bounced: 550 names the status", "", APP, {"bob@example.org"},
     {"bob@example.org app@example.com bounce 5.1.1; smtp; 550 5.1.1 <bob@example.org>: no such user"},
     NULL, REPLY_REJECT, "5.7.1", {NULL}, 0, 0, "", NULL,
     "<bob@example.org>: recipient bounced mail of app@example.com (bounced: 5.1.1)"},
    {"the only recipient complained: 550 says so", "", APP, {"bob@example.org"},
     {"bob@example.org app@example.com complaint abuse"}, NULL, REPLY_REJECT, "5.7.1", {NULL}, 0, 0, "",
     NULL, "(complaint)"},
    {"put there by the operator: 550 says so", "", APP, {"bob@example.org"},
     {"bob@example.org app@example.com manual"}, NULL, REPLY_REJECT, "5.7.1", {NULL}, 0, 0, "",
     NULL, "recipient unsubscribed from mail of app@example.com (by the operator)"},
    {"one bounced, one unsubscribed: 550 for both", "", APP, {"bob@example.org", "eve@example.org"},
     {"bob@example.org app@example.com bounce 5.2.2", "eve@example.org app@example.com"}, NULL,
     REPLY_REJECT, "5.7.1", {NULL}, 0, 0, "", NULL, "all 2 recipients are suppressed"},
    {"one of two bounced: removed, header for the other", "", APP, {"bob@example.org", "eve@example.org"},
     {"bob@example.org app@example.com bounce 5.1.1"}, NULL, REPLY_CONTINUE, NULL, {"<bob@example.org>"},
     1, 0, "suppressed=<bob@example.org>", "eve@example.org", NULL},
};

/* snap_with - a snapshot with List-Unsubscribe on, plus extra */
static SNAPSHOT *snap_with(const char *extra)
{
    return th_msg_snapshot("UnsubscribeURL https://u.example/u/%{token}\n"
                           "UnsubscribeMailto unsubscribe+%{token}@u.example\n", extra);
}

/* open_list - a fresh suppression list in th_msg_dir holding sup */
static SUPPRESS *open_list(const char *const *sup)
{
    SUPPRESS *store = th_msg_list();
    BUF err;

    buf_init(&err, 512);
    for (size_t i = 0; i < 4 && sup[i]; i++) {
        char rcpt[128], stream[128], reason[32] = "unsubscribe";
        int at = 0, rn;
        SUPPRESS_INFO in = { SUPPRESS_UNSUBSCRIBE, "", 0 };

        /* "rcpt stream [reason [evidence]]" */
        assert_true(sscanf(sup[i], "%127s %127s %n%31s %n", rcpt, stream, &at, reason, &at) >= 2);
        assert_true((rn = suppress_reason_parse(reason)) >= 0);
        in.reason = (SUPPRESS_REASON) rn;
        in.evidence = sup[i] + at;
        if (suppress_record(store, rcpt, stream, "test", &in, &err) < 0)
            fail_msg("suppress_record: %s", err.data);
    }
    buf_free(&err);
    return store;
}

/* token_rcpt - the recipient named by the token in a List-Unsubscribe value */
static void token_rcpt(SNAPSHOT *s, const char *value, char *out, size_t len)
{
    const char *p = strstr(value, "https://u.example/u/");
    char token[UNSUB_TOKEN_MAX], why[64];
    UNSUB_PAYLOAD pl;
    size_t n;

    assert_non_null(p);
    p += strlen("https://u.example/u/");
    n = strcspn(p, ">");
    assert_true(n < sizeof(token));
    memcpy(token, p, n);
    token[n] = 0;
    if (unsub_token_open(s->unsub_keys, token, 0, (uint64_t) time(NULL), &pl, TH_ERR(why)) < 0)
        fail_msg("token %s refused: %s", token, why);
    snprintf(out, len, "%s", pl.rcpt);
}

/* check_ops - the recipients removed and the fields added and deleted
 * at the end of c's message */
static void check_ops(const UNSUB_CASE *c, SNAPSHOT *s, MSG *m)
{
    const MSG_HDROP *ops;
    size_t nops, nremoved = 0, nwant = 0;
    int added = 0, post = 0, deleted = 0;
    char rcpt[sizeof(((UNSUB_PAYLOAD *) 0)->rcpt) + 2];

    nops = msg_hdrops(m, &ops);
    for (size_t i = 0; i < nops; i++) {
        if (ops[i].kind == MSG_RCPT_DELETE) {
            int known = 0;

            for (size_t k = 0; k < 4 && c->removed[k]; k++)
                known |= strcmp(ops[i].name, c->removed[k]) == 0;
            if (!known)
                fail_msg("case \"%s\": recipient %s removed", c->name, ops[i].name);
            nremoved++;
        } else if (ops[i].kind == MSG_HDR_DELETE) {
            deleted++;
            if (ops[i].index != 1)
                fail_msg("case \"%s\": deletes field %s #%d", c->name, ops[i].name, ops[i].index);
        } else if (strcmp(ops[i].name, "List-Unsubscribe") == 0) {
            added++;
            if (c->token_rcpt) {
                token_rcpt(s, ops[i].value, rcpt, sizeof(rcpt));
                if (strcmp(rcpt, c->token_rcpt) != 0)
                    fail_msg("case \"%s\": token for %s, want %s", c->name, rcpt, c->token_rcpt);
            }
        } else if (strcmp(ops[i].name, "List-Unsubscribe-Post") == 0) {
            post++;
        }
    }
    while (nwant < 4 && c->removed[nwant])
        nwant++;
    if (nremoved != nwant)
        fail_msg("case \"%s\": %zu recipients removed, want %zu", c->name, nremoved, nwant);
    if (added != c->added || post != c->added)
        fail_msg("case \"%s\": List-Unsubscribe added %d, -Post %d, want %d", c->name, added, post, c->added);
    if (deleted != c->deleted)
        fail_msg("case \"%s\": %d fields deleted, want %d", c->name, deleted, c->deleted);
}

/* test_eoh - one message through end of header and end of message */
static void test_eoh(void **state)
{
    const UNSUB_CASE *c = *state;
    SNAPSHOT *s = snap_with(c->conf);
    SUPPRESS *store = open_list(c->sup);
    SERVICES svc;
    MSG_CONN conn;
    MSG *m;
    REPLY r;
    char rcpt[sizeof(((UNSUB_PAYLOAD *) 0)->rcpt) + 2];

    memset(&conn, 0, sizeof(conn));
    snprintf(conn.addr, sizeof(conn.addr), "127.0.0.1");
    snprintf(conn.hostname, sizeof(conn.hostname), "localhost");
    services_init(&svc);
    svc.suppress = store;
    m = msg_new(s, &svc, &conn, "<app@example.com>");
    msg_set_queueid(m, "QID1");
    for (size_t i = 0; i < 4 && c->rcpts[i]; i++) {
        snprintf(rcpt, sizeof(rcpt), "<%s>", c->rcpts[i]);
        if ((r = msg_rcpt(m, rcpt, c->rcpts[i])).verdict != REPLY_CONTINUE)
            fail_msg("case \"%s\": rcpt %s refused: %s", c->name, rcpt, r.text);
    }
    (void) msg_header(m, "From", c->from);
    (void) msg_header(m, "Subject", " hello");
    if (c->existing) {
        (void) msg_header(m, "List-Unsubscribe", c->existing);
        (void) msg_header(m, "List-Unsubscribe-Post", " List-Unsubscribe=One-Click");
    }
    r = msg_eoh(m);
    if (r.verdict != c->verdict)
        fail_msg("case \"%s\": eoh verdict %d, want %d (%s; %s)", c->name, r.verdict, c->verdict, r.text,
                 msg_summary(m));
    if (c->xcode && strcmp(r.xcode, c->xcode) != 0)
        fail_msg("case \"%s\": %s %s", c->name, r.rcode, r.xcode);
    if (c->verdict != REPLY_CONTINUE) {
        if (strstr(r.text, c->reply ? c->reply : "unsubscribed") == NULL)
            fail_msg("case \"%s\": reply \"%s\"", c->name, r.text);
        goto out;
    }
    assert_int_equal(msg_body(m, (const unsigned char *) "hi\r\n", 4).verdict, REPLY_CONTINUE);
    assert_int_equal(msg_eom(m).verdict, REPLY_CONTINUE);
    check_ops(c, s, m);
out:
    if (strstr(msg_summary(m), c->note) == NULL)
        fail_msg("case \"%s\": summary \"%s\" lacks \"%s\"", c->name, msg_summary(m), c->note);
    msg_free(m);
    suppress_close(store);
    snapshot_release(s);
}

/* A request by mail: RCPT to the UnsubscribeMailto address with a token. */
typedef struct mail_case {
    const char *name;
    const char *token_rcpt, *token_stream;  /* what the token names */
    int         tamper;             /* change one character of the token */
    const char *domain;             /* of the address written to */
    long        age;                /* seconds between sealing and the request, by the services' clock */
    int         stored;             /* the list then holds token_rcpt for token_stream */
} MAIL_CASE;

static const MAIL_CASE mail_cases[] = {
    {"valid token: stored", "bob@example.org", "app@example.com", 0, "u.example", 0, 1},
    {"valid token, other stream", "eve@example.org", "news@example.com", 0, "u.example", 0, 1},
    {"token within UnsubscribeMaxAge: stored", "bob@example.org", "app@example.com", 0, "u.example", 3600, 1},
    {"token past UnsubscribeMaxAge: ordinary mail", "bob@example.org", "app@example.com", 0, "u.example",
     3601, 0},
    {"tampered token: ordinary mail", "bob@example.org", "app@example.com", 1, "u.example", 0, 0},
    {"other domain: not a request", "bob@example.org", "app@example.com", 0, "elsewhere.example", 0, 0},
};

#define SEALED_AT 1000000000        /* long before the system clock: only the services' clock is read */

static time_t clock_now = SEALED_AT;

/* test_clock - the services' clock of test_by_mail */
static time_t test_clock(void)
{
    return clock_now;
}

/* test_by_mail - one RCPT to the unsubscribe address */
static void test_by_mail(void **state)
{
    const MAIL_CASE *c = *state;
    SNAPSHOT *s = snap_with("UnsubscribeMaxAge 3600\n");
    const char *none[1] = {NULL};
    SUPPRESS *store = open_list(none);
    SERVICES svc;
    char token[UNSUB_TOKEN_MAX], rcpt[UNSUB_TOKEN_MAX + 64];
    MSG_CONN conn;
    MSG *m;
    REPLY r;
    BUF err;
    int rc;

    assert_int_equal(unsub_token_seal(s->unsub_keys, c->token_rcpt, c->token_stream, SEALED_AT,
                                      token, sizeof(token)), 0);
    if (c->tamper)
        token[strlen(token) / 2] = token[strlen(token) / 2] == 'A' ? 'B' : 'A';
    snprintf(rcpt, sizeof(rcpt), "<unsubscribe+%s@%s>", token, c->domain);
    memset(&conn, 0, sizeof(conn));
    snprintf(conn.addr, sizeof(conn.addr), "198.51.100.1");
    snprintf(conn.hostname, sizeof(conn.hostname), "mx.example.org");
    services_init(&svc);
    svc.suppress = store;
    svc.now = test_clock;
    clock_now = SEALED_AT + c->age;
    m = msg_new(s, &svc, &conn, "<bob@example.org>");
    msg_set_queueid(m, "QID2");
    r = msg_rcpt(m, rcpt, NULL);
    assert_int_equal(r.verdict, REPLY_CONTINUE);
    buf_init(&err, 512);
    rc = suppress_check(store, c->token_rcpt, c->token_stream, &err);
    if (rc != c->stored)
        fail_msg("case \"%s\": suppress_check %d, want %d (%s)", c->name, rc, c->stored,
                 err.data ? err.data : "");
    buf_free(&err);
    msg_free(m);
    suppress_close(store);
    snapshot_release(s);
}

/* test_mailto_only - without UnsubscribeURL (no HTTPS endpoint): the mailto
 * URI alone, and no List-Unsubscribe-Post (RFC 8058 one-click needs HTTPS) */
static void test_mailto_only(void **state)
{
    SNAPSHOT *s;
    SUPPRESS *store;
    static const char *const none[4] = {NULL};
    const MSG_HDROP *ops;
    SERVICES svc;
    MSG_CONN conn;
    MSG *m;
    size_t nops;
    int added = 0, post = 0;

    (void) state;
    assert_non_null(s = th_msg_snapshot("UnsubscribeMailto unsubscribe+%{token}@u.example\n", ""));
    store = open_list(none);
    memset(&conn, 0, sizeof(conn));
    snprintf(conn.addr, sizeof(conn.addr), "127.0.0.1");
    services_init(&svc);
    svc.suppress = store;
    m = msg_new(s, &svc, &conn, "<app@example.com>");
    msg_set_queueid(m, "QID2");
    assert_int_equal(msg_rcpt(m, "<bob@example.org>", "bob@example.org").verdict, REPLY_CONTINUE);
    (void) msg_header(m, "From", APP);
    assert_int_equal(msg_eoh(m).verdict, REPLY_CONTINUE);
    assert_int_equal(msg_body(m, (const unsigned char *) "hi\r\n", 4).verdict, REPLY_CONTINUE);
    assert_int_equal(msg_eom(m).verdict, REPLY_CONTINUE);
    nops = msg_hdrops(m, &ops);
    for (size_t i = 0; i < nops; i++) {
        if (ops[i].kind == MSG_RCPT_DELETE || ops[i].kind == MSG_HDR_DELETE)
            continue;
        if (strcmp(ops[i].name, "List-Unsubscribe") == 0) {
            added++;
            assert_non_null(strstr(ops[i].value, "<mailto:unsubscribe+"));
            assert_non_null(strstr(ops[i].value, "@u.example?subject=unsubscribe>"));
            assert_null(strstr(ops[i].value, "https://"));
            assert_null(strchr(ops[i].value, ','));
        } else if (strcmp(ops[i].name, "List-Unsubscribe-Post") == 0) {
            post++;
        }
    }
    assert_int_equal(added, 1);
    assert_int_equal(post, 0);
    msg_free(m);
    suppress_close(store);
    snapshot_release(s);
}

int main(void)
{
    int rc;

    if (th_msg_setup(NULL) < 0) {
        fprintf(stderr, "test_msg_unsub: cannot set up %s\n", th_msg_dir);
        return 1;
    }
    rc = RUN("msg_unsub", test_eoh, unsub_cases);
    rc |= RUN("msg_unsub by mail", test_by_mail, mail_cases);
    {
        const struct CMUnitTest single[] = {cmocka_unit_test(test_mailto_only)};

        rc |= cmocka_run_group_tests_name("msg_unsub mailto only", single, NULL, NULL);
    }
    return (th_msg_teardown(NULL) < 0 || rc) ? 1 : 0;
}

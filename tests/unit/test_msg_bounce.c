/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_msg_bounce.c - unit tests for msg_bounce.c through the pipeline's
 * public functions, on a real SQLite suppression list: an outbound
 * message gets its return path; a DSN to it (from outside) naming 5.1.1
 * suppresses the token's recipient (reason bounce) and is discarded, and
 * the next message to that recipient is refused "(bounced: 5.1.1)"; a
 * delayed 4.2.2, an out-of-office reply and a tampered token change
 * nothing; a list that cannot record refuses the DSN 451 4.3.0.
 * With BounceSoftLimit 3/7d: soft bounces of three messages (4.2.2
 * delayed, 5.2.2: full; 4.4.7: transient) are counted together, the same
 * report sent twice once, policy refusals (5.7.1, 5.6.0, 5.2.3, 4.7.0)
 * never; the third soft one suppresses, evidence "4.4.7; soft: 3 in 7d;
 * ...", and the next message is refused "(bounced: 4.4.7)"; a list that
 * cannot count refuses the DSN 451 4.3.0. With 2/7d, a table of
 * scenarios: the reports about one message and recipient (its delay
 * warnings and its failure, each with a Message-ID of its own, with or
 * without the original's header, or one report sent again) count once,
 * those of two messages twice, also of two sent within one second. The counters
 * (txmilter_bounces_total{class}, txmilter_suppressions_total{reason})
 * say what each report was and what was recorded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "msg.h"
#include "msg_metrics.h"
#include "services.h"
#include "snapshot.h"
#include "suppress.h"
#include "testmsg.h"
#include "testutil.h"

#define RCPT "bob@example.org"
#define STREAM "app@example.com"

/* snap_with - ReturnPath on, with the list in th_msg_dir, and extra lines */
static SNAPSHOT *snap_with(const char *extra)
{
    return th_msg_snapshot("ReturnPath bounces+%{token}@bounce.%{domain}\nBounceSuppressFor 30d\n",
                           extra);
}

/* snap - ReturnPath on, with the list in th_msg_dir */
static SNAPSHOT *snap(void)
{
    return snap_with("");
}

#define DSN_OF(status, action) \
    "--b\r\nContent-Type: text/plain\r\n\r\nsorry\r\n" \
    "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" \
    "Final-Recipient: rfc822; " RCPT "\r\nAction: " action "\r\nStatus: " status "\r\n" \
    "Diagnostic-Code: smtp; 550 " status " <" RCPT ">: Recipient address rejected\r\n\r\n--b--\r\n"

/* inbound_id - a message from outside to the return path rp, with the
 * Message-ID id (NULL: none); its verdict */
static REPLY inbound_id(SNAPSHOT *s, SERVICES *svc, const char *rp, const char *ctype,
                        const char *id, const char *body)
{
    MSG_CONN conn;
    char r[600];
    REPLY v;
    MSG *m;

    memset(&conn, 0, sizeof(conn));
    snprintf(conn.addr, sizeof(conn.addr), "203.0.113.9");
    m = msg_new(s, svc, &conn, "<>");
    msg_set_queueid(m, "IN1");
    snprintf(r, sizeof(r), "<%s>", rp);
    assert_int_equal(msg_rcpt(m, r, rp).verdict, REPLY_CONTINUE);
    (void) msg_header(m, "From", " MAILER-DAEMON@mx.example.org");
    if (id != NULL)
        (void) msg_header(m, "Message-ID", id);
    (void) msg_header(m, "Content-Type", ctype);
    if ((v = msg_eoh(m)).verdict == REPLY_CONTINUE) {
        assert_true(msg_wants_body(m));
        (void) msg_body(m, (const unsigned char *) body, strlen(body));
        v = msg_eom(m);
    }
    msg_free(m);
    return v;
}

/* inbound - a message from outside to the return path rp, without Message-ID */
static REPLY inbound(SNAPSHOT *s, SERVICES *svc, const char *rp, const char *ctype,
                     const char *body)
{
    return inbound_id(s, svc, rp, ctype, NULL, body);
}

#define REPORT " multipart/report; report-type=delivery-status; boundary=b"

/* test_dead_address_suppressed_then_refused - the whole loop */
static void test_dead_address_suppressed_then_refused(void **state)
{
    SNAPSHOT *s = snap();
    SERVICES svc;
    SUPPRESS_REASON why;
    char ev[SUPPRESS_EVIDENCE_MAX], *rp;
    TH_SENT sent;
    REPLY v;

    (void) state;
    th_msg_services(&svc);
    sent = th_msg_outbound(s, &svc, STREAM, RCPT);
    rp = sent.rp;
    assert_int_equal(sent.verdict.verdict, REPLY_CONTINUE);
    assert_true(strncmp(rp, "bounces+", 8) == 0 && strstr(rp, "@bounce.example.com") != NULL);
    /* not a DSN, a delay, a policy refusal: nothing */
    assert_int_equal(inbound(s, &svc, rp, " text/plain", "I am away.\r\n").verdict, REPLY_DISCARD);
    assert_int_equal(inbound(s, &svc, rp, REPORT, DSN_OF("4.2.2", "delayed")).verdict, REPLY_DISCARD);
    assert_int_equal(inbound(s, &svc, rp, REPORT, DSN_OF("5.7.1", "failed")).verdict, REPLY_DISCARD);
    assert_int_equal(suppress_check(svc.suppress, RCPT, STREAM, NULL), 0);
    assert_int_equal(th_msg_outbound(s, &svc, STREAM, RCPT).verdict.verdict, REPLY_CONTINUE);
    /* a tampered token: nothing */
    {
        char bad[600];
        size_t k = strlen("bounces+") + 5;

        snprintf(bad, sizeof(bad), "%s", rp);
        bad[k] = bad[k] == 'a' ? 'b' : 'a';
        assert_int_equal(inbound(s, &svc, bad, REPORT, DSN_OF("5.1.1", "failed")).verdict,
                         REPLY_DISCARD);
        assert_int_equal(suppress_check(svc.suppress, RCPT, STREAM, NULL), 0);
    }
    /* the dead address: suppressed, evidence kept, next message refused */
    assert_int_equal(inbound(s, &svc, rp, REPORT, DSN_OF("5.1.1", "failed")).verdict, REPLY_DISCARD);
    assert_int_equal(suppress_lookup(svc.suppress, RCPT, STREAM, &why, ev, NULL), 1);
    assert_int_equal(why, SUPPRESS_BOUNCE);
    assert_true(strncmp(ev, "5.1.1; smtp; 550 5.1.1", 22) == 0);
    v = th_msg_outbound(s, &svc, STREAM, RCPT).verdict;
    assert_int_equal(v.verdict, REPLY_REJECT);
    assert_string_equal(v.rcode, "550");
    assert_string_equal(v.xcode, "5.7.1");
    assert_non_null(strstr(v.text, "(bounced: 5.1.1)"));
    suppress_close(svc.suppress);
    /* a list that cannot record: the DSN is refused for now */
    assert_non_null(svc.suppress = suppress_open("redis://127.0.0.1:1/0", NULL, 200, NULL));
    v = inbound(s, &svc, rp, REPORT, DSN_OF("5.1.1", "failed"));
    assert_int_equal(v.verdict, REPLY_TEMPFAIL);
    assert_string_equal(v.rcode, "451");
    assert_string_equal(v.xcode, "4.3.0");
    suppress_close(svc.suppress);
    snapshot_release(s);
}

static time_t soft_clock_now;

/* soft_clock - the scenario's clock, which the return-path tokens hold */
static time_t soft_clock(void)
{
    return soft_clock_now;
}

/* sent_at - the return path of a message sent at second t of the test's clock */
static void sent_at(SNAPSHOT *s, SERVICES *svc, time_t t, char *rp, size_t len)
{
    TH_SENT sent;

    soft_clock_now = 1796000000 + t;
    sent = th_msg_outbound(s, svc, STREAM, RCPT);
    assert_int_equal(sent.verdict.verdict, REPLY_CONTINUE);
    assert_true(strncmp(sent.rp, "bounces+", 8) == 0);
    snprintf(rp, len, "%s", sent.rp);
}

/* test_soft_limit - soft bounces counted to the limit, policy never */
static void test_soft_limit(void **state)
{
    static const char *const policy[] = { "5.7.1", "5.6.0", "5.2.3", "4.7.0", "5.3.4" };
    SNAPSHOT *s = snap_with("BounceSoftLimit 3/7d\n");
    METRICS *reg = metrics_new();
    MSG_METRICS mm;
    SERVICES svc;
    SUPPRESS_REASON why;
    char ev[SUPPRESS_EVIDENCE_MAX], rp[3][600];
    REPLY v;
    size_t i;

    (void) state;
    memset(&mm, 0, sizeof(mm));
    mm.bounces = metrics_family(reg, METRICS_COUNTER, "txmilter_bounces_total", "b", "class", 12,
                                NULL, 0);
    mm.suppressions = metrics_family(reg, METRICS_COUNTER, "txmilter_suppressions_total", "s",
                                     "reason", 8, NULL, 0);
    th_msg_services(&svc);
    svc.metrics = &mm;
    svc.now = soft_clock;
    /* three messages, a second apart: a soft bounce counts once per message */
    for (i = 0; i < 3; i++)
        sent_at(s, &svc, (time_t) i, rp[i], sizeof(rp[i]));
    for (i = 0; i < sizeof(policy) / sizeof(policy[0]); i++) {
        char body[1024];

        snprintf(body, sizeof(body), DSN_OF("%s", "failed"), policy[i], policy[i]);
        assert_int_equal(inbound(s, &svc, rp[i % 3], REPORT, body).verdict, REPLY_DISCARD);
    }
    assert_int_equal(inbound(s, &svc, rp[0], REPORT, DSN_OF("4.2.2", "delayed")).verdict,
                     REPLY_DISCARD);
    assert_int_equal(inbound(s, &svc, rp[1], REPORT, DSN_OF("5.2.2", "failed")).verdict,
                     REPLY_DISCARD);
    /* the same report again (after a 451, say) is one report */
    assert_int_equal(inbound(s, &svc, rp[1], REPORT, DSN_OF("5.2.2", "failed")).verdict,
                     REPLY_DISCARD);
    /* two soft ones: still deliverable; policy refusals did not count */
    assert_int_equal(suppress_check(svc.suppress, RCPT, STREAM, NULL), 0);
    assert_int_equal(th_msg_outbound(s, &svc, STREAM, RCPT).verdict.verdict, REPLY_CONTINUE);
    assert_int_equal(inbound(s, &svc, rp[2], REPORT, DSN_OF("4.4.7", "failed")).verdict,
                     REPLY_DISCARD);
    assert_int_equal(suppress_lookup(svc.suppress, RCPT, STREAM, &why, ev, NULL), 1);
    assert_int_equal(why, SUPPRESS_BOUNCE);
    assert_string_equal(ev, "4.4.7; soft: 3 in 7d; smtp; 550 4.4.7 <" RCPT ">: Recipient "
                        "address rejected");
    v = th_msg_outbound(s, &svc, STREAM, RCPT).verdict;
    assert_int_equal(v.verdict, REPLY_REJECT);
    assert_string_equal(v.rcode, "550");
    assert_non_null(strstr(v.text, "(bounced: 4.4.7)"));
    /* what each report was, one suppression recorded */
    assert_true(metrics_value(mm.bounces, METRICS_L("policy")) == 5);
    assert_true(metrics_value(mm.bounces, METRICS_L("full")) == 3);
    assert_true(metrics_value(mm.bounces, METRICS_L("transient")) == 1);
    assert_true(metrics_value(mm.suppressions, METRICS_L("bounce")) == 1);
    assert_int_equal(inbound(s, &svc, rp[0], " text/plain", "I am away.\r\n").verdict, REPLY_DISCARD);
    assert_true(metrics_value(mm.bounces, METRICS_L("not_dsn")) == 1);
    suppress_close(svc.suppress);
    /* a list that cannot count: the DSN is refused for now */
    assert_non_null(svc.suppress = suppress_open("redis://127.0.0.1:1/0", NULL, 200, NULL));
    v = inbound(s, &svc, rp[0], REPORT, DSN_OF("4.2.2", "delayed"));
    assert_int_equal(v.verdict, REPLY_TEMPFAIL);
    assert_string_equal(v.xcode, "4.3.0");
    /* a report refused for now is counted when it comes back, not twice */
    assert_true(metrics_value(mm.bounces, METRICS_L("full")) == 3);
    suppress_close(svc.suppress);
    snapshot_release(s);
    metrics_free(reg);
}

/* One report in a scenario: about which message, what it says, whether it
 * returns the original's header (its Message-ID), or is the one before it
 * sent again byte for byte (after a 451). */
typedef struct soft_report {
    int         msg;                    /* 0 or 1; -1 ends the list */
    const char *action, *status;
    int         enclosed, again;
} SOFT_REPORT;

typedef struct soft_case {
    const char *name;
    int         one_second;             /* both messages sent in the same second */
    SOFT_REPORT reports[5];
    int         suppressed;             /* with BounceSoftLimit 2/7d */
} SOFT_CASE;

#define END { -1, NULL, NULL, 0, 0 }

static const SOFT_CASE soft_cases[] = {
    { "delay_then_failure_of_one_message", 0, { { 0, "delayed", "4.2.2", 1, 0 },
      { 0, "failed", "4.2.2", 1, 0 }, END }, 0 },
    { "delay_then_failure_nothing_enclosed", 0, { { 0, "delayed", "4.2.2", 0, 0 },
      { 0, "failed", "4.2.2", 0, 0 }, END }, 0 },
    { "two_warnings_and_a_failure_of_one_message", 0, { { 0, "delayed", "4.2.2", 1, 0 },
      { 0, "delayed", "4.4.1", 1, 0 }, { 0, "failed", "5.2.2", 1, 0 }, END }, 0 },
    { "one_report_sent_again", 0, { { 0, "failed", "5.2.2", 1, 0 },
      { 0, "failed", "5.2.2", 1, 1 }, END }, 0 },
    { "two_messages", 0, { { 0, "failed", "5.2.2", 1, 0 }, { 1, "failed", "5.2.2", 1, 0 }, END },
      1 },
    { "two_messages_nothing_enclosed", 0, { { 0, "failed", "4.4.7", 0, 0 },
      { 1, "failed", "4.4.7", 0, 0 }, END }, 1 },
    { "two_messages_in_one_second", 1, { { 0, "failed", "5.2.2", 1, 0 },
      { 1, "failed", "5.2.2", 1, 0 }, END }, 1 },
    { "delay_of_one_failure_of_another", 0, { { 0, "delayed", "4.2.2", 1, 0 },
      { 1, "failed", "5.2.2", 1, 0 }, END }, 1 },
};

/* soft_report_of - the DSN body of r: Postfix-like, with, if enclosed, the
 * header of its message (the Message-ID <news.N@example.com>) */
static void soft_report_of(const SOFT_REPORT *r, char *out, size_t len)
{
    char orig[200] = "";

    if (r->enclosed)
        snprintf(orig, sizeof(orig), "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                 "From: " STREAM "\r\nMessage-ID: <news.%d@example.com>\r\n\r\n", r->msg);
    snprintf(out, len, "--b\r\nContent-Type: text/plain\r\n\r\nsorry\r\n"
             "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
             "Final-Recipient: rfc822; " RCPT "\r\nAction: %s\r\nStatus: %s\r\n"
             "Diagnostic-Code: smtp; 452 %s full\r\n\r\n%s--b--\r\n", r->action, r->status,
             r->status, orig);
}

/* test_soft_identity - reports about one message and recipient count once */
static void test_soft_identity(void **state)
{
    const SOFT_CASE *c = *state;
    SNAPSHOT *s = snap_with("BounceSoftLimit 2/7d\n");
    char rp[2][600], body[2048], id[64];
    SERVICES svc;
    int n;

    th_msg_services(&svc);
    svc.now = soft_clock;
    for (n = 0; n < 2; n++)
        sent_at(s, &svc, c->one_second ? 0 : n, rp[n], sizeof(rp[n]));
    assert_int_equal(strcmp(rp[0], rp[1]) == 0, c->one_second);
    for (n = 0; c->reports[n].msg >= 0; n++) {
        const SOFT_REPORT *r = &c->reports[n];

        if (!r->again)
            snprintf(id, sizeof(id), "<dsn.%d@mx.example.org>", n);    /* each report its own */
        soft_report_of(r, body, sizeof(body));
        assert_int_equal(inbound_id(s, &svc, rp[r->msg], REPORT, id, body).verdict, REPLY_DISCARD);
    }
    if (suppress_check(svc.suppress, RCPT, STREAM, NULL) != c->suppressed)
        fail_msg("suppressed: %s, want %s", c->suppressed ? "no" : "yes", c->suppressed ? "yes" : "no");
    suppress_close(svc.suppress);
    snapshot_release(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dead_address_suppressed_then_refused),
        cmocka_unit_test(test_soft_limit),
    };
    int rc;

    /* one scratch directory for both groups */
    if (th_msg_setup(NULL) != 0)
        return 1;
    rc = cmocka_run_group_tests_name("msg_bounce", tests, NULL, NULL);
    rc |= RUN("msg_bounce_soft_identity", test_soft_identity, soft_cases);
    if (th_msg_teardown(NULL) != 0)
        rc = 1;
    return rc ? 1 : 0;
}

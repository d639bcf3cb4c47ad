/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_msg_bounce.c - unit tests for msg_bounce.c through the pipeline's
 * public functions, on a real SQLite suppression list: an outbound
 * message gets its return path; a DSN to it (from outside) naming 5.1.1
 * suppresses the token's recipient (reason bounce) and is discarded, and
 * the next message to that recipient is refused "(bounced: 5.1.1)"; a
 * delayed 4.2.2, an out-of-office reply and a tampered token change
 * nothing; a list that cannot record refuses the DSN 451 4.3.0.
 * With BounceSoftLimit 3/7d: soft bounces (4.2.2 delayed, 5.2.2: full; 4.4.7: transient)
 * are counted together, the same report sent twice once, policy
 * refusals (5.7.1, 5.6.0, 5.2.3, 4.7.0) never; the third soft one suppresses, evidence "4.4.7; soft: 3 in 7d;
 * ...", and the next message is refused "(bounced: 4.4.7)"; a list that
 * cannot count refuses the DSN 451 4.3.0. The counters
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

/* inbound - a message from outside to the return path rp; its verdict */
static REPLY inbound(SNAPSHOT *s, SERVICES *svc, const char *rp, const char *ctype,
                     const char *body)
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
    (void) msg_header(m, "Content-Type", ctype);
    if ((v = msg_eoh(m)).verdict == REPLY_CONTINUE) {
        assert_true(msg_wants_body(m));
        (void) msg_body(m, (const unsigned char *) body, strlen(body));
        v = msg_eom(m);
    }
    msg_free(m);
    return v;
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

/* test_soft_limit - soft bounces counted to the limit, policy never */
static void test_soft_limit(void **state)
{
    static const char *const policy[] = { "5.7.1", "5.6.0", "5.2.3", "4.7.0", "5.3.4" };
    SNAPSHOT *s = snap_with("BounceSoftLimit 3/7d\n");
    METRICS *reg = metrics_new();
    MSG_METRICS mm;
    SERVICES svc;
    SUPPRESS_REASON why;
    char ev[SUPPRESS_EVIDENCE_MAX], *rp;
    TH_SENT sent;
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
    sent = th_msg_outbound(s, &svc, STREAM, RCPT);
    rp = sent.rp;
    assert_int_equal(sent.verdict.verdict, REPLY_CONTINUE);
    for (i = 0; i < sizeof(policy) / sizeof(policy[0]); i++) {
        char body[1024];

        snprintf(body, sizeof(body), DSN_OF("%s", "failed"), policy[i], policy[i]);
        assert_int_equal(inbound(s, &svc, rp, REPORT, body).verdict, REPLY_DISCARD);
    }
    assert_int_equal(inbound(s, &svc, rp, REPORT, DSN_OF("4.2.2", "delayed")).verdict, REPLY_DISCARD);
    assert_int_equal(inbound(s, &svc, rp, REPORT, DSN_OF("5.2.2", "failed")).verdict, REPLY_DISCARD);
    /* the same report again (after a 451, say) is one report */
    assert_int_equal(inbound(s, &svc, rp, REPORT, DSN_OF("5.2.2", "failed")).verdict, REPLY_DISCARD);
    /* two soft ones: still deliverable; policy refusals did not count */
    assert_int_equal(suppress_check(svc.suppress, RCPT, STREAM, NULL), 0);
    assert_int_equal(th_msg_outbound(s, &svc, STREAM, RCPT).verdict.verdict, REPLY_CONTINUE);
    assert_int_equal(inbound(s, &svc, rp, REPORT, DSN_OF("4.4.7", "failed")).verdict, REPLY_DISCARD);
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
    assert_int_equal(inbound(s, &svc, rp, " text/plain", "I am away.\r\n").verdict, REPLY_DISCARD);
    assert_true(metrics_value(mm.bounces, METRICS_L("not_dsn")) == 1);
    suppress_close(svc.suppress);
    /* a list that cannot count: the DSN is refused for now */
    assert_non_null(svc.suppress = suppress_open("redis://127.0.0.1:1/0", NULL, 200, NULL));
    v = inbound(s, &svc, rp, REPORT, DSN_OF("4.2.2", "delayed"));
    assert_int_equal(v.verdict, REPLY_TEMPFAIL);
    assert_string_equal(v.xcode, "4.3.0");
    /* a report refused for now is counted when it comes back, not twice */
    assert_true(metrics_value(mm.bounces, METRICS_L("full")) == 3);
    suppress_close(svc.suppress);
    snapshot_release(s);
    metrics_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dead_address_suppressed_then_refused),
        cmocka_unit_test(test_soft_limit),
    };

    return cmocka_run_group_tests_name("msg_bounce", tests, th_msg_setup, th_msg_teardown);
}

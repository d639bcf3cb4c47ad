/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_msg_arf.c - unit tests for msg_arf.c through the pipeline's public
 * functions, on a real SQLite suppression list: outbound messages get
 * List-Unsubscribe and a return path; feedback reports to the
 * ComplaintAddress whose enclosed original holds one of those tokens (the
 * https URL, the mailto, the Return-Path, the report's Original-Mail-From;
 * as is, in base64 and in quoted-printable) suppress that recipient
 * (reason complaint, source arf, never expiring) and are discarded, and
 * the next message to the recipient is refused 550 5.7.1 "(complaint)";
 * opt-out suppresses as an unsubscribe; not-spam and fraud, a recipient named only in
 * Original-Rcpt-To and To, a tampered token, mail that is no report change
 * nothing; another recipient of the report keeps it; a list that cannot
 * record refuses 451 4.3.0; a dry run records nothing.
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
#include <openssl/evp.h>

#include "msg.h"
#include "services.h"
#include "snapshot.h"
#include "suppress.h"
#include "testmsg.h"
#include "testutil.h"

#define STREAM "news@example.com"
#define FBL "fbl@bounce.example.com"

/* snap - List-Unsubscribe, ReturnPath and ComplaintAddress on, the list in th_msg_dir */
static SNAPSHOT *snap(void)
{
    return th_msg_snapshot("UnsubscribeURL https://unsub.%{domain}/u/%{token}\n"
                           "UnsubscribeMailto unsub+%{token}@example.com\n"
                           "ReturnPath bounces+%{token}@bounce.%{domain}\n"
                           "ComplaintAddress " FBL ", jmrp@bounce.example.com\n", "");
}

enum { ENC_NONE, ENC_B64, ENC_QP };

/* qp_encode - in as quoted-printable into out: "=" as =3D, soft line
 * breaks every 30 characters, so that every token is cut in two */
static void qp_encode(const char *in, char *out, size_t len)
{
    size_t o = 0, col = 0;

    for (; *in; in++) {
        assert_true(o + 8 < len);
        if (*in == '\n') {
            out[o++] = '\n';
            col = 0;
            continue;
        }
        if (col >= 30) {
            out[o++] = '=';
            out[o++] = '\n';
            col = 0;
        }
        if (*in == '=') {
            memcpy(out + o, "=3D", 3);
            o += 3;
            col += 3;
        } else {
            out[o++] = *in;
            col++;
        }
    }
    out[o] = 0;
}

/* report - the body of a Yahoo-style report of type about original
 * (header lines, LF), with mail_from as Original-Mail-From ("" none) and
 * the original in base64 (enc ENC_B64) or quoted-printable (ENC_QP) */
static char *report(const char *type, const char *original, const char *mail_from, int enc_as)
{
    char *body = malloc(16384), full[4096], flat[8192], enc[8300];
    const char *cte = "";
    size_t o = 0;

    assert_non_null(body);
    snprintf(full, sizeof(full), "%s\n\nthe body\n", original);
    if (enc_as == ENC_QP) {
        qp_encode(full, enc, sizeof(enc));
        cte = "Content-Transfer-Encoding: quoted-printable\n";
    } else if (enc_as == ENC_B64) {
        int n = EVP_EncodeBlock((unsigned char *) flat, (const unsigned char *) full,
                                (int) strlen(full));

        assert_true(n > 0);
        for (int i = 0; i < n; i++) {           /* lines of 76, as RFC 2045 6.8 has them */
            enc[o++] = flat[i];
            if (i % 76 == 75)
                enc[o++] = '\n';
        }
        enc[o] = 0;
        cte = "Content-Transfer-Encoding: base64\n";
    }
    snprintf(body, 16384,
             "--b\nContent-Type: text/plain\n\nThis is an email abuse report.\n"
             "Original-Rcpt-To: victim@example.org\n\n"
             "--b\nContent-Type: message/feedback-report\n\nFeedback-Type: %s\n"
             "User-Agent: Yahoo!-Mail-Feedback/2.0\nVersion: 1\n%s%s%s"
             "Original-Rcpt-To: <victim@example.org>\n"
             "Arrival-Date: Thu, 03 Dec 2026 17:00:00 +0000\n\n"
             "--b\nContent-Type: message/rfc822\n%s\n%s\n--b--\n", type,
             mail_from[0] ? "Original-Mail-From: <" : "", mail_from, mail_from[0] ? ">\n" : "",
             cte, enc_as ? enc : full);
    return body;
}

/* inbound - a report from outside to rcpts (one or two); its verdict, the
 * recipients it removed counted in *removed */
static REPLY inbound(SNAPSHOT *s, SERVICES *svc, const char *const *rcpts, size_t n,
                     const char *ctype, const char *body_lf, int dry, size_t *removed)
{
    MSG_CONN conn;
    const MSG_HDROP *ops;
    char r[600], *body = th_crlf(body_lf);
    REPLY v;
    MSG *m;

    memset(&conn, 0, sizeof(conn));
    snprintf(conn.addr, sizeof(conn.addr), "203.0.113.9");
    m = msg_new(s, svc, &conn, "<feedback@arf.mail.yahoo.com>");
    if (dry)
        msg_set_dry_run(m);
    msg_set_queueid(m, "IN1");
    for (size_t i = 0; i < n; i++) {
        snprintf(r, sizeof(r), "<%s>", rcpts[i]);
        assert_int_equal(msg_rcpt(m, r, rcpts[i]).verdict, REPLY_CONTINUE);
    }
    (void) msg_header(m, "From", " Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>");
    (void) msg_header(m, "Content-Type", ctype);
    if ((v = msg_eoh(m)).verdict == REPLY_CONTINUE) {
        assert_true(msg_wants_body(m));
        (void) msg_body(m, (const unsigned char *) body, strlen(body));
        v = msg_eom(m);
    }
    if (removed) {
        *removed = 0;
        for (size_t i = 0, k = msg_hdrops(m, &ops); i < k; i++)
            *removed += ops[i].kind == MSG_RCPT_DELETE && strcmp(ops[i].name, FBL) == 0;
    }
    msg_free(m);
    free(body);
    return v;
}

#define ARF_CT " multipart/report; report-type=feedback-report; boundary=b"

/* to_fbl - one report to FBL; its verdict */
static REPLY to_fbl(SNAPSHOT *s, SERVICES *svc, const char *body)
{
    const char *const rc[] = { FBL };

    return inbound(s, svc, rc, 1, ARF_CT, body, 0, NULL);
}

/* Where a row's original carries the token. */
typedef enum where { W_URL, W_MAILTO, W_RETURN_PATH, W_MAIL_FROM, W_NOWHERE, W_TAMPERED } WHERE;

typedef struct arf_row {
    const char *name;
    const char *type;
    WHERE       where;
    int         enc;                /* ENC_NONE, ENC_B64, ENC_QP */
    int         reason;             /* SUPPRESS_REASON expected, -1: not suppressed */
} ARF_ROW;

static const ARF_ROW arf_rows[] = {
    { "abuse, https token", "abuse", W_URL, 0, SUPPRESS_COMPLAINT },
    { "abuse, mailto token", "abuse", W_MAILTO, 0, SUPPRESS_COMPLAINT },
    { "abuse, Return-Path token", "abuse", W_RETURN_PATH, 0, SUPPRESS_COMPLAINT },
    { "abuse, Original-Mail-From token", "abuse", W_MAIL_FROM, 0, SUPPRESS_COMPLAINT },
    { "abuse, base64 original", "abuse", W_URL, ENC_B64, SUPPRESS_COMPLAINT },
    { "abuse, quoted-printable original", "abuse", W_URL, ENC_QP, SUPPRESS_COMPLAINT },
    { "abuse, quoted-printable original, Return-Path token", "abuse", W_RETURN_PATH, ENC_QP,
      SUPPRESS_COMPLAINT },
    { "opt-out", "opt-out", W_URL, 0, SUPPRESS_UNSUBSCRIBE },
    { "not-spam", "not-spam", W_URL, 0, -1 },
    { "fraud", "fraud", W_URL, 0, -1 },
    { "only named in Original-Rcpt-To and To", "abuse", W_NOWHERE, 0, -1 },
    { "tampered token", "abuse", W_TAMPERED, 0, -1 },
};

/* original_for - the enclosed original's header for a row, from what was sent */
static void original_for(const ARF_ROW *row, const TH_SENT *sent, const char *rcpt, char *orig,
                         size_t len, char *mail_from, size_t mflen)
{
    char url[600] = "", mailto[600] = "", *p;

    mail_from[0] = 0;
    if ((p = strchr(sent->lu, '<')) != NULL)
        snprintf(url, sizeof(url), "%.*s", (int) strcspn(p, ">") + 1, p);
    if ((p = strstr(sent->lu, "<mailto:")) != NULL)
        snprintf(mailto, sizeof(mailto), "%.*s", (int) strcspn(p, ">") + 1, p);
    switch (row->where) {
    case W_URL:
        snprintf(orig, len, "From: " STREAM "\nTo: %s\nList-Unsubscribe: %s\nSubject: hi", rcpt, url);
        break;
    case W_TAMPERED:
        snprintf(orig, len, "From: " STREAM "\nTo: %s\nList-Unsubscribe: %s\nSubject: hi", rcpt, url);
        p = strstr(orig, "/u/") + 8;
        *p = *p == 'A' ? 'B' : 'A';
        break;
    case W_MAILTO:
        snprintf(orig, len, "From: " STREAM "\nList-Unsubscribe: %s\nSubject: hi", mailto);
        break;
    case W_RETURN_PATH:
        snprintf(orig, len, "Return-Path: <%s>\nFrom: " STREAM "\nSubject: hi", sent->rp);
        break;
    case W_MAIL_FROM:
        snprintf(orig, len, "From: " STREAM "\nSubject: hi");
        snprintf(mail_from, mflen, "%s", sent->rp);
        break;
    case W_NOWHERE:
        snprintf(orig, len, "From: " STREAM "\nTo: <%s>\nSubject: hi", rcpt);
        break;
    }
}

/* test_rows - each kind of report about a recipient of its own */
static void test_rows(void **state)
{
    SNAPSHOT *s = snap();
    SERVICES svc;

    (void) state;
    th_msg_services(&svc);
    for (size_t i = 0; i < sizeof(arf_rows) / sizeof(arf_rows[0]); i++) {
        const ARF_ROW *row = &arf_rows[i];
        char rcpt[64], orig[2048], mail_from[600], ev[SUPPRESS_EVIDENCE_MAX], *body;
        SUPPRESS_REASON why;
        TH_SENT sent;
        REPLY v;

        snprintf(rcpt, sizeof(rcpt), "r%zu@example.org", i);
        sent = th_msg_outbound(s, &svc, STREAM, rcpt);
        assert_int_equal(sent.verdict.verdict, REPLY_CONTINUE);
        assert_true(strstr(sent.lu, "https://unsub.example.com/u/") != NULL && sent.rp[0]);
        original_for(row, &sent, rcpt, orig, sizeof(orig), mail_from, sizeof(mail_from));
        body = report(row->type, orig, mail_from, row->enc);
        v = to_fbl(s, &svc, body);
        free(body);
        if (v.verdict != REPLY_DISCARD)
            fail_msg("%s: verdict %d, want discard", row->name, v.verdict);
        if (suppress_lookup(svc.suppress, rcpt, STREAM, &why, ev, NULL) != (row->reason >= 0))
            fail_msg("%s: suppressed is %d", row->name, row->reason < 0);
        if (row->reason < 0) {
            assert_int_equal(th_msg_outbound(s, &svc, STREAM, rcpt).verdict.verdict, REPLY_CONTINUE);
            continue;
        }
        if ((int) why != row->reason)
            fail_msg("%s: reason %s", row->name, suppress_reason_name(why));
        if (strncmp(ev, row->type, strlen(row->type)) != 0
            || strstr(ev, "arrival=Thu, 03 Dec 2026 17:00:00 +0000; reporter=arf.mail.yahoo.com; "
                      "ua=Yahoo!-Mail-Feedback/2.0") == NULL)
            fail_msg("%s: evidence \"%s\"", row->name, ev);
        v = th_msg_outbound(s, &svc, STREAM, rcpt).verdict;
        assert_int_equal(v.verdict, REPLY_REJECT);
        assert_string_equal(v.xcode, "5.7.1");
        if (row->reason == SUPPRESS_COMPLAINT)
            assert_non_null(strstr(v.text, "recipient complained about mail of " STREAM " (complaint)"));
    }
    suppress_close(svc.suppress);
    snapshot_release(s);
}

/* count_entry - suppress_list() callback: one more entry */
static void count_entry(const SUPPRESS_ENTRY *e, void *arg)
{
    (void) e;
    ++*(long *) arg;
}

/* test_not_a_report - plain mail and a DSN to the ComplaintAddress: dropped, nothing stored */
static void test_not_a_report(void **state)
{
    SNAPSHOT *s = snap();
    SERVICES svc;
    const char *const rc[] = { FBL };
    long n, seen = 0;

    (void) state;
    th_msg_services(&svc);
    assert_int_equal(inbound(s, &svc, rc, 1, " text/plain",
                             "please stop, I am r1@example.org\n", 0, NULL).verdict, REPLY_DISCARD);
    assert_int_equal(inbound(s, &svc, rc, 1,
                             " multipart/report; report-type=delivery-status; boundary=b",
                             "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: "
                             "rfc822; r1@example.org\nAction: failed\nStatus: 5.1.1\n\n--b--\n", 0,
                             NULL).verdict, REPLY_DISCARD);
    n = suppress_list(svc.suppress, NULL, NULL, count_entry, &seen, NULL);
    assert_int_equal(n, 0);
    assert_int_equal(seen, 0);
    suppress_close(svc.suppress);
    snapshot_release(s);
}

/* test_other_recipient_keeps_it - the report also to someone else: only FBL is removed */
static void test_other_recipient_keeps_it(void **state)
{
    SNAPSHOT *s = snap();
    SERVICES svc;
    const char *const rc[] = { FBL, "postmaster@example.com" };
    char orig[2048], mf[600], *body;
    size_t removed;
    TH_SENT sent;
    REPLY v;

    (void) state;
    th_msg_services(&svc);
    sent = th_msg_outbound(s, &svc, STREAM, "two@example.org");
    original_for(&arf_rows[0], &sent, "two@example.org", orig, sizeof(orig), mf, sizeof(mf));
    body = report("abuse", orig, mf, 0);
    v = inbound(s, &svc, rc, 2, ARF_CT, body, 0, &removed);
    free(body);
    assert_int_equal(v.verdict, REPLY_CONTINUE);
    assert_int_equal(removed, 1);
    assert_int_equal(suppress_check(svc.suppress, "two@example.org", STREAM, NULL), 1);
    suppress_close(svc.suppress);
    snapshot_release(s);
}

/* test_dry_run_and_store_down - -t records nothing; a list that cannot record: 451 4.3.0 */
static void test_dry_run_and_store_down(void **state)
{
    SNAPSHOT *s = snap();
    SERVICES svc;
    const char *const rc[] = { FBL };
    char orig[2048], mf[600], *body;
    TH_SENT sent;
    REPLY v;

    (void) state;
    th_msg_services(&svc);
    sent = th_msg_outbound(s, &svc, STREAM, "down@example.org");
    original_for(&arf_rows[0], &sent, "down@example.org", orig, sizeof(orig), mf, sizeof(mf));
    body = report("abuse", orig, mf, 0);
    assert_int_equal(inbound(s, &svc, rc, 1, ARF_CT, body, 1, NULL).verdict, REPLY_DISCARD);
    assert_int_equal(suppress_check(svc.suppress, "down@example.org", STREAM, NULL), 0);
    suppress_close(svc.suppress);
    assert_non_null(svc.suppress = suppress_open("redis://127.0.0.1:1/0", NULL, 200, NULL));
    v = inbound(s, &svc, rc, 1, ARF_CT, body, 0, NULL);
    free(body);
    assert_int_equal(v.verdict, REPLY_TEMPFAIL);
    assert_string_equal(v.rcode, "451");
    assert_string_equal(v.xcode, "4.3.0");
    suppress_close(svc.suppress);
    snapshot_release(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_not_a_report),
        cmocka_unit_test(test_other_recipient_keeps_it),
        cmocka_unit_test(test_dry_run_and_store_down),
    };

    return cmocka_run_group_tests_name("msg_arf", tests, th_msg_setup, th_msg_teardown);
}

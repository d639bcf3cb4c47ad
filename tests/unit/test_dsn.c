/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dsn.c - unit tests for dsn.c: reports as Postfix's bounce daemon
 * writes them (failed 5.1.1, delayed 4.2.2, LF and CRLF), several
 * recipients, quoted boundaries, Exim's Status 5.0.0 refined from the
 * reply it quotes, messages that are not DSNs (an
 * out-of-office reply, a feedback report, a base64 status part), the
 * Message-ID of the returned original (as it is, folded, in base64 or
 * quoted-printable, missing), the report ids BounceSoftLimit counts (one
 * per token and original), and the classification of status codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsn.h"
#include "testutil.h"

#define POSTFIX_HEAD \
    "From: MAILER-DAEMON@relay.example (Mail Delivery System)\n" \
    "Subject: Undelivered Mail Returned to Sender\n" \
    "To: bounces+abc@bounce.shop.example\n" \
    "Auto-Submitted: auto-replied\n" \
    "MIME-Version: 1.0\n" \
    "Content-Type: multipart/report; report-type=delivery-status;\n" \
    "\tboundary=\"9C2A41A0.1700000000/relay.example\"\n" \
    "Content-Transfer-Encoding: 8bit\n\n" \
    "This is a MIME-encapsulated message.\n\n" \
    "--9C2A41A0.1700000000/relay.example\n" \
    "Content-Description: Notification\n" \
    "Content-Type: text/plain; charset=us-ascii\n\n" \
    "I'm sorry to have to inform you that your message could not\n" \
    "be delivered to one or more recipients.\n\n" \
    "--9C2A41A0.1700000000/relay.example\n" \
    "Content-Description: Delivery report\n" \
    "Content-Type: message/delivery-status\n\n" \
    "Reporting-MTA: dns; relay.example\n" \
    "X-Postfix-Queue-ID: 9C2A41A0\n" \
    "Arrival-Date: Thu,  3 Dec 2026 17:00:00 +0000 (UTC)\n\n"

#define POSTFIX_TAIL \
    "--9C2A41A0.1700000000/relay.example\n" \
    "Content-Description: Undelivered Message Headers\n" \
    "Content-Type: text/rfc822-headers\n\n" \
    "From: news@shop.example\nTo: bob@example.org\n\n" \
    "--9C2A41A0.1700000000/relay.example--\n"

#define RCPT_BLOCK(addr, action, status, diag) \
    "Final-Recipient: rfc822; " addr "\n" \
    "Original-Recipient: rfc822;" addr "\n" \
    "Action: " action "\n" \
    "Status: " status "\n" \
    "Remote-MTA: dns; mx.example.org\n" \
    "Diagnostic-Code: smtp; " diag "\n\n"

/* as Exim writes its bounces: every failure is Status 5.0.0, the detail is in
 * the remote reply it quotes */
#define EXIM_DSN(status, diag) \
    "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\n" \
    "To: bounces+abc@bounce.shop.example\n" \
    "Subject: Mail delivery failed: returning message to sender\n" \
    "Auto-Submitted: auto-replied\n" \
    "MIME-Version: 1.0\n" \
    "Content-Type: multipart/report; report-type=delivery-status;\n" \
    " boundary=1700000000-eximdsn-1804289383\n\n" \
    "--1700000000-eximdsn-1804289383\n" \
    "Content-type: text/plain; charset=us-ascii\n\n" \
    "This message was created automatically by mail delivery software.\n\n" \
    "--1700000000-eximdsn-1804289383\n" \
    "Content-type: message/delivery-status\n\n" \
    "Reporting-MTA: dns; mx.example.net\n\n" \
    "Action: failed\n" \
    "Final-Recipient: rfc822;bob@example.org\n" \
    "Status: " status "\n" \
    "Remote-MTA: dns; mx.example.org\n" \
    "Diagnostic-Code: " diag "\n\n" \
    "--1700000000-eximdsn-1804289383\n" \
    "Content-type: text/rfc822-headers\n\n" \
    "From: news@shop.example\n\n" \
    "--1700000000-eximdsn-1804289383--\n"

typedef struct dsn_case {
    const char *name;
    const char *msg;
    int         crlf;                   /* send it with CRLF line ends */
    const char *want_rcpt;
    int         is_dsn;
    DSN_CLASS   cls;
    const char *status, *final_rcpt, *diag;
} DSN_CASE;

static const DSN_CASE dsn_cases[] = {
    { "postfix_550_5_1_1", POSTFIX_HEAD RCPT_BLOCK("bob@example.org", "failed", "5.1.1",
      "550 5.1.1 <bob@example.org>: Recipient address rejected:\n    User unknown") POSTFIX_TAIL,
      0, "bob@example.org", 1, DSN_CLASS_DEAD, "5.1.1", "bob@example.org",
      "smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown" },
    /* as Postfix's bounce daemon folded a refusal of the receiver in the
     * end-to-end test: the fold's indentation is no part of the reply */
    { "postfix_folded_diagnostic", POSTFIX_HEAD RCPT_BLOCK("unrecorded.0d44f7@receiver.example",
      "failed", "5.1.1", "550 5.1.1 <unrecorded.0d44f7@receiver.example>: no such\n    user")
      POSTFIX_TAIL, 1, NULL, 1, DSN_CLASS_DEAD, "5.1.1", "unrecorded.0d44f7@receiver.example",
      "smtp; 550 5.1.1 <unrecorded.0d44f7@receiver.example>: no such user" },
    { "tab_folded_diagnostic", POSTFIX_HEAD RCPT_BLOCK("bob@example.org", "failed", "5.1.1",
      "550-5.1.1 The email account that you tried to reach does not exist.\n\t550 5.1.1 Try")
      POSTFIX_TAIL, 0, NULL, 1, DSN_CLASS_DEAD, "5.1.1", "bob@example.org",
      "smtp; 550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 Try" },
    { "postfix_550_crlf", POSTFIX_HEAD RCPT_BLOCK("bob@example.org", "failed", "5.1.1", "550 x")
      POSTFIX_TAIL, 1, NULL, 1, DSN_CLASS_DEAD, "5.1.1", "bob@example.org", "smtp; 550 x" },
    { "delayed_452_4_2_2", POSTFIX_HEAD RCPT_BLOCK("bob@example.org", "delayed", "4.2.2",
      "452 4.2.2 Mailbox full") POSTFIX_TAIL, 0, NULL, 1, DSN_CLASS_FULL, "4.2.2",
      "bob@example.org", "smtp; 452 4.2.2 Mailbox full" },
    { "policy_5_7_1", POSTFIX_HEAD RCPT_BLOCK("bob@example.org", "failed", "5.7.1",
      "550 5.7.1 spam") POSTFIX_TAIL, 0, NULL, 1, DSN_CLASS_POLICY, "5.7.1", "bob@example.org", NULL },
    { "picks_the_wanted_recipient", POSTFIX_HEAD
      RCPT_BLOCK("eve@example.org", "failed", "5.7.1", "550 5.7.1 no")
      RCPT_BLOCK("Bob@Example.ORG", "failed", "5.1.1", "550 5.1.1 unknown") POSTFIX_TAIL,
      0, "bob@example.org", 1, DSN_CLASS_DEAD, "5.1.1", "Bob@Example.ORG", NULL },
    { "first_failure_without_wanted", POSTFIX_HEAD
      RCPT_BLOCK("eve@example.org", "delivered", "2.0.0", "250 ok")
      RCPT_BLOCK("bob@example.org", "failed", "5.2.1", "550 5.2.1 disabled") POSTFIX_TAIL,
      0, "nobody@example.org", 1, DSN_CLASS_DEAD, "5.2.1", "bob@example.org", NULL },
    { "delivered_only", POSTFIX_HEAD RCPT_BLOCK("bob@example.org", "delivered", "2.0.0", "250 ok")
      POSTFIX_TAIL, 0, NULL, 1, DSN_CLASS_NONE, "", "", NULL },
    { "status_with_comment", POSTFIX_HEAD "Final-Recipient: rfc822;<bob@example.org>\n"
      "Action: failed\nStatus: 5.1.1 (user unknown)\n\n" POSTFIX_TAIL, 0, NULL, 1, DSN_CLASS_DEAD,
      "5.1.1", "bob@example.org", "" },
    { "no_closing_boundary", POSTFIX_HEAD RCPT_BLOCK("bob@example.org", "failed", "5.1.1", "x"),
      0, NULL, 1, DSN_CLASS_DEAD, "5.1.1", "bob@example.org", NULL },
    { "out_of_office", "From: bob@example.org\nSubject: Out of office\nAuto-Submitted: auto-replied\n"
      "Content-Type: text/plain\n\nI am away until Monday.\nStatus: 5.1.1\n", 0, NULL, 0,
      DSN_CLASS_NONE, "", "", NULL },
    { "feedback_report_is_no_dsn", "Content-Type: multipart/report; report-type=feedback-report;"
      " boundary=b\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n\n--b--\n",
      0, NULL, 0, DSN_CLASS_NONE, "", "", NULL },
    { "base64_status_part_not_read", "Content-Type: multipart/report; report-type=delivery-status;"
      " boundary=b\n\n--b\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
      "QWN0aW9uOiBmYWlsZWQ=\n--b--\n", 0, NULL, 0, DSN_CLASS_NONE, "", "", NULL },
    { "no_boundary", "Content-Type: multipart/report; report-type=delivery-status\n\nx\n", 0, NULL,
      0, DSN_CLASS_NONE, "", "", NULL },
    { "global_delivery_status", "Content-Type: multipart/report; report-type=delivery-status;"
      " boundary=b\n\n--b\nContent-Type: message/global-delivery-status\n\nReporting-MTA: dns; x\n\n"
      "Final-Recipient: utf-8; j\xc3\xb6rg@example.de\nAction: failed\nStatus: 5.1.10\n\n--b--\n",
      0, NULL, 1, DSN_CLASS_DEAD, "5.1.10", "j\xc3\xb6rg@example.de", NULL },
    /* a Status without detail (x.0.0) takes the enhanced code of the reply it quotes */
    { "exim_5_0_0_user_unknown", EXIM_DSN("5.0.0", "smtp; 550 5.1.1 <bob@example.org>: User unknown"),
      1, "bob@example.org", 1, DSN_CLASS_DEAD, "5.1.1", "bob@example.org", NULL },
    { "exim_5_0_0_spam_is_policy", EXIM_DSN("5.0.0", "smtp; 550 5.7.1 Spamassassin considers "
      "this message SPAM"), 0, NULL, 1, DSN_CLASS_POLICY, "5.7.1", "bob@example.org", NULL },
    { "exim_5_0_0_multiline_reply", EXIM_DSN("5.0.0", "smtp; 550-5.1.1 The email account that you "
      "tried to reach does not exist."), 0, NULL, 1, DSN_CLASS_DEAD, "5.1.1", "bob@example.org", NULL },
    { "exim_5_0_0_mailbox_full", EXIM_DSN("5.0.0", "smtp; 552 5.2.2 Mailbox full"), 0, NULL, 1,
      DSN_CLASS_FULL, "5.2.2", "bob@example.org", NULL },
    { "exim_5_0_0_detail_1_10", EXIM_DSN("5.0.0", "SMTP; 550 5.1.10 RESOLVER.ADR.RecipientNotFound"),
      0, NULL, 1, DSN_CLASS_DEAD, "5.1.10", "bob@example.org", NULL },
    { "exim_5_0_0_no_enhanced_code", EXIM_DSN("5.0.0", "smtp; 550 Unrouteable address"), 0, NULL,
      1, DSN_CLASS_OTHER, "5.0.0", "bob@example.org", NULL },
    { "exim_5_0_0_other_class_kept", EXIM_DSN("5.0.0", "smtp; 550 4.2.2 odd"), 0, NULL, 1,
      DSN_CLASS_OTHER, "5.0.0", "bob@example.org", NULL },
    { "exim_5_0_0_reply_class_differs", EXIM_DSN("5.0.0", "smtp; 450 5.1.1 odd"), 0, NULL, 1,
      DSN_CLASS_OTHER, "5.0.0", "bob@example.org", NULL },
    { "exim_5_0_0_not_smtp", EXIM_DSN("5.0.0", "X-Unix; 550 5.1.1 odd"), 0, NULL, 1,
      DSN_CLASS_OTHER, "5.0.0", "bob@example.org", NULL },
    { "exim_5_0_0_bad_enhanced_code", EXIM_DSN("5.0.0", "smtp; 550 5.1.1.1 odd"), 0, NULL, 1,
      DSN_CLASS_OTHER, "5.0.0", "bob@example.org", NULL },
    { "exim_5_0_0_long_detail", EXIM_DSN("5.0.0", "smtp; 550 5.1.1000 odd"), 0, NULL, 1,
      DSN_CLASS_OTHER, "5.0.0", "bob@example.org", NULL },
    { "status_with_detail_kept", EXIM_DSN("5.1.0", "smtp; 550 5.1.1 unknown"), 0, NULL, 1,
      DSN_CLASS_OTHER, "5.1.0", "bob@example.org", NULL },
    { "delayed_4_0_0_greylisted", POSTFIX_HEAD RCPT_BLOCK("bob@example.org", "delayed", "4.0.0",
      "451 4.7.1 Greylisted, try again") POSTFIX_TAIL, 0, NULL, 1, DSN_CLASS_POLICY, "4.7.1",
      "bob@example.org", NULL },
    { "empty", "", 0, NULL, 0, DSN_CLASS_NONE, "", "", NULL },
};

/* test_dsn - one message read */
static void test_dsn(void **state)
{
    const DSN_CASE *c = *state;
    char *msg = c->crlf ? th_crlf(c->msg) : strdup(c->msg);
    DSN_RESULT r;

    assert_int_equal(dsn_parse(msg, strlen(msg), c->want_rcpt, &r), c->is_dsn);
    assert_int_equal(r.is_dsn, c->is_dsn);
    if (r.cls != c->cls)
        fail_msg("class %s, want %s", dsn_class_name(r.cls), dsn_class_name(c->cls));
    assert_string_equal(r.status, c->status);
    assert_string_equal(r.final_rcpt, c->final_rcpt);
    if (c->diag)
        assert_string_equal(r.diagnostic, c->diag);
    /* never past len: every prefix reads without trouble */
    for (size_t n = 0; n < strlen(msg); n += 7)
        (void) dsn_parse(msg, n, c->want_rcpt, &r);
    free(msg);
}

/* a Postfix bounce for bob@example.org whose third part, of type ctype in
 * transfer encoding cte (a header line, or ""), is original */
#define WITH_ORIGINAL(ctype, cte, original) \
    POSTFIX_HEAD RCPT_BLOCK("bob@example.org", "failed", "5.2.2", "552 5.2.2 full") \
    "--9C2A41A0.1700000000/relay.example\n" \
    "Content-Type: " ctype "\n" cte "\n" original \
    "--9C2A41A0.1700000000/relay.example--\n"

typedef struct msgid_case {
    const char *name, *msg;
    int         crlf;
    const char *msgid;                  /* the Message-ID read from the original */
} MSGID_CASE;

static const MSGID_CASE msgid_cases[] = {
    { "headers_only", WITH_ORIGINAL("text/rfc822-headers", "", "From: news@shop.example\n"
      "Message-ID: <a1.b2@shop.example>\nSubject: hi\n\n"), 0, "<a1.b2@shop.example>" },
    { "whole_message_crlf", WITH_ORIGINAL("message/rfc822", "", "Message-Id:  <m@shop.example> "
      "(ours)\nFrom: news@shop.example\n\nbody\nMessage-ID: <body@x.example>\n"), 1,
      "<m@shop.example>" },
    { "folded", WITH_ORIGINAL("text/rfc822-headers", "", "Message-ID:\n <long.folded@\n\t"
      "shop.example>\n\n"), 0, "<long.folded@shop.example>" },
    { "first_of_two", WITH_ORIGINAL("text/rfc822-headers", "", "Message-ID: <one@x.example>\n"
      "Message-ID: <two@x.example>\n\n"), 0, "<one@x.example>" },
    { "no_angle_brackets", WITH_ORIGINAL("text/rfc822-headers", "", "Message-ID: bare@x.example"
      "\n\n"), 0, "bare@x.example" },
    { "base64", WITH_ORIGINAL("message/rfc822", "Content-Transfer-Encoding: base64\n",
      "RnJvbTogbmV3c0BzaG9wLmV4YW1wbGUKTWVzc2FnZS1JRDogPGI2NEBzaG9wLmV4YW1wbGU+Cgp4Cg==\n"), 0,
      "<b64@shop.example>" },
    { "quoted_printable", WITH_ORIGINAL("message/rfc822", "Content-Transfer-Encoding: "
      "quoted-printable\n", "Message-ID: <q=3Dp.soft=\nbreak@shop.example>\n\n"), 0,
      "<q=p.softbreak@shop.example>" },
    { "global_headers", WITH_ORIGINAL("message/global-headers", "", "Message-ID: <g@x.example>\n"
      "\n"), 0, "<g@x.example>" },
    { "unknown_encoding", WITH_ORIGINAL("message/rfc822", "Content-Transfer-Encoding: x-gzip\n",
      "Message-ID: <z@x.example>\n\n"), 0, "" },
    { "none_in_the_original", WITH_ORIGINAL("text/rfc822-headers", "", "From: a@x.example\n\n"
      "Message-ID: <in-body@x.example>\n"), 0, "" },
    { "no_original", POSTFIX_HEAD RCPT_BLOCK("bob@example.org", "failed", "5.2.2", "552 full")
      "--9C2A41A0.1700000000/relay.example--\n", 0, "" },
    { "original_before_the_status", "Content-Type: multipart/report; report-type=delivery-status;"
      " boundary=b\n\n--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <early@x.example>\n"
      "\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
      "Final-Recipient: rfc822; bob@example.org\nAction: delayed\nStatus: 4.2.2\n\n--b--\n", 0,
      "<early@x.example>" },
    { "the_report_s_own_is_not_it", "Message-ID: <report@mx.example>\n" POSTFIX_HEAD
      RCPT_BLOCK("bob@example.org", "failed", "5.2.2", "552 full") POSTFIX_TAIL, 0, "" },
};

/* test_msgid - the Message-ID of the original a report returns */
static void test_msgid(void **state)
{
    const MSGID_CASE *c = *state;
    char *msg = c->crlf ? th_crlf(c->msg) : strdup(c->msg);
    DSN_RESULT r;

    assert_int_equal(dsn_parse(msg, strlen(msg), "bob@example.org", &r), 1);
    assert_string_equal(r.orig_msgid, c->msgid);
    free(msg);
}

typedef struct id_case {
    const char *name;
    const char *token_a, *msgid_a, *token_b, *msgid_b;
    int         same;                   /* the two get one id */
} ID_CASE;

#define TOK "mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpi"

static const ID_CASE id_cases[] = {
    { "one_message", TOK, "<m1@x.example>", TOK, "<m1@x.example>", 1 },
    { "token_in_either_case", TOK, "<m1@x.example>", "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UOV3HO6DZPI",
      "<m1@x.example>", 1 },
    { "nothing_enclosed", TOK, "", TOK, "", 1 },
    { "another_token", TOK, "<m1@x.example>", TOK "a", "<m1@x.example>", 0 },
    { "another_original", TOK, "<m1@x.example>", TOK, "<m2@x.example>", 0 },
    { "enclosed_or_not", TOK, "<m1@x.example>", TOK, "", 0 },
    { "message_id_case_kept", TOK, "<M1@x.example>", TOK, "<m1@x.example>", 0 },
    { "where_the_token_ends", "ab", "c", "a", "bc", 0 },
};

/* test_report_id - dsn_report_id() */
static void test_report_id(void **state)
{
    const ID_CASE *c = *state;
    char a[DSN_REPORT_ID_MAX], b[DSN_REPORT_ID_MAX];

    dsn_report_id(c->token_a, c->msgid_a, a, sizeof(a));
    dsn_report_id(c->token_b, c->msgid_b, b, sizeof(b));
    assert_int_equal(strlen(a), DSN_REPORT_ID_MAX - 1);
    assert_int_equal(a[0], 't');
    assert_int_equal(strspn(a + 1, "0123456789abcdef"), DSN_REPORT_ID_MAX - 2);
    assert_int_equal(strcmp(a, b) == 0, c->same);
}

typedef struct cls_case {
    const char *name, *action, *status;
    DSN_CLASS   cls;
} CLS_CASE;

static const CLS_CASE cls_cases[] = {
    { "no_such_user", "failed", "5.1.1", DSN_CLASS_DEAD },
    { "no_such_domain", "failed", "5.1.2", DSN_CLASS_DEAD },
    { "null_mx", "failed", "5.1.10", DSN_CLASS_DEAD },
    { "disabled", "Failed", "5.2.1", DSN_CLASS_DEAD },
    { "unroutable", "failed", "5.4.4", DSN_CLASS_DEAD },
    { "full_permanent", "failed", "5.2.2", DSN_CLASS_FULL },
    { "full_delayed", "delayed", "4.2.2", DSN_CLASS_FULL },
    { "spam_refusal", "failed", "5.7.1", DSN_CLASS_POLICY },
    { "dmarc", "failed", "5.7.26", DSN_CLASS_POLICY },
    { "too_large", "failed", "5.2.3", DSN_CLASS_POLICY },
    { "content", "failed", "5.6.0", DSN_CLASS_POLICY },
    { "delayed_dns", "delayed", "4.4.3", DSN_CLASS_TRANSIENT },
    { "failed_after_retries_4xx", "failed", "4.4.7", DSN_CLASS_TRANSIENT },
    { "other_permanent", "failed", "5.0.0", DSN_CLASS_OTHER },
    { "no_status", "failed", "", DSN_CLASS_OTHER },
    { "delivered", "delivered", "2.0.0", DSN_CLASS_NONE },
    { "relayed", "relayed", "2.0.0", DSN_CLASS_NONE },
    { "no_action", NULL, "5.1.1", DSN_CLASS_NONE },
};

/* test_classify - dsn_classify() */
static void test_classify(void **state)
{
    const CLS_CASE *c = *state;
    DSN_CLASS got = dsn_classify(c->action, c->status);

    if (got != c->cls)
        fail_msg("%s %s: %s, want %s", c->action ? c->action : "-", c->status,
                 dsn_class_name(got), dsn_class_name(c->cls));
}

int main(void)
{
    int rc = RUN("dsn_parse", test_dsn, dsn_cases);

    rc |= RUN("dsn_parse_original", test_msgid, msgid_cases);
    rc |= RUN("dsn_report_id", test_report_id, id_cases);
    rc |= RUN("dsn_classify", test_classify, cls_cases);
    return rc ? 1 : 0;
}

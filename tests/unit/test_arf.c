/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_arf.c - unit tests for arf.c and mime.c: feedback reports as Yahoo's
 * CFL and Microsoft's JMRP send them (LF and CRLF), the enclosed original
 * as message/rfc822, text/rfc822-headers, base64 or quoted-printable, the
 * feedback types,
 * messages that are not reports or lack a part, the List-Unsubscribe URIs
 * and mailto addresses, and that no prefix of a message is read past.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arf.h"
#include "mime.h"
#include "testutil.h"

#define YAHOO_HEAD \
    "From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>\n" \
    "To: fbl@bounce.shop.example\n" \
    "Subject: Yahoo! Mail AntiSpam Feedback\n" \
    "MIME-Version: 1.0\n" \
    "Content-Type: multipart/report; report-type=feedback-report;\n" \
    "\tboundary=\"----=_Part_1_2.3\"\n\n" \
    "------=_Part_1_2.3\n" \
    "Content-Type: text/plain; charset=us-ascii\n\n" \
    "This is an email abuse report for an email message received from IP\n" \
    "192.0.2.1 on Thu, 03 Dec 2026 17:00:00 +0000.\n" \
    "Original-Rcpt-To: victim@example.org\n\n" \
    "------=_Part_1_2.3\n" \
    "Content-Type: message/feedback-report\n\n"

#define YAHOO_FB(type) \
    "Feedback-Type: " type "\n" \
    "User-Agent: Yahoo!-Mail-Feedback/2.0\n" \
    "Version: 1\n" \
    "Original-Mail-From: <bounces+rptok@bounce.shop.example>\n" \
    "Original-Rcpt-To: <bob@example.org>\n" \
    "Arrival-Date: Thu, 03 Dec 2026 17:00:00 +0000\n" \
    "Reporting-MTA: dns; mta1.mail.yahoo.com\n" \
    "Source-IP: 192.0.2.1\n\n"

#define ORIGINAL \
    "Return-Path: <bounces+rptok@bounce.shop.example>\n" \
    "From: News <news@shop.example>\n" \
    "To: bob@example.org\n" \
    "List-Unsubscribe: <https://unsub.shop.example/u/URLTOK>,\n" \
    "\t<mailto:unsub+MAILTOK@shop.example?subject=unsubscribe>\n" \
    "Subject: our news\n\n" \
    "List-Unsubscribe: <https://unsub.shop.example/u/BODYTOK>\n"

#define YAHOO_TAIL \
    "------=_Part_1_2.3\n" \
    "Content-Type: message/rfc822\n" \
    "Content-Disposition: inline\n\n" ORIGINAL \
    "------=_Part_1_2.3--\n"

#define B64_ORIGINAL \
    "UmV0dXJuLVBhdGg6IDxib3VuY2VzK2FiYzIzNEBib3VuY2Uuc2hvcC5leGFtcGxlPgpGcm9tOiBu\n" \
    "ZXdzQHNob3AuZXhhbXBsZQpMaXN0LVVuc3Vic2NyaWJlOiA8aHR0cHM6Ly91bnN1Yi5zaG9wLmV4\n" \
    "YW1wbGUvdS9UT0s2ND4KU3ViamVjdDogaGkKCmJvZHkK\n"

/* as a mailer writes it: lines cut at 76 with "=", the "=" of the query as "=3D" */
#define QP_ORIGINAL \
    "Return-Path: <bounces+abc=\n234@bounce.shop.example>\n" \
    "From: news@shop.example\n" \
    "List-Unsubscribe: <https://unsub.shop.example/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" \
    "BBBB>,  =\n" \
    "<mailto:unsub+MT@shop.example?subject=3Dunsubscribe>\n" \
    "Subject: caf=C3=A9\n\nbody=20\n"

#define QP_LU_VALUE "<https://unsub.shop.example/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABBBB>,  " \
    "<mailto:unsub+MT@shop.example?subject=unsubscribe>"

#define SHORT_HEAD(type) \
    "From: staff@hotmail.com\nContent-Type: multipart/report; report-type=feedback-report; " \
    "boundary=b\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: " type "\n" \
    "User-Agent: Microsoft Junk Mail Reporting Program\n\n"

typedef struct arf_case {
    const char *name;
    const char *msg;
    int         crlf;
    ARF_STATUS  status;
    ARF_TYPE    type;
    const char *return_path, *orig_mail_from, *list_unsub, *reporter, *ua, *mta, *arrival;
    int         decoded, headers_only;  /* decoded: 0, B64 or QP */
} ARF_CASE;

#define B64 1
#define QP  2

#define LU_VALUE "<https://unsub.shop.example/u/URLTOK>,\t" \
    "<mailto:unsub+MAILTOK@shop.example?subject=unsubscribe>"

static const ARF_CASE arf_cases[] = {
    { "yahoo_abuse", YAHOO_HEAD YAHOO_FB("abuse") YAHOO_TAIL, 0, ARF_OK, ARF_TYPE_ABUSE,
      "bounces+rptok@bounce.shop.example", "bounces+rptok@bounce.shop.example", LU_VALUE,
      "arf.mail.yahoo.com", "Yahoo!-Mail-Feedback/2.0", "mta1.mail.yahoo.com",
      "Thu, 03 Dec 2026 17:00:00 +0000", 0, 0 },
    { "yahoo_abuse_crlf", YAHOO_HEAD YAHOO_FB("abuse") YAHOO_TAIL, 1, ARF_OK, ARF_TYPE_ABUSE,
      "bounces+rptok@bounce.shop.example", NULL, LU_VALUE, "arf.mail.yahoo.com", NULL, NULL, NULL,
      0, 0 },
    { "type_case_and_comment", YAHOO_HEAD YAHOO_FB("Abuse (spam)") YAHOO_TAIL, 0, ARF_OK,
      ARF_TYPE_ABUSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 },
    { "fraud", YAHOO_HEAD YAHOO_FB("fraud") YAHOO_TAIL, 0, ARF_OK, ARF_TYPE_FRAUD,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 },
    { "not_spam", YAHOO_HEAD YAHOO_FB("not-spam") YAHOO_TAIL, 0, ARF_OK, ARF_TYPE_NOT_SPAM,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 },
    { "opt_out", YAHOO_HEAD YAHOO_FB("opt-out") YAHOO_TAIL, 0, ARF_OK, ARF_TYPE_OPT_OUT,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 },
    { "unregistered_type", YAHOO_HEAD YAHOO_FB("x-grumble") YAHOO_TAIL, 0, ARF_OK,
      ARF_TYPE_UNKNOWN, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 },
    { "jmrp_headers_only", SHORT_HEAD("abuse") "--b\nContent-Type: text/rfc822-headers\n\n"
      "Return-Path: bounces+j@bounce.shop.example\nList-Unsubscribe: <mailto:u+T@shop.example>\n"
      "\n--b--\n", 0, ARF_OK, ARF_TYPE_ABUSE, "bounces+j@bounce.shop.example", "",
      "<mailto:u+T@shop.example>", "hotmail.com", "Microsoft Junk Mail Reporting Program", "",
      "", 0, 1 },
    { "base64_original", SHORT_HEAD("abuse") "--b\nContent-Type: message/rfc822\n"
      "Content-Transfer-Encoding: base64\n\n" B64_ORIGINAL "--b--\n", 0, ARF_OK, ARF_TYPE_ABUSE,
      "bounces+abc234@bounce.shop.example", "", "<https://unsub.shop.example/u/TOK64>", NULL, NULL,
      NULL, NULL, 1, 0 },
    { "base64_original_cut_short", SHORT_HEAD("abuse") "--b\nContent-Type: message/rfc822\n"
      "Content-Transfer-Encoding: base64\n\n"
      "UmV0dXJuLVBhdGg6IDxib3VuY2VzK2FiYzIzNEBib3VuY2Uuc2hvcC5leGFtcGxlPgpGcm9tOiBu\n"
      "ZXdzQHNob3AuZXhhbXBsZQpMaXN0LVVuc3Vic2NyaWJlOiA8aHR0cHM6Ly91bnN1Yi5zaG9wLmV4\n"
      "YW1wbGUvdS9UT0s2ND4KU3ViamV", 0, ARF_OK, ARF_TYPE_ABUSE,
      "bounces+abc234@bounce.shop.example", "", "<https://unsub.shop.example/u/TOK64>", NULL, NULL,
      NULL, NULL, 1, 0 },
    { "base64_original_short_group_before_boundary", SHORT_HEAD("abuse")
      "--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
      "YW1wbGUvdS9UT0s2ND4KU3ViamV\n--b--\n", 0, ARF_ENCODING, ARF_TYPE_ABUSE, "", "", "", NULL,
      NULL, NULL, NULL, 0, 0 },
    { "bad_base64", SHORT_HEAD("abuse") "--b\nContent-Type: message/rfc822\n"
      "Content-Transfer-Encoding: base64\n\nnot*base64!\n--b--\n", 0, ARF_ENCODING, ARF_TYPE_ABUSE,
      "", "", "", NULL, NULL, NULL, NULL, 0, 0 },
    { "quoted_printable_original", SHORT_HEAD("abuse") "--b\nContent-Type: message/rfc822\n"
      "Content-Transfer-Encoding: quoted-printable\n\n" QP_ORIGINAL "--b--\n", 0, ARF_OK,
      ARF_TYPE_ABUSE, "bounces+abc234@bounce.shop.example", "", QP_LU_VALUE, NULL, NULL, NULL,
      NULL, QP, 0 },
    { "quoted_printable_original_crlf", SHORT_HEAD("abuse") "--b\nContent-Type: message/rfc822\n"
      "Content-Transfer-Encoding: Quoted-Printable\n\n" QP_ORIGINAL "--b--\n", 1, ARF_OK,
      ARF_TYPE_ABUSE, "bounces+abc234@bounce.shop.example", "", QP_LU_VALUE, NULL, NULL, NULL,
      NULL, QP, 0 },
    { "quoted_printable_headers_only", SHORT_HEAD("abuse") "--b\nContent-Type: text/rfc822-headers\n"
      "Content-Transfer-Encoding: quoted-printable\n\nReturn-Path: <bounces+j=3d1@bounce.shop.ex=\n"
      "ample>  \nList-Unsubscribe: <mailto:u+T@shop.example>\t\n\n--b--\n", 0, ARF_OK,
      ARF_TYPE_ABUSE, "bounces+j=1@bounce.shop.example", "", "<mailto:u+T@shop.example>", NULL,
      NULL, NULL, NULL, QP, 1 },
    { "quoted_printable_bad_escapes_read_as_text", SHORT_HEAD("abuse")
      "--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\n"
      "X-Offer: 50=% off =G1 ==3D\nReturn-Path: <r@x.example>\n\n--b--\n", 0, ARF_OK,
      ARF_TYPE_ABUSE, "r@x.example", "", "", NULL, NULL, NULL, NULL, QP, 0 },
    { "quoted_printable_original_cut_short", SHORT_HEAD("abuse")
      "--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\n"
      "Return-Path: <r@x.example>\nList-Unsubscribe: <https://unsub.shop.example/u/CU=\nT>\n"
      "Subject: caf=C", 0, ARF_OK, ARF_TYPE_ABUSE, "r@x.example", "",
      "<https://unsub.shop.example/u/CUT>", NULL, NULL, NULL, NULL, QP, 0 },
    { "unknown_encoding_refused", SHORT_HEAD("abuse") "--b\nContent-Type: message/rfc822\n"
      "Content-Transfer-Encoding: x-uuencode\n\nList-Unsubscribe: <mailto:u+T@x.example>\n"
      "\n--b--\n", 0, ARF_ENCODING, ARF_TYPE_ABUSE, "", "", "", NULL, NULL, NULL, NULL, 0, 0 },
    { "no_original", SHORT_HEAD("abuse") "--b--\n", 0, ARF_NO_ORIGINAL, ARF_TYPE_ABUSE,
      "", "", "", NULL, NULL, NULL, NULL, 0, 0 },
    { "no_feedback_type", "Content-Type: multipart/report; report-type=feedback-report; boundary=b\n\n"
      "--b\nContent-Type: message/feedback-report\n\nUser-Agent: x\n\n--b\n"
      "Content-Type: message/rfc822\n\nReturn-Path: <a@b.example>\n\n--b--\n", 0, ARF_NO_FEEDBACK,
      ARF_TYPE_UNKNOWN, "", "", "", NULL, NULL, NULL, NULL, 0, 0 },
    { "only_the_text_part_names_a_recipient", "Content-Type: multipart/report; "
      "report-type=feedback-report; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
      "Feedback-Type: abuse\nOriginal-Rcpt-To: bob@example.org\n\n--b--\n", 0, ARF_NO_FEEDBACK,
      ARF_TYPE_UNKNOWN, "", "", "", NULL, NULL, NULL, NULL, 0, 0 },
    { "delivery_status_is_no_arf", "Content-Type: multipart/report; report-type=delivery-status; "
      "boundary=b\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n\n--b--\n",
      0, ARF_NOT_REPORT, ARF_TYPE_UNKNOWN, "", "", "", NULL, NULL, NULL, NULL, 0, 0 },
    { "plain_mail", "From: bob@example.org\nSubject: stop it\nContent-Type: text/plain\n\n"
      "Feedback-Type: abuse\nList-Unsubscribe: <https://unsub.shop.example/u/X>\n", 0,
      ARF_NOT_REPORT, ARF_TYPE_UNKNOWN, "", "", "", "example.org", NULL, NULL, NULL, 0, 0 },
    { "no_boundary", "Content-Type: multipart/report; report-type=feedback-report\n\nx\n", 0,
      ARF_NOT_REPORT, ARF_TYPE_UNKNOWN, "", "", "", NULL, NULL, NULL, NULL, 0, 0 },
    { "missing_closing_boundary", SHORT_HEAD("abuse") "--b\nContent-Type: message/rfc822\n\n"
      "Return-Path: <r@x.example>\n\nbody", 0, ARF_OK, ARF_TYPE_ABUSE, "r@x.example", "", "",
      NULL, NULL, NULL, NULL, 0, 0 },
    { "null_return_path", SHORT_HEAD("abuse") "--b\nContent-Type: message/rfc822\n\n"
      "Return-Path: <>\nReturn-Path: <later@x.example>\n\n--b--\n", 0, ARF_OK, ARF_TYPE_ABUSE, "",
      "", "", NULL, NULL, NULL, NULL, 0, 0 },
    { "empty", "", 0, ARF_NOT_REPORT, ARF_TYPE_UNKNOWN, "", "", "", "", "", "", "", 0, 0 },
};

/* check_str - a field, when the case names it */
static void check_str(const char *what, const char *got, const char *want)
{
    if (want != NULL && strcmp(got, want) != 0)
        fail_msg("%s: \"%s\", want \"%s\"", what, got, want);
}

/* test_arf - one message read */
static void test_arf(void **state)
{
    const ARF_CASE *c = *state;
    char *msg = c->crlf ? th_crlf(c->msg) : strdup(c->msg), *exact;
    size_t len = strlen(msg);
    ARF_REPORT r;

    if (arf_parse(msg, len, &r) != c->status || r.status != c->status)
        fail_msg("status %s, want %s", arf_status_text(r.status), arf_status_text(c->status));
    if (r.type != c->type)
        fail_msg("type %s, want %s", arf_type_name(r.type), arf_type_name(c->type));
    check_str("Return-Path", r.return_path, c->return_path);
    check_str("Original-Mail-From", r.orig_mail_from, c->orig_mail_from);
    check_str("List-Unsubscribe", r.list_unsub, c->list_unsub);
    check_str("reporter", r.reporter, c->reporter);
    check_str("User-Agent", r.user_agent, c->ua);
    check_str("Reporting-MTA", r.reporting_mta, c->mta);
    check_str("Arrival-Date", r.arrival_date, c->arrival);
    assert_int_equal(r.original_base64, c->decoded == B64);
    assert_int_equal(r.original_qp, c->decoded == QP);
    assert_int_equal(r.headers_only, c->headers_only);
    /* never past len: every prefix, in a buffer of exactly its size */
    for (size_t n = 0; n < len; n += 5) {
        exact = malloc(n ? n : 1);
        assert_non_null(exact);
        memcpy(exact, msg, n);
        (void) arf_parse(exact, n, &r);
        free(exact);
    }
    free(msg);
}

typedef struct uri_case {
    const char *name, *value;
    size_t      n;
    const char *first, *second;
} URI_CASE;

static const URI_CASE uri_cases[] = {
    { "https_and_mailto", LU_VALUE, 2, "https://unsub.shop.example/u/URLTOK",
      "mailto:unsub+MAILTOK@shop.example?subject=unsubscribe" },
    { "blanks_inside_ignored", "< https://x.example/u/A\t B >", 1, "https://x.example/u/AB", NULL },
    { "empty_and_unclosed", "<>, <mailto:a@b.example", 0, NULL, NULL },
    { "none", "mailto:a@b.example", 0, NULL, NULL },
    { "at_most_max", "<a:1>,<a:2>,<a:3>,<a:4>,<a:5>", ARF_URIS_MAX, "a:1", "a:2" },
};

/* test_uris - arf_uris() */
static void test_uris(void **state)
{
    const URI_CASE *c = *state;
    char uris[ARF_URIS_MAX][ARF_URI_MAX];
    size_t n = arf_uris(c->value, uris, ARF_URIS_MAX);

    assert_int_equal(n, c->n);
    if (c->first)
        assert_string_equal(uris[0], c->first);
    if (c->second)
        assert_string_equal(uris[1], c->second);
}

/* test_long_uri_skipped - a URI longer than ARF_URI_MAX is left out, not cut */
static void test_long_uri_skipped(void **state)
{
    char value[ARF_URI_MAX + 64], uris[ARF_URIS_MAX][ARF_URI_MAX];

    (void) state;
    memset(value, 'a', sizeof(value));
    value[0] = '<';
    memcpy(value + ARF_URI_MAX + 10, "><b:c>", 7);
    assert_int_equal(arf_uris(value, uris, ARF_URIS_MAX), 1);
    assert_string_equal(uris[0], "b:c");
}

typedef struct mailto_case {
    const char *name, *uri, *addr;      /* addr NULL: refused */
} MAILTO_CASE;

static const MAILTO_CASE mailto_cases[] = {
    { "query_dropped", "mailto:unsub+T_k-1@shop.example?subject=unsubscribe",
      "unsub+T_k-1@shop.example" },
    { "scheme_any_case", "MAILTO:u@x.example", "u@x.example" },
    { "percent_escape", "mailto:unsub%2BTok@x.example", "unsub+Tok@x.example" },
    { "escaped_nul_refused", "mailto:a%00b@x.example", NULL },
    { "bad_escape", "mailto:a%zzb@x.example", NULL },
    { "not_mailto", "https://x.example/u/T", NULL },
    { "empty", "mailto:?subject=x", NULL },
};

/* test_mailto - arf_mailto_addr() */
static void test_mailto(void **state)
{
    const MAILTO_CASE *c = *state;
    char addr[64];
    int rc = arf_mailto_addr(c->uri, addr, sizeof(addr));

    assert_int_equal(rc, c->addr ? 0 : -1);
    if (c->addr)
        assert_string_equal(addr, c->addr);
}

typedef struct b64_case {
    const char *name, *in, *out;        /* out NULL: refused */
    size_t      max;
    int         cut;
} B64_CASE;

static const B64_CASE b64_cases[] = {
    { "lines", "aGVs\r\nbG8=\n", "hello", 100, 0 },
    { "blanks", " aGVs bG8= ", "hello", 100, 0 },
    { "not_base64", "aGVs*G8=", NULL, 100, 0 },
    { "truncated", "aGVsb", NULL, 100, 0 },
    { "truncated_but_cut", "aGVs\nbG8gd29y", "hello wor", 100, 1 },
    { "cut_mid_group", "aGVs\nbG8gd2", "hello ", 100, 1 },
    { "cut_still_checked", "aGVs*G8=", NULL, 100, 1 },
    { "longer_than_max", "aGVsbG8=", NULL, 2, 0 },
    { "empty", "", "", 100, 0 },
};

/* test_base64 - mime_base64() */
static void test_base64(void **state)
{
    const B64_CASE *c = *state;
    char *out;
    size_t n;
    int rc = mime_base64(c->in, strlen(c->in), c->max, c->cut, &out, &n);

    assert_int_equal(rc, c->out ? 0 : -1);
    if (c->out) {
        assert_int_equal(n, strlen(c->out));
        assert_memory_equal(out, c->out, n);
        free(out);
    } else {
        assert_null(out);
    }
}

typedef struct qp_case {
    const char *name, *in, *out;        /* out NULL: refused */
    size_t      outlen;                 /* 0: strlen(out) */
    size_t      max;
    int         cut;
} QP_CASE;

static const QP_CASE qp_cases[] = {
    { "plain", "hello", "hello", 0, 100, 0 },
    { "soft_break", "hel=\nlo", "hello", 0, 100, 0 },
    { "soft_break_crlf", "hel=\r\nlo", "hello", 0, 100, 0 },
    { "soft_break_blanks_after", "hel= \t\nlo", "hello", 0, 100, 0 },
    { "soft_break_at_end", "hello=", "hello", 0, 100, 0 },
    { "soft_break_blanks_to_end", "hello= ", "hello", 0, 100, 0 },
    { "escapes_either_case", "=3D=3d=41=c3=A9", "==A\xc3\xa9", 0, 100, 0 },
    { "escaped_nul", "a=00b", "a\0b", 3, 100, 0 },
    { "hard_breaks_kept", "a\r\nb\nc", "a\r\nb\nc", 0, 100, 0 },
    { "trailing_blanks_dropped", "a \t\r\nb  \nc  ", "a\r\nb\nc", 0, 100, 0 },
    { "encoded_blank_kept", "a=20\nb=09", "a \nb\t", 0, 100, 0 },
    { "blank_before_soft_break_kept", "a =\nb", "a b", 0, 100, 0 },
    { "inner_blanks_kept", "a  b", "a  b", 0, 100, 0 },
    { "bare_cr_kept", "a\rb", "a\rb", 0, 100, 0 },
    { "bad_escape_literal", "a=ZZb =G1", "a=ZZb =G1", 0, 100, 0 },
    { "half_escape_literal", "a=4x", "a=4x", 0, 100, 0 },
    { "equals_before_escape", "==41", "=A", 0, 100, 0 },
    { "escape_at_end_not_cut", "ab=4", "ab=4", 0, 100, 0 },
    { "escape_cut", "ab=4", "ab", 0, 100, 1 },
    { "equals_cut", "ab=", "ab", 0, 100, 1 },
    { "whole_escape_cut_kept", "ab=41", "abA", 0, 100, 1 },
    { "exactly_max", "a=41c", "aAc", 0, 3, 0 },
    { "longer_than_max", "abcd", NULL, 0, 3, 0 },
    { "empty", "", "", 0, 100, 0 },
};

/* test_qp - mime_qp() */
static void test_qp(void **state)
{
    const QP_CASE *c = *state;
    size_t len = strlen(c->in), want = c->out && c->outlen == 0 ? strlen(c->out) : c->outlen, n;
    char *in = malloc(len ? len : 1), *out;
    int rc;

    /* an exact-size copy: nothing read past len */
    assert_non_null(in);
    memcpy(in, c->in, len);
    rc = mime_qp(in, len, c->max, c->cut, &out, &n);
    free(in);
    assert_int_equal(rc, c->out ? 0 : -1);
    if (c->out) {
        assert_int_equal(n, want);
        assert_memory_equal(out, c->out, n);
        assert_int_equal(out[n], 0);
        free(out);
    } else {
        assert_null(out);
    }
}

int main(void)
{
    const struct CMUnitTest one[] = { cmocka_unit_test(test_long_uri_skipped) };
    int rc = RUN("arf_parse", test_arf, arf_cases);

    rc |= RUN("arf_uris", test_uris, uri_cases);
    rc |= RUN("arf_mailto_addr", test_mailto, mailto_cases);
    rc |= RUN("mime_base64", test_base64, b64_cases);
    rc |= RUN("mime_qp", test_qp, qp_cases);
    rc |= cmocka_run_group_tests_name("arf_uris_long", one, NULL, NULL);
    return rc ? 1 : 0;
}

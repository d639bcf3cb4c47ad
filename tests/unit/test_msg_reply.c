/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_msg_reply.c - unit tests for msg_reply.c: every reason has its
 * codes and a text fit for an SMTP reply; the features' results (rate
 * limiting, the alignment preflight) are worded with the codes they had
 * when each feature replied itself; a verdict a reason does not know
 * takes the reason's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msg_reply.h"
#include "testutil.h"

/* test_every_reason - codes and a printable text for each (no arguments
 * needed: these have none, or are checked with theirs below) */
static void test_every_reason(void **state)
{
    static const MSG_WHY plain[] = {
        MSG_WHY_UNSUB_UNSTORED, MSG_WHY_NO_FROM, MSG_WHY_FROM_EMPTY, MSG_WHY_SIGN_TEMP,
        MSG_WHY_SIGN_FAILED, MSG_WHY_SUPPRESS_DOWN, MSG_WHY_ALIGN_NO_DNS, MSG_WHY_SHUTTING_DOWN,
        MSG_WHY_UNAPPLIED,
    };

    (void) state;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        REPLY r = msg_reply(REPLY_REJECT, plain[i]);

        if (strlen(r.rcode) != 3 || r.xcode[1] != '.' || r.xcode[0] != r.rcode[0] || r.text[0] == 0
            || strpbrk(r.text, "\r\n%"))
            fail_msg("reason %d: %s %s %s", (int) plain[i], r.rcode, r.xcode, r.text);
    }
}

/* One reason with its arguments. */
typedef struct reply_case {
    const char *name;
    REPLY r;                        /* filled by the case's row in test_words */
    REPLY_VERDICT verdict;
    const char *rcode, *xcode, *text;
} REPLY_CASE;

/* test_words - the pipeline's own refusals, as msg.c and msg_unsub.c worded them */
static void test_words(void **state)
{
    REPLY_CASE cases[] = {
        {"bad sender", msg_reply(REPLY_REJECT, MSG_WHY_BAD_SENDER, "a b@x", "space"),
         REPLY_REJECT, "553", "5.1.7", "<a b@x>: bad sender address: space"},
        {"bad rcpt", msg_reply(REPLY_REJECT, MSG_WHY_BAD_RCPT, "a b@x", "space"),
         REPLY_REJECT, "550", "5.1.3", "<a b@x>: bad recipient address: space"},
        {"no good rcpt", msg_reply(REPLY_REJECT, MSG_WHY_NO_GOOD_RCPT, "a b@x"),
         REPLY_REJECT, "550", "5.1.3", "<a b@x>: bad recipient address"},
        {"header size", msg_reply(REPLY_REJECT, MSG_WHY_HEADER_SIZE, (size_t) 1024),
         REPLY_REJECT, "552", "5.3.4", "header section exceeds 1024 bytes (MaximumHeaders)"},
        {"two From, reject", msg_reply(REPLY_REJECT, MSG_WHY_FROM_FIELDS, 2),
         REPLY_REJECT, "550", "5.6.0", "message has 2 From header fields (RFC 5322 3.6 allows one; "
         "receivers reject it, RFC 7489 6.6.1)"},
        {"two mailboxes, tempfail", msg_reply(REPLY_TEMPFAIL, MSG_WHY_FROM_MAILBOXES, 2),
         REPLY_TEMPFAIL, "451", "4.6.0", "From header field holds 2 addresses (receivers cannot "
         "apply DMARC to it, RFC 7489 6.6.1)"},
        {"no key: always temporary", msg_reply(REPLY_REJECT, MSG_WHY_NO_KEY, "x.example"),
         REPLY_TEMPFAIL, "451", "4.3.5", "no DKIM signing key for x.example"},
        {"unsubscribed", msg_reply(REPLY_REJECT, MSG_WHY_UNSUBSCRIBED, "a@x", "s@x"),
         REPLY_REJECT, "550", "5.7.1", "<a@x>: recipient unsubscribed from mail of s@x"},
        {"all unsubscribed", msg_reply(REPLY_REJECT, MSG_WHY_ALL_UNSUBSCRIBED, (size_t) 3,
                                                     "s@x"),
         REPLY_REJECT, "550", "5.7.1", "all 3 recipients unsubscribed from mail of s@x"},
        {"signing failed, temporary", msg_reply(REPLY_TEMPFAIL, MSG_WHY_SIGN_TEMP),
         REPLY_TEMPFAIL, "451", "4.3.0", "DKIM signing failed, try again later"},
        {"shutting down", msg_reply(REPLY_TEMPFAIL, MSG_WHY_SHUTTING_DOWN),
         REPLY_TEMPFAIL, "421", "4.3.2", "txmilter is shutting down, try again later"},
    };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const REPLY_CASE *c = &cases[i];

        if (c->r.verdict != c->verdict || strcmp(c->r.rcode, c->rcode) || strcmp(c->r.xcode, c->xcode)
            || strcmp(c->r.text, c->text))
            fail_msg("case \"%s\": %d %s %s \"%s\"", c->name, (int) c->r.verdict, c->r.rcode, c->r.xcode,
                     c->r.text);
    }
}

/* rate_result - a rate decision for the table below */
static RATE_RESULT rate_result(RATE_OUTCOME o, RATE_REASON why, const char *rule, unsigned long long retry)
{
    RATE_RESULT r;

    memset(&r, 0, sizeof(r));
    r.outcome = o;
    r.reason = why;
    strcpy(r.rcpt, "a@example.org");
    strcpy(r.rule, rule);
    strcpy(r.why, "no domain");
    r.retry_s = retry;
    return r;
}

/* test_rate - rate limiting's results */
static void test_rate(void **state)
{
    static const struct {
        const char *name;
        RATE_OUTCOME outcome;
        RATE_REASON why;
        REPLY_VERDICT verdict;
        const char *rcode, *xcode, *text;
    } cases[] = {
        {"accepted", RATE_ACCEPT, RATE_WHY_NONE, REPLY_CONTINUE, "", "", ""},
        {"deferred to the end", RATE_DEFERRED, RATE_WHY_LIMIT, REPLY_CONTINUE, "", "", ""},
        {"over, tempfail", RATE_TEMPFAIL, RATE_WHY_LIMIT, REPLY_TEMPFAIL, "451", "4.7.1",
         "<a@example.org>: rate limit burst, retry in 42 s"},
        {"over, reject", RATE_REJECT, RATE_WHY_LIMIT, REPLY_REJECT, "550", "5.7.1",
         "<a@example.org>: rate limit burst exceeded"},
        {"store down", RATE_TEMPFAIL, RATE_WHY_STORE, REPLY_TEMPFAIL, "451", "4.4.3",
         "<a@example.org>: rate limit service unavailable, try again later"},
        {"bad address", RATE_REJECT, RATE_WHY_BAD_ADDRESS, REPLY_REJECT, "550", "5.1.3",
         "<a@example.org>: bad recipient address: no domain"},
    };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        RATE_RESULT res = rate_result(cases[i].outcome, cases[i].why, "burst", 42);
        REPLY r = msg_reply_rate(&res);

        if (r.verdict != cases[i].verdict || strcmp(r.rcode, cases[i].rcode)
            || strcmp(r.xcode, cases[i].xcode) || strcmp(r.text, cases[i].text))
            fail_msg("case \"%s\": %d %s %s \"%s\"", cases[i].name, (int) r.verdict, r.rcode, r.xcode,
                     r.text);
    }
}

/* test_align - the alignment preflight's refusals, cut to 440 bytes */
static void test_align(void **state)
{
    static const struct {
        const char *name;
        ALIGN_REFUSAL refuse;
        REPLY_VERDICT verdict;
        const char *rcode, *xcode, *text;
    } cases[] = {
        {"delivered", ALIGN_DELIVER, REPLY_CONTINUE, "", "", ""},
        {"reject", ALIGN_REFUSE_REJECT, REPLY_REJECT, "550", "5.7.26",
         "DMARC alignment preflight failed for example.com (p=reject): no DKIM signature"},
        {"tempfail", ALIGN_REFUSE_TEMPFAIL, REPLY_TEMPFAIL, "451", "4.7.26",
         "DMARC alignment preflight failed for example.com (p=reject): no DKIM signature"},
        {"DNS", ALIGN_REFUSE_DNS, REPLY_TEMPFAIL, "451", "4.4.3",
         "DMARC alignment of example.com cannot be checked now (no DKIM signature), try again later"},
        {"no resolver", ALIGN_REFUSE_NO_DNS, REPLY_TEMPFAIL, "451", "4.4.3",
         "DMARC alignment cannot be checked now, try again later"},
    };
    ALIGN_OUTCOME o;
    REPLY r;

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&o, 0, sizeof(o));
        o.refuse = cases[i].refuse;
        strcpy(o.domain, "example.com");
        strcpy(o.policy_tag, "p");
        strcpy(o.policy, "reject");
        strcpy(o.reasons, "no DKIM signature");
        r = msg_reply_align(&o);
        if (r.verdict != cases[i].verdict || strcmp(r.rcode, cases[i].rcode)
            || strcmp(r.xcode, cases[i].xcode) || strcmp(r.text, cases[i].text))
            fail_msg("case \"%s\": %d %s %s \"%s\"", cases[i].name, (int) r.verdict, r.rcode, r.xcode,
                     r.text);
    }
    memset(o.reasons, 'r', sizeof(o.reasons) - 1);
    o.reasons[sizeof(o.reasons) - 1] = 0;
    o.refuse = ALIGN_REFUSE_REJECT;
    r = msg_reply_align(&o);
    assert_int_equal(strlen(r.text), 439);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_reason),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_align),
    };

    return cmocka_run_group_tests_name("msg_reply", tests, NULL, NULL);
}

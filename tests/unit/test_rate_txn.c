/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rate_txn.c - unit tests for rate_txn.c with the real policy parser
 * and the embedded store on a test clock: mail-bomb variants land on one
 * key, replies name the rule and the exact wait, quota comes back when a
 * transaction does not complete, shadow rules never refuse, and non-SMTP
 * recipients are deferred to the end of the message.
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

#include "msg_reply.h"
#include "rate_store_mem.h"
#include "rate_txn.h"

static uint64_t test_now = 1000000;

static uint64_t test_clock(void)
{
    return test_now;
}

/* policy - a policy file with text */
static RATE_POLICY *policy(const char *text)
{
    char path[] = "/tmp/txratetxn.XXXXXX";
    int fd = mkstemp(path);
    BUF errs;
    RATE_POLICY *p;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
    buf_init(&errs, 4096);
    p = rate_policy_load(path, &errs);
    if (p == NULL)
        fail_msg("policy: %s", errs.data);
    buf_free(&errs);
    unlink(path);
    return p;
}

static const ADDR_NORM_OPTS norm = {"+", 1};

/* said - what the pipeline tells the client of a rate decision */
static REPLY said(RATE_RESULT r)
{
    return msg_reply_rate(&r);
}

/* one - a whole transaction with one recipient; commit says whether the
 * message is accepted in the end. Returns the reply to the recipient. */
static RATE_RESULT one(const RATE_POLICY *p, RATE_STORE *s, const char *rcpt, int commit)
{
    RATE_TXN *t = rate_txn_new(p, &norm, "<app@shop.example>", "192.0.2.10", "", 0);
    RATE_RESULT r = rate_txn_rcpt(t, s, rcpt, NULL, "TEST");

    if (commit)
        rate_txn_commit(t);
    rate_txn_free(t, s);
    return r;
}

static void test_mail_bomb_variants_share_one_key(void **state)
{
    RATE_POLICY *p = policy("burst rcpt 3/10m tempfail\n");
    RATE_STORE *s = rate_store_mem_new(1000, test_clock);
    static const char *const variants[] = {
        "<victim@gmail.com>", "<Victim+reset1@gmail.com>", "<v.i.c.t.i.m@googlemail.com>",
        "<VICTIM+x@GMAIL.COM.>", "<vic.tim+2@gmail.com>",
    };
    RATE_RESULT r;

    (void) state;
    for (int i = 0; i < 3; i++) {
        test_now += 1000;
        r = one(p, s, variants[i], 1);
        if (r.outcome != RATE_ACCEPT)
            fail_msg("variant %d refused: %s", i, said(r).text);
    }
    test_now += 1000;
    r = one(p, s, variants[3], 1);
    assert_int_equal(r.outcome, RATE_TEMPFAIL);
    assert_string_equal(said(r).rcode, "451");
    assert_string_equal(said(r).xcode, "4.7.1");
    /* the oldest of the 3 was 3 s ago: 600 - 3 = 597 s to wait */
    assert_string_equal(said(r).text, "<VICTIM+x@GMAIL.COM.>: rate limit burst, retry in 597 s");
    r = one(p, s, variants[4], 1);
    assert_int_equal(r.outcome, RATE_TEMPFAIL);
    /* another recipient is not affected */
    r = one(p, s, "<someone@example.org>", 1);
    assert_int_equal(r.outcome, RATE_ACCEPT);
    /* once the window has passed the oldest, one more goes through */
    test_now += 597 * 1000;
    r = one(p, s, variants[0], 1);
    assert_int_equal(r.outcome, RATE_ACCEPT);
    s->ops->free(s);
    rate_policy_free(p);
}

/* Spellings Postfix accepts and delivers to one mailbox: one key; an
 * argument that holds no address is refused, never a key of its own. */
static void test_comment_spellings_share_one_key(void **state)
{
    RATE_POLICY *p = policy("burst rcpt 3/10m tempfail\n");
    RATE_STORE *s = rate_store_mem_new(1000, test_clock);
    static const char *const variants[] = {
        "<victim(3)@gmail.com>", "<victim@gmail.com(x)>", "<victim@gmail.com>>",
        "<vic.tim(y)@googlemail.com>", "<(z)victim@gmail.com>",
    };
    RATE_RESULT r;

    (void) state;
    for (int i = 0; i < 5; i++) {
        test_now += 1000;
        r = one(p, s, variants[i], 1);
        if (r.outcome != (i < 3 ? RATE_ACCEPT : RATE_TEMPFAIL))
            fail_msg("variant %s: outcome %d: %s", variants[i], (int) r.outcome, said(r).text);
    }
    r = one(p, s, "<john doe@gmail.com>", 1);
    assert_int_equal(r.outcome, RATE_REJECT);
    assert_string_equal(said(r).rcode, "550");
    assert_string_equal(said(r).xcode, "5.1.3");
    assert_non_null(strstr(said(r).text, "<john doe@gmail.com>: bad recipient address: more than one"));
    /* a caller that has the normal form already passes it */
    {
        RATE_TXN *t = rate_txn_new(p, &norm, "<app@shop.example>", "192.0.2.10", "", 0);

        r = rate_txn_rcpt(t, s, "<anything>", "victim@gmail.com", "TEST");
        assert_int_equal(r.outcome, RATE_TEMPFAIL);
        rate_txn_free(t, s);
    }
    s->ops->free(s);
    rate_policy_free(p);
}

static void test_quota_back_when_not_committed(void **state)
{
    RATE_POLICY *p = policy("burst rcpt 2/1h tempfail\n");
    RATE_STORE *s = rate_store_mem_new(1000, test_clock);

    (void) state;
    /* ten aborted transactions use up nothing */
    for (int i = 0; i < 10; i++)
        assert_int_equal(one(p, s, "<a@example.org>", 0).outcome, RATE_ACCEPT);
    assert_int_equal(one(p, s, "<a@example.org>", 1).outcome, RATE_ACCEPT);
    assert_int_equal(one(p, s, "<a@example.org>", 1).outcome, RATE_ACCEPT);
    assert_int_equal(one(p, s, "<a@example.org>", 1).outcome, RATE_TEMPFAIL);
    s->ops->free(s);
    rate_policy_free(p);
}

static void test_actions(void **state)
{
    RATE_POLICY *p = policy("hard rcpt 1/1d reject\nhold rcpt_domain 1/1d quarantine\n"
                            "try sender 1/1d tempfail shadow\n");
    RATE_STORE *s = rate_store_mem_new(1000, test_clock);
    RATE_TXN *t;
    RATE_RESULT r;

    (void) state;
    assert_int_equal(one(p, s, "<x@one.example>", 1).outcome, RATE_ACCEPT);
    /* reject beats the shadow rule that would also refuse */
    r = one(p, s, "<x@one.example>", 1);
    assert_int_equal(r.outcome, RATE_REJECT);
    assert_string_equal(said(r).rcode, "550");
    assert_string_equal(said(r).xcode, "5.7.1");
    assert_string_equal(said(r).text, "<x@one.example>: rate limit hard exceeded");
    /* a second recipient of one.example: the quarantine rule holds the
     * message but accepts the recipient */
    t = rate_txn_new(p, &norm, "<other@shop.example>", "192.0.2.10", "", 0);
    r = rate_txn_rcpt(t, s, "<y@one.example>", NULL, "TEST");
    assert_int_equal(r.outcome, RATE_ACCEPT);
    assert_non_null(rate_txn_quarantine(t));
    assert_string_equal(rate_txn_quarantine(t), "rate limit hold for <y@one.example>");
    rate_txn_free(t, s);
    s->ops->free(s);
    rate_policy_free(p);
}

static void test_shadow_never_refuses(void **state)
{
    RATE_POLICY *p = policy("trial rcpt 1/1h tempfail shadow\n");
    RATE_STORE *s = rate_store_mem_new(1000, test_clock);

    (void) state;
    for (int i = 0; i < 5; i++)
        assert_int_equal(one(p, s, "<z@example.org>", 1).outcome, RATE_ACCEPT);
    s->ops->free(s);
    rate_policy_free(p);
}

static void test_all_rules_decide_together(void **state)
{
    RATE_POLICY *p = policy("per-rcpt rcpt 5/1h tempfail\nwhole global 2/1h tempfail\n");
    RATE_STORE *s = rate_store_mem_new(1000, test_clock);
    RATE_STORE_ITEM item;
    RATE_STORE_RESULT res;

    (void) state;
    assert_int_equal(one(p, s, "<a@example.org>", 1).outcome, RATE_ACCEPT);
    assert_int_equal(one(p, s, "<b@example.org>", 1).outcome, RATE_ACCEPT);
    /* global refuses: the per-recipient rule of c@ is not charged */
    assert_int_equal(one(p, s, "<c@example.org>", 1).outcome, RATE_TEMPFAIL);
    memset(&item, 0, sizeof(item));
    item.rule = &p->rule[0];
    snprintf(item.key, sizeof(item.key), "per-rcpt|rcpt=c@example.org");
    assert_int_equal(s->ops->peek(s, &item, &res), RATE_STORE_OK);
    assert_int_equal(res.count, 0);
    s->ops->free(s);
    rate_policy_free(p);
}

/* A recipient removed later (it unsubscribed) gives its quota back; the
 * others of the message keep theirs. */
static void test_refund_one_recipient(void **state)
{
    RATE_POLICY *p = policy("burst rcpt 1/1h tempfail\n");
    RATE_STORE *s = rate_store_mem_new(1000, test_clock);
    RATE_TXN *t = rate_txn_new(p, &norm, "<app@shop.example>", "192.0.2.10", "", 0);

    (void) state;
    assert_int_equal(rate_txn_rcpt(t, s, "<gone@example.org>", NULL, "TEST").outcome, RATE_ACCEPT);
    assert_int_equal(rate_txn_rcpt(t, s, "<kept@example.org>", NULL, "TEST").outcome, RATE_ACCEPT);
    rate_txn_refund_rcpt(t, s, "<gone@example.org>");
    rate_txn_refund_rcpt(t, s, "<never@example.org>");        /* unknown: no-op */
    rate_txn_commit(t);
    rate_txn_free(t, s);
    assert_int_equal(one(p, s, "<gone@example.org>", 1).outcome, RATE_ACCEPT);
    assert_int_equal(one(p, s, "<kept@example.org>", 1).outcome, RATE_TEMPFAIL);
    s->ops->free(s);
    rate_policy_free(p);
}

static void test_non_smtp_deferred(void **state)
{
    RATE_POLICY *p = policy("burst rcpt 1/1h tempfail\n");
    RATE_STORE *s = rate_store_mem_new(1000, test_clock);
    RATE_TXN *t;
    RATE_RESULT r;

    (void) state;
    assert_int_equal(one(p, s, "<full@example.org>", 1).outcome, RATE_ACCEPT);
    t = rate_txn_new(p, &norm, "<app@shop.example>", "127.0.0.1", "", 1);
    r = rate_txn_rcpt(t, s, "<full@example.org>", NULL, "TEST");
    assert_int_equal(r.outcome, RATE_DEFERRED);
    r = rate_txn_rcpt(t, s, "<free@example.org>", NULL, "TEST");
    assert_int_equal(r.outcome, RATE_ACCEPT);
    assert_int_equal(rate_txn_deferred(t), 1);
    assert_string_equal(rate_txn_deferred_rcpt(t, 0), "<full@example.org>");
    assert_int_equal(rate_txn_accepted(t), 1);
    r = rate_txn_deferred_result(t);
    assert_string_equal(said(r).rcode, "451");
    assert_non_null(strstr(said(r).text, "rate limit burst"));
    rate_txn_free(t, s);
    s->ops->free(s);
    rate_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mail_bomb_variants_share_one_key),
        cmocka_unit_test(test_comment_spellings_share_one_key),
        cmocka_unit_test(test_quota_back_when_not_committed),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_shadow_never_refuses),
        cmocka_unit_test(test_all_rules_decide_together),
        cmocka_unit_test(test_refund_one_recipient),
        cmocka_unit_test(test_non_smtp_deferred),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_addr_smtp.c - unit tests for addr_smtp.c: a table of MAIL/RCPT
 * arguments as a client may write them (the hostile spellings Postfix
 * accepts, and the cases of test_addr_norm.c in their SMTP form), each
 * with the address Postfix finds in it and its normal form, or the reason
 * it is refused; and a table of arguments with what Postfix 3.7 put in
 * {rcpt_addr} for them, which must give the same rate key as the argument
 * read without the macro.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"
#include "addr_smtp.h"
#include "util.h"

typedef struct smtp_case {
    const char *name;
    const char *arg;    /* as in the SMTP command */
    const char *addr;   /* what Postfix reads; NULL: refused */
    const char *norm;   /* its normal form; NULL: refused (why says why) */
    const char *why;
} SMTP_CASE;

static const SMTP_CASE smtp_cases[] = {
    /* the hostile spellings of issue 10: all one mailbox */
    {"comment-in-local", "<victim(3)@gmail.com>", "victim@gmail.com", "victim@gmail.com", NULL},
    {"comment-after-domain", "<victim@gmail.com(x)>", "victim@gmail.com", "victim@gmail.com", NULL},
    {"extra-close-bracket", "<x@gmail.com>>", "x@gmail.com", "x@gmail.com", NULL},
    {"comment-before", "<(hi)victim@gmail.com>", "victim@gmail.com", "victim@gmail.com", NULL},
    {"comment-after-at", "<victim@(x)gmail.com>", "victim@gmail.com", "victim@gmail.com", NULL},
    {"comment-nested", "<victim(a(b)c)@gmail.com>", "victim@gmail.com", "victim@gmail.com", NULL},
    {"comment-escaped-paren", "<victim(a\\)b)@gmail.com>", "victim@gmail.com", "victim@gmail.com",
     NULL},
    {"comment-blank-inside", "<victim@gmail.com (some text)>", "victim@gmail.com",
     "victim@gmail.com", NULL},
    {"comment-control-char", "<victim(\x01)@gmail.com>", "victim@gmail.com", "victim@gmail.com",
     NULL},
    {"comment-unclosed", "<victim@gmail.com(x>", "victim@gmail.com", "victim@gmail.com", NULL},
    {"double-brackets", "<<x@gmail.com>>", "x@gmail.com", "x@gmail.com", NULL},
    {"route-addr-phrase", "<Victim <x@gmail.com>>", "x@gmail.com", "x@gmail.com", NULL},
    {"no-brackets", "victim@gmail.com", "victim@gmail.com", "victim@gmail.com", NULL},
    {"no-brackets-comment", "victim(x)@gmail.com", "victim@gmail.com", "victim@gmail.com", NULL},
    {"group", "<list:victim@gmail.com;>", "victim@gmail.com", "victim@gmail.com", NULL},
    {"blanks-around-at", "< victim @ gmail . com >", "victim@gmail.com", "victim@gmail.com",
     NULL},
    {"escaped-letter", "<vic\\tim@gmail.com>", "victim@gmail.com", "victim@gmail.com", NULL},
    {"quoted-local-plain", "<\"victim\"@gmail.com>", "victim@gmail.com", "victim@gmail.com", NULL},
    {"dots-and-tag", "<V.I.C.T.I.M+bomb(x)@GoogleMail.com.>", "V.I.C.T.I.M+bomb@GoogleMail.com.",
     "victim@gmail.com", NULL},
    /* what Postfix refuses (501) and so must we */
    {"two-words", "<john doe@example.com>", NULL, NULL, "more than one address"},
    {"two-quoted-words", "<\"john\" \"doe\"@example.com>", NULL, NULL, "more than one address"},
    {"comment-between-words", "<john(x)doe@example.com>", NULL, NULL, "more than one address"},
    {"comment-before-tag", "<Victim(z)+tag@GMAIL.com>", NULL, NULL, "more than one address"},
    {"quoted-pieces", "<\"vic\"\"tim\"@gmail.com>", NULL, NULL, "more than one address"},
    {"unterminated-nested", "<x@gmail.com<>", NULL, NULL, "unterminated '<'"},
    {"comma-list", "<a@example.com,b@example.com>", NULL, NULL, "more than one address"},
    {"domain-blank", "<news@exa mple.com>", NULL, NULL, "more than one address"},
    {"unterminated-bracket", "<<x@gmail.com>", NULL, NULL, "unterminated '<'"},
    {"unterminated-quote", "<\"x@gmail.com>", NULL, NULL, "unterminated quoted string"},
    {"blank-outside", "Victim <x@gmail.com>", NULL, NULL,
     "blank outside quotes or angle brackets"},
    {"too-long", "<a@{X1023}>", NULL, NULL, "address longer than 1024 bytes"},
    /* what Postfix finds but cannot be normalised */
    {"no-domain", "<victim>", "victim", NULL, "no '@' in address"},
    {"comment-only", "<(x)>", "", "", NULL},
    {"stray-close-kept", "<x@gmail.com>>>", "x@gmail.com>", NULL, "unbalanced angle brackets"},
    {"bad-idn", "<a@xn--zzzz.de>", "a@xn--zzzz.de", NULL, "bad IDN label"},
    /* the cases of test_addr_norm.c, as SMTP arguments */
    {"norm-plain", "<foo@example.com>", "foo@example.com", "foo@example.com", NULL},
    {"norm-header-example", "<Foo+x@Example.COM.>", "Foo+x@Example.COM.", "foo@example.com", NULL},
    {"norm-null-sender", "<>", "", "", NULL},
    {"norm-plus-first", "<+bob@example.com>", "+bob@example.com", "+bob@example.com", NULL},
    {"norm-gmail-dots", "<J.O.H.N@gmail.com>", "J.O.H.N@gmail.com", "john@gmail.com", NULL},
    {"norm-idn-ulabel", "<user@b\xc3\xbc" "cher.de>", "user@b\xc3\xbc" "cher.de",
     "user@xn--bcher-kva.de", NULL},
    {"norm-quoted-space", "<\"John Doe\"@example.com>", "\"John Doe\"@example.com",
     "\"john doe\"@example.com", NULL},
    {"norm-quoted-at", "<\"a@b\"@example.com>", "\"a@b\"@example.com", "\"a@b\"@example.com",
     NULL},
    {"norm-quoted-escaped-quote", "<\"a\\\"b\"@example.com>", "\"a\\\"b\"@example.com",
     "\"a\\\"b\"@example.com", NULL},
    {"norm-quoted-dotted", "<\"John.Doe\"@example.com>", "John.Doe@example.com",
     "john.doe@example.com", NULL},
    {"norm-bare-dots-odd", "<a..b.@example.com>", "\"a..b.\"@example.com", "a..b.@example.com",
     NULL},
    {"norm-route", "<@a.example,@b.example:Joe@Host.example>", "Joe@Host.example",
     "joe@host.example", NULL},
    {"norm-literal-v6", "<a@[IPv6:2001:DB8:0:0::1]>", "a@[IPv6:2001:DB8:0:0::1]",
     "a@[ipv6:2001:db8::1]", NULL},
    {"norm-empty-local", "<@example.com>", "\"\"@example.com", "\"\"@example.com", NULL},
    {"norm-two-at", "<a@b@example.com>", "\"a@b\"@example.com", "\"a@b\"@example.com", NULL},
    {"norm-local-65", "<{X65}@example.com>", "{X65}@example.com", NULL,
     "local part longer than 64 bytes"},
    {"norm-ctl", "<a\x7f@example.com>", "\"a\x7f\"@example.com", NULL, "control character 0x7f"},
};

/* test_smtp - one row of smtp_cases */
static void test_smtp(void **state)
{
    const SMTP_CASE *c = *state;
    char *arg = th_expand(c->arg, NULL), *exp = c->addr ? th_expand(c->addr, NULL) : NULL;
    char out[ADDR_NORM_MAX], addr[ADDR_NORM_MAX], norm[ADDR_NORM_MAX];
    BUF err;
    int rc;

    buf_init(&err, 4096);
    rc = addr_smtp_extract(arg, out, sizeof(out), &err);
    if (exp != NULL && (rc != 0 || strcmp(out, exp) != 0))
        fail_msg("case %s: expected to read \"%s\", got %s \"%s\"", c->name, exp,
                 rc ? "an error" : "", rc ? (err.data ? err.data : "") : out);
    if (exp == NULL && rc != -1)
        fail_msg("case %s: expected a refusal (%s), read \"%s\"", c->name, c->why, out);
    buf_reset(&err);
    rc = addr_smtp_norm(NULL, arg, NULL, addr, norm, &err);
    if (c->norm != NULL) {
        char *en = th_expand(c->norm, NULL);

        if (rc != 0 || strcmp(norm, en) != 0 || strcmp(addr, exp) != 0)
            fail_msg("case %s: expected \"%s\" (\"%s\"), got %s \"%s\" (\"%s\")", c->name, en, exp,
                     rc ? "an error" : "", rc ? (err.data ? err.data : "") : norm, addr);
        free(en);
    } else {
        if (rc != -1 || norm[0] || strcmp(addr, exp ? exp : "") != 0)
            fail_msg("case %s: expected a refusal (%s), got \"%s\" (\"%s\")", c->name, c->why,
                     norm, addr);
        if (err.data == NULL || strstr(err.data, c->why) == NULL)
            fail_msg("case %s: expected reason \"%s\", got \"%s\"", c->name, c->why,
                     err.data ? err.data : "(none)");
    }
    buf_free(&err);
    free(arg);
    free(exp);
}

/* What Postfix 3.7 put in {rcpt_addr} for these arguments (seen in
 * tests/integration/test_ratelimit.py and test_unsubscribe.py): its
 * resolver's form, lowercased. */
typedef struct macro_case {
    const char *name;
    const char *arg;
    const char *macro;
} MACRO_CASE;

static const MACRO_CASE macro_cases[] = {
    {"macro-comment-local", "<victim(3)@gmail.com>", "victim@gmail.com"},
    {"macro-comment-domain", "<victim@gmail.com(x)>", "victim@gmail.com"},
    {"macro-extra-bracket", "<victim@gmail.com>>", "victim@gmail.com"},
    {"macro-comment-first", "<(hi)victim@gmail.com>", "victim@gmail.com"},
    {"macro-comment-after-at", "<victim@(x)gmail.com>", "victim@gmail.com"},
    {"macro-googlemail", "<vic.tim(1)@googlemail.com>", "vic.tim@googlemail.com"},
    {"macro-blank-comment", "<victim@gmail.com (reset)>", "victim@gmail.com"},
    {"macro-case-tag", "<Victim+tag(z)@GMAIL.com>", "victim+tag@gmail.com"},
    {"macro-double-brackets", "<<olga@receiver.example>>", "olga@receiver.example"},
    {"macro-upper-dot", "<OLGA+tag(y)@RECEIVER.EXAMPLE.>", "olga+tag@receiver.example"},
};

/* test_macro - the argument alone gives the key the macro gives */
static void test_macro(void **state)
{
    const MACRO_CASE *c = *state;
    char a1[ADDR_NORM_MAX], n1[ADDR_NORM_MAX], a2[ADDR_NORM_MAX], n2[ADDR_NORM_MAX];

    if (addr_smtp_norm(c->macro, c->arg, NULL, a1, n1, NULL) != 0
        || addr_smtp_norm(NULL, c->arg, NULL, a2, n2, NULL) != 0)
        fail_msg("case %s: not normalised", c->name);
    if (strcmp(n1, n2) != 0)
        fail_msg("case %s: macro gives \"%s\", the argument \"%s\"", c->name, n1, n2);
}

int main(void)
{
    int rc = 0;

    rc |= RUN("addr_smtp", test_smtp, smtp_cases);
    rc |= RUN("addr_smtp with and without the macro", test_macro, macro_cases);
    return rc ? 1 : 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_addr_norm.c - unit tests for addr_norm.c: one table of addresses
 * (ordinary, evasive and hostile) with the expected normal form or the
 * expected reason, a table of spellings that must all meet on one key
 * (U-labels and A-labels, quoting, case, tags, Gmail), and addr_domain().
 *
 * Inputs may hold "{X<n>}" (n 'x' bytes) and "{E}" (the UTF-8 'e' with
 * acute accent) so that long and 8-bit cases stay readable. Every row is
 * one named cmocka test, so a failure names its case.
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
#include "addr_norm.h"
#include "util.h"

/* an_e - the token "{E}": a UTF-8 e-acute */
static size_t an_e(const char *p, BUF *b)
{
    if (strncmp(p, "{E}", 3) != 0)
        return 0;
    assert_int_equal(buf_puts(b, "\xc3\xa9"), 0);
    return 3;
}

#define DEF (-1)        /* opts: NULL (the defaults) */

typedef struct norm_case {
    const char *name;
    const char *in;
    const char *seps;   /* NULL: default */
    int         gmail;  /* DEF: opts NULL; else o.gmail_dots */
    const char *out;    /* NULL: must fail */
    const char *why;    /* the reason when it fails */
} NORM_CASE;

static const NORM_CASE norm_cases[] = {
    /* the ordinary */
    {"plain", "foo@example.com", NULL, DEF, "foo@example.com", NULL},
    {"brackets", "<foo@example.com>", NULL, DEF, "foo@example.com", NULL},
    {"header-example", "<Foo+x@Example.COM.>", NULL, DEF, "foo@example.com", NULL},
    {"case", "John.Doe@EXAMPLE.Org", NULL, DEF, "john.doe@example.org", NULL},
    {"blanks-around", "  <a@b.example>  ", NULL, DEF, "a@b.example", NULL},
    {"blanks-inside-brackets", "< a@b.example >", NULL, DEF, "a@b.example", NULL},
    {"null-sender", "<>", NULL, DEF, "", NULL},
    {"null-empty", "", NULL, DEF, "", NULL},
    {"trailing-dot", "a@example.com.", NULL, DEF, "a@example.com", NULL},
    {"single-label", "root@localhost", NULL, DEF, "root@localhost", NULL},
    {"underscore-domain", "a@my_host.example", NULL, DEF, "a@my_host.example", NULL},
    {"double-hyphen-ascii", "a@ab--c.example", NULL, DEF, "a@ab--c.example", NULL},
    /* subaddresses */
    {"plus-tag", "bob+news@example.com", NULL, DEF, "bob@example.com", NULL},
    {"plus-two-tags", "bob+a+b@example.com", NULL, DEF, "bob@example.com", NULL},
    {"plus-first", "+bob@example.com", NULL, DEF, "+bob@example.com", NULL},
    {"plus-first-then-tag", "+bob+x@example.com", NULL, DEF, "+bob+x@example.com", NULL},
    {"plus-empty-tag", "bob+@example.com", NULL, DEF, "bob@example.com", NULL},
    {"seps-none", "bob+x@example.com", "", 1, "bob+x@example.com", NULL},
    {"seps-minus", "bob-x+y@example.com", "-", 1, "bob@example.com", NULL},
    {"seps-plus-not-minus", "bob-x@example.com", "+", 1, "bob-x@example.com", NULL},
    {"seps-both", "bob-x+y@example.com", "+-", 1, "bob@example.com", NULL},
    {"seps-first-of-set", "a+b-c@example.com", "-+", 1, "a@example.com", NULL},
    /* Gmail */
    {"gmail-dots", "J.O.H.N@gmail.com", NULL, DEF, "john@gmail.com", NULL},
    {"gmail-dots-tag", "j.ohn+x.y@gmail.com", NULL, DEF, "john@gmail.com", NULL},
    {"googlemail", "John.Doe@GoogleMail.COM", NULL, DEF, "johndoe@gmail.com", NULL},
    {"gmail-trailing-dot", "jo.hn@gmail.com.", NULL, DEF, "john@gmail.com", NULL},
    {"gmail-plus-always", "john+x@gmail.com", "-", 1, "john@gmail.com", NULL},
    {"gmail-off", "j.ohn+x@googlemail.com", NULL, 0, "j.ohn@googlemail.com", NULL},
    {"gmail-only-dots", "\".\"@gmail.com", NULL, DEF, ".@gmail.com", NULL},
    {"gmail-subdomain-not", "j.ohn@mail.gmail.com", NULL, DEF, "j.ohn@mail.gmail.com", NULL},
    {"gmail-lookalike-not", "j.ohn@gmail.co", NULL, DEF, "j.ohn@gmail.co", NULL},
    /* IDN */
    {"idn-ulabel", "user@b\xc3\xbc" "cher.de", NULL, DEF, "user@xn--bcher-kva.de", NULL},
    {"idn-ulabel-upper", "user@B\xc3\x9c" "CHER.DE", NULL, DEF, "user@xn--bcher-kva.de", NULL},
    {"idn-alabel", "user@xn--bcher-kva.de", NULL, DEF, "user@xn--bcher-kva.de", NULL},
    {"idn-alabel-upper", "user@XN--BCHER-KVA.DE", NULL, DEF, "user@xn--bcher-kva.de", NULL},
    {"idn-cyrillic", "user@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",
     NULL, DEF, "user@xn--e1afmkfd.xn--p1ai", NULL},
    {"idn-eszett-nontransitional", "a@fa\xc3\x9f.de", NULL, DEF, "a@xn--fa-hia.de", NULL},
    {"idn-transitional-fallback", "a@\xe2\x98\x83.net", NULL, DEF, "a@xn--n3h.net", NULL},
    {"idn-ideographic-dot", "a@b\xc3\xbc" "cher\xe3\x80\x82" "de", NULL, DEF,
     "a@xn--bcher-kva.de", NULL},
    {"idn-utf8-local", "J{E}r{E}my@example.com", NULL, DEF, "j{E}r{E}my@example.com", NULL},
    {"idn-bad-punycode", "a@xn--zzzz.de", NULL, DEF, NULL, "bad IDN label \"xn--zzzz\""},
    {"idn-empty-punycode", "a@xn--.de", NULL, DEF, NULL, "bad IDN label \"xn--\""},
    /* found by tests/fuzz/fuzz_addr_norm: libidn2 mapped U+00A0 to a space,
     * so "victim@gmail.com<U+00A0>" had a key of its own */
    {"idn-nbsp-inside", "user@exa\xc2\xa0mple.com", NULL, DEF, NULL,
     "bad IDN label \"exa\xc2\xa0mple\": maps to a character"},
    {"idn-nbsp-trailing", "victim@gmail.com\xc2\xa0", NULL, DEF, NULL,
     "bad IDN label \"com\xc2\xa0\": maps to a character"},
    {"idn-fullwidth-space", "a@b\xe3\x80\x80" "c.de", NULL, DEF, NULL,
     "bad IDN label \"b\xe3\x80\x80" "c\": maps to a character"},
    /* found by the fuzz stage of .ci/run: U+00AD maps to nothing, so
     * "victim@gmail.com.<U+00AD>" gave "victim@gmail.com." beside "victim@gmail.com" */
    {"idn-soft-hyphen-label", "victim@gmail.com.\xc2\xad", NULL, DEF, NULL,
     "bad IDN label \"\xc2\xad\": maps to an empty label"},
    {"idn-fuzz-crash-f931acb8", "pfg~.goO+.@@ml.\xc2\xad", NULL, DEF, NULL,
     "bad IDN label \"\xc2\xad\": maps to an empty label"},
    {"idn-zero-width-label", "a@b.\xe2\x80\x8b.de", NULL, DEF, NULL,
     "bad IDN label \"\xe2\x80\x8b\": maps to an empty label"},
    {"idn-ideographic-dots", "a@b\xe3\x80\x82\xe3\x80\x82" "c.de", NULL, DEF, NULL,
     "bad IDN label \"b\xe3\x80\x82\xe3\x80\x82" "c\": maps to an empty label"},
    {"idn-soft-hyphen-inside", "a@ex\xc2\xad" "ample.com", NULL, DEF, "a@example.com", NULL},
    /* quoting */
    {"quoted-plain", "\"john\"@example.com", NULL, DEF, "john@example.com", NULL},
    {"quoted-dotted", "\"John.Doe\"@example.com", NULL, DEF, "john.doe@example.com", NULL},
    {"quoted-partial", "\"john\".doe@example.com", NULL, DEF, "john.doe@example.com", NULL},
    {"quoted-escape", "\"j\\ohn\"@example.com", NULL, DEF, "john@example.com", NULL},
    {"quoted-space", "\"John Doe\"@example.com", NULL, DEF, "\"john doe\"@example.com", NULL},
    {"quoted-at", "\"a@b\"@example.com", NULL, DEF, "\"a@b\"@example.com", NULL},
    {"quoted-escaped-quote", "\"a\\\"b\"@example.com", NULL, DEF, "\"a\\\"b\"@example.com",
     NULL},
    {"quoted-backslash", "\"a\\\\b\"@example.com", NULL, DEF, "\"a\\\\b\"@example.com", NULL},
    {"quoted-tag-cut", "\"John Doe+x\"@example.com", NULL, DEF, "\"john doe\"@example.com",
     NULL},
    {"quoted-empty", "\"\"@example.com", NULL, DEF, "\"\"@example.com", NULL},
    {"quoted-dots-odd", "\"a..b\"@example.com", NULL, DEF, "a..b@example.com", NULL},
    {"bare-dots-odd", "a..b.@example.com", NULL, DEF, "a..b.@example.com", NULL},
    {"unquoted-two-at", "a@b@example.com", NULL, DEF, "\"a@b\"@example.com", NULL},
    {"unquoted-special", "a(b)@example.com", NULL, DEF, "\"a(b)\"@example.com", NULL},
    {"unquoted-backslash", "a\\b@example.com", NULL, DEF, "\"a\\\\b\"@example.com", NULL},
    {"quoted-unterminated", "\"john@example.com", NULL, DEF, NULL, "unterminated quoted string"},
    {"quoted-at-only", "\"john@example.com\"", NULL, DEF, NULL, "no '@' in address"},
    {"quoted-no-at", "\"john@example\".com", NULL, DEF, NULL, "no '@' in address"},
    /* routes */
    {"route", "<@a.example,@b.example:Joe@Host.example>", NULL, DEF, "joe@host.example", NULL},
    {"route-one", "<@relay.example:joe@host.example>", NULL, DEF, "joe@host.example", NULL},
    {"route-literal", "<@[192.0.2.1]:joe@host.example>", NULL, DEF, "joe@host.example", NULL},
    {"route-bad", "<@a.example;x:joe@host.example>", NULL, DEF, NULL, "bad source route"},
    {"route-empty", "<@:joe@host.example>", NULL, DEF, NULL, "bad source route"},
    /* domain literals */
    {"literal-v4", "a@[192.0.2.1]", NULL, DEF, "a@[192.0.2.1]", NULL},
    {"literal-v6", "a@[IPv6:2001:DB8:0:0::1]", NULL, DEF, "a@[ipv6:2001:db8::1]", NULL},
    {"literal-bad", "a@[300.0.0.1]", NULL, DEF, NULL, "bad domain literal \"[300.0.0.1]\""},
    {"literal-open", "a@[192.0.2.1", NULL, DEF, NULL, "bad domain literal \"[192.0.2.1\""},
    /* not addresses */
    {"no-at", "foo", NULL, DEF, NULL, "no '@' in address"},
    {"no-at-brackets", "<foo>", NULL, DEF, NULL, "no '@' in address"},
    {"empty-local", "@example.com", NULL, DEF, NULL, "empty local part"},
    {"empty-local-after-route", "<@a.example:@host.example>", NULL, DEF, NULL, "empty local part"},
    {"empty-local-brackets", "<\"\"x@example.com>", NULL, DEF, "x@example.com", NULL},
    {"empty-domain", "foo@", NULL, DEF, NULL, "empty domain"},
    {"only-dot-domain", "foo@.", NULL, DEF, NULL, "empty domain"},
    {"empty-label", "foo@a..example", NULL, DEF, NULL, "empty label in domain"},
    {"leading-dot-domain", "foo@.example", NULL, DEF, NULL, "empty label in domain"},
    {"two-trailing-dots", "foo@example.com..", NULL, DEF, NULL, "empty label in domain"},
    {"space-in-domain", "foo@exa mple.com", NULL, DEF, NULL, "bad character ' ' in domain"},
    {"quote-in-domain", "foo@\"example\".com", NULL, DEF, NULL, "bad character '\"' in domain"},
    {"bracket-open-only", "<foo@example.com", NULL, DEF, NULL, "unbalanced angle brackets"},
    {"bracket-close-only", "foo@example.com>", NULL, DEF, NULL, "unbalanced angle brackets"},
    {"bracket-lone", "<", NULL, DEF, NULL, "unbalanced angle brackets"},
    {"brackets-double", "<<foo@example.com>>", NULL, DEF, NULL, "bad character '>' in domain"},
    /* hostile */
    {"ctl-newline", "foo@example.com\r\nRCPT TO:<x@y>", NULL, DEF, NULL,
     "control character 0x0d in address"},
    {"ctl-in-quotes", "\"a\x01\"@example.com", NULL, DEF, NULL,
     "control character 0x01 in address"},
    {"ctl-escaped", "\"a\\\x7f\"@example.com", NULL, DEF, NULL,
     "control character 0x7f in address"},
    {"ctl-tab-inside", "a\tb@example.com", NULL, DEF, NULL, "control character 0x09 in address"},
    {"bad-utf8", "a\xff@example.com", NULL, DEF, NULL, "invalid UTF-8 in address"},
    {"overlong-utf8", "a\xc0\xaf@example.com", NULL, DEF, NULL, "invalid UTF-8 in address"},
    {"surrogate-utf8", "a\xed\xa0\x80@example.com", NULL, DEF, NULL, "invalid UTF-8 in address"},
    {"truncated-utf8", "a@b\xc3", NULL, DEF, NULL, "invalid UTF-8 in address"},
    {"local-64", "{X64}@example.com", NULL, DEF, "{X64}@example.com", NULL},
    {"local-65", "{X65}@example.com", NULL, DEF, NULL, "local part longer than 64 bytes"},
    {"local-quoted-65", "\"{X63}\"@example.com", NULL, DEF, NULL,
     "local part longer than 64 bytes"},
    {"domain-253", "a@{X63}.{X63}.{X63}.{X61}", NULL, DEF, "a@{X63}.{X63}.{X63}.{X61}", NULL},
    {"domain-253-dot", "a@{X63}.{X63}.{X63}.{X61}.", NULL, DEF, "a@{X63}.{X63}.{X63}.{X61}",
     NULL},
    {"domain-254", "a@{X63}.{X63}.{X63}.{X62}", NULL, DEF, NULL, "domain longer than 253 bytes"},
    {"label-64", "a@{X64}.example", NULL, DEF, NULL, "domain label longer than 63 bytes"},
    {"idn-label-grows", "a@{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}"
     "{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}"
     "{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}{E}.example", NULL, DEF, NULL,
     "bad IDN label"},
    {"input-1025", "a@{X1023}", NULL, DEF, NULL, "address longer than 1024 bytes"},
    {"many-at", "@@@@@@@@", NULL, DEF, NULL, "empty local part"},
    {"many-at-colon", "@@@@:@@@@", NULL, DEF, NULL, "bad source route"},
    {"at-only", "<@>", NULL, DEF, NULL, "empty local part"},
    {"quotes-only", "\"\"", NULL, DEF, NULL, "no '@' in address"},
    {"backslash-end", "\"a\\", NULL, DEF, NULL, "unterminated quoted string"},
    {"route-unterminated", "<@[192.0.2.1:joe@host>", NULL, DEF, NULL, "bad source route"},
};

/* test_norm - one row of norm_cases */
static void test_norm(void **state)
{
    const NORM_CASE *c = *state;
    ADDR_NORM_OPTS o = {c->seps, c->gmail};
    char out[ADDR_NORM_MAX];
    char *in = th_expand_with(c->in, NULL, an_e), *exp = c->out ? th_expand_with(c->out, NULL, an_e) : NULL;
    BUF err;
    int rc;

    buf_init(&err, 4096);
    memset(out, '#', sizeof(out));
    rc = addr_norm(in, c->gmail == DEF ? NULL : &o, out, sizeof(out), &err);
    if (exp != NULL) {
        if (rc != 0)
            fail_msg("case %s: expected \"%s\", got an error: %s", c->name, exp,
                     err.data ? err.data : "(none)");
        if (strcmp(out, exp) != 0)
            fail_msg("case %s: expected \"%s\", got \"%s\"", c->name, exp, out);
        if (err.len != 0)
            fail_msg("case %s: success with a reason: %s", c->name, err.data);
    } else {
        if (rc != -1)
            fail_msg("case %s: expected an error (%s), got \"%s\"", c->name, c->why, out);
        if (out[0] != 0)
            fail_msg("case %s: error but out is \"%s\"", c->name, out);
        if (err.data == NULL || strncmp(err.data, c->why, strlen(c->why)) != 0)
            fail_msg("case %s: expected reason \"%s\", got \"%s\"", c->name, c->why,
                     err.data ? err.data : "(none)");
    }
    buf_free(&err);
    free(in);
    free(exp);
}

/* Spellings that must all normalise to the first one's result. */
typedef struct same_case {
    const char *name;
    const char *v[8];
} SAME_CASE;

static const SAME_CASE same_cases[] = {
    {"same-ulabel-alabel", {"user@b\xc3\xbc" "cher.de", "user@xn--bcher-kva.de",
                            "USER@XN--BCHER-KVA.DE", "<User+x@B\xc3\x9c" "CHER.de.>",
                            "\"user\"@xn--BCHER-kva.de", NULL}},
    {"same-gmail", {"john.doe@gmail.com", "JohnDoe@gmail.com", "j.o.h.n.d.o.e+spam@gmail.com",
                    "john.doe@googlemail.com", "<\"John.Doe\"@GMAIL.COM.>",
                    "<@relay.example:johndoe+1@googlemail.com>", NULL}},
    {"same-quoted-bare", {"john.doe@example.com", "\"john.doe\"@example.com",
                          "\"john\".\"doe\"@example.com", "\"j\\ohn.doe\"@example.com",
                          "John.Doe+tag@Example.Com", NULL}},
    {"same-quoted-space", {"\"john doe\"@example.com", "\"John Doe\"@EXAMPLE.com",
                           "\"john\\ doe\"@example.com", "\"john\" \"doe\"@example.com",
                           "\"John doe+x\"@example.com.", NULL}},
    {"same-literal", {"a@[IPv6:2001:db8::1]", "a@[ipv6:2001:0DB8:0000::0001]",
                      "<A@[IPV6:2001:db8:0::1]>", NULL}},
};

/* test_same - every spelling of a row gives one string */
static void test_same(void **state)
{
    const SAME_CASE *c = *state;
    char first[ADDR_NORM_MAX], out[ADDR_NORM_MAX];
    size_t i;

    assert_int_equal(addr_norm(c->v[0], NULL, first, sizeof(first), NULL), 0);
    for (i = 1; c->v[i] != NULL; i++) {
        if (addr_norm(c->v[i], NULL, out, sizeof(out), NULL) != 0)
            fail_msg("case %s: \"%s\" fails", c->name, c->v[i]);
        if (strcmp(out, first) != 0)
            fail_msg("case %s: \"%s\" gives \"%s\", \"%s\" gives \"%s\"", c->name, c->v[i],
                     out, c->v[0], first);
    }
}

/* Spellings that must not meet. */
static const SAME_CASE apart_cases[] = {
    {"apart-quoted-space", {"\"john doe\"@example.com", "johndoe@example.com",
                            "john.doe@example.com", "\"john.doe\"x@example.com", NULL}},
    {"apart-quoted-at", {"\"a@b\"@c.example", "a@b.c.example", "ab@c.example", NULL}},
    {"apart-gmail-off-domain", {"j.ohn@example.com", "john@example.com", NULL}},
    {"apart-plus-first", {"+a@example.com", "a@example.com", NULL}},
    {"apart-eszett", {"a@fa\xc3\x9f.de", "a@fass.de", NULL}},
};

/* test_apart - every spelling of a row gives a different string */
static void test_apart(void **state)
{
    const SAME_CASE *c = *state;
    char out[8][ADDR_NORM_MAX];
    size_t i, j;

    for (i = 0; c->v[i] != NULL; i++) {
        if (addr_norm(c->v[i], NULL, out[i], sizeof(out[i]), NULL) != 0)
            fail_msg("case %s: \"%s\" fails", c->name, c->v[i]);
        for (j = 0; j < i; j++)
            if (strcmp(out[i], out[j]) == 0)
                fail_msg("case %s: \"%s\" and \"%s\" both give \"%s\"", c->name, c->v[j],
                         c->v[i], out[i]);
    }
}

/* addr_domain() and a short output buffer */
typedef struct dom_case {
    const char *name;
    const char *in;
    const char *domain;
} DOM_CASE;

static const DOM_CASE dom_cases[] = {
    {"domain-plain", "foo@example.com", "example.com"},
    {"domain-null", "", ""},
    {"domain-no-at", "foo", ""},
    {"domain-quoted-at", "\"a@b\"@c.example", "c.example"},
    {"domain-literal", "a@[192.0.2.1]", "[192.0.2.1]"},
};

/* test_domain - addr_domain() on a normalised address */
static void test_domain(void **state)
{
    const DOM_CASE *c = *state;

    if (strcmp(addr_domain(c->in), c->domain) != 0)
        fail_msg("case %s: expected \"%s\", got \"%s\"", c->name, c->domain,
                 addr_domain(c->in));
}

/* test_short_out - a result that does not fit is an error, never a cut */
static void test_short_out(void **state)
{
    char out[32];
    BUF err;

    (void) state;
    buf_init(&err, 1024);
    assert_int_equal(addr_norm("abcdef@example.com", NULL, out, 16, &err), -1);
    assert_string_equal(out, "");
    assert_string_equal(err.data, "normalised address longer than 15 bytes");
    buf_reset(&err);
    assert_int_equal(addr_norm("abcd@example.com", NULL, out, 17, &err), 0);
    assert_string_equal(out, "abcd@example.com");
    assert_int_equal(addr_norm("<>", NULL, out, 1, &err), 0);
    assert_string_equal(out, "");
    assert_int_equal(addr_norm(NULL, NULL, out, sizeof(out), NULL), -1);
    buf_free(&err);
}

int main(void)
{
    static const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_short_out),
    };
    int rc = 0;

    rc |= RUN("addr_norm", test_norm, norm_cases);
    rc |= RUN("addr_norm same key", test_same, same_cases);
    rc |= RUN("addr_norm different keys", test_apart, apart_cases);
    rc |= RUN("addr_domain", test_domain, dom_cases);
    rc |= cmocka_run_group_tests_name("addr_norm output", misc, NULL, NULL);
    return rc ? 1 : 0;
}

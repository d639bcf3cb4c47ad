/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hdr.c - unit tests for hdr.c: From field parsing and the signing
 * form of header fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hdr.h"

typedef struct mbox_case {
    const char *name;
    const char *value;
    int         want;           /* mailboxes, or the HDR_ERR_* refusal */
    const char *local;          /* expected first mailbox, when want > 0 */
    const char *domain;
} MBOX_CASE;

/* What a From field reads as: the domain signed and aligned, or the refusal. */
static const MBOX_CASE mbox_cases[] = {
    /* accepted */
    {"bare addr-spec", " alice@example.com", 1, "alice", "example.com"},
    {"display name and angle", " Alice <alice@example.com>", 1, "alice", "example.com"},
    {"angle without display name", " <alice@example.com>", 1, "alice", "example.com"},
    {"no space before angle", " Shop<shop@example.com>", 1, "shop", "example.com"},
    {"quoted display with comma", " \"Doe, Jane\" <jane@example.com>", 1, "jane", "example.com"},
    {"quoted display holding an address", " \"a@evil.example\" <b@shop.example>", 1, "b",
     "shop.example"},
    {"quoted display with escapes", " \"say \\\"hi\\\" \\(x\" <a@example.com>", 1, "a", "example.com"},
    {"encoded-word display name", " =?UTF-8?B?QsOkY2tlcmVp?= <baker@example.com>", 1, "baker",
     "example.com"},
    {"obs-phrase dot in display name", " John Q. Public <jq@example.com>", 1, "jq", "example.com"},
    {"domain is lowercased", " Bob <Bob@Example.COM>", 1, "Bob", "example.com"},
    {"comments around the address", " (the boss) boss@example.com (really)", 1, "boss", "example.com"},
    {"nested comment", " a@example.com (x (y) z)", 1, "a", "example.com"},
    {"CFWS inside the angle brackets", " A < a@example.com (c) >", 1, "a", "example.com"},
    {"dotted local part", " first.last@example.com", 1, "first.last", "example.com"},
    {"quoted local part", " \"john smith\"@example.com", 1, "john smith", "example.com"},
    {"no space after colon", "x@example.org", 1, "x", "example.org"},
    {"folded value", " Alice\n <alice@example.com>", 1, "alice", "example.com"},
    {"folded with CRLF", " Alice\r\n\t<alice@example.com>", 1, "alice", "example.com"},
    {"UTF-8 display name (RFC 6532)", " \xc3\x89lise <elise@example.fr>", 1, "elise", "example.fr"},
    {"UTF-8 local part (RFC 6532)", " j\xc3\xb8rn@example.com", 1, "j\xc3\xb8rn", "example.com"},
    {"U-label domain becomes A-label", " a@b\xc3\xbc" "cher.example", 1, "a", "xn--bcher-kva.example"},
    {"A-label domain kept", " a@xn--bcher-kva.example", 1, "a", "xn--bcher-kva.example"},
    {"hyphen and digits in labels", " a@mail-2.example.com", 1, "a", "mail-2.example.com"},
    {"two mailboxes", " a@example.com, b@example.net", 2, "a", "example.com"},
    {"two with display names", " A <a@x.example>, \"B, b\" <b@y.example>", 2, "a", "x.example"},
    {"empty value", " ", 0, NULL, NULL},
    {"only a comment", " (nobody)", 0, NULL, NULL},

    /* receivers read another author: refused */
    {"address as display name", " a@evil.example <b@shop.example>", HDR_ERR_DISPLAY, NULL, NULL},
    {"unquoted comma splits the display name", " Doe, Jane <jane@example.com>", HDR_ERR_NOAT, NULL,
     NULL},
    {"text after angle address", " <news@shop.example> extra", HDR_ERR_TRAILING, NULL, NULL},
    {"space inside the domain", " news@exa mple.com", HDR_ERR_SPACE, NULL, NULL},
    {"space inside domain in angle", " N <news@exa mple.com>", HDR_ERR_SPACE, NULL, NULL},
    {"semicolon after address", " news@example.com;", HDR_ERR_TRAILING, NULL, NULL},
    {"domain literal", " news@[192.0.2.1]", HDR_ERR_LITERAL, NULL, NULL},
    {"domain literal in angle", " N <news@[192.0.2.1]>", HDR_ERR_LITERAL, NULL, NULL},
    {"IPv6 domain literal", " a@[IPv6:2001:db8::1]", HDR_ERR_LITERAL, NULL, NULL},
    {"obsolete route", " <@relay.example:a@example.com>", HDR_ERR_ROUTE, NULL, NULL},
    {"obsolete route list", " A <@r1.example,@r2.example:a@example.com>", HDR_ERR_ROUTE, NULL, NULL},
    {"group with two", " team: a@example.com, b@example.com;", HDR_ERR_GROUP, NULL, NULL},
    {"group with one", " team: a@example.com;", HDR_ERR_GROUP, NULL, NULL},
    {"empty group", " undisclosed-recipients:;", HDR_ERR_GROUP, NULL, NULL},
    {"space before at", " news @example.com", HDR_ERR_SPACE, NULL, NULL},
    {"space after at", " news@ example.com", HDR_ERR_SPACE, NULL, NULL},
    {"comment before at", " news(c)@example.com", HDR_ERR_SPACE, NULL, NULL},
    {"comment after at", " news@(c)example.com", HDR_ERR_SPACE, NULL, NULL},
    {"obs-domain with CFWS", " news@exa .mple.com", HDR_ERR_SPACE, NULL, NULL},
    {"obs-domain comment after dot", " news@example.(c)com", HDR_ERR_SPACE, NULL, NULL},
    {"obs-local-part with CFWS", " first . last@example.com", HDR_ERR_SPACE, NULL, NULL},
    {"two words as local part", " news letter@example.com", HDR_ERR_SPACE, NULL, NULL},
    {"obs-local-part quoted and plain", " \"a\".b@example.com", HDR_ERR_OBSLOCAL, NULL, NULL},
    {"obs-local-part plain and quoted", " a.\"b\"@example.com", HDR_ERR_OBSLOCAL, NULL, NULL},
    {"quoted local part with at", " \"a@evil.example\"@shop.example", HDR_ERR_QUOTEDAT, NULL, NULL},
    {"two at signs", " a@evil.example@shop.example", HDR_ERR_SYNTAX, NULL, NULL},
    {"trailing dot", " a@example.com.", HDR_ERR_DOMAIN, NULL, NULL},
    {"only dots in domain", " a@...", HDR_ERR_DOMAIN, NULL, NULL},
    {"empty label", " a@example..com", HDR_ERR_DOMAIN, NULL, NULL},
    {"underscore in domain", " a@ex_ample.com", HDR_ERR_DOMAIN, NULL, NULL},
    {"atext not LDH in domain", " a@exa!mple.com", HDR_ERR_DOMAIN, NULL, NULL},
    {"label starts with hyphen", " a@-example.com", HDR_ERR_DOMAIN, NULL, NULL},
    {"label ends with hyphen", " a@example-.com", HDR_ERR_DOMAIN, NULL, NULL},
    {"IP address as dot-atom", " a@192.0.2.1", HDR_ERR_DOMAIN, NULL, NULL},
    {"bad U-label", " a@\xe2\x98\x83\xe2\x80\x8d.example", HDR_ERR_IDN, NULL, NULL},
    {"leading dot in local part", " .a@example.com", HDR_ERR_LOCAL, NULL, NULL},
    {"double dot in local part", " a..b@example.com", HDR_ERR_LOCAL, NULL, NULL},
    {"empty local part", " @example.com", HDR_ERR_LOCAL, NULL, NULL},
    {"empty quoted local part", " \"\"@example.com", HDR_ERR_LOCAL, NULL, NULL},
    {"no at sign", " alice", HDR_ERR_NOAT, NULL, NULL},
    {"display name and bare address", " Alice alice@example.com", HDR_ERR_SPACE, NULL, NULL},
    {"empty angle", " <>", HDR_ERR_NOAT, NULL, NULL},
    {"at at end", " a@", HDR_ERR_NOAT, NULL, NULL},
    {"empty list element first", " , a@example.com", HDR_ERR_EMPTY, NULL, NULL},
    {"empty list element last", " a@example.com,", HDR_ERR_EMPTY, NULL, NULL},
    {"empty list element inside", " a@example.com,, b@example.com", HDR_ERR_EMPTY, NULL, NULL},
    {"second mailbox broken", " a@example.com, b@exa mple.com", HDR_ERR_SPACE, NULL, NULL},
    {"unbalanced quote", " \"abc <a@example.com>", HDR_ERR_QUOTE, NULL, NULL},
    {"unbalanced comment", " (abc a@example.com", HDR_ERR_COMMENT, NULL, NULL},
    {"stray close paren", " a@example.com)", HDR_ERR_COMMENT, NULL, NULL},
    {"unclosed angle", " A <a@example.com", HDR_ERR_ANGLE, NULL, NULL},
    {"stray close angle", " a@example.com>", HDR_ERR_ANGLE, NULL, NULL},
    {"two angles", " <a@example.com> <b@example.com>", HDR_ERR_ANGLE, NULL, NULL},
    {"nested angles", " <<a@example.com>>", HDR_ERR_ANGLE, NULL, NULL},
    {"backslash outside quotes", " a\\b@example.com", HDR_ERR_CHAR, NULL, NULL},

    /* hostile bytes (DESIGN.md): 8-bit, controls, NUL */
    {"Latin-1 display name", " \xc9lise <elise@example.fr>", HDR_ERR_UTF8, NULL, NULL},
    {"Latin-1 local part", " caf\xe9@example.com", HDR_ERR_UTF8, NULL, NULL},
    {"Latin-1 in a comment", " a@example.com (caf\xe9)", HDR_ERR_UTF8, NULL, NULL},
    {"Latin-1 in a quoted string", " \"caf\xe9\" <a@example.com>", HDR_ERR_UTF8, NULL, NULL},
    {"overlong UTF-8", " \xc0\xae <a@example.com>", HDR_ERR_UTF8, NULL, NULL},
    {"UTF-8 surrogate", " \xed\xa0\x80 <a@example.com>", HDR_ERR_UTF8, NULL, NULL},
    {"truncated UTF-8 at the end", " a@example.com \xc3", HDR_ERR_UTF8, NULL, NULL},
    {"control character in display", " A\x01 <a@example.com>", HDR_ERR_CHAR, NULL, NULL},
    {"DEL in local part", " a\x7f@example.com", HDR_ERR_CHAR, NULL, NULL},
    {"control in quoted string", " \"a\x02\" <a@example.com>", HDR_ERR_CHAR, NULL, NULL},
    /* A C string ends at a NUL: what follows one never reaches the parser,
     * and libmilter hands over the value only up to it. */
    {"NUL ends the value", " a@example.com\0@evil.example", 1, "a", "example.com"},
};

static void test_mailboxes(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(mbox_cases) / sizeof(mbox_cases[0]); i++) {
        const MBOX_CASE *c = &mbox_cases[i];
        HDR_ADDR a;
        int n;

        memset(&a, 0, sizeof(a));
        n = hdr_parse_mailboxes(c->value, &a);
        if (n != c->want)
            fail_msg("case \"%s\": got %d (%s), want %d (%s)", c->name, n,
                     n < 0 ? hdr_strerror(n) : "accepted", c->want,
                     c->want < 0 ? hdr_strerror(c->want) : "accepted");
        if (c->want > 0) {
            if (strcmp(a.local, c->local) != 0)
                fail_msg("case \"%s\": local \"%s\", want \"%s\"", c->name, a.local, c->local);
            if (strcmp(a.domain, c->domain) != 0)
                fail_msg("case \"%s\": domain \"%s\", want \"%s\"", c->name, a.domain, c->domain);
        }
    }
}

/* Every refusal has its own reason, and an unknown code still reads as one. */
static void test_mailbox_reasons(void **state)
{
    (void) state;
    for (int code = HDR_ERR_SYNTAX; code >= HDR_ERR_IDN; code--) {
        const char *why = hdr_strerror(code);

        assert_non_null(why);
        if (code != HDR_ERR_SYNTAX && strcmp(why, hdr_strerror(HDR_ERR_SYNTAX)) == 0)
            fail_msg("code %d has no reason of its own", code);
    }
    assert_string_equal(hdr_strerror(-1000), hdr_strerror(HDR_ERR_SYNTAX));
    assert_non_null(strstr(hdr_strerror(HDR_ERR_LITERAL), "never be DKIM-signed"));
}

/* Over-long parts are refused, never truncated into another address. */
static void test_mailbox_bounds(void **state)
{
    static char value[100000];
    HDR_ADDR a;

    (void) state;
    memset(value, 'a', 2048);
    value[0] = ' ';
    memcpy(value + 600, "@example.com", 13);
    assert_int_equal(hdr_parse_mailboxes(value, &a), HDR_ERR_LONG);

    /* a domain label of 64 bytes, then a domain of 254 */
    snprintf(value, sizeof(value), " x@%064d.example", 0);
    assert_int_equal(hdr_parse_mailboxes(value, &a), HDR_ERR_DOMAIN);
    snprintf(value, sizeof(value), " x@%s", "");
    for (int i = 0; i < 64; i++)
        strcat(value, "abc.");
    strcat(value, "com");
    assert_int_equal(hdr_parse_mailboxes(value, &a), HDR_ERR_LONG);

    /* a 2047-byte domain of one label */
    memset(value, 'b', 2048);
    value[0] = ' ';
    value[1] = 'x';
    value[2] = '@';
    value[2047] = 0;
    assert_int_equal(hdr_parse_mailboxes(value, &a), HDR_ERR_LONG);

    /* comments nested deeper than the bound */
    memset(value, '(', 40);
    value[40] = 0;
    assert_int_equal(hdr_parse_mailboxes(value, &a), HDR_ERR_COMMENT);

    /* a 99,999-byte line: a display name of words, then the address */
    memset(value, 'w', sizeof(value));
    for (size_t i = 0; i < sizeof(value) - 40; i += 10)
        value[i] = ' ';
    strcpy(value + sizeof(value) - 40, " <long@example.com>");
    assert_int_equal(hdr_parse_mailboxes(value, &a), 1);
    assert_string_equal(a.domain, "example.com");

    /* the same line of one atom without white space, then garbage */
    memset(value, 'w', sizeof(value) - 1);
    value[sizeof(value) - 1] = 0;
    memcpy(value + sizeof(value) - 20, "@example.com;", 14);
    assert_int_equal(hdr_parse_mailboxes(value, &a), HDR_ERR_LONG);
}

typedef struct form_case {
    const char *name;
    const char *field, *value;
    const char *want;
} FORM_CASE;

static const FORM_CASE form_cases[] = {
    {"plain", "Subject", " hello", "Subject: hello"},
    {"no space kept as is", "Subject", "x", "Subject:x"},
    {"runs of spaces and tabs kept", "Subject", " a \t  b\t", "Subject: a \t  b\t"},
    {"bare LF fold becomes CRLF", "Subject", " a\n\tb\n c", "Subject: a\r\n\tb\r\n c"},
    {"existing CRLF untouched", "Subject", " a\r\n b", "Subject: a\r\n b"},
    {"empty value", "X-Empty", "", "X-Empty:"},
};

static void test_signing_form(void **state)
{
    BUF b;

    (void) state;
    buf_init(&b, 1024);
    for (size_t i = 0; i < sizeof(form_cases) / sizeof(form_cases[0]); i++) {
        const FORM_CASE *c = &form_cases[i];

        if (hdr_signing_form(&b, c->field, c->value) != 0)
            fail_msg("case \"%s\": failed", c->name);
        if (b.len != strlen(c->want) || memcmp(b.data, c->want, b.len) != 0)
            fail_msg("case \"%s\": got \"%s\"", c->name, b.data);
    }
    buf_free(&b);

    /* the bound is enforced */
    buf_init(&b, 8);
    assert_int_equal(hdr_signing_form(&b, "Subject", " too long"), -1);
    buf_free(&b);
}

static void test_strip_cr_and_names(void **state)
{
    char s[] = "v=1;\r\n\tb=abc\r\n\t def";

    (void) state;
    hdr_strip_cr(s);
    assert_string_equal(s, "v=1;\n\tb=abc\n\t def");
    assert_true(hdr_valid_name("List-Unsubscribe-Post"));
    assert_false(hdr_valid_name(""));
    assert_false(hdr_valid_name("Bad Name"));
    assert_false(hdr_valid_name("Bad:Name"));
    assert_false(hdr_valid_name("Caf\xc3\xa9"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mailboxes),
        cmocka_unit_test(test_mailbox_reasons),
        cmocka_unit_test(test_mailbox_bounds),
        cmocka_unit_test(test_signing_form),
        cmocka_unit_test(test_strip_cr_and_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

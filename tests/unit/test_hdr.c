/*
 * test_hdr.c - unit tests for hdr.c: From field parsing and the signing
 * form of header fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hdr.h"

typedef struct mbox_case {
    const char *name;
    const char *value;
    int         count;          /* expected return */
    const char *local;          /* expected first mailbox, when count > 0 */
    const char *domain;
} MBOX_CASE;

static const MBOX_CASE mbox_cases[] = {
    {"bare addr-spec", " alice@example.com", 1, "alice", "example.com"},
    {"display name and angle", " Alice <alice@example.com>", 1, "alice", "example.com"},
    {"quoted display with comma", " \"Doe, Jane\" <jane@example.com>", 1, "jane", "example.com"},
    {"domain is lowercased", " Bob <Bob@Example.COM>", 1, "Bob", "example.com"},
    {"trailing dot removed", " a@example.com.", 1, "a", "example.com"},
    {"comment ignored", " (the boss) boss@example.com (really)", 1, "boss", "example.com"},
    {"nested comment", " a@example.com (x (y) z)", 1, "a", "example.com"},
    {"quoted local part", " \"john smith\"@example.com", 1, "john smith", "example.com"},
    {"no space after colon", "x@example.org", 1, "x", "example.org"},
    {"folded value", " Alice\n <alice@example.com>", 1, "alice", "example.com"},
    {"two mailboxes", " a@example.com, b@example.net", 2, "a", "example.com"},
    {"two with display names", " A <a@x.example>, \"B, b\" <b@y.example>", 2, "a", "x.example"},
    {"group with two", " team: a@example.com, b@example.com;", 2, "a", "example.com"},
    {"empty group", " undisclosed-recipients:;", 0, NULL, NULL},
    {"obsolete route", " <@relay.example:a@example.com>", 1, "a", "example.com"},
    {"domain literal", " a@[192.0.2.1]", 1, "a", "[192.0.2.1]"},
    {"empty list elements", " , a@example.com ,", 1, "a", "example.com"},
    {"8-bit display name", " \xc3\x89lise <elise@example.fr>", 1, "elise", "example.fr"},
    {"empty value", " ", 0, NULL, NULL},
    {"no at sign", " alice", -1, NULL, NULL},
    {"empty angle", " <>", -1, NULL, NULL},
    {"unbalanced quote", " \"abc <a@example.com>", -1, NULL, NULL},
    {"unbalanced comment", " (abc a@example.com", -1, NULL, NULL},
    {"unclosed angle", " A <a@example.com", -1, NULL, NULL},
    {"stray close angle", " a@example.com>", -1, NULL, NULL},
    {"two angles", " <a@example.com> <b@example.com>", -1, NULL, NULL},
    {"at at end", " a@", -1, NULL, NULL},
    {"only dots in domain", " a@...", -1, NULL, NULL},
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
        if (n != c->count)
            fail_msg("case \"%s\": got %d mailboxes, want %d", c->name, n, c->count);
        if (c->count > 0) {
            if (strcmp(a.local, c->local) != 0)
                fail_msg("case \"%s\": local \"%s\", want \"%s\"", c->name, a.local, c->local);
            if (strcmp(a.domain, c->domain) != 0)
                fail_msg("case \"%s\": domain \"%s\", want \"%s\"", c->name, a.domain, c->domain);
        }
    }
}

/* Over-long parts are refused, never truncated into another address. */
static void test_mailbox_bounds(void **state)
{
    char value[2048];
    HDR_ADDR a;

    (void) state;
    memset(value, 'a', sizeof(value));
    value[0] = ' ';
    memcpy(value + 600, "@example.com", 13);
    assert_int_equal(hdr_parse_mailboxes(value, &a), -1);

    memset(value, 'b', sizeof(value));
    value[0] = ' ';
    value[1] = 'x';
    value[2] = '@';
    value[sizeof(value) - 1] = 0;
    assert_int_equal(hdr_parse_mailboxes(value, &a), -1);

    /* comments nested deeper than the bound */
    memset(value, '(', 40);
    value[40] = 0;
    assert_int_equal(hdr_parse_mailboxes(value, &a), -1);
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
        cmocka_unit_test(test_mailbox_bounds),
        cmocka_unit_test(test_signing_form),
        cmocka_unit_test(test_strip_cr_and_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

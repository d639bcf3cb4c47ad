/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_return_path.c - unit tests for return_path.c: ReturnPath templates
 * accepted and refused, filled in, and the token read back from the
 * address a bounce comes to (any case), never from another address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "return_path.h"
#include "testutil.h"

#define T "bounces+%{token}@bounce.%{domain}"

typedef struct tmpl_case {
    const char *name, *tmpl;
    int         ok;
} TMPL_CASE;

static const TMPL_CASE tmpl_cases[] = {
    { "usual", T, 1 },
    { "fixed_domain", "b-%{token}@bounce.example.net", 1 },
    { "token_alone", "%{token}@%{domain}", 1 },
    { "no_token", "bounces@bounce.%{domain}", 0 },
    { "token_twice", "%{token}.%{token}@x.example", 0 },
    { "token_in_domain", "b@%{token}.example", 0 },
    { "domain_in_local_part", "%{domain}+%{token}@x.example", 0 },
    { "no_at", "bounces+%{token}", 0 },
    { "space", "b %{token}@x.example", 0 },
    { "bad_domain", "b+%{token}@x_y.example", 0 },
    { "empty_domain", "b+%{token}@", 0 },
};

/* test_check - return_path_check() */
static void test_check(void **state)
{
    const TMPL_CASE *c = *state;
    char why[128] = "";

    assert_int_equal(return_path_check(c->tmpl, TH_ERR(why)) == 0, c->ok);
    if (!c->ok)
        assert_true(why[0] != 0);
}

typedef struct tok_case {
    const char *name, *tmpl, *addr;
    const char *token;          /* NULL: not a return-path address */
} TOK_CASE;

static const TOK_CASE tok_cases[] = {
    { "ours", T, "bounces+abc234@bounce.shop.example", "abc234" },
    { "upper_case", T, "BOUNCES+ABC234@Bounce.Shop.EXAMPLE", "ABC234" },
    { "fixed_domain", "b-%{token}@bounce.example.net", "b-xyz@bounce.example.net", "xyz" },
    { "other_prefix", T, "bounce+abc@bounce.shop.example", NULL },
    { "other_domain", T, "bounces+abc@mail.shop.example", NULL },
    { "no_from_domain", T, "bounces+abc@bounce.", NULL },
    { "empty_token", T, "bounces+@bounce.shop.example", NULL },
    { "not_base32", T, "bounces+ab-c@bounce.shop.example", NULL },
    { "digit_one_not_base32", T, "bounces+ab1@bounce.shop.example", NULL },
    { "fixed_domain_other", "b-%{token}@bounce.example.net", "b-xyz@bounce.example.org", NULL },
};

/* test_token - return_path_token(), and expand() then token() round trip */
static void test_token(void **state)
{
    const TOK_CASE *c = *state;
    char tok[256], addr[RETURN_PATH_MAX];

    assert_int_equal(return_path_token(c->tmpl, c->addr, tok, sizeof(tok)), c->token != NULL);
    assert_string_equal(tok, c->token ? c->token : "");
    if (c->token) {
        assert_int_equal(return_path_expand(c->tmpl, c->token, "Shop.Example", addr,
                                            sizeof(addr)), 0);
        assert_int_equal(return_path_token(c->tmpl, addr, tok, sizeof(tok)), 1);
        assert_string_equal(tok, c->token);
    }
}

/* test_expand - the usual template, a lowercase domain; too long refused */
static void test_expand(void **state)
{
    char out[RETURN_PATH_MAX], big[RETURN_PATH_MAX];

    (void) state;
    assert_int_equal(return_path_expand(T, "abc", "Shop.EXAMPLE", out, sizeof(out)), 0);
    assert_string_equal(out, "bounces+abc@bounce.shop.example");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(return_path_expand(T, big, "x.example", out, sizeof(out)), -1);
    assert_string_equal(out, "");
    assert_int_equal(return_path_expand(T, "", "x.example", out, sizeof(out)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_expand) };
    int rc = RUN("return_path_check", test_check, tmpl_cases);

    rc |= RUN("return_path_token", test_token, tok_cases);
    rc |= cmocka_run_group_tests_name("return_path", tests, NULL, NULL);
    return rc ? 1 : 0;
}

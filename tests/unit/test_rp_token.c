/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rp_token.c - unit tests for rp_token.c: return-path tokens round
 * trip (null sender included), open in either case, refuse every changed
 * character, truncation, an unknown or wrong key and age; and never open
 * as an unsubscribe token nor the reverse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rp_token.h"
#include "testutil.h"
#include "unsub_token.h"
#include "util.h"

#define K1 "1 ULiCRWjdPFI4D/dCFT18WuJd5GNesD2urx3uZjaexr0=\n"
#define K2 "2 aSsUCneWNpuOzTJd3jXjBmHvgJDLbI8mH5LcF4ty8Lo=\n"
#define NOW 1714000000u

/* load - keys from content; fails the test if they do not load */
static UNSUB_KEYS *load(const char *content)
{
    char *path = th_tempfile(content);
    UNSUB_KEYS *k = unsub_keys_load(path, NULL);

    th_unlink(path);
    assert_non_null(k);
    return k;
}

typedef struct rt_case {
    const char *name, *rcpt, *stream, *sender;
    int         sealed;         /* 0: too long or empty, refused */
} RT_CASE;

static const RT_CASE rt_cases[] = {
    { "usual", "bob@example.org", "news@example.com", "app@example.com", 1 },
    { "null_sender", "bob@example.org", "example.com", "", 1 },
    { "utf8_recipient", "j\xc3\xb6rg@example.de", "news@example.com", "a@example.com", 1 },
    { "longest", "{X60}@example.org", "{X40}@example.com", "{X12}", 1 },
    { "one_byte_too_long", "{X60}@example.org", "{X40}@example.com", "{X13}", 0 },
    { "empty_recipient", "", "news@example.com", "a@example.com", 0 },
    { "empty_stream", "bob@example.org", "", "a@example.com", 0 },
};

/* test_round_trip - sealed, lowercase base32, opened (upper case too) as sealed */
static void test_round_trip(void **state)
{
    const RT_CASE *c = *state;
    UNSUB_KEYS *k = load(K1 K2);
    char *rcpt = th_expand(c->rcpt, NULL), *stream = th_expand(c->stream, NULL);
    char *sender = th_expand(c->sender, NULL), tok[RP_TOKEN_MAX], why[64];
    RP_PAYLOAD p;

    if (!c->sealed) {
        assert_int_equal(rp_token_seal(k, rcpt, stream, sender, NOW, tok, sizeof(tok)), -1);
        assert_string_equal(tok, "");
        goto out;
    }
    assert_int_equal(rp_token_seal(k, rcpt, stream, sender, NOW, tok, sizeof(tok)), 0);
    assert_true(strspn(tok, "abcdefghijklmnopqrstuvwxyz234567") == strlen(tok));
    for (int upper = 0; upper < 2; upper++) {
        if (upper)
            for (char *q = tok; *q; q++)
                if (*q >= 'a' && *q <= 'z')
                    *q = (char) (*q - 'a' + 'A');
        if (rp_token_open(k, tok, 0, NOW, &p, TH_ERR(why)) != 0)
            fail_msg("refused: %s", why);
        assert_string_equal(p.rcpt, rcpt);
        assert_string_equal(p.stream, stream);
        assert_string_equal(p.sender, sender);
        assert_int_equal(p.issued, NOW);
        assert_int_equal(p.key_id, 2);              /* the last line seals */
    }
out:
    free(rcpt);
    free(stream);
    free(sender);
    unsub_keys_free(k);
}

/* test_every_character - any one character changed, dropped or added: refused */
static void test_every_character(void **state)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
    UNSUB_KEYS *k = load(K1);
    char tok[RP_TOKEN_MAX], bad[RP_TOKEN_MAX + 1], why[64];
    RP_PAYLOAD p;
    size_t n, i, a;

    (void) state;
    assert_int_equal(rp_token_seal(k, "bob@example.org", "news@example.com", "a@example.com", NOW,
                                   tok, sizeof(tok)), 0);
    n = strlen(tok);
    for (i = 0; i < n; i++)
        for (a = 0; a < 32; a++) {
            if (alpha[a] == tok[i])
                continue;
            memcpy(bad, tok, n + 1);
            bad[i] = alpha[a];
            if (rp_token_open(k, bad, 0, NOW, &p, TH_ERR(why)) == 0)
                fail_msg("character %zu changed to %c: accepted", i, alpha[a]);
            assert_string_equal(p.rcpt, "");
        }
    for (i = 1; i < n; i++) {
        memcpy(bad, tok, i);
        bad[i] = 0;
        assert_int_equal(rp_token_open(k, bad, 0, NOW, &p, TH_ERR(why)), -1);
    }
    snprintf(bad, sizeof(bad), "%sa", tok);
    assert_int_equal(rp_token_open(k, bad, 0, NOW, &p, TH_ERR(why)), -1);
    snprintf(bad, sizeof(bad), "%s=", tok);
    assert_int_equal(rp_token_open(k, bad, 0, NOW, &p, TH_ERR(why)), -1);
    assert_string_equal(why, "malformed");
    unsub_keys_free(k);
}

/* test_types_apart - neither token type opens as the other */
static void test_types_apart(void **state)
{
    UNSUB_KEYS *k = load(K1);
    char rp[RP_TOKEN_MAX], un[UNSUB_TOKEN_MAX], why[64], lower[UNSUB_TOKEN_MAX];
    UNSUB_PAYLOAD up;
    RP_PAYLOAD p;

    (void) state;
    assert_int_equal(rp_token_seal(k, "bob@example.org", "news@example.com", "", NOW, rp,
                                   sizeof(rp)), 0);
    assert_int_equal(unsub_token_seal(k, "bob@example.org", "news@example.com", NOW, un,
                                      sizeof(un)), 0);
    /* a return-path token is valid base64url: it decodes, and its tag fails */
    assert_int_equal(unsub_token_open(k, rp, 0, NOW, &up, TH_ERR(why)), -1);
    /* an unsubscribe token, lowercased to look like base32 */
    snprintf(lower, sizeof(lower), "%s", un);
    for (char *q = lower; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char) (*q - 'A' + 'a');
    assert_int_equal(rp_token_open(k, un, 0, NOW, &p, TH_ERR(why)), -1);
    assert_int_equal(rp_token_open(k, lower, 0, NOW, &p, TH_ERR(why)), -1);
    unsub_keys_free(k);
}

/* test_keys_and_age - another key set, an unknown id, max age */
static void test_keys_and_age(void **state)
{
    UNSUB_KEYS *k1 = load(K1), *k2 = load("1 aSsUCneWNpuOzTJd3jXjBmHvgJDLbI8mH5LcF4ty8Lo=\n");
    UNSUB_KEYS *only2 = load(K2);
    char tok[RP_TOKEN_MAX], why[64];
    RP_PAYLOAD p;

    (void) state;
    assert_int_equal(rp_token_seal(k1, "bob@example.org", "s@example.com", "", NOW, tok,
                                   sizeof(tok)), 0);
    assert_int_equal(rp_token_open(k2, tok, 0, NOW, &p, TH_ERR(why)), -1);
    assert_string_equal(why, "bad authentication tag");
    assert_int_equal(rp_token_open(only2, tok, 0, NOW, &p, TH_ERR(why)), -1);
    assert_string_equal(why, "unknown key");
    assert_int_equal(rp_token_open(k1, tok, 3600, NOW + 3600, &p, TH_ERR(why)), 0);
    assert_int_equal(rp_token_open(k1, tok, 3600, NOW + 3601, &p, TH_ERR(why)), -1);
    assert_string_equal(why, "expired");
    unsub_keys_free(k1);
    unsub_keys_free(k2);
    unsub_keys_free(only2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_character),
        cmocka_unit_test(test_types_apart),
        cmocka_unit_test(test_keys_and_age),
    };
    int rc = RUN("rp_token_round_trip", test_round_trip, rt_cases);

    rc |= cmocka_run_group_tests_name("rp_token", tests, NULL, NULL);
    return rc ? 1 : 0;
}

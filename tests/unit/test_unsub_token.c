/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_unsub_token.c - unsub_token.c: List-Unsubscribe tokens.
 *
 * - round trips (typical, UTF-8, quoted, domain streams, the longest);
 * - every single-bit change of a real token refused: each bit of its
 *   text, and each bit of the bytes it encodes (re-encoded);
 * - truncated at every length, extended, malformed spellings;
 * - wrong key, unknown key id, maximum age at its edges;
 * - rotation: the last line seals, older keys still open;
 * - bad key files and their "file:line: message" diagnostics (no key
 *   bytes in them), group/other permissions refused;
 * - what seal refuses; a typical token is at most 120 characters of
 *   [A-Za-z0-9_-] and shows no part of the address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "unsub_token.h"
#include "util.h"

#define K1 "ULiCRWjdPFI4D/dCFT18WuJd5GNesD2urx3uZjaexr0="
#define K2 "aSsUCneWNpuOzTJd3jXjBmHvgJDLbI8mH5LcF4ty8Lo="
#define K3 "kmrBhXi830L28W/Drg0KG9zO2Z3Mib67ZbKLg5zrads="
#define NOW 1714000000u

/* load - keys from content (mode 0600); fails the test if they do not load */
static UNSUB_KEYS *load(const char *content)
{
    char *path = th_tempfile(content);
    BUF errs;
    UNSUB_KEYS *k;

    buf_init(&errs, 4096);
    k = unsub_keys_load(path, &errs);
    if (k == NULL)
        fail_msg("keys did not load: %s", errs.data ? errs.data : "?");
    buf_free(&errs);
    th_unlink(path);
    return k;
}

/* seal - a token, or fail */
static void seal(const UNSUB_KEYS *k, const char *rcpt, const char *stream, uint64_t now,
                 char out[UNSUB_TOKEN_MAX])
{
    assert_int_equal(unsub_token_seal(k, rcpt, stream, now, out, UNSUB_TOKEN_MAX), 0);
}

/* open_why - open token; "" if accepted, else the reason */
static const char *open_why(const UNSUB_KEYS *k, const char *token, uint64_t max_age,
                            uint64_t now, UNSUB_PAYLOAD *p)
{
    static char err[128];
    UNSUB_PAYLOAD tmp;

    if (p == NULL)
        p = &tmp;
    if (unsub_token_open(k, token, max_age, now, p, TH_ERR(err)) == 0) {
        assert_string_equal(err, "");
        return "";
    }
    assert_true(err[0] != 0);
    /* nothing of a refused token is left to trust */
    assert_string_equal(p->rcpt, "");
    assert_string_equal(p->stream, "");
    assert_int_equal(p->issued, 0);
    return err;
}

/* ------------------------------------------------------------ round trip */

typedef struct rt_case {
    const char *name;
    const char *rcpt;
    const char *stream;
} RT_CASE;

static const RT_CASE rt_cases[] = {
    { "typical", "john.smith@example.com", "news@shop.example.com" },
    { "domain_stream", "a@b.example", "shop.example.com" },
    { "one_byte_each", "a", "b" },
    { "utf8_local_part", "j\xc3\xb6rg@example.de", "newsletter@example.de" },
    { "quoted_local_part", "\"john doe\"@example.com", "news@example.com" },
    { "binary_safe_punctuation", "a|b,c;d@example.com", "x|y@example.com" },
    { "long_rcpt", "{X155}@ex.com", "s@e.x" },
    { "longest_total_169", "{X100}@ex.com", "{X58}@e.x" },
};

/* test_round_trip - seal then open gives the fields back */
static void test_round_trip(void **state)
{
    const RT_CASE *c = *state;
    UNSUB_KEYS *k = load("7 " K1 "\n");
    char *rcpt = th_expand(c->rcpt, NULL), *stream = th_expand(c->stream, NULL);
    char tok[UNSUB_TOKEN_MAX];
    UNSUB_PAYLOAD p;

    seal(k, rcpt, stream, NOW, tok);
    assert_true(strlen(tok) < UNSUB_TOKEN_MAX);
    assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"),
                     strlen(tok));
    assert_string_equal(open_why(k, tok, 0, NOW, &p), "");
    assert_string_equal(p.rcpt, rcpt);
    assert_string_equal(p.stream, stream);
    assert_int_equal(p.issued, NOW);
    assert_int_equal(p.key_id, 7);
    free(rcpt);
    free(stream);
    unsub_keys_free(k);
}

/* ----------------------------------------------------- tampering, by bit */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* t_decode - a test's own base64url decoder; the byte count */
static size_t t_decode(const char *s, unsigned char *out)
{
    uint32_t acc = 0;
    size_t o = 0;
    int bits = 0;

    for (; *s; s++) {
        acc = (acc << 6) | (uint32_t) (strchr(b64url, *s) - b64url);
        if ((bits += 6) >= 8) {
            bits -= 8;
            out[o++] = (unsigned char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return o;
}

/* t_encode - and encoder */
static void t_encode(const unsigned char *in, size_t n, char *out)
{
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        for (bits += 8; bits >= 6; bits -= 6)
            *out++ = b64url[(acc >> (bits - 6)) & 63];
        acc &= (1u << bits) - 1;
    }
    if (bits)
        *out++ = b64url[(acc << (6 - bits)) & 63];
    *out = 0;
}

/* test_every_text_bit - flipping any bit of any character is refused */
static void test_every_text_bit(void **state)
{
    UNSUB_KEYS *k = load("1 " K1 "\n2 " K2 "\n");
    char tok[UNSUB_TOKEN_MAX], bad[UNSUB_TOKEN_MAX];
    size_t i, len, tried = 0;
    int bit;

    (void) state;
    seal(k, "john.smith@example.com", "news@shop.example.com", NOW, tok);
    len = strlen(tok);
    for (i = 0; i < len; i++) {
        for (bit = 0; bit < 8; bit++) {
            memcpy(bad, tok, len + 1);
            bad[i] = (char) (bad[i] ^ (1 << bit));
            if (bad[i] == 0)
                continue;               /* a NUL there is the truncation test */
            if (strcmp(open_why(k, bad, 0, NOW, NULL), "") == 0)
                fail_msg("bit %d of character %zu flipped: accepted", bit, i);
            tried++;
        }
    }
    assert_true(tried == len * 8);      /* no character of a token has a lone high bit */
    unsub_keys_free(k);
}

/* test_every_byte_bit - flipping any bit of the encoded bytes is refused */
static void test_every_byte_bit(void **state)
{
    UNSUB_KEYS *k = load("1 " K1 "\n2 " K2 "\n");
    char tok[UNSUB_TOKEN_MAX], bad[UNSUB_TOKEN_MAX];
    unsigned char raw[UNSUB_TOKEN_MAX] = { 0 };
    size_t i, n;
    int bit;

    (void) state;
    seal(k, "john.smith@example.com", "news@shop.example.com", NOW, tok);
    n = t_decode(tok, raw);
    t_encode(raw, n, bad);
    assert_string_equal(bad, tok);      /* the test's coder agrees */
    for (i = 0; i < n; i++) {
        for (bit = 0; bit < 8; bit++) {
            const char *why;

            raw[i] ^= (unsigned char) (1 << bit);
            t_encode(raw, n, bad);
            raw[i] ^= (unsigned char) (1 << bit);
            why = open_why(k, bad, 0, NOW, NULL);
            if (strcmp(why, "") == 0)
                fail_msg("bit %d of byte %zu flipped: accepted", bit, i);
            /* byte 0 is the key id: another id is unknown or the wrong key */
            if (i > 0)
                assert_string_equal(why, "bad authentication tag");
        }
    }
    unsub_keys_free(k);
}

/* test_truncated - every prefix and an extension are refused */
static void test_truncated(void **state)
{
    UNSUB_KEYS *k = load("1 " K1 "\n");
    char tok[UNSUB_TOKEN_MAX], bad[UNSUB_TOKEN_MAX + 1];
    size_t len, i;

    (void) state;
    seal(k, "john.smith@example.com", "news@shop.example.com", NOW, tok);
    len = strlen(tok);
    for (i = 0; i < len; i++) {
        memcpy(bad, tok, i);
        bad[i] = 0;
        if (strcmp(open_why(k, bad, 0, NOW, NULL), "") == 0)
            fail_msg("truncated to %zu of %zu characters: accepted", i, len);
    }
    for (i = 0; i < 64; i++) {
        snprintf(bad, sizeof(bad), "%s%c", tok, b64url[i]);
        assert_string_not_equal(open_why(k, bad, 0, NOW, NULL), "");
    }
    unsub_keys_free(k);
}

/* ------------------------------------------------------------- malformed */

typedef struct bad_tok {
    const char *name;
    const char *token;
    const char *why;
} BAD_TOK;

static const BAD_TOK bad_toks[] = {
    { "empty", "", "malformed" },
    { "one_char", "A", "malformed" },
    { "length_1_mod_4", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "malformed" },
    { "padding", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "malformed" },
    { "plus_slash", "AQAAAAAAAAAAAAAAAAAAAAAAAAAA+/AAAAAAAAAA", "malformed" },
    { "space", "AQAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAAA", "malformed" },
    { "too_short_for_fields", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "malformed" },
    { "non_zero_unused_bits", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", "malformed" },
    { "over_255_chars", "{X256}", "malformed" },
    { "id_0", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "unknown key" },
    { "id_1_zero_tag", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "bad authentication tag" },
    { "id_9_unknown", "CQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "unknown key" },
};

/* test_bad_token - hand-made tokens and their reasons */
static void test_bad_token(void **state)
{
    const BAD_TOK *c = *state;
    UNSUB_KEYS *k = load("1 " K1 "\n");
    char *tok = th_expand(c->token, NULL);

    assert_string_equal(open_why(k, tok, 0, NOW, NULL), c->why);
    free(tok);
    unsub_keys_free(k);
}

/* ------------------------------------------------------------------ keys */

/* test_wrong_key - same id, other key: the tag does not verify */
static void test_wrong_key(void **state)
{
    UNSUB_KEYS *a = load("1 " K1 "\n"), *b = load("1 " K2 "\n");
    char tok[UNSUB_TOKEN_MAX];

    (void) state;
    seal(a, "a@example.com", "s@example.com", NOW, tok);
    assert_string_equal(open_why(b, tok, 0, NOW, NULL), "bad authentication tag");
    assert_string_equal(open_why(a, tok, 0, NOW, NULL), "");
    unsub_keys_free(a);
    unsub_keys_free(b);
}

/* test_unknown_key - a key id the file does not hold (removed in a rotation) */
static void test_unknown_key(void **state)
{
    UNSUB_KEYS *a = load("7 " K1 "\n"), *b = load("1 " K1 "\n2 " K2 "\n");
    char tok[UNSUB_TOKEN_MAX];

    (void) state;
    seal(a, "a@example.com", "s@example.com", NOW, tok);
    assert_string_equal(open_why(b, tok, 0, NOW, NULL), "unknown key");
    unsub_keys_free(a);
    unsub_keys_free(b);
}

typedef struct rot_case {
    const char *name;
    const char *seal_file;              /* seals the token */
    const char *open_file;              /* opens it */
    unsigned    seal_id;                /* key_id the token carries */
    const char *why;                    /* "" accepted */
    unsigned    new_id;                 /* key_id of a token open_file seals */
} ROT_CASE;

static const ROT_CASE rot_cases[] = {
    { "old_key_still_opens", "1 " K1 "\n", "1 " K1 "\n2 " K2 "\n", 1, "", 2 },
    { "newest_is_last_line_not_highest", "9 " K1 "\n", "9 " K1 "\n3 " K2 "\n", 9, "", 3 },
    { "three_keys", "2 " K2 "\n", "1 " K1 "\n2 " K2 "\n3 " K3 "\n", 2, "", 3 },
    { "retired_key_refused", "1 " K1 "\n", "2 " K2 "\n3 " K3 "\n", 1, "unknown key", 3 },
    { "same_id_new_bytes_refused", "1 " K1 "\n", "# rotated badly\n1 " K3 "\n", 1,
      "bad authentication tag", 1 },
};

/* test_rotation - which key seals and which keys open */
static void test_rotation(void **state)
{
    const ROT_CASE *c = *state;
    UNSUB_KEYS *s = load(c->seal_file), *o = load(c->open_file);
    char tok[UNSUB_TOKEN_MAX];
    UNSUB_PAYLOAD p;

    seal(s, "a@example.com", "s@example.com", NOW, tok);
    assert_string_equal(open_why(o, tok, 0, NOW, &p), c->why);
    if (c->why[0] == 0)
        assert_int_equal(p.key_id, c->seal_id);
    seal(o, "a@example.com", "s@example.com", NOW, tok);
    assert_string_equal(open_why(o, tok, 0, NOW, &p), "");
    assert_int_equal(p.key_id, c->new_id);
    unsub_keys_free(s);
    unsub_keys_free(o);
}

typedef struct age_case {
    const char *name;
    uint64_t    max_age;
    uint64_t    now;                    /* the token is issued at NOW */
    const char *why;
} AGE_CASE;

static const AGE_CASE age_cases[] = {
    { "no_limit_old", 0, NOW + 20u * 365 * 86400, "" },
    { "fresh", 86400, NOW, "" },
    { "exactly_max_age", 86400, NOW + 86400, "" },
    { "one_second_over", 86400, NOW + 86401, "expired" },
    { "long_over", 60, NOW + 86400, "expired" },
    { "issued_in_future_skew", 60, NOW - 30, "" },
    { "max_age_1_at_1", 1, NOW + 1, "" },
    { "max_age_1_at_2", 1, NOW + 2, "expired" },
};

/* test_max_age - UnsubscribeMaxAge at its edges */
static void test_max_age(void **state)
{
    const AGE_CASE *c = *state;
    UNSUB_KEYS *k = load("1 " K1 "\n");
    char tok[UNSUB_TOKEN_MAX];

    seal(k, "a@example.com", "s@example.com", NOW, tok);
    assert_string_equal(open_why(k, tok, c->max_age, c->now, NULL), c->why);
    unsub_keys_free(k);
}

/* ------------------------------------------------------------- key files */

typedef struct kf_case {
    const char *name;
    const char *content;
    unsigned    mode;
    const char *err;                    /* %P: the file's path */
} KF_CASE;

static const KF_CASE kf_cases[] = {
    { "group_readable", "1 " K1 "\n", 0640,
      "%P: key file is accessible by group or others (mode 0640): chmod 600 it\n" },
    { "other_readable", "1 " K1 "\n", 0604,
      "%P: key file is accessible by group or others (mode 0604): chmod 600 it\n" },
    { "group_writable", "1 " K1 "\n", 0620,
      "%P: key file is accessible by group or others (mode 0620): chmod 600 it\n" },
    { "empty", "", 0600, "%P: holds no key (one \"ID BASE64\" line per key)\n" },
    { "only_comments", "# keys\n\n   # none yet\n", 0600,
      "%P: holds no key (one \"ID BASE64\" line per key)\n" },
    { "id_zero", "0 " K1 "\n", 0600, "%P:1: key id is not a number from 1 to 255\n" },
    { "id_256", "# c\n256 " K1 "\n", 0600, "%P:2: key id is not a number from 1 to 255\n" },
    { "id_name", "k1 " K1 "\n", 0600, "%P:1: key id is not a number from 1 to 255\n" },
    { "id_signed", "+1 " K1 "\n", 0600, "%P:1: key id is not a number from 1 to 255\n" },
    { "id_only", "1\n", 0600, "%P:1: expected \"ID BASE64\" (a key id and one key)\n" },
    { "three_fields", "1 " K1 " x\n", 0600,
      "%P:1: expected \"ID BASE64\" (a key id and one key)\n" },
    { "key_31_bytes", "1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", 0600,
      "%P:1: key is not 32 bytes of base64 (openssl rand -base64 32)\n" },
    { "key_33_bytes", "1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", 0600,
      "%P:1: key is not 32 bytes of base64 (openssl rand -base64 32)\n" },
    { "key_url_alphabet", "1 ULiCRWjdPFI4D_dCFT18WuJd5GNesD2urx3uZjaexr0=\n", 0600,
      "%P:1: key is not 32 bytes of base64 (openssl rand -base64 32)\n" },
    { "key_hex", "1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0600,
      "%P:1: key is not 32 bytes of base64 (openssl rand -base64 32)\n" },
    { "duplicate_id", "1 " K1 "\n# next\n1 " K2 "\n", 0600,
      "%P:3: key id 1 already used on line 1\n" },
    { "several_errors", "1 " K1 "\n300 " K2 "\n2 short\n", 0600,
      "%P:2: key id is not a number from 1 to 255\n"
      "%P:3: key is not 32 bytes of base64 (openssl rand -base64 32)\n" },
    { "long_line", "1 {X600}\n2 " K2 "\n", 0600, "%P:1: line longer than 511 bytes\n" },
    { "nul_byte", "1 " K1 "{NUL}\n", 0600, "%P:1: line holds a NUL byte\n" },
};

/* test_key_file - bad key files and their diagnostics */
static void test_key_file(void **state)
{
    const KF_CASE *c = *state;
    char *path = th_tempfile(c->content), *want;
    const char *vals[26] = { 0 };
    BUF errs;

    vals['P' - 'A'] = path;
    want = th_subst(c->err, vals);
    assert_int_equal(chmod(path, c->mode), 0);
    buf_init(&errs, 4096);
    assert_null(unsub_keys_load(path, &errs));
    assert_non_null(errs.data);
    assert_string_equal(errs.data, want);
    /* never a key's bytes in a diagnostic */
    assert_null(strstr(errs.data, K1));
    assert_null(strstr(errs.data, K2));
    assert_null(strstr(errs.data, "ULiCRWjdPFI4D"));
    buf_free(&errs);
    free(want);
    th_unlink(path);
}

/* test_key_file_not_regular - a missing file and a directory */
static void test_key_file_not_regular(void **state)
{
    BUF errs;

    (void) state;
    buf_init(&errs, 4096);
    assert_null(unsub_keys_load("/nonexistent/unsub.keys", &errs));
    assert_string_equal(errs.data, "/nonexistent/unsub.keys: cannot open /nonexistent/unsub.keys: "
                        "No such file or directory\n");
    buf_reset(&errs);
    assert_null(unsub_keys_load("/tmp", &errs));
    assert_string_equal(errs.data, "/tmp: /tmp is not a regular file\n");
    buf_free(&errs);
}

/* test_key_file_good_forms - comments, blank lines, tabs, no padding */
static void test_key_file_good_forms(void **state)
{
    UNSUB_KEYS *k = load("# UnsubscribeKeyFile\n\n  1\t" K1 "   # first\n"
                         "002 aSsUCneWNpuOzTJd3jXjBmHvgJDLbI8mH5LcF4ty8Lo\n");
    char tok[UNSUB_TOKEN_MAX];
    UNSUB_PAYLOAD p;

    (void) state;
    seal(k, "a@example.com", "s@example.com", NOW, tok);
    assert_string_equal(open_why(k, tok, 0, NOW, &p), "");
    assert_int_equal(p.key_id, 2);
    unsub_keys_free(k);
    unsub_keys_free(NULL);
}

/* ----------------------------------------------------------------- seal */

typedef struct seal_case {
    const char *name;
    const char *rcpt;
    const char *stream;
    uint64_t    now;
    size_t      outlen;
    int         rc;
} SEAL_CASE;

static const SEAL_CASE seal_cases[] = {
    { "ok", "a@example.com", "s@example.com", NOW, UNSUB_TOKEN_MAX, 0 },
    { "empty_rcpt", "", "s@example.com", NOW, UNSUB_TOKEN_MAX, -1 },
    { "empty_stream", "a@example.com", "", NOW, UNSUB_TOKEN_MAX, -1 },
    { "rcpt_256", "{X250}@ex.co", "s", NOW, UNSUB_TOKEN_MAX, -1 },
    { "total_170", "{X100}@ex.com", "{X59}@e.x", NOW, UNSUB_TOKEN_MAX, -1 },
    { "long_stream", "a@example.com", "{X400}", NOW, UNSUB_TOKEN_MAX, -1 },
    { "year_2106", "a@example.com", "s@example.com", (uint64_t) UINT32_MAX, UNSUB_TOKEN_MAX, 0 },
    { "after_2106", "a@example.com", "s@example.com", (uint64_t) UINT32_MAX + 1, UNSUB_TOKEN_MAX,
      -1 },
    /* 22 + 13 + 13 = 48 bytes: 64 characters and a NUL */
    { "out_exact", "a@example.com", "s@example.com", NOW, 65, 0 },
    { "out_one_short", "a@example.com", "s@example.com", NOW, 64, -1 },
    { "out_zero", "a@example.com", "s@example.com", NOW, 0, -1 },
};

/* test_seal - what seal accepts and refuses */
static void test_seal(void **state)
{
    const SEAL_CASE *c = *state;
    UNSUB_KEYS *k = load("1 " K1 "\n");
    char *rcpt = th_expand(c->rcpt, NULL), *stream = th_expand(c->stream, NULL);
    char out[UNSUB_TOKEN_MAX + 8];
    UNSUB_PAYLOAD p;

    memset(out, 'Z', sizeof(out));
    assert_int_equal(unsub_token_seal(k, rcpt, stream, c->now, out, c->outlen), c->rc);
    if (c->rc == 0) {
        assert_int_equal(strlen(out), c->outlen == UNSUB_TOKEN_MAX ? strlen(out) : c->outlen - 1);
        assert_string_equal(open_why(k, out, 0, c->now, &p), "");
        assert_int_equal(p.issued, c->now);
    } else if (c->outlen > 0) {
        assert_string_equal(out, "");
    }
    assert_int_equal(unsub_token_seal(NULL, rcpt, stream, c->now, out, c->outlen), -1);
    free(rcpt);
    free(stream);
    unsub_keys_free(k);
}

/* ------------------------------------------------------------- compact */

typedef struct len_case {
    const char *name;
    const char *rcpt;
    const char *stream;
} LEN_CASE;

static const LEN_CASE len_cases[] = {
    { "gmail_newsletter", "john.smith@gmail.com", "newsletter@shop.example.com" },
    { "long_names", "firstname.lastname@example.com", "newsletter@mail.example-shop.com" },
    { "corporate", "j.doe@subsidiary.example.co.uk", "notifications@example.com" },
    { "domain_scope", "maria.garcia@example.org", "example-shop.com" },
};

/* test_length - typical tokens stay short, and show nothing of the address */
static void test_length(void **state)
{
    const LEN_CASE *c = *state;
    UNSUB_KEYS *k = load("1 " K1 "\n");
    char tok[UNSUB_TOKEN_MAX], other[UNSUB_TOKEN_MAX];
    size_t len;

    seal(k, c->rcpt, c->stream, NOW, tok);
    len = strlen(tok);
    print_message("%s: %zu characters\n", c->name, len);
    assert_true(len <= 120);
    assert_int_equal(len, (22 + strlen(c->rcpt) + strlen(c->stream)) * 4 / 3
                     + ((22 + strlen(c->rcpt) + strlen(c->stream)) % 3 != 0));
    /* opaque: no piece of the address, in clear or in base64 of the clear */
    assert_null(strstr(tok, "example"));
    assert_null(strstr(tok, "ZXhhbXBsZ"));      /* base64 "example" */
    /* deterministic for one second, different for the next */
    seal(k, c->rcpt, c->stream, NOW, other);
    assert_string_equal(tok, other);
    seal(k, c->rcpt, c->stream, NOW + 1, other);
    assert_string_not_equal(tok, other);
    unsub_keys_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_text_bit),
        cmocka_unit_test(test_every_byte_bit),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_key_file_not_regular),
        cmocka_unit_test(test_key_file_good_forms),
    };
    int rc = 0;

    rc |= RUN("unsub_token_round_trip", test_round_trip, rt_cases);
    rc |= RUN("unsub_token_bad_tokens", test_bad_token, bad_toks);
    rc |= RUN("unsub_token_rotation", test_rotation, rot_cases);
    rc |= RUN("unsub_token_max_age", test_max_age, age_cases);
    rc |= RUN("unsub_token_key_files", test_key_file, kf_cases);
    rc |= RUN("unsub_token_seal", test_seal, seal_cases);
    rc |= RUN("unsub_token_length", test_length, len_cases);
    rc |= cmocka_run_group_tests_name("unsub_token", tests, NULL, NULL);
    return rc ? 1 : 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sign.c - unit tests for bodyhash.c and sign_bh.c: the body hash of
 * known bodies against the values dkimpy 1.1.4 computes (simple and
 * relaxed, any chunking), the repair of bare CR and LF, and that a
 * signature made with the body hash handed over (sign_bh.c) is byte for
 * byte the one libopendkim makes when it hashes the body itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <opendkim/dkim.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bodyhash.h"
#include "conf.h"
#include "hdr.h"
#include "keys.h"
#include "sign.h"
#include "testutil.h"

/* Expected bh= from dkimpy: base64(sha256(Simple/Relaxed.canonicalize_body(b)))
 * where b is the body, or its repaired form for the rows with bare CR/LF. */
typedef struct bh_case {
    const char *name;
    const char *body;
    const char *simple;
    const char *relaxed;
} BH_CASE;

static const BH_CASE bh_cases[] = {
    { "empty", "", "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
    { "one_crlf", "\r\n", "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
    { "only_empty_lines", "\r\n\r\n\r\n", "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
    { "one_line", "Hello\r\n", "Ba3gj8+xBPQLJTahTfzW6RbWQ/XPgESxkCi2B66PSQg=", "Ba3gj8+xBPQLJTahTfzW6RbWQ/XPgESxkCi2B66PSQg=" },
    { "no_final_crlf", "Hello", "Ba3gj8+xBPQLJTahTfzW6RbWQ/XPgESxkCi2B66PSQg=", "Ba3gj8+xBPQLJTahTfzW6RbWQ/XPgESxkCi2B66PSQg=" },
    { "trailing_empty_lines", "a\r\n\r\n\r\n", "jkYhN5eG70Kk/sFVzVJcKR3X2zwf3jR4Ui9PYcA/0b0=", "jkYhN5eG70Kk/sFVzVJcKR3X2zwf3jR4Ui9PYcA/0b0=" },
    { "inner_empty_lines_kept", "a\r\n\r\n\r\nb\r\n\r\n", "SFh8erZISrt6Jo0tTtk8EO/1BfDisAl/Ht6k37OJmgk=", "SFh8erZISrt6Jo0tTtk8EO/1BfDisAl/Ht6k37OJmgk=" },
    { "whitespace", " lead\t and  \t trail \t\r\n \t\r\nx  y\r\n\t\r\n", "HfTEULuf3unVy5eEgH+a8BrETRzqQsDDqdtC4CYFETs=", "efs3Q97WuRIAeCbJCzC/DkHzP4W2Ik3kcvSJRytRwc0=" },
    { "whitespace_only", "  \r\n\t\r\n", "Vc6GXJb6euZtHLfUGPKiRaLqyataO2twcBYaX1FdCX8=", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
    { "bare_lf", "one\ntwo\n\nthree\n", "2eGAQSYjl828kOS/Kc9dggypQn3Db5um8dS47WVHeoY=", "2eGAQSYjl828kOS/Kc9dggypQn3Db5um8dS47WVHeoY=" },
    { "bare_cr", "one\rtwo\r\n\r\r\n", "b0eSsmX+cnkLNE/T71KUcB2dCHvtn86BXA9LutbS7Yc=", "b0eSsmX+cnkLNE/T71KUcB2dCHvtn86BXA9LutbS7Yc=" },
    { "cr_at_end", "one\r", "UlnUaklkS/dnkiMe9zFbUpNnfEnd1+adlVVwE+EDINQ=", "UlnUaklkS/dnkiMe9zFbUpNnfEnd1+adlVVwE+EDINQ=" },
    { "crcrlf", "a\r\r\nb\r\n", "zCIZgM59A4jZIcXrGIzhpoD2WhSv0BLiYnkKxFCegn8=", "zCIZgM59A4jZIcXrGIzhpoD2WhSv0BLiYnkKxFCegn8=" },
};

static const size_t chunkings[] = { 0 /* all at once */, 1, 2, 3, 5, 7 };

/* b64 - base64 of a digest, in a static buffer */
static const char *b64(const unsigned char d[BODYHASH_LEN])
{
    static char out[64];

    EVP_EncodeBlock((unsigned char *) out, d, BODYHASH_LEN);
    return out;
}

/* hash_in_chunks - the body hash of body cut into pieces of step bytes */
static const char *hash_in_chunks(enum bodyhash_mode mode, const char *body, size_t len, size_t step)
{
    unsigned char d[BODYHASH_LEN];
    BODYHASH *bh = bodyhash_new(mode, NULL, NULL);

    assert_non_null(bh);
    for (size_t off = 0; off < len; off += step ? step : len)
        assert_int_equal(bodyhash_update(bh, (const unsigned char *) body + off,
                                         step && len - off > step ? step : len - off), 0);
    assert_int_equal(bodyhash_final(bh, d), 0);
    bodyhash_free(bh);
    return b64(d);
}

static void test_bh_case(void **state)
{
    const BH_CASE *c = *state;
    size_t len = strlen(c->body);

    for (size_t i = 0; i < sizeof(chunkings) / sizeof(chunkings[0]); i++) {
        assert_string_equal(hash_in_chunks(BODYHASH_SIMPLE, c->body, len, chunkings[i]), c->simple);
        assert_string_equal(hash_in_chunks(BODYHASH_RELAXED, c->body, len, chunkings[i]), c->relaxed);
    }
}

/* Bare line ends repaired, everything else untouched. */
typedef struct repair_case {
    const char *name;
    const char *in;
    const char *out;
} REPAIR_CASE;

static const REPAIR_CASE repair_cases[] = {
    { "crlf_untouched", "a\r\n\r\n  b \r\n\r\n", "a\r\n\r\n  b \r\n\r\n" },
    { "bare_lf", "a\nb\n\n", "a\r\nb\r\n\r\n" },
    { "bare_cr", "a\rb\r\r\n", "a\r\nb\r\n\r\n" },
    { "lf_first", "\nx\r\n", "\r\nx\r\n" },
    { "cr_last", "x\r", "x\r\n" },
    { "no_final_line_end", "x", "x\r\n" },
    { "empty", "", "" },
};

static int repair_sink(void *ctx, const unsigned char *p, size_t len)
{
    buf_append(ctx, (const char *) p, len);
    return 0;
}

static void test_repair_case(void **state)
{
    const REPAIR_CASE *c = *state;
    size_t len = strlen(c->in);

    for (size_t i = 0; i < sizeof(chunkings) / sizeof(chunkings[0]); i++) {
        size_t step = chunkings[i];
        BUF out;
        BODYHASH *bh;

        buf_init(&out, 256);
        bh = bodyhash_new(BODYHASH_REPAIR, repair_sink, &out);
        assert_non_null(bh);
        for (size_t off = 0; off < len; off += step ? step : len)
            assert_int_equal(bodyhash_update(bh, (const unsigned char *) c->in + off,
                                             step && len - off > step ? step : len - off), 0);
        assert_int_equal(bodyhash_final(bh, NULL), 0);
        assert_int_equal(out.len, strlen(c->out));
        assert_memory_equal(out.data, c->out, out.len);
        assert_int_equal(bodyhash_length(bh), out.len);
        bodyhash_free(bh);
        buf_free(&out);
    }
}

static int fail_sink(void *ctx, const unsigned char *p, size_t len)
{
    (void) ctx, (void) p, (void) len;
    return -1;
}

/* A sink that refuses stops the pass with -1. */
static void test_repair_sink_failure_reported(void **state)
{
    BODYHASH *bh = bodyhash_new(BODYHASH_REPAIR, fail_sink, NULL);

    (void) state;
    assert_int_equal(bodyhash_update(bh, (const unsigned char *) "x\r\n", 3), 0);  /* buffered */
    assert_int_equal(bodyhash_final(bh, NULL), -1);
    bodyhash_free(bh);
}

/* ---- signatures: handed over == libopendkim's own ---- */

static KEYS_KEY *rsa, *ed;
static TXCONF *cf;
static DKIM_LIB *lib;

static KEYS_KEY *new_key(const char *alg, int bits)
{
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
    BIO *b = BIO_new(BIO_s_mem());
    char *pem;
    long n;
    BUF errs;
    KEYS_KEY *k;

    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    if (bits)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits), 1);
    assert_int_equal(EVP_PKEY_generate(ctx, &pk), 1);
    assert_int_equal(PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(b, &pem);
    /* Not strndup: the BIO's data has no NUL, and ASan's strndup reads one past n. */
    {
        char *copy = malloc((size_t) n + 1);

        assert_non_null(copy);
        memcpy(copy, pem, (size_t) n);
        copy[n] = '\0';
        pem = copy;
    }
    buf_init(&errs, 1024);
    k = keys_load_inline(pem, "test", &errs);
    if (k == NULL)
        fail_msg("key: %s", errs.data);
    buf_free(&errs);
    free(pem);
    BIO_free(b);
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    return k;
}

static int sign_setup(void **state)
{
    uint64_t when = 1700000000;
    BUF errs;

    (void) state;
    rsa = new_key("RSA", 2048);
    ed = new_key("ED25519", 0);
    cf = conf_defaults();
    buf_init(&errs, 1024);
    lib = sign_lib_new(cf, &errs);
    buf_free(&errs);
    if (lib == NULL)
        return -1;
    return dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &when, sizeof(when)) == DKIM_STAT_OK
        ? 0 : -1;
}

static int sign_teardown(void **state)
{
    (void) state;
    sign_lib_free(lib);
    conf_free(cf);
    keys_free(rsa);
    keys_free(ed);
    return 0;
}

/* sign_msg - RSA and Ed25519 signatures of one message; the body in
 * pieces of step bytes; 1 in *over if the body hash was handed over */
static SIGN_SET *sign_msg(const char *body, size_t len, size_t step, enum conf_canon bc,
                          int handover, int *over)
{
    static const char *const hdrs[][2] = {
        { "From", " a@example.com" }, { "To", " b@example.net" }, { "Subject", " test" },
    };
    SIGN_REQ req[2] = {
        { rsa, "example.com", "s1", NULL }, { ed, "example.com", "s2", NULL },
    };
    SIGN_SET *ss;
    BUF err, f;

    buf_init(&err, 512);
    buf_init(&f, 256);
    ss = sign_begin(lib, req, 2, "TEST", CONF_CANON_RELAXED, bc, &err);
    assert_non_null(ss);
    sign_set_handover(ss, handover);
    for (size_t i = 0; i < 3; i++) {
        buf_reset(&f);
        assert_int_equal(hdr_signing_form(&f, hdrs[i][0], hdrs[i][1]), 0);
        assert_int_equal(sign_header(ss, f.data, f.len, &err), 0);
    }
    assert_int_equal(sign_eoh(ss, &err), 0);
    *over = sign_handed_over(ss);
    for (size_t off = 0; off < len; off += step)
        if (sign_body(ss, (const unsigned char *) body + off, len - off > step ? step : len - off, &err) < 0)
            fail_msg("sign_body: %s", err.data);
    if (sign_eom(ss, &err) < 0)
        fail_msg("sign_eom: %s", err.data);
    buf_free(&err);
    buf_free(&f);
    return ss;
}

/* bh_tag - the bh= value of a signature */
static char *bh_tag(const char *sig)
{
    char *out = xstrdup(strstr(sig, "bh=") + 3), *w = out;

    for (const char *r = out; *r && *r != ';'; r++)
        if (*r != ' ' && *r != '\t' && *r != '\n')
            *w++ = *r;
    *w = '\0';
    return out;
}

/* check_same - handed over and fed give the same two signatures, and bh=
 * is bodyhash.c's digest */
static void check_same(const char *body, size_t len, size_t step, enum conf_canon bc)
{
    int over_on = 0, over_off = 1;
    SIGN_SET *on = sign_msg(body, len, step, bc, 1, &over_on);
    SIGN_SET *off = sign_msg(body, len, step, bc, 0, &over_off);
    const char *want = hash_in_chunks(bc == CONF_CANON_SIMPLE ? BODYHASH_SIMPLE : BODYHASH_RELAXED,
                                      body, len, 0);

    assert_int_equal(over_on, 1);       /* libopendkim here is the one sign_bh.c knows */
    assert_int_equal(over_off, 0);
    for (size_t i = 0; i < 2; i++) {
        char *bh = bh_tag(sign_value(on, i));

        assert_string_equal(sign_value(on, i), sign_value(off, i));
        assert_string_equal(bh, want);
        free(bh);
    }
    sign_free(on);
    sign_free(off);
}

/* Every row of the dkimpy table, both canonicalizations, cut into pieces:
 * the same signatures either way, and bh= is dkimpy's value. */
static void test_handover_signs_as_libopendkim(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(bh_cases) / sizeof(bh_cases[0]); i++)
        for (size_t step = 1; step <= 7; step += 3) {
            const char *b = bh_cases[i].body;

            check_same(b, strlen(b), step, CONF_CANON_SIMPLE);
            check_same(b, strlen(b), step, CONF_CANON_RELAXED);
        }
}

/* A large body of long and short lines, whitespace runs and empty lines,
 * in milter-sized chunks. */
static void test_handover_large_body(void **state)
{
    size_t len = 0, cap = 300000;
    char *body = xmalloc(cap);

    (void) state;
    for (unsigned i = 0; len + 200 < cap; i++)
        len += (size_t) snprintf(body + len, cap - len, "%u:%s\t  x %.*s  \r\n%s", i,
                                 i % 7 ? "text" : "", (int) (i % 150),
                                 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
                                 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
                                 i % 11 ? "" : "\r\n\r\n");
    check_same(body, len, 65535, CONF_CANON_SIMPLE);
    check_same(body, len, 65535, CONF_CANON_RELAXED);
    check_same(body, len, 4093, CONF_CANON_RELAXED);
    free(body);
}

int main(void)
{
    const struct CMUnitTest sign[] = {
        cmocka_unit_test(test_repair_sink_failure_reported),
        cmocka_unit_test(test_handover_signs_as_libopendkim),
        cmocka_unit_test(test_handover_large_body),
    };
    int rc = 0;

    rc |= run_table("bodyhash", test_bh_case, bh_cases, sizeof(bh_cases[0]),
                    sizeof(bh_cases) / sizeof(bh_cases[0]));
    rc |= run_table("repair", test_repair_case, repair_cases, sizeof(repair_cases[0]),
                    sizeof(repair_cases) / sizeof(repair_cases[0]));
    rc |= cmocka_run_group_tests_name("sign", sign, sign_setup, sign_teardown);
    return rc;
}

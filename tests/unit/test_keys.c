/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_keys.c - unit tests for keys.c: formats accepted, unsafe or
 * unusable keys refused with a reason, DNS record rendering; sign_key.c:
 * the parsed key is handed out only for the expected key's exact PEM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "keys.h"
#include "testutil.h"
#include "sign_key.h"

static char dir[] = "/tmp/txkeys.XXXXXX";
static EVP_PKEY *rsa2048, *rsa512, *ed, *ec;

/* write_key - the key in one of several encodings, with a mode */
static char *write_key(const char *name, EVP_PKEY *pk, const char *form, mode_t mode)
{
    static char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    if (strcmp(form, "pkcs8") == 0)
        assert_int_equal(PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL), 1);
    else if (strcmp(form, "pkcs1") == 0)
    {
        BIO *b = BIO_new_fp(fp, BIO_NOCLOSE);

        assert_int_equal(PEM_write_bio_PrivateKey_traditional(b, pk, NULL, NULL, 0, NULL, NULL), 1);
        BIO_free(b);
    }
    else
        fputs(form, fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

/* b64der - base64 of the PKCS#8 DER encoding, as OpenDKIM KeyTables hold it */
static char *b64der(EVP_PKEY *pk)
{
    unsigned char *der = NULL;
    int n = i2d_PrivateKey(pk, &der);
    char *out = malloc(4 * ((size_t) n + 2) / 3 + 4);

    assert_true(n > 0);
    EVP_EncodeBlock((unsigned char *) out, der, n);
    OPENSSL_free(der);
    return out;
}

static int setup(void **state)
{
    (void) state;
    if (mkdtemp(dir) == NULL)
        return -1;
    rsa2048 = th_keygen("RSA", 2048);
    rsa512 = th_keygen("RSA", 512);
    ed = th_keygen("ED25519", 0);
    ec = th_keygen("EC", 0);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    EVP_PKEY_free(rsa2048);
    EVP_PKEY_free(rsa512);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(ec);
    return th_remove_dir(dir);
}

typedef struct file_case {
    const char *name;
    EVP_PKEY  **key;
    const char *form;
    mode_t      mode;
    int         ok;
    KEYS_TYPE   type;
    const char *error;          /* substring of the error when !ok */
} FILE_CASE;

static const FILE_CASE file_cases[] = {
    {"rsa pkcs8 0600", &rsa2048, "pkcs8", 0600, 1, KEYS_RSA, NULL},
    {"rsa pkcs8 0400", &rsa2048, "pkcs8", 0400, 1, KEYS_RSA, NULL},
    {"rsa pkcs1 (traditional) 0600", &rsa2048, "pkcs1", 0600, 1, KEYS_RSA, NULL},
    {"ed25519 pkcs8 0600", &ed, "pkcs8", 0600, 1, KEYS_ED25519, NULL},
    {"rsa group readable", &rsa2048, "pkcs8", 0640, 0, KEYS_RSA, "group or others"},
    {"rsa world readable", &rsa2048, "pkcs8", 0604, 0, KEYS_RSA, "group or others"},
    {"ed group writable", &ed, "pkcs8", 0620, 0, KEYS_RSA, "group or others"},
    {"rsa 512 bits", &rsa512, "pkcs8", 0600, 0, KEYS_RSA, "too short"},
    {"ec key", &ec, "pkcs8", 0600, 0, KEYS_RSA, "not usable for DKIM"},
    {"garbage", NULL, "this is not a key\n", 0600, 0, KEYS_RSA, "cannot parse"},
    {"empty", NULL, "", 0600, 0, KEYS_RSA, "cannot parse"},
};

static void test_files(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); i++) {
        const FILE_CASE *c = &file_cases[i];
        char name[64];
        BUF errs;
        KEYS_KEY *k;
        char *path;

        snprintf(name, sizeof(name), "k%zu.pem", i);
        path = write_key(name, c->key ? *c->key : NULL, c->form, c->mode);
        buf_init(&errs, 4096);
        k = keys_load_file(path, &errs);
        if (c->ok) {
            if (k == NULL)
                fail_msg("case \"%s\": refused: %s", c->name, errs.data);
            if (k->type != c->type)
                fail_msg("case \"%s\": wrong type", c->name);
            if (strncmp(k->pem, "-----BEGIN PRIVATE KEY-----", 27) != 0)
                fail_msg("case \"%s\": not re-encoded as PKCS#8 PEM", c->name);
            if (strstr(k->origin, name) == NULL)
                fail_msg("case \"%s\": origin %s", c->name, k->origin);
        } else {
            if (k != NULL)
                fail_msg("case \"%s\": accepted", c->name);
            if (errs.data == NULL || strstr(errs.data, c->error) == NULL)
                fail_msg("case \"%s\": error \"%s\" lacks \"%s\"", c->name,
                         errs.data ? errs.data : "", c->error);
            if (strstr(errs.data, "PRIVATE") != NULL)
                fail_msg("case \"%s\": key material in the error", c->name);
        }
        keys_free(k);
        buf_free(&errs);
    }
}

static void test_not_regular_and_missing(void **state)
{
    BUF errs;

    (void) state;
    buf_init(&errs, 4096);
    assert_null(keys_load_file(dir, &errs));
    assert_non_null(strstr(errs.data, "not a regular file"));
    buf_reset(&errs);
    assert_null(keys_load_file("/nonexistent/key.pem", &errs));
    assert_non_null(strstr(errs.data, "cannot open key"));
    buf_reset(&errs);
    {
        char *fifo = xasprintf("%s/key.fifo", dir);

        assert_int_equal(mkfifo(fifo, 0600), 0);
        alarm(10);                      /* a FIFO must be refused, not waited on */
        assert_null(keys_load_file(fifo, &errs));
        alarm(0);
        assert_non_null(strstr(errs.data, "key is not a regular file"));
        unlink(fifo);
        free(fifo);
    }
    buf_free(&errs);
}

/* OpenDKIM's inline base64 DER, for both types (libopendkim itself
 * cannot use an Ed25519 key in that form). */
static void test_inline(void **state)
{
    BUF errs;
    char *b;
    KEYS_KEY *k;

    (void) state;
    buf_init(&errs, 4096);
    b = b64der(rsa2048);
    k = keys_load_inline(b, "KeyTable:3", &errs);
    assert_non_null(k);
    assert_int_equal(k->type, KEYS_RSA);
    assert_int_equal(k->bits, 2048);
    keys_free(k);
    free(b);

    b = b64der(ed);
    k = keys_load_inline(b, "KeyTable:4", &errs);
    assert_non_null(k);
    assert_int_equal(k->type, KEYS_ED25519);
    keys_free(k);
    free(b);

    assert_null(keys_load_inline("MIIbogus", "KeyTable:5", &errs));
    assert_non_null(strstr(errs.data, "KeyTable:5"));
    buf_free(&errs);
}

static void test_dns_record(void **state)
{
    BUF errs;
    KEYS_KEY *k;
    char *rec, *p;
    unsigned char raw[64];
    size_t rawlen = sizeof(raw);

    (void) state;
    buf_init(&errs, 4096);
    k = keys_load_file(write_key("ed.pem", ed, "pkcs8", 0600), &errs);
    assert_non_null(k);
    rec = keys_dns_record(k);
    assert_true(strncmp(rec, "v=DKIM1; k=ed25519; p=", 22) == 0);
    p = rec + 22;
    assert_int_equal(strlen(p), 44);            /* base64 of 32 bytes */
    assert_int_equal(EVP_PKEY_get_raw_public_key(ed, raw, &rawlen), 1);
    {
        unsigned char want[64];

        EVP_EncodeBlock(want, raw, (int) rawlen);
        assert_string_equal(p, (char *) want);
    }
    free(rec);
    keys_free(k);

    k = keys_load_file(write_key("rsa.pem", rsa2048, "pkcs8", 0600), &errs);
    assert_non_null(k);
    rec = keys_dns_record(k);
    assert_true(strncmp(rec, "v=DKIM1; k=rsa; p=MIIBIjAN", 26) == 0);
    assert_string_equal(keys_algorithm(k->type), "rsa-sha256");
    free(rec);
    keys_free(k);
    assert_string_equal(keys_algorithm(KEYS_ED25519), "ed25519-sha256");
    buf_free(&errs);
}

typedef struct serve_case {
    const char *name;
    int expect;                 /* sign_key_expect() names the key */
    int other_pem;              /* the BIO holds another key's PEM */
    int with_cb;                /* a password callback is passed */
    int served;                 /* the parsed key itself comes back */
    int hits, misses;           /* counter changes */
} SERVE_CASE;

static int no_password(char *buf, int size, int rw, void *u)
{
    (void) buf, (void) size, (void) rw, (void) u;
    return 0;
}

static void test_parsed_key_served(void **state)
{
    static const SERVE_CASE cases[] = {
        {"expected key, its PEM", 1, 0, 0, 1, 1, 0},
        {"expected key, another PEM", 1, 1, 0, 0, 0, 1},
        {"expected key, password callback", 1, 0, 1, 0, 0, 1},
        {"no key expected", 0, 0, 0, 0, 0, 0},
    };
    BUF errs;
    KEYS_KEY *k, *other;

    (void) state;
    assert_true(sign_key_active());
    buf_init(&errs, 4096);
    k = keys_load_file(write_key("served.pem", rsa2048, "pkcs1", 0600), &errs);
    other = keys_load_file(write_key("other.pem", ed, "pkcs8", 0600), &errs);
    assert_non_null(k);
    assert_non_null(other);
    assert_non_null(k->pkey);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const SERVE_CASE *c = &cases[i];
        const KEYS_KEY *src = c->other_pem ? other : k;
        BIO *b = BIO_new_mem_buf(src->pem, (int) src->pem_len);
        uint64_t h0, m0, h1, m1;
        EVP_PKEY *got;

        assert_non_null(b);
        sign_key_stats(&h0, &m0);
        sign_key_expect(c->expect ? k : NULL);
        got = PEM_read_bio_PrivateKey(b, NULL, c->with_cb ? no_password : NULL, NULL);
        sign_key_expect(NULL);
        sign_key_stats(&h1, &m1);
        BIO_free(b);
        if (got == NULL)
            fail_msg("case \"%s\": no key returned", c->name);
        if ((got == k->pkey) != c->served)
            fail_msg("case \"%s\": parsed key %s", c->name, c->served ? "not served" : "served");
        /* whatever path it took, it is the key in the PEM */
        if (EVP_PKEY_eq(got, src->pkey) != 1)
            fail_msg("case \"%s\": a different key came back", c->name);
        if (h1 - h0 != (uint64_t) c->hits || m1 - m0 != (uint64_t) c->misses)
            fail_msg("case \"%s\": hits +%llu misses +%llu", c->name,
                     (unsigned long long) (h1 - h0), (unsigned long long) (m1 - m0));
        EVP_PKEY_free(got);     /* the caller's reference, as libopendkim drops it */
    }
    keys_free(k);               /* the last reference: ASan/valgrind see no leak */
    keys_free(other);
    buf_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_not_regular_and_missing),
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_dns_record),
        cmocka_unit_test(test_parsed_key_served),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_keycheck.c - libFuzzer target: DKIM key records
 * (policy/dkim/keycheck.c): keycheck_record() on one record's text for an
 * RSA and an Ed25519 key, and keycheck_published() over a fuzzed zone.
 *
 * The keys are made fresh at start (RSA 1024, Ed25519), so no seed
 * matches them: the seeds hold other keys, which reach the comparison.
 * Input: a zone (see fuzz_zone_lookup()); the first line's value is the
 * record compared; s1._domainkey.example.com is looked up in the zone.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "keycheck.h"
#include "keys.h"
#include "util.h"

static KEYS_KEY *key[2];

/* make_key - a new key, loaded as the KeyTable loads an inline key */
static KEYS_KEY *make_key(const char *alg, int bits)
{
    char *pem = fuzz_new_key(alg, bits);
    KEYS_KEY *k;
    BUF errs;

    buf_init(&errs, 4096);
    if ((k = keys_load_inline(pem, "fuzz", &errs)) == NULL)
        abort();
    buf_free(&errs);
    free(pem);
    return k;
}

/* fuzz_setup - make the keys, and check that our own record matches */
void fuzz_setup(void)
{
    char why[300], *rec;

    key[0] = make_key("RSA", 1024);
    key[1] = make_key("ED25519", 0);
    for (int i = 0; i < 2; i++) {
        /* the record we would publish matches, or the target tests nothing */
        rec = keys_dns_record(key[i]);
        if (keycheck_record(rec, key[i], FUZZ_ERR(why)) != KEYCHECK_MATCH)
            abort();
        free(rec);
    }
}

/* LLVMFuzzerTestOneInput - one zone */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *zone, *first, *rec, why[300];
    KEYCHECK_STATUS st;
    unsigned ttl;

    if (size > 16 * 1024)
        return -1;
    zone = fuzz_str(data, size);
    first = fuzz_first_record(zone, &rec);
    for (int i = 0; i < 2; i++) {
        why[0] = 0;
        st = keycheck_record(rec, key[i], FUZZ_ERR(why));
        if (st > KEYCHECK_TEMPFAIL || (st != KEYCHECK_MATCH && why[0] == 0))
            abort();
        why[0] = 0;
        st = keycheck_published(fuzz_zone_lookup, zone, "example.com", "s1", key[i], &ttl,
                                FUZZ_ERR(why));
        if (st > KEYCHECK_TEMPFAIL || (st != KEYCHECK_MATCH && why[0] == 0))
            abort();
    }
    free(first);
    free(zone);
    return 0;
}

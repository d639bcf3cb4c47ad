/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keycheck.h - is the DKIM key published at selector._domainkey.domain
 * the public half of the private key we sign with? (RSA and Ed25519;
 * libopendkim's dkim_test_key() handles RSA only.)
 */
#ifndef TX_KEYCHECK_H
#define TX_KEYCHECK_H

#include <stddef.h>

#include "dns.h"
#include "keys.h"

typedef enum keycheck_status {
    KEYCHECK_MATCH = 0,             /* the published key is ours */
    KEYCHECK_MISMATCH,              /* another key, or another key type */
    KEYCHECK_MISSING,               /* no record */
    KEYCHECK_REVOKED,               /* p= empty */
    KEYCHECK_INVALID,               /* a record verifiers cannot use */
    KEYCHECK_TEMPFAIL,              /* DNS trouble */
} KEYCHECK_STATUS;

/* keycheck_record - compare one TXT record value with key; the reason
 * for anything but a match is appended to err. */
KEYCHECK_STATUS keycheck_record(const char *txt, const KEYS_KEY *key, BUF *err);

/* keycheck_published - look the record up through lookup and compare;
 * *ttl gets how long the answer may be reused; the reason for anything
 * but a match is appended to err. */
KEYCHECK_STATUS keycheck_published(DNS_LOOKUP_FN lookup, void *ctx, const char *domain,
                                   const char *selector, const KEYS_KEY *key, unsigned *ttl,
                                   BUF *err);

/* keycheck_str - "match", "mismatch", "missing", ... */
const char *keycheck_str(KEYCHECK_STATUS st);

#endif

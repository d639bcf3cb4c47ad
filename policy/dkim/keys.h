/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keys.h - DKIM private keys: loading, safety checks, type detection.
 */
#ifndef TX_KEYS_H
#define TX_KEYS_H

#include <stddef.h>

#include <openssl/types.h>

#include "util.h"

typedef enum keys_type { KEYS_RSA = 0, KEYS_ED25519 = 1 } KEYS_TYPE;

typedef struct keys_key {
    KEYS_TYPE type;
    int       bits;         /* RSA modulus size; 256 for Ed25519 */
    char     *pem;          /* PKCS#8 PEM, the form libopendkim accepts for both types */
    size_t    pem_len;
    EVP_PKEY *pkey;         /* the same key, parsed once (sign_key.c hands it to libopendkim) */
    char     *origin;       /* file path, or "file:line" of an inline key */
    unsigned char *spki;    /* public key, SubjectPublicKeyInfo DER */
    size_t    spki_len;
} KEYS_KEY;

/* keys_load_file - read a private key file. Refuses (NULL, message in
 * errs) a file that is not a regular file, is readable or writable by
 * group or others, is larger than 64 KiB, does not parse, is neither RSA
 * nor Ed25519, or is an RSA key under 1024 bits. */
KEYS_KEY *keys_load_file(const char *path, BUF *errs);

/* keys_load_inline - the same for a key given in the KeyTable itself
 * (PEM, or base64 DER as OpenDKIM accepts). origin names where it came from. */
KEYS_KEY *keys_load_inline(const char *text, const char *origin, BUF *errs);

/* keys_dns_record - the TXT record value to publish for the key:
 * "v=DKIM1; k=rsa; p=..." or "v=DKIM1; k=ed25519; p=..." (malloc'd). */
char *keys_dns_record(const KEYS_KEY *key);

/* keys_algorithm - "rsa-sha256" or "ed25519-sha256" */
const char *keys_algorithm(KEYS_TYPE type);

void keys_free(KEYS_KEY *key);

#endif

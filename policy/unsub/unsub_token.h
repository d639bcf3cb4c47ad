/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsub_token.h - List-Unsubscribe tokens: opaque, authenticated,
 * URL-safe, rotatable, verifiable without any database.
 *
 * UnsubscribeKeyFile holds one key per line, "ID BASE64" with 32 random
 * bytes (openssl rand -base64 32); ID is 1..255 (or a short name mapped
 * to a byte: implementation's choice, documented); the LAST line signs new
 * tokens, every line verifies. The file must not be readable by group or
 * others (refused otherwise), like a DKIM key.
 *
 * As implemented (unsub_token.c): ID is a decimal number 1..255; tokens
 * are AES-256-SIV, 4/3 of (22 + strlen(rcpt) + strlen(stream))
 * characters; rcpt and stream together may hold at most 169 bytes (seal
 * returns -1 beyond: send no List-Unsubscribe rather than a broken one).
 */
#ifndef TX_UNSUB_TOKEN_H
#define TX_UNSUB_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define UNSUB_TOKEN_MAX   256       /* bytes of a token, NUL included */
#define UNSUB_FIELD_MAX   320       /* recipient or stream */

typedef struct unsub_keys UNSUB_KEYS;

typedef struct unsub_payload {
    char     rcpt[UNSUB_FIELD_MAX];     /* normalised recipient */
    char     stream[UNSUB_FIELD_MAX];   /* what it unsubscribes from (e.g. the From address) */
    uint64_t issued;                    /* seconds since the epoch */
    unsigned key_id;                    /* the key that sealed it */
} UNSUB_PAYLOAD;

/* unsub_keys_load - NULL with "file:line: message" lines in errs */
UNSUB_KEYS *unsub_keys_load(const char *path, BUF *errs);
void unsub_keys_free(UNSUB_KEYS *k);

/* unsub_token_seal - a token for (rcpt, stream) issued at now, with the
 * newest key, into out (NUL-terminated, [A-Za-z0-9_-] only). 0, or -1
 * when the fields are too long for a token. */
int unsub_token_seal(const UNSUB_KEYS *k, const char *rcpt, const char *stream, uint64_t now,
                     char *out, size_t outlen);

/* unsub_token_open - verify and decode. 0 with *p filled; -1 with a short
 * reason appended to err ("malformed", "unknown key", "bad authentication
 * tag", "expired") for anything else. max_age 0: no limit. Never partially
 * trusts a token: nothing of p is meaningful on -1. */
int unsub_token_open(const UNSUB_KEYS *k, const char *token, uint64_t max_age, uint64_t now,
                     UNSUB_PAYLOAD *p, BUF *err);

#endif

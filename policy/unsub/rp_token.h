/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rp_token.h - return-path tokens: the local part of the envelope sender
 * txmilter gives a single-recipient message (ReturnPath), naming the
 * recipient, the stream and the original envelope sender, sealed with the
 * unsubscribe keys (UnsubscribeKeyFile) as a type of its own, in lowercase
 * base32 so that a local part survives MTAs that change case.
 */
#ifndef TX_RP_TOKEN_H
#define TX_RP_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "unsub_token.h"

#define RP_TOKEN_MAX    256         /* characters of a token, NUL included */
#define RP_FIELD_MAX    256

typedef struct rp_payload {
    char     rcpt[RP_FIELD_MAX];    /* the recipient, normalised */
    char     stream[RP_FIELD_MAX];  /* the stream (as for List-Unsubscribe) */
    char     sender[RP_FIELD_MAX];  /* the original envelope sender ("" for <>) */
    uint64_t issued;                /* seconds since the epoch */
    unsigned key_id;
} RP_PAYLOAD;

/* rp_token_seal - a token for (rcpt, stream, sender) issued at now into
 * out ([a-z2-7] only); 0, or -1 when the fields are empty (rcpt, stream),
 * too long (together at most 136 bytes) or out is short */
int rp_token_seal(const UNSUB_KEYS *k, const char *rcpt, const char *stream, const char *sender,
                  uint64_t now, char *out, size_t outlen);

/* rp_token_open - verify (either case) and decode; 0 with *p, or -1 with
 * "malformed", "unknown key", "bad authentication tag" or "expired"
 * appended to err and p zeroed. max_age 0: no limit. */
int rp_token_open(const UNSUB_KEYS *k, const char *token, uint64_t max_age, uint64_t now,
                  RP_PAYLOAD *p, BUF *err);

#endif

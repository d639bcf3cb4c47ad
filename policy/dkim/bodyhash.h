/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bodyhash.h - one pass over a message body: bare CR/LF repair, then the
 * DKIM body canonicalization (RFC 6376 3.4.3/3.4.4) and its SHA-256.
 */
#ifndef TX_BODYHASH_H
#define TX_BODYHASH_H

#include <stddef.h>

#define BODYHASH_LEN 32         /* SHA-256 */

enum bodyhash_mode {
    BODYHASH_SIMPLE,            /* simple canonicalization, hashed */
    BODYHASH_RELAXED,           /* relaxed canonicalization, hashed */
    BODYHASH_REPAIR             /* line ends repaired only, given to the sink */
};

/* Where BODYHASH_REPAIR sends the repaired body: 0, or -1 to stop. */
typedef int (*BODYHASH_SINK)(void *ctx, const unsigned char *data, size_t len);

typedef struct bodyhash BODYHASH;

/* bodyhash_new - a hasher in mode (sink and ctx for BODYHASH_REPAIR only).
 * NULL if OpenSSL cannot start SHA-256. */
BODYHASH *bodyhash_new(enum bodyhash_mode mode, BODYHASH_SINK sink, void *ctx);

/* bodyhash_update - the next body bytes, split anywhere. 0, or -1 if the
 * sink or the digest failed (the hasher is then unusable). */
int bodyhash_update(BODYHASH *bh, const unsigned char *data, size_t len);

/* bodyhash_final - end of body: digest gets the SHA-256 of the canonical
 * body (not touched for BODYHASH_REPAIR, may be NULL). 0 or -1. */
int bodyhash_final(BODYHASH *bh, unsigned char digest[BODYHASH_LEN]);

/* bodyhash_length - canonical (or repaired) bytes produced so far */
size_t bodyhash_length(const BODYHASH *bh);

void bodyhash_free(BODYHASH *bh);

#endif

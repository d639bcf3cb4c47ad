/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsub_token_int.h - between unsub_token.c (keys, AES-256-SIV) and the
 * other token types sealed with the same keys (rp_token.c, the return
 * path's). Not an interface for anyone else. Each type has its own label,
 * authenticated as associated data: a token of one type never opens as
 * another.
 */
#ifndef TX_UNSUB_TOKEN_INT_H
#define TX_UNSUB_TOKEN_INT_H

#include <stddef.h>

#include "unsub_token.h"

#define UNSUB_TOKEN_HEAD 17         /* key id, SIV */

/* unsub_token_seal_raw - pt (n bytes) sealed under the newest key for type
 * label into raw: id | SIV | ciphertext (UNSUB_TOKEN_HEAD + n bytes); 0 or -1 */
int unsub_token_seal_raw(const UNSUB_KEYS *k, const char *label, const unsigned char *pt,
                         size_t n, unsigned char *raw);

/* unsub_token_open_raw - raw (len bytes) verified as of type label and
 * decrypted into pt (len - UNSUB_TOKEN_HEAD bytes); that length, or -1 with
 * "malformed", "unknown key" or "bad authentication tag" appended to err */
long unsub_token_open_raw(const UNSUB_KEYS *k, const char *label, const unsigned char *raw,
                          size_t len, unsigned char *pt, BUF *err);

#endif

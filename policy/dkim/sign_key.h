/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sign_key.h - let libopendkim sign with the key txmilter parsed at load.
 */
#ifndef TX_SIGN_KEY_H
#define TX_SIGN_KEY_H

#include <stdint.h>

#include "keys.h"

/* sign_key_expect - the key the next libopendkim call on this thread will
 * load (NULL: none). Set around dkim_eom() by sign.c only. */
void sign_key_expect(const KEYS_KEY *key);

/* sign_key_active - 1 if libopendkim's key loads reach sign_key's
 * PEM_read_bio_PrivateKey (the executable exports it), 0 if they go
 * straight to libcrypto and every signature re-parses its key. */
int sign_key_active(void);

/* sign_key_stats - loads served from the parsed key (hits) and loads that
 * had to parse (misses), since start, for the control socket and tests. */
void sign_key_stats(uint64_t *hits, uint64_t *misses);

#endif

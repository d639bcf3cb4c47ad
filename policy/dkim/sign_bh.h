/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sign_bh.h - give a libopendkim 2.11 signing handle the body hash that
 * bodyhash.c computed, instead of feeding it the body.
 */
#ifndef TX_SIGN_BH_H
#define TX_SIGN_BH_H

#include <stddef.h>

#include <opendkim/dkim.h>

#include "bodyhash.h"

/* sign_bh_find - among the blocks libopendkim allocated for one signing
 * handle (ptr[i] of size[i], n of them), right after dkim_eoh(): its body
 * canonicalization, if it is exactly what libopendkim 2.11.0 leaves there
 * for a SHA-256 body hash in canon with no l= and no body yet. NULL when
 * anything differs (another library version, build or state): the caller
 * then feeds the body with dkim_body() as usual. */
void *sign_bh_find(void *const *ptr, const size_t *size, size_t n, dkim_canon_t canon);

/* sign_bh_give - complete that body canonicalization with digest (len
 * canonical bytes), as dkim_eom() would have; call just before dkim_eom(). */
void sign_bh_give(void *canon, const unsigned char digest[BODYHASH_LEN], size_t len);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sign_bh.c - hand a body hash computed once to libopendkim signing handles.
 *
 * SYNOPSIS
 *	#include "sign_bh.h"
 *
 *	void *	sign_bh_find(void *const *ptr, const size_t *size, size_t n,
 *			dkim_canon_t canon)
 *	void	sign_bh_give(void *canon, const unsigned char digest[32],
 *			size_t len)
 *
 * DESCRIPTION
 *	libopendkim 2.11 signs one signature per handle, and each handle
 *	canonicalizes and hashes the body itself: a message signed with RSA
 *	and Ed25519 had its body canonicalized and hashed twice. The library
 *	has no call that accepts a body hash, and its one way of sharing a
 *	body, dkim_resign(), is not compiled into Debian's build
 *	(dkim_libfeature(DKIM_FEATURE_RESIGN) is 0).
 *
 *	So sign.c computes the body hash once (bodyhash.c) and gives it to
 *	each handle here. In libopendkim a signing handle's body hash lives
 *	in a struct dkim_canon (private, dkim-types.h) whose canon_hash points
 *	to a struct dkim_sha256 holding the SHA-256 state and the final
 *	digest; dkim_eom() skips any body canonicalization already marked
 *	done and reads the digest from there for bh=. sign_bh_give() marks it
 *	done with our digest, so dkim_eom() signs with it.
 *
 *	Touching private structures is guarded: sign_bh_find() looks only at
 *	blocks that libopendkim itself allocated for this handle (sign.c's
 *	arena knows each block's size), and accepts a block only if it has
 *	exactly the size of 2.11.0's struct dkim_canon and every field holds
 *	what 2.11.0 leaves in a body canonicalization after dkim_eoh() with
 *	nothing of the body seen: not a header canonicalization, not done,
 *	SHA-256, the requested canonicalization, no length limit, nothing
 *	written, a hash buffer and a hash state that are blocks of this
 *	handle of the right sizes, no temporary file, and a SHA-256 state
 *	equal to a fresh one (the initial values, no byte counted). The
 *	library version must be 2.11.0 too. Exactly one block must match.
 *	If anything differs, sign.c feeds the body with dkim_body() as
 *	before: slower, never wrong.
 *
 *	The result is checked by tests/unit/test_sign.c, which signs the same
 *	messages both ways and requires identical signatures.
 *
 * DIAGNOSTICS
 *	None: a mismatch is the NULL of sign_bh_find().
 */
#include <string.h>
#include <sys/types.h>

#include <openssl/sha.h>

#include "sign_bh.h"

#define SIGN_BH_HASHTYPE_SHA256 1       /* libopendkim's DKIM_HASHTYPE_SHA256 */

_Static_assert(BODYHASH_LEN == SHA256_DIGEST_LENGTH, "body hash is SHA-256");

_Static_assert(sizeof(_Bool) == sizeof(unsigned char), "a _Bool is one byte");

/* struct dkim_canon of libopendkim 2.11.0 (dkim-types.h). Its _Bool fields
 * are read here as bytes: a block being checked may be something else and
 * hold any byte there, and loading a _Bool that is neither 0 nor 1 is
 * undefined (UBSan stops fuzz_msg on it). */
struct sign_bh_canon {
    unsigned char done;
    unsigned char hdr;
    unsigned char blankline;
    int     lastchar;
    int     bodystate;
    unsigned int hashtype;
    unsigned int blanks;
    size_t  hashbuflen;
    size_t  hashbufsize;
    ssize_t remain;
    ssize_t wrote;
    ssize_t length;
    dkim_canon_t canon;
    unsigned char *hashbuf;
    unsigned char *hdrlist;
    void   *hash;
    void   *buf;
    void   *sigheader;
    struct sign_bh_canon *next;
};

/* struct dkim_sha256 of libopendkim 2.11.0, OpenSSL build */
struct sign_bh_sha256 {
    int     tmpfd;
    void   *tmpbio;
    SHA256_CTX ctx;
    unsigned char out[SHA256_DIGEST_LENGTH];
};

/* sign_bh_size - the size of the block at p among the handle's, or 0 */
static size_t sign_bh_size(void *const *ptr, const size_t *size, size_t n, const void *p)
{
    for (size_t i = 0; p != NULL && i < n; i++)
        if (ptr[i] == p)
            return size[i];
    return 0;
}

/* sign_bh_fresh - a SHA-256 state that has seen nothing */
static int sign_bh_fresh(const SHA256_CTX *c)
{
    static const SHA_LONG iv[8] = {
        0x6a09e667UL, 0xbb67ae85UL, 0x3c6ef372UL, 0xa54ff53aUL,
        0x510e527fUL, 0x9b05688cUL, 0x1f83d9abUL, 0x5be0cd19UL
    };

    return memcmp(c->h, iv, sizeof(iv)) == 0 && c->Nl == 0 && c->Nh == 0 && c->num == 0
        && c->md_len == SHA256_DIGEST_LENGTH;
}

/* sign_bh_match - is this block a fresh body canonicalization in canon */
static int sign_bh_match(void *const *ptr, const size_t *size, size_t n,
                         const struct sign_bh_canon *c, dkim_canon_t canon)
{
    const struct sign_bh_sha256 *h;

    if (c->done || c->hdr || c->hashtype != SIGN_BH_HASHTYPE_SHA256 || c->canon != canon
        || c->length != -1 || c->remain != -1 || c->wrote != 0 || c->hashbuflen != 0
        || c->blanks != 0 || c->hdrlist != NULL || c->sigheader != NULL
        || c->hashbufsize == 0
        || sign_bh_size(ptr, size, n, c->hashbuf) != c->hashbufsize
        || sign_bh_size(ptr, size, n, c->hash) != sizeof(struct sign_bh_sha256)
        || (c->next != NULL && sign_bh_size(ptr, size, n, c->next) != sizeof(*c)))
        return 0;
    h = c->hash;
    return h->tmpbio == NULL && sign_bh_fresh(&h->ctx);
}

/* sign_bh_find - the handle's body canonicalization, or NULL */
void *sign_bh_find(void *const *ptr, const size_t *size, size_t n, dkim_canon_t canon)
{
    void *found = NULL;

    if (dkim_libversion() != 0x020B0000UL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (size[i] != sizeof(struct sign_bh_canon)
            || !sign_bh_match(ptr, size, n, ptr[i], canon))
            continue;
        if (found != NULL)
            return NULL;                /* two candidates: do not guess */
        found = ptr[i];
    }
    return found;
}

/* sign_bh_give - the body canonicalization is done, with this digest */
void sign_bh_give(void *canon, const unsigned char digest[BODYHASH_LEN], size_t len)
{
    struct sign_bh_canon *c = canon;
    struct sign_bh_sha256 *h = c->hash;

    memcpy(h->out, digest, BODYHASH_LEN);
    c->wrote = (ssize_t) len;
    c->done = 1;
}

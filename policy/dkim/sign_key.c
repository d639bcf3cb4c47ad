/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sign_key.c - let libopendkim sign with the key txmilter parsed at load.
 *
 * SYNOPSIS
 *	#include "sign_key.h"
 *
 *	void	sign_key_expect(const KEYS_KEY *key)
 *	int	sign_key_active(void)
 *	void	sign_key_stats(uint64_t *hits, uint64_t *misses)
 *
 * DESCRIPTION
 *	libopendkim 2.11 takes the private key as a string and parses it
 *	again in every dkim_eom(): PEM_read_bio_PrivateKey() on a memory BIO
 *	holding the PEM given to dkim_sign(). In OpenSSL 3 that parse costs
 *	more than the RSA signature itself, and because each message gets a
 *	fresh RSA object, OpenSSL also rebuilds the key's blinding values and
 *	Montgomery tables every time (tests/bench/RESULTS.md: 56 % of the CPU
 *	of an RSA signature, 76 % of an Ed25519 one). The library has no call
 *	that accepts an already-parsed EVP_PKEY.
 *
 *	So the txmilter executable defines PEM_read_bio_PrivateKey itself.
 *	The dynamic linker binds libopendkim's call to this definition,
 *	because the executable comes first in the global lookup scope. It
 *	answers from the key parsed at load time only when all of this holds:
 *
 *	- sign_key_expect() named a key on this thread, i.e. the call comes
 *	  from inside sign_eom()'s dkim_eom(), and
 *	- the call has no password callback and no object to reuse, and
 *	- the BIO is a memory BIO whose content is byte for byte that key's
 *	  PEM, which is what dkim_sign() was given.
 *
 *	It then returns a new reference to the parsed key (EVP_PKEY_up_ref):
 *	libopendkim frees it as it would free its own parse. Every other
 *	call, whoever makes it, goes to libcrypto's function unchanged
 *	(dlsym RTLD_NEXT). An EVP_PKEY may be used by several threads at
 *	once for signing: OpenSSL locks the RSA blinding it shares.
 *
 *	If a later libopendkim loads keys another way, nothing breaks: the
 *	counters show no hits and signing is as slow as before.
 *	sign_key_active() tells at start-up whether the override is in the
 *	lookup scope at all; the daemon logs a warning if not.
 *
 * DIAGNOSTICS
 *	None: a call it cannot answer goes to libcrypto's
 *	PEM_read_bio_PrivateKey unchanged; sign_key_stats() counts how
 *	often each happened. sign_key_active() is 0 when the override is
 *	not in the lookup scope.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sign_key.h"

typedef EVP_PKEY *(*sign_key_reader)(BIO *, EVP_PKEY **, pem_password_cb *, void *);

static _Thread_local const KEYS_KEY *sign_key_expected;
static atomic_uint_fast64_t sign_key_hits, sign_key_misses;
static sign_key_reader sign_key_real;
static pthread_once_t sign_key_once = PTHREAD_ONCE_INIT;

/* sign_key_resolve - libcrypto's own PEM_read_bio_PrivateKey */
static void sign_key_resolve(void)
{
    void *sym = dlsym(RTLD_NEXT, "PEM_read_bio_PrivateKey");

    /* ISO C forbids converting void * to a function pointer; POSIX needs it. */
    memcpy(&sign_key_real, &sym, sizeof(sign_key_real));
}

void sign_key_expect(const KEYS_KEY *key)
{
    sign_key_expected = key;
}

/* sign_key_match - the BIO holds exactly this key's PEM */
static int sign_key_match(BIO *bp, const KEYS_KEY *key)
{
    char *data = NULL;
    long n;

    if (BIO_method_type(bp) != BIO_TYPE_MEM)
        return 0;
    n = BIO_get_mem_data(bp, &data);
    return n > 0 && data != NULL && (size_t) n == key->pem_len && memcmp(data, key->pem, key->pem_len) == 0;
}

/* PEM_read_bio_PrivateKey - the parsed key for libopendkim, else libcrypto's */
EVP_PKEY *PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u)
{
    const KEYS_KEY *key = sign_key_expected;

    if (key != NULL) {
        if (key->pkey != NULL && bp != NULL && x == NULL && cb == NULL && u == NULL
            && sign_key_match(bp, key) && EVP_PKEY_up_ref(key->pkey)) {
            atomic_fetch_add_explicit(&sign_key_hits, 1, memory_order_relaxed);
            return key->pkey;
        }
        atomic_fetch_add_explicit(&sign_key_misses, 1, memory_order_relaxed);
    }
    (void) pthread_once(&sign_key_once, sign_key_resolve);
    if (sign_key_real == NULL)
        return NULL;            /* cannot happen while libcrypto is linked */
    return sign_key_real(bp, x, cb, u);
}

int sign_key_active(void)
{
    void *sym = dlsym(RTLD_DEFAULT, "PEM_read_bio_PrivateKey");
    sign_key_reader ours = PEM_read_bio_PrivateKey;
    void *mine;

    memcpy(&mine, &ours, sizeof(mine));
    return sym != NULL && sym == mine;
}

void sign_key_stats(uint64_t *hits, uint64_t *misses)
{
    *hits = atomic_load_explicit(&sign_key_hits, memory_order_relaxed);
    *misses = atomic_load_explicit(&sign_key_misses, memory_order_relaxed);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keys.c - DKIM private key loading.
 *
 * SYNOPSIS
 *	#include "keys.h"
 *
 *	KEYS_KEY * keys_load_file(const char *path, BUF *errs)
 *	KEYS_KEY * keys_load_inline(const char *text, const char *origin,
 *			BUF *errs)
 *	char *	keys_dns_record(const KEYS_KEY *key)
 *	const char * keys_algorithm(KEYS_TYPE type)
 *	void	keys_free(KEYS_KEY *key)
 *
 * DESCRIPTION
 *	keys_load_file() and keys_load_inline() parse a private key with
 *	OpenSSL in any of the forms operators have (PKCS#8 or PKCS#1 PEM,
 *	base64 DER as in OpenDKIM KeyTables), decide its algorithm from the
 *	key itself, and keep it as PKCS#8 PEM: libopendkim accepts Ed25519
 *	keys only in that form, and would silently produce a bogus
 *	"ed25519-sha256" signature from an RSA key, so the algorithm is never
 *	taken from configuration. The parsed EVP_PKEY is kept too, so that
 *	signing never parses the key again (sign_key.c).
 *
 *	Key files must not be readable or writable by group or others; such a
 *	file is refused, as is anything that is not a regular file.
 *
 *	keys_dns_record() renders the public half as the TXT record to publish.
 *
 *	Errors are appended to the caller's buffer as one line each, naming the
 *	file; key material never appears in a message.
 *
 * DIAGNOSTICS
 *	keys_load_file() and keys_load_inline() return NULL after
 *	appending one line naming the file (or origin) and the reason:
 *	unreadable, not a regular file, readable by group or others, not a
 *	private key, unsupported algorithm. Key material never appears.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "keys.h"
#include "log.h"
#include "util.h"

#define KEYS_MAX_FILE   (64 * 1024)

/* keys_ssl_error - the last OpenSSL error, for a log line */
static const char *keys_ssl_error(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();

    if (e == 0)
        util_strlcpy(buf, "unrecognised key format", len);
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* keys_parse - PEM, or base64 DER, into an EVP_PKEY */
static EVP_PKEY *keys_parse(const char *text, size_t len)
{
    EVP_PKEY *pk = NULL;
    BIO *bio;
    const char *p = text;

    while (len > 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++, len--;
    if (len >= 5 && strncmp(p, "-----", 5) == 0) {
        if ((bio = BIO_new_mem_buf(p, (int) len)) == NULL)
            return NULL;
        pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        return pk;
    }
    /* base64 DER (OpenDKIM's inline form): decode, then let OpenSSL guess. */
    {
        unsigned char *der = xmalloc(len + 1);
        int dlen = 0, n;
        EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
        const unsigned char *q;

        if (ctx == NULL) {
            free(der);
            return NULL;
        }
        EVP_DecodeInit(ctx);
        if (EVP_DecodeUpdate(ctx, der, &n, (const unsigned char *) p, (int) len) < 0) {
            EVP_ENCODE_CTX_free(ctx);
            free(der);
            return NULL;
        }
        dlen = n;
        if (EVP_DecodeFinal(ctx, der + dlen, &n) < 0) {
            EVP_ENCODE_CTX_free(ctx);
            free(der);
            return NULL;
        }
        dlen += n;
        EVP_ENCODE_CTX_free(ctx);
        q = der;
        pk = d2i_AutoPrivateKey(NULL, &q, dlen);
        OPENSSL_cleanse(der, len + 1);
        free(der);
        return pk;
    }
}

/* keys_from_pkey - check type and size, keep PKCS#8 PEM and the public key */
static KEYS_KEY *keys_from_pkey(EVP_PKEY *pk, const char *origin, BUF *errs)
{
    KEYS_KEY *key;
    BIO *bio;
    char *mem;
    long n;
    int id = EVP_PKEY_get_base_id(pk);
    unsigned char *spki = NULL;
    int spki_len;

    if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
        buf_printf(errs, "%s: key type %s is not usable for DKIM (RSA or Ed25519 required)\n",
                   origin, OBJ_nid2sn(id));
        return NULL;
    }
    if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(pk) < 1024) {
        buf_printf(errs, "%s: RSA key of %d bits is too short (RFC 8301: at least 1024, 2048 recommended)\n",
                   origin, EVP_PKEY_get_bits(pk));
        return NULL;
    }
    if ((bio = BIO_new(BIO_s_mem())) == NULL
        || !PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(bio);
        buf_printf(errs, "%s: cannot re-encode key\n", origin);
        return NULL;
    }
    if ((spki_len = i2d_PUBKEY(pk, &spki)) <= 0) {
        BIO_free(bio);
        buf_printf(errs, "%s: cannot encode public key\n", origin);
        return NULL;
    }
    key = xcalloc(1, sizeof(*key));
    key->type = id == EVP_PKEY_RSA ? KEYS_RSA : KEYS_ED25519;
    key->bits = EVP_PKEY_get_bits(pk);
    n = BIO_get_mem_data(bio, &mem);
    key->pem = xstrndup(mem, (size_t) n);
    key->pem_len = (size_t) n;
    OPENSSL_cleanse(mem, (size_t) n);
    BIO_free(bio);
    key->spki = xmalloc((size_t) spki_len);
    memcpy(key->spki, spki, (size_t) spki_len);
    key->spki_len = (size_t) spki_len;
    OPENSSL_free(spki);
    key->origin = xstrdup(origin);
    if (!EVP_PKEY_up_ref(pk)) {
        keys_free(key);
        buf_printf(errs, "%s: cannot keep parsed key\n", origin);
        return NULL;
    }
    key->pkey = pk;
    if (key->type == KEYS_RSA && key->bits < 2048)
        log_warn("%s: RSA key of %d bits: 2048 bits are recommended", origin, key->bits);
    return key;
}

/* keys_load_file - read, check and parse a key file */
KEYS_KEY *keys_load_file(const char *path, BUF *errs)
{
    struct stat st;
    int fd;
    char *text;
    ssize_t got;
    size_t len = 0;
    EVP_PKEY *pk;
    KEYS_KEY *key;
    char ebuf[256], why_mem[256];
    BUF why;

    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if ((fd = util_open_file(path, &st, &why)) == UTIL_FILE_NOTREG) {
        buf_printf(errs, "%s: key is not a regular file\n", path);
        return NULL;
    }
    if (fd < 0) {
        buf_printf(errs, "%s: cannot open key: %s\n", path, why.data);
        return NULL;
    }
    if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
        buf_printf(errs, "%s: key is accessible by group or others (mode %04o): "
                   "chmod 600 it\n", path, (unsigned) (st.st_mode & 07777));
        close(fd);
        return NULL;
    }
    if (st.st_size > KEYS_MAX_FILE) {
        buf_printf(errs, "%s: key file is larger than %d bytes\n", path, KEYS_MAX_FILE);
        close(fd);
        return NULL;
    }
    text = xmalloc(KEYS_MAX_FILE + 1);
    while (len < KEYS_MAX_FILE && (got = read(fd, text + len, KEYS_MAX_FILE - len)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            buf_printf(errs, "%s: cannot read key: %s\n", path, strerror(errno));
            close(fd);
            OPENSSL_cleanse(text, KEYS_MAX_FILE + 1);
            free(text);
            return NULL;
        }
        len += (size_t) got;
    }
    close(fd);
    text[len] = 0;
    pk = keys_parse(text, len);
    OPENSSL_cleanse(text, KEYS_MAX_FILE + 1);
    free(text);
    if (pk == NULL) {
        buf_printf(errs, "%s: cannot parse private key: %s\n", path, keys_ssl_error(ebuf, sizeof(ebuf)));
        return NULL;
    }
    key = keys_from_pkey(pk, path, errs);
    EVP_PKEY_free(pk);
    return key;
}

/* keys_load_inline - parse a key given as text */
KEYS_KEY *keys_load_inline(const char *text, const char *origin, BUF *errs)
{
    EVP_PKEY *pk;
    KEYS_KEY *key;
    char ebuf[256];

    if (strlen(text) > KEYS_MAX_FILE) {
        buf_printf(errs, "%s: inline key is too long\n", origin);
        return NULL;
    }
    if ((pk = keys_parse(text, strlen(text))) == NULL) {
        buf_printf(errs, "%s: cannot parse inline private key: %s\n", origin,
                   keys_ssl_error(ebuf, sizeof(ebuf)));
        return NULL;
    }
    key = keys_from_pkey(pk, origin, errs);
    EVP_PKEY_free(pk);
    return key;
}

/* keys_dns_record - the public key as a DKIM TXT record value */
char *keys_dns_record(const KEYS_KEY *key)
{
    const unsigned char *pub = key->spki;
    size_t pub_len = key->spki_len;
    char *b64, *rec;

    /* RFC 8463: for Ed25519, p= is the raw 32-byte key, the tail of the SPKI. */
    if (key->type == KEYS_ED25519 && pub_len >= 32) {
        pub += pub_len - 32;
        pub_len = 32;
    }
    b64 = xmalloc(4 * ((pub_len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *) b64, pub, (int) pub_len);
    rec = xasprintf("v=DKIM1; k=%s; p=%s", key->type == KEYS_RSA ? "rsa" : "ed25519", b64);
    free(b64);
    return rec;
}

const char *keys_algorithm(KEYS_TYPE type)
{
    return type == KEYS_RSA ? "rsa-sha256" : "ed25519-sha256";
}

void keys_free(KEYS_KEY *key)
{
    if (key == NULL)
        return;
    if (key->pem) {
        OPENSSL_cleanse(key->pem, key->pem_len);
        free(key->pem);
    }
    EVP_PKEY_free(key->pkey);
    free(key->spki);
    free(key->origin);
    free(key);
}

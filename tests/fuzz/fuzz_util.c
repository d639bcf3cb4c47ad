/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_util.c - helpers shared by the libFuzzer targets (see fuzz.h)
 *
 *	fuzz_str() and fuzz_split() turn the fuzzer's bytes into the C
 *	strings the parsers take. fuzz_file() gives parsers that only read
 *	files (the configuration, datasets, the rate policy) a real regular
 *	file, rewritten for every input, in one scratch directory per
 *	process; the directory and its files go at exit. Any failure to set
 *	that up is fatal: a target that cannot feed its parser tests nothing.
 *
 *	LLVMFuzzerInitialize() is the one initialiser; a target with more
 *	to set up defines fuzz_setup(). fuzz_new_key() makes keys for the
 *	targets that sign or compare keys; fuzz_token_keys() loads the fixed
 *	keys the token targets seal and open with.
 *
 *	fuzz_zone_lookup() answers the record checks' DNS queries from the
 *	input, so that the SPF, DMARC and DKIM key parsers see fuzzed
 *	records through their real lookup paths.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fuzz.h"
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "log.h"
#include "unsub_token.h"
#include "util.h"

#define FUZZ_FILES_MAX 8

static char fuzz_scratch[512];
static char fuzz_paths[FUZZ_FILES_MAX][600];
static size_t fuzz_npaths;

/* fuzz_cleanup - remove the scratch files and directory (atexit) */
static void fuzz_cleanup(void)
{
    for (size_t i = 0; i < fuzz_npaths; i++)
        (void) unlink(fuzz_paths[i]);
    if (fuzz_scratch[0])
        (void) rmdir(fuzz_scratch);
}

/* fuzz_dir - the scratch directory, made on first use */
const char *fuzz_dir(void)
{
    const char *tmp = getenv("TMPDIR");

    if (fuzz_scratch[0])
        return fuzz_scratch;
    snprintf(fuzz_scratch, sizeof(fuzz_scratch), "%s/txfuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(fuzz_scratch) == NULL) {
        perror(fuzz_scratch);
        abort();
    }
    atexit(fuzz_cleanup);
    return fuzz_scratch;
}

/* fuzz_setup - a target's own set-up: none unless it defines one */
__attribute__((weak)) void fuzz_setup(void)
{
}

/* LLVMFuzzerInitialize - once, before the first input */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    log_init("txfuzz", 0, 0, 0);
    fuzz_setup();
    return 0;
}

/* fuzz_str - a NUL-terminated copy */
char *fuzz_str(const void *data, size_t size)
{
    char *s = xmalloc(size + 1);

    if (size)
        memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* fuzz_split - cut the input into at most max parts at sep */
size_t fuzz_split(const uint8_t *data, size_t size, const char *sep, char **parts, size_t max)
{
    size_t seplen = strlen(sep), found = 0, i = 0;
    const uint8_t *p = data, *end = data + size;

    for (; i + 1 < max; i++) {
        const uint8_t *q = seplen ? memmem(p, (size_t) (end - p), sep, seplen) : NULL;

        if (q == NULL)
            break;
        parts[i] = fuzz_str(p, (size_t) (q - p));
        p = q + seplen;
        found++;
    }
    parts[i++] = fuzz_str(p, (size_t) (end - p));
    for (; i < max; i++)
        parts[i] = fuzz_str("", 0);
    return found;
}

/* fuzz_free_parts - free the parts of fuzz_split() */
void fuzz_free_parts(char **parts, size_t max)
{
    for (size_t i = 0; i < max; i++) {
        free(parts[i]);
        parts[i] = NULL;
    }
}

/* fuzz_file - the input as a regular file */
const char *fuzz_file(const char *name, const void *data, size_t size)
{
    char *path = NULL;
    int fd;

    for (size_t i = 0; i < fuzz_npaths; i++)
        if (strcmp(strrchr(fuzz_paths[i], '/') + 1, name) == 0)
            path = fuzz_paths[i];
    if (path == NULL) {
        if (fuzz_npaths == FUZZ_FILES_MAX)
            abort();
        path = fuzz_paths[fuzz_npaths++];
        snprintf(path, sizeof(fuzz_paths[0]), "%s/%s", fuzz_dir(), name);
    }
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0
        || (size && write(fd, data, size) != (ssize_t) size) || close(fd) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/* fuzz_zone_lookup - TXT records from the lines of a zone text */
void fuzz_zone_lookup(void *ctx, const char *name, int rrtype, DNS_ANSWER *ans)
{
    size_t nlen = strlen(name);

    (void) rrtype;
    memset(ans, 0, sizeof(*ans));
    ans->status = DNS_NXDOMAIN;
    ans->ttl = 300;
    for (const char *l = ctx; *l;) {
        const char *end = l + strcspn(l, "\n");

        if ((size_t) (end - l) > nlen && strncasecmp(l, name, nlen) == 0 && l[nlen] == ' ') {
            const char *v = l + nlen + 1;

            if (end - v == 1 && *v == '!') {
                dns_answer_free(ans);
                ans->status = DNS_TEMPFAIL;
                snprintf(ans->why, sizeof(ans->why), "SERVFAIL (fuzzed)");
                return;
            }
            ans->status = DNS_OK;
            if (ans->n < DNS_MAX_RR)
                ans->rec[ans->n++] = xstrndup(v, (size_t) (end - v));
        }
        l = *end ? end + 1 : end;
    }
}

/* fuzz_new_key - a fresh key as PEM text */
char *fuzz_new_key(const char *alg, int bits)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
    EVP_PKEY *pk = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem, *text;
    long len;

    if (ctx == NULL || bio == NULL || EVP_PKEY_keygen_init(ctx) != 1
        || (bits && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) != 1)
        || EVP_PKEY_generate(ctx, &pk) != 1
        || PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1)
        abort();
    len = BIO_get_mem_data(bio, &pem);
    text = xstrndup(pem, (size_t) len);
    BIO_free(bio);
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    return text;
}

/* fuzz_first_record - the zone's first line and its value */
char *fuzz_first_record(const char *zone, char **value)
{
    char *first = xstrndup(zone, strcspn(zone, "\n"));

    *value = first + strcspn(first, " ");
    if (**value == ' ')
        *(*value)++ = 0;
    return first;
}

/* fuzz_token_keys - the fixed test key file, loaded */
struct unsub_keys *fuzz_token_keys(void)
{
    static const char keyfile[] =
        "# test keys of tests/unit/test_unsub_token.c, for fuzzing only\n"
        "1 ULiCRWjdPFI4D/dCFT18WuJd5GNesD2urx3uZjaexr0=\n"
        "7 aSsUCneWNpuOzTJd3jXjBmHvgJDLbI8mH5LcF4ty8Lo=\n";
    UNSUB_KEYS *keys;

    if ((keys = unsub_keys_load(fuzz_file("token.keys", keyfile, strlen(keyfile)), NULL)) == NULL)
        abort();
    return keys;
}

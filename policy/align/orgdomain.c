/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * orgdomain.c - organisational domains (RFC 7489 3.2) from the public
 * suffix list with libpsl, and DMARC identifier alignment
 *
 * SYNOPSIS
 *	#include "orgdomain.h"
 *
 *	int	orgdomain_init(const char *psl_path, BUF *errs)
 *	void	orgdomain_shutdown(void)
 *	int	orgdomain_normalise(const char *in, char *out, size_t outlen)
 *	const char *orgdomain_get(const char *name, char *out, size_t outlen)
 *	int	orgdomain_aligned(const char *a, const char *b, int strict)
 *
 * DESCRIPTION
 *	The list is Debian's libpsl: psl_load_file() on the file
 *	PublicSuffixList names (Debian's publicsuffix package by default),
 *	psl_builtin() (the list libpsl was built with) when the path is
 *	NULL or empty. The organisational domain is
 *	psl_registrable_domain(): the public suffix plus one label, with the
 *	list's wildcard ("*.kawasaki.jp": x.y.kawasaki.jp is registrable) and
 *	exception ("!city.kawasaki.jp": city.kawasaki.jp is registrable)
 *	rules, the private section (s3.amazonaws.com) and the implicit "*"
 *	rule for a TLD the list does not know. A public suffix itself has
 *	none ("").
 *
 *	Names are lowercased and lose a trailing dot first: libpsl expects
 *	lowercase. Strict alignment compares the names themselves, relaxed
 *	alignment their organisational domains (RFC 7489 3.1).
 *
 *	The context is read-only once loaded, so threads share it.
 *
 * DIAGNOSTICS
 *	orgdomain_init() fails when the file cannot be read or holds no
 *	rules; the message names the file and the Debian package.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "log.h"
#include "orgdomain.h"

static pthread_mutex_t orgdomain_lock = PTHREAD_MUTEX_INITIALIZER;
static psl_ctx_t *orgdomain_psl;
static char orgdomain_source[1024];
static atomic_int orgdomain_loaded;

/* orgdomain_load - a libpsl context for path ("" for the built-in list),
 * checked to know www.example.com; NULL with a message in errs */
static psl_ctx_t *orgdomain_load(const char *path, BUF *errs)
{
    char why_mem[256];
    psl_ctx_t *psl;
    const char *rd;
    BUF why;

    if (*path == 0) {
        if ((psl = (psl_ctx_t *) psl_builtin()) == NULL)
            buf_printf(errs, "libpsl has no built-in public suffix list: set PublicSuffixList\n");
        return psl;
    }
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if (util_check_file(path, &why) < 0) {
        buf_printf(errs, "PublicSuffixList %s: %s (Debian package publicsuffix)\n", path, why.data);
        return NULL;
    }
    if ((psl = psl_load_file(path)) == NULL) {
        buf_printf(errs, "PublicSuffixList %s: libpsl cannot load it\n", path);
        return NULL;
    }
    /* An empty or foreign file loads "fine" and knows no suffix. */
    rd = psl_suffix_count(psl) > 0 ? psl_registrable_domain(psl, "www.example.co.uk") : NULL;
    if (rd == NULL || strcmp(rd, "example.co.uk") != 0) {
        buf_printf(errs, "PublicSuffixList %s: not a public suffix list "
                   "(www.example.co.uk has no organisational domain example.co.uk)\n", path);
        psl_free(psl);
        return NULL;
    }
    return psl;
}

/* orgdomain_init - load the public suffix list once */
int orgdomain_init(const char *psl_path, BUF *errs)
{
    const char *path = psl_path ? psl_path : "";
    int rc = 0;

    pthread_mutex_lock(&orgdomain_lock);
    if (atomic_load(&orgdomain_loaded)) {
        if (strcmp(orgdomain_source, path) != 0)
            log_warn("PublicSuffixList change to %s takes effect only after a restart",
                     *path ? path : "(built-in)");
    } else if (strlen(path) >= sizeof(orgdomain_source)) {
        buf_printf(errs, "PublicSuffixList %s: path too long\n", path);
        rc = -1;
    } else if ((orgdomain_psl = orgdomain_load(path, errs)) == NULL) {
        rc = -1;
    } else {
        util_strlcpy(orgdomain_source, path, sizeof(orgdomain_source));
        atomic_store(&orgdomain_loaded, 1);
    }
    pthread_mutex_unlock(&orgdomain_lock);
    return rc;
}

void orgdomain_shutdown(void)
{
    pthread_mutex_lock(&orgdomain_lock);
    if (atomic_load(&orgdomain_loaded))
        psl_free(orgdomain_psl);        /* psl_free() leaves the built-in list alone */
    orgdomain_psl = NULL;
    orgdomain_source[0] = 0;
    atomic_store(&orgdomain_loaded, 0);
    pthread_mutex_unlock(&orgdomain_lock);
}

/* orgdomain_normalise - lowercase, no trailing dot */
int orgdomain_normalise(const char *in, char *out, size_t outlen)
{
    size_t len = strlen(in);

    if (len && in[len - 1] == '.')
        len--;
    if (len == 0 || len >= outlen)
        return -1;
    memcpy(out, in, len);
    out[len] = 0;
    util_lower(out);
    return 0;
}

/* orgdomain_get - psl_registrable_domain() of the lowercase name */
const char *orgdomain_get(const char *name, char *out, size_t outlen)
{
    char lower[ORGDOMAIN_MAX];
    const char *rd;

    if (outlen == 0)
        return out;
    out[0] = 0;
    if (orgdomain_normalise(name, lower, sizeof(lower)) < 0 || lower[0] == '[' || lower[0] == '.'
        || strstr(lower, "..") != NULL)
        return out;
    if (!atomic_load(&orgdomain_loaded)) {  /* no list: every name stands alone */
        util_strlcpy(out, lower, outlen);
        return out;
    }
    /* A pointer into lower (its tail), or NULL for a public suffix. */
    if ((rd = psl_registrable_domain(orgdomain_psl, lower)) != NULL)
        util_strlcpy(out, rd, outlen);
    return out;
}

/* orgdomain_aligned - RFC 7489 3.1 */
int orgdomain_aligned(const char *a, const char *b, int strict)
{
    char na[ORGDOMAIN_MAX], nb[ORGDOMAIN_MAX], oa[ORGDOMAIN_MAX], ob[ORGDOMAIN_MAX];

    if (orgdomain_normalise(a, na, sizeof(na)) < 0 || orgdomain_normalise(b, nb, sizeof(nb)) < 0)
        return 0;
    if (strcmp(na, nb) == 0)
        return 1;
    if (strict)
        return 0;
    orgdomain_get(na, oa, sizeof(oa));
    orgdomain_get(nb, ob, sizeof(ob));
    return oa[0] != 0 && strcmp(oa, ob) == 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * orgdomain.c - organisational domains and DMARC alignment
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
 *	The public suffix list is read by libopendmarc
 *	(opendmarc_policy_library_init(), Mozilla format) and queried with
 *	opendmarc_get_tld(), which the library exports without declaring.
 *	libopendmarc 1.4.2 (Debian 12) gets several things wrong, so this
 *	module does not use the library's alignment code at all and
 *	corrects its organisational-domain answers:
 *
 *	- Case: its suffix hash lookup is case-sensitive ("Mail.Example.COM"
 *	  gives ""): every name is lowercased here first (fixed upstream
 *	  after 1.4.2).
 *	- The library answers a public suffix for some names: co.uk for
 *	  "co.uk" itself (which is why it aligns d=co.uk with From
 *	  example.co.uk, with check_alignment's reversed-label prefix match)
 *	  and for "a.co.uk". Every answer is probed with one more label: if
 *	  "probe.ANSWER" is its own organisational domain, ANSWER is a public
 *	  suffix; the organisational domain is then the suffix plus the
 *	  name's next label, and a public suffix itself has none ("").
 *	- A name under a TLD missing from the list gets "" from the library;
 *	  the list's implicit "*" rule (publicsuffix.org algorithm) makes the
 *	  TLD the suffix, so the organisational domain is the last two labels.
 *	- Strict alignment: with a list loaded, opendmarc_policy_check_alignment
 *	  compares organisational domains even in strict mode, so adkim=s
 *	  passed for d=example.com and From mail.example.com (OpenDMARC issue
 *	  #268, fixed by PR #354). orgdomain_aligned() compares the exact
 *	  names in strict mode.
 *	- Subdomain policy discovery (OpenDMARC issue #54) is done by
 *	  dmarc_check.c, not by the library's resolver.
 *
 *	Known remaining gap: the library mishandles "*." wildcard rules
 *	(x.y.kawasaki.jp gives y.kawasaki.jp); few senders live there.
 *
 * DIAGNOSTICS
 *	orgdomain_init() fails when the list cannot be read or holds no
 *	rules; the message names the file and the Debian package.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <opendmarc/dmarc.h>

#include "log.h"
#include "orgdomain.h"

/* Exported by libopendmarc.so, not declared in its headers. */
extern int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);

#define ORGDOMAIN_PROBE "txmilter-psl-probe."

static pthread_mutex_t orgdomain_lock = PTHREAD_MUTEX_INITIALIZER;
static OPENDMARC_LIB_T orgdomain_lib;
static atomic_int orgdomain_loaded;

/* orgdomain_init - load the public suffix list once */
int orgdomain_init(const char *psl_path, BUF *errs)
{
    char why[256];
    int rc = 0;

    pthread_mutex_lock(&orgdomain_lock);
    if (atomic_load(&orgdomain_loaded)) {
        if (strcmp((const char *) orgdomain_lib.tld_source_file, psl_path) != 0)
            log_warn("PublicSuffixList change to %s takes effect only after a restart", psl_path);
        pthread_mutex_unlock(&orgdomain_lock);
        return 0;
    }
    if (strlen(psl_path) >= sizeof(orgdomain_lib.tld_source_file)) {
        buf_printf(errs, "PublicSuffixList %s: path too long\n", psl_path);
        rc = -1;
    } else if (util_check_file(psl_path, why, sizeof(why)) < 0) {
        buf_printf(errs, "PublicSuffixList %s: %s (Debian package publicsuffix)\n", psl_path, why);
        rc = -1;
    } else {
        memset(&orgdomain_lib, 0, sizeof(orgdomain_lib));
        orgdomain_lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
        util_strlcpy((char *) orgdomain_lib.tld_source_file, psl_path,
                     sizeof(orgdomain_lib.tld_source_file));
        if (opendmarc_policy_library_init(&orgdomain_lib) != DMARC_PARSE_OKAY) {
            buf_printf(errs, "PublicSuffixList %s: libopendmarc cannot load it\n", psl_path);
            rc = -1;
        } else {
            u_char probe[ORGDOMAIN_MAX] = "";

            /* An empty or foreign file loads "fine" and knows no suffix. */
            (void) opendmarc_get_tld((u_char *) "www.example.com", probe, sizeof(probe));
            if (strcmp((char *) probe, "example.com") != 0) {
                buf_printf(errs, "PublicSuffixList %s: not a public suffix list "
                           "(www.example.com has no organisational domain example.com)\n", psl_path);
                (void) opendmarc_policy_library_shutdown(&orgdomain_lib);
                rc = -1;
            } else {
                atomic_store(&orgdomain_loaded, 1);
            }
        }
    }
    pthread_mutex_unlock(&orgdomain_lock);
    return rc;
}

void orgdomain_shutdown(void)
{
    pthread_mutex_lock(&orgdomain_lock);
    if (atomic_load(&orgdomain_loaded))
        (void) opendmarc_policy_library_shutdown(&orgdomain_lib);
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

/* orgdomain_tld - libopendmarc's answer for a lowercase name ("" if none) */
static void orgdomain_tld(const char *name, char *out, size_t outlen)
{
    /* The library writes nothing when it finds nothing: clear first. */
    memset(out, 0, outlen);
    if (opendmarc_get_tld((u_char *) name, (u_char *) out, outlen) != 0)
        out[0] = 0;
    out[outlen - 1] = 0;
}

/* orgdomain_last_two - the last two labels of name, or "" */
static void orgdomain_last_two(const char *name, char *out, size_t outlen)
{
    const char *last = strrchr(name, '.'), *p;

    out[0] = 0;
    if (last == NULL || last == name)
        return;
    for (p = last - 1; p > name && p[-1] != '.'; p--)
        /* void */ ;
    util_strlcpy(out, p, outlen);
}

/* orgdomain_is_suffix - is the lowercase name a public suffix? If it is,
 * "probe.NAME" is its own organisational domain. */
static int orgdomain_is_suffix(const char *name)
{
    char probe[ORGDOMAIN_MAX + sizeof(ORGDOMAIN_PROBE)], got[sizeof(probe)];

    snprintf(probe, sizeof(probe), ORGDOMAIN_PROBE "%s", name);
    orgdomain_tld(probe, got, sizeof(got));
    return strcmp(got, probe) == 0;
}

/* orgdomain_get - the organisational domain, corrected (see above) */
const char *orgdomain_get(const char *name, char *out, size_t outlen)
{
    char lower[ORGDOMAIN_MAX], got[ORGDOMAIN_MAX];
    size_t gl, nl;

    if (outlen == 0)
        return out;
    out[0] = 0;
    if (orgdomain_normalise(name, lower, sizeof(lower)) < 0 || lower[0] == '[')
        return out;
    if (!atomic_load(&orgdomain_loaded)) {  /* no list: every name stands alone */
        util_strlcpy(out, lower, outlen);
        return out;
    }
    orgdomain_tld(lower, got, sizeof(got));
    if (got[0] == 0)                        /* the implicit "*" rule: the TLD is the suffix */
        orgdomain_last_two(lower, got, sizeof(got));
    gl = strlen(got);
    nl = strlen(lower);
    /* The answer must be the name or a parent of it. */
    if (gl == 0 || gl > nl || strcmp(lower + nl - gl, got) != 0 || (gl < nl && lower[nl - gl - 1] != '.'))
        return out;
    /* The library answers a public suffix for some names (co.uk for
     * co.uk itself, and for a.co.uk): the organisational domain is then
     * the suffix plus the name's next label, or none for the suffix. */
    if (orgdomain_is_suffix(got)) {
        const char *p;

        if (gl == nl)
            return out;
        for (p = lower + nl - gl - 1; p > lower && p[-1] != '.'; p--)
            /* void */ ;
        util_strlcpy(got, p, sizeof(got));
    }
    util_strlcpy(out, got, outlen);
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

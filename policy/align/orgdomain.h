/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * orgdomain.h - organisational domains (RFC 7489 3.2) from the public
 * suffix list (libpsl), and DMARC identifier alignment. RFC 9989's DNS
 * tree walk finds its own (dmarc_walk.h); this is the RFC 7489 view.
 */
#ifndef TX_ORGDOMAIN_H
#define TX_ORGDOMAIN_H

#include <stddef.h>

#include "util.h"

#define ORGDOMAIN_MAX 256           /* bytes of a domain name with its NUL */

/* orgdomain_init - load the public suffix list (PublicSuffixList, a
 * file; NULL or "" for libpsl's built-in list) with libpsl; once per
 * process, before threads start. Later calls with the same file do
 * nothing; another file is logged as needing a restart. -1 with a
 * message in errs if the file cannot be used. */
int orgdomain_init(const char *psl_path, BUF *errs);

/* orgdomain_shutdown - release the list (at exit) */
void orgdomain_shutdown(void);

/* orgdomain_normalise - lowercase, without a trailing dot; -1 if the
 * result would not fit in outlen or is empty */
int orgdomain_normalise(const char *in, char *out, size_t outlen);

/* orgdomain_get - the organisational domain of name into out (lowercase):
 * "" when name is a public suffix itself (it has none) or not a domain
 * name. Returns out. */
const char *orgdomain_get(const char *name, char *out, size_t outlen);

/* orgdomain_aligned - RFC 7489 3.1 identifier alignment of a and b:
 * strict: the same name; relaxed: the same name or the same
 * organisational domain. Case and a trailing dot do not matter. */
int orgdomain_aligned(const char *a, const char *b, int strict);

#endif

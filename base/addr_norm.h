/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr_norm.h - recipient (and sender) normalisation for rate keys, so
 * that the cheap ways around a per-recipient limit all land on one key:
 * case, "+tag" subaddresses, dots and googlemail.com for Gmail, IDN
 * domains (U-labels to A-labels, libidn2), trailing dots, angle brackets,
 * quoted local parts.
 */
#ifndef TX_ADDR_NORM_H
#define TX_ADDR_NORM_H

#include <stddef.h>

#include "util.h"

#define ADDR_NORM_MAX 512
#define ADDR_NORM_INPUT_MAX 1024    /* bytes of an address accepted as input (here and in addr_smtp.c) */

typedef struct addr_norm_opts {
    const char *separators;     /* subaddress separators, default "+" ("" for none) */
    int         gmail_dots;     /* drop dots in gmail.com local parts, default on */
} ADDR_NORM_OPTS;

/* addr_norm - normalise addr ("<Foo+x@Example.COM.>") into out
 * ("foo@example.com"). Returns 0, or -1 with a reason in err for input
 * that is not an address (no '@', empty parts, bad IDN, too long, control
 * characters). The null sender "<>" normalises to "" and returns 0. */
int addr_norm(const char *addr, const ADDR_NORM_OPTS *o, char *out, size_t outlen, BUF *err);

/* addr_domain - the domain part of a normalised address ("" if none) */
const char *addr_domain(const char *normalised);

#endif

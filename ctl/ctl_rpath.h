/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_rpath.h - dns-check of the return-path domain (ReturnPath): the
 * template's domain for a From domain, and whether receivers can deliver
 * bounces to it.
 */
#ifndef TX_CTL_RPATH_H
#define TX_CTL_RPATH_H

#include <stddef.h>

#include "dns.h"

/* What the DNS says about delivering a bounce to the return-path domain. */
typedef enum ctl_rpath_mx {
    CTL_RPATH_MX_OK = 0,        /* an MX (not a null MX) */
    CTL_RPATH_ADDR,             /* no MX, an A or AAAA: the implicit MX */
    CTL_RPATH_NULL_MX,          /* "0 ." (RFC 7505): takes no mail */
    CTL_RPATH_NONE,             /* no MX, A nor AAAA */
    CTL_RPATH_DNSERR,           /* a lookup failed */
} CTL_RPATH_MX;

/* ctl_rpath_domain - the domain part of ReturnPath tmpl for mail From
 * from_domain into out; 0, or -1 if it does not fill in */
int ctl_rpath_domain(const char *tmpl, const char *from_domain, char *out, size_t outlen);

/* ctl_rpath_mx - the MX of domain, else its A, else its AAAA, through
 * lookup; what was found (or the DNS trouble) in detail */
CTL_RPATH_MX ctl_rpath_mx(DNS_LOOKUP_FN lookup, void *ctx, const char *domain, char *detail,
                          size_t len);

/* ctl_rpath_mx_str - "mx", "address", "null-mx", "none", "dnserr" */
const char *ctl_rpath_mx_str(CTL_RPATH_MX v);

#endif

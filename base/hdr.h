/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hdr.h - message header helpers that know nothing of libmilter:
 * the RFC 5322 From field, and the exact bytes a header field is signed as.
 */
#ifndef TX_HDR_H
#define TX_HDR_H

#include <stddef.h>

#include "util.h"

#define HDR_LOCAL_MAX   256     /* bytes of a local part we keep */
#define HDR_DOMAIN_MAX  256     /* bytes of a domain we keep */

typedef struct hdr_addr {
    char local[HDR_LOCAL_MAX];      /* as written, quotes removed */
    char domain[HDR_DOMAIN_MAX];    /* lowercased DNS host name, A-labels */
} HDR_ADDR;

/* Why hdr_parse_mailboxes() refused a field (hdr_strerror() says it in words). */
enum {
    HDR_ERR_SYNTAX = -1,        /* anything not covered below */
    HDR_ERR_UTF8 = -2,          /* 8-bit bytes that are not UTF-8 */
    HDR_ERR_CHAR = -3,          /* a control or special character out of place */
    HDR_ERR_COMMENT = -4,       /* unbalanced or too deeply nested comment */
    HDR_ERR_QUOTE = -5,         /* unterminated quoted string */
    HDR_ERR_ANGLE = -6,         /* unbalanced or misplaced "<" ">" */
    HDR_ERR_GROUP = -7,         /* "name: ...;" */
    HDR_ERR_DISPLAY = -8,       /* "a@evil <b@shop>" */
    HDR_ERR_TRAILING = -9,      /* "<a@shop> extra", "a@shop;" */
    HDR_ERR_NOAT = -10,         /* "alice", "<>", "a@" */
    HDR_ERR_LOCAL = -11,        /* ".a@x", "a..b@x" */
    HDR_ERR_OBSLOCAL = -12,     /* "\"a\".b@x" */
    HDR_ERR_QUOTEDAT = -13,     /* "\"a@evil\"@shop" */
    HDR_ERR_SPACE = -14,        /* "a@exa mple.com", "a @x", "a.(c)b@x" */
    HDR_ERR_DOMAIN = -15,       /* not LDH labels, trailing dot, numeric */
    HDR_ERR_LITERAL = -16,      /* "a@[192.0.2.1]" */
    HDR_ERR_ROUTE = -17,        /* "<@relay:a@x>" */
    HDR_ERR_EMPTY = -18,        /* ", a@x", "a@x," */
    HDR_ERR_LONG = -19,         /* local part or domain over the bounds */
    HDR_ERR_IDN = -20,          /* U-labels that IDNA2008 refuses */
};

/* hdr_parse_mailboxes - parse a From field as a strict RFC 5322
 * mailbox-list (no groups, no obsolete forms receivers read differently,
 * a DNS host name as domain, U-labels turned into A-labels). Returns the
 * number of mailboxes (0 for a field of only white space and comments)
 * and stores the first in *first (when first is not NULL), or a negative
 * HDR_ERR_* code. */
int hdr_parse_mailboxes(const char *value, HDR_ADDR *first);

/* hdr_strerror - why a From field was refused, as "has ..." or "holds ..."
 * after "From header field " */
const char *hdr_strerror(int code);

/* hdr_signing_form - the header field "name:value" as libopendkim must see
 * it: value bytes kept exactly, bare LF turned into CRLF, no final CRLF.
 * value must already carry its leading white space (SMFIP_HDR_LEADSPC).
 * Returns -1 if the result would exceed out's limit. */
int hdr_signing_form(BUF *out, const char *name, const char *value);

/* hdr_strip_cr - remove every CR in place (signature values from
 * libopendkim fold with CRLF; the MTA adds CR itself). */
void hdr_strip_cr(char *s);

/* hdr_valid_name - 1 if name is a syntactically valid field name */
int hdr_valid_name(const char *name);

#endif

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
    char domain[HDR_DOMAIN_MAX];    /* lowercased, no trailing dot */
} HDR_ADDR;

/* hdr_parse_mailboxes - parse an RFC 5322 mailbox-list or address-list
 * (display names, comments, quoted strings, angle addresses, groups,
 * obsolete routes). Returns the number of mailboxes (0..) and stores the
 * first in *first; returns -1 on a syntax error (unbalanced quote, comment
 * or bracket, a mailbox without '@', an over-long part). */
int hdr_parse_mailboxes(const char *value, HDR_ADDR *first);

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

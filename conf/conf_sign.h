/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_sign.h - the DKIM signing part of txmilter.conf(5) (cf->sign);
 * rows in conf_sign_dirs.c.
 */
#ifndef TX_CONF_SIGN_H
#define TX_CONF_SIGN_H

#include "util.h"

enum conf_canon { CONF_CANON_RELAXED = 0, CONF_CANON_SIMPLE = 1 };

/* What to do with outbound mail for which no signing key applies, or when
 * signing itself fails. */
enum conf_action { CONF_ACT_ACCEPT = 0, CONF_ACT_TEMPFAIL = 1, CONF_ACT_REJECT = 2 };

typedef struct conf_sign {
    char   *keytable;           /* KeyTable dataset */
    char   *signingtable;       /* SigningTable dataset */
    char   *domain;             /* Domain (shorthand): dataset of domains */
    char   *selector;           /* Selector (shorthand) */
    char   *keyfile;            /* KeyFile (shorthand) */
    int     signing;            /* Signing yes|no, default yes: "no" says that a
                                 * configuration without keys is intended */
    int     subdomains;         /* SubDomains yes|no, default no */
    int     multiple_signatures;/* MultipleSignatures yes|no, default no */
    enum conf_canon hdr_canon;  /* Canonicalization header/body, default relaxed/relaxed */
    enum conf_canon body_canon;
    STRV    sign_headers;       /* SignHeaders: lowercase names */
    STRV    oversign_headers;   /* OversignHeaders: lowercase names */
    enum conf_action on_nokey;  /* On-NoKey accept|tempfail, default accept */
    enum conf_action on_sigerr; /* On-SignatureError accept|tempfail|reject, default tempfail */
    enum conf_action on_multifrom; /* On-MultipleFrom accept|tempfail|reject: several From fields or
                                 * mailboxes (RFC 7489 6.6.1), default reject */
} CONF_SIGN;

/* The built-in SignHeaders and OversignHeaders lists (NULL-terminated). */
extern const char *const conf_default_sign_headers[];
extern const char *const conf_default_oversign_headers[];

#endif

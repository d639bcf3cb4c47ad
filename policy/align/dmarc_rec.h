/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc_rec.h - one DMARC policy record read the RFC 9989 way: v=DMARC1
 * first, then p, sp, np, psd, t, adkim, aspf; pct, rf, ri and unknown
 * tags ignored. Pure: no DNS, no library.
 */
#ifndef TX_DMARC_REC_H
#define TX_DMARC_REC_H

#include <stddef.h>

#include "dmarc_check.h"

typedef struct dmarc_rec {
    DMARC_CHECK_POLICY p, sp, np;   /* sp defaults to p, np to sp */
    int         p_given, sp_given, np_given;
    char        psd;                /* 'y', 'n' or 'u' (the default) */
    int         testing;            /* t=y */
    int         adkim_strict, aspf_strict;
} DMARC_REC;

/* dmarc_rec_is_dmarc - the text starts with v=DMARC1 (then ';', blank or
 * end): a DMARC record at all; others are discarded unread. */
int dmarc_rec_is_dmarc(const char *txt);

/* dmarc_rec_parse - read txt into *r. 0 for a usable record (a missing or
 * invalid p= counts as p=none, RFC 9989 4.7; notes appended to err); -1
 * when txt is no DMARC record (err says so). */
int dmarc_rec_parse(const char *txt, DMARC_REC *r, BUF *err);

/* dmarc_rec_policy - what the record asks for a From domain: p for the
 * domain holding it, np for a non-existent subdomain, sp for another
 * subdomain; one step down under t=y. *tag gets "p", "sp" or "np". */
DMARC_CHECK_POLICY dmarc_rec_policy(const DMARC_REC *r, int at_from, int nonexistent, const char **tag);

#endif

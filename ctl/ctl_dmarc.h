/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_dmarc.h - txmilterctl dns-check's DMARC words: the RFC 7489 and
 * RFC 9989 views of a policy, their difference, and a record rewritten
 * without the tags RFC 9989 removed. Pure; see ctl_dmarc.c.
 */
#ifndef TX_CTL_DMARC_H
#define TX_CTL_DMARC_H

#include <stddef.h>

#include "dmarc_check.h"
#include "dmarc_walk.h"
#include "util.h"

/* ctl_dmarc_view7489 - the RFC 7489 finding in one line */
void ctl_dmarc_view7489(const DMARC_CHECK *c, char *out, size_t len);

/* ctl_dmarc_view9989 - the RFC 9989 finding in one line */
void ctl_dmarc_view9989(const DMARC_WALK *w, char *out, size_t len);

/* ctl_dmarc_differ - 1 (and how, appended to why) when receivers of the
 * two generations would apply something else to the domain's mail; 0
 * when they agree */
int ctl_dmarc_differ(const DMARC_CHECK *c, const DMARC_WALK *w, BUF *why);

/* ctl_dmarc_rfc9989 - record without pct, rf and ri (pct=0 becomes
 * t=y) into out, their names into removed; how many, -1 if out is full */
int ctl_dmarc_rfc9989(const char *record, BUF *out, char *removed, size_t removedlen);

#endif

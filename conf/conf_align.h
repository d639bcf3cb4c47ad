/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_align.h - the alignment preflight and DNS part of txmilter.conf(5)
 * (cf->align); rows in conf_align_dirs.c. The preflight runs only when
 * EgressAddress or AlignmentAction is set (conf_preflight()).
 */
#ifndef TX_CONF_ALIGN_H
#define TX_CONF_ALIGN_H

#include "conf_sign.h"
#include "util.h"

/* AlignmentAction: what a failed alignment preflight does to mail whose
 * DMARC policy is quarantine or reject. UNSET: the directive is absent. */
enum conf_align { CONF_ALIGN_UNSET = 0, CONF_ALIGN_REJECT, CONF_ALIGN_TEMPFAIL,
                  CONF_ALIGN_QUARANTINE, CONF_ALIGN_LOG };

/* DMARCMode: which generation of DMARC the preflight predicts. BOTH: RFC
 * 7489 (public suffix list) and RFC 9989 (DNS tree walk), acting on the
 * stricter. */
enum conf_dmarc_mode { CONF_DMARC_BOTH = 0, CONF_DMARC_7489, CONF_DMARC_9989 };

#define CONF_DEFAULT_PSL "/usr/share/publicsuffix/public_suffix_list.dat"

typedef struct conf_align_part {
    STRV    egress;             /* EgressAddress: the relay's public IP addresses */
    enum conf_align action;     /* AlignmentAction, default unset (log when preflight runs) */
    char   *public_suffix_list; /* PublicSuffixList, default CONF_DEFAULT_PSL */
    enum conf_dmarc_mode dmarc_mode; /* DMARCMode 7489|9989|both, default both */
    char   *nameservers;        /* Nameservers "addr[@port], ..."; NULL: /etc/resolv.conf */
    char   *trust_anchor_file;  /* TrustAnchorFile: DNSSEC root key; NULL: no validation */
    int     dns_timeout;        /* DNSTimeout seconds per query, default 5 */
    enum conf_action on_dnserror; /* On-DNSError accept|tempfail, default tempfail */
} CONF_ALIGN;

#endif

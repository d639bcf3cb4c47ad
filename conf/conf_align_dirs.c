/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_align_dirs.c - the alignment preflight and DNS directives of
 * txmilter.conf(5)
 *
 * SYNOPSIS
 *	#include "conf_int.h"
 *
 *	const CONF_PART conf_align_part
 *
 * DESCRIPTION
 *	conf_align_part holds the rows of cf->align, all txmilter's, with
 *	their defaults: EgressAddress, AlignmentAction, PublicSuffixList, DMARCMode,
 *	Nameservers, TrustAnchorFile, DNSTimeout, On-DNSError.
 *	(txmilterctl dns-check reads them as txmilter does, through the
 *	snapshot.)
 *
 * DIAGNOSTICS
 *	None here: the value parsers (conf_value.c) report bad values.
 */
#include <stdlib.h>

#include "conf_int.h"
#include "util.h"

static const CONF_DIR conf_align_dirs[] = {
    {"EgressAddress", CONF_M, conf_parse_egress, CONF_OFF(align.egress), 0, 0},
    {"AlignmentAction", CONF_M, conf_parse_align, CONF_OFF(align.action), 0, 0},
    {"PublicSuffixList", CONF_M, conf_parse_abspath, CONF_OFF(align.public_suffix_list), 0, 0},
    {"DMARCMode", CONF_M, conf_parse_dmarcmode, CONF_OFF(align.dmarc_mode), 0, 0},
    {"Nameservers", CONF_M, conf_parse_nameservers, CONF_OFF(align.nameservers), 0, 0},
    {"TrustAnchorFile", CONF_M, conf_parse_abspath, CONF_OFF(align.trust_anchor_file), 0, 0},
    {"DNSTimeout", CONF_M, conf_parse_int, CONF_OFF(align.dns_timeout), 1, 60},
    {"On-DNSError", CONF_M, conf_parse_action, CONF_OFF(align.on_dnserror), 0,
        CONF_ACT_BIT(CONF_ACT_ACCEPT) | CONF_ACT_BIT(CONF_ACT_TEMPFAIL)},
};

/* conf_align_defaults - what an empty file gives */
static void conf_align_defaults(TXCONF *cf)
{
    CONF_ALIGN *p = &cf->align;

    strv_init(&p->egress);
    p->action = CONF_ALIGN_UNSET;
    p->public_suffix_list = xstrdup(CONF_DEFAULT_PSL);
    p->dmarc_mode = CONF_DMARC_BOTH;
    p->dns_timeout = 5;
    p->on_dnserror = CONF_ACT_TEMPFAIL;
}

/* conf_align_release - free the part's strings */
static void conf_align_release(TXCONF *cf)
{
    strv_free(&cf->align.egress);
    free(cf->align.public_suffix_list);
    free(cf->align.nameservers);
    free(cf->align.trust_anchor_file);
}

const CONF_PART conf_align_part = {
    conf_align_dirs, CONF_NELEM(conf_align_dirs),
    conf_align_defaults, conf_align_release, NULL,
};

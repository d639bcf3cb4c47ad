/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_bounce_dirs.c - the bounce and complaint directives of txmilter.conf(5)
 *
 * SYNOPSIS
 *	#include "conf_int.h"
 *
 *	const CONF_PART conf_bounce_part
 *
 * DESCRIPTION
 *	conf_bounce_part holds the rows of cf->bounce, with their defaults.
 *	BounceSuppressFor (a duration such as 30d, or "forever", the
 *	default) is read by txmilter, which records bounces, and by
 *	txmilterctl, whose "suppress add --reason bounce" records one too.
 *
 * DIAGNOSTICS
 *	None besides the value parsers' (conf_value.c).
 */
#include "conf_int.h"

static const CONF_DIR conf_bounce_dirs[] = {
    {"BounceSuppressFor", CONF_M | CONF_C, conf_parse_duration, CONF_OFF(bounce.suppress_for),
     1, 3650L * 86400},
};

/* conf_bounce_defaults - what an empty file gives: bounces suppress forever */
static void conf_bounce_defaults(TXCONF *cf)
{
    cf->bounce.suppress_for = 0;
}

/* conf_bounce_release - the part holds no strings yet */
static void conf_bounce_release(TXCONF *cf)
{
    (void) cf;
}

const CONF_PART conf_bounce_part = {
    conf_bounce_dirs, CONF_NELEM(conf_bounce_dirs),
    conf_bounce_defaults, conf_bounce_release, NULL,
};

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_sign_dirs.c - the DKIM signing directives of txmilter.conf(5)
 *
 * SYNOPSIS
 *	#include "conf_int.h"
 *
 *	const CONF_PART conf_sign_part
 *	const char *const conf_default_sign_headers[]
 *	const char *const conf_default_oversign_headers[]
 *
 * DESCRIPTION
 *	conf_sign_part holds the rows of cf->sign (KeyTable, SigningTable,
 *	the Domain/Selector/KeyFile shorthand, Signing, SubDomains,
 *	MultipleSignatures, Canonicalization, SignHeaders, OversignHeaders,
 *	On-NoKey, On-MultipleFrom, On-SignatureError) and the OpenDKIM
 *	migration rows Mode and RequireSafeKeys, all txmilter's (txmilter-unsubd
 *	reads the KeyTable, SigningTable and shorthand too: the signing
 *	domains are its stream labels), with their defaults and the rule
 *	that SignHeaders includes "from".
 *
 * DIAGNOSTICS
 *	"file:line: SignHeaders must include "from"".
 */
#include <stdlib.h>

#include "conf_int.h"
#include "util.h"

const char *const conf_default_sign_headers[] = {
    "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
    "mime-version", "content-type", "content-transfer-encoding", "content-id",
    "content-description", "resent-date", "resent-from", "resent-sender",
    "resent-to", "resent-cc", "resent-message-id", "in-reply-to", "references",
    "list-id", "list-help", "list-unsubscribe", "list-subscribe", "list-post",
    "list-owner", "list-archive", "list-unsubscribe-post", "feedback-id", NULL,
};

const char *const conf_default_oversign_headers[] = {
    "from", "to", "cc", "subject", "reply-to", "date", "message-id",
    "content-type", "list-unsubscribe", "list-unsubscribe-post", "feedback-id", NULL,
};

static const CONF_DIR conf_sign_dirs[] = {
    {"KeyTable", CONF_M | CONF_U, conf_parse_str, CONF_OFF(sign.keytable), 0, 0},
    {"SigningTable", CONF_M | CONF_U, conf_parse_str, CONF_OFF(sign.signingtable), 0, 0},
    {"Domain", CONF_M | CONF_U, conf_parse_str, CONF_OFF(sign.domain), 0, 0},
    {"Selector", CONF_M | CONF_U, conf_parse_str, CONF_OFF(sign.selector), 0, 0},
    {"KeyFile", CONF_M | CONF_U, conf_parse_str, CONF_OFF(sign.keyfile), 0, 0},
    {"Signing", CONF_M, conf_parse_bool, CONF_OFF(sign.signing), 0, 0},
    {"SubDomains", CONF_M, conf_parse_bool, CONF_OFF(sign.subdomains), 0, 0},
    {"MultipleSignatures", CONF_M, conf_parse_bool, CONF_OFF(sign.multiple_signatures), 0, 0},
    {"Canonicalization", CONF_M, conf_parse_canon, 0, 0, 0},
    {"SignHeaders", CONF_M, conf_parse_headers, CONF_OFF(sign.sign_headers), 0, 0},
    {"OversignHeaders", CONF_M, conf_parse_headers, CONF_OFF(sign.oversign_headers), 0, 0},
    {"On-NoKey", CONF_M, conf_parse_action, CONF_OFF(sign.on_nokey), 0,
        CONF_ACT_BIT(CONF_ACT_ACCEPT) | CONF_ACT_BIT(CONF_ACT_TEMPFAIL)},
    {"On-MultipleFrom", CONF_M, conf_parse_action, CONF_OFF(sign.on_multifrom), 0,
        CONF_ACT_BIT(CONF_ACT_ACCEPT) | CONF_ACT_BIT(CONF_ACT_TEMPFAIL)
        | CONF_ACT_BIT(CONF_ACT_REJECT)},
    {"On-SignatureError", CONF_M, conf_parse_action, CONF_OFF(sign.on_sigerr), 0,
        CONF_ACT_BIT(CONF_ACT_ACCEPT) | CONF_ACT_BIT(CONF_ACT_TEMPFAIL)
        | CONF_ACT_BIT(CONF_ACT_REJECT)},
    /* OpenDKIM migration */
    {"Mode", CONF_M, conf_parse_mode, 0, 0, 0},
    {"RequireSafeKeys", CONF_M, conf_parse_safekeys, 0, 0, 0},
};

/* conf_sign_defaults - what an empty file gives */
static void conf_sign_defaults(TXCONF *cf)
{
    CONF_SIGN *p = &cf->sign;
    size_t  i;

    p->signing = 1;
    p->hdr_canon = CONF_CANON_RELAXED;
    p->body_canon = CONF_CANON_RELAXED;
    strv_init(&p->sign_headers);
    for (i = 0; conf_default_sign_headers[i]; i++)
        strv_add(&p->sign_headers, conf_default_sign_headers[i]);
    strv_init(&p->oversign_headers);
    for (i = 0; conf_default_oversign_headers[i]; i++)
        strv_add(&p->oversign_headers, conf_default_oversign_headers[i]);
    p->on_nokey = CONF_ACT_ACCEPT;
    p->on_sigerr = CONF_ACT_TEMPFAIL;
    p->on_multifrom = CONF_ACT_REJECT;
}

/* conf_sign_release - free the part's strings */
static void conf_sign_release(TXCONF *cf)
{
    CONF_SIGN *p = &cf->sign;

    free(p->keytable);
    free(p->signingtable);
    free(p->domain);
    free(p->selector);
    free(p->keyfile);
    strv_free(&p->sign_headers);
    strv_free(&p->oversign_headers);
}

/* conf_sign_check - SignHeaders includes "from" */
static int conf_sign_check(TXCONF *cf, unsigned prog, BUF *errs)
{
    if ((prog & CONF_M) && !strv_contains_ci(&cf->sign.sign_headers, "from")) {
        util_err_at(errs, cf->path, conf_line(cf, "SignHeaders"),
                    "SignHeaders must include \"from\" (RFC 6376 5.4)");
        return -1;
    }
    return 0;
}

const CONF_PART conf_sign_part = {
    conf_sign_dirs, CONF_NELEM(conf_sign_dirs),
    conf_sign_defaults, conf_sign_release, conf_sign_check,
};

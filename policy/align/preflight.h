/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preflight.h - the alignment preflight of one outbound message: will
 * receivers find it aligned under DMARC (SPF of the envelope sender from
 * every EgressAddress, DKIM with the domains we sign with, the published
 * keys matching ours)? Called by the pipeline (msg.c) once the From field and the keys
 * are known (end of header).
 */
#ifndef TX_PREFLIGHT_H
#define TX_PREFLIGHT_H

#include <stddef.h>

#include "align.h"
#include "conf.h"
#include "keys.h"

/* One signature txmilter will add. */
typedef struct preflight_sig {
    const char     *domain;     /* d= */
    const char     *selector;   /* s= */
    const KEYS_KEY *key;
} PREFLIGHT_SIG;

typedef struct preflight_msg {
    const char *qid;
    const char *from_domain;    /* RFC5322.From domain, lowercase, no trailing dot */
    const char *mail_from;      /* RFC5321.MailFrom as given ("<a@b>" or "<>") */
    const char *helo;           /* HELO/EHLO name, "" if unknown */
    const PREFLIGHT_SIG *sig;
    size_t      nsig;
    const DNS_RESOLVER *dns;    /* asked for DMARC records and DKIM keys; NULL: dns_resolver() */
} PREFLIGHT_MSG;

/* preflight_check - run the preflight; never blocks longer than the DNS
 * timeouts; DNS trouble is never a pass. Does nothing (ALIGN_DELIVER, an
 * empty summary) unless EgressAddress or AlignmentAction is configured. */
void preflight_check(const TXCONF *cf, const PREFLIGHT_MSG *in, ALIGN_OUTCOME *out);

/* preflight_init - the daemon, before its threads start: the resolver,
 * the public suffix list and the SPF server, if the preflight is on
 * (otherwise nothing: no DNS traffic). -1 after logging why. */
int preflight_init(const TXCONF *cf);

/* preflight_start - the same whatever the configuration says (txmilterctl
 * dns-check); -1 with messages in errs. */
int preflight_start(const TXCONF *cf, BUF *errs);

/* preflight_shutdown - release all of it (at exit) */
void preflight_shutdown(void);

/* preflight_config_check - for snapshot_build(): the files the preflight
 * needs can be read; changes that need a restart are logged. -1 with
 * "file:line: message" lines in errs. */
int preflight_config_check(const TXCONF *cf, BUF *errs);

#endif

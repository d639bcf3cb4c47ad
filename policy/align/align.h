/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * align.h - the DMARC alignment verdict of one message from the facts
 * the preflight gathered (policy, signatures and their published keys,
 * SPF from each egress address), and what AlignmentAction makes of it.
 * Pure logic: no DNS, no clock.
 */
#ifndef TX_ALIGN_H
#define TX_ALIGN_H

#include "conf.h"
#include "dmarc_check.h"
#include "keycheck.h"
#include "spf_check.h"

#define ALIGN_MAX_SIG    8
#define ALIGN_MAX_EGRESS 16

typedef struct align_sig {
    char        domain[ORGDOMAIN_MAX];  /* d= */
    char        selector[128];          /* s= */
    KEYCHECK_STATUS key;                /* is the published key ours? */
    char        key_why[300];
} ALIGN_SIG;

typedef struct align_spf {
    char        ip[64];                 /* an EgressAddress */
    SPF_CHECK_RESULT result;
    char        why[400];
} ALIGN_SPF;

typedef enum align_spf_state {
    ALIGN_SPF_CHECKED = 0,
    ALIGN_SPF_NO_EGRESS,                /* EgressAddress not set: SPF not evaluated */
    ALIGN_SPF_NO_DOMAIN,                /* no MAIL FROM domain nor HELO name */
    ALIGN_SPF_UNALIGNED,                /* the identity does not align: not evaluated */
} ALIGN_SPF_STATE;

typedef struct align_facts {
    DMARC_CHECK dmarc;
    size_t      nsig;
    ALIGN_SIG   sig[ALIGN_MAX_SIG];
    ALIGN_SPF_STATE spf_state;
    char        spf_domain[ORGDOMAIN_MAX];  /* MAIL FROM domain, or HELO for <> */
    int         spf_is_helo;
    size_t      nspf;
    ALIGN_SPF   spf[ALIGN_MAX_EGRESS];
    /* RFC 9989: alignment by tree walk, found by the preflight (DNS)
     * rather than from the public suffix list here */
    int         walked;
    int         sig_aligned[ALIGN_MAX_SIG];
    int         spf_aligned;
} ALIGN_FACTS;

/* Whether the message is refused, and why (the pipeline words the reply). */
typedef enum align_refusal {
    ALIGN_DELIVER = 0,          /* not refused (quarantine says whether it is held) */
    ALIGN_REFUSE_REJECT,        /* alignment fails, AlignmentAction reject */
    ALIGN_REFUSE_TEMPFAIL,      /* alignment fails, AlignmentAction tempfail */
    ALIGN_REFUSE_DNS,           /* cannot be checked now (reasons: the DNS trouble), On-DNSError tempfail */
    ALIGN_REFUSE_NO_DNS,        /* no resolver, On-DNSError tempfail */
} ALIGN_REFUSAL;

#define ALIGN_REASONS_MAX 440   /* bytes of reasons, and of a refusal's whole text: within an SMTP reply line */

/* What the verdict makes of the message under AlignmentAction. */
typedef struct align_outcome {
    ALIGN_REFUSAL refuse;
    int         quarantine;     /* AlignmentAction quarantine applies */
    char        domain[ORGDOMAIN_MAX];  /* refused: the From domain */
    char        policy_tag[4];  /* ALIGN_REFUSE_REJECT, _TEMPFAIL: "p" or "sp" */
    char        policy[16];     /* the same: the policy receivers apply */
    char        reasons[ALIGN_REASONS_MAX];  /* refused: why, briefly */
    char        summary[768];   /* for the message's log line, e.g. "dmarc=pass (dkim aligned: ...)" */
    const char *verdict;        /* "pass", "fail", "none", "temperror"; NULL: no preflight ran */
} ALIGN_OUTCOME;

typedef enum align_verdict { ALIGN_PASS = 0, ALIGN_FAIL, ALIGN_NONE, ALIGN_TEMPERROR } ALIGN_VERDICT;

typedef struct align_decision {
    ALIGN_VERDICT verdict;
    int         dkim_pass;          /* an aligned signature with our key published */
    int         spf_pass;           /* SPF aligned and pass from every egress address */
    int         warn;               /* worth a warning line (no policy, p=none failure, bad key, log only) */
    char        warning[512];
} ALIGN_DECISION;

/* align_decide - the verdict, its reasons (out->summary) and what it
 * makes of the message (out->refuse, out->quarantine) for the configured
 * action and On-DNSError. */
void align_decide(const ALIGN_FACTS *f, enum conf_align action, enum conf_action on_dnserror,
                  ALIGN_DECISION *d, ALIGN_OUTCOME *out);

/* align_verdict_str - "pass", "fail", "none", "temperror" */
const char *align_verdict_str(ALIGN_VERDICT v);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_bounce.h - the bounce and complaint part of txmilter.conf(5)
 * (cf->bounce): how long a bounce suppresses, Gmail's Feedback-ID, the return path, where
 * feedback reports arrive; rows in
 * conf_bounce_dirs.c.
 */
#ifndef TX_CONF_BOUNCE_H
#define TX_CONF_BOUNCE_H

#include "conf_unsub.h"                 /* CONF_RATESPEC */
#include "util.h"

typedef struct conf_bounce {
    long    suppress_for;       /* BounceSuppressFor seconds, 0 (default): forever */
    CONF_RATESPEC soft_limit;   /* BounceSoftLimit N/period; limit 0 (default): soft bounces never suppress */
    char   *feedback_id;        /* FeedbackID template (%{stream}, %{domain}); NULL: no header */
    char   *return_path;        /* ReturnPath template (%{token}, %{domain}); NULL: envelope kept */
    char   *return_path_exempt; /* ReturnPathExempt dataset: envelope sender address or domain patterns */
    STRV    complaint_addrs;    /* ComplaintAddress: where feedback reports (ARF) arrive, domains lowercased */
} CONF_BOUNCE;

#endif

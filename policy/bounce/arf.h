/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * arf.h - feedback reports (ARF, RFC 5965; RFC 6650) read from a whole
 * message: the feedback type, who reports, and the places in the enclosed
 * original where a token of ours may be (its List-Unsubscribe, its
 * Return-Path, the report's Original-Mail-From).
 */
#ifndef TX_ARF_H
#define TX_ARF_H

#include <stddef.h>

#define ARF_MSG_MAX     (1024 * 1024)   /* bytes of a message arf_parse() reads */
#define ARF_FIELD_MAX   256             /* a report field kept (cut) */
#define ARF_ADDR_MAX    512             /* an address kept; a longer one is dropped */
#define ARF_LU_MAX      1000            /* the List-Unsubscribe value kept (cut) */
#define ARF_URI_MAX     600             /* one URI of it; a longer one is dropped */
#define ARF_URIS_MAX    4               /* URIs of List-Unsubscribe looked at */

/* What the report says happened (Feedback-Type, RFC 5965 7.3, RFC 6430). */
typedef enum arf_type {
    ARF_TYPE_UNKNOWN = 0,       /* a type not registered, or none */
    ARF_TYPE_ABUSE,             /* "this is spam": the recipient complained */
    ARF_TYPE_FRAUD,             /* phishing or another fraud */
    ARF_TYPE_VIRUS,             /* malware in the message */
    ARF_TYPE_OTHER,             /* "other" */
    ARF_TYPE_NOT_SPAM,          /* the recipient took it out of the spam folder */
    ARF_TYPE_OPT_OUT,           /* an unsubscribe request sent as a report */
} ARF_TYPE;

/* Why a message is not a report arf_parse() can use, or ARF_OK. */
typedef enum arf_status {
    ARF_OK = 0,
    ARF_NOT_REPORT,             /* not multipart/report; report-type=feedback-report */
    ARF_NO_FEEDBACK,            /* no message/feedback-report part with a Feedback-Type */
    ARF_NO_ORIGINAL,            /* no message/rfc822 or text/rfc822-headers part */
    ARF_ENCODING,               /* the original in bad base64 or an unknown encoding */
} ARF_STATUS;

typedef struct arf_report {
    ARF_STATUS status;
    ARF_TYPE type;
    char feedback_type[32];             /* as written, lowercased, cut */
    char user_agent[ARF_FIELD_MAX];     /* User-Agent of the report */
    char reporting_mta[ARF_FIELD_MAX];  /* Reporting-MTA's name ("dns; " dropped) */
    char reporter[ARF_FIELD_MAX];       /* the domain of the report's From */
    char arrival_date[64];              /* Arrival-Date (or Received-Date), cut */
    char orig_mail_from[ARF_ADDR_MAX];  /* Original-Mail-From, no angle brackets */
    char return_path[ARF_ADDR_MAX];     /* the original's Return-Path, no angle brackets */
    char list_unsub[ARF_LU_MAX];        /* the original's first List-Unsubscribe, unfolded */
    int  original_base64;               /* the original was base64 (decoded) */
    int  original_qp;                   /* the original was quoted-printable (decoded) */
    int  headers_only;                  /* text/rfc822-headers */
} ARF_REPORT;

/* arf_parse - read msg (len bytes, header and body, CRLF or LF) as a
 * feedback report. Always fills out; returns out->status. Never reads
 * past len (at most ARF_MSG_MAX bytes). */
ARF_STATUS arf_parse(const char *msg, size_t len, ARF_REPORT *out);

/* arf_uris - the URIs between angle brackets in a List-Unsubscribe value
 * (at most max, each cut-free into ARF_URI_MAX bytes; longer ones skipped);
 * the number found */
size_t arf_uris(const char *value, char uris[][ARF_URI_MAX], size_t max);

/* arf_mailto_addr - the address of a "mailto:addr?query" URI into out
 * (no scheme, no query); 0, or -1 if uri is no mailto or the address is
 * empty or too long */
int arf_mailto_addr(const char *uri, char *out, size_t outlen);

/* arf_type_name - the type's registered name ("abuse", "not-spam", ...; "unknown") */
const char *arf_type_name(ARF_TYPE t);

/* arf_status_text - what is wrong, as a phrase for the log */
const char *arf_status_text(ARF_STATUS s);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dsn.h - delivery status notifications (RFC 3464, RFC 3463 status codes)
 * read from a whole message, and what their status means for the address.
 */
#ifndef TX_DSN_H
#define TX_DSN_H

#include <stddef.h>

#define DSN_STATUS_MAX   16
#define DSN_DIAG_MAX     200
#define DSN_ADDR_MAX     320
#define DSN_MSG_MAX      (1024 * 1024)  /* bytes of a message dsn_parse() reads */
#define DSN_MSGID_MAX    256            /* the enclosed original's Message-ID kept (cut) */

/* What a report says of a recipient, for the suppression list. */
typedef enum dsn_class {
    DSN_CLASS_NONE = 0,         /* not a DSN, or no failure or delay */
    DSN_CLASS_DEAD,             /* permanent: no such mailbox or domain, disabled (suppress) */
    DSN_CLASS_FULL,             /* mailbox full (x.2.2): counted towards BounceSoftLimit */
    DSN_CLASS_POLICY,           /* refused for the message or sender (x.7.x, x.6.x, x.2.3, x.3.4): counted */
    DSN_CLASS_TRANSIENT,        /* delayed, or 4.x.x: counted towards BounceSoftLimit */
    DSN_CLASS_OTHER,            /* another permanent failure: counted towards BounceSoftLimit */
} DSN_CLASS;

typedef struct dsn_result {
    int       is_dsn;                   /* multipart/report; report-type=delivery-status */
    char      action[16];               /* "failed", "delayed", ... of the block used */
    char      status[DSN_STATUS_MAX];   /* "5.1.1" */
    char      diagnostic[DSN_DIAG_MAX]; /* Diagnostic-Code, unfolded, cut */
    char      final_rcpt[DSN_ADDR_MAX]; /* Final-Recipient's address */
    char      orig_msgid[DSN_MSGID_MAX];/* the enclosed original's Message-ID, "<...>"
                                         * without blanks; "" if none */
    DSN_CLASS cls;
} DSN_RESULT;

/* dsn_parse - read msg (len bytes, header and body, CRLF or LF) as a DSN;
 * want_rcpt (may be NULL) picks the per-recipient block of that address
 * (any case), else the first that failed or was delayed. Always fills out;
 * 1 if it is a DSN, 0 if not. Never reads past len. */
int dsn_parse(const char *msg, size_t len, const char *want_rcpt, DSN_RESULT *out);

#define DSN_REPORT_ID_MAX 18            /* "t" and 16 hex digits, NUL */

/* dsn_report_id - the id under which BounceSoftLimit counts a report: one
 * per original message and recipient, from the return-path token the
 * report came back to (any case) and the Message-ID of the original it
 * returns ("" if none), into out (DSN_REPORT_ID_MAX bytes) */
void dsn_report_id(const char *token, const char *orig_msgid, char *out, size_t outlen);

/* dsn_classify - the class of an Action and a Status (RFC 3463) */
DSN_CLASS dsn_classify(const char *action, const char *status);

/* dsn_class_name - "dead", "full", "policy", "transient", "other", "none" */
const char *dsn_class_name(DSN_CLASS c);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg.h - the per-message pipeline, independent of libmilter: decides
 * whether a message is outbound, collects its header, picks keys, streams
 * the body into the signers and says at the end what to add and reply.
 * The milter callbacks and `txmilter -t` both drive it.
 */
#ifndef TX_MSG_H
#define TX_MSG_H

#include <stddef.h>

#include "reply.h"
#include "services.h"
#include "snapshot.h"

/* Facts about the SMTP client, known when the message starts. */
typedef struct msg_conn {
    char addr[64];              /* client IP address text, "" if none */
    char hostname[256];         /* client host name as the MTA reports it */
    char daemon_name[128];      /* {daemon_name} */
    char auth_authen[256];      /* {auth_authen}, "" when not authenticated */
    int  non_smtp;              /* sendmail(1)/pickup: Postfix emulates the SMTP steps */
    char helo[256];             /* HELO/EHLO name, "" if none */
    char relay_name[256];       /* {j}: this MTA's host name (its own HELO outbound) */
    int  has_mail_addr;         /* the MTA sent {mail_addr} for this message */
    char mail_addr[ADDR_NORM_MAX]; /* {mail_addr}: the sender as the MTA read it */
} MSG_CONN;

typedef enum msg_hdrop_kind {
    MSG_HDR_INSERT_TOP,         /* a header field at the very top */
    MSG_HDR_APPEND,             /* a header field after the others */
    MSG_RCPT_DELETE,            /* remove recipient name (value unused) */
    MSG_HDR_DELETE,             /* remove the index-th field called name */
    MSG_FROM_CHANGE,            /* the envelope sender becomes name (an address, no brackets) */
} MSG_HDROP_KIND;

/* A header change for the MTA. value has no leading white space: the MTA
 * (or the callbacks, under SMFIP_HDR_LEADSPC) writes "Name: value". */
typedef struct msg_hdrop {
    MSG_HDROP_KIND kind;
    char *name;
    char *value;
    int   index;                /* MSG_HDR_DELETE: 1 for the first field of that name */
} MSG_HDROP;

typedef struct msg MSG;

/* msg_new - a message from envfrom on; takes its own reference to snap
 * and a copy of svc (NULL: no services), whose stores must outlive it. */
MSG *msg_new(SNAPSHOT *snap, const SERVICES *svc, const MSG_CONN *conn, const char *envfrom);
void msg_free(MSG *m);

void msg_set_queueid(MSG *m, const char *qid);
const char *msg_queueid(const MSG *m);

/* msg_mail - for outbound mail, a sender that cannot be read or
 * normalised (553 5.1.7); else REPLY_CONTINUE */
REPLY msg_mail(MSG *m);

/* msg_set_dry_run - txmilter -t: every decision is made, nothing is
 * recorded: no rate quota is taken, an unsubscribe request by mail is
 * reported instead of stored. Call before the first msg_rcpt(). */
void msg_set_dry_run(MSG *m);

/* msg_rcpt - one recipient at RCPT, rcpt as given and rcpt_addr as the
 * MTA read it ({rcpt_addr}; NULL when it did not say): counted against
 * the rate policy. REPLY_CONTINUE accepts it; REPLY_TEMPFAIL or REPLY_REJECT
 * refuse this recipient only (the message goes on for the others); an
 * outbound recipient that cannot be normalised gets 550 5.1.3. In a dry
 * run a REPLY_CONTINUE reply may carry a text: what would have been
 * recorded. */
REPLY msg_rcpt(MSG *m, const char *rcpt, const char *rcpt_addr);

/* msg_quarantine - after msg_eom(): the reason to put the message in the
 * hold queue, or NULL */
const char *msg_quarantine(const MSG *m);

/* msg_watched - 1 if a message that is not outbound must still be
 * followed: unsubscribe requests may arrive by mail (UnsubscribeMailto) */
int msg_watched(const MSG *m);

/* msg_complaint - 1 if the message (not outbound) goes to a ComplaintAddress:
 * it is read to its end as a feedback report (msg_arf.c) */
int msg_complaint(const MSG *m);

/* msg_bounce_report - 1 if the message (not outbound) goes to a ReturnPath
 * address: it is read to its end as a bounce (msg_bounce.c) */
int msg_bounce_report(const MSG *m);

/* msg_outbound - 1 if the message is to be processed; why names the reason
 * either way ("internal client 127.0.0.1", "authenticated as u", ...). */
int msg_outbound(const MSG *m, const char **why);

/* msg_header - one header field; value exactly as received, including its
 * leading white space and LF between folded lines. */
REPLY msg_header(MSG *m, const char *name, const char *value);

REPLY msg_eoh(MSG *m);
REPLY msg_body(MSG *m, const unsigned char *data, size_t len);
REPLY msg_eom(MSG *m);

/* msg_wants_body - 0 when the body does not matter (nothing to sign) */
int msg_wants_body(const MSG *m);

/* msg_hdrops - the header changes to apply at end of message */
size_t msg_hdrops(const MSG *m, const MSG_HDROP **ops);

/* msg_applied - after msg_eom() returned REPLY_CONTINUE and the MTA took
 * the changes: counts what became of the message (once) */
void msg_applied(MSG *m);

/* msg_unapplied - the MTA refused a change the message cannot go without
 * (a field to add): the 451 4.3.0 to give, counted as tempfailed under
 * refusal reason "unapplied"; msg_applied() then counts nothing */
REPLY msg_unapplied(MSG *m);

/* msg_summary - the one-line summary of what happened (for the log) */
const char *msg_summary(MSG *m);

#endif

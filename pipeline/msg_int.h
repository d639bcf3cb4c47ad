/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_int.h - the inside of a message, shared by msg.c (the pipeline) and
 * the modules that extend it (msg_unsub.c). Nothing outside pipeline/msg*.c
 * includes this; everyone else uses msg.h.
 */
#ifndef TX_MSG_INT_H
#define TX_MSG_INT_H

#include "hdr.h"
#include "keytable.h"
#include "msg.h"
#include "rate_txn.h"
#include "sign.h"
#include "util.h"

#define MSG_MAX_ADDED   8           /* fields other features may add */
#define MSG_SUMMARY_MAX 4096

typedef struct msg_field {
    char *name;
    char *value;
} MSG_FIELD;

typedef enum msg_state { MSG_ST_HEADERS, MSG_ST_BODY, MSG_ST_DONE } MSG_STATE;

struct msg {
    SNAPSHOT   *snap;
    SERVICES    svc;                /* the program's stores, not owned */
    MSG_CONN    conn;
    char        qid[64];
    char       *envfrom;
    char        sender[ADDR_NORM_MAX];  /* the sender as the MTA (or we) read it */
    char        return_path[512];   /* ReturnPath given to this message, "" if none */
    char       *rp_rcpt;            /* inbound: the return-path recipient (as given), or NULL */
    char        rp_token[256];      /* its token, read back with the ReturnPath template */
    BUF         dsn;                /* inbound to a return path: the body, bounded */
    STRV        arf_rcpts;          /* inbound: the ComplaintAddress recipients (as given) */
    BUF         arf;                /* inbound to a ComplaintAddress: the body, bounded */
    char        sender_bad[256];    /* why it cannot be normalised, "" if it can */
    size_t      nrcpt;
    int         outbound;
    char        why[512];
    MSG_STATE   state;

    MSG_FIELD  *fields;             /* the message's own header fields */
    size_t      nfields, capfields;
    size_t      header_bytes;
    int         header_overflow;
    int         long_line;          /* a header line over 998 bytes */
    int         nfrom;
    char       *from_value;

    MSG_FIELD   added[MSG_MAX_ADDED];
    size_t      nadded;

    HDR_ADDR    author;             /* the From mailbox */
    SIGN_SET   *signers;
    KEYTABLE_PICK picks[SIGN_MAX];
    size_t      npicks;
    int         sign_failed;

    MSG_HDROP  *ops;                /* header and recipient changes at the end */
    size_t      nops, capops;

    RATE_TXN   *rate;               /* rate limits of this transaction, or NULL */
    STRV        rcpt_given;         /* accepted recipients as the client wrote them */
    STRV        rcpt_norm;          /* the same, normalised */
    RL_SUP     *rcpt_sup;           /* the same: suppressions fetched with the rate decision */
    STRV        rcpt_bad;           /* non-SMTP: cannot be normalised, removed at the end */
    STRV        unsub_rcpts;        /* unsubscribe requests by mail (as given) */
    int         watched;            /* not outbound, but UnsubscribeMailto is set */
    unsigned char *field_dropped;   /* per own field: removed (UnsubscribeExisting replace) */
    int         preflight_hold;     /* AlignmentAction quarantine */
    int         dry_run;            /* txmilter -t: decide, record nothing */
    int         counted;            /* its action is counted (msg_count.c) */

    BUF         summary;            /* what the log line says */
    BUF         err;
};


/* msg_note - append to the summary line */
void msg_note(MSG *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* msg_refuse - a refusal, also noted in the summary and counted under
 * reason (msg_count_refusal()); the message is done */
REPLY msg_refuse(MSG *m, const char *reason, REPLY r);

/* msg_count.c: the counters (see there) */
void msg_count_action(MSG *m, const char *action);
void msg_count_refusal(MSG *m, const char *reason);
void msg_count_rate(MSG *m);
void msg_count_signatures(MSG *m);
void msg_count_sig_error(MSG *m);
void msg_count_preflight(MSG *m, const char *verdict);
void msg_count_bounce(MSG *m, const char *cls);
void msg_count_suppression(MSG *m, const char *reason);
void msg_count_complaint(MSG *m, const char *result);
double msg_stage_begin(const MSG *m);
void msg_stage_end(MSG *m, const char *stage, double t0);
const char *msg_count_domain(const MSG *m, const char *domain);

/* msg_op - a header or recipient change for the end of the message */
void msg_op(MSG *m, MSG_HDROP_KIND kind, const char *name, const char *value);

/* msg_op_delete - remove the index-th field called name (from 1) */
void msg_op_delete(MSG *m, const char *name, int index);

/* msg_add_field - a field txmilter adds, fed to the signers after the
 * message's own (callable until the signers start, inside msg_eoh()) */
void msg_add_field(MSG *m, const char *name, const char *value);

/* msg_unsub.c: an unsubscribe request by mail at RCPT (1 recorded, or in
 * a dry run described in would, 0 not one, -1 could not be stored);
 * suppressions and List-Unsubscribe at the end of the header */
int msg_unsub_rcpt(MSG *m, const char *rcpt, char *would, size_t wouldlen);
REPLY msg_unsub_eoh(MSG *m);
void msg_bounce_eoh(MSG *m);
void msg_bounce_return_path(MSG *m);
int msg_bounce_rcpt(MSG *m, const char *rcpt);
void msg_bounce_body(MSG *m, const unsigned char *data, size_t len);
int msg_bounce_eom(MSG *m, REPLY *r);

/* msg_arf.c: feedback reports to a ComplaintAddress (see there) */
int msg_arf_rcpt(MSG *m, const char *rcpt);
void msg_arf_body(MSG *m, const unsigned char *data, size_t len);
int msg_arf_eom(MSG *m, REPLY *r);

#endif

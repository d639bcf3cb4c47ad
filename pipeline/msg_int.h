/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_int.h - the inside of a message: the message-wide core every step
 * reads, and one member per feature, each owned by its step (msg_sign.h,
 * msg_align.h, msg_rate.h, msg_unsub.h, msg_bounce.h, msg_arf.h declare
 * them). msg.c composes the steps. Nothing outside pipeline/msg*.c includes this;
 * everyone else uses msg.h.
 */
#ifndef TX_MSG_INT_H
#define TX_MSG_INT_H

#include "hdr.h"
#include "msg.h"
#include "msg_align.h"
#include "msg_arf.h"
#include "msg_bounce.h"
#include "msg_rate.h"
#include "msg_sign.h"
#include "msg_unsub.h"
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
    char        sender_bad[256];    /* why it cannot be normalised, "" if it can */
    size_t      nrcpt;
    int         outbound;
    int         watched;            /* not outbound, but mail to us may come (msg_watched()) */
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
    int         added_closed;       /* the signers have the header: no more fields */

    HDR_ADDR    author;             /* the From mailbox */

    MSG_HDROP  *ops;                /* header and recipient changes at the end */
    size_t      nops, capops;

    STRV        rcpt_given;         /* accepted recipients as the client wrote them */
    STRV        rcpt_norm;          /* the same, normalised */
    int         dry_run;            /* txmilter -t: decide, record nothing */
    int         counted;            /* its action is counted (msg_count.c) */
    const char *action;             /* at msg_eom(), counted by msg_applied() */

    BUF         summary;            /* what the log line says */
    BUF         err;

    /* each feature's own state: only its step reads or writes it */
    MSG_SIGN    sign;               /* msg_sign.c */
    MSG_ALIGN   align;              /* msg_align.c */
    MSG_RATE    rate;               /* msg_rate.c */
    MSG_UNSUB   unsub;              /* msg_unsub.c */
    MSG_BOUNCE  bounce;             /* msg_bounce.c */
    MSG_ARF     arf;                /* msg_arf.c */
};


/* msg_note - append to the summary line */
void msg_note(MSG *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* msg_refuse - a refusal, also noted in the summary and counted under
 * reason (msg_count_refusal()); the message is done */
REPLY msg_refuse(MSG *m, const char *reason, REPLY r);

/* msg_count.c: the counters (see there) */
void msg_count_action(MSG *m, const char *action);
void msg_count_refusal(MSG *m, const char *reason);
void msg_count_rate(MSG *m, const RATE_TXN *txn);
void msg_count_signatures(MSG *m, const SIGN_SET *signers);
void msg_count_sig_error(MSG *m, const KEYTABLE_PICK *picks, size_t npicks);
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

/* msg_add_field - a field txmilter adds: fed to the signers after the
 * message's own, so the signatures cover it, and appended at the end.
 * Callable until the signers have the header (before msg_eoh() or from
 * a step inside it); -1 when called later, for the MSG_MAX_ADDED+1st
 * field, or with a bad field name or a value with a line break that
 * does not fold */
int msg_add_field(MSG *m, const char *name, const char *value);

#endif

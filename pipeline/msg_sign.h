/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_sign.h - the signing step of a message (msg_sign.c): its state and
 * its calls. Private to pipeline/, like msg_int.h.
 */
#ifndef TX_MSG_SIGN_H
#define TX_MSG_SIGN_H

#include <stddef.h>

#include "keytable.h"
#include "msg.h"
#include "sign.h"

/* What the signing step keeps of one message. */
typedef struct msg_sign {
    SIGN_SET   *signers;            /* one signature per usable key, or NULL */
    KEYTABLE_PICK picks[SIGN_MAX];  /* the keys the From address picked */
    size_t      npicks;
} MSG_SIGN;

void msg_sign_init(MSG *m);
void msg_sign_free(MSG *m);

/* msg_sign_start - at end of header: keys picked and signers started;
 * On-NoKey and On-SignatureError decide a refusal */
REPLY msg_sign_start(MSG *m);

/* msg_sign_header - every field, own then added, into the signers (the
 * last step of msg_eoh()) */
REPLY msg_sign_header(MSG *m);

/* msg_sign_body - a body chunk into the signers */
REPLY msg_sign_body(MSG *m, const unsigned char *data, size_t len);

/* msg_sign_eom - the signatures finished, DKIM-Signature fields listed at
 * the top and counted */
REPLY msg_sign_eom(MSG *m);

/* msg_sign_active - 1 while the message is being signed */
int msg_sign_active(const MSG *m);

/* msg_sign_signers - the signatures being made (their keys), or NULL */
const SIGN_SET *msg_sign_signers(const MSG *m);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_unsub.h - the List-Unsubscribe step of a message (msg_unsub.c):
 * requests by mail, suppressions, the header. Private to pipeline/, like
 * msg_int.h.
 */
#ifndef TX_MSG_UNSUB_H
#define TX_MSG_UNSUB_H

#include <stddef.h>

#include "msg.h"
#include "util.h"

/* What the unsubscribe step keeps of one message. */
typedef struct msg_unsub {
    STRV        rcpts;              /* unsubscribe requests by mail (as given) */
    unsigned char *field_dropped;   /* per own field: removed (UnsubscribeExisting replace) */
} MSG_UNSUB;

void msg_unsub_init(MSG *m);
void msg_unsub_free(MSG *m);

/* msg_unsub_rcpt - an unsubscribe request by mail at RCPT (1 recorded,
 * or in a dry run described in would, 0 not one, -1 could not be stored) */
int msg_unsub_rcpt(MSG *m, const char *rcpt, char *would, size_t wouldlen);

/* msg_unsub_eoh - suppressions and List-Unsubscribe at the end of the header */
REPLY msg_unsub_eoh(MSG *m);

/* msg_unsub_eom - the requests leave the message: 1 when that ends it (*r) */
int msg_unsub_eom(MSG *m, REPLY *r);

/* msg_unsub_requests - how many recipients were requests by mail */
size_t msg_unsub_requests(const MSG *m);

/* msg_unsub_dropped - 1 if the message's own field i is replaced */
int msg_unsub_dropped(const MSG *m, size_t i);

#endif

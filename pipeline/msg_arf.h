/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_arf.h - the complaint step of a message (msg_arf.c): feedback
 * reports to a ComplaintAddress. Private to pipeline/, like msg_int.h.
 */
#ifndef TX_MSG_ARF_H
#define TX_MSG_ARF_H

#include <stddef.h>

#include "msg.h"
#include "util.h"

/* What the complaint step keeps of one message. */
typedef struct msg_arf {
    STRV        rcpts;              /* inbound: the ComplaintAddress recipients (as given) */
    BUF         body;               /* inbound to a ComplaintAddress: the body, bounded */
} MSG_ARF;

void msg_arf_init(MSG *m);
void msg_arf_free(MSG *m);
int msg_arf_rcpt(MSG *m, const char *rcpt);
void msg_arf_body(MSG *m, const unsigned char *data, size_t len);
int msg_arf_eom(MSG *m, REPLY *r);

#endif

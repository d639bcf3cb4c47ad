/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_align.h - the alignment preflight step of a message (msg_align.c):
 * its state and its calls. Private to pipeline/, like msg_int.h.
 */
#ifndef TX_MSG_ALIGN_H
#define TX_MSG_ALIGN_H

#include "msg.h"

/* What the preflight step keeps of one message. */
typedef struct msg_align {
    int         hold;               /* AlignmentAction quarantine */
} MSG_ALIGN;

void msg_align_init(MSG *m);

/* msg_align_preflight - the preflight's verdict: refused, held or delivered */
REPLY msg_align_preflight(MSG *m);

/* msg_align_quarantine - why the preflight holds the message, or NULL */
const char *msg_align_quarantine(const MSG *m);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_bounce.h - the bounce step of a message (msg_bounce.c): Feedback-ID,
 * the return path, bounces read back. Private to pipeline/, like
 * msg_int.h.
 */
#ifndef TX_MSG_BOUNCE_H
#define TX_MSG_BOUNCE_H

#include <stddef.h>

#include "msg.h"
#include "util.h"

/* What the bounce step keeps of one message. */
typedef struct msg_bounce {
    char        return_path[512];   /* ReturnPath given to this message, "" if none */
    char       *rcpt;               /* inbound: the return-path recipient (as given), or NULL */
    char        token[256];         /* its token, read back with the ReturnPath template */
    BUF         dsn;                /* inbound to a return path: the body, bounded */
} MSG_BOUNCE;

void msg_bounce_init(MSG *m);
void msg_bounce_free(MSG *m);
void msg_bounce_eoh(MSG *m);
void msg_bounce_return_path(MSG *m);
int msg_bounce_rcpt(MSG *m, const char *rcpt);
void msg_bounce_body(MSG *m, const unsigned char *data, size_t len);
int msg_bounce_eom(MSG *m, REPLY *r);

/* msg_bounce_mail_from - the return path given to the message, or NULL */
const char *msg_bounce_mail_from(const MSG *m);

#endif

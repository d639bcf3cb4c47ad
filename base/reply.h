/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reply.h - the one reply type of txmilter: what a step of the pipeline
 * answers the MTA, with an SMTP reply code, an enhanced status code and a
 * text when it refuses.
 */
#ifndef TX_REPLY_H
#define TX_REPLY_H

typedef enum reply_verdict {
    REPLY_CONTINUE = 0,         /* go on */
    REPLY_ACCEPT,               /* not ours: pass the message untouched */
    REPLY_TEMPFAIL,             /* refuse for now: reply holds the text */
    REPLY_REJECT,               /* refuse for good: reply holds the text */
    REPLY_DISCARD,              /* accept and drop (an unsubscribe request by mail) */
} REPLY_VERDICT;

typedef struct reply {
    REPLY_VERDICT verdict;
    char rcode[4];              /* "451", "550" */
    char xcode[12];             /* "4.3.5" */
    char text[512];
} REPLY;

/* reply_make - a reply; NULL rcode, xcode or text leave them empty, and
 * each is truncated to its field */
REPLY reply_make(REPLY_VERDICT v, const char *rcode, const char *xcode, const char *text);

/* reply_continue - REPLY_CONTINUE with nothing to say */
REPLY reply_continue(void);

#endif

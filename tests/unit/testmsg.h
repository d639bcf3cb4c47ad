/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testmsg.h - fixtures of the unit tests that drive the pipeline through
 * msg_* (testmsg.c): a scratch directory holding th_signing_files(),
 * snapshots on it, an empty SQLite suppression list in it and services
 * holding that list, and one outbound message taken through end of
 * message.
 */
#ifndef TX_TESTMSG_H
#define TX_TESTMSG_H

#include "msg.h"
#include "services.h"
#include "snapshot.h"
#include "suppress.h"

/* th_msg_dir - the scratch directory of th_msg_setup() */
extern char th_msg_dir[];

/* th_msg_setup, th_msg_teardown - group fixtures: th_msg_dir made and
 * given th_signing_files() (-1 if it cannot be made); removed */
int th_msg_setup(void **state);
int th_msg_teardown(void **state);

/* th_msg_snapshot - th_tables_snapshot() of th_msg_dir with InternalHosts
 * 127.0.0.1, its unsubscribe key and DataDirectory, then lines and extra */
SNAPSHOT *th_msg_snapshot(const char *lines, const char *extra);

/* th_msg_list - an empty suppression list (SQLite) in th_msg_dir; the
 * test fails, saying why, if it cannot be opened */
SUPPRESS *th_msg_list(void);

/* th_msg_services - services_init(), with th_msg_list() as the list */
void th_msg_services(SERVICES *svc);

/* What an outbound message got. */
typedef struct th_sent {
    REPLY verdict;                  /* of msg_eoh(), or else of msg_eom() */
    char  lu[1024];                 /* the List-Unsubscribe appended, or "" */
    char  rp[600];                  /* the envelope sender it was given, or "" */
} TH_SENT;

/* th_msg_outbound - one message from stream (envelope and From) to rcpt,
 * from 127.0.0.1, through end of message */
TH_SENT th_msg_outbound(SNAPSHOT *s, SERVICES *svc, const char *stream, const char *rcpt);

#endif

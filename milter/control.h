/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control.h - the control socket txmilterctl talks to: rate state of the
 * running daemon (whatever its store), policy explanations, statistics.
 */
#ifndef TX_CONTROL_H
#define TX_CONTROL_H

#include <sys/types.h>

#include "services.h"

/* control_open - listen on path (a stale socket is replaced) with that
 * mode, owned by uid:gid ((uid_t) -1, (gid_t) -1: the caller's own).
 * -1 with a log line on failure (nothing is left at path then). */
int control_open(const char *path, uid_t uid, gid_t gid, mode_t mode);

/* control_start - serve requests in a thread of its own, against svc's
 * stores (copied; they must outlive control_stop()) */
int control_start(const SERVICES *svc);

/* control_stop - stop serving and remove the socket */
void control_stop(void);

/* The other end of a connection, by its credentials (-1: unknown). */
typedef struct control_peer {
    long uid, pid;
    long self_uid;              /* the daemon's own uid */
} CONTROL_PEER;

/* control_handle - answer one request line of peer into out against the
 * stores of svc (for tests and the thread); the last line is "OK" or "ERR reason". A request that
 * changes state from a peer that is neither root nor self_uid (or NULL)
 * gets "ERR permission denied: ..." and is logged. */
struct buf;
void control_handle(const SERVICES *svc, const char *request, const CONTROL_PEER *peer,
                    struct buf *out);

#endif

/*
 * control.h - the control socket txmilterctl talks to: rate state of the
 * running daemon (whatever its store), policy explanations, statistics.
 */
#ifndef TX_CONTROL_H
#define TX_CONTROL_H

#include <sys/types.h>

/* control_open - listen on path (a stale socket is replaced), owned by
 * uid:gid when chown_it, mode 0660. -1 with a log line on failure. */
int control_open(const char *path, int chown_it, uid_t uid, gid_t gid);

/* control_start - serve requests in a thread of its own */
int control_start(void);

/* control_stop - stop serving and remove the socket */
void control_stop(void);

/* control_handle - answer one request line into out (for tests and the
 * thread); the last line is "OK" or "ERR reason". */
struct buf;
void control_handle(const char *request, struct buf *out);

#endif

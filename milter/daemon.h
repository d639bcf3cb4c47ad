/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.h - run txmilter as a milter daemon.
 */
#ifndef TX_DAEMON_H
#define TX_DAEMON_H

/* daemon_run - load the configuration at path, open the socket, drop
 * privileges and serve until SIGTERM. Returns the process exit status. */
int daemon_run(const char *path, int foreground);

#endif

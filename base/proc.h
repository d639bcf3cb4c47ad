/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc.h - process set-up shared by txmilter and txmilter-unsubd: the
 * UserID to run as, dropping privileges for good, detaching, the PidFile.
 */
#ifndef TX_PROC_H
#define TX_PROC_H

#include <sys/types.h>

/* proc_user - look up "user" or "user:group"; -1 after logging why.
 * *name is the user part (malloc'd). */
int proc_user(const char *spec, uid_t *uid, gid_t *gid, char **name);

/* proc_group - look up a group name; -1 after logging why (what names
 * the directive it came from). */
int proc_group(const char *what, const char *name, gid_t *gid);

/* proc_drop - become uid/gid with name's supplementary groups, for good;
 * -1 after logging why (also when root could be regained) */
int proc_drop(uid_t uid, gid_t gid, const char *name);

/* proc_detach - fork, setsid, fork, chdir /, standard files on /dev/null */
int proc_detach(void);

/* proc_pidfile - write our pid to path (chowned to uid:gid if chown_it) */
int proc_pidfile(const char *path, uid_t uid, gid_t gid, int chown_it);

#endif

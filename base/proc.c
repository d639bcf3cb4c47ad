/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc.c - process set-up for the daemons.
 *
 * SYNOPSIS
 *	#include "proc.h"
 *
 *	int	proc_user(const char *spec, uid_t *uid, gid_t *gid,
 *			char **name)
 *	int	proc_group(const char *what, const char *name, gid_t *gid)
 *	int	proc_drop(uid_t uid, gid_t gid, const char *name)
 *	int	proc_detach(void)
 *	int	proc_pidfile(const char *path, uid_t uid, gid_t gid,
 *			int chown_it)
 *
 * DESCRIPTION
 *	proc_user() resolves UserID before anything is opened, so a typo
 *	stops the start with a clear message; proc_group() does the same
 *	for a group name. proc_drop() sets the groups,
 *	then the gid, then the uid, and checks that root cannot be regained.
 *	proc_detach() is the classic double fork. proc_pidfile() writes the
 *	PidFile without following a symbolic link.
 *
 *	Every failure is logged (log.h) and returned as -1.
 *
 * DIAGNOSTICS
 *	Every failure is logged (log.h) with the name or path and
 *	strerror(), and returned as -1.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "util.h"

/* proc_user - look up UserID ("user" or "user:group") */
int proc_user(const char *spec, uid_t *uid, gid_t *gid, char **name)
{
    char *copy = xstrdup(spec), *colon = strchr(copy, ':');
    struct passwd *pw;

    if (colon)
        *colon++ = 0;
    if ((pw = getpwnam(copy)) == NULL) {
        log_err("UserID %s: no such user", copy);
        free(copy);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    if (colon) {
        struct group *gr = getgrnam(colon);

        if (gr == NULL) {
            log_err("UserID %s: no such group %s", spec, colon);
            free(copy);
            return -1;
        }
        *gid = gr->gr_gid;
    }
    *name = xstrdup(copy);
    free(copy);
    return 0;
}

/* proc_group - look up a group name (what: the directive, for the log) */
int proc_group(const char *what, const char *name, gid_t *gid)
{
    struct group *gr = getgrnam(name);

    if (gr == NULL) {
        log_err("%s %s: no such group", what, name);
        return -1;
    }
    *gid = gr->gr_gid;
    return 0;
}

/* proc_drop - become uid/gid for good */
int proc_drop(uid_t uid, gid_t gid, const char *name)
{
    if (initgroups(name, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
        log_err("cannot change to user %s: %s", name, strerror(errno));
        return -1;
    }
    if (uid != 0 && setuid(0) == 0) {
        log_err("privileges could be regained after dropping them to %s", name);
        return -1;
    }
    return 0;
}

/* proc_detach - the usual fork, setsid, fork */
int proc_detach(void)
{
    pid_t pid;
    int fd;

    if ((pid = fork()) < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    if ((pid = fork()) < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -1;
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        (void) dup2(fd, 0);
        (void) dup2(fd, 1);
        (void) dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return 0;
}

/* proc_pidfile - write our pid */
int proc_pidfile(const char *path, uid_t uid, gid_t gid, int chown_it)
{
    FILE *fp;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

    if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
        log_err("PidFile %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (chown_it && fchown(fd, uid, gid) < 0)
        log_warn("PidFile %s: cannot chown: %s", path, strerror(errno));
    fprintf(fp, "%ld\n", (long) getpid());
    if (fclose(fp) != 0) {
        log_err("PidFile %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}


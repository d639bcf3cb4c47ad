/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * offline.h - txmilter -t: the whole pipeline on a message file, offline,
 * printing every decision and the resulting header.
 */
#ifndef TX_OFFLINE_H
#define TX_OFFLINE_H

#include <stdio.h>

#include "util.h"

typedef struct offline_opts {
    const char *conf;
    const char *message;        /* path, or "-" for standard input */
    const char *envfrom;
    STRV        rcpts;
    const char *client;         /* client address, default 127.0.0.1 */
    const char *hostname;       /* client host name, default localhost */
    const char *auth;           /* SASL login, default none */
    const char *daemon_name;    /* {daemon_name}, default none */
} OFFLINE_OPTS;

/* offline_run - 0 when the message would be accepted, 3 when refused,
 * 1 on an error (configuration, unreadable message). */
int offline_run(const OFFLINE_OPTS *o, FILE *out);

#endif

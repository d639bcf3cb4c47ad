/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_suppress.h - txmilterctl's suppress commands: list, add, remove,
 * export the suppression list of the configured Store.
 */
#ifndef TX_CTL_SUPPRESS_H
#define TX_CTL_SUPPRESS_H

/* ctl_suppress_main - argv[0] is "suppress"; returns the exit status
 * (see ctl_suppress.c) */
int ctl_suppress_main(const char *config, int argc, char **argv);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * version.h - txmilter -V: our version and what the linked libraries are.
 */
#ifndef TX_VERSION_H
#define TX_VERSION_H

#include <stdio.h>

void version_print(FILE *fp);

#endif

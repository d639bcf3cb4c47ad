/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt.h - formatting into fixed-size buffers where truncation is meant:
 * diagnostics built from DNS names and records of any length.
 */
#ifndef TX_FMT_H
#define TX_FMT_H

#include <stddef.h>

/* fmt_trunc - snprintf() that may cut the text short (always terminated;
 * nothing is written when size is 0); returns buf. */
char *fmt_trunc(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

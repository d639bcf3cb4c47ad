/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fmt.c - bounded formatting
 *
 * SYNOPSIS
 *	#include "fmt.h"
 *
 *	char	*fmt_trunc(char *buf, size_t size, const char *fmt, ...)
 *
 * DESCRIPTION
 *	fmt_trunc() formats like snprintf() into buf, cutting the result at
 *	size - 1 bytes. It is for messages for operators, where a cut text is
 *	acceptable and an overflow is not; the compiler's truncation warnings
 *	do not apply to it by design.
 *
 * DIAGNOSTICS
 *	None: fmt_trunc() truncates to the buffer and never fails.
 */
#include <stdarg.h>
#include <stdio.h>

#include "fmt.h"

char *fmt_trunc(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (size == 0)
        return buf;
    va_start(ap, fmt);
    (void) vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return buf;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * return_path.h - the ReturnPath template: the envelope sender txmilter
 * gives single-recipient outbound mail, e.g. bounces+%{token}@bounce.%{domain},
 * and the token read back from an address a bounce was sent to.
 */
#ifndef TX_RETURN_PATH_H
#define TX_RETURN_PATH_H

#include <stddef.h>

#include "util.h"

#define RETURN_PATH_MAX 512         /* bytes of an address, NUL included */

/* return_path_check - 0 if tmpl has exactly one %{token}, in its local
 * part, %{domain} at most in its domain, and nothing else a mailbox may
 * not hold; else -1 with the reason appended to err */
int return_path_check(const char *tmpl, BUF *err);

/* return_path_expand - the address for token and the From domain into
 * out (lowercase domain); 0, or -1 if it does not fit */
int return_path_expand(const char *tmpl, const char *token, const char *domain, char *out,
                       size_t outlen);

/* return_path_token - 1 with the token of addr (a recipient, any case, no
 * angle brackets) into token if addr has the template's form for some
 * From domain, 0 if not */
int return_path_token(const char *tmpl, const char *addr, char *token, size_t tokenlen);

#endif

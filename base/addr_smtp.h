/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr_smtp.h - the address in a MAIL FROM or RCPT TO argument, read the
 * way Postfix's SMTP server reads it (strict_rfc821_envelopes = no), for
 * when the MTA does not tell us ({rcpt_addr}, {mail_addr}).
 */
#ifndef TX_ADDR_SMTP_H
#define TX_ADDR_SMTP_H

#include <stddef.h>

#include "addr_norm.h"
#include "util.h"

/* addr_smtp_extract - the address in arg ("<victim(3)@gmail.com>") in
 * the quoted form the MTA's macros use ("victim@gmail.com") into out.
 * Returns 0 ("" for "<>"), or -1 with a reason in err. */
int addr_smtp_extract(const char *arg, char *out, size_t outlen, BUF *err);

/* addr_smtp_norm - normalise the address the MTA parsed (parsed, NULL when
 * the MTA did not say) or else the one in the raw argument arg: into
 * addr the plain address (for logs, replies and token matching) and into
 * norm its normal form (addr_norm()). Returns 0 or -1 with a reason (addr
 * still holds the reading when only the normalisation failed). */
int addr_smtp_norm(const char *parsed, const char *arg, const ADDR_NORM_OPTS *o, char *addr,
                   char *norm, BUF *err);

/* addr_smtp_bare - arg as the client wrote it, without one pair of <>
 * (for reply texts), cut to fit in size bytes */
void addr_smtp_bare(const char *arg, char *out, size_t size);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_check.h - what txmilter -n checks beyond parsing: warnings about a
 * configuration that works but is likely not meant, and what would only
 * fail at run time (after the privilege drop, on reload, on the network).
 */
#ifndef TX_CONF_CHECK_H
#define TX_CONF_CHECK_H

#include "snapshot.h"
#include "util.h"

/* conf_check_warnings - append one "file:line: warning: message\n" per
 * finding to warns: OpenDKIM directives ignored, an open signer
 * (InternalHosts 0.0.0.0/0 or ::/0), a socket on every interface, '*' in
 * a flat SigningTable. snap may be incomplete (snapshot_build_all()). */
void conf_check_warnings(const SNAPSHOT *snap, BUF *warns);

/* conf_check_log_warnings - log_warn() each of those lines */
void conf_check_log_warnings(const SNAPSHOT *snap);

/* conf_check_runtime - what the daemon would only find later: UserID
 * exists, every file it reads on reload is readable by that user,
 * DataDirectory is a directory it can write (errors, "file:line: message\n"
 * in errs, -1); Redis and the resolver answer within bounded timeouts
 * (warnings in warns). */
int conf_check_runtime(const SNAPSHOT *snap, BUF *errs, BUF *warns);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_migrate.h - what txmilter makes of the opendkim.conf(5) directives
 * it has no row for: accepted (txmilter always does what the value says),
 * ignored with a warning (it only concerns verifying), or refused with a
 * hint that says what to write instead.
 */
#ifndef TX_CONF_MIGRATE_H
#define TX_CONF_MIGRATE_H

#include <stddef.h>

#include "util.h"

enum conf_migrate {
    CONF_MIGRATE_UNKNOWN = 0,   /* not an OpenDKIM directive */
    CONF_MIGRATE_SAME,          /* accepted: txmilter always behaves so */
    CONF_MIGRATE_IGNORED,       /* accepted with the warning in msg */
    CONF_MIGRATE_REFUSED        /* an error, msg says what to do instead */
};

/* conf_migrate_check - the verdict for OpenDKIM directive name set to
 * value; the warning or error text is appended to msg. */
enum conf_migrate conf_migrate_check(const char *name, const char *value, BUF *msg);

#endif

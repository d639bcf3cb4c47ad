/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_policy.h - the rate policy file (RateLimitPolicy): one rule per line,
 *
 *	name  key[,key...]  N/period  action  [option ...]
 *
 * e.g. "rcpt-burst rcpt 3/10m tempfail" or
 *      "tenant-rcpt rcpt,sender_domain 10/1h tempfail shadow".
 * Keys: rcpt, rcpt_domain, sender, sender_domain, client_ip[/v4len[/v6len]],
 * auth, global. Periods: a positive integer and s|m|h|d|w. Actions:
 * tempfail (451 4.7.1), reject (550 5.7.1), quarantine (Postfix hold
 * queue), shadow (log and count only). Options: "shadow" (count and log,
 * never refuse, whatever the action), "exempt-rcpt=PATTERN[,PATTERN]"
 * (wildcards as in dataset_wildmatch, matched on the normalised
 * recipient), "exempt-sender=PATTERN[,...]", "exempt-client=NET[,NET]"
 * (addresses or CIDR), "exempt-auth=LOGIN[,LOGIN]".
 * '#' comments and blank lines; errors are "file:line: message".
 * Names: 1 to 63 of [A-Za-z0-9_.-]; N: 1 to 10,000,000; periods: 1s to
 * 366d; "global" is the whole relay and takes no other key; client_ip/24
 * keys IPv4 clients by /24 (IPv6 by /128 unless given: client_ip/24/64).
 */
#ifndef TX_RATE_POLICY_H
#define TX_RATE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "netlist.h"
#include "util.h"

#define RATE_RULE_NAME_MAX    64
#define RATE_POLICY_RULES_MAX 256       /* rules in one policy file */

/* Key parts, in the fixed order they appear in a rate key. */
enum rate_key_part {
    RATE_KEY_RCPT = 1u << 0,
    RATE_KEY_RCPT_DOMAIN = 1u << 1,
    RATE_KEY_SENDER = 1u << 2,
    RATE_KEY_SENDER_DOMAIN = 1u << 3,
    RATE_KEY_CLIENT_IP = 1u << 4,
    RATE_KEY_AUTH = 1u << 5,
    RATE_KEY_GLOBAL = 1u << 6,
};

typedef enum rate_action {
    RATE_ACTION_TEMPFAIL = 0,
    RATE_ACTION_REJECT,
    RATE_ACTION_QUARANTINE,
    RATE_ACTION_SHADOW,
} RATE_ACTION;

typedef struct rate_rule {
    char        name[RATE_RULE_NAME_MAX];
    unsigned    keys;           /* RATE_KEY_* bits */
    int         v4len, v6len;   /* client_ip prefix lengths (32 and 128 by default) */
    uint32_t    limit;          /* N: 1 .. 10,000,000 */
    uint64_t    period_ms;      /* 1 s .. 366 d */
    RATE_ACTION action;
    int         shadow;         /* the "shadow" option, or action shadow */
    STRV        exempt_rcpt;    /* wildcard patterns */
    STRV        exempt_sender;
    NETLIST    *exempt_client;  /* NULL: none */
    STRV        exempt_client_list; /* its entries as written (rate_policy_describe) */
    STRV        exempt_auth;
    char       *file;
    int         line;
} RATE_RULE;

typedef struct rate_policy {
    RATE_RULE *rule;
    size_t     n;
    char      *path;
} RATE_POLICY;

/* rate_policy_load - NULL with "file:line: message\n" lines in errs. A rule
 * name may appear once; at most 256 rules. */
RATE_POLICY *rate_policy_load(const char *path, BUF *errs);
void rate_policy_free(RATE_POLICY *p);

/* rate_policy_describe - "rcpt,sender_domain 10/1h tempfail shadow" (for logs
 * and txmilterctl policy lint), into buf. */
const char *rate_policy_describe(const RATE_RULE *r, char *buf, size_t len);

#endif

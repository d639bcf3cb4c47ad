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
#ifndef TX_RL_POLICY_H
#define TX_RL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "netlist.h"
#include "util.h"

#define RL_NAME_MAX 64
#define RL_RULES_MAX 256        /* rules in one policy file */

/* Key parts, in the fixed order they appear in a rate key. */
enum rl_keypart {
    RL_KEY_RCPT = 1u << 0,
    RL_KEY_RCPT_DOMAIN = 1u << 1,
    RL_KEY_SENDER = 1u << 2,
    RL_KEY_SENDER_DOMAIN = 1u << 3,
    RL_KEY_CLIENT_IP = 1u << 4,
    RL_KEY_AUTH = 1u << 5,
    RL_KEY_GLOBAL = 1u << 6,
};

typedef enum rl_action {
    RL_ACT_TEMPFAIL = 0,
    RL_ACT_REJECT,
    RL_ACT_QUARANTINE,
    RL_ACT_SHADOW,
} RL_ACTION;

typedef struct rl_rule {
    char      name[RL_NAME_MAX];
    unsigned  keys;             /* RL_KEY_* bits */
    int       v4len, v6len;     /* client_ip prefix lengths (32 and 128 by default) */
    uint32_t  limit;            /* N: 1 .. 10,000,000 */
    uint64_t  period_ms;        /* 1 s .. 366 d */
    RL_ACTION action;
    int       shadow;           /* the "shadow" option, or action shadow */
    STRV      exempt_rcpt;      /* wildcard patterns */
    STRV      exempt_sender;
    NETLIST  *exempt_client;    /* NULL: none */
    STRV      exempt_client_list; /* its entries as written (rl_policy_describe) */
    STRV      exempt_auth;
    char     *file;
    int       line;
} RL_RULE;

typedef struct rate_policy {
    RL_RULE *rule;
    size_t   n;
    char    *path;
} RL_POLICY;

/* rl_policy_load - NULL with "file:line: message\n" lines in errs. A rule
 * name may appear once; at most 256 rules. */
RL_POLICY *rl_policy_load(const char *path, BUF *errs);
void rl_policy_free(RL_POLICY *p);

/* rl_policy_describe - "rcpt,sender_domain 10/1h tempfail shadow" (for logs
 * and txmilterctl policy lint), into buf. */
const char *rl_policy_describe(const RL_RULE *r, char *buf, size_t len);

#endif

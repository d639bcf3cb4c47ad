/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netlist.h - InternalHosts: a list of IPv4/IPv6 addresses and CIDR
 * networks, and host names, with OpenDKIM's "!" negation.
 *
 * Matching follows OpenDKIM: the most specific entry wins; a negated entry
 * ("!10.1.2.0/24") excludes what a broader positive entry includes. Host
 * names match the client's host name as Postfix reports it, exactly or,
 * for ".example.com", any name below it; never a bracketed "[192.0.2.1]".
 * A matching name entry decides before any address entry (an exact name
 * before ".parent", a longer ".parent" before a shorter); on a tie the
 * negated entry wins. IPv4-mapped IPv6 addresses count as IPv4, and the
 * entry "localhost" also stands for 127.0.0.0/8 and ::1.
 */
#ifndef TX_NETLIST_H
#define TX_NETLIST_H

#include <sys/socket.h>

#include "util.h"

typedef struct netlist NETLIST;

/* netlist_build - from a dataset spec (see dataset.h). NULL on error, with
 * "file:line: message\n" appended to errs. */
NETLIST *netlist_build(const char *spec, const char *where, BUF *errs);

/* netlist_match - 1 if the client is in the list. sa may be NULL (no
 * address, e.g. a unix-domain client); hostname may be NULL. */
int netlist_match(const NETLIST *nl, const struct sockaddr *sa, const char *hostname);

/* netlist_match_str - the same for a textual address ("192.0.2.1", "::1"). */
int netlist_match_str(const NETLIST *nl, const char *addr, const char *hostname);

void netlist_free(NETLIST *nl);

#endif

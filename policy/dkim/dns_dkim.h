/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns_dkim.h - libopendkim's DNS hooks on txmilter's resolver (dns.c), so
 * that libopendkim never starts a resolver of its own.
 */
#ifndef TX_DNS_DKIM_H
#define TX_DNS_DKIM_H

#include <opendkim/dkim.h>

/* dns_dkim_hooks - make lib query through dns.c */
void dns_dkim_hooks(DKIM_LIB *lib);

#endif

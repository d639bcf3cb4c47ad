/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_dns.h - txmilterctl's DNS commands: dns-check and genkey.
 */
#ifndef TX_CTL_DNS_H
#define TX_CTL_DNS_H

#include <stddef.h>

#include "util.h"

/* ctl_dns_main - argv[0] is "dns-check" or "genkey"; returns the exit
 * status (see ctl_dns.c). */
int ctl_dns_main(const char *config, int argc, char **argv);

/* ctl_dns_txt_rdata - value as zone-file TXT rdata: quoted strings of at
 * most 255 bytes each ('"' and '\' escaped). -1 if out is too small. */
int ctl_dns_txt_rdata(const char *value, BUF *out);

/* ctl_dns_spf_fix - the SPF record to publish: record (NULL: none yet)
 * with an ip4:/ip6: term for each address of missing[] added after
 * "v=spf1"; a new record ends in "-all". -1 if out is too small. */
int ctl_dns_spf_fix(const char *record, const char *const *missing, size_t nmissing, BUF *out);

#endif

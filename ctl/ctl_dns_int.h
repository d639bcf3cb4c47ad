/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_dns_int.h - what dns-check's modules share (ctl_dns.c, ctl_rpath.c):
 * the report being printed, its rows, the records to publish, the SPF
 * check. Not an interface for other commands.
 */
#ifndef TX_CTL_DNS_INT_H
#define TX_CTL_DNS_INT_H

#include "conf.h"
#include "util.h"

/* A row's status; the exit status follows from the worst (ctl_dns.c). */
#define CTL_OK      0
#define CTL_WARN    1
#define CTL_FAIL    2
#define CTL_DNSERR  3

typedef struct ctl_report {
    int     worst_fail, dns_errors;
    int     ndns;                       /* DNSERR rows so far */
    BUF     publish;                    /* records to publish */
} CTL_REPORT;

/* ctl_dns_row - print one table row (domain, check, status, detail) */
void ctl_dns_row(CTL_REPORT *r, const char *domain, const char *check, int status,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ctl_dns_publish - "name. IN TXT rdata" with a comment, to publish */
void ctl_dns_publish(CTL_REPORT *r, const char *name, const char *value, const char *comment);

/* ctl_dns_spf - SPF of domain for every EgressAddress (rows, and the
 * record to publish when it fails); 1 if it passes for all */
int ctl_dns_spf(CTL_REPORT *r, const TXCONF *cf, const char *domain);

/* ctl_rpath_check - ctl_rpath.c: the return path of From domain */
void ctl_rpath_check(CTL_REPORT *r, const TXCONF *cf, const char *domain, STRV *done);

#endif

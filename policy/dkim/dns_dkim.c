/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns_dkim.c - libopendkim DNS hooks over dns.c
 *
 * SYNOPSIS
 *	#include "dns_dkim.h"
 *
 *	void	dns_dkim_hooks(DKIM_LIB *lib)
 *
 * DESCRIPTION
 *	Signing needs no DNS, but a DKIM_LIB left with its defaults would
 *	lazily run res_ninit() with /etc/resolv.conf (and one shared,
 *	unlocked res_state) the first time anything asked it for a key.
 *	These hooks route every such query through the process's resolver
 *	instead: query_start() resolves at once (with DNSTimeout) and keeps
 *	the raw wire-format answer, which is what libopendkim parses;
 *	waitreply() hands it over; cancel() frees the handle. A query that
 *	got no answer at all reports DKIM_DNS_ERROR.
 *
 * DIAGNOSTICS
 *	A query that fails, temporarily or for want of any answer, is
 *	DKIM_DNS_ERROR to libopendkim.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <unbound.h>

#include "dns.h"
#include "dns_dkim.h"
#include "util.h"

typedef struct dns_dkim_query {
    int     ok;                 /* an answer packet was copied */
    size_t  len;
} DNS_DKIM_QUERY;

static int dns_dkim_service;    /* the non-NULL service handle libopendkim wants */

/* dns_dkim_start - resolve now, copy the answer into buf */
static int dns_dkim_start(void *srv, int type, unsigned char *name, unsigned char *buf, size_t buflen,
                          void **qh)
{
    DNS_DKIM_QUERY *q = xcalloc(1, sizeof(*q));
    DNS_STATUS st;
    struct ub_result *res;

    (void) srv;
    /* libopendkim learns only that there is no answer: no reason to keep */
    res = dns_resolve_raw((const char *) name, type, &st, NULL);
    if (res && st != DNS_TEMPFAIL && res->answer_packet && res->answer_len > 0) {
        q->len = (size_t) res->answer_len < buflen ? (size_t) res->answer_len : buflen;
        memcpy(buf, res->answer_packet, q->len);
        q->ok = 1;
    }
    if (res)
        ub_resolve_free(res);
    *qh = q;
    return 0;
}

/* dns_dkim_wait - the answer is there already, or never will be */
static int dns_dkim_wait(void *srv, void *qh, struct timeval *timeout, size_t *bytes, int *error,
                         int *dnssec)
{
    DNS_DKIM_QUERY *q = qh;

    (void) srv;
    (void) timeout;
    if (dnssec)
        *dnssec = DKIM_DNSSEC_UNKNOWN;
    if (!q->ok) {
        if (error)
            *error = 0;
        return DKIM_DNS_ERROR;
    }
    if (bytes)
        *bytes = q->len;
    return DKIM_DNS_SUCCESS;
}

/* dns_dkim_cancel - called once per query, also after it completed */
static int dns_dkim_cancel(void *srv, void *qh)
{
    (void) srv;
    free(qh);
    return 0;
}

/* dns_dkim_init, dns_dkim_close - nothing to start or stop: dns.c owns it */
static int dns_dkim_init(void **srv)
{
    *srv = &dns_dkim_service;
    return 0;
}

static void dns_dkim_close(void *srv)
{
    (void) srv;
}

void dns_dkim_hooks(DKIM_LIB *lib)
{
    (void) dkim_dns_set_query_service(lib, &dns_dkim_service);
    dkim_dns_set_query_start(lib, dns_dkim_start);
    dkim_dns_set_query_waitreply(lib, dns_dkim_wait);
    dkim_dns_set_query_cancel(lib, dns_dkim_cancel);
    dkim_dns_set_init(lib, dns_dkim_init);
    dkim_dns_set_close(lib, dns_dkim_close);
}

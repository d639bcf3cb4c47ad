/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns_spf.c - libspf2 DNS layer over dns.c
 *
 * SYNOPSIS
 *	#include "dns_spf.h"
 *
 *	SPF_dns_server_t *dns_spf_layer_new(DNS_SPF_COUNT_FN count)
 *	void	dns_spf_layer_free(SPF_dns_server_t *layer)
 *	void	dns_spf_trace_begin(void)
 *	const DNS_SPF_TRACE *dns_spf_trace(void)
 *
 * DESCRIPTION
 *	lookup() asks dns_resolve_raw() and turns the wire-format answer
 *	(libunbound's answer_packet, parsed with ns_initparse()) into an
 *	SPF_dns_rr_t: TXT strings concatenated, A/AAAA copied, MX and PTR
 *	names expanded. NXDOMAIN becomes HOST_NOT_FOUND, no data NO_DATA,
 *	any temporary failure TRY_AGAIN (so libspf2 says temperror). The
 *	obsolete SPF RR type (99, RFC 7208 3.1) is never asked for.
 *
 *	get_spf() finds and compiles a domain's SPF record as libspf2's own
 *	SPF_server_get_record() does, and then guards against libspf2's
 *	silent truncation: past 511 bytes of compiled mechanisms
 *	(SPF_MAX_MECH_LEN) SPF_c_mech_add() fails and spf_compile.c drops
 *	the error, so the remaining mechanisms, "-all" included, vanish and
 *	a record of 70 ip4 terms evaluates as neutral. When the compiled
 *	record holds fewer mechanisms than the text (counted by the function
 *	given to dns_spf_layer_new()), the record is refused
 *	(permerror) and the trace says why.
 *
 *	The trace (per thread) records temporary failures, the truncation,
 *	the smallest TTL seen and the number of queries.
 *
 * DIAGNOSTICS
 *	Temporary DNS failures and truncated records are recorded in the
 *	calling thread's trace (dns_spf_trace()) with the reason; libspf2
 *	sees TRY_AGAIN or a permerror.
 */
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unbound.h>

#include "dns.h"
#include "fmt.h"
#include "dns_spf.h"
#include "util.h"

#ifndef ns_t_spf
#define ns_t_spf 99
#endif

static _Thread_local DNS_SPF_TRACE dns_spf_cur;
static DNS_SPF_COUNT_FN dns_spf_count;    /* set before the SPF server exists */

void dns_spf_trace_begin(void)
{
    memset(&dns_spf_cur, 0, sizeof(dns_spf_cur));
    dns_spf_cur.min_ttl = 86400;
}

const DNS_SPF_TRACE *dns_spf_trace(void)
{
    return &dns_spf_cur;
}

/* dns_spf_rr_text - a TXT record's strings, concatenated, into rr slot i */
static int dns_spf_rr_text(SPF_dns_rr_t *rr, int i, const unsigned char *d, size_t len)
{
    size_t o = 0, k = 0;
    char *dst;

    if (SPF_dns_rr_buf_realloc(rr, i, len + 1) != SPF_E_SUCCESS)
        return -1;
    dst = rr->rr[i]->txt;
    while (k < len) {
        size_t n = d[k++];

        if (n > len - k)
            n = len - k;
        for (size_t j = 0; j < n; j++)
            dst[o++] = d[k + j] ? (char) d[k + j] : '?';
        k += n;
    }
    dst[o] = 0;
    return 0;
}

/* dns_spf_fill - the records of the packet's answer section */
static void dns_spf_fill(SPF_dns_rr_t *rr, const struct ub_result *res, ns_type type)
{
    ns_msg msg;
    ns_rr one;
    int count = 0;
    const unsigned char *eom;

    if (ns_initparse(res->answer_packet, res->answer_len, &msg) < 0)
        goto none;
    eom = ns_msg_base(msg) + ns_msg_size(msg);
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        const unsigned char *d;
        size_t len;

        if (ns_parserr(&msg, ns_s_an, i, &one) < 0)
            break;
        if (ns_rr_type(one) != type)
            continue;                       /* CNAMEs on the way */
        d = ns_rr_rdata(one);
        len = ns_rr_rdlen(one);
        switch (type) {
        case ns_t_txt:
            if (dns_spf_rr_text(rr, count, d, len) < 0)
                goto done;
            break;
        case ns_t_a:
        case ns_t_aaaa:
            if (len != (type == ns_t_a ? 4u : 16u))
                continue;
            if (SPF_dns_rr_buf_realloc(rr, count, len) != SPF_E_SUCCESS)
                goto done;
            memcpy(type == ns_t_a ? (void *) &rr->rr[count]->a : (void *) &rr->rr[count]->aaaa, d, len);
            break;
        case ns_t_mx:
        case ns_t_ptr:
            if (type == ns_t_mx) {
                if (len < 3)
                    continue;
                d += 2;                     /* preference */
            }
            if (SPF_dns_rr_buf_realloc(rr, count, NS_MAXDNAME + 1) != SPF_E_SUCCESS)
                goto done;
            if (dn_expand(ns_msg_base(msg), eom, d, rr->rr[count]->mx, NS_MAXDNAME) < 0)
                continue;
            break;
        default:
            continue;
        }
        count++;
    }
done:
    rr->num_rr = count;
    if (count > 0)
        return;
none:
    rr->herrno = NO_DATA;
}

/* dns_spf_lookup - SPF_dns_lookup_t on dns_resolve_raw() */
static SPF_dns_rr_t *dns_spf_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
                                    int should_cache)
{
    DNS_STATUS st;
    char why_mem[160];
    struct ub_result *res;
    SPF_dns_rr_t *rr;
    BUF why;

    (void) should_cache;                    /* libunbound caches */
    if (type == ns_t_spf)
        return SPF_dns_rr_new_init(srv, domain, type, 0, NO_DATA);
    dns_spf_cur.queries++;
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    res = dns_resolve_raw(domain, type, &st, &why);
    if (res && res->ttl >= 0 && (unsigned) res->ttl < dns_spf_cur.min_ttl)
        dns_spf_cur.min_ttl = (unsigned) res->ttl;
    switch (st) {
    case DNS_OK:
        rr = SPF_dns_rr_new_init(srv, domain, type, res->ttl, NETDB_SUCCESS);
        if (rr)
            dns_spf_fill(rr, res, type);
        break;
    case DNS_NXDOMAIN:
        rr = SPF_dns_rr_new_init(srv, domain, type, res ? res->ttl : 0, HOST_NOT_FOUND);
        break;
    case DNS_NODATA:
        rr = SPF_dns_rr_new_init(srv, domain, type, res ? res->ttl : 0, NO_DATA);
        break;
    default:
        if (!dns_spf_cur.tempfail) {
            dns_spf_cur.tempfail = 1;
            fmt_trunc(dns_spf_cur.why, sizeof(dns_spf_cur.why), "%s: %s", domain, why.data);
        }
        rr = SPF_dns_rr_new_init(srv, domain, type, 0, TRY_AGAIN);
        break;
    }
    if (res)
        ub_resolve_free(res);
    return rr;
}

/* dns_spf_fail - end get_spf with a result and an error */
static SPF_errcode_t dns_spf_fail(SPF_response_t *resp, SPF_result_t result, SPF_errcode_t code,
                                  const char *text)
{
    resp->result = result;
    resp->reason = SPF_REASON_FAILURE;
    return SPF_response_add_error(resp, code, "%s", text);
}

/* dns_spf_get_spf - SPF_server_get_record() with the truncation check */
static SPF_errcode_t dns_spf_get_spf(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
                                     SPF_record_t **recp)
{
    const char *domain = req->cur_dom;
    char text[600];
    SPF_dns_rr_t *rr;
    SPF_errcode_t err;
    int found = 0, idx = 0, want;

    *recp = NULL;
    rr = dns_spf_lookup(server->resolver, domain, ns_t_txt, 1);
    if (rr == NULL)
        return dns_spf_fail(resp, SPF_RESULT_TEMPERROR, SPF_E_NO_MEMORY, "out of memory");
    switch (rr->herrno) {
    case NETDB_SUCCESS:
        break;
    case TRY_AGAIN:
        snprintf(text, sizeof(text), "Temporary DNS failure for '%s'.", domain);
        SPF_dns_rr_free(rr);
        return dns_spf_fail(resp, SPF_RESULT_TEMPERROR, SPF_E_DNS_ERROR, text);
    default:
        snprintf(text, sizeof(text), "No SPF record for '%s'.", domain);
        SPF_dns_rr_free(rr);
        return dns_spf_fail(resp, SPF_RESULT_NONE, SPF_E_NOT_SPF, text);
    }
    for (int i = 0; i < rr->num_rr; i++) {
        const char *t = rr->rr[i]->txt;

        if (strncasecmp(t, SPF_VER_STR, sizeof(SPF_VER_STR) - 1) == 0
            && (t[sizeof(SPF_VER_STR) - 1] == ' ' || t[sizeof(SPF_VER_STR) - 1] == 0)) {
            found++;
            idx = i;
        }
    }
    if (found != 1) {
        snprintf(text, sizeof(text), found ? "Multiple SPF records for '%s'" : "No SPF record for '%s'",
                 domain);
        SPF_dns_rr_free(rr);
        return dns_spf_fail(resp, found ? SPF_RESULT_PERMERROR : SPF_RESULT_NONE,
                            found ? SPF_E_MULTIPLE_RECORDS : SPF_E_NOT_SPF, text);
    }
    err = SPF_record_compile(server, resp, recp, rr->rr[idx]->txt);
    want = dns_spf_count(rr->rr[idx]->txt);
    SPF_dns_rr_free(rr);
    if (err != SPF_E_SUCCESS || *recp == NULL) {
        snprintf(text, sizeof(text), "Failed to compile SPF record for '%s'", domain);
        return dns_spf_fail(resp, SPF_RESULT_PERMERROR, SPF_E_NOT_SPF, text);
    }
    if ((*recp)->num_mech != want) {
        fmt_trunc(dns_spf_cur.truncated, sizeof(dns_spf_cur.truncated),
                 "the SPF record of %s has %d mechanisms but libspf2 keeps only the first %d "
                 "(it silently drops the rest past 511 bytes): split it with include:",
                 domain, want, (*recp)->num_mech);
        SPF_record_free(*recp);
        *recp = NULL;
        return dns_spf_fail(resp, SPF_RESULT_PERMERROR, SPF_E_BIG_MECH, dns_spf_cur.truncated);
    }
    return SPF_E_SUCCESS;
}

/* dns_spf_layer_new - the layer with our lookup and get_spf */
SPF_dns_server_t *dns_spf_layer_new(DNS_SPF_COUNT_FN count)
{
    SPF_dns_server_t *l = xcalloc(1, sizeof(*l));

    dns_spf_count = count;
    l->destroy = NULL;                      /* shared: freed by dns_spf_layer_free() */
    l->lookup = dns_spf_lookup;
    l->get_spf = dns_spf_get_spf;
    l->get_exp = NULL;
    l->add_cache = NULL;
    l->layer_below = NULL;
    l->name = "txmilter-unbound";
    return l;
}

/* dns_spf_layer_free - release the layer */
void dns_spf_layer_free(SPF_dns_server_t *layer)
{
    free(layer);
}

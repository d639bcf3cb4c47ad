/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spf_check.c - SPF of the envelope sender, as a receiver will see it
 *
 * SYNOPSIS
 *	#include "spf_check.h"
 *
 *	int	spf_check_init(BUF *errs)
 *	void	spf_check_host(const char *ip, const char *domain,
 *			const char *helo, SPF_CHECK_OUTCOME *out)
 *	SPF_CHECK_RESULT spf_check_map(int libspf2_result, int tempfail_seen,
 *			int truncated)
 *	int	spf_check_count_mechanisms(const char *record)
 *	int	spf_check_sender_domain(const char *mail_from, const char *helo,
 *			char *out, size_t outlen, int *is_helo)
 *	int	spf_check_count_lookups(DNS_LOOKUP_FN lookup, void *ctx,
 *			const char *domain, int *tempfail, BUF *err)
 *
 * DESCRIPTION
 *	spf_check_init() makes one SPF_server_t for the process on the DNS
 *	layer of dns_spf.c (libspf2's own resolver reads /etc/resolv.conf
 *	through res_ninit() and cannot be pointed at Nameservers). The server
 *	is configured once and then only read, which libspf2 allows from
 *	several threads.
 *
 *	spf_check_host() evaluates check_host() for one IP address and one
 *	domain (RFC 7208 4), with libspf2's limit of 10 DNS-querying terms.
 *	The result is corrected with what the DNS layer saw (spf_check_map()):
 *	libspf2 turns some DNS failures inside mechanisms into "no match",
 *	which must not become a neutral or a fail here; and a record that
 *	libspf2 truncated (more than about 60 mechanisms, see dns_spf.c) is
 *	a permerror with a reason that tells the operator how to fix it,
 *	never the silent neutral libspf2 would give.
 *
 *	spf_check_count_lookups() walks a record and everything it includes
 *	or redirects to without evaluating it, for `txmilterctl dns-check`.
 *	Once the count passes 20 (twice the limit) it follows no more
 *	includes or redirects: the count is then a lower bound, and a tree
 *	of records that include each other several times over (a few
 *	includes per record, ten levels deep: millions of records) is read
 *	at most 20 times, not walked for hours.
 *
 * DIAGNOSTICS
 *	spf_check_init() returns -1 with the reason in errs. DNS trouble
 *	gives SPF_CHECK_TEMPERROR, a truncated or broken record
 *	SPF_CHECK_PERMERROR, each with the reason.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_spf.h"
#include "fmt.h"
#include "log.h"
#include "spf_check.h"

#define SPF_CHECK_MAX_TTL  3600     /* reuse a result at most this long */
#define SPF_CHECK_DEPTH    10       /* include/redirect nesting we follow */
#define SPF_CHECK_FOLLOW   20       /* past this count no include/redirect is followed */

static pthread_mutex_t spf_check_lock = PTHREAD_MUTEX_INITIALIZER;
static SPF_server_t *spf_check_server;
static SPF_dns_server_t *spf_check_layer;

/* The receiving host libspf2 wants for its comments; never shown to anyone. */
#define SPF_CHECK_REC_DOM "txmilter.invalid"

/* spf_check_init - the shared SPF server */
int spf_check_init(BUF *errs)
{
    int rc = 0;

    pthread_mutex_lock(&spf_check_lock);
    if (spf_check_server == NULL) {
        spf_check_layer = dns_spf_layer_new(spf_check_count_mechanisms);
        if ((spf_check_server = SPF_server_new_dns(spf_check_layer, 0)) == NULL) {
            dns_spf_layer_free(spf_check_layer);
            spf_check_layer = NULL;
            buf_printf(errs, "SPF: libspf2 cannot create a server\n");
            rc = -1;
        } else {
            (void) SPF_server_set_rec_dom(spf_check_server, SPF_CHECK_REC_DOM);
        }
    }
    pthread_mutex_unlock(&spf_check_lock);
    return rc;
}

void spf_check_shutdown(void)
{
    pthread_mutex_lock(&spf_check_lock);
    if (spf_check_server)
        SPF_server_free(spf_check_server);
    dns_spf_layer_free(spf_check_layer);
    spf_check_server = NULL;
    spf_check_layer = NULL;
    pthread_mutex_unlock(&spf_check_lock);
}

const char *spf_check_result_str(SPF_CHECK_RESULT r)
{
    static const char *const names[] = {"none", "neutral", "pass", "fail", "softfail",
                                        "temperror", "permerror"};

    return (unsigned) r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

/* spf_check_map - libspf2's result, corrected */
SPF_CHECK_RESULT spf_check_map(int libspf2_result, int tempfail_seen, int truncated)
{
    SPF_CHECK_RESULT r;

    if (truncated)
        return SPF_CHECK_PERMERROR;
    switch (libspf2_result) {
    case SPF_RESULT_PASS: r = SPF_CHECK_PASS; break;
    case SPF_RESULT_FAIL: r = SPF_CHECK_FAIL; break;
    case SPF_RESULT_SOFTFAIL: r = SPF_CHECK_SOFTFAIL; break;
    case SPF_RESULT_NEUTRAL: r = SPF_CHECK_NEUTRAL; break;
    case SPF_RESULT_NONE: r = SPF_CHECK_NONE; break;
    case SPF_RESULT_TEMPERROR: r = SPF_CHECK_TEMPERROR; break;
    case SPF_RESULT_PERMERROR: r = SPF_CHECK_PERMERROR; break;
    default: r = SPF_CHECK_PERMERROR; break;   /* SPF_RESULT_INVALID: a libspf2 bug */
    }
    if (tempfail_seen && r != SPF_CHECK_PASS && r != SPF_CHECK_PERMERROR)
        r = SPF_CHECK_TEMPERROR;
    return r;
}

/* spf_check_is_modifier - name=value before any ':' or '/' */
static int spf_check_is_modifier(const char *t, size_t len)
{
    size_t i = 0;

    if (len == 0 || !isalpha((unsigned char) t[0]))
        return 0;
    while (i < len && (isalnum((unsigned char) t[i]) || t[i] == '-' || t[i] == '_' || t[i] == '.'))
        i++;
    return i < len && t[i] == '=';
}

/* spf_check_count_mechanisms - the terms libspf2 keeps as mechanisms
 * (it stores redirect= among them: dns_spf.c compares the two counts) */
int spf_check_count_mechanisms(const char *record)
{
    const char *p = record;
    int n = 0;

    if (strncasecmp(p, "v=spf1", 6) != 0)
        return 0;
    p += 6;
    for (;;) {
        size_t len;

        p += strspn(p, " ");
        if ((len = strcspn(p, " ")) == 0)
            break;
        if (!spf_check_is_modifier(p, len) || (len >= 9 && strncasecmp(p, "redirect=", 9) == 0))
            n++;
        p += len;
    }
    return n;
}

/* spf_check_sender_domain - the SPF identity's domain */
int spf_check_sender_domain(const char *mail_from, const char *helo, char *out, size_t outlen,
                            int *is_helo)
{
    const char *s = mail_from ? mail_from : "", *at, *end;
    size_t len;

    *is_helo = 0;
    s += strspn(s, " <");
    end = s + strcspn(s, "> ");
    at = NULL;
    for (const char *q = s; q < end; q++)
        if (*q == '@')
            at = q;
    if (at && at + 1 < end) {
        s = at + 1;
        len = (size_t) (end - s);
    } else {
        *is_helo = 1;
        s = helo ? helo : "";
        len = strlen(s);
        if (len && s[0] == '[')             /* an address literal has no SPF */
            return -1;
    }
    if (len && s[len - 1] == '.')
        len--;
    if (len == 0 || len >= outlen)
        return -1;
    memcpy(out, s, len);
    out[len] = 0;
    util_lower(out);
    return 0;
}

/* spf_check_host - check_host() for one address */
void spf_check_host(const char *ip, const char *domain, const char *helo, SPF_CHECK_OUTCOME *out)
{
    SPF_request_t *rq;
    SPF_response_t *resp = NULL;
    const DNS_SPF_TRACE *tr;
    char sender[600];
    int rc;

    memset(out, 0, sizeof(*out));
    out->result = SPF_CHECK_TEMPERROR;
    if (spf_check_server == NULL || (rq = SPF_request_new(spf_check_server)) == NULL) {
        fmt_trunc(out->reason, sizeof(out->reason), "SPF not initialised");
        return;
    }
    rc = strchr(ip, ':') ? SPF_request_set_ipv6_str(rq, ip) : SPF_request_set_ipv4_str(rq, ip);
    snprintf(sender, sizeof(sender), "postmaster@%s", domain);
    if (rc != SPF_E_SUCCESS || SPF_request_set_env_from(rq, sender) != 0) {
        fmt_trunc(out->reason, sizeof(out->reason), "SPF: bad address %s or domain %s", ip, domain);
        out->result = SPF_CHECK_PERMERROR;
        SPF_request_free(rq);
        return;
    }
    (void) SPF_request_set_helo_dom(rq, helo && *helo ? helo : domain);
    dns_spf_trace_begin();
    (void) SPF_request_query_mailfrom(rq, &resp);
    tr = dns_spf_trace();
    if (resp == NULL) {
        fmt_trunc(out->reason, sizeof(out->reason), "SPF: libspf2 gave no response");
        SPF_request_free(rq);
        return;
    }
    out->result = spf_check_map(SPF_response_result(resp), tr->tempfail, tr->truncated[0] != 0);
    out->lookups = resp->num_dns_mech;
    out->ttl = out->result == SPF_CHECK_TEMPERROR ? 0
        : tr->min_ttl > SPF_CHECK_MAX_TTL ? SPF_CHECK_MAX_TTL : tr->min_ttl;
    if (tr->truncated[0]) {
        fmt_trunc(out->reason, sizeof(out->reason), "%s", tr->truncated);
    } else if (out->result == SPF_CHECK_TEMPERROR && tr->tempfail) {
        fmt_trunc(out->reason, sizeof(out->reason), "DNS: %s", tr->why);
    } else if (SPF_response_messages(resp) > 0 && out->result != SPF_CHECK_PASS) {
        fmt_trunc(out->reason, sizeof(out->reason), "%s",
                 SPF_error_message(SPF_response_message(resp, 0)));
    } else {
        /* "domain of X does not designate IP as permitted sender", not the
         * explanation URL meant for the sender */
        const char *c = SPF_response_get_header_comment(resp);
        size_t skip = strlen(SPF_CHECK_REC_DOM ": ");

        /* libspf2 starts the comment with the receiving host's name: ours is a placeholder */
        if (c && strncmp(c, SPF_CHECK_REC_DOM ": ", skip) == 0)
            c += skip;
        fmt_trunc(out->reason, sizeof(out->reason), "%s", c ? c : spf_check_result_str(out->result));
    }
    SPF_response_free(resp);
    SPF_request_free(rq);
}

/* spf_check_find_record - the one v=spf1 record */
int spf_check_find_record(const DNS_ANSWER *ans)
{
    int found = -1;

    if (ans->status != DNS_OK)
        return -1;
    for (size_t i = 0; i < ans->n; i++) {
        const char *t = ans->rec[i];

        if (strncasecmp(t, "v=spf1", 6) == 0 && (t[6] == ' ' || t[6] == 0)) {
            if (found >= 0)
                return -2;
            found = (int) i;
        }
    }
    return found;
}

/* spf_check_walk - count one record's lookups, recursing into includes */
static int spf_check_walk(DNS_LOOKUP_FN lookup, void *ctx, const char *domain, int depth,
                          int *count, int *tempfail, BUF *err)
{
    DNS_ANSWER a;
    char *rec, *p, redirect[300] = "";
    int idx, has_all = 0, rc = 0;

    if (depth > SPF_CHECK_DEPTH)
        return util_err(err, "include/redirect nesting deeper than %d at %s (a loop?)",
                        SPF_CHECK_DEPTH, domain);
    lookup(ctx, domain, 16, &a);
    if (a.status == DNS_TEMPFAIL) {
        *tempfail = 1;
        (void) util_err(err, "%s: %s", domain, a.why);
        dns_answer_free(&a);
        return -1;
    }
    if ((idx = spf_check_find_record(&a)) < 0) {
        (void) util_err(err, idx == -2 ? "%s publishes several SPF records (permerror)"
                        : "%s publishes no SPF record", domain);
        dns_answer_free(&a);
        return -1;
    }
    rec = xstrdup(a.rec[idx]);
    dns_answer_free(&a);
    for (p = rec + 6; rc == 0;) {
        size_t len;
        char term[300], *name, *arg;

        p += strspn(p, " ");
        if ((len = strcspn(p, " ")) == 0)
            break;
        snprintf(term, sizeof(term), "%.*s", (int) (len < sizeof(term) - 1 ? len : sizeof(term) - 1), p);
        p += len;
        if (spf_check_is_modifier(term, strlen(term))) {
            if (strncasecmp(term, "redirect=", 9) == 0) {
                (*count)++;
                util_strlcpy(redirect, term + 9, sizeof(redirect));
            }
            continue;
        }
        name = term + (strchr("+-~?", term[0]) ? 1 : 0);
        arg = name + strcspn(name, ":/");
        if (*arg == ':')
            *arg++ = 0;
        else
            *arg = 0;
        if (strcasecmp(name, "all") == 0) {
            has_all = 1;
        } else if (strcasecmp(name, "include") == 0) {
            (*count)++;
            if (*arg && strchr(arg, '%') == NULL && *count <= SPF_CHECK_FOLLOW)
                rc = spf_check_walk(lookup, ctx, arg, depth + 1, count, tempfail, err);
        } else if (strcasecmp(name, "a") == 0 || strcasecmp(name, "mx") == 0
                   || strcasecmp(name, "ptr") == 0 || strcasecmp(name, "exists") == 0) {
            (*count)++;
        }
    }
    free(rec);
    if (rc == 0 && redirect[0] && !has_all && strchr(redirect, '%') == NULL && *count <= SPF_CHECK_FOLLOW)
        rc = spf_check_walk(lookup, ctx, redirect, depth + 1, count, tempfail, err);
    return rc;
}

/* spf_check_count_lookups - RFC 7208 4.6.4 count of a domain's policy */
int spf_check_count_lookups(DNS_LOOKUP_FN lookup, void *ctx, const char *domain, int *tempfail,
                            BUF *err)
{
    int count = 0;

    *tempfail = 0;
    if (spf_check_walk(lookup, ctx, domain, 0, &count, tempfail, err) < 0)
        return -1;
    return count;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dns_spf.c - unit tests for dns_spf.c, libspf2's DNS layer: how
 * resolver answers (wire-format packets, as libunbound returns them)
 * become libspf2 records (TXT strings joined, A/AAAA/MX/PTR, CNAMEs on
 * the way skipped, malformed records dropped), NXDOMAIN vs NODATA vs
 * SERVFAIL, the trace (queries, smallest TTL, the first temporary
 * failure), and the whole SPF evaluation with a record libspf2 would
 * silently truncate. The resolver is this file's dns_resolve_raw(),
 * answering from a table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>

#include <cmocka.h>
#include <unbound.h>

#include "dns.h"
#include "dns_spf.h"
#include "testutil.h"

/* One record of an answer: type and rdata as text ("10 mx.example.com"
 * for MX, '|' between TXT strings, "hex:..." for raw bytes). */
typedef struct fake_rec {
    int         type;
    const char *rdata;
} FAKE_REC;

typedef struct fake_name {
    const char *name;
    int         type;               /* 0: any type */
    DNS_STATUS  status;
    int         ttl;
    FAKE_REC    rec[4];
} FAKE_NAME;

static const FAKE_NAME *fake_tab;   /* the current case's DNS */
static int fake_asked;              /* dns_resolve_raw() calls */

/* putc8 - one byte */
static void putc8(BUF *b, unsigned v)
{
    unsigned char c = (unsigned char) v;

    buf_append(b, &c, 1);
}

/* put_name - a name as uncompressed labels */
static void put_name(BUF *b, const char *name)
{
    const char *p = name;

    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t) (dot - p) : strlen(p);

        putc8(b, (unsigned) n);
        buf_append(b, p, n);
        p += n + (dot != NULL);
    }
    putc8(b, 0);
}

/* put16 - a 16-bit number, network order */
static void put16(BUF *b, unsigned v)
{
    putc8(b, v >> 8);
    putc8(b, v & 0xff);
}

/* put_rdata - the rdata of r, its length first */
static void put_rdata(BUF *b, const FAKE_REC *r)
{
    BUF db, *d = &db;
    unsigned char addr[16];

    buf_init(d, 65535);
    if (strncmp(r->rdata, "hex:", 4) == 0) {
        for (const char *p = r->rdata + 4; p[0] && p[1]; p += 2) {
            unsigned x;

            sscanf(p, "%2x", &x);
            putc8(d, x);
        }
    } else if (r->type == ns_t_a || r->type == ns_t_aaaa) {
        int af = r->type == ns_t_a ? AF_INET : AF_INET6;

        assert_int_equal(inet_pton(af, r->rdata, addr), 1);
        buf_append(d, addr, af == AF_INET ? 4 : 16);
    } else if (r->type == ns_t_txt) {
        const char *p = r->rdata;

        for (;;) {
            const char *bar = strchr(p, '|');
            size_t n = bar ? (size_t) (bar - p) : strlen(p);

            for (size_t o = 0; o == 0 || o < n; o += 255) {  /* strings of at most 255 */
                size_t k = n - o > 255 ? 255 : n - o;

                putc8(d, (unsigned) k);
                buf_append(d, p + o, k);
            }
            if (!bar)
                break;
            p = bar + 1;
        }
    } else if (r->type == ns_t_mx) {
        char *end;

        put16(d, (unsigned) strtoul(r->rdata, &end, 10));
        put_name(d, end + 1);
    } else {                                /* PTR, CNAME */
        put_name(d, r->rdata);
    }
    put16(b, (unsigned) d->len);
    buf_append(b, d->data, d->len);
    buf_free(d);
}

/* packet - a response to name/type holding the records of f */
static struct ub_result *packet(const char *name, int type, const FAKE_NAME *f)
{
    struct ub_result *res = calloc(1, sizeof(*res));
    BUF bb, *b = &bb;
    int n = 0;

    buf_init(b, 65535);

    while (n < 4 && f && f->rec[n].rdata)
        n++;
    put16(b, 1);
    put16(b, 0x8180);
    put16(b, 1);
    put16(b, (unsigned) n);
    put16(b, 0);
    put16(b, 0);
    put_name(b, name);
    put16(b, (unsigned) type);
    put16(b, 1);
    for (int i = 0; i < n; i++) {
        put16(b, 0xc00c);
        put16(b, (unsigned) f->rec[i].type);
        put16(b, 1);
        put16(b, (unsigned) f->ttl >> 16);
        put16(b, (unsigned) f->ttl & 0xffff);
        put_rdata(b, &f->rec[i]);
    }
    res->answer_len = (int) b->len;
    res->answer_packet = malloc(b->len);
    memcpy(res->answer_packet, b->data, b->len);
    res->ttl = f ? f->ttl : 0;
    buf_free(b);
    return res;
}

/* dns_resolve_raw - the resolver dns_spf.c calls, over fake_tab;
 * unknown names are NXDOMAIN with TTL 600 */
struct ub_result *dns_resolve_raw(const char *name, int rrtype, DNS_STATUS *st, BUF *err)
{
    fake_asked++;
    for (const FAKE_NAME *f = fake_tab; f && f->name; f++) {
        if (strcmp(f->name, name) != 0 || (f->type && f->type != rrtype))
            continue;
        *st = f->status;
        if (f->status == DNS_TEMPFAIL) {
            (void) util_err(err, "SERVFAIL from the DNS server");
            return NULL;
        }
        struct ub_result *res = packet(name, rrtype, f->status == DNS_OK ? f : NULL);

        res->ttl = f->ttl;
        return res;
    }
    *st = DNS_NXDOMAIN;
    struct ub_result *res = packet(name, rrtype, NULL);

    res->ttl = 600;
    return res;
}

/* count_terms - mechanisms of a record's text: terms after v=spf1 that
 * are not modifiers (what spf_check_count_mechanisms() counts) */
static int count_terms(const char *record)
{
    int n = 0;
    const char *p = record + 6;

    while (*p) {
        size_t len;

        p += strspn(p, " ");
        if ((len = strcspn(p, " ")) == 0)
            break;
        if (memchr(p, '=', len) == NULL || memchr(p, ':', len) != NULL)
            n++;
        p += len;
    }
    return n;
}

#define OK DNS_OK
#define NX DNS_NXDOMAIN
#define ND DNS_NODATA
#define TF DNS_TEMPFAIL
#define T_TXT ns_t_txt
#define T_A ns_t_a
#define T_AAAA ns_t_aaaa
#define T_MX ns_t_mx
#define T_PTR ns_t_ptr
#define T_CNAME ns_t_cname
#define END {NULL, 0, 0, 0, {{0, NULL}}}

/* A lookup through the layer and the record libspf2 gets. */
typedef struct lookup_case {
    const char *name;
    const char *qname;
    int         qtype;
    FAKE_NAME   dns[2];
    int         herrno;
    const char *want[4];            /* the records, as text */
    int         nwant;
    unsigned    min_ttl;
    int         tempfail;
} LOOKUP_CASE;

static const LOOKUP_CASE lookup_cases[] = {
    {"one TXT string", "example.com", T_TXT,
     {{"example.com", 0, OK, 300, {{T_TXT, "v=spf1 -all"}}}, END},
     NETDB_SUCCESS, {"v=spf1 -all"}, 1, 300, 0},
    {"TXT strings joined without a space", "example.com", T_TXT,
     {{"example.com", 0, OK, 300, {{T_TXT, "v=spf1 ip4:192.0.2.0/24 |-all"}}}, END},
     NETDB_SUCCESS, {"v=spf1 ip4:192.0.2.0/24 -all"}, 1, 300, 0},
    {"three TXT strings", "example.com", T_TXT,
     {{"example.com", 0, OK, 300, {{T_TXT, "a|b|c"}}}, END},
     NETDB_SUCCESS, {"abc"}, 1, 300, 0},
    {"two TXT records", "example.com", T_TXT,
     {{"example.com", 0, OK, 300, {{T_TXT, "v=spf1 -all"}, {T_TXT, "google-site=x"}}}, END},
     NETDB_SUCCESS, {"v=spf1 -all", "google-site=x"}, 2, 300, 0},
    {"NUL byte in TXT becomes ?", "example.com", T_TXT,
     {{"example.com", 0, OK, 300, {{T_TXT, "hex:03610062"}}}, END},
     NETDB_SUCCESS, {"a?b"}, 1, 300, 0},
    {"TXT string longer than its record is cut", "example.com", T_TXT,
     {{"example.com", 0, OK, 300, {{T_TXT, "hex:09616263"}}}, END},
     NETDB_SUCCESS, {"abc"}, 1, 300, 0},
    {"empty TXT record", "example.com", T_TXT,
     {{"example.com", 0, OK, 300, {{T_TXT, "hex:00"}}}, END},
     NETDB_SUCCESS, {""}, 1, 300, 0},
    {"A records", "mx.example.com", T_A,
     {{"mx.example.com", 0, OK, 120, {{T_A, "192.0.2.1"}, {T_A, "198.51.100.7"}}}, END},
     NETDB_SUCCESS, {"192.0.2.1", "198.51.100.7"}, 2, 120, 0},
    {"A of the wrong length dropped", "mx.example.com", T_A,
     {{"mx.example.com", 0, OK, 120, {{T_A, "hex:c00002"}, {T_A, "192.0.2.9"}}}, END},
     NETDB_SUCCESS, {"192.0.2.9"}, 1, 120, 0},
    {"only a malformed A: no data", "mx.example.com", T_A,
     {{"mx.example.com", 0, OK, 120, {{T_A, "hex:c0000201ff"}}}, END},
     NO_DATA, {NULL}, 0, 120, 0},
    {"AAAA record", "mx.example.com", T_AAAA,
     {{"mx.example.com", 0, OK, 60, {{T_AAAA, "2001:db8::25"}}}, END},
     NETDB_SUCCESS, {"2001:db8::25"}, 1, 60, 0},
    {"CNAME on the way skipped", "www.example.com", T_A,
     {{"www.example.com", 0, OK, 60, {{T_CNAME, "host.example.net"}, {T_A, "203.0.113.5"}}}, END},
     NETDB_SUCCESS, {"203.0.113.5"}, 1, 60, 0},
    {"MX names, preference dropped", "example.com", T_MX,
     {{"example.com", 0, OK, 3600, {{T_MX, "10 mx1.example.com"}, {T_MX, "20 mx2.example.net"}}}, END},
     NETDB_SUCCESS, {"mx1.example.com", "mx2.example.net"}, 2, 3600, 0},
    {"MX too short dropped", "example.com", T_MX,
     {{"example.com", 0, OK, 3600, {{T_MX, "hex:000a"}, {T_MX, "5 mx.example.com"}}}, END},
     NETDB_SUCCESS, {"mx.example.com"}, 1, 3600, 0},
    {"PTR name", "1.2.0.192.in-addr.arpa", T_PTR,
     {{"1.2.0.192.in-addr.arpa", 0, OK, 900, {{T_PTR, "host.example.com"}}}, END},
     NETDB_SUCCESS, {"host.example.com"}, 1, 900, 0},
    {"NXDOMAIN", "nowhere.example", T_TXT, {END}, HOST_NOT_FOUND, {NULL}, 0, 600, 0},
    {"NODATA", "example.com", T_MX, {{"example.com", 0, ND, 200, {{0, NULL}}}, END},
     NO_DATA, {NULL}, 0, 200, 0},
    {"OK without records is no data", "example.com", T_TXT, {{"example.com", 0, OK, 200, {{0, NULL}}}, END},
     NO_DATA, {NULL}, 0, 200, 0},
    {"SERVFAIL is try again", "example.com", T_TXT, {{"example.com", 0, TF, 0, {{0, NULL}}}, END},
     TRY_AGAIN, {NULL}, 0, 86400, 1},
};

/* rr_text - record i of rr as text, for type */
static void rr_text(const SPF_dns_rr_t *rr, int type, int i, char *out, size_t len)
{
    switch (type) {
    case ns_t_a:
        inet_ntop(AF_INET, &rr->rr[i]->a, out, (socklen_t) len);
        break;
    case ns_t_aaaa:
        inet_ntop(AF_INET6, &rr->rr[i]->aaaa, out, (socklen_t) len);
        break;
    case ns_t_txt:
        snprintf(out, len, "%s", rr->rr[i]->txt);
        break;
    default:
        snprintf(out, len, "%s", rr->rr[i]->mx);
        break;
    }
}

/* test_lookup - one query through the layer, the record and the trace */
static void test_lookup(void **state)
{
    const LOOKUP_CASE *c = *state;
    SPF_dns_server_t *l = dns_spf_layer_new(count_terms);
    SPF_dns_rr_t *rr;
    const DNS_SPF_TRACE *t;
    char got[NS_MAXDNAME + 1];

    fake_tab = c->dns;
    dns_spf_trace_begin();
    rr = l->lookup(l, c->qname, (ns_type) c->qtype, 0);
    assert_non_null(rr);
    if (rr->herrno != c->herrno)
        fail_msg("case \"%s\": herrno %d, want %d", c->name, rr->herrno, c->herrno);
    if (rr->num_rr != c->nwant)
        fail_msg("case \"%s\": %d records, want %d", c->name, rr->num_rr, c->nwant);
    for (int i = 0; i < c->nwant; i++) {
        rr_text(rr, c->qtype, i, got, sizeof(got));
        if (strcmp(got, c->want[i]) != 0)
            fail_msg("case \"%s\": record %d \"%s\", want \"%s\"", c->name, i, got, c->want[i]);
    }
    t = dns_spf_trace();
    if (t->queries != 1 || t->min_ttl != c->min_ttl || t->tempfail != c->tempfail)
        fail_msg("case \"%s\": trace queries %d min_ttl %u tempfail %d", c->name, t->queries, t->min_ttl,
                 t->tempfail);
    if (c->tempfail && (strstr(t->why, c->qname) == NULL || strstr(t->why, "SERVFAIL") == NULL))
        fail_msg("case \"%s\": why \"%s\"", c->name, t->why);
    SPF_dns_rr_free(rr);
    dns_spf_layer_free(l);
}

/* The obsolete SPF type is never asked for. */
static void test_no_type_spf(void **state)
{
    SPF_dns_server_t *l = dns_spf_layer_new(count_terms);
    SPF_dns_rr_t *rr;

    (void) state;
    fake_tab = NULL;
    fake_asked = 0;
    dns_spf_trace_begin();
    rr = l->lookup(l, "example.com", (ns_type) 99, 0);
    assert_int_equal(rr->herrno, NO_DATA);
    assert_int_equal(fake_asked, 0);
    assert_int_equal(dns_spf_trace()->queries, 0);
    SPF_dns_rr_free(rr);
    dns_spf_layer_free(l);
}

/* The first temporary failure is the one the trace keeps. */
static void test_trace(void **state)
{
    static const FAKE_NAME dns[] = {
        {"a.example", 0, TF, 0, {{0, NULL}}},
        {"b.example", 0, TF, 0, {{0, NULL}}},
        {"c.example", 0, OK, 40, {{T_A, "192.0.2.1"}}},
        END,
    };
    SPF_dns_server_t *l = dns_spf_layer_new(count_terms);
    const char *names[] = {"c.example", "a.example", "b.example", "nx.example"};

    (void) state;
    fake_tab = dns;
    dns_spf_trace_begin();
    for (size_t i = 0; i < 4; i++)
        SPF_dns_rr_free(l->lookup(l, names[i], ns_t_a, 0));
    assert_int_equal(dns_spf_trace()->queries, 4);
    assert_int_equal(dns_spf_trace()->min_ttl, 40);
    assert_non_null(strstr(dns_spf_trace()->why, "a.example"));
    dns_spf_trace_begin();
    assert_int_equal(dns_spf_trace()->queries, 0);
    assert_int_equal(dns_spf_trace()->tempfail, 0);
    dns_spf_layer_free(l);
}

/* A whole SPF check of 192.0.2.1 sending for a@example.com. */
typedef struct eval_case {
    const char *name;
    FAKE_NAME   dns[4];
    SPF_result_t result;
    const char *truncated;          /* substring of the trace's truncation, or NULL */
    int         tempfail;
} EVAL_CASE;

#define SEVENTY_IP4 \
    "v=spf1 ip4:10.0.0.1 ip4:10.0.0.2 ip4:10.0.0.3 ip4:10.0.0.4 ip4:10.0.0.5 ip4:10.0.0.6 " \
    "ip4:10.0.0.7 ip4:10.0.0.8 ip4:10.0.0.9 ip4:10.0.0.10 ip4:10.0.0.11 ip4:10.0.0.12 " \
    "ip4:10.0.0.13 ip4:10.0.0.14 ip4:10.0.0.15 ip4:10.0.0.16 ip4:10.0.0.17 ip4:10.0.0.18 " \
    "ip4:10.0.0.19 ip4:10.0.0.20 ip4:10.0.0.21 ip4:10.0.0.22 ip4:10.0.0.23 ip4:10.0.0.24 " \
    "ip4:10.0.0.25 ip4:10.0.0.26 ip4:10.0.0.27 ip4:10.0.0.28 ip4:10.0.0.29 ip4:10.0.0.30 " \
    "ip4:10.0.0.31 ip4:10.0.0.32 ip4:10.0.0.33 ip4:10.0.0.34 ip4:10.0.0.35 ip4:10.0.0.36 " \
    "ip4:10.0.0.37 ip4:10.0.0.38 ip4:10.0.0.39 ip4:10.0.0.40 ip4:10.0.0.41 ip4:10.0.0.42 " \
    "ip4:10.0.0.43 ip4:10.0.0.44 ip4:10.0.0.45 ip4:10.0.0.46 ip4:10.0.0.47 ip4:10.0.0.48 " \
    "ip4:10.0.0.49 ip4:10.0.0.50 ip4:10.0.0.51 ip4:10.0.0.52 ip4:10.0.0.53 ip4:10.0.0.54 " \
    "ip4:10.0.0.55 ip4:10.0.0.56 ip4:10.0.0.57 ip4:10.0.0.58 ip4:10.0.0.59 ip4:10.0.0.60 " \
    "ip4:10.0.0.61 ip4:10.0.0.62 ip4:10.0.0.63 ip4:10.0.0.64 ip4:10.0.0.65 ip4:10.0.0.66 " \
    "ip4:10.0.0.67 ip4:10.0.0.68 ip4:10.0.0.69 ip4:10.0.0.70 -all"

static const EVAL_CASE eval_cases[] = {
    {"ip4 match passes", {{"example.com", T_TXT, OK, 300, {{T_TXT, "v=spf1 ip4:192.0.2.0/24 -all"}}}, END},
     SPF_RESULT_PASS, NULL, 0},
    {"-all fails", {{"example.com", T_TXT, OK, 300, {{T_TXT, "v=spf1 ip4:198.51.100.1 -all"}}}, END},
     SPF_RESULT_FAIL, NULL, 0},
    {"joined strings pass", {{"example.com", T_TXT, OK, 300, {{T_TXT, "v=spf1 ip4:19|2.0.2.1 -all"}}}, END},
     SPF_RESULT_PASS, NULL, 0},
    {"SPF record among other TXT", {{"example.com", T_TXT, OK, 300,
                                     {{T_TXT, "site-verification=abc"}, {T_TXT, "v=spf1 -all"}}}, END},
     SPF_RESULT_FAIL, NULL, 0},
    {"a: mechanism through an A lookup",
     {{"example.com", T_TXT, OK, 300, {{T_TXT, "v=spf1 a:mx.example.com -all"}}},
      {"mx.example.com", T_A, OK, 300, {{T_A, "192.0.2.1"}}}, END},
     SPF_RESULT_PASS, NULL, 0},
    {"mx: mechanism through MX and A",
     {{"example.com", T_TXT, OK, 300, {{T_TXT, "v=spf1 mx -all"}}},
      {"example.com", T_MX, OK, 300, {{T_MX, "10 mx.example.com"}}},
      {"mx.example.com", T_A, OK, 300, {{T_A, "192.0.2.1"}}}, END},
     SPF_RESULT_PASS, NULL, 0},
    {"mx: mechanism, no MX: fail",
     {{"example.com", T_TXT, OK, 300, {{T_TXT, "v=spf1 mx -all"}}},
      {"example.com", T_MX, ND, 300, {{0, NULL}}}, END},
     SPF_RESULT_FAIL, NULL, 0},
    {"no TXT record: none", {{"example.com", T_TXT, ND, 300, {{0, NULL}}}, END}, SPF_RESULT_NONE, NULL, 0},
    {"NXDOMAIN: none", {END}, SPF_RESULT_NONE, NULL, 0},
    {"v=spf10 is not SPF", {{"example.com", T_TXT, OK, 300, {{T_TXT, "v=spf10 -all"}}}, END},
     SPF_RESULT_NONE, NULL, 0},
    {"two SPF records: permerror", {{"example.com", T_TXT, OK, 300,
                                     {{T_TXT, "v=spf1 -all"}, {T_TXT, "v=spf1 +all"}}}, END},
     SPF_RESULT_PERMERROR, NULL, 0},
    {"SERVFAIL: temperror", {{"example.com", T_TXT, TF, 0, {{0, NULL}}}, END}, SPF_RESULT_TEMPERROR, NULL, 1},
    {"70 ip4 terms: refused, not neutral", {{"example.com", T_TXT, OK, 300, {{T_TXT, SEVENTY_IP4}}}, END},
     SPF_RESULT_PERMERROR, "has 71 mechanisms but libspf2 keeps only", 0},
};

/* test_eval - one SPF evaluation through libspf2 on the layer */
static void test_eval(void **state)
{
    const EVAL_CASE *c = *state;
    SPF_dns_server_t *l = dns_spf_layer_new(count_terms);
    SPF_server_t *srv = SPF_server_new_dns(l, 0);
    SPF_request_t *req;
    SPF_response_t *resp = NULL;
    const DNS_SPF_TRACE *t;

    assert_non_null(srv);
    fake_tab = c->dns;
    dns_spf_trace_begin();
    req = SPF_request_new(srv);
    assert_int_equal(SPF_request_set_ipv4_str(req, "192.0.2.1"), SPF_E_SUCCESS);
    assert_int_equal(SPF_request_set_env_from(req, "a@example.com"), 0);
    SPF_request_query_mailfrom(req, &resp);
    assert_non_null(resp);
    if (SPF_response_result(resp) != c->result)
        fail_msg("case \"%s\": %s, want %s", c->name, SPF_strresult(SPF_response_result(resp)),
                 SPF_strresult(c->result));
    t = dns_spf_trace();
    if (c->truncated ? strstr(t->truncated, c->truncated) == NULL : t->truncated[0] != 0)
        fail_msg("case \"%s\": truncated \"%s\"", c->name, t->truncated);
    if (t->tempfail != c->tempfail)
        fail_msg("case \"%s\": tempfail %d", c->name, t->tempfail);
    SPF_response_free(resp);
    SPF_request_free(req);
    SPF_server_free(srv);
    dns_spf_layer_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_type_spf),
        cmocka_unit_test(test_trace),
    };
    int rc = 0;

    rc |= RUN("dns_spf lookup", test_lookup, lookup_cases);
    rc |= RUN("dns_spf evaluation", test_eval, eval_cases);
    rc |= cmocka_run_group_tests(tests, NULL, NULL);
    return rc ? 1 : 0;
}

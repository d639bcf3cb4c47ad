/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_preflight.c - unit tests for preflight.c through preflight_check():
 * the preflight off without EgressAddress and AlignmentAction, and its
 * decisions for a table of facts (DMARC policy, whether the published key
 * is ours, SPF from each egress address) under each AlignmentAction and
 * On-DNSError. The facts are put into the preflight cache (pfcache.c)
 * under the keys preflight.c looks them up by, so no DNS query is sent;
 * the one uncached row meets a resolver pointed at a dead loopback port,
 * which is DNS trouble; and the resolver handed over in PREFLIGHT_MSG is
 * the one asked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "pfcache.h"
#include "msg_reply.h"
#include "preflight.h"
#include "testutil.h"

#define EGRESS1 "192.0.2.10"
#define EGRESS2 "192.0.2.11"

/* The key fact as preflight.c caches it. */
typedef struct key_fact {
    KEYCHECK_STATUS st;
    char        why[sizeof(((ALIGN_SIG *) 0)->key_why)];
} KEY_FACT;

typedef struct pf_case {
    const char *name;
    const char *conf;               /* directives besides Nameservers and DNSTimeout */
    const char *from, *mail_from, *helo, *sig_domain;  /* sig_domain NULL: no signature */
    int         cached;             /* 0: no facts in the cache (DNS trouble) */
    DMARC_CHECK_STATUS dmarc;
    DMARC_CHECK_POLICY policy;
    int         aspf_strict;
    KEYCHECK_STATUS key;
    SPF_CHECK_RESULT spf1, spf2;    /* from EGRESS1, EGRESS2 */
    REPLY_VERDICT verdict;
    const char *rcode, *xcode;      /* expected when refused */
    int         quarantine;
    const char *summary;            /* substring of the summary */
} PF_CASE;

#define ACT_REJECT   "EgressAddress " EGRESS1 "\nAlignmentAction reject\n"
#define ACT_LOG      "EgressAddress " EGRESS1 "\n"
#define ACT_QUAR     "EgressAddress " EGRESS1 "\nAlignmentAction quarantine\n"
#define ACT_TEMPFAIL "EgressAddress " EGRESS1 "\nAlignmentAction tempfail\n"
#define TWO_EGRESS   "EgressAddress " EGRESS1 " " EGRESS2 "\nAlignmentAction reject\n"
#define NO_EGRESS    "AlignmentAction reject\n"
#define FOUND DMARC_CHECK_FOUND
#define REJ DMARC_CHECK_P_REJECT
#define QUA DMARC_CHECK_P_QUARANTINE
#define PNONE DMARC_CHECK_P_NONE
#define K_OK KEYCHECK_MATCH
#define K_BAD KEYCHECK_MISMATCH
#define K_MISS KEYCHECK_MISSING
#define S_PASS SPF_CHECK_PASS
#define S_FAIL SPF_CHECK_FAIL
#define S_SOFT SPF_CHECK_SOFTFAIL
#define S_NONE SPF_CHECK_NONE

static const PF_CASE pf_cases[] = {
    {"dkim aligned, key ours: pass", ACT_REJECT, "example.com", "<a@other.net>", "mx.other.net", "example.com",
     1, FOUND, REJ, 0, K_OK, S_FAIL, S_FAIL, REPLY_CONTINUE, NULL, NULL, 0, "preflight=pass"},
    {"spf aligned pass, no signature: pass", ACT_REJECT, "example.com", "<a@example.com>", "mx", NULL,
     1, FOUND, REJ, 0, K_OK, S_PASS, S_PASS, REPLY_CONTINUE, NULL, NULL, 0, "preflight=pass"},
    {"subdomain MAIL FROM aligns relaxed", ACT_REJECT, "example.com", "<b@bounce.example.com>", "mx", NULL,
     1, FOUND, REJ, 0, K_OK, S_PASS, S_PASS, REPLY_CONTINUE, NULL, NULL, 0, "preflight=pass"},
    {"subdomain MAIL FROM under aspf=s fails", ACT_REJECT, "example.com", "<b@bounce.example.com>", "mx", NULL,
     1, FOUND, REJ, 1, K_OK, S_PASS, S_PASS, REPLY_REJECT, "550", "5.7.26", 0, "preflight=fail"},
    {"published key not ours, spf fail: reject", ACT_REJECT, "example.com", "<a@example.com>", "mx", "example.com",
     1, FOUND, REJ, 0, K_BAD, S_FAIL, S_FAIL, REPLY_REJECT, "550", "5.7.26", 0, "preflight=fail"},
    {"key missing, spf softfail: reject", ACT_REJECT, "example.com", "<a@example.com>", "mx", "example.com",
     1, FOUND, REJ, 0, K_MISS, S_SOFT, S_SOFT, REPLY_REJECT, "550", "5.7.26", 0, "preflight=fail"},
    {"unaligned signature domain: reject", ACT_REJECT, "example.com", "<a@other.net>", "mx", "other.net",
     1, FOUND, REJ, 0, K_OK, S_PASS, S_PASS, REPLY_REJECT, "550", "5.7.26", 0, "not aligned"},
    {"spf must pass from every egress address", TWO_EGRESS, "example.com", "<a@example.com>", "mx", NULL,
     1, FOUND, REJ, 0, K_OK, S_PASS, S_FAIL, REPLY_REJECT, "550", "5.7.26", 0, EGRESS2},
    {"spf pass from both egress addresses", TWO_EGRESS, "example.com", "<a@example.com>", "mx", NULL,
     1, FOUND, REJ, 0, K_OK, S_PASS, S_PASS, REPLY_CONTINUE, NULL, NULL, 0, "preflight=pass"},
    {"no EgressAddress: only dkim can align", NO_EGRESS, "example.com", "<a@example.com>", "mx", NULL,
     1, FOUND, REJ, 0, K_OK, S_PASS, S_PASS, REPLY_REJECT, "550", "5.7.26", 0, "spf not checked (no EgressAddress)"},
    {"p=none failure is delivered", ACT_REJECT, "example.com", "<a@example.com>", "mx", NULL,
     1, FOUND, PNONE, 0, K_OK, S_FAIL, S_FAIL, REPLY_CONTINUE, NULL, NULL, 0, "preflight=fail"},
    {"no DMARC record: nothing to fail", ACT_REJECT, "example.com", "<a@example.com>", "mx", NULL,
     1, DMARC_CHECK_NONE, PNONE, 0, K_OK, S_FAIL, S_FAIL, REPLY_CONTINUE, NULL, NULL, 0, "preflight=none"},
    {"AlignmentAction log delivers a failure", ACT_LOG, "example.com", "<a@example.com>", "mx", NULL,
     1, FOUND, REJ, 0, K_OK, S_FAIL, S_FAIL, REPLY_CONTINUE, NULL, NULL, 0, "preflight=fail"},
    {"AlignmentAction quarantine holds a failure", ACT_QUAR, "example.com", "<a@example.com>", "mx", NULL,
     1, FOUND, QUA, 0, K_OK, S_FAIL, S_FAIL, REPLY_CONTINUE, NULL, NULL, 1, "preflight=fail"},
    {"AlignmentAction tempfail", ACT_TEMPFAIL, "example.com", "<a@example.com>", "mx", NULL,
     1, FOUND, REJ, 0, K_OK, S_FAIL, S_FAIL, REPLY_TEMPFAIL, "451", "4.7.26", 0, "preflight=fail"},
    {"null sender: SPF of the HELO name", ACT_REJECT, "example.com", "<>", "example.com", NULL,
     1, FOUND, REJ, 0, K_OK, S_PASS, S_PASS, REPLY_CONTINUE, NULL, NULL, 0, "preflight=pass"},
    {"DNS trouble, On-DNSError tempfail", ACT_REJECT "On-DNSError tempfail\n", "example.com", "<a@example.com>",
     "mx", NULL, 0, FOUND, REJ, 0, K_OK, S_PASS, S_PASS, REPLY_TEMPFAIL, "451", "4.4.3", 0, "preflight=temperror"},
    {"DNS trouble, On-DNSError accept", ACT_REJECT "On-DNSError accept\n", "example.com", "<a@example.com>",
     "mx", NULL, 0, FOUND, REJ, 0, K_OK, S_PASS, S_PASS, REPLY_CONTINUE, NULL, NULL, 0, "preflight=temperror"},
};

static unsigned char spki[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, 1, 2, 3};
static const KEYS_KEY key = {.type = 0, .bits = 256, .spki = spki, .spki_len = sizeof(spki)};

/* spki_hash - preflight.c's name for a key in its cache keys */
static unsigned long long spki_hash(void)
{
    unsigned long long h = 14695981039346656037ULL;

    for (size_t i = 0; i < sizeof(spki); i++)
        h = (h ^ spki[i]) * 1099511628211ULL;
    return h;
}

/* load - the configuration of c, resolver on a loopback port nobody serves */
static TXCONF *load(const char *directives)
{
    char text[1024];
    char *path;
    TXCONF *cf;
    BUF errs;

    snprintf(text, sizeof(text), "%sNameservers 127.0.0.1@%d\nDNSTimeout 1\n", directives, th_free_port());
    path = th_tempfile(text);
    buf_init(&errs, 4096);
    cf = conf_load(path, CONF_PROG_TXMILTER, &errs);
    if (cf == NULL)
        fail_msg("conf_load: %s", errs.data ? errs.data : "?");
    buf_free(&errs);
    th_unlink(path);
    return cf;
}

/* put_facts - the facts of c into the cache */
static void put_facts(const PF_CASE *c)
{
    DMARC_CHECK dm;
    KEY_FACT kf;
    SPF_CHECK_OUTCOME o;
    char k[512];
    const char *at = strchr(c->mail_from, '@');
    char spf_domain[256];

    memset(&dm, 0, sizeof(dm));
    dm.status = c->dmarc;
    snprintf(dm.from_domain, sizeof(dm.from_domain), "%s", c->from);
    snprintf(dm.org_domain, sizeof(dm.org_domain), "%s", c->from);
    snprintf(dm.record_domain, sizeof(dm.record_domain), "%s", c->from);
    dm.p = dm.sp = dm.policy = c->policy;
    dm.policy_tag = "p";
    dm.pct = 100;
    dm.aspf_strict = c->aspf_strict;
    dm.ttl = 300;
    if (c->dmarc != FOUND)
        snprintf(dm.why, sizeof(dm.why), "no DMARC record at _dmarc.%s", c->from);
    snprintf(k, sizeof(k), "dmarc|%s", c->from);
    pfcache_put(k, &dm, sizeof(dm), 300);
    if (c->sig_domain) {
        memset(&kf, 0, sizeof(kf));
        kf.st = c->key;
        snprintf(kf.why, sizeof(kf.why), "test key fact");
        snprintf(k, sizeof(k), "key|%s|%s|%016llx", c->sig_domain, "sel", spki_hash());
        pfcache_put(k, &kf, sizeof(kf), 300);
    }
    if (at)
        snprintf(spf_domain, sizeof(spf_domain), "%.*s", (int) (strlen(at + 1) - 1), at + 1);
    else
        snprintf(spf_domain, sizeof(spf_domain), "%s", c->helo);
    for (int i = 0; i < 2; i++) {
        memset(&o, 0, sizeof(o));
        o.result = i ? c->spf2 : c->spf1;
        snprintf(o.reason, sizeof(o.reason), "test spf fact");
        o.ttl = 300;
        snprintf(k, sizeof(k), "spf|%s|%s|%s", i ? EGRESS2 : EGRESS1, spf_domain, c->helo);
        pfcache_put(k, &o, sizeof(o), 300);
    }
}

/* test_decision - one message under one row's configuration and facts */
static void test_decision(void **state)
{
    const PF_CASE *c = *state;
    char conf[512];
    TXCONF *cf;

    /* The cached facts are RFC 7489's (the tree walk has its own tests). */
    snprintf(conf, sizeof(conf), "DMARCMode 7489\n%s", c->conf);
    cf = load(conf);
    PREFLIGHT_SIG sig = {c->sig_domain, "sel", &key};
    PREFLIGHT_MSG in = {"QID1", c->from, c->mail_from, c->helo, &sig, c->sig_domain ? 1 : 0, NULL};
    ALIGN_OUTCOME out;
    REPLY reply;
    unsigned long h0, m0, h1, m1;

    pfcache_clear();
    if (c->cached)
        put_facts(c);
    pfcache_stats(&h0, &m0);
    preflight_check(cf, &in, &out);
    pfcache_stats(&h1, &m1);
    reply = msg_reply_align(&out);
    if (reply.verdict != c->verdict)
        fail_msg("case \"%s\": verdict %d, want %d (%s; %s)", c->name, reply.verdict, c->verdict,
                 out.summary, reply.text);
    if (c->rcode && (strcmp(reply.rcode, c->rcode) != 0 || strcmp(reply.xcode, c->xcode) != 0))
        fail_msg("case \"%s\": reply %s %s, want %s %s", c->name, reply.rcode, reply.xcode,
                 c->rcode, c->xcode);
    if (c->rcode && strstr(reply.text, c->from) == NULL)
        fail_msg("case \"%s\": reply text \"%s\" does not name %s", c->name, reply.text, c->from);
    if (out.quarantine != c->quarantine)
        fail_msg("case \"%s\": quarantine %d", c->name, out.quarantine);
    if (strstr(out.summary, c->summary) == NULL)
        fail_msg("case \"%s\": summary \"%s\" lacks \"%s\"", c->name, out.summary, c->summary);
    if (c->cached && m1 != m0)
        fail_msg("case \"%s\": %lu facts missing from the cache (a DNS query)", c->name, m1 - m0);
    if (!c->cached && h1 != h0)
        fail_msg("case \"%s\": cache hit without facts", c->name);
    conf_free(cf);
    pfcache_clear();
}

/* Without EgressAddress and AlignmentAction nothing is looked at. */
static void test_off(void **state)
{
    TXCONF *cf = load("");
    PREFLIGHT_MSG in = {"QID1", "example.com", "<a@example.com>", "mx", NULL, 0, NULL};
    ALIGN_OUTCOME out;
    unsigned long h0, m0, h1, m1;

    (void) state;
    pfcache_stats(&h0, &m0);
    memset(&out, 0x55, sizeof(out));
    preflight_check(cf, &in, &out);
    pfcache_stats(&h1, &m1);
    assert_int_equal(out.refuse, ALIGN_DELIVER);
    assert_string_equal(out.summary, "");
    assert_int_equal(out.quarantine, 0);
    assert_true(h1 == h0 && m1 == m0);
    conf_free(cf);
}

/* table_lookup - a resolver that knows one DMARC record, counting queries */
static void table_lookup(void *ctx, const char *name, int rrtype, DNS_ANSWER *ans)
{
    int *queries = ctx;

    (*queries)++;
    memset(ans, 0, sizeof(*ans));
    ans->ttl = 300;
    if (rrtype == 16 && strcmp(name, "_dmarc.example.com") == 0) {
        ans->status = DNS_OK;
        ans->rec[ans->n++] = xstrdup("v=DMARC1; p=reject");
    } else {
        ans->status = DNS_NXDOMAIN;
    }
}

/* The DMARC record and the DKIM key are asked of the resolver handed over
 * (the pipeline's SERVICES), not of the process's: here the one that
 * answers, while the process's resolver points at a dead port. */
static void test_resolver_handed_over(void **state)
{
    TXCONF *cf = load(NO_EGRESS);
    int queries = 0;
    DNS_RESOLVER dns = {table_lookup, &queries};
    PREFLIGHT_SIG sig = {"example.com", "sel", &key};
    PREFLIGHT_MSG in = {"QID2", "example.com", "<a@example.com>", "mx", &sig, 1, &dns};
    ALIGN_OUTCOME out;

    (void) state;
    pfcache_clear();
    preflight_check(cf, &in, &out);
    if (queries < 2 || out.refuse != ALIGN_REFUSE_REJECT
        || strstr(out.summary, "p=reject at _dmarc.example.com") == NULL
        || strstr(out.summary, "published key missing") == NULL)
        fail_msg("%d queries, refusal %d: %s", queries, (int) out.refuse, out.summary);
    conf_free(cf);
    pfcache_clear();
}

/* psd_lookup - the PSD _dmarc.example (psd=y, p=reject), nothing else */
static void psd_lookup(void *ctx, const char *name, int rrtype, DNS_ANSWER *ans)
{
    int *queries = ctx;

    (*queries)++;
    memset(ans, 0, sizeof(*ans));
    ans->ttl = 300;
    ans->status = DNS_NXDOMAIN;
    if (rrtype == 16 && strcmp(name, "_dmarc.example") == 0) {
        ans->status = DNS_OK;
        ans->rec[ans->n++] = xstrdup("v=DMARC1; p=reject; psd=y");
    } else if (strcmp(name, "_dmarc.x.servfail.example") == 0) {
        ans->status = DNS_TEMPFAIL;
        snprintf(ans->why, sizeof(ans->why), "SERVFAIL");
    }
}

/* A From domain with no record of its own under a PSD policy: RFC 7489
 * has no policy (delivered), RFC 9989 finds p=reject at the PSD; each
 * DMARCMode acts on its generation, both on the stricter, naming both. */
static void test_generations(void **state)
{
    static const struct { const char *mode, *from; int refuse; const char *text; } rows[] = {
        {"DMARCMode 7489\n", "shop.example", ALIGN_DELIVER, "preflight=none"},
        {"DMARCMode 9989\n", "shop.example", ALIGN_REFUSE_REJECT, "p=reject at _dmarc.example"},
        {"", "shop.example", ALIGN_REFUSE_REJECT,
         "RFC 7489: no policy (none); RFC 9989: p=reject from the PSD _dmarc.example (fail)"},
        {"", "a.x.servfail.example", ALIGN_REFUSE_DNS, "_dmarc.x.servfail.example: SERVFAIL"},
        {"DMARCMode 7489\n", "a.x.servfail.example", ALIGN_DELIVER, "preflight=none"},
    };

    (void) state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char conf[256];
        TXCONF *cf;
        int queries = 0;
        DNS_RESOLVER dns = {psd_lookup, &queries};
        PREFLIGHT_SIG sig = {"other.example", "sel", &key};
        PREFLIGHT_MSG in = {"QID3", rows[i].from, "<a@other.example>", "mx", &sig, 1, &dns};
        ALIGN_OUTCOME out;

        snprintf(conf, sizeof(conf), "%s%s", rows[i].mode, NO_EGRESS);
        cf = load(conf);
        pfcache_clear();
        preflight_check(cf, &in, &out);
        if ((int) out.refuse != rows[i].refuse
            || (strstr(out.summary, rows[i].text) == NULL && strstr(out.reasons, rows[i].text) == NULL))
            fail_msg("row %zu: refusal %d, want %d: %s | %s", i, (int) out.refuse, rows[i].refuse, out.summary,
                     out.reasons);
        if (rows[i].refuse == ALIGN_REFUSE_REJECT && rows[i].mode[0] == 0
            && strncmp(out.reasons, "RFC 7489: no policy", 19) != 0)
            fail_msg("row %zu: the reply's reasons do not name both: %s", i, out.reasons);
        conf_free(cf);
    }
    pfcache_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_resolver_handed_over),
        cmocka_unit_test(test_generations),
    };
    int rc = 0;

    rc |= cmocka_run_group_tests(tests, NULL, NULL);
    rc |= RUN("preflight decisions", test_decision, pf_cases);
    preflight_shutdown();
    return rc ? 1 : 0;
}

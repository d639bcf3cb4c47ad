/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_align.c - unit tests for align.c (the preflight verdict and what
 * AlignmentAction and On-DNSError make of it) and keycheck.c (is the
 * published DKIM key ours, RSA and Ed25519).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "align.h"
#include "msg_reply.h"
#include "msg.h"
#include "preflight.h"
#include "testutil.h"
#include "keycheck.h"

#define PASS SPF_CHECK_PASS
#define SFAIL SPF_CHECK_FAIL
#define STEMP SPF_CHECK_TEMPERROR
#define KM KEYCHECK_MATCH
#define KX KEYCHECK_MISMATCH
#define KT KEYCHECK_TEMPFAIL
#define KN KEYCHECK_MISSING

typedef struct sig_in { const char *domain; KEYCHECK_STATUS key; } SIG_IN;

typedef struct verdict_case {
    const char *name;
    const char *from;
    DMARC_CHECK_STATUS dmarc;
    DMARC_CHECK_POLICY policy;
    int         adkim_s, aspf_s;
    SIG_IN      sig[2];
    ALIGN_SPF_STATE spf_state;
    const char *spf_domain;
    SPF_CHECK_RESULT spf[2];        /* results for 192.0.2.10 and 192.0.2.11; 0 = none given */
    int         nspf;
    enum conf_align action;
    enum conf_action on_dnserror;
    ALIGN_VERDICT verdict;
    REPLY_VERDICT reply;
    const char *code;               /* "550 5.7.26" or NULL */
    int         quarantine, warn;
    const char *text;               /* substring of the reply text, or of the summary */
} VERDICT_CASE;

#define R CONF_ALIGN_REJECT
#define TFA CONF_ALIGN_TEMPFAIL
#define Q CONF_ALIGN_QUARANTINE
#define L CONF_ALIGN_LOG
#define DT CONF_ACT_TEMPFAIL
#define DA CONF_ACT_ACCEPT
#define FOUND DMARC_CHECK_FOUND
#define PREJ DMARC_CHECK_P_REJECT
#define PQ DMARC_CHECK_P_QUARANTINE
#define PN DMARC_CHECK_P_NONE
#define CHK ALIGN_SPF_CHECKED
#define NOEG ALIGN_SPF_NO_EGRESS
#define NOSIG {{NULL, 0}}

static const VERDICT_CASE verdict_cases[] = {
    {"DKIM aligned relaxed", "mail.example.com", FOUND, PREJ, 0, 0, {{"example.com", KM}}, NOEG, NULL, {0}, 0,
     R, DT, ALIGN_PASS, REPLY_CONTINUE, NULL, 0, 0, "preflight=pass"},
    {"DKIM aligned strict", "example.com", FOUND, PREJ, 1, 0, {{"example.com", KM}}, NOEG, NULL, {0}, 0,
     R, DT, ALIGN_PASS, REPLY_CONTINUE, NULL, 0, 0, "dkim d=example.com s=sel aligned"},
    {"DKIM not aligned strict: reject", "mail.example.com", FOUND, PREJ, 1, 0, {{"example.com", KM}}, NOEG,
     NULL, {0}, 0, R, DT, ALIGN_FAIL, REPLY_REJECT, "550 5.7.26", 0, 0, "d=example.com not aligned (adkim=s)"},
    {"DKIM aligned but our key not published: fail", "example.com", FOUND, PREJ, 0, 0, {{"example.com", KX}},
     NOEG, NULL, {0}, 0, R, DT, ALIGN_FAIL, REPLY_REJECT, "550 5.7.26", 0, 1, "key sel._domainkey mismatch"},
    {"only SPF aligned", "example.com", FOUND, PREJ, 0, 0, {{"example.net", KM}}, CHK, "bounce.example.com",
     {PASS, PASS}, 2, R, DT, ALIGN_PASS, REPLY_CONTINUE, NULL, 0, 0, "spf bounce.example.com aligned"},
    {"SPF must pass from every egress address", "example.com", FOUND, PREJ, 0, 0, NOSIG, CHK,
     "bounce.example.com", {PASS, SFAIL}, 2, R, DT, ALIGN_FAIL, REPLY_REJECT, "550 5.7.26", 0, 0,
     "SPF fail for bounce.example.com from 192.0.2.11"},
    {"SPF strict: subdomain not aligned", "example.com", FOUND, PREJ, 0, 1, NOSIG, CHK, "bounce.example.com",
     {PASS}, 1, R, DT, ALIGN_FAIL, REPLY_REJECT, "550 5.7.26", 0, 0, "MAIL FROM bounce.example.com not aligned (aspf=s)"},
    {"neither aligned: tempfail action", "example.com", FOUND, PQ, 0, 0, {{"example.net", KM}}, CHK,
     "example.org", {PASS}, 1, TFA, DT, ALIGN_FAIL, REPLY_TEMPFAIL, "451 4.7.26", 0, 0, "(p=quarantine)"},
    {"the summary names the tag with its value", "example.com", FOUND, PQ, 0, 0, {{"example.net", KM}}, CHK,
     "example.org", {PASS}, 1, TFA, DT, ALIGN_FAIL, REPLY_TEMPFAIL, "451 4.7.26", 0, 0,
     "policy=quarantine (p=quarantine at _dmarc.example.com)"},
    {"neither aligned: quarantine action", "example.com", FOUND, PREJ, 0, 0, {{"example.net", KM}}, NOEG, NULL,
     {0}, 0, Q, DT, ALIGN_FAIL, REPLY_CONTINUE, NULL, 1, 1, "preflight-action=quarantine"},
    {"neither aligned: log action", "example.com", FOUND, PREJ, 0, 0, {{"example.net", KM}}, NOEG, NULL, {0}, 0,
     L, DT, ALIGN_FAIL, REPLY_CONTINUE, NULL, 0, 1, "preflight-action=log"},
    {"p=none: delivered and warned", "example.com", FOUND, PN, 0, 0, {{"example.net", KM}}, NOEG, NULL, {0}, 0,
     R, DT, ALIGN_FAIL, REPLY_CONTINUE, NULL, 0, 1, "preflight=fail preflight-action=deliver"},
    {"no DMARC record: delivered and warned", "example.com", DMARC_CHECK_NONE, PN, 0, 0, {{"example.com", KM}},
     NOEG, NULL, {0}, 0, R, DT, ALIGN_NONE, REPLY_CONTINUE, NULL, 0, 1, "preflight=none"},
    {"several DMARC records: as none", "example.com", DMARC_CHECK_MULTIPLE, PN, 0, 0, NOSIG, NOEG, NULL, {0}, 0,
     R, DT, ALIGN_NONE, REPLY_CONTINUE, NULL, 0, 1, "preflight=none"},
    {"DMARC lookup failed: 451 4.4.3", "example.com", DMARC_CHECK_TEMPFAIL, PN, 0, 0, NOSIG, NOEG, NULL, {0}, 0,
     R, DT, ALIGN_TEMPERROR, REPLY_TEMPFAIL, "451 4.4.3", 0, 0,
     "cannot be checked now (DNS: _dmarc.example.com: SERVFAIL), try again later"},
    {"DMARC lookup failed, On-DNSError accept", "example.com", DMARC_CHECK_TEMPFAIL, PN, 0, 0, NOSIG, NOEG,
     NULL, {0}, 0, R, DA, ALIGN_TEMPERROR, REPLY_CONTINUE, NULL, 0, 1, "preflight=temperror"},
    {"key lookup failed, nothing else passes: temperror", "example.com", FOUND, PREJ, 0, 0,
     {{"example.com", KT}}, NOEG, NULL, {0}, 0, R, DT, ALIGN_TEMPERROR, REPLY_TEMPFAIL, "451 4.4.3", 0, 0, NULL},
    {"key lookup failed but SPF passes: pass", "example.com", FOUND, PREJ, 0, 0, {{"example.com", KT}}, CHK,
     "example.com", {PASS}, 1, R, DT, ALIGN_PASS, REPLY_CONTINUE, NULL, 0, 0, NULL},
    {"SPF temperror could pass: temperror", "example.com", FOUND, PREJ, 0, 0, NOSIG, CHK, "example.com",
     {PASS, STEMP}, 2, R, DT, ALIGN_TEMPERROR, REPLY_TEMPFAIL, "451 4.4.3", 0, 0, NULL},
    {"SPF temperror but another egress fails: fail", "example.com", FOUND, PREJ, 0, 0, NOSIG, CHK,
     "example.com", {SFAIL, STEMP}, 2, R, DT, ALIGN_FAIL, REPLY_REJECT, "550 5.7.26", 0, 0, NULL},
    {"DNS trouble under p=none: delivered", "example.com", FOUND, PN, 0, 0, {{"example.com", KT}}, NOEG, NULL,
     {0}, 0, R, DT, ALIGN_TEMPERROR, REPLY_CONTINUE, NULL, 0, 1, NULL},
    {"one good key of two, the other flagged", "example.com", FOUND, PREJ, 0, 0,
     {{"example.com", KM}, {"example.com", KN}}, NOEG, NULL, {0}, 0, R, DT, ALIGN_PASS, REPLY_CONTINUE, NULL, 0, 1,
     "published key missing"},
    {"d=co.uk does not align with example.co.uk", "example.co.uk", FOUND, PREJ, 0, 0, {{"co.uk", KM}}, NOEG,
     NULL, {0}, 0, R, DT, ALIGN_FAIL, REPLY_REJECT, "550 5.7.26", 0, 0, "d=co.uk not aligned"},
    {"mixed-case d= aligns", "mail.example.com", FOUND, PREJ, 0, 0, {{"Example.COM", KM}}, NOEG, NULL, {0}, 0,
     R, DT, ALIGN_PASS, REPLY_CONTINUE, NULL, 0, 0, NULL},
    {"no signature, no egress: fail", "example.com", FOUND, PREJ, 0, 0, NOSIG, NOEG, NULL, {0}, 0, R, DT,
     ALIGN_FAIL, REPLY_REJECT, "550 5.7.26", 0, 0, "no DKIM signature; SPF not checked"},
};

/* build - the facts of a case */
static void build(const VERDICT_CASE *c, ALIGN_FACTS *f)
{
    static const char *const ips[] = {"192.0.2.10", "192.0.2.11"};

    memset(f, 0, sizeof(*f));
    f->dmarc.status = c->dmarc;
    strcpy(f->dmarc.from_domain, c->from);
    strcpy(f->dmarc.record_domain, c->from);
    f->dmarc.policy = f->dmarc.p = f->dmarc.sp = c->policy;
    f->dmarc.policy_tag = "p";
    f->dmarc.pct = 100;
    f->dmarc.adkim_strict = c->adkim_s;
    f->dmarc.aspf_strict = c->aspf_s;
    if (c->dmarc == DMARC_CHECK_TEMPFAIL)       /* as dmarc_check_discover() words it */
        snprintf(f->dmarc.why, sizeof(f->dmarc.why), "DNS: _dmarc.%s: SERVFAIL", c->from);
    else
        snprintf(f->dmarc.why, sizeof(f->dmarc.why), "why-%d", c->dmarc);
    for (size_t i = 0; i < 2 && c->sig[i].domain; i++) {
        strcpy(f->sig[i].domain, c->sig[i].domain);
        strcpy(f->sig[i].selector, "sel");
        f->sig[i].key = c->sig[i].key;
        strcpy(f->sig[i].key_why, "detail");
        f->nsig++;
    }
    f->spf_state = c->spf_state;
    if (c->spf_domain)
        strcpy(f->spf_domain, c->spf_domain);
    for (int i = 0; i < c->nspf; i++) {
        strcpy(f->spf[i].ip, ips[i]);
        f->spf[i].result = c->spf[i];
    }
    f->nspf = (size_t) c->nspf;
}

static void test_verdicts(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(verdict_cases) / sizeof(verdict_cases[0]); i++) {
        const VERDICT_CASE *c = &verdict_cases[i];
        ALIGN_FACTS f;
        ALIGN_DECISION d;
        ALIGN_OUTCOME out;
        REPLY reply;
        char code[32];

        build(c, &f);
        align_decide(&f, c->action, c->on_dnserror, &d, &out);
        reply = msg_reply_align(&out);
        snprintf(code, sizeof(code), "%s %s", reply.rcode, reply.xcode);
        if (d.verdict != c->verdict)
            fail_msg("case \"%s\": verdict %s, want %s (%s)", c->name, align_verdict_str(d.verdict),
                     align_verdict_str(c->verdict), out.summary);
        if (reply.verdict != c->reply || (c->code && strcmp(code, c->code) != 0))
            fail_msg("case \"%s\": reply %d %s, want %d %s", c->name, reply.verdict, code, c->reply,
                     c->code ? c->code : "");
        if (out.quarantine != c->quarantine || d.warn != c->warn)
            fail_msg("case \"%s\": quarantine %d warn %d (%s)", c->name, out.quarantine, d.warn, d.warning);
        if (c->text && strstr(reply.text, c->text) == NULL && strstr(out.summary, c->text) == NULL)
            fail_msg("case \"%s\": \"%s\" in neither \"%s\" nor \"%s\"", c->name, c->text, reply.text,
                     out.summary);
        if (strlen(reply.text) > 440 || strpbrk(reply.text, "\r\n%"))
            fail_msg("case \"%s\": reply text unfit for SMTP", c->name);
        if (strncmp(out.summary, "preflight=", 10) != 0)
            fail_msg("case \"%s\": summary \"%s\"", c->name, out.summary);
    }
}

/* the warning about our published keys says what is wrong with them */
static void test_key_warning(void **state)
{
    static const struct { KEYCHECK_STATUS key; const char *want; } cases[] = {
        {KEYCHECK_MISSING, "a published DKIM key is missing: "},
        {KEYCHECK_MISMATCH, "a published DKIM key does not match our key: "},
        {KEYCHECK_REVOKED, "a published DKIM key is revoked: "},
        {KEYCHECK_INVALID, "a published DKIM key is unusable: "},
    };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ALIGN_FACTS f;
        ALIGN_DECISION d;
        ALIGN_OUTCOME out;

        build(&verdict_cases[0], &f);           /* DKIM aligned, reject on failure */
        f.sig[0].key = cases[i].key;
        align_decide(&f, verdict_cases[0].action, verdict_cases[0].on_dnserror, &d, &out);
        if (!d.warn || strncmp(d.warning, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("key %s: warning \"%s\", want \"%s...\"", keycheck_str(cases[i].key), d.warning,
                     cases[i].want);
    }
}

/* long reasons never overflow the reply */
static void test_reply_bounded(void **state)
{
    ALIGN_FACTS f;
    ALIGN_DECISION d;
    ALIGN_OUTCOME out;
    REPLY reply;

    (void) state;
    build(&verdict_cases[2], &f);
    for (size_t i = 0; i < ALIGN_MAX_SIG; i++) {
        memset(f.sig[i].domain, 'a', sizeof(f.sig[i].domain) - 12);
        strcpy(f.sig[i].domain + sizeof(f.sig[i].domain) - 12, ".example");
        strcpy(f.sig[i].selector, "s");
        f.sig[i].key = KX;
        memset(f.sig[i].key_why, 'w', sizeof(f.sig[i].key_why) - 1);
        f.sig[i].key_why[sizeof(f.sig[i].key_why) - 1] = 0;
    }
    f.nsig = ALIGN_MAX_SIG;
    align_decide(&f, R, DT, &d, &out);
    reply = msg_reply_align(&out);
    assert_int_equal(reply.verdict, REPLY_REJECT);
    assert_true(strlen(reply.text) <= 440);
    assert_true(strlen(out.summary) < sizeof(out.summary));
}

/* --- keycheck ------------------------------------------------------------ */

static KEYS_KEY *rsa_key, *rsa_other, *ed_key, *ed_other;

/* load - a fresh key of alg as a KEYS_KEY (through keys_load_inline) */
static KEYS_KEY *load(const char *alg)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, alg, (size_t) 2048);
    BIO *b = BIO_new(BIO_s_mem());
    char *pem, *text;
    long n;
    KEYS_KEY *k;
    BUF errs;

    if (strcmp(alg, "ED25519") == 0) {
        EVP_PKEY_free(pk);
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    assert_non_null(pk);
    assert_int_equal(PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(b, &pem);
    /* BIO memory is not NUL-terminated: copy exactly n bytes */
    text = xmalloc((size_t) n + 1);
    memcpy(text, pem, (size_t) n);
    text[n] = 0;
    buf_init(&errs, 4096);
    k = keys_load_inline(text, "test", &errs);
    if (k == NULL)
        fail_msg("keys_load_inline: %s", errs.data);
    buf_free(&errs);
    free(text);
    BIO_free(b);
    EVP_PKEY_free(pk);
    return k;
}

/* pkcs1 - our RSA key's record with p= as a PKCS#1 RSAPublicKey */
static char *pkcs1_record(const KEYS_KEY *k)
{
    const unsigned char *p = k->spki;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long) k->spki_len);
    unsigned char *der = NULL;
    int len = i2d_PublicKey(pk, &der);
    char *b64 = malloc(4 * ((size_t) len + 2) / 3 + 4), *rec;

    EVP_EncodeBlock((unsigned char *) b64, der, len);
    rec = malloc(strlen(b64) + 40);
    sprintf(rec, "v=DKIM1; p=%s", b64);
    free(b64);
    OPENSSL_free(der);
    EVP_PKEY_free(pk);
    return rec;
}

/* fold - the record with white space inside p= (as some DNS tools write it) */
static char *fold(const char *rec)
{
    char *out = malloc(strlen(rec) * 2 + 1), *o = out;

    for (size_t i = 0; rec[i]; i++) {
        *o++ = rec[i];
        if (i > 30 && i % 40 == 0)
            *o++ = ' ';
    }
    *o = 0;
    return out;
}

static void test_keycheck(void **state)
{
    char why[300], *r_rsa = keys_dns_record(rsa_key), *r_rsa2 = keys_dns_record(rsa_other);
    char *r_ed = keys_dns_record(ed_key), *r_ed2 = keys_dns_record(ed_other);
    char *r_pkcs1 = pkcs1_record(rsa_key), *r_fold = fold(r_rsa);
    struct { const char *name; const char *rec; const KEYS_KEY *key; KEYCHECK_STATUS want; } cases[] = {
        {"rsa: our record", r_rsa, rsa_key, KM},
        {"rsa: another key", r_rsa2, rsa_key, KX},
        {"rsa: PKCS#1 form of our key", r_pkcs1, rsa_key, KM},
        {"rsa: folded base64", r_fold, rsa_key, KM},
        {"rsa: no k= means rsa", NULL, rsa_key, KM},          /* filled in below */
        {"ed25519: our record", r_ed, ed_key, KM},
        {"ed25519: another key", r_ed2, ed_key, KX},
        {"ed25519 key, rsa record", r_rsa, ed_key, KX},
        {"rsa key, ed25519 record", r_ed, rsa_key, KX},
        {"revoked", "v=DKIM1; k=rsa; p=", rsa_key, KEYCHECK_REVOKED},
        {"no p=", "v=DKIM1; k=rsa", rsa_key, KEYCHECK_INVALID},
        {"bad version", "v=DKIM2; p=AAAA", rsa_key, KEYCHECK_INVALID},
        {"bad base64", "v=DKIM1; k=ed25519; p=!!!!", ed_key, KEYCHECK_INVALID},
        {"ed25519 of wrong length", "v=DKIM1; k=ed25519; p=AAAA", ed_key, KX},
        {"garbage", ";;;=;", rsa_key, KEYCHECK_INVALID},
    };

    (void) state;
    /* "no k=" row: skip "k=rsa; " inside our own record */
    {
        char *nok = malloc(strlen(r_rsa) + 1);

        strcpy(nok, "v=DKIM1; ");
        strcat(nok, strstr(r_rsa, "p="));
        cases[4].rec = nok;
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        KEYCHECK_STATUS got = keycheck_record(cases[i].rec, cases[i].key, TH_ERR(why));

        if (got != cases[i].want)
            fail_msg("case \"%s\": %s (%s), want %s", cases[i].name, keycheck_str(got), why,
                     keycheck_str(cases[i].want));
    }
    free((char *) cases[4].rec);
    free(r_rsa);
    free(r_rsa2);
    free(r_ed);
    free(r_ed2);
    free(r_pkcs1);
    free(r_fold);
}

/* Tag values too long for keycheck's buffers: found by tests/fuzz/fuzz_keycheck
 * (an over-long v= made it compare an unset buffer; an over-long k= counted
 * as the default rsa) */
static void test_keycheck_long_tags(void **state)
{
    char why[300], *r_rsa = keys_dns_record(rsa_key), rec[1024];
    struct { const char *name, *rec; KEYCHECK_STATUS want; const char *why; } cases[] = {
        {"v= over 63 bytes", "v={X70}; k=rsa; p=AAAA", KEYCHECK_INVALID, "v=(over 63 bytes) is not DKIM1"},
        {"k= over 63 bytes", "v=DKIM1; k={X70}; %P", KX, "published k=(over 63 bytes)"},
        {"v= of 63 bytes", "v={X63}; p=AAAA", KEYCHECK_INVALID, "v=xxx"},
    };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *t = th_expand(cases[i].rec, NULL), *pp = strstr(t, "%P");
        KEYCHECK_STATUS got;

        if (pp) {
            *pp = 0;
            snprintf(rec, sizeof(rec), "%s%s", t, strstr(r_rsa, "p="));
        } else {
            snprintf(rec, sizeof(rec), "%s", t);
        }
        got = keycheck_record(rec, rsa_key, TH_ERR(why));
        if (got != cases[i].want || strstr(why, cases[i].why) == NULL)
            fail_msg("case \"%s\": %s (%s), want %s (%s)", cases[i].name, keycheck_str(got), why,
                     keycheck_str(cases[i].want), cases[i].why);
        free(t);
    }
    free(r_rsa);
}

/* A fake DNS holding one or two records at the selector. */
static const char *fake_txt[3];
static DNS_STATUS fake_status;

static void fake_lookup(void *ctx, const char *name, int rrtype, DNS_ANSWER *ans)
{
    (void) ctx;
    memset(ans, 0, sizeof(*ans));
    assert_int_equal(rrtype, 16);
    assert_string_equal(name, "sel._domainkey.example.com");
    ans->status = fake_status;
    ans->ttl = 600;
    for (size_t i = 0; fake_status == DNS_OK && fake_txt[i]; i++)
        ans->rec[ans->n++] = strdup(fake_txt[i]);
}

static void test_keycheck_published(void **state)
{
    char why[300], *mine = keys_dns_record(ed_key), *other = keys_dns_record(ed_other);
    unsigned ttl;

    (void) state;
    fake_status = DNS_OK;
    fake_txt[0] = mine;
    fake_txt[1] = NULL;
    assert_int_equal(keycheck_published(fake_lookup, NULL, "example.com", "sel", ed_key, &ttl, TH_ERR(why)), KM);
    assert_int_equal(ttl, 600);
    fake_txt[1] = other;                    /* two records, one not ours */
    assert_int_equal(keycheck_published(fake_lookup, NULL, "example.com", "sel", ed_key, &ttl, TH_ERR(why)), KX);
    assert_non_null(strstr(why, "several"));
    fake_txt[0] = NULL;
    fake_status = DNS_NXDOMAIN;
    assert_int_equal(keycheck_published(fake_lookup, NULL, "example.com", "sel", ed_key, &ttl, TH_ERR(why)), KN);
    assert_non_null(strstr(why, "no such name"));
    fake_status = DNS_TEMPFAIL;
    assert_int_equal(keycheck_published(fake_lookup, NULL, "example.com", "sel", ed_key, &ttl, TH_ERR(why)), KT);
    assert_int_equal(ttl, 0);
    free(mine);
    free(other);
}

static int key_setup(void **state)
{
    (void) state;
    rsa_key = load("RSA");
    rsa_other = load("RSA");
    ed_key = load("ED25519");
    ed_other = load("ED25519");
    return 0;
}

static int key_teardown(void **state)
{
    (void) state;
    keys_free(rsa_key);
    keys_free(rsa_other);
    keys_free(ed_key);
    keys_free(ed_other);
    return 0;
}

int main(void)
{
    const struct CMUnitTest verdicts[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_key_warning),
        cmocka_unit_test(test_reply_bounded),
    };
    const struct CMUnitTest keys[] = {
        cmocka_unit_test(test_keycheck),
        cmocka_unit_test(test_keycheck_long_tags),
        cmocka_unit_test(test_keycheck_published),
    };
    int rc = cmocka_run_group_tests(verdicts, th_psl_setup, th_psl_teardown);

    return rc + cmocka_run_group_tests(keys, key_setup, key_teardown);
}

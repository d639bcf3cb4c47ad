/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_msg.c - unit tests for the message pipeline (msg.c) with a real
 * configuration snapshot and real keys: outbound decisions, From checks
 * and their replies, key choice, the header-addition seam, and that the
 * signatures verify (libopendkim's verifier with a key file) and break
 * when the message is tampered with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <opendkim/dkim.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keys.h"
#include "msg.h"
#include "msg_int.h"                   /* msg_add_field(): what the steps add */
#include "testutil.h"
#include "sign_key.h"
#include "snapshot.h"

static char dir[] = "/tmp/txmsg.XXXXXX";
static char keyfile_dns[300];

/* make_key - a key file and its line in the verifier's key file */
static void make_key(const char *alg, int bits, const char *file, const char *selector,
                     const char *domain, FILE *dns)
{
    EVP_PKEY *pk = th_keygen(alg, bits);
    const char *path = th_write_key(dir, file, pk);
    BUF errs;
    KEYS_KEY *k;
    char *rec;

    EVP_PKEY_free(pk);
    buf_init(&errs, 4096);
    k = keys_load_file(path, &errs);
    assert_non_null(k);
    rec = keys_dns_record(k);
    fprintf(dns, "%s._domainkey.%s %s\n", selector, domain, rec);
    free(rec);
    keys_free(k);
    buf_free(&errs);
}

static int setup(void **state)
{
    FILE *dns;
    char buf[1024];

    (void) state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(keyfile_dns, sizeof(keyfile_dns), "%s/dnskeys", dir);
    dns = fopen(keyfile_dns, "w");
    make_key("RSA", 2048, "rsa.pem", "s1", "example.com", dns);
    make_key("ED25519", 0, "ed.pem", "s2", "example.com", dns);
    make_key("RSA", 2048, "net.pem", "n1", "example.net", dns);
    fclose(dns);
    snprintf(buf, sizeof(buf),
             "rsa example.com:s1:%s/rsa.pem\ned example.com:s2:%s/ed.pem\nnet example.net:n1:%s/net.pem\n",
             dir, dir, dir);
    th_write_file(dir, "KeyTable", buf, 0644);
    th_write_file(dir, "SigningTable", "*@example.com rsa\n*@example.com ed\n*@example.net net\n", 0644);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    return th_remove_dir(dir);
}

/* snap_with - a snapshot from the base configuration plus extra lines */
static SNAPSHOT *snap_with(const char *extra)
{
    return th_tables_snapshot(dir, "InternalHosts 127.0.0.1, 192.0.2.0/24\nMTA submission\n", extra,
                              (const char *) NULL);
}

static MSG_CONN conn_of(const char *addr, const char *auth, const char *daemon)
{
    MSG_CONN c;

    memset(&c, 0, sizeof(c));
    snprintf(c.addr, sizeof(c.addr), "%s", addr);
    snprintf(c.hostname, sizeof(c.hostname), "client.example");
    snprintf(c.auth_authen, sizeof(c.auth_authen), "%s", auth);
    snprintf(c.daemon_name, sizeof(c.daemon_name), "%s", daemon);
    return c;
}

typedef struct outbound_case {
    const char *name, *addr, *auth, *daemon;
    int outbound;
    const char *why;
} OUTBOUND_CASE;

static const OUTBOUND_CASE outbound_cases[] = {
    {"internal loopback", "127.0.0.1", "", "", 1, "internal client 127.0.0.1"},
    {"internal network", "192.0.2.77", "", "", 1, "internal client 192.0.2.77"},
    {"outside client", "198.51.100.1", "", "", 0, "not in InternalHosts"},
    {"authenticated outside client", "198.51.100.1", "app", "", 1, "authenticated as app"},
    {"listed daemon", "198.51.100.1", "", "submission", 1, "daemon submission"},
    {"unlisted daemon", "198.51.100.1", "", "smtpd", 0, "not in InternalHosts"},
};

static void test_outbound(void **state)
{
    SNAPSHOT *s = snap_with("");

    (void) state;
    for (size_t i = 0; i < sizeof(outbound_cases) / sizeof(outbound_cases[0]); i++) {
        const OUTBOUND_CASE *c = &outbound_cases[i];
        MSG_CONN conn = conn_of(c->addr, c->auth, c->daemon);
        MSG *m = msg_new(s, NULL, &conn, "<app@example.com>");
        const char *why;

        if (msg_outbound(m, &why) != c->outbound)
            fail_msg("case \"%s\": outbound=%d", c->name, !c->outbound);
        if (strstr(why, c->why) == NULL)
            fail_msg("case \"%s\": why \"%s\"", c->name, why);
        msg_free(m);
    }
    snapshot_release(s);
}

typedef struct from_case {
    const char *name;
    const char *from1, *from2;  /* From field values; NULL for absent */
    REPLY_VERDICT verdict;
    const char *rcode, *xcode, *text;
} FROM_CASE;

static const FROM_CASE from_cases[] = {
    {"one From", " a@example.com", NULL, REPLY_CONTINUE, "", "", ""},
    {"no From", NULL, NULL, REPLY_REJECT, "550", "5.6.0", "no From header field"},
    {"two From fields", " a@example.com", " b@example.com", REPLY_REJECT, "550", "5.6.0", "2 From header fields"},
    {"two mailboxes", " a@example.com, b@example.com", NULL, REPLY_REJECT, "550", "5.6.0", "holds 2 addresses"},
    {"unparseable", " <a@example.com", NULL, REPLY_REJECT, "550", "5.6.0",
     "From header field has an unbalanced or misplaced angle bracket"},
    {"empty group", " undisclosed:;", NULL, REPLY_REJECT, "550", "5.6.0", "holds a group"},
    {"only a comment", " (nobody)", NULL, REPLY_REJECT, "550", "5.6.0", "holds no address"},
    {"address as display name", " a@evil.example <b@example.com>", NULL, REPLY_REJECT, "550",
     "5.6.0", "unquoted '@'"},
    {"domain literal", " news@[192.0.2.1]", NULL, REPLY_REJECT, "550", "5.6.0",
     "domain literal: it can never be DKIM-signed"},
    {"second field malformed", " a@example.com", " b@exa mple.com", REPLY_REJECT, "550", "5.6.0",
     "white space or a comment inside the address"},
};

static void test_from_checks(void **state)
{
    SNAPSHOT *s = snap_with("");
    MSG_CONN conn = conn_of("127.0.0.1", "", "");

    (void) state;
    for (size_t i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]); i++) {
        const FROM_CASE *c = &from_cases[i];
        MSG *m = msg_new(s, NULL, &conn, "<app@example.com>");
        REPLY r;

        (void) msg_header(m, "Subject", " test");
        if (c->from1)
            (void) msg_header(m, "From", c->from1);
        if (c->from2)
            (void) msg_header(m, "FROM", c->from2);
        r = msg_eoh(m);
        if (r.verdict != c->verdict)
            fail_msg("case \"%s\": verdict %d", c->name, (int) r.verdict);
        if (c->verdict != REPLY_CONTINUE) {
            if (strcmp(r.rcode, c->rcode) || strcmp(r.xcode, c->xcode) || !strstr(r.text, c->text))
                fail_msg("case \"%s\": reply %s %s %s", c->name, r.rcode, r.xcode, r.text);
            if (strstr(msg_summary(m), c->text) == NULL)
                fail_msg("case \"%s\": summary lacks the reason: %s", c->name, msg_summary(m));
        }
        msg_free(m);
    }
    snapshot_release(s);
}

/* On-MultipleFrom: refuse by default, or tempfail, or go on with the first */
static void test_multiple_from_configurable(void **state)
{
    static const struct { const char *conf; REPLY_VERDICT v; const char *rcode; } cases[] = {
        {"", REPLY_REJECT, "550"},
        {"On-MultipleFrom tempfail\n", REPLY_TEMPFAIL, "451"},
        {"On-MultipleFrom accept\n", REPLY_CONTINUE, ""},
    };
    MSG_CONN conn = conn_of("127.0.0.1", "", "");

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int two_fields = 0; two_fields < 2; two_fields++) {
            SNAPSHOT *s = snap_with(cases[i].conf);
            MSG *m = msg_new(s, NULL, &conn, "<a@example.com>");
            REPLY r;

            if (two_fields) {
                (void) msg_header(m, "From", " a@example.com");
                (void) msg_header(m, "From", " b@example.net");
            } else
                (void) msg_header(m, "From", " a@example.com, b@example.net");
            r = msg_eoh(m);
            if (r.verdict != cases[i].v || strcmp(r.rcode, cases[i].rcode) != 0)
                fail_msg("case %zu/%d: verdict %d %s", i, two_fields, (int) r.verdict, r.rcode);
            if (cases[i].v == REPLY_CONTINUE) {
                /* the first mailbox signs */
                assert_non_null(strstr(msg_summary(m), "header-from=<a@example.com>"));
                assert_non_null(strstr(msg_summary(m), "warning=multiple-from"));
                assert_int_equal(msg_eom(m).verdict, REPLY_CONTINUE);
            }
            msg_free(m);
            snapshot_release(s);
        }
    }
}

/* On-MultipleFrom accept still refuses a From field receivers may read differently */
static void test_multiple_from_accept_checks_every_mailbox(void **state)
{
    static const struct { const char *name, *from1, *from2, *text; } cases[] = {
        {"second mailbox has a space in its domain", " a@example.com, b@exa mple.com", NULL,
         "white space or a comment inside the address"},
        {"second mailbox a domain literal", " a@example.com, b@[192.0.2.1]", NULL, "domain literal"},
        {"second field has text after the address", " a@example.com", " <b@example.net> extra",
         "text after the address"},
        {"first field a group", " team: a@example.com;", " b@example.net", "holds a group"},
    };
    SNAPSHOT *s = snap_with("On-MultipleFrom accept\n");
    MSG_CONN conn = conn_of("127.0.0.1", "", "");

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        MSG *m = msg_new(s, NULL, &conn, "<a@example.com>");
        REPLY r;

        (void) msg_header(m, "From", cases[i].from1);
        if (cases[i].from2)
            (void) msg_header(m, "From", cases[i].from2);
        r = msg_eoh(m);
        if (r.verdict != REPLY_REJECT || strcmp(r.xcode, "5.6.0") != 0 || !strstr(r.text, cases[i].text))
            fail_msg("case \"%s\": verdict %d %s %s", cases[i].name, (int) r.verdict, r.xcode, r.text);
        msg_free(m);
    }
    snapshot_release(s);
}

static void test_nokey(void **state)
{
    SNAPSHOT *s = snap_with("");
    MSG_CONN conn = conn_of("127.0.0.1", "", "");
    MSG *m = msg_new(s, NULL, &conn, "<a@other.example>");
    REPLY r;
    const MSG_HDROP *ops;

    (void) state;
    (void) msg_header(m, "From", " a@other.example");
    assert_int_equal(msg_eoh(m).verdict, REPLY_CONTINUE);
    assert_false(msg_wants_body(m));
    assert_int_equal(msg_eom(m).verdict, REPLY_CONTINUE);
    assert_int_equal(msg_hdrops(m, &ops), 0);
    assert_non_null(strstr(msg_summary(m), "no-key=other.example"));
    assert_non_null(strstr(msg_summary(m), "action=accept-unsigned"));
    msg_free(m);
    snapshot_release(s);

    s = snap_with("On-NoKey tempfail\n");
    m = msg_new(s, NULL, &conn, "<a@other.example>");
    (void) msg_header(m, "From", " a@other.example");
    r = msg_eoh(m);
    assert_int_equal(r.verdict, REPLY_TEMPFAIL);
    assert_string_equal(r.rcode, "451");
    assert_string_equal(r.xcode, "4.3.5");
    assert_non_null(strstr(r.text, "other.example"));
    msg_free(m);
    snapshot_release(s);
}

typedef struct add_field_case {
    const char *name;
    const char *field;
    const char *value;
    int         rc;                 /* msg_add_field()'s answer */
} ADD_FIELD_CASE;

static const ADD_FIELD_CASE add_field_cases[] = {
    { "plain field", "X-Added", "yes", 0 },
    { "folded value", "X-Added", "one,\n\ttwo", 0 },
    { "folded with CRLF", "X-Added", "one,\r\n two", 0 },
    { "space in name", "X Added", "yes", -1 },
    { "colon in name", "X-Added:", "yes", -1 },
    { "empty name", "", "yes", -1 },
    { "no value", "X-Added", NULL, -1 },
    { "line break that does not fold", "X-Added", "one\nInjected: two", -1 },
    { "bare CR", "X-Added", "one\rtwo", -1 },
};

/* test_add_field_checks - a field a step adds is refused when it would
 * not be one well-formed field, and only an accepted one is appended */
static void test_add_field_checks(void **state)
{
    SNAPSHOT *s = snap_with("");
    MSG_CONN conn = conn_of("127.0.0.1", "", "");

    (void) state;
    for (size_t i = 0; i < sizeof(add_field_cases) / sizeof(add_field_cases[0]); i++) {
        const ADD_FIELD_CASE *c = &add_field_cases[i];
        MSG *m = msg_new(s, NULL, &conn, "<app@example.com>");
        const MSG_HDROP *ops;
        size_t n, appended = 0;

        (void) msg_header(m, "From", " app@example.com");
        if (msg_add_field(m, c->field, c->value) != c->rc)
            fail_msg("case \"%s\": msg_add_field() did not return %d", c->name, c->rc);
        assert_int_equal(msg_eoh(m).verdict, REPLY_CONTINUE);
        assert_int_equal(msg_eom(m).verdict, REPLY_CONTINUE);
        n = msg_hdrops(m, &ops);
        for (size_t j = 0; j < n; j++)
            appended += ops[j].kind == MSG_HDR_APPEND;
        if (appended != (c->rc == 0))
            fail_msg("case \"%s\": %zu fields appended", c->name, appended);
        msg_free(m);
    }
    snapshot_release(s);
}

/* test_add_field_bounded - MSG_MAX_ADDED fields, not one more */
static void test_add_field_bounded(void **state)
{
    SNAPSHOT *s = snap_with("");
    MSG_CONN conn = conn_of("127.0.0.1", "", "");
    MSG *m = msg_new(s, NULL, &conn, "<app@example.com>");

    (void) state;
    for (int i = 0; i < MSG_MAX_ADDED; i++)
        assert_int_equal(msg_add_field(m, "X-Added", "yes"), 0);
    assert_int_equal(msg_add_field(m, "X-Added", "yes"), -1);
    msg_free(m);
    snapshot_release(s);
}

static void test_header_limit(void **state)
{
    SNAPSHOT *s = snap_with("MaximumHeaders 2048\n");
    MSG_CONN conn = conn_of("127.0.0.1", "", "");
    MSG *m = msg_new(s, NULL, &conn, "<a@example.com>");
    char big[1500];
    REPLY r;

    (void) state;
    memset(big, 'x', sizeof(big) - 1);
    big[0] = ' ';
    big[sizeof(big) - 1] = 0;
    (void) msg_header(m, "From", " a@example.com");
    (void) msg_header(m, "X-One", big);
    (void) msg_header(m, "X-Two", big);
    r = msg_eoh(m);
    assert_int_equal(r.verdict, REPLY_REJECT);
    assert_string_equal(r.rcode, "552");
    assert_string_equal(r.xcode, "5.3.4");
    msg_free(m);
    snapshot_release(s);
}

/* A header line over RFC 5322's 998 bytes is flagged: relays fold it and
 * the signature breaks. Exactly 998 is fine; folded long fields are too. */
static void test_long_header_line_flagged(void **state)
{
    static const struct { const char *name; size_t len; int folded; int flagged; } cases[] = {
        {"998 bytes", 998 - 9, 0, 0},       /* "Subject:" + space + value */
        {"999 bytes", 999 - 9, 0, 1},
        {"2000 bytes folded every 500", 2000, 1, 0},
    };
    SNAPSHOT *s = snap_with("");
    MSG_CONN conn = conn_of("127.0.0.1", "", "");

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        MSG *m = msg_new(s, NULL, &conn, "<a@example.com>");
        char *v = calloc(1, cases[i].len + 2);

        assert_non_null(v);
        memset(v, 'x', cases[i].len + 1);
        v[0] = ' ';
        for (size_t j = 500; cases[i].folded && j < cases[i].len; j += 500)
            v[j] = '\n';
        (void) msg_header(m, "From", " a@example.com");
        (void) msg_header(m, "Subject", v);
        assert_int_equal(msg_eoh(m).verdict, REPLY_CONTINUE);
        if ((strstr(msg_summary(m), "header-line-over-998") != NULL) != cases[i].flagged)
            fail_msg("case \"%s\": summary %s", cases[i].name, msg_summary(m));
        free(v);
        msg_free(m);
    }
    snapshot_release(s);
}

/* build - the signed message as an MTA would deliver it */
static char *build(MSG *m, const char *const *fields, const char *body, int drop_added,
                   const char *prepend)
{
    const MSG_HDROP *ops;
    size_t n = msg_hdrops(m, &ops), i;
    BUF b;

    buf_init(&b, 1 << 20);
    if (prepend)
        buf_printf(&b, "%s\r\n", prepend);
    for (i = n; i-- > 0;)
        if (ops[i].kind == MSG_HDR_INSERT_TOP)
            buf_printf(&b, "%s: %s\r\n", ops[i].name, ops[i].value);
    for (i = 0; fields[i]; i += 2)
        buf_printf(&b, "%s:%s\r\n", fields[i], fields[i + 1]);
    for (i = 0; i < n && !drop_added; i++)
        if (ops[i].kind == MSG_HDR_APPEND)
            buf_printf(&b, "%s: %s\r\n", ops[i].name, ops[i].value);
    buf_printf(&b, "\r\n%s", body);
    {
        /* LF inside folded values becomes CRLF, as on the wire */
        BUF w;

        buf_init(&w, 1 << 21);
        for (i = 0; i < b.len; i++) {
            if (b.data[i] == '\n' && (i == 0 || b.data[i - 1] != '\r'))
                buf_append(&w, "\r", 1);
            buf_append(&w, &b.data[i], 1);
        }
        buf_free(&b);
        return w.data;
    }
}

/* has_tag - 1 if the signature value has tag name (at a tag start) */
static int has_tag(const char *value, const char *name)
{
    const char *p = value;
    size_t n = strlen(name);

    while ((p = strstr(p, name)) != NULL) {
        const char *q = p;

        while (q > value && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n'))
            q--;
        if ((q == value || q[-1] == ';') && p[n] == '=')
            return 1;
        p += n;
    }
    return 0;
}

/* verify - how many signatures pass, with libopendkim and the key file */
static int verify(const char *msg, int *nsigs)
{
    DKIM_LIB *lib = dkim_init(NULL, NULL);
    int qm = DKIM_QUERY_FILE, pass = 0;
    DKIM_STAT st;
    DKIM *d;
    DKIM_SIGINFO **sigs = NULL;

    assert_non_null(lib);
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &qm, sizeof(qm));
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, keyfile_dns, strlen(keyfile_dns));
    d = dkim_verify(lib, (const unsigned char *) "test", NULL, &st);
    assert_non_null(d);
    dkim_chunk(d, (unsigned char *) msg, strlen(msg));
    dkim_chunk(d, NULL, 0);
    (void) dkim_eom(d, NULL);
    *nsigs = 0;
    if (dkim_getsiglist(d, &sigs, nsigs) == DKIM_STAT_OK)
        for (int i = 0; i < *nsigs; i++)
            if (DKIM_SIG_CHECK(sigs[i]))
                pass++;
    dkim_free(d);
    dkim_close(lib);
    return pass;
}

typedef struct sign_case {
    const char *name;
    const char *conf;
    const char *from;
    int nsig;
    const char *alg0;
} SIGN_CASE;

static const SIGN_CASE sign_cases[] = {
    {"dual relaxed", "MultipleSignatures yes\n", " App <app@example.com>", 2, "a=rsa-sha256"},
    {"dual simple", "MultipleSignatures yes\nCanonicalization simple/simple\n", " app@example.com", 2, "a=rsa-sha256"},
    {"first match only", "", " app@example.com", 1, "a=rsa-sha256"},
    {"other domain", "MultipleSignatures yes\n", " app@example.net", 1, "d=example.net"},
};

/* test_feedback_id_signed - FeedbackID's header is added before signing, in h=,
 * covered (the message without it fails), never added twice */
static void test_feedback_id_signed(void **state)
{
    static const char *const fields[] = {
        "From", " News <news@example.com>", "To", " user@example.org", "Subject", " hi", NULL,
    };
    static const char *const own[] = {
        "From", " news@example.com", "Feedback-ID", " app:1", NULL,
    };
    const char *body = "Hello\r\n";
    MSG_CONN conn = conn_of("127.0.0.1", "", "");
    SNAPSHOT *s = snap_with("FeedbackID %{stream}:%{domain}:txmilter\n");
    const MSG_HDROP *ops;
    size_t nops, i, added = 0;
    char *msg;
    MSG *m;
    int n;

    (void) state;
    for (int pass = 0; pass < 2; pass++) {
        const char *const *f = pass ? own : fields;

        m = msg_new(s, NULL, &conn, "<news@example.com>");
        for (i = 0; f[i]; i += 2)
            (void) msg_header(m, f[i], f[i + 1]);
        assert_int_equal(msg_eoh(m).verdict, REPLY_CONTINUE);
        assert_int_equal(msg_body(m, (const unsigned char *) body, strlen(body)).verdict,
                         REPLY_CONTINUE);
        assert_int_equal(msg_eom(m).verdict, REPLY_CONTINUE);
        nops = msg_hdrops(m, &ops);
        for (i = 0, added = 0; i < nops; i++)
            if (ops[i].name && strcmp(ops[i].name, "Feedback-ID") == 0) {
                assert_string_equal(ops[i].value, "news@example.com:example.com:txmilter");
                added++;
            }
        assert_int_equal(added, pass ? 0 : 1);
        assert_non_null(strstr(msg_summary(m), pass ? "feedback-id=kept-existing"
                               : "feedback-id=added"));
        if (!pass) {
            assert_non_null(strstr(ops[0].value, "feedback-id"));
            msg = build(m, f, body, 0, NULL);
            assert_int_equal(verify(msg, &n), 1);
            free(msg);
            msg = build(m, f, body, 1, NULL);       /* without the added field */
            assert_int_equal(verify(msg, &n), 0);
            free(msg);
        }
        msg_free(m);
    }
    snapshot_release(s);
}

static void test_sign_and_verify(void **state)
{
    static const char *const fields[] = {
        "From", NULL, "To", " user@example.org", "Subject", " hello\n\tfolded  with\t tabs",
        "X-No-Space", "x", "Date", " Sat, 28 Nov 2026 06:00:00 +0000", NULL,
    };
    const char *body = "Hello\r\n\r\nbody line\r\n";
    MSG_CONN conn = conn_of("127.0.0.1", "", "");

    (void) state;
    for (size_t i = 0; i < sizeof(sign_cases) / sizeof(sign_cases[0]); i++) {
        const SIGN_CASE *c = &sign_cases[i];
        SNAPSHOT *s = snap_with(c->conf);
        MSG *m = msg_new(s, NULL, &conn, "<app@example.com>");
        const char *f[sizeof(fields) / sizeof(fields[0])];
        const MSG_HDROP *ops;
        char *msg;
        int n, pass;
        uint64_t h0, m0, h1, m1;

        memcpy(f, fields, sizeof(f));
        f[1] = c->from;
        for (size_t j = 0; f[j]; j += 2)
            (void) msg_header(m, f[j], f[j + 1]);
        assert_int_equal(msg_add_field(m, "List-Unsubscribe", "<https://u.example/u/T>"), 0);
        assert_int_equal(msg_add_field(m, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click"), 0);
        if (msg_eoh(m).verdict != REPLY_CONTINUE)
            fail_msg("case \"%s\": eoh refused: %s", c->name, msg_summary(m));
        assert_int_equal(msg_add_field(m, "X-Too-Late", "1"), -1);
        assert_true(msg_wants_body(m));
        assert_int_equal(msg_body(m, (const unsigned char *) body, 7).verdict, REPLY_CONTINUE);
        assert_int_equal(msg_body(m, (const unsigned char *) body + 7, strlen(body) - 7).verdict, REPLY_CONTINUE);
        sign_key_stats(&h0, &m0);
        assert_int_equal(msg_eom(m).verdict, REPLY_CONTINUE);
        sign_key_stats(&h1, &m1);
        /* every signature was made with the key parsed at load */
        if (h1 - h0 != (uint64_t) c->nsig || m1 != m0)
            fail_msg("case \"%s\": %llu signatures from the parsed key, %llu parsed again",
                     c->name, (unsigned long long) (h1 - h0), (unsigned long long) (m1 - m0));
        if (msg_hdrops(m, &ops) != (size_t) c->nsig + 2)
            fail_msg("case \"%s\": %zu header changes", c->name, msg_hdrops(m, &ops));
        /* the last op inserted is the topmost: the first configured key */
        if (!has_tag(ops[0].value, "bh") || !has_tag(ops[0].value, "h"))
            fail_msg("case \"%s\": has_tag cannot see bh= or h=", c->name);
        if (strstr(ops[c->nsig - 1].value, c->alg0) == NULL)
            fail_msg("case \"%s\": top signature %s", c->name, ops[c->nsig - 1].value);
        for (int j = 0; j < c->nsig; j++) {
            if (has_tag(ops[j].value, "l"))
                fail_msg("case \"%s\": l= present", c->name);
            if (!strstr(ops[j].value, "list-unsubscribe-post") && !strstr(ops[j].value, "List-Unsubscribe-Post"))
                fail_msg("case \"%s\": h= lacks List-Unsubscribe-Post", c->name);
        }

        msg = build(m, f, body, 0, NULL);
        pass = verify(msg, &n);
        if (n != c->nsig || pass != c->nsig)
            fail_msg("case \"%s\": %d of %d signatures verified:\n%s", c->name, pass, n, msg);
        free(msg);

        /* an added field removed, a second From prepended, a changed
         * body: every signature fails each time */
        msg = build(m, f, body, 1, NULL);
        if (verify(msg, &n) != 0)
            fail_msg("case \"%s\": verified without the added fields", c->name);
        free(msg);
        msg = build(m, f, body, 0, "From: evil@attacker.example");
        if (verify(msg, &n) != 0)
            fail_msg("case \"%s\": verified with a second From", c->name);
        free(msg);
        msg = build(m, f, "Hello\r\n\r\nbody lime\r\n", 0, NULL);
        if (verify(msg, &n) != 0)
            fail_msg("case \"%s\": verified with a changed body", c->name);
        free(msg);

        assert_non_null(strstr(msg_summary(m), "action=signed"));
        msg_free(m);
        snapshot_release(s);
    }
}

/* Memory must not grow with the number of messages signed: libopendkim
 * 2.11 leaks about 1.3 KB per Ed25519 signature unless sign.c reclaims it. */
static void test_no_growth_per_message(void **state)
{
    SNAPSHOT *s = snap_with("MultipleSignatures yes\n");
    MSG_CONN conn = conn_of("127.0.0.1", "", "");
    struct mallinfo2 before, after;
    const char *body = "Hello\r\n";

    (void) state;
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            before = mallinfo2();
        for (int i = 0; i < 300; i++) {
            MSG *m = msg_new(s, NULL, &conn, "<app@example.com>");

            (void) msg_header(m, "From", " app@example.com");
            assert_int_equal(msg_eoh(m).verdict, REPLY_CONTINUE);
            assert_int_equal(msg_body(m, (const unsigned char *) body, strlen(body)).verdict, REPLY_CONTINUE);
            assert_int_equal(msg_eom(m).verdict, REPLY_CONTINUE);
            msg_free(m);
        }
    }
    after = mallinfo2();
    snapshot_release(s);
    if (before.uordblks == 0)
        skip();                 /* a sanitizer's allocator: LeakSanitizer checks instead */
    if (after.uordblks > before.uordblks + 64 * 1024)
        fail_msg("heap grew by %zu bytes over 300 messages", after.uordblks - before.uordblks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outbound),
        cmocka_unit_test(test_from_checks),
        cmocka_unit_test(test_nokey),
        cmocka_unit_test(test_multiple_from_configurable),
        cmocka_unit_test(test_multiple_from_accept_checks_every_mailbox),
        cmocka_unit_test(test_add_field_checks),
        cmocka_unit_test(test_add_field_bounded),
        cmocka_unit_test(test_header_limit),
        cmocka_unit_test(test_long_header_line_flagged),
        cmocka_unit_test(test_sign_and_verify),
        cmocka_unit_test(test_feedback_id_signed),
        cmocka_unit_test(test_no_growth_per_message),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

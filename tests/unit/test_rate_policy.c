/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rate_policy.c - unit tests for rate_policy.c: every error with its
 * exact "file:line: message", good files covering every key, action and
 * option (checked through rate_policy_describe() and the rule fields), the
 * exempt-client lists, files that are not regular files, and describe()
 * cutting its output to fit; ratespec_period_str() writing periods back.
 *
 * A row's policy text is written to a file in /tmp; "%F" in the expected
 * text stands for its path. "{X<n>}" in a policy is n 'x' bytes, "{NUL}"
 * a NUL byte. Every row is one named cmocka test, so a failure names its
 * case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"
#include "netlist.h"
#include "ratespec.h"
#include "rate_policy.h"
#include "util.h"

/* pol_rules - the token "{RULES<n>}": n good rule lines r1 ... rn */
static size_t pol_rules(const char *p, BUF *b)
{
    unsigned long n;
    char *end;

    if (strncmp(p, "{RULES", 6) != 0 || (n = strtoul(p + 6, &end, 10)) == 0 || *end != '}')
        return 0;
    for (unsigned long i = 1; i <= n; i++)
        assert_int_equal(buf_printf(b, "r%lu rcpt 1/1s tempfail\n", i), 0);
    return (size_t) (end + 1 - p);
}

/* A policy and what loading it must say. */
typedef struct pol_case {
    const char *name;
    const char *text;
    const char *expect;     /* errors (load fails), or one line per rule:
                             * "name|describe|v4/v6|line" (load succeeds) */
    int         ok;
} POL_CASE;

#define E(name, text, errs) {name, text, errs, 0}
#define G(name, text, rules) {name, text, rules, 1}

static const POL_CASE pol_cases[] = {
    /* good files: every key, action and option */
    G("empty-file", "", ""),
    G("comments-only", "# nothing\n\n   \n\t# still nothing\n", ""),
    G("design-example",
      "# name          key                 limit    action     options\n"
      "rcpt-burst      rcpt                3/10m    tempfail\n"
      "rcpt-day        rcpt                20/1d    tempfail\n"
      "tenant-rcpt     rcpt,sender_domain  10/1h    tempfail   shadow\n"
      "domain-flood    rcpt_domain         5000/1m  tempfail\n"
      "client          client_ip/24        200/1s   tempfail\n",
      "rcpt-burst|rcpt 3/10m tempfail|32/128|2\n"
      "rcpt-day|rcpt 20/1d tempfail|32/128|3\n"
      "tenant-rcpt|rcpt,sender_domain 10/1h tempfail shadow|32/128|4\n"
      "domain-flood|rcpt_domain 5000/1m tempfail|32/128|5\n"
      "client|client_ip/24 200/1s tempfail|24/128|6\n"),
    G("every-key",
      "a sender 1/1s reject\n"
      "b sender_domain 2/2m quarantine\n"
      "c auth 3/3h shadow\n"
      "d global 4/4d tempfail\n"
      "e client_ip 5/5w tempfail\n"
      "f client_ip/24/64 6/6s tempfail\n"
      "g client_ip/0/0 7/7s tempfail\n"
      "h client_ip/32/48 8/8s tempfail\n"
      "i auth,client_ip/16,sender_domain,sender,rcpt_domain,rcpt 9/9s tempfail\n",
      "a|sender 1/1s reject|32/128|1\n"
      "b|sender_domain 2/2m quarantine|32/128|2\n"
      "c|auth 3/3h shadow|32/128|3\n"
      "d|global 4/4d tempfail|32/128|4\n"
      "e|client_ip 5/5w tempfail|32/128|5\n"
      "f|client_ip/24/64 6/6s tempfail|24/64|6\n"
      "g|client_ip/0/0 7/7s tempfail|0/0|7\n"
      "h|client_ip/32/48 8/8s tempfail|32/48|8\n"
      "i|rcpt,rcpt_domain,sender,sender_domain,client_ip/16,auth 9/9s tempfail|16/128|9\n"),
    G("periods-and-limits",
      "p1 rcpt 1/1s tempfail\n"
      "p2 rcpt 10000000/366d tempfail\n"
      "p3 rcpt 1/60s tempfail\n"
      "p4 rcpt 1/90m tempfail\n"
      "p5 rcpt 1/24h tempfail\n"
      "p6 rcpt 1/7d tempfail\n"
      "p7 rcpt 1/52w tempfail\n"
      "p8 rcpt 007/010m tempfail\n",
      "p1|rcpt 1/1s tempfail|32/128|1\n"
      "p2|rcpt 10000000/366d tempfail|32/128|2\n"
      "p3|rcpt 1/1m tempfail|32/128|3\n"
      "p4|rcpt 1/90m tempfail|32/128|4\n"
      "p5|rcpt 1/1d tempfail|32/128|5\n"
      "p6|rcpt 1/1w tempfail|32/128|6\n"
      "p7|rcpt 1/52w tempfail|32/128|7\n"
      "p8|rcpt 7/10m tempfail|32/128|8\n"),
    G("every-option",
      "all rcpt 3/10m reject shadow exempt-rcpt=*@example.com,postmaster@* "
      "exempt-sender=noreply@app.example exempt-client=192.0.2.0/24,2001:db8::/32,!192.0.2.7 "
      "exempt-auth=alice,Bob\n"
      "   shadow-action\trcpt\t1/1s\tshadow\tshadow   # comment after white space\n",
      "all|rcpt 3/10m reject shadow exempt-rcpt=*@example.com,postmaster@* "
      "exempt-sender=noreply@app.example exempt-client=192.0.2.0/24,2001:db8::/32,!192.0.2.7 "
      "exempt-auth=alice,Bob|32/128|1\n"
      "shadow-action|rcpt 1/1s shadow|32/128|2\n"),
    G("option-order", "o rcpt 1/1s tempfail exempt-auth=x shadow exempt-rcpt=a\n",
      "o|rcpt 1/1s tempfail shadow exempt-rcpt=a exempt-auth=x|32/128|1\n"),
    G("name-chars", "A-z_0.9 rcpt 1/1s tempfail\n{X63} rcpt 1/1s tempfail\n",
      "A-z_0.9|rcpt 1/1s tempfail|32/128|1\n{X63}|rcpt 1/1s tempfail|32/128|2\n"),
    G("hash-in-pattern", "h rcpt 1/1s tempfail exempt-rcpt=a#b@x\n",
      "h|rcpt 1/1s tempfail exempt-rcpt=a#b@x|32/128|1\n"),
    G("rules-256", "{RULES256}", NULL),
    G("crlf", "c rcpt 1/1s tempfail\r\n", "c|rcpt 1/1s tempfail|32/128|1\n"),

    /* errors: one line per problem, parsing goes on */
    E("missing-fields", "a rcpt 1/1s\nb\n",
      "%F:1: missing fields (expected \"name key N/period action [option ...]\")\n"
      "%F:2: missing fields (expected \"name key N/period action [option ...]\")\n"),
    E("unknown-key", "a rcpt,recipient 1/1s tempfail\n",
      "%F:1: unknown key \"recipient\" (expected rcpt, rcpt_domain, sender, sender_domain, "
      "client_ip[/v4len[/v6len]], auth or global)\n"),
    E("unknown-key-case", "a RCPT 1/1s tempfail\n",
      "%F:1: unknown key \"RCPT\" (expected rcpt, rcpt_domain, sender, sender_domain, "
      "client_ip[/v4len[/v6len]], auth or global)\n"),
    E("unknown-key-prefix", "a rcpt/24 1/1s tempfail\n",
      "%F:1: unknown key \"rcpt/24\" (expected rcpt, rcpt_domain, sender, sender_domain, "
      "client_ip[/v4len[/v6len]], auth or global)\n"),
    E("duplicate-key", "a rcpt,sender,rcpt 1/1s tempfail\n",
      "%F:1: duplicate key \"rcpt\" in \"rcpt,sender,rcpt\"\n"),
    E("duplicate-client-ip", "a client_ip/24,client_ip/16 1/1s tempfail\n",
      "%F:1: duplicate key \"client_ip\" in \"client_ip/24,client_ip/16\"\n"),
    E("empty-key", "a rcpt,,sender 1/1s tempfail\nb rcpt, 1/1s tempfail\n",
      "%F:1: empty key in \"rcpt,,sender\"\n%F:2: empty key in \"rcpt,\"\n"),
    E("global-combined", "a global,rcpt 1/1s tempfail\n",
      "%F:1: key \"global\" cannot be combined with other keys (it is the whole relay): "
      "\"global,rcpt\"\n"),
    E("bad-prefix", "a client_ip/33 1/1s tempfail\nb client_ip/24/129 1/1s tempfail\n"
      "c client_ip/ 1/1s tempfail\nd client_ip/x 1/1s tempfail\ne client_ip/24/ 1/1s tempfail\n"
      "f client_ip/1/2/3 1/1s tempfail\ng client_ip/-1 1/1s tempfail\n",
      "%F:1: bad prefix length in \"client_ip/33\" (expected client_ip/0-32 or "
      "client_ip/0-32/0-128)\n"
      "%F:2: bad prefix length in \"client_ip/24/129\" (expected client_ip/0-32 or "
      "client_ip/0-32/0-128)\n"
      "%F:3: bad prefix length in \"client_ip/\" (expected client_ip/0-32 or "
      "client_ip/0-32/0-128)\n"
      "%F:4: bad prefix length in \"client_ip/x\" (expected client_ip/0-32 or "
      "client_ip/0-32/0-128)\n"
      "%F:5: bad prefix length in \"client_ip/24/\" (expected client_ip/0-32 or "
      "client_ip/0-32/0-128)\n"
      "%F:6: bad prefix length in \"client_ip/1/2/3\" (expected client_ip/0-32 or "
      "client_ip/0-32/0-128)\n"
      "%F:7: bad prefix length in \"client_ip/-1\" (expected client_ip/0-32 or "
      "client_ip/0-32/0-128)\n"),
    E("limit-zero", "a rcpt 0/1s tempfail\n",
      "%F:1: limit 0 out of range in \"0/1s\" (1 to 10000000)\n"),
    E("limit-too-big", "a rcpt 10000001/1d tempfail\n",
      "%F:1: limit 10000001 out of range in \"10000001/1d\" (1 to 10000000)\n"),
    E("limit-not-number", "a rcpt x/1s tempfail\nb rcpt -1/1s tempfail\nc rcpt +1/1s tempfail\n"
      "d rcpt 1s tempfail\ne rcpt /1s tempfail\nf rcpt 1000000000000000/1s tempfail\n",
      "%F:1: bad limit \"x/1s\" (expected N/period, e.g. 3/10m)\n"
      "%F:2: bad limit \"-1/1s\" (expected N/period, e.g. 3/10m)\n"
      "%F:3: bad limit \"+1/1s\" (expected N/period, e.g. 3/10m)\n"
      "%F:4: bad limit \"1s\" (expected N/period, e.g. 3/10m)\n"
      "%F:5: bad limit \"/1s\" (expected N/period, e.g. 3/10m)\n"
      "%F:6: bad limit \"1000000000000000/1s\" (expected N/period, e.g. 3/10m)\n"),
    E("period-no-unit", "a rcpt 3/10 tempfail\n",
      "%F:1: period \"10\" in \"3/10\" has no unit (s, m, h, d or w)\n"),
    E("period-bad", "a rcpt 3/10x tempfail\nb rcpt 3/ tempfail\nc rcpt 3/m tempfail\n"
      "d rcpt 3/1.5h tempfail\ne rcpt 3/10ms tempfail\nf rcpt 3/1H tempfail\n",
      "%F:1: bad period \"10x\" in \"3/10x\" (expected a number and s, m, h, d or w, e.g. 10m)\n"
      "%F:2: bad period \"\" in \"3/\" (expected a number and s, m, h, d or w, e.g. 10m)\n"
      "%F:3: bad period \"m\" in \"3/m\" (expected a number and s, m, h, d or w, e.g. 10m)\n"
      "%F:4: bad period \"1.5h\" in \"3/1.5h\" (expected a number and s, m, h, d or w, e.g. "
      "10m)\n"
      "%F:5: bad period \"10ms\" in \"3/10ms\" (expected a number and s, m, h, d or w, e.g. "
      "10m)\n"
      "%F:6: bad period \"1H\" in \"3/1H\" (expected a number and s, m, h, d or w, e.g. 10m)\n"),
    E("period-range", "a rcpt 3/0s tempfail\nb rcpt 3/367d tempfail\nc rcpt 3/53w tempfail\n"
      "d rcpt 3/999999999999w tempfail\n",
      "%F:1: period \"0s\" out of range in \"3/0s\" (1s to 366d)\n"
      "%F:2: period \"367d\" out of range in \"3/367d\" (1s to 366d)\n"
      "%F:3: period \"53w\" out of range in \"3/53w\" (1s to 366d)\n"
      "%F:4: period \"999999999999w\" out of range in \"3/999999999999w\" (1s to 366d)\n"),
    E("unknown-action", "a rcpt 1/1s defer\nb rcpt 1/1s TEMPFAIL\n",
      "%F:1: unknown action \"defer\" (expected tempfail, reject, quarantine or shadow)\n"
      "%F:2: unknown action \"TEMPFAIL\" (expected tempfail, reject, quarantine or shadow)\n"),
    E("unknown-option", "a rcpt 1/1s tempfail exempt-recipient=x\nb rcpt 1/1s tempfail log\n",
      "%F:1: unknown option \"exempt-recipient=x\" (expected shadow, exempt-rcpt=, "
      "exempt-sender=, exempt-client= or exempt-auth=)\n"
      "%F:2: unknown option \"log\" (expected shadow, exempt-rcpt=, exempt-sender=, "
      "exempt-client= or exempt-auth=)\n"),
    E("duplicate-option", "a rcpt 1/1s tempfail shadow shadow\n"
      "b rcpt 1/1s tempfail exempt-rcpt=a exempt-rcpt=b\n",
      "%F:1: duplicate option \"shadow\"\n%F:2: duplicate option \"exempt-rcpt\"\n"),
    E("option-value", "a rcpt 1/1s tempfail shadow=1\nb rcpt 1/1s tempfail exempt-auth\n",
      "%F:1: option \"shadow\" takes no value: \"shadow=1\"\n"
      "%F:2: option \"exempt-auth\" needs a value (exempt-auth=A[,B...])\n"),
    E("empty-lists", "a rcpt 1/1s tempfail exempt-rcpt=\nb rcpt 1/1s tempfail exempt-sender=a,,b\n"
      "c rcpt 1/1s tempfail exempt-client=1.2.3.4,\nd rcpt 1/1s tempfail exempt-auth=,x\n",
      "%F:1: empty list in \"exempt-rcpt=\"\n"
      "%F:2: empty item in \"exempt-sender=a,,b\"\n"
      "%F:3: empty item in \"exempt-client=1.2.3.4,\"\n"
      "%F:4: empty item in \"exempt-auth=,x\"\n"),
    E("exempt-client-bad", "a rcpt 1/1s tempfail exempt-client=192.0.2.0/33\n"
      "b rcpt 1/1s tempfail exempt-client=2001:db8::/129,10.0.0.1\n",
      "%F:1: bad prefix length in \"192.0.2.0/33\" (expected /0 to /32)\n"
      "%F:2: bad prefix length in \"2001:db8::/129\" (expected /0 to /128)\n"),
    E("exempt-client-not-a-file", "a rcpt 1/1s tempfail exempt-client=/etc/hosts\n",
      "%F:1: bad address \"/etc/hosts\"\n"),
    E("bad-name",
      "a/b rcpt 1/1s tempfail\n{X64} rcpt 1/1s tempfail\nn\xc3\xa9 rcpt 1/1s tempfail\n",
      "%F:1: bad rule name \"a/b\" (1 to 63 of A-Z a-z 0-9 _ . -)\n"
      "%F:2: bad rule name \"{X64}\" (1 to 63 of A-Z a-z 0-9 _ . -)\n"
      "%F:3: bad rule name \"n\xc3\xa9\" (1 to 63 of A-Z a-z 0-9 _ . -)\n"),
    E("duplicate-name", "a rcpt 1/1s tempfail\nb rcpt 1/1s tempfail\n# c\na sender 1/1s reject\n",
      "%F:4: duplicate rule name \"a\" (first at line 1)\n"),
    E("too-many-rules", "{RULES256}x rcpt 1/1s tempfail\ny rcpt 1/1s tempfail\n",
      "%F:257: too many rules (at most 256)\n"),
    E("line-too-long", "a rcpt 1/1s tempfail exempt-rcpt={X8200}\nb rcpt 1/1s nope\n",
      "%F:1: line longer than 8192 bytes\n"
      "%F:2: unknown action \"nope\" (expected tempfail, reject, quarantine or shadow)\n"),
    E("nul-byte", "a rcpt 1/1s{NUL} tempfail\n", "%F:1: line holds a NUL byte\n"),
    E("several-on-one-line", "a/ global,rcpt 0/0s defer bogus\n",
      "%F:1: bad rule name \"a/\" (1 to 63 of A-Z a-z 0-9 _ . -)\n"
      "%F:1: key \"global\" cannot be combined with other keys (it is the whole relay): "
      "\"global,rcpt\"\n"
      "%F:1: limit 0 out of range in \"0/0s\" (1 to 10000000)\n"
      "%F:1: period \"0s\" out of range in \"0/0s\" (1s to 366d)\n"
      "%F:1: unknown action \"defer\" (expected tempfail, reject, quarantine or shadow)\n"
      "%F:1: unknown option \"bogus\" (expected shadow, exempt-rcpt=, exempt-sender=, "
      "exempt-client= or exempt-auth=)\n"),
    E("good-and-bad", "good rcpt 1/1s tempfail\nbad rcpt 1/1s tempfail nope\n",
      "%F:2: unknown option \"nope\" (expected shadow, exempt-rcpt=, exempt-sender=, "
      "exempt-client= or exempt-auth=)\n"),
};

/* render_rules - "name|describe|v4/v6|line\n" per rule */
static char *render_rules(const RATE_POLICY *p)
{
    BUF b;
    char d[16384];
    size_t i;

    buf_init(&b, 1 << 20);
    assert_int_equal(buf_append(&b, "", 0), 0);
    for (i = 0; i < p->n; i++) {
        const RATE_RULE *r = &p->rule[i];

        assert_int_equal(buf_printf(&b, "%s|%s|%d/%d|%d\n", r->name,
                                    rate_policy_describe(r, d, sizeof(d)), r->v4len, r->v6len,
                                    r->line), 0);
    }
    return b.data;
}

/* test_policy - one row of pol_cases */
static void test_policy(void **state)
{
    const POL_CASE *c = *state;
    char *path = th_tempfile_with(c->text, pol_rules), *exp;
    RATE_POLICY *p;
    BUF errs;
    size_t i;

    buf_init(&errs, 1 << 20);
    p = rate_policy_load(path, &errs);
    if (c->ok) {
        if (p == NULL)
            fail_msg("case %s: load failed:\n%s", c->name, errs.data ? errs.data : "");
        if (errs.len)
            fail_msg("case %s: loaded with errors:\n%s", c->name, errs.data);
        assert_string_equal(p->path, path);
        for (i = 0; i < p->n; i++)
            if (strcmp(p->rule[i].file, path) != 0)
                fail_msg("case %s: rule %zu names file %s", c->name, i, p->rule[i].file);
        if (c->expect != NULL) {
            char *got = render_rules(p), *want = th_expand_with(c->expect, NULL, pol_rules);

            if (strcmp(got, want) != 0)
                fail_msg("case %s: expected\n%s\ngot\n%s", c->name, want, got);
            free(got);
            free(want);
        } else {
            assert_int_equal(p->n, RATE_POLICY_RULES_MAX);
        }
        rate_policy_free(p);
    } else {
        char *want = th_expand_with(c->expect, NULL, pol_rules);
        const char *vals[26] = { NULL };

        vals['F' - 'A'] = path;
        exp = th_subst(want, vals);
        free(want);
        if (p != NULL)
            fail_msg("case %s: loaded, expected errors:\n%s", c->name, exp);
        if (errs.data == NULL || strcmp(errs.data, exp) != 0)
            fail_msg("case %s: expected errors\n%s\ngot\n%s", c->name, exp,
                     errs.data ? errs.data : "(none)");
        free(exp);
    }
    buf_free(&errs);
    th_unlink(path);
}

/* The rule fields themselves, for the file of row "every-option". */
static void test_fields(void **state)
{
    char *path = th_tempfile("all rcpt,client_ip/24/64 3/10m reject shadow "
                             "exempt-rcpt=*@example.com,postmaster@* "
                             "exempt-sender=noreply@app.example "
                             "exempt-client=192.0.2.0/24,2001:db8::/32,!192.0.2.7,localhost "
                             "exempt-auth=alice,Bob\n"
                             "plain global 5/1h quarantine\n"
                             "sh sender 1/1s shadow\n");
    RATE_POLICY *p;
    const RATE_RULE *r;
    BUF errs;

    (void) state;
    buf_init(&errs, 4096);
    p = rate_policy_load(path, &errs);
    assert_non_null(p);
    assert_int_equal(p->n, 3);
    r = &p->rule[0];
    assert_string_equal(r->name, "all");
    assert_int_equal(r->keys, RATE_KEY_RCPT | RATE_KEY_CLIENT_IP);
    assert_int_equal(r->v4len, 24);
    assert_int_equal(r->v6len, 64);
    assert_int_equal(r->limit, 3);
    assert_int_equal(r->period_ms, 600000);
    assert_int_equal(r->action, RATE_ACTION_REJECT);
    assert_int_equal(r->shadow, 1);
    assert_int_equal(r->exempt_rcpt.n, 2);
    assert_string_equal(r->exempt_rcpt.v[0], "*@example.com");
    assert_string_equal(r->exempt_rcpt.v[1], "postmaster@*");
    assert_null(r->exempt_rcpt.v[2]);
    assert_int_equal(r->exempt_sender.n, 1);
    assert_string_equal(r->exempt_sender.v[0], "noreply@app.example");
    assert_int_equal(r->exempt_auth.n, 2);
    assert_string_equal(r->exempt_auth.v[1], "Bob");
    assert_non_null(r->exempt_client);
    assert_int_equal(netlist_match_str(r->exempt_client, "192.0.2.1", NULL), 1);
    assert_int_equal(netlist_match_str(r->exempt_client, "192.0.2.7", NULL), 0);
    assert_int_equal(netlist_match_str(r->exempt_client, "192.0.3.1", NULL), 0);
    assert_int_equal(netlist_match_str(r->exempt_client, "2001:db8:1::5", NULL), 1);
    assert_int_equal(netlist_match_str(r->exempt_client, "2001:db9::5", NULL), 0);
    assert_int_equal(netlist_match_str(r->exempt_client, "127.0.0.1", NULL), 1);
    assert_int_equal(p->rule[0].line, 1);
    r = &p->rule[1];
    assert_int_equal(r->keys, RATE_KEY_GLOBAL);
    assert_int_equal(r->v4len, 32);
    assert_int_equal(r->v6len, 128);
    assert_int_equal(r->period_ms, 3600000);
    assert_int_equal(r->action, RATE_ACTION_QUARANTINE);
    assert_int_equal(r->shadow, 0);
    assert_null(r->exempt_client);
    assert_int_equal(r->exempt_rcpt.n, 0);
    assert_null(r->exempt_rcpt.v[0]);
    r = &p->rule[2];
    assert_int_equal(r->action, RATE_ACTION_SHADOW);
    assert_int_equal(r->shadow, 1);
    assert_int_equal(r->period_ms, 1000);
    assert_int_equal(r->line, 3);
    rate_policy_free(p);
    buf_free(&errs);
    th_unlink(path);
}

/* test_not_regular - directories, FIFOs and missing files */
static void test_not_regular(void **state)
{
    char dir[] = "/tmp/txmilter-test-XXXXXX", fifo[4200], want[8600];
    RATE_POLICY *p;
    BUF errs;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    buf_init(&errs, 4096);

    assert_null(p = rate_policy_load(dir, &errs));
    snprintf(want, sizeof(want), "%s is not a regular file\n", dir);
    assert_string_equal(errs.data, want);
    buf_reset(&errs);

    assert_null(p = rate_policy_load(fifo, &errs));      /* must not block */
    snprintf(want, sizeof(want), "%s is not a regular file\n", fifo);
    assert_string_equal(errs.data, want);
    buf_reset(&errs);

    snprintf(fifo, sizeof(fifo), "%s/missing", dir);
    assert_null(p = rate_policy_load(fifo, &errs));
    snprintf(want, sizeof(want), "cannot open %s: No such file or directory\n", fifo);
    assert_string_equal(errs.data, want);

    assert_null(rate_policy_load(fifo, NULL));           /* errs may be NULL */
    rate_policy_free(NULL);
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(unlink(fifo), 0);
    assert_int_equal(rmdir(dir), 0);
    buf_free(&errs);
}

/* Describe into small buffers: always terminated, a prefix of the whole. */
static void test_describe_cut(void **state)
{
    char *path = th_tempfile("t rcpt,sender_domain 10/1h tempfail shadow exempt-auth=a,b\n");
    char whole[512], small[64];
    RATE_POLICY *p;
    size_t len;

    (void) state;
    assert_non_null(p = rate_policy_load(path, NULL));
    assert_string_equal(rate_policy_describe(&p->rule[0], whole, sizeof(whole)),
                        "rcpt,sender_domain 10/1h tempfail shadow exempt-auth=a,b");
    for (len = 1; len < sizeof(small); len++) {
        memset(small, '#', sizeof(small));
        assert_ptr_equal(rate_policy_describe(&p->rule[0], small, len), small);
        if (strlen(small) != (len - 1 < strlen(whole) ? len - 1 : strlen(whole))
            || strncmp(small, whole, strlen(small)) != 0)
            fail_msg("describe into %zu bytes gave \"%s\"", len, small);
        if (small[len] != '#' && len + 1 < sizeof(small))
            fail_msg("describe into %zu bytes wrote past the end", len);
    }
    assert_ptr_equal(rate_policy_describe(&p->rule[0], small, 0), small);
    rate_policy_free(p);
    th_unlink(path);
}

/* test_period_str - periods written back in the largest unit that divides them */
static void test_period_str(void **state)
{
    static const struct { uint64_t ms; const char *want; } t[] = {
        {604800000ULL, "7d"}, {1209600000ULL, "14d"}, {86400000ULL, "1d"}, {5400000ULL, "90m"},
        {3600000ULL, "1h"}, {61000ULL, "61s"}, {1500ULL, "1500ms"}, {0, "0ms"},
    };
    char out[24];

    (void) state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ratespec_period_str(t[i].ms, out, sizeof(out));
        assert_string_equal(out, t[i].want);
    }
}

int main(void)
{
    static const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_period_str),
        cmocka_unit_test(test_not_regular),
        cmocka_unit_test(test_describe_cut),
    };
    int rc = 0;

    rc |= RUN("rate_policy files", test_policy, pol_cases);
    rc |= cmocka_run_group_tests_name("rate_policy", misc, NULL, NULL);
    return rc ? 1 : 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_keytable.c - unit tests for keytable.c: every step of OpenDKIM's
 * SigningTable lookup order, refile: wildcards, '%' substitution in d=,
 * i= and key paths, hostile From domains, MultipleSignatures, the
 * Domain/Selector/KeyFile shorthand (with SubDomains and "*"), and every
 * error message with its file:line.
 *
 * Every table row is one named cmocka test, so a failure names its case.
 * A row's configuration, KeyTable and SigningTable are written to files
 * in /tmp: "%C", "%K" and "%S" stand for their paths, "%D" for
 * tests/unit/data. A lookup's picks are rendered as
 * "name d=DOMAIN s=SELECTOR i=SIGNER k=PATH" joined with " ; ".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"
#include "conf.h"
#include "keytable.h"
#include "util.h"

/* The files of one case, and the substitutions that name them. */
typedef struct {
    char   *conf, *kt, *st;
    const char *vals[26];
} FILES;

/* files_make - write the case's files; %K and %S inside conf are replaced */
static void files_make(FILES *f, const char *conf, const char *kt, const char *st)
{
    char *text;

    memset(f, 0, sizeof(*f));
    f->kt = kt ? th_tempfile(kt) : NULL;
    f->st = st ? th_tempfile(st) : NULL;
    f->vals['K' - 'A'] = f->kt;
    f->vals['S' - 'A'] = f->st;
    f->vals['D' - 'A'] = th_datadir();
    text = th_subst(conf, f->vals);
    f->conf = th_tempfile(text);
    f->vals['C' - 'A'] = f->conf;
    free(text);
}

/* files_remove - remove the case's files */
static void files_remove(FILES *f)
{
    th_unlink(f->conf);
    th_unlink(f->kt);
    th_unlink(f->st);
}

/* render_picks - picks as "name d= s= i= k=" joined with " ; " */
static void render_picks(const KEYTABLE_PICK *p, size_t n, BUF *out)
{
    size_t i;

    assert_int_equal(buf_puts(out, ""), 0);
    for (i = 0; i < n; i++) {
        const KEYTABLE_KEY *k = p[i].key;

        assert_non_null(k);
        assert_int_equal(buf_printf(out, "%s%s d=%s s=%s i=%s k=%s%s", i ? " ; " : "",
                                    k->name, p[i].domain, k->selector, p[i].signer,
                                    k->inline_key ? "inline:" : "",
                                    k->inline_key ? k->inline_key : p[i].keypath), 0);
    }
}

/* The KeyTable with one key per step of the lookup order. */
#define KT_STEPS \
    "k-user-host  example.com:s1:/keys/user-host.key\n" \
    "k-host       example.com:s2:/keys/host.key\n" \
    "k-user-par   example.com:s3:/keys/user-par.key\n" \
    "k-user-com   example.com:s4:/keys/user-com.key\n" \
    "k-par        example.com:s5:/keys/par.key\n" \
    "k-com        example.com:s6:/keys/com.key\n" \
    "k-user-any   example.com:s7:/keys/user-any.key\n" \
    "k-any        %:s8:/keys/%.key\n" \
    "k-inline     example.com:s9:MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n" \
    "k-dot        example.com:s10:./keys/rel.key\n" \
    "k-dotdot     example.com:s11:../keys/rel.key\n" \
    "k-nodot      example.com:s12:keys/rel.key\n" \
    "k-colon      example.com:s13:/keys/a:b.key\n" \
    "k-long       %:s14:/{X1010}/%.key\n"

/* The SigningTable with one line per step. */
#define ST_STEPS \
    "bob@foo.example.com  k-user-host\n" \
    "foo.example.com      k-host\n" \
    "bob@.example.com     k-user-par\n" \
    "bob@.com             k-user-com\n" \
    ".example.com         k-par\n" \
    ".com                 k-com\n" \
    "bob@*                k-user-any\n" \
    "*                    k-any\n"

#define TABLES "KeyTable %K\nSigningTable %S\n"
#define RETABLES "KeyTable %K\nSigningTable refile:%S\n"
#define MULTI "MultipleSignatures yes\n"

#define P_UH "k-user-host d=example.com s=s1 i= k=/keys/user-host.key"
#define P_H "k-host d=example.com s=s2 i= k=/keys/host.key"
#define P_UP "k-user-par d=example.com s=s3 i= k=/keys/user-par.key"
#define P_UC "k-user-com d=example.com s=s4 i= k=/keys/user-com.key"
#define P_P "k-par d=example.com s=s5 i= k=/keys/par.key"
#define P_C "k-com d=example.com s=s6 i= k=/keys/com.key"
#define P_UA "k-user-any d=example.com s=s7 i= k=/keys/user-any.key"
#define P_A(d) "k-any d=" d " s=s8 i= k=/keys/" d ".key"

typedef struct {
    const char *name;
    const char *conf;
    const char *kt;
    const char *st;
    const char *local;
    const char *domain;
    const char *want;           /* rendered picks, "" for none */
    size_t  max;                /* 0: 8 */
} LOOKUP_CASE;

static const LOOKUP_CASE lookup_cases[] = {
    /* OpenDKIM's order, one step at a time */
    {"step 1 user@host", TABLES, KT_STEPS, ST_STEPS, "bob", "foo.example.com", P_UH, 0},
    {"step 2 host", TABLES, KT_STEPS, ST_STEPS, "alice", "foo.example.com", P_H, 0},
    {"step 3 user@.parent", TABLES, KT_STEPS, ST_STEPS, "bob", "bar.example.com", P_UP, 0},
    {"step 3 user@.parent, top parent", TABLES, KT_STEPS, ST_STEPS, "bob", "x.other.com",
     P_UC, 0},
    {"step 4 .parent", TABLES, KT_STEPS, ST_STEPS, "alice", "bar.example.com", P_P, 0},
    {"step 4 .parent, top parent", TABLES, KT_STEPS, ST_STEPS, "alice", "x.other.com",
     P_C, 0},
    {"step 5 user@*", TABLES, KT_STEPS, ST_STEPS, "bob", "example.org", P_UA, 0},
    {"step 6 * with d=% and path %", TABLES, KT_STEPS, ST_STEPS, "alice", "example.org",
     P_A("example.org"), 0},
    {"host before user@.parent", TABLES, KT_STEPS,
     "bob@.example.com k-user-par\nfoo.example.com k-host\n", "bob", "foo.example.com", P_H, 0},
    {"user@.parent of every parent before .parent", TABLES, KT_STEPS,
     ".example.com k-par\nbob@.com k-user-com\n", "bob", "x.example.com", P_UC, 0},
    {"nearer parent first, whatever the file order", TABLES, KT_STEPS,
     "bob@.com k-user-com\nbob@.example.com k-user-par\n", "bob", "x.example.com", P_UP, 0},
    {"nearer .parent first", TABLES, KT_STEPS, ".com k-com\n.example.com k-par\n",
     "alice", "x.example.com", P_P, 0},
    {".parent does not match the domain itself", TABLES, KT_STEPS, ".example.com k-par\n",
     "alice", "example.com", "", 0},
    {"user@* before *", TABLES, KT_STEPS, "* k-any\nbob@* k-user-any\n", "bob",
     "example.org", P_UA, 0},
    {"flat keys ignore case", TABLES, KT_STEPS, "BOB@Foo.Example.COM k-user-host\n", "bob",
     "foo.example.com", P_UH, 0},
    {"flat table has no wildcards", TABLES, KT_STEPS, "*@foo.example.com k-host\n", "bob",
     "foo.example.com", "", 0},
    {"no match", TABLES, KT_STEPS, "example.net k-host\n", "bob", "example.com", "", 0},
    {"empty local part skips user steps", TABLES, KT_STEPS, "@foo.example.com k-user-host\n"
     "bob@* k-user-any\n* k-host\n", "", "foo.example.com", P_H, 0},
    /* MultipleSignatures */
    {"flat: first line of the first key only", TABLES, KT_STEPS,
     "foo.example.com k-host\n.example.com k-par\nfoo.example.com k-user-host\n",
     "alice", "foo.example.com", P_H, 0},
    {"flat multiple: every line of the first key", MULTI TABLES, KT_STEPS,
     "foo.example.com k-host\n.example.com k-par\nfoo.example.com k-user-host\n",
     "alice", "foo.example.com", P_H " ; " P_UH, 0},
    {"flat multiple: bounded by max", MULTI TABLES, KT_STEPS,
     "* k-host\n* k-par\n* k-com\n", "alice", "foo.example.com", P_H " ; " P_P, 2},
    {"KeyTable refile: read as a flat file (OpenDKIM guides)",
     "KeyTable refile:%K\nSigningTable refile:%S\n", KT_STEPS,
     "*@foo.example.com k-host\n", "alice", "foo.example.com", P_H, 0},
    /* refile: */
    {"refile: first matching line", RETABLES, KT_STEPS,
     "*@foo.example.com k-host\n*@*.example.com k-par\n* k-any\n", "alice",
     "foo.example.com", P_H, 0},
    {"refile: multiple gives every matching line", MULTI RETABLES, KT_STEPS,
     "*@foo.example.com k-host\n*@*.example.com k-par\n*@example.org k-com\n* k-any\n",
     "alice", "foo.example.com", P_H " ; " P_P " ; " P_A("foo.example.com"), 0},
    {"refile: file order, not specificity", RETABLES, KT_STEPS,
     "* k-par\n*@foo.example.com k-host\n", "alice", "foo.example.com", P_P, 0},
    {"refile: *.example.com needs a subdomain", RETABLES, KT_STEPS,
     "*@*.example.com k-par\n", "alice", "example.com", "", 0},
    {"refile: pattern ignores case", RETABLES, KT_STEPS, "Bob@FOO.example.com k-host\n",
     "bob", "foo.example.com", P_H, 0},
    {"refile: matched against local@domain", RETABLES, KT_STEPS, "foo.example.com k-host\n",
     "bob", "foo.example.com", "", 0},
    /* signer and substitution */
    {"signer with %", TABLES, KT_STEPS, "* k-host @%\n", "a", "news.example.com",
     "k-host d=example.com s=s2 i=@news.example.com k=/keys/host.key", 0},
    {"signer with local part and %", TABLES, KT_STEPS, "* k-any bounces@%\n", "a",
     "example.net", "k-any d=example.net s=s8 i=bounces@example.net k=/keys/example.net.key",
     0},
    {"fixed signer", RETABLES, KT_STEPS, "* k-host @example.com\n", "a", "example.com",
     "k-host d=example.com s=s2 i=@example.com k=/keys/host.key", 0},
    {"inline key", TABLES, KT_STEPS, "* k-inline\n", "a", "example.com",
     "k-inline d=example.com s=s9 i= k=inline:MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 0},
    {"./ is a path", TABLES, KT_STEPS, "* k-dot\n", "a", "example.com",
     "k-dot d=example.com s=s10 i= k=./keys/rel.key", 0},
    {"../ is a path", TABLES, KT_STEPS, "* k-dotdot\n", "a", "example.com",
     "k-dotdot d=example.com s=s11 i= k=../keys/rel.key", 0},
    {"other relative text is a key", TABLES, KT_STEPS, "* k-nodot\n", "a", "example.com",
     "k-nodot d=example.com s=s12 i= k=inline:keys/rel.key", 0},
    {"keypath keeps colons after the second", TABLES, KT_STEPS, "* k-colon\n", "a",
     "example.com", "k-colon d=example.com s=s13 i= k=/keys/a:b.key", 0},
    /* hostile From domains never reach a path */
    {"hostile domain: dot-dot path", TABLES, KT_STEPS, ST_STEPS, "alice", "../../etc/shadow",
     "", 0},
    {"hostile domain: leading dot", TABLES, KT_STEPS, ST_STEPS, "alice", ".hidden", "", 0},
    {"hostile domain: slash", TABLES, KT_STEPS, ST_STEPS, "alice", "a/b.example", "", 0},
    {"hostile domain: empty label", TABLES, KT_STEPS, ST_STEPS, "alice", "a..example", "", 0},
    {"hostile domain: signer % refused", TABLES, KT_STEPS, "* k-host @%\n", "a", "x/../y",
     "", 0},
    {"hostile domain: no % needed still signs", TABLES, KT_STEPS, "* k-host\n", "a",
     "x/../y", P_H, 0},
    {"substituted path too long", TABLES, KT_STEPS, "* k-long\n", "a", "example.org", "", 0},
    {"substituted path just fits", TABLES, KT_STEPS, "* k-long\n", "a", "ab.cd",
     "k-long d=ab.cd s=s14 i= k=/{X1010}/ab.cd.key", 0},
    /* shorthand */
    {"shorthand: listed domain", "Domain example.com, example.org\nSelector mail\n"
     "KeyFile /k/mail.key\n", NULL, NULL, "a", "example.org",
     "example.org d=example.org s=mail i= k=/k/mail.key", 0},
    {"shorthand: first listed domain", "Domain example.com, example.org\nSelector mail\n"
     "KeyFile /k/mail.key\n", NULL, NULL, "a", "example.com",
     "example.com d=example.com s=mail i= k=/k/mail.key", 0},
    {"shorthand: no subdomains by default", "Domain example.com\nSelector mail\n"
     "KeyFile /k/mail.key\n", NULL, NULL, "a", "sub.example.com", "", 0},
    {"shorthand: SubDomains signs as the parent", "Domain example.com\nSelector mail\n"
     "KeyFile /k/mail.key\nSubDomains yes\n", NULL, NULL, "a", "a.sub.example.com",
     "example.com d=example.com s=mail i= k=/k/mail.key", 0},
    {"shorthand: SubDomains is label-aligned", "Domain example.com\nSelector mail\n"
     "KeyFile /k/mail.key\nSubDomains yes\n", NULL, NULL, "a", "badexample.com", "", 0},
    {"shorthand: other domain", "Domain example.com\nSelector mail\nKeyFile /k/mail.key\n",
     NULL, NULL, "a", "example.net", "", 0},
    {"shorthand: * signs any domain as itself", "Domain *\nSelector mail\n"
     "KeyFile /k/%.key\n", NULL, NULL, "a", "example.net",
     "* d=example.net s=mail i= k=/k/example.net.key", 0},
    {"shorthand: * refuses a hostile domain", "Domain *\nSelector mail\n"
     "KeyFile /k/mail.key\n", NULL, NULL, "a", "../x", "", 0},
    {"shorthand: listed before *", "Domain example.com, *\nSelector mail\n"
     "KeyFile /k/mail.key\n", NULL, NULL, "a", "example.com",
     "example.com d=example.com s=mail i= k=/k/mail.key", 0},
    {"shorthand: multiple with *", MULTI "Domain example.com, *\nSelector mail\n"
     "KeyFile /k/mail.key\n", NULL, NULL, "a", "example.com",
     "example.com d=example.com s=mail i= k=/k/mail.key ; "
     "* d=example.com s=mail i= k=/k/mail.key", 0},
    {"shorthand: relative KeyFile is a path", "Domain example.com\nSelector mail\n"
     "KeyFile keys/mail.key\n", NULL, NULL, "a", "example.com",
     "example.com d=example.com s=mail i= k=keys/mail.key", 0},
    {"shorthand: Domain from a file", "Domain %K\nSelector s1.mail\nKeyFile /k/mail.key\n",
     "# domains\nexample.com\nexample.net\n", NULL, "a", "example.net",
     "example.net d=example.net s=s1.mail i= k=/k/mail.key", 0},
    {"nothing configured: no keys", "", NULL, NULL, "a", "example.com", "", 0},
    /* fixture files */
    {"fixture: two keys for the domain", MULTI "KeyTable %D/kt_keytable\n"
     "SigningTable refile:%D/kt_signingtable\n", NULL, NULL, "a", "example.com",
     "example d=example.com s=mail2024 i= k=/etc/txmilter/keys/example.com/mail2024.private ; "
     "example-ed d=example.com s=ed2024 i= k=/etc/txmilter/keys/example.com/ed2024.private ; "
     "any d=example.com s=mail i= k=/etc/txmilter/keys/example.com.private", 0},
    {"fixture: subdomain with signer", "KeyTable %D/kt_keytable\n"
     "SigningTable refile:%D/kt_signingtable\n", NULL, NULL, "a", "news.example.com",
     "example d=example.com s=mail2024 i=@example.com "
     "k=/etc/txmilter/keys/example.com/mail2024.private", 0},
};

/* test_lookup - build the table from the row's files and look one address up */
static void test_lookup(void **state)
{
    const LOOKUP_CASE *c = *state;
    KEYTABLE_PICK picks[8];
    char *want, *tmp;
    KEYTABLE *kt;
    TXCONF *cf;
    FILES f;
    BUF errs, got;
    size_t n, max = c->max ? c->max : 8;

    files_make(&f, c->conf, c->kt, c->st);
    buf_init(&errs, 65536);
    buf_init(&got, 65536);
    if ((cf = conf_load(f.conf, CONF_PROG_TXMILTER, &errs)) == NULL)
        fail_msg("conf_load: %s", errs.data ? errs.data : "");
    if ((kt = keytable_build(cf, &errs)) == NULL)
        fail_msg("keytable_build: %s", errs.data ? errs.data : "");
    memset(picks, 0x5a, sizeof(picks));
    n = keytable_lookup(kt, c->local, c->domain, picks, max);
    assert_true(n <= max);
    render_picks(picks, n, &got);
    tmp = th_subst(c->want, f.vals);
    want = th_expand(tmp, NULL);
    assert_string_equal(got.data, want);
    free(tmp);
    free(want);
    keytable_free(kt);
    conf_free(cf);
    buf_free(&errs);
    buf_free(&got);
    files_remove(&f);
}

typedef struct {
    const char *name;
    const char *conf;
    const char *kt;
    const char *st;
    const char *errs;
} BAD_CASE;

#define KT_OK "k1 example.com:s1:/k/1.key\n"
#define SHORT_MSG "Domain, Selector and KeyFile must be set together (missing:"
#define KT_FMT "expected domain:selector:keypath after the key name\n"
#define BAD_SIGNER(s) "bad signer \"" s "\" (expected one address such as @example.com or user@%)\n"

static const BAD_CASE bad_cases[] = {
    {"KeyTable with shorthand", "KeyTable %K\nSigningTable %S\nDomain example.com\n", KT_OK,
     "* k1\n", "%C:1: KeyTable cannot be combined with Domain, Selector or KeyFile: "
     "use a KeyTable line instead\n"},
    {"KeyTable without SigningTable", "KeyTable %K\n", KT_OK, NULL,
     "%C:1: KeyTable is set but SigningTable is not\n"},
    {"SigningTable without KeyTable", "\nSigningTable %S\n", NULL, "* k1\n",
     "%C:2: SigningTable is set but KeyTable is not\n"},
    {"shorthand: Domain alone", "Domain example.com\n", NULL, NULL,
     "%C:1: " SHORT_MSG " Selector KeyFile)\n"},
    {"shorthand: no Domain", "# x\nSelector s\nKeyFile /k\n", NULL, NULL,
     "%C:2: " SHORT_MSG " Domain)\n"},
    {"shorthand: KeyFile alone", "KeyFile /k\n", NULL, NULL,
     "%C:1: " SHORT_MSG " Domain Selector)\n"},
    {"shorthand: bad selector", "Domain example.com\nSelector bad_sel!\nKeyFile /k\n",
     NULL, NULL, "%C:2: Selector: bad selector \"bad_sel!\"\n"},
    {"shorthand: selector label of 64", "Domain example.com\nSelector a.{X64}\nKeyFile /k\n",
     NULL, NULL, "%C:2: Selector: bad selector \"a.{X64}\"\n"},
    {"shorthand: bad domain", "Domain example..com\nSelector s\nKeyFile /k\n", NULL, NULL,
     "%C:1: bad domain \"example..com\"\n"},
    {"shorthand: domain listed twice", "Domain example.com, EXAMPLE.com\nSelector s\n"
     "KeyFile /k\n", NULL, NULL, "%C:1: domain \"EXAMPLE.com\" listed twice\n"},
    {"shorthand: text after a domain in a file", "Domain %K\nSelector s\nKeyFile /k\n",
     "example.org\nexample.com extra\n", NULL,
     "%K:2: unexpected text \"extra\" after domain \"example.com\"\n"},
    {"shorthand: Domain as refile", "Domain refile:%K\nSelector s\nKeyFile /k\n",
     "*.example.com\n", NULL, "%C:1: Domain cannot be a refile: dataset\n"},
    {"shorthand: Domain file missing", "Domain /nonexistent/d\nSelector s\nKeyFile /k\n",
     NULL, NULL, "%C:1: cannot open /nonexistent/d: No such file or directory\n"},
    {"KeyTable: key name only", TABLES, "k1\n", "* k1\n", "%K:1: key \"k1\": " KT_FMT},
    {"KeyTable: one colon", TABLES, "k1 example.com:s1\n", "* k1\n",
     "%K:1: key \"k1\": " KT_FMT},
    {"KeyTable: bad domain", TABLES, "k1 exa$mple.com:s1:/k\n", "* k1\n",
     "%K:1: key \"k1\": bad domain \"exa$mple.com\"\n"},
    {"KeyTable: empty domain", TABLES, "k1 :s1:/k\n", "* k1\n",
     "%K:1: key \"k1\": bad domain \"\"\n"},
    {"KeyTable: domain of 254", TABLES, "k1 {X63}.{X63}.{X63}.{X62}:s1:/k\n", "* k1\n",
     "%K:1: key \"k1\": bad domain \"{X63}.{X63}.{X63}.{X62}\"\n"},
    {"KeyTable: % inside a domain", TABLES, "k1 mail.%:s1:/k\n", "* k1\n",
     "%K:1: key \"k1\": bad domain \"mail.%\"\n"},
    {"KeyTable: empty selector", TABLES, "k1 example.com::/k\n", "* k1\n",
     "%K:1: key \"k1\": bad selector \"\"\n"},
    {"KeyTable: selector with space", TABLES, "k1 example.com:s 1:/k\n", "* k1\n",
     "%K:1: key \"k1\": bad selector \"s 1\"\n"},
    {"KeyTable: selector label of 64", TABLES, "k1 example.com:{X64}:/k\n", "* k1\n",
     "%K:1: key \"k1\": bad selector \"{X64}\"\n"},
    {"KeyTable: empty keypath", TABLES, "k1 example.com:s1:\n", "* k1\n",
     "%K:1: key \"k1\": missing key file or key\n"},
    {"KeyTable: name defined twice", TABLES, KT_OK "\nK1 example.com:s2:/k/2.key\n",
     "* k1\n", "%K:3: key \"K1\" defined twice (first at line 1)\n"},
    {"KeyTable: every bad line, SigningTable not checked", TABLES,
     "k1\nk2 example.com:s2:/k\nk3 example.com::/k\n", "* nokey\n",
     "%K:1: key \"k1\": " KT_FMT "%K:3: key \"k3\": bad selector \"\"\n"},
    {"KeyTable refile: with a wildcard name", "KeyTable refile:%K\nSigningTable %S\n",
     KT_OK "k* example.com:s2:/k/2.key\n", "* k1\n",
     "%K:2: key name \"k*\": a wildcard in a refile: KeyTable is not supported: give the "
     "key a name of its own (as the SigningTable names it)\n"},
    {"KeyTable file missing", "KeyTable /nonexistent/kt\nSigningTable %S\n", NULL, "* k1\n",
     "%C:1: cannot open /nonexistent/kt: No such file or directory\n"},
    {"SigningTable: unknown key name", TABLES, KT_OK, "example.com k1\n\nx.example nokey\n",
     "%S:3: key name \"nokey\" is not in the KeyTable (%C:1)\n"},
    {"SigningTable: missing key name", TABLES, KT_OK, "example.com\n",
     "%S:1: \"example.com\": missing key name\n"},
    {"SigningTable: signer without @", TABLES, KT_OK, "example.com k1 nosigner\n",
     "%S:1: " BAD_SIGNER("nosigner")},
    {"SigningTable: two signers", TABLES, KT_OK, "example.com k1 @a.example @b.example\n",
     "%S:1: " BAD_SIGNER("@a.example @b.example")},
    {"SigningTable: signer too long", TABLES, KT_OK, "example.com k1 @{X600}\n",
     "%S:1: " BAD_SIGNER("@{X600}")},
    {"SigningTable: every bad line", "KeyTable %K\nSigningTable refile:%S\n", KT_OK,
     "*@a.example nokey\n*@b.example k1\n*\n",
     "%S:1: key name \"nokey\" is not in the KeyTable (%C:1)\n"
     "%S:3: \"*\": missing key name\n"},
    {"SigningTable file missing", "KeyTable %K\nSigningTable /nonexistent/st\n", KT_OK, NULL,
     "%C:2: cannot open /nonexistent/st: No such file or directory\n"},
};

/* test_bad - a signing configuration refused with exactly these errors */
static void test_bad(void **state)
{
    const BAD_CASE *c = *state;
    char *want, *tmp;
    TXCONF *cf;
    FILES f;
    BUF errs;

    files_make(&f, c->conf, c->kt, c->st);
    buf_init(&errs, 65536);
    if ((cf = conf_load(f.conf, CONF_PROG_TXMILTER, &errs)) == NULL)
        fail_msg("conf_load: %s", errs.data ? errs.data : "");
    assert_null(keytable_build(cf, &errs));
    tmp = th_subst(c->errs, f.vals);
    want = th_expand(tmp, NULL);
    assert_string_equal(errs.data ? errs.data : "", want);
    assert_null(keytable_build(cf, NULL));
    free(tmp);
    free(want);
    conf_free(cf);
    buf_free(&errs);
    files_remove(&f);
}

typedef struct {
    const char *name;
    const char *domain;
    int want;
} SAFE_CASE;

static const SAFE_CASE safe_cases[] = {
    {"plain", "example.com", 1},
    {"capitals", "Example.COM", 1},
    {"digits and hyphens", "xn--bcher-kva.example-1.com", 1},
    {"single label", "localhost", 1},
    {"253 characters", "{X63}.{X63}.{X63}.{X61}", 1},
    {"254 characters", "{X63}.{X63}.{X63}.{X62}", 0},
    {"label of 64", "{X64}.com", 0},
    {"empty", "", 0},
    {"leading dot", ".example.com", 0},
    {"trailing dot", "example.com.", 0},
    {"empty label", "a..b", 0},
    {"dot-dot path", "../etc", 0},
    {"slash", "a/b", 0},
    {"underscore", "a_b.com", 0},
    {"space", "a b.com", 0},
    {"percent", "%.com", 0},
    {"8-bit", "b\xc3\xbc" "cher.de", 0},
};

/* test_safe - keytable_domain_safe() */
static void test_safe(void **state)
{
    const SAFE_CASE *c = *state;
    char *d = th_expand(c->domain, NULL);

    assert_int_equal(keytable_domain_safe(d), c->want);
    free(d);
}

/* test_keys - keytable_keys() lists every key with where it was defined */
static void test_keys(void **state)
{
    const KEYTABLE_KEY *k;
    KEYTABLE *kt;
    TXCONF *cf;
    FILES f;
    size_t n;

    (void) state;
    files_make(&f, TABLES, KT_STEPS, "* k-host\n");
    cf = conf_load(f.conf, CONF_PROG_TXMILTER, NULL);
    assert_non_null(cf);
    kt = keytable_build(cf, NULL);
    assert_non_null(kt);
    k = keytable_keys(kt, &n);
    assert_int_equal(n, 14);
    assert_string_equal(k[0].name, "k-user-host");
    assert_string_equal(k[0].domain, "example.com");
    assert_string_equal(k[0].selector, "s1");
    assert_string_equal(k[0].keypath, "/keys/user-host.key");
    assert_null(k[0].inline_key);
    assert_string_equal(k[0].file, f.kt);
    assert_int_equal(k[0].line, 1);
    assert_string_equal(k[7].domain, "%");
    assert_string_equal(k[7].keypath, "/keys/%.key");
    assert_null(k[8].keypath);
    assert_string_equal(k[8].inline_key, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC");
    assert_int_equal(k[13].line, 14);
    keytable_free(kt);
    conf_free(cf);
    files_remove(&f);

    /* The empty table and NULL arguments. */
    cf = conf_defaults();
    kt = keytable_build(cf, NULL);
    assert_non_null(kt);
    n = 99;
    (void) keytable_keys(kt, &n);
    assert_int_equal(n, 0);
    {
        KEYTABLE_PICK p[1];

        assert_int_equal(keytable_lookup(kt, "a", "example.com", p, 1), 0);
        assert_int_equal(keytable_lookup(NULL, "a", "example.com", p, 1), 0);
    }
    assert_null(keytable_keys(NULL, &n));
    assert_int_equal(n, 0);
    keytable_free(kt);
    keytable_free(NULL);
    conf_free(cf);
}

/* test_lookup_args - bad arguments give no picks and touch nothing */
static void test_lookup_args(void **state)
{
    KEYTABLE_PICK p[2];
    KEYTABLE *kt;
    TXCONF *cf;
    FILES f;

    (void) state;
    files_make(&f, TABLES, KT_STEPS, "* k-host\n");
    cf = conf_load(f.conf, CONF_PROG_TXMILTER, NULL);
    assert_non_null(cf);
    kt = keytable_build(cf, NULL);
    assert_non_null(kt);
    assert_int_equal(keytable_lookup(kt, "a", "example.com", p, 2), 1);
    assert_int_equal(keytable_lookup(kt, "a", "example.com", p, 0), 0);
    assert_int_equal(keytable_lookup(kt, NULL, "example.com", p, 2), 0);
    assert_int_equal(keytable_lookup(kt, "a", NULL, p, 2), 0);
    assert_int_equal(keytable_lookup(kt, "a", "example.com", NULL, 2), 0);
    keytable_free(kt);
    conf_free(cf);
    files_remove(&f);
}

int main(void)
{
    static const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_lookup_args),
    };
    int fails = 0;

    fails += RUN("keytable_lookup", test_lookup, lookup_cases);
    fails += RUN("keytable_bad", test_bad, bad_cases);
    fails += RUN("keytable_domain_safe", test_safe, safe_cases);
    fails += cmocka_run_group_tests_name("keytable_misc", misc, NULL, NULL);
    return fails ? 1 : 0;
}

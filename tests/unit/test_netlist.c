/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_netlist.c - unit tests for netlist.c: IPv4, IPv6 and IPv4-mapped
 * addresses, networks, negation, the longest prefix rule, host names and
 * domains, "localhost", and every error message with its file:line.
 *
 * Every table row is one named cmocka test, so a failure names its case.
 * Each match row is checked through netlist_match_str() and, when the
 * address is a plain IP address, through netlist_match() with a sockaddr.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "testutil.h"
#include "netlist.h"
#include "util.h"

typedef struct {
    const char *name;
    const char *list;           /* inline spec, or "%D/..." */
    const char *addr;           /* NULL: no address */
    const char *host;           /* NULL: no host name */
    int want;
} MATCH_CASE;

#define DEFLIST "127.0.0.1, ::1"

static const MATCH_CASE match_cases[] = {
    {"default list: 127.0.0.1", DEFLIST, "127.0.0.1", NULL, 1},
    {"default list: ::1", DEFLIST, "::1", NULL, 1},
    {"default list: 127.0.0.2 is not listed", DEFLIST, "127.0.0.2", NULL, 0},
    {"default list: other address", DEFLIST, "192.0.2.1", NULL, 0},
    {"default list: no address at all", DEFLIST, NULL, NULL, 0},
    {"mapped client matches IPv4 entry", DEFLIST, "::ffff:127.0.0.1", NULL, 1},
    {"mapped client, other address", DEFLIST, "::ffff:10.0.0.1", NULL, 0},
    {"mapped entry matches IPv4 client", "::ffff:10.0.0.0/104", "10.1.2.3", NULL, 1},
    {"mapped entry, IPv4 client outside", "::ffff:10.0.0.0/104", "11.1.2.3", NULL, 0},
    {"IPv6 ::/0 does not cover IPv4", "::/0", "192.0.2.1", NULL, 0},
    {"IPv6 ::/0 covers IPv6", "::/0", "2001:db8::1", NULL, 1},
    {"IPv4 /0 covers IPv4", "0.0.0.0/0", "192.0.2.1", NULL, 1},
    {"IPv4 /0 does not cover IPv6", "0.0.0.0/0", "2001:db8::1", NULL, 0},
    {"/24 inside, last address", "192.0.2.0/24", "192.0.2.255", NULL, 1},
    {"/24 outside", "192.0.2.0/24", "192.0.3.0", NULL, 0},
    {"/23 inside, second half", "10.0.2.0/23", "10.0.3.7", NULL, 1},
    {"/23 outside", "10.0.2.0/23", "10.0.4.1", NULL, 0},
    {"host bits of entry ignored", "10.1.2.3/8", "10.200.0.1", NULL, 1},
    {"/32 is one address", "10.0.0.1/32", "10.0.0.2", NULL, 0},
    {"plain address is /32", "10.0.0.1", "10.0.0.1", NULL, 1},
    {"IPv6 /32 inside", "2001:db8::/32", "2001:db8:ffff::1", NULL, 1},
    {"IPv6 /32 outside", "2001:db8::/32", "2001:db9::1", NULL, 0},
    {"IPv6 /127 odd bit", "2001:db8::/127", "2001:db8::1", NULL, 1},
    {"IPv6 /127 outside", "2001:db8::/127", "2001:db8::2", NULL, 0},
    {"IPv6 /65 inside", "2001:db8:0:0:8000::/65", "2001:db8::ffff:0:0:1", NULL, 1},
    {"IPv6 /65 outside", "2001:db8:0:0:8000::/65", "2001:db8::7fff:0:0:1", NULL, 0},
    {"negated subnet excludes", "10.0.0.0/8, !10.1.0.0/16", "10.1.2.3", NULL, 0},
    {"negated subnet leaves the rest", "10.0.0.0/8, !10.1.0.0/16", "10.2.0.1", NULL, 1},
    {"order does not matter", "!10.1.0.0/16, 10.0.0.0/8", "10.1.2.3", NULL, 0},
    {"positive inside negation", "!10.0.0.0/8, 10.1.2.0/24", "10.1.2.3", NULL, 1},
    {"negation around positive", "!10.0.0.0/8, 10.1.2.0/24", "10.3.0.0", NULL, 0},
    {"same prefix: negation wins", "10.0.0.1, !10.0.0.1", "10.0.0.1", NULL, 0},
    {"negated entry alone", "!10.0.0.0/8", "10.0.0.1", NULL, 0},
    {"negated IPv6 host", "2001:db8::/32, !2001:db8::25", "2001:db8::25", NULL, 0},
    {"empty list", "", "127.0.0.1", "localhost", 0},
    {"host name exact", "mail.example.com", "192.0.2.1", "mail.example.com", 1},
    {"host name ignores case", "Mail.Example.com", "192.0.2.1", "MAIL.example.COM", 1},
    {"host name with trailing dot", "mail.example.com", NULL, "mail.example.com.", 1},
    {"host name is not a suffix match", "mail.example.com", NULL, "xmail.example.com", 0},
    {"host name does not cover below", "mail.example.com", NULL, "a.mail.example.com", 0},
    {"domain covers a name below", ".example.com", NULL, "a.example.com", 1},
    {"domain covers deeper names", ".example.com", NULL, "a.b.example.com", 1},
    {"domain does not cover itself", ".example.com", NULL, "example.com", 0},
    {"domain is label-aligned", ".example.com", NULL, "badexample.com", 0},
    {"bracketed client never matches a name", "mail.example.com", NULL,
     "[mail.example.com]", 0},
    {"bracketed client falls back to address", "192.0.2.1, .example.com", "192.0.2.1",
     "[192.0.2.1]", 1},
    {"name list, no host name", "mail.example.com", "192.0.2.1", NULL, 0},
    {"negated name beats address", "10.0.0.0/8, !bad.example.com", "10.0.0.5",
     "bad.example.com", 0},
    {"other name keeps address verdict", "10.0.0.0/8, !bad.example.com", "10.0.0.5",
     "good.example.com", 1},
    {"deeper negated domain wins", ".example.com, !.lab.example.com", NULL,
     "x.lab.example.com", 0},
    {"shallower domain still applies", ".example.com, !.lab.example.com", NULL,
     "x.example.com", 1},
    {"same name twice: negation wins", "mail.example.com, !MAIL.example.com", "127.0.0.1",
     "mail.example.com", 0},
    {"exact name beats negated domain", "!.example.com, mail.example.com", NULL,
     "mail.example.com", 1},
    {"listed name beats negated network", "!10.0.0.0/8, mail.example.com", "10.1.1.1",
     "mail.example.com", 1},
    {"localhost covers 127.0.0.1", "localhost", "127.0.0.1", NULL, 1},
    {"localhost covers 127/8", "localhost", "127.8.9.10", NULL, 1},
    {"localhost covers ::1", "localhost", "::1", NULL, 1},
    {"localhost covers mapped loopback", "localhost", "::ffff:127.0.0.1", NULL, 1},
    {"localhost as a name", "localhost", "10.0.0.1", "localhost", 1},
    {"localhost not other addresses", "localhost", "10.0.0.1", NULL, 0},
    {"LOCALHOST in capitals", "LOCALHOST", "127.0.0.1", NULL, 1},
    {"negated localhost", "!localhost, 0.0.0.0/0", "127.0.0.1", NULL, 0},
    {"negated localhost leaves others", "!localhost, 0.0.0.0/0", "10.0.0.1", NULL, 1},
    {"bracketed IPv4 text", "192.0.2.1", "[192.0.2.1]", NULL, 1},
    {"Postfix IPv6: form", "2001:db8::/32", "[IPv6:2001:db8::1]", NULL, 1},
    {"unparseable address", "0.0.0.0/0", "not-an-address", NULL, 0},
    {"fixture file: listed network", "%D/ds_hosts", "192.0.2.5", NULL, 1},
    {"fixture file: negated half", "%D/ds_hosts", "192.0.2.200", NULL, 0},
    {"fixture file: domain", "%D/ds_hosts", "198.51.100.1", "mx.example.net", 1},
    {"fixture file: ::1", "%D/ds_hosts", "::1", NULL, 1},
    /* OpenDKIM's refile: wildcards that say the same as a network or domain */
    {"refile: 192.168.1.* is 192.168.1.0/24", "refile:%D/ds_trustedhosts", "192.168.1.77",
     NULL, 1},
    {"refile: 192.168.1.* not 192.168.2.1", "refile:%D/ds_trustedhosts", "192.168.2.1",
     NULL, 0},
    {"refile: 10.* is 10.0.0.0/8", "refile:%D/ds_trustedhosts", "10.9.8.7", NULL, 1},
    {"refile: *.example.com is every host below", "refile:%D/ds_trustedhosts", "192.0.2.9",
     "mail.example.com", 1},
    {"refile: negated wildcard", "refile:%D/ds_trustedhosts", "192.0.2.9",
     "a.guest.example.com", 0},
    {"refile: plain entries as before", "refile:%D/ds_trustedhosts", "127.0.0.1", NULL, 1},
};

/* to_sockaddr - a plain textual address as a sockaddr; 0 if not one */
static int to_sockaddr(const char *addr, struct sockaddr_storage *ss)
{
    struct sockaddr_in *sin = (struct sockaddr_in *) (void *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) (void *) ss;

    memset(ss, 0, sizeof(*ss));
    if (addr == NULL)
        return 0;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        return 1;
    }
    if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        return 1;
    }
    return 0;
}

/* test_match - one client against one list, by text and by sockaddr */
static void test_match(void **state)
{
    const MATCH_CASE *c = *state;
    const char *vals[26] = {0};
    struct sockaddr_storage ss;
    char *spec;
    NETLIST *nl;
    BUF errs;

    vals['D' - 'A'] = th_datadir();
    spec = th_subst(c->list, vals);
    buf_init(&errs, 4096);
    nl = netlist_build(spec, "conf:1", &errs);
    if (nl == NULL)
        fail_msg("netlist_build: %s", errs.data ? errs.data : "");
    assert_int_equal(netlist_match_str(nl, c->addr, c->host), c->want);
    if (to_sockaddr(c->addr, &ss))
        assert_int_equal(netlist_match(nl, (struct sockaddr *) &ss, c->host), c->want);
    else if (c->addr == NULL)
        assert_int_equal(netlist_match(nl, NULL, c->host), c->want);
    netlist_free(nl);
    buf_free(&errs);
    free(spec);
}

/* test_match_odd - unix-domain clients and a missing list */
static void test_match_odd(void **state)
{
    struct sockaddr_un sun;
    NETLIST *nl;

    (void) state;
    nl = netlist_build("0.0.0.0/0, ::/0, localhost", "conf:1", NULL);
    assert_non_null(nl);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    assert_int_equal(netlist_match(nl, (struct sockaddr *) &sun, NULL), 0);
    assert_int_equal(netlist_match(nl, (struct sockaddr *) &sun, "localhost"), 1);
    assert_int_equal(netlist_match(NULL, NULL, "localhost"), 0);
    assert_int_equal(netlist_match_str(NULL, "127.0.0.1", NULL), 0);
    /* A host name longer than any DNS name never matches, never overflows. */
    {
        char *longname = th_expand(".{X300}.example.com", NULL);

        netlist_free(nl);
        nl = netlist_build(".example.com", "conf:1", NULL);
        assert_non_null(nl);
        assert_int_equal(netlist_match_str(nl, NULL, longname + 1), 0);
        free(longname);
    }
    netlist_free(nl);
}

typedef struct {
    const char *name;
    const char *content;        /* written to %F; NULL: none */
    const char *spec;
    const char *errs;
} BAD_CASE;

#define BADPFX(e, max) "conf:7: bad prefix length in \"" e "\" (expected /0 to /" #max ")\n"
#define BADADDR(e) "conf:7: bad address \"" e "\"\n"
#define REGLOB(at, e) at "\"" e "\": no wildcard but \"*.domain\" and \"a.b.c.*\" is " \
    "supported here: write a network (192.0.2.0/24) or a domain (.example.com: every host " \
    "below it)\n"
#define BADNAME(e) "conf:7: bad host name or address \"" e "\"\n"

static const BAD_CASE bad_cases[] = {
    {"IPv4 prefix 33", NULL, "10.0.0.0/33", BADPFX("10.0.0.0/33", 32)},
    {"IPv6 prefix 129", NULL, "2001:db8::/129", BADPFX("2001:db8::/129", 128)},
    {"empty prefix", NULL, "10.0.0.0/", BADPFX("10.0.0.0/", 32)},
    {"negative prefix", NULL, "10.0.0.0/-1", BADPFX("10.0.0.0/-1", 32)},
    {"prefix with junk", NULL, "10.0.0.0/8x", BADPFX("10.0.0.0/8x", 32)},
    {"prefix too many digits", NULL, "10.0.0.0/0008", BADPFX("10.0.0.0/0008", 32)},
    {"negated bad prefix", NULL, "!10.0.0.0/99", BADPFX("!10.0.0.0/99", 32)},
    {"octet over 255", NULL, "1.2.3.300", BADADDR("1.2.3.300")},
    {"three octets", NULL, "1.2.3", BADADDR("1.2.3")},
    {"triple colon", NULL, "2001:db8:::1", BADADDR("2001:db8:::1")},
    {"name with prefix", NULL, "example.com/24", BADADDR("example.com/24")},
    {"address too long", NULL, "1111:2222:3333:4444:5555:6666:7777:8888:9999/64",
     BADADDR("1111:2222:3333:4444:5555:6666:7777:8888:9999/64")},
    {"bad host name character", NULL, "bad!.example", BADNAME("bad!.example")},
    {"empty label", NULL, "a..example", BADNAME("a..example")},
    {"trailing dot", NULL, "example.com.", BADNAME("example.com.")},
    {"lone dot", NULL, ".", BADADDR(".")},
    {"label of 64", NULL, "{X64}.example", BADNAME("{X64}.example")},
    {"double negation", NULL, "!!10.0.0.1", BADNAME("!!10.0.0.1")},
    {"bare negation", NULL, "!", "conf:7: empty entry \"!\"\n"},
    {"every bad entry reported", NULL, "10.0.0.0/33, 127.0.0.1, 1.2.3.300",
     BADPFX("10.0.0.0/33", 32) BADADDR("1.2.3.300")},
    {"file errors name file and line", "127.0.0.1\n10.0.0.0/40\n\n# c\nfoo bar\n", "%F",
     "%F:2: bad prefix length in \"10.0.0.0/40\" (expected /0 to /32)\n"
     "%F:5: unexpected text \"bar\" after \"foo\" (one entry per line)\n"},
    {"refile: wildcard without an equivalent", "127.0.0.1\nmail*.example.com\n*\n"
     "192.168.*.1\n", "refile:%F", REGLOB("%F:2: ", "mail*.example.com")
     REGLOB("%F:3: ", "*") REGLOB("%F:4: ", "192.168.*.1")},
    {"missing file", NULL, "/nonexistent/hosts",
     "conf:7: cannot open /nonexistent/hosts: No such file or directory\n"},
};

/* test_bad - a list that is refused with exactly these errors */
static void test_bad(void **state)
{
    const BAD_CASE *c = *state;
    const char *vals[26] = {0};
    char *path = c->content ? th_tempfile(c->content) : NULL;
    char *spec, *want, *tmp;
    BUF errs;

    vals['F' - 'A'] = path;
    tmp = th_subst(c->spec, vals);
    spec = th_expand(tmp, NULL);
    free(tmp);
    tmp = th_subst(c->errs, vals);
    want = th_expand(tmp, NULL);
    free(tmp);
    buf_init(&errs, 65536);
    assert_null(netlist_build(spec, "conf:7", &errs));
    assert_string_equal(errs.data ? errs.data : "", want);
    assert_null(netlist_build(spec, "conf:7", NULL));
    buf_free(&errs);
    free(spec);
    free(want);
    th_unlink(path);
}

int main(void)
{
    static const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_match_odd),
    };
    int fails = 0;

    fails += RUN("netlist_match", test_match, match_cases);
    fails += RUN("netlist_bad", test_bad, bad_cases);
    fails += cmocka_run_group_tests_name("netlist_misc", misc, NULL, NULL);
    return fails ? 1 : 0;
}

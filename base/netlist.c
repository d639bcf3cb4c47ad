/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netlist.c - InternalHosts: addresses, networks and host names
 *
 * SYNOPSIS
 *	#include "netlist.h"
 *
 *	NETLIST *netlist_build(const char *spec, const char *where, BUF *errs)
 *	int	netlist_match(const NETLIST *nl, const struct sockaddr *sa,
 *			      const char *hostname)
 *	int	netlist_match_str(const NETLIST *nl, const char *addr,
 *				  const char *hostname)
 *	void	netlist_free(NETLIST *nl)
 *
 * DESCRIPTION
 *	netlist_build() loads the dataset spec (see dataset.h) and parses
 *	each entry, optionally preceded by '!' (negation):
 *
 *	"192.0.2.1", "2001:db8::1"	one address
 *	"192.0.2.0/24", "2001:db8::/32"	a network; bits past the prefix
 *					are ignored
 *	"mail.example.com"		a host name, matched exactly
 *	".example.com"			any host name below example.com
 *	"localhost"			the name, and 127.0.0.0/8 and ::1
 *
 *	With "refile:" (OpenDKIM's wildcards) "*.example.com" means
 *	".example.com" and "192.0.2.*" (one to three octets) the network
 *	"192.0.2.0/24"; any other '*' is an error.
 *
 *	IPv4-mapped IPv6 entries and clients (::ffff:192.0.2.1) count as
 *	IPv4. A file line must hold one entry only.
 *
 *	netlist_match() decides whether a client is in the list. A host
 *	name entry that matches decides first (the most specific one: an
 *	exact name before ".parent", a longer ".parent" before a shorter);
 *	otherwise the most specific matching address entry (longest prefix)
 *	decides. A negated entry that decides means "not in the list"; on a
 *	tie the negated entry wins. Host names are compared ignoring case; a
 *	name in brackets ("[192.0.2.1]", Postfix's form for a client without
 *	a name) never matches a name entry. sa and hostname may be NULL.
 *
 *	netlist_match_str() does the same for a textual address, which may
 *	be bracketed and may carry Postfix's "IPv6:" prefix.
 *
 * DIAGNOSTICS
 *	netlist_build() returns NULL after appending "file:line: message\n"
 *	lines to errs (the directive's where for inline lists), one for each
 *	bad entry: bad address, bad prefix length, bad host name, extra text.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dataset.h"
#include "dns.h"
#include "netlist.h"
#include "util.h"


enum netlist_kind { NETLIST_V4, NETLIST_V6, NETLIST_NAME };

typedef struct netlist_ent {
    enum netlist_kind kind;
    int     neg;                /* "!" entry */
    unsigned prefix;            /* network bits */
    unsigned char addr[16];     /* network, 4 or 16 bytes used */
    char   *name;               /* lowercase; ".example.com" for a domain */
} NETLIST_ENT;

struct netlist {
    NETLIST_ENT *ent;
    size_t  n;
    size_t  cap;
};

/* netlist_err - append one "where: message" line to errs */
static void __attribute__((format(printf, 3, 4)))
netlist_err(BUF *errs, const DATASET_ENTRY *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    util_verr_at(errs, e->file, e->line, fmt, ap);
    va_end(ap);
}

/* netlist_add - append an entry */
static NETLIST_ENT *netlist_add(NETLIST *nl, enum netlist_kind kind, int neg)
{
    NETLIST_ENT *ne;

    if (nl->n == nl->cap) {
        nl->cap = nl->cap ? nl->cap * 2 : 8;
        nl->ent = xrealloc(nl->ent, nl->cap * sizeof(*nl->ent));
    }
    ne = &nl->ent[nl->n++];
    memset(ne, 0, sizeof(*ne));
    ne->kind = kind;
    ne->neg = neg;
    return ne;
}

/* netlist_mask - clear the bits of addr past prefix */
static void netlist_mask(unsigned char *addr, size_t len, unsigned prefix)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (prefix >= 8) {
            prefix -= 8;
        } else {
            addr[i] &= (unsigned char) (0xff << (8 - prefix));
            prefix = 0;
        }
    }
}

/* netlist_is_mapped - an IPv4-mapped IPv6 address (::ffff:a.b.c.d) */
static int netlist_is_mapped(const unsigned char *a6)
{
    static const unsigned char pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    return memcmp(a6, pfx, sizeof(pfx)) == 0;
}

/* netlist_add_addr - add an address entry, mapped IPv6 becoming IPv4 */
static void netlist_add_addr(NETLIST *nl, int neg, int is_v6,
                             const unsigned char *addr, unsigned prefix)
{
    NETLIST_ENT *ne;

    if (is_v6 && prefix >= 96 && netlist_is_mapped(addr)) {
        addr += 12;
        prefix -= 96;
        is_v6 = 0;
    }
    ne = netlist_add(nl, is_v6 ? NETLIST_V6 : NETLIST_V4, neg);
    memcpy(ne->addr, addr, is_v6 ? 16 : 4);
    ne->prefix = prefix;
    netlist_mask(ne->addr, is_v6 ? 16 : 4, prefix);
}

/* netlist_valid_name - host name syntax, with an optional leading dot */
static int netlist_valid_name(const char *s)
{
    size_t len = strlen(s), label = 0;
    const char *p = s;

    if (*p == '.')
        p++;
    if (*p == 0 || len > DNS_NAME_MAX)
        return 0;
    for (; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum((unsigned char) *p) || *p == '-' || *p == '_') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0;
}

/* netlist_parse - parse one dataset entry into nl; -1 after an error */
static int netlist_parse(NETLIST *nl, const DATASET_ENTRY *e, BUF *errs)
{
    char text[INET6_ADDRSTRLEN + 8];
    unsigned char addr[16];
    const char *s = e->key;
    char *slash, *end;
    unsigned long prefix;
    int neg = 0, is_v6;

    if (e->value != NULL) {
        netlist_err(errs, e, "unexpected text \"%s\" after \"%s\" (one entry per line)",
                    e->value, e->key);
        return -1;
    }
    if (*s == '!') {
        neg = 1;
        s++;
    }
    if (*s == 0) {
        netlist_err(errs, e, "empty entry \"%s\"", e->key);
        return -1;
    }
    if (strcasecmp(s, "localhost") == 0) {
        static const unsigned char lo4[4] = {127, 0, 0, 0};
        static const unsigned char lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        NETLIST_ENT *ne;

        netlist_add_addr(nl, neg, 0, lo4, 8);
        netlist_add_addr(nl, neg, 1, lo6, 128);
        ne = netlist_add(nl, NETLIST_NAME, neg);
        ne->name = xstrdup("localhost");
        return 0;
    }
    /* Anything with a '/' or ':', or only digits and dots, is an address. */
    if (strchr(s, '/') == NULL && strchr(s, ':') == NULL
        && strspn(s, "0123456789.") != strlen(s)) {
        NETLIST_ENT *ne;

        if (!netlist_valid_name(s)) {
            netlist_err(errs, e, "bad host name or address \"%s\"", e->key);
            return -1;
        }
        ne = netlist_add(nl, NETLIST_NAME, neg);
        ne->name = xstrdup(s);
        util_lower(ne->name);
        return 0;
    }
    if (util_strlcpy(text, s, sizeof(text)) < 0) {
        netlist_err(errs, e, "bad address \"%s\"", e->key);
        return -1;
    }
    if ((slash = strchr(text, '/')) != NULL)
        *slash++ = 0;
    if (inet_pton(AF_INET, text, addr) == 1) {
        is_v6 = 0;
    } else if (inet_pton(AF_INET6, text, addr) == 1) {
        is_v6 = 1;
    } else {
        netlist_err(errs, e, "bad address \"%s\"", e->key);
        return -1;
    }
    prefix = is_v6 ? 128 : 32;
    if (slash != NULL) {
        if (!isdigit((unsigned char) *slash) || strlen(slash) > 3
            || (prefix = strtoul(slash, &end, 10), *end != 0)
            || prefix > (is_v6 ? 128UL : 32UL)) {
            netlist_err(errs, e, "bad prefix length in \"%s\" (expected /0 to /%d)",
                        e->key, is_v6 ? 128 : 32);
            return -1;
        }
    }
    netlist_add_addr(nl, neg, is_v6, addr, (unsigned) prefix);
    return 0;
}

/* netlist_build - load and parse the list named by spec */
/* netlist_glob - OpenDKIM's refile: wildcard as an entry: "*.example.com" is
 * ".example.com", "192.0.2.*" is "192.0.2.0/24"; -1 when none says the same */
static int netlist_glob(const char *key, char *out, size_t size)
{
    const char *s = key + (key[0] == '!');
    size_t len = strlen(s);
    unsigned octets = 0;

    if (strncmp(s, "*.", 2) == 0 && strchr(s + 1, '*') == NULL)
        return snprintf(out, size, "%.*s%s", (int) (s - key), key, s + 1) < (int) size ? 0 : -1;
    if (len < 3 || strcmp(s + len - 2, ".*") != 0 || strspn(s, "0123456789.") != len - 1)
        return -1;
    for (size_t i = 0; i < len - 1; i++)
        octets += s[i] == '.';
    if (octets < 1 || octets > 3)
        return -1;
    return snprintf(out, size, "%.*s%.*s%s/%u", (int) (s - key), key, (int) (len - 2), s,
                    octets == 1 ? ".0.0.0" : octets == 2 ? ".0.0" : ".0", 8 * octets)
        < (int) size ? 0 : -1;
}

NETLIST *netlist_build(const char *spec, const char *where, BUF *errs)
{
    DATASET *ds;
    NETLIST *nl;
    size_t i;
    int bad = 0;

    if ((ds = dataset_load(spec, where, errs)) == NULL)
        return NULL;
    nl = xcalloc(1, sizeof(*nl));
    for (i = 0; i < ds->n; i++) {
        DATASET_ENTRY e = ds->ent[i];
        char glob[DNS_NAME_MAX + 2];

        if (ds->is_re && strchr(e.key, '*')) {
            if (netlist_glob(e.key, glob, sizeof(glob)) < 0) {
                netlist_err(errs, &e, "\"%s\": no wildcard but \"*.domain\" and \"a.b.c.*\" "
                            "is supported here: write a network (192.0.2.0/24) or a domain "
                            "(.example.com: every host below it)", e.key);
                bad = 1;
                continue;
            }
            e.key = glob;
        }
        if (netlist_parse(nl, &e, errs) < 0)
            bad = 1;
    }
    dataset_free(ds);
    if (bad) {
        netlist_free(nl);
        return NULL;
    }
    return nl;
}

/* netlist_prefix_eq - do the first prefix bits of a and b agree */
static int netlist_prefix_eq(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
    unsigned bytes = prefix / 8, bits = prefix % 8;
    unsigned char mask;

    if (memcmp(a, b, bytes) != 0)
        return 0;
    if (bits == 0)
        return 1;
    mask = (unsigned char) (0xff << (8 - bits));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

/* netlist_match_name - -1 when no name entry matches, else 0 or 1 */
static int netlist_match_name(const NETLIST *nl, const char *hostname)
{
    char name[DNS_NAME_MAX + 2];
    size_t len, i, nlen;
    long best = -1;
    int verdict = -1;

    if (hostname == NULL || hostname[0] == 0 || hostname[0] == '[')
        return -1;
    if (util_strlcpy(name, hostname, sizeof(name)) < 0)
        return -1;
    util_lower(name);
    len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        name[--len] = 0;
    for (i = 0; i < nl->n; i++) {
        const NETLIST_ENT *ne = &nl->ent[i];
        long score;

        if (ne->kind != NETLIST_NAME)
            continue;
        nlen = strlen(ne->name);
        if (ne->name[0] == '.') {
            if (len <= nlen || strcmp(name + len - nlen, ne->name) != 0)
                continue;
            score = (long) nlen;
        } else {
            if (strcmp(name, ne->name) != 0)
                continue;
            score = DNS_NAME_MAX + 10;     /* an exact name beats any domain */
        }
        if (score > best || (score == best && ne->neg)) {
            best = score;
            verdict = !ne->neg;
        }
    }
    return verdict;
}

/* netlist_match_addr - 1 if the longest matching address entry is positive */
static int netlist_match_addr(const NETLIST *nl, int is_v6, const unsigned char *addr)
{
    enum netlist_kind kind;
    size_t i;
    long best = -1;
    int verdict = 0;

    if (is_v6 && netlist_is_mapped(addr)) {
        addr += 12;
        is_v6 = 0;
    }
    kind = is_v6 ? NETLIST_V6 : NETLIST_V4;
    for (i = 0; i < nl->n; i++) {
        const NETLIST_ENT *ne = &nl->ent[i];

        if (ne->kind != kind || !netlist_prefix_eq(addr, ne->addr, ne->prefix))
            continue;
        if ((long) ne->prefix > best || ((long) ne->prefix == best && ne->neg)) {
            best = ne->prefix;
            verdict = !ne->neg;
        }
    }
    return verdict;
}

/* netlist_match - is the client (address and/or name) in the list */
int netlist_match(const NETLIST *nl, const struct sockaddr *sa, const char *hostname)
{
    int v;

    if (nl == NULL)
        return 0;
    if ((v = netlist_match_name(nl, hostname)) >= 0)
        return v;
    if (sa == NULL)
        return 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *) (const void *) sa;

        return netlist_match_addr(nl, 0, (const unsigned char *) &sin->sin_addr);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) (const void *) sa;

        return netlist_match_addr(nl, 1, sin6->sin6_addr.s6_addr);
    }
    return 0;
}

/* netlist_match_str - the same for an address in text form */
int netlist_match_str(const NETLIST *nl, const char *addr, const char *hostname)
{
    char text[INET6_ADDRSTRLEN + 8];
    unsigned char bin[16];
    size_t len;
    char *p = text;
    int v;

    if (nl == NULL)
        return 0;
    if ((v = netlist_match_name(nl, hostname)) >= 0)
        return v;
    if (addr == NULL || util_strlcpy(text, addr, sizeof(text)) < 0)
        return 0;
    len = strlen(p);
    if (len >= 2 && p[0] == '[' && p[len - 1] == ']') {
        p[len - 1] = 0;
        p++;
    }
    if (strncasecmp(p, "IPv6:", 5) == 0)
        p += 5;
    if (inet_pton(AF_INET, p, bin) == 1)
        return netlist_match_addr(nl, 0, bin);
    if (inet_pton(AF_INET6, p, bin) == 1)
        return netlist_match_addr(nl, 1, bin);
    return 0;
}

/* netlist_free - release a list */
void netlist_free(NETLIST *nl)
{
    size_t i;

    if (nl == NULL)
        return;
    for (i = 0; i < nl->n; i++)
        free(nl->ent[i].name);
    free(nl->ent);
    free(nl);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_match.c - rate keys for a recipient and the verdict over its rules.
 *
 * SYNOPSIS
 *	#include "rate_match.h"
 *
 *	size_t	rate_match_items(const RATE_POLICY *p,
 *			const RATE_MATCH_CTX *c, RATE_STORE_ITEM *items, size_t max)
 *	const char * rate_match_why_not(const RATE_RULE *r, const RATE_MATCH_CTX *c)
 *	void	rate_match_verdict(const RATE_STORE_ITEM *items,
 *			const RATE_STORE_RESULT *res, size_t n, RATE_MATCH_VERDICT *v)
 *	uint64_t rate_match_retry_s(uint64_t wait_ms)
 *
 * DESCRIPTION
 *	rate_match_items() builds, for every rule of the policy that applies
 *	to the recipient, the key it counts under: the rule name followed by
 *	each key part in a fixed order, "name|rcpt=a@b|sender_domain=x".
 *	Parts are normalised already (addr_norm()); a client address is cut
 *	to the rule's prefix length ("client_ip=192.0.2.0/24"). A rule is
 *	skipped when an exemption matches, or when it is keyed on something
 *	the transaction lacks (auth without SMTP AUTH, client_ip without an
 *	address): such a rule cannot tell recipients apart and must not
 *	lump them together.
 *
 *	rate_match_verdict() picks the rule that decides when several refuse.
 *
 * DIAGNOSTICS
 *	None: rate_match_items() returns at most max items and leaves out
 *	the rules that do not apply; rate_match_why_not() says why one does
 *	not.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr_norm.h"
#include "dataset.h"
#include "rate_match.h"

/* rate_match_mask - "addr/len" of the network a client address is in */
static int rate_match_mask(const char *client, int v4len, int v6len, char *out, size_t outlen)
{
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    int family, len, bytes;

    if (inet_pton(AF_INET, client, a) == 1) {
        family = AF_INET;
        len = v4len;
        bytes = 4;
    } else if (inet_pton(AF_INET6, client, a) == 1) {
        family = AF_INET6;
        len = v6len;
        bytes = 16;
    } else
        return -1;
    for (int i = 0; i < bytes; i++) {
        int keep = len - 8 * i;

        if (keep <= 0)
            a[i] = 0;
        else if (keep < 8)
            a[i] &= (unsigned char) (0xff << (8 - keep));
    }
    if (inet_ntop(family, a, text, sizeof(text)) == NULL)
        return -1;
    return snprintf(out, outlen, "%s/%d", text, len) < (int) outlen ? 0 : -1;
}

/* rate_match_matches_any - a wildcard list matched against s */
static int rate_match_matches_any(const STRV *patterns, const char *s)
{
    for (size_t i = 0; i < patterns->n; i++)
        if (dataset_wildmatch(patterns->v[i], s))
            return 1;
    return 0;
}

/* rate_match_exempt - which exemption of the rule matches, or NULL */
static const char *rate_match_exempt(const RATE_RULE *r, const RATE_MATCH_CTX *c)
{
    if (rate_match_matches_any(&r->exempt_rcpt, c->rcpt))
        return "exempt: the recipient matches exempt-rcpt=";
    if (rate_match_matches_any(&r->exempt_sender, c->sender))
        return "exempt: the sender matches exempt-sender=";
    if (c->auth[0] && strv_contains_ci(&r->exempt_auth, c->auth))
        return "exempt: the login matches exempt-auth=";
    if (r->exempt_client && c->client[0] && netlist_match_str(r->exempt_client, c->client, NULL))
        return "exempt: the client matches exempt-client=";
    return NULL;
}

/* rate_match_key - the key of one rule for these facts; -1 if it does not apply */
static int rate_match_key(const RATE_RULE *r, const RATE_MATCH_CTX *c, char *key, size_t len)
{
    BUF b;
    char net[INET6_ADDRSTRLEN + 8];
    int rc = 0;

    buf_init(&b, len - 1);
    rc |= buf_puts(&b, r->name);
    if (r->keys & RATE_KEY_GLOBAL)
        rc |= buf_puts(&b, "|global");
    if (r->keys & RATE_KEY_RCPT)
        rc |= buf_printf(&b, "|rcpt=%s", c->rcpt);
    if (r->keys & RATE_KEY_RCPT_DOMAIN)
        rc |= buf_printf(&b, "|rcpt_domain=%s", addr_domain(c->rcpt));
    if (r->keys & RATE_KEY_SENDER)
        rc |= buf_printf(&b, "|sender=%s", c->sender);
    if (r->keys & RATE_KEY_SENDER_DOMAIN)
        rc |= buf_printf(&b, "|sender_domain=%s", addr_domain(c->sender));
    if (r->keys & RATE_KEY_CLIENT_IP) {
        if (c->client[0] == 0
            || rate_match_mask(c->client, r->v4len, r->v6len, net, sizeof(net)) < 0)
            rc = -1;
        else
            rc |= buf_printf(&b, "|client_ip=%s", net);
    }
    if (r->keys & RATE_KEY_AUTH) {
        if (c->auth[0] == 0)
            rc = -1;
        else
            rc |= buf_printf(&b, "|auth=%s", c->auth);
    }
    if (rc == 0)
        util_strlcpy(key, b.data, len);
    buf_free(&b);
    return rc == 0 ? 0 : -1;
}

size_t rate_match_items(const RATE_POLICY *p, const RATE_MATCH_CTX *c, RATE_STORE_ITEM *items,
                        size_t max)
{
    size_t n = 0;

    for (size_t i = 0; p && i < p->n && n < max; i++) {
        const RATE_RULE *r = &p->rule[i];

        if (rate_match_exempt(r, c) != NULL)
            continue;
        if (rate_match_key(r, c, items[n].key, sizeof(items[n].key)) < 0)
            continue;
        items[n].rule = r;
        n++;
    }
    return n;
}

/* rate_match_why_not - why a rule gives no item for these facts */
const char *rate_match_why_not(const RATE_RULE *r, const RATE_MATCH_CTX *c)
{
    const char *why = rate_match_exempt(r, c);
    char key[RATE_STORE_KEY_MAX];

    if (why)
        return why;
    if ((r->keys & RATE_KEY_CLIENT_IP) && c->client[0] == 0)
        return "keyed on client_ip, and there is no client address";
    if ((r->keys & RATE_KEY_CLIENT_IP) && rate_match_key(r, c, key, sizeof(key)) < 0
        && !(r->keys & RATE_KEY_AUTH))
        return "keyed on client_ip, and the client address cannot be read";
    if ((r->keys & RATE_KEY_AUTH) && c->auth[0] == 0)
        return "keyed on auth, and the client did not authenticate";
    if (rate_match_key(r, c, key, sizeof(key)) < 0)
        return "the key would be too long";
    return "it applies";
}

/* rate_match_severity - reject > tempfail > quarantine */
static int rate_match_severity(RATE_ACTION a)
{
    switch (a) {
    case RATE_ACTION_REJECT:
        return 3;
    case RATE_ACTION_TEMPFAIL:
        return 2;
    case RATE_ACTION_QUARANTINE:
        return 1;
    default:
        return 0;
    }
}

void rate_match_verdict(const RATE_STORE_ITEM *items, const RATE_STORE_RESULT *res, size_t n,
                        RATE_MATCH_VERDICT *v)
{
    memset(v, 0, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        const RATE_RULE *r = items[i].rule;

        if (res[i].allowed)
            continue;
        if (r->shadow) {
            v->shadow++;
            continue;
        }
        if (!v->refused || rate_match_severity(r->action) > rate_match_severity(v->action)
            || (r->action == v->action && res[i].wait_ms > v->wait_ms)) {
            v->refused = 1;
            v->action = r->action;
            v->rule = r;
            v->wait_ms = res[i].wait_ms;
            v->count = res[i].count;
        }
    }
}

uint64_t rate_match_retry_s(uint64_t wait_ms)
{
    return (wait_ms + 999) / 1000;
}

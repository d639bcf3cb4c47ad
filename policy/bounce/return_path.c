/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * return_path.c - the ReturnPath template
 *
 * SYNOPSIS
 *	#include "return_path.h"
 *
 *	int	return_path_check(const char *tmpl, BUF *err)
 *	int	return_path_expand(const char *tmpl, const char *token,
 *			const char *domain, char *out, size_t outlen)
 *	int	return_path_token(const char *tmpl, const char *addr,
 *			char *token, size_t tokenlen)
 *
 * DESCRIPTION
 *	A template is local@domain: the local part holds %{token} exactly
 *	once (with fixed text around it, e.g. "bounces+"), the domain may
 *	hold %{domain} (the From domain, so the return path aligns with it
 *	under relaxed SPF alignment: bounce.%{domain}); both parts are
 *	otherwise letters, digits and "!#$&'*+-/=?^_`{|}~." (RFC 5321
 *	dot-atom; the domain letters, digits, '-' and '.').
 *
 *	return_path_token() is the inverse used on inbound mail: it matches
 *	the fixed text of the local part (any case) around a non-empty token
 *	of base32 characters, and the domain: the template's fixed text with
 *	%{domain} standing for any non-empty run of labels.
 *
 * DIAGNOSTICS
 *	return_path_check() -1 with the reason appended to err; the
 *	others -1 or 0 as the header says.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "return_path.h"

#define RP_TOK "%{token}"
#define RP_DOM "%{domain}"

/* rp_atext - 1 if c may stand in a dot-atom local part */
static int rp_atext(int c)
{
    return isalnum(c) || (c && strchr("!#$&'*+-/=?^_`{|}~.", c) != NULL);
}

/* return_path_check - is tmpl a ReturnPath template? */
int return_path_check(const char *tmpl, BUF *err)
{
    const char *at, *tok, *p;

    if (tmpl == NULL || strlen(tmpl) >= RETURN_PATH_MAX / 2 || (at = strrchr(tmpl, '@')) == NULL
        || at == tmpl || at[1] == 0) {
        (void) util_err(err, "not an address local@domain (at most %d bytes)", RETURN_PATH_MAX / 2 - 1);
        return -1;
    }
    if ((tok = strstr(tmpl, RP_TOK)) == NULL || tok > at || strstr(tok + 1, RP_TOK) != NULL) {
        (void) util_err(err, "%%{token} must appear once, in the local part");
        return -1;
    }
    for (p = tmpl; p < at; p++) {
        if (p == tok) {
            p += strlen(RP_TOK) - 1;
            continue;
        }
        if (!rp_atext((unsigned char) *p) || *p == '%') {
            (void) util_err(err, "the local part may hold letters, digits, %%{token} and "
                            "!#$&'*+-/=?^_`{|}~. only");
            return -1;
        }
    }
    for (p = at + 1; *p; p++) {
        if (strncmp(p, RP_DOM, strlen(RP_DOM)) == 0) {
            p += strlen(RP_DOM) - 1;
            continue;
        }
        if (!isalnum((unsigned char) *p) && *p != '-' && *p != '.') {
            (void) util_err(err, "the domain may hold letters, digits, '-', '.' and %%{domain} only");
            return -1;
        }
    }
    return 0;
}

/* rp_put - s (n bytes) at *o, lowercased if lower; -1 if it does not fit */
static int rp_put(const char *s, size_t n, int lower, char *out, size_t outlen, size_t *o)
{
    if (*o + n >= outlen)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[(*o)++] = lower ? (char) tolower((unsigned char) s[i]) : s[i];
    return 0;
}

/* return_path_expand - the template filled in */
int return_path_expand(const char *tmpl, const char *token, const char *domain, char *out,
                       size_t outlen)
{
    const char *at, *p;
    size_t o = 0;
    int rc = 0;

    if (out == NULL || outlen == 0)
        return -1;
    out[0] = 0;
    if (return_path_check(tmpl, NULL) != 0 || token == NULL || *token == 0
        || domain == NULL || *domain == 0)
        return -1;
    at = strrchr(tmpl, '@');
    for (p = tmpl; *p && rc == 0; p++) {
        if (p < at && strncmp(p, RP_TOK, strlen(RP_TOK)) == 0) {
            rc = rp_put(token, strlen(token), 0, out, outlen, &o);
            p += strlen(RP_TOK) - 1;
        } else if (p > at && strncmp(p, RP_DOM, strlen(RP_DOM)) == 0) {
            rc = rp_put(domain, strlen(domain), 1, out, outlen, &o);
            p += strlen(RP_DOM) - 1;
        } else {
            rc = rp_put(p, 1, p > at, out, outlen, &o);
        }
    }
    if (rc != 0) {
        out[0] = 0;
        return -1;
    }
    out[o] = 0;
    return 0;
}

/* rp_domain_match - does dom (any case) have the form of the template's domain tdom? */
static int rp_domain_match(const char *tdom, const char *dom)
{
    const char *v = strstr(tdom, RP_DOM);
    size_t pre, post, n = strlen(dom);

    if (v == NULL)
        return strcasecmp(tdom, dom) == 0;
    pre = (size_t) (v - tdom);
    post = strlen(v + strlen(RP_DOM));
    if (n <= pre + post || strncasecmp(dom, tdom, pre) != 0
        || strcasecmp(dom + n - post, v + strlen(RP_DOM)) != 0)
        return 0;
    return 1;                           /* the From domain itself is the token's to vouch for */
}

/* return_path_token - the token of addr, if it has the template's form */
int return_path_token(const char *tmpl, const char *addr, char *token, size_t tokenlen)
{
    const char *tat, *aat, *tok;
    size_t pre, post, alen, n;

    if (token && tokenlen)
        token[0] = 0;
    if (tmpl == NULL || addr == NULL || token == NULL || return_path_check(tmpl, NULL) != 0
        || (aat = strrchr(addr, '@')) == NULL)
        return 0;
    tat = strrchr(tmpl, '@');
    tok = strstr(tmpl, RP_TOK);
    pre = (size_t) (tok - tmpl);
    post = (size_t) (tat - tok) - strlen(RP_TOK);
    alen = (size_t) (aat - addr);
    if (alen <= pre + post || strncasecmp(addr, tmpl, pre) != 0
        || strncasecmp(aat - post, tok + strlen(RP_TOK), post) != 0
        || !rp_domain_match(tat + 1, aat + 1))
        return 0;
    n = alen - pre - post;
    if (n >= tokenlen || strspn(addr + pre, "abcdefghijklmnopqrstuvwxyz234567"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ") < n)
        return 0;
    memcpy(token, addr + pre, n);
    token[n] = 0;
    return 1;
}

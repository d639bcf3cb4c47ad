/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsub_msg.c - List-Unsubscribe decisions of one message.
 *
 * SYNOPSIS
 *	#include "unsub_msg.h"
 *
 *	int	unsub_exempt(const STRV *patterns, const char *from_addr,
 *			const char *from_domain)
 *	void	unsub_stream(const TXCONF *cf, const char *from_local,
 *			const char *from_domain, char *out, size_t len)
 *	int	unsub_header_value(const char *url_tmpl,
 *			const char *mailto_tmpl, const UNSUB_KEYS *keys,
 *			const char *rcpt, const char *stream,
 *			const char *from_domain, uint64_t now, BUF *out, BUF *err)
 *	UNSUB_ROUTES * unsub_routes_load(const char *spec, const char *where,
 *			BUF *errs)
 *	void	unsub_routes_free(UNSUB_ROUTES *rt)
 *	void	unsub_route_for(const UNSUB_ROUTES *rt, const TXCONF *cf,
 *			const char *from_domain, const char **url,
 *			const char **mailto)
 *	int	unsub_mailto_token(const char *tmpl, const char *rcpt,
 *			char *token, size_t len)
 *	int	unsub_url_token(const char *tmpl, const char *uri,
 *			char *token, size_t len)
 *
 * DESCRIPTION
 *	unsub_route_for() picks the templates for a From domain: the first
 *	UnsubscribeTable line whose pattern matches, else UnsubscribeURL and
 *	UnsubscribeMailto.
 *
 *	unsub_header_value() fills a URL template (%{token},
 *	%{domain}) and, when there is a mailto template, adds the mailto URI
 *	on a folded second line: RFC 8058 one-click wants exactly one HTTPS
 *	URI, which may be followed by a mailto. Without a URL template (a
 *	mailto-only setup, no HTTPS endpoint) the value is the mailto URI
 *	alone; the caller then adds no List-Unsubscribe-Post. The token names one
 *	recipient, so the caller adds the header only to messages with one
 *	recipient: unsubscribing one person must never unsubscribe another.
 *
 *	unsub_mailto_token() recognises an unsubscribe request sent by mail
 *	to an address made from the template (e.g. unsub+TOKEN@example.com);
 *	the local part is compared case-insensitively around the token, the
 *	token itself exactly. unsub_url_token() does the same for an URL
 *	made from an UnsubscribeURL template (a complaint's enclosed
 *	List-Unsubscribe): %{domain} stands for any host name, %{token} for
 *	a run of token characters, both taken as long as they go (no
 *	backtracking: linear in the URL), the rest compared ignoring case.
 *
 *	unsub_exempt() and unsub_stream() decide whether a sender's mail is
 *	subscription mail at all (password resets are not) and what an
 *	unsubscribe covers.
 *
 * DIAGNOSTICS
 *	unsub_routes_load() returns NULL with "file:line: message" lines
 *	in errs for a bad UnsubscribeTable line. unsub_header_value()
 *	returns -1 with the reason in err (token or header too long).
 *	unsub_mailto_token() and unsub_url_token() return 0 when the
 *	address or URL is not one of the template's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_smtp.h"
#include "dataset.h"
#include "unsub_msg.h"

int unsub_exempt(const STRV *patterns, const char *from_addr, const char *from_domain)
{
    for (size_t i = 0; i < patterns->n; i++) {
        const char *p = patterns->v[i];

        if (strchr(p, '@') ? dataset_wildmatch(p, from_addr) : dataset_wildmatch(p, from_domain))
            return 1;
    }
    return 0;
}

void unsub_stream(const TXCONF *cf, const char *from_local, const char *from_domain,
                  char *out, size_t len)
{
    char raw[SUPPRESS_FIELD_MAX * 2];
    BUF err;

    if (cf->unsub.scope_domain)
        snprintf(raw, sizeof(raw), "%s", from_domain);
    else
        snprintf(raw, sizeof(raw), "%s@%s", from_local, from_domain);
    /* The same form txmilterctl suppress and txmilter-unsubd store. */
    buf_init(&err, 256);
    if (suppress_norm_stream(raw, out, len, &err) < 0) {
        util_strlcpy(out, raw, len);
        util_lower(out);
    }
    buf_free(&err);
}

/* unsub_fill - a template with %{token} and %{domain} filled in */
static int unsub_fill(BUF *out, const char *tmpl, const char *token, const char *domain)
{
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "%{token}", 8) == 0) {
            if (buf_puts(out, token) < 0)
                return -1;
            p += 8;
        } else if (strncmp(p, "%{domain}", 9) == 0) {
            if (buf_puts(out, domain) < 0)
                return -1;
            p += 9;
        } else if (buf_append(out, p++, 1) < 0)
            return -1;
    }
    return 0;
}

int unsub_header_value(const char *url_tmpl, const char *mailto_tmpl, const UNSUB_KEYS *keys,
                       const char *rcpt, const char *stream, const char *from_domain, uint64_t now,
                       BUF *out, BUF *err)
{
    char token[UNSUB_TOKEN_MAX];

    buf_reset(out);
    if (unsub_token_seal(keys, rcpt, stream, now, token, sizeof(token)) < 0) {
        buf_printf(err, "cannot make a token for <%s> (address or stream too long)", rcpt);
        return -1;
    }
    if (url_tmpl == NULL && mailto_tmpl == NULL) {
        buf_printf(err, "neither an URL nor a mailto template");
        return -1;
    }
    if (url_tmpl != NULL && (buf_puts(out, "<") < 0 || unsub_fill(out, url_tmpl, token, from_domain) < 0
                             || buf_puts(out, ">") < 0))
        goto toolong;
    if (mailto_tmpl) {
        if (buf_puts(out, url_tmpl ? ",\n\t<mailto:" : "<mailto:") < 0
            || unsub_fill(out, mailto_tmpl, token, from_domain) < 0
            || buf_puts(out, "?subject=unsubscribe>") < 0)
            goto toolong;
    }
    return 0;
toolong:
    buf_printf(err, "List-Unsubscribe header too long");
    return -1;
}

UNSUB_ROUTES *unsub_routes_load(const char *spec, const char *where, BUF *errs)
{
    DATASET *ds = dataset_load(spec, where, errs);
    UNSUB_ROUTES *rt;
    int bad = 0;

    if (ds == NULL)
        return NULL;
    rt = xcalloc(1, sizeof(*rt));
    rt->r = xcalloc(ds->n ? ds->n : 1, sizeof(UNSUB_ROUTE));
    for (size_t i = 0; i < ds->n; i++) {
        const DATASET_ENTRY *e = &ds->ent[i];
        STRV v;

        strv_init(&v);
        if (e->value)
            strv_split(&v, e->value, " \t");
        if (v.n < 1 || v.n > 2 || !conf_unsub_url_ok(v.v[0]) || (v.n == 2 && !conf_unsub_mailto_ok(v.v[1]))) {
            util_err_at(errs, e->file, e->line, "expected \"domain-pattern https://...%%{token}... "
                        "[local%%{token}@domain]\"");
            bad = 1;
        } else {
            UNSUB_ROUTE *r = &rt->r[rt->n++];

            r->pattern = xstrdup(e->key);
            util_lower(r->pattern);
            r->url = xstrdup(v.v[0]);
            r->mailto = v.n == 2 ? xstrdup(v.v[1]) : NULL;
        }
        strv_free(&v);
    }
    dataset_free(ds);
    if (bad) {
        unsub_routes_free(rt);
        return NULL;
    }
    return rt;
}

void unsub_routes_free(UNSUB_ROUTES *rt)
{
    if (rt == NULL)
        return;
    for (size_t i = 0; i < rt->n; i++) {
        free(rt->r[i].pattern);
        free(rt->r[i].url);
        free(rt->r[i].mailto);
    }
    free(rt->r);
    free(rt);
}

void unsub_route_for(const UNSUB_ROUTES *rt, const TXCONF *cf, const char *from_domain,
                     const char **url, const char **mailto)
{
    for (size_t i = 0; rt && i < rt->n; i++)
        if (dataset_wildmatch(rt->r[i].pattern, from_domain)) {
            *url = rt->r[i].url;
            *mailto = rt->r[i].mailto;
            return;
        }
    *url = cf->unsub.url;
    *mailto = cf->unsub.mailto;
}

int unsub_mailto_token(const char *tmpl, const char *rcpt, char *token, size_t len)
{
    const char *mark = strstr(tmpl, "%{token}");
    size_t pre, post, rlen;
    char r[ADDR_NORM_INPUT_MAX + 1];

    if (mark == NULL || strlen(rcpt) > ADDR_NORM_INPUT_MAX)
        return 0;
    addr_smtp_bare(rcpt, r, sizeof(r));
    rlen = strlen(r);
    pre = (size_t) (mark - tmpl);
    post = strlen(mark + 8);
    if (rlen <= pre + post || strncasecmp(r, tmpl, pre) != 0
        || strncasecmp(r + rlen - post, mark + 8, post) != 0)
        return 0;
    if (rlen - pre - post >= len)
        return 0;
    memcpy(token, r + pre, rlen - pre - post);
    token[rlen - pre - post] = 0;
    /* a token is base64url; anything else is not ours */
    for (const char *p = token; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '_'))
            return 0;
    return 1;
}

/* unsub_is_token_char - base64url, what unsub_token_seal() writes */
static int unsub_is_token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
        || c == '_';
}

/* unsub_url_token - the token of an URL made from an UnsubscribeURL template */
int unsub_url_token(const char *tmpl, const char *uri, char *token, size_t len)
{
    const char *t = tmpl, *u = uri;
    int found = 0;

    while (*t) {
        size_t k = 0;

        if (strncmp(t, "%{token}", 8) == 0) {
            while (unsub_is_token_char(u[k]))
                k++;
            if (k == 0 || k >= len || found)
                return 0;
            memcpy(token, u, k);
            token[k] = 0;
            found = 1;
            t += 8;
        } else if (strncmp(t, "%{domain}", 9) == 0) {
            while ((u[k] >= 'A' && u[k] <= 'Z') || (u[k] >= 'a' && u[k] <= 'z')
                   || (u[k] >= '0' && u[k] <= '9') || u[k] == '-' || u[k] == '.')
                k++;
            if (k == 0)
                return 0;
            t += 9;
        } else {
            if (tolower((unsigned char) *t) != tolower((unsigned char) *u))
                return 0;
            t++;
            k = 1;
        }
        u += k;
    }
    return found && *u == 0;
}

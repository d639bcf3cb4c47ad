/*
 * unsub_msg.c - List-Unsubscribe decisions of one message.
 *
 *	unsub_header_value() fills the UnsubscribeURL template (%{token},
 *	%{domain}) and, when UnsubscribeMailto is set, adds the mailto URI
 *	on a folded second line: RFC 8058 one-click wants exactly one HTTPS
 *	URI, which may be followed by a mailto. The token names one
 *	recipient, so the caller adds the header only to messages with one
 *	recipient: unsubscribing one person must never unsubscribe another.
 *
 *	unsub_mailto_token() recognises an unsubscribe request sent by mail
 *	to an address made from the template (e.g. unsub+TOKEN@example.com);
 *	the local part is compared case-insensitively around the token, the
 *	token itself exactly.
 *
 *	unsub_exempt() and unsub_stream() decide whether a sender's mail is
 *	subscription mail at all (password resets are not) and what an
 *	unsubscribe covers.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dataset.h"
#include "unsub_msg.h"

static _Atomic(SUPPRESS *) unsub_the_store;

void unsub_set_store(SUPPRESS *s)
{
    atomic_store(&unsub_the_store, s);
}

SUPPRESS *unsub_store(void)
{
    return atomic_load(&unsub_the_store);
}

int unsub_enabled(const TXCONF *cf)
{
    return cf->unsub_keyfile != NULL && cf->unsub_url != NULL;
}

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

    if (cf->unsub_scope_domain)
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

int unsub_header_value(const TXCONF *cf, const UNSUB_KEYS *keys, const char *rcpt,
                       const char *stream, const char *from_domain, uint64_t now,
                       BUF *out, BUF *err)
{
    char token[UNSUB_TOKEN_MAX];

    buf_reset(out);
    if (unsub_token_seal(keys, rcpt, stream, now, token, sizeof(token)) < 0) {
        buf_printf(err, "cannot make a token for <%s> (address or stream too long)", rcpt);
        return -1;
    }
    if (buf_puts(out, "<") < 0 || unsub_fill(out, cf->unsub_url, token, from_domain) < 0
        || buf_puts(out, ">") < 0)
        goto toolong;
    if (cf->unsub_mailto) {
        if (buf_puts(out, ",\n\t<mailto:") < 0 || unsub_fill(out, cf->unsub_mailto, token, from_domain) < 0
            || buf_puts(out, "?subject=unsubscribe>") < 0)
            goto toolong;
    }
    return 0;
toolong:
    buf_printf(err, "List-Unsubscribe header too long");
    return -1;
}

int unsub_mailto_token(const char *tmpl, const char *rcpt, char *token, size_t len)
{
    const char *mark = strstr(tmpl, "%{token}");
    size_t pre, post, rlen;
    const char *r = rcpt;

    if (mark == NULL)
        return 0;
    rlen = strlen(r);
    if (rlen >= 2 && r[0] == '<' && r[rlen - 1] == '>') {
        r++;
        rlen -= 2;
    }
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

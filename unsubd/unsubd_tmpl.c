/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_tmpl.c - page templates: checked once, rendered with escaping
 *
 * SYNOPSIS
 *	#include "unsubd_tmpl.h"
 *
 *	UNSUBD_TMPL *unsubd_tmpl_compile(const char *text, size_t len,
 *					 const char *name, int with_form, BUF *errs)
 *	void	unsubd_tmpl_free(UNSUBD_TMPL *t)
 *	int	unsubd_tmpl_render(const UNSUBD_TMPL *t,
 *				   const char *const vals[UNSUBD_TMPL_NVARS], BUF *out)
 *	const char *unsubd_tmpl_styles(const UNSUBD_TMPL *t)
 *	int	unsubd_tmpl_escape(BUF *out, const char *s)
 *
 * DESCRIPTION
 *	A template is UTF-8 HTML in which "%{name}" stands for a variable
 *	(unsubd_tmpl_var_names[]: lang, title, heading, message, note,
 *	stream, recipient, form); any other '%' is text. Every value is
 *	HTML-escaped (& < > " ' as character references), in text and in
 *	attribute values alike, so no value can add markup; only %{form}
 *	is markup, made by txmilter-unsubd itself.
 *
 *	The pages are served with a Content-Security-Policy that allows no
 *	script, no outside resource (images only as data: URIs) and only
 *	the <style> elements of the template, by their SHA-256 hash, which
 *	unsubd_tmpl_compile() computes (unsubd_tmpl_styles()). What that
 *	policy would silently block is refused instead, so that an operator
 *	learns it at start-up rather than from a broken page:
 *	 - <script>, <link>, <iframe>, <object>, <embed>, <base>;
 *	 - style="..." attributes (only <style> elements are hashed);
 *	 - a src= that is not a data: URI; in a <style> element, url()
 *	   other than data: and @import;
 *	 - a variable inside a <style> element (its hash must not change),
 *	   an unclosed <style>, more than UNSUBD_TMPL_STYLES of them;
 *	 - "%{" that does not start a known variable;
 *	 - a NUL byte, more than UNSUBD_TMPL_MAX bytes;
 *	 - %{form} missing from (or repeated in) a confirmation page, or
 *	   present in another page.
 *	Tag and attribute names are matched ignoring case. HTML comments
 *	(<!-- ... -->) are kept in the page as they are: nothing in them is
 *	checked, and a %{name} in them is text.
 *
 * DIAGNOSTICS
 *	unsubd_tmpl_compile() returns NULL and appends one
 *	"name:line: message" line per problem to errs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "unsubd_tmpl.h"

const char *const unsubd_tmpl_var_names[UNSUBD_TMPL_NVARS] = {
    "lang", "title", "heading", "message", "note", "stream", "recipient", "form",
};

/* One piece of a template: text, or a variable. */
typedef struct unsubd_tmpl_seg {
    size_t  off, len;           /* the text in t->text */
    int     var;                /* -1: text */
} UNSUBD_TMPL_SEG;

struct unsubd_tmpl {
    char   *text;
    UNSUBD_TMPL_SEG *seg;
    size_t  nseg;
    char    styles[UNSUBD_TMPL_CSP_MAX];
};

/* Elements whose use the page's policy would block. */
static const char *const unsubd_tmpl_banned[] = {
    "<script", "<link", "<iframe", "<object", "<embed", "<base",
};

/* unsubd_tmpl_line - the line of offset off */
static int unsubd_tmpl_line(const char *text, size_t off)
{
    int line = 1;

    for (size_t i = 0; i < off; i++)
        line += text[i] == '\n';
    return line;
}

/* unsubd_tmpl_find - first case-insensitive occurrence of s in [from, len), or len */
static size_t unsubd_tmpl_find(const char *text, size_t len, size_t from, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = from; i + n <= len; i++)
        if (strncasecmp(text + i, s, n) == 0)
            return i;
    return len;
}

/* unsubd_tmpl_word_end - does a tag name end at text[i] (space, '>', '/', end)? */
static int unsubd_tmpl_word_end(const char *text, size_t len, size_t i)
{
    return i >= len || isspace((unsigned char) text[i]) || text[i] == '>' || text[i] == '/';
}

/* unsubd_tmpl_data_uri - does a data: URI start at text[j] (after spaces and a quote)? */
static int unsubd_tmpl_data_uri(const char *text, size_t end, size_t j)
{
    while (j < end && text[j] == ' ')
        j++;
    if (j < end && (text[j] == '"' || text[j] == '\''))
        j++;
    return end - j >= 5 && strncasecmp(text + j, "data:", 5) == 0;
}

/* unsubd_tmpl_hash - "'sha256-BASE64'" of [p, p+n) appended to styles */
static int unsubd_tmpl_hash(UNSUBD_TMPL *t, const char *p, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    unsigned int mdlen = 0;
    size_t used = strlen(t->styles);

    if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1)
        return -1;
    (void) EVP_EncodeBlock(b64, md, (int) mdlen);
    if ((size_t) snprintf(t->styles + used, sizeof(t->styles) - used, "%s'sha256-%s'",
                          used ? " " : "", (const char *) b64) >= sizeof(t->styles) - used)
        return -1;
    return 0;
}

/* unsubd_tmpl_check_style - one <style> element's content [p, p+n) at offset off */
static int unsubd_tmpl_check_style(const char *text, size_t off, size_t n, const char *name, BUF *errs)
{
    size_t end = off + n, i;
    int bad = 0;

    if ((i = unsubd_tmpl_find(text, end, off, "%{")) < end) {
        util_err_at(errs, name, unsubd_tmpl_line(text, i),
                    "a variable inside <style>: the style's hash in the Content-Security-Policy must not change");
        bad = 1;
    }
    if ((i = unsubd_tmpl_find(text, end, off, "@import")) < end) {
        util_err_at(errs, name, unsubd_tmpl_line(text, i), "@import: outside style sheets are blocked by "
                    "the page's Content-Security-Policy; put the rules in the <style> element");
        bad = 1;
    }
    for (i = off; (i = unsubd_tmpl_find(text, end, i, "url(")) < end; i += 4) {
        if (!unsubd_tmpl_data_uri(text, end, i + 4)) {
            util_err_at(errs, name, unsubd_tmpl_line(text, i), "url() other than a data: URI: outside "
                        "resources are blocked by the page's Content-Security-Policy");
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

/* unsubd_tmpl_styles_scan - hash every <style> element and check its content */
static int unsubd_tmpl_styles_scan(UNSUBD_TMPL *t, const char *text, size_t len, const char *name, BUF *errs)
{
    size_t i = 0;
    int n = 0, bad = 0;

    while ((i = unsubd_tmpl_find(text, len, i, "<style")) < len) {
        size_t open_end, close;

        if (!unsubd_tmpl_word_end(text, len, i + 6)) {
            i += 6;
            continue;
        }
        open_end = unsubd_tmpl_find(text, len, i, ">");
        close = open_end < len ? unsubd_tmpl_find(text, len, open_end + 1, "</style") : len;
        if (close >= len) {
            util_err_at(errs, name, unsubd_tmpl_line(text, i), "<style> without </style>");
            return -1;
        }
        if (++n > UNSUBD_TMPL_STYLES) {
            util_err_at(errs, name, unsubd_tmpl_line(text, i), "more than %d <style> elements",
                        UNSUBD_TMPL_STYLES);
            return -1;
        }
        if (unsubd_tmpl_check_style(text, open_end + 1, close - open_end - 1, name, errs) < 0
            || unsubd_tmpl_hash(t, t->text + open_end + 1, close - open_end - 1) < 0)
            bad = 1;
        i = close + 7;
    }
    return bad ? -1 : 0;
}

/* unsubd_tmpl_check_markup - what the page's policy would block */
static int unsubd_tmpl_check_markup(const char *text, size_t len, const char *name, BUF *errs)
{
    size_t i;
    int bad = 0;

    for (size_t k = 0; k < sizeof(unsubd_tmpl_banned) / sizeof(unsubd_tmpl_banned[0]); k++) {
        const char *el = unsubd_tmpl_banned[k];

        for (i = 0; (i = unsubd_tmpl_find(text, len, i, el)) < len; i++)
            if (unsubd_tmpl_word_end(text, len, i + strlen(el))) {
                util_err_at(errs, name, unsubd_tmpl_line(text, i), "%s> is not allowed: the page's "
                            "Content-Security-Policy blocks scripts, frames and outside resources", el);
                bad = 1;
                break;
            }
    }
    for (i = 0; (i = unsubd_tmpl_find(text, len, i, "style=")) < len; i++)
        if (i > 0 && isspace((unsigned char) text[i - 1])) {
            util_err_at(errs, name, unsubd_tmpl_line(text, i), "a style= attribute: the page's "
                        "Content-Security-Policy allows only <style> elements; use a class");
            bad = 1;
            break;
        }
    for (i = 0; (i = unsubd_tmpl_find(text, len, i, "src=")) < len; i++) {
        if (i == 0 || !isspace((unsigned char) text[i - 1]))
            continue;
        if (!unsubd_tmpl_data_uri(text, len, i + 4)) {
            util_err_at(errs, name, unsubd_tmpl_line(text, i), "src= other than a data: URI: the page's "
                        "Content-Security-Policy blocks outside resources");
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

/* unsubd_tmpl_var - the variable named at text[i] ("%{name}"), its length in *n; -1 */
static int unsubd_tmpl_var(const char *text, size_t len, size_t i, size_t *n)
{
    for (int v = 0; v < UNSUBD_TMPL_NVARS; v++) {
        size_t l = strlen(unsubd_tmpl_var_names[v]);

        if (i + 3 + l <= len && strncmp(text + i + 2, unsubd_tmpl_var_names[v], l) == 0
            && text[i + 2 + l] == '}') {
            *n = l + 3;
            return v;
        }
    }
    return -1;
}

/* unsubd_tmpl_split - cut the text into pieces; the number of %{form} in *forms */
static int unsubd_tmpl_split(UNSUBD_TMPL *t, const char *scan, size_t len, const char *name, int *forms,
                             BUF *errs)
{
    size_t i = 0, lit = 0, cap = 16;
    int bad = 0;

    t->seg = xcalloc(cap, sizeof(*t->seg));
    *forms = 0;
    for (;;) {
        size_t at = unsubd_tmpl_find(scan, len, i, "%{"), n = 0;
        int v = at < len ? unsubd_tmpl_var(scan, len, at, &n) : -1;

        if (t->nseg + 2 > cap) {
            cap *= 2;
            t->seg = xrealloc(t->seg, cap * sizeof(*t->seg));
        }
        if (at >= len || v >= 0) {
            t->seg[t->nseg++] = (UNSUBD_TMPL_SEG) {lit, at - lit, -1};
            if (at >= len)
                break;
            t->seg[t->nseg++] = (UNSUBD_TMPL_SEG) {at, n, v};
            *forms += v == UNSUBD_VAR_FORM;
            lit = i = at + n;
            continue;
        }
        n = strcspn(t->text + at, "} \t\r\n<") + 1;
        util_err_at(errs, name, unsubd_tmpl_line(t->text, at), "unknown variable %.*s (known: %%{lang} "
                    "%%{title} %%{heading} %%{message} %%{note} %%{stream} %%{recipient} %%{form})",
                    n > 40 ? 40 : (int) n, t->text + at);
        bad = 1;
        i = at + 2;
    }
    return bad ? -1 : 0;
}

/* unsubd_tmpl_uncomment - a copy of text with each <!-- comment --> blanked
 * (line breaks kept): what the checks and the variables look at */
static char *unsubd_tmpl_uncomment(const char *text, size_t len)
{
    char *scan = xmalloc(len + 1);
    size_t i = 0;

    memcpy(scan, text, len);
    scan[len] = 0;
    while ((i = unsubd_tmpl_find(scan, len, i, "<!--")) < len) {
        size_t end = unsubd_tmpl_find(scan, len, i + 4, "-->");

        end = end < len ? end + 3 : len;
        for (; i < end; i++)
            if (scan[i] != '\n')
                scan[i] = ' ';
    }
    return scan;
}

/* unsubd_tmpl_compile - check a template and keep it */
UNSUBD_TMPL *unsubd_tmpl_compile(const char *text, size_t len, const char *name, int with_form, BUF *errs)
{
    UNSUBD_TMPL *t;
    char *scan;
    int bad = 0, forms = 0;

    if (len > UNSUBD_TMPL_MAX) {
        util_err_at(errs, name, 0, "more than %d bytes", UNSUBD_TMPL_MAX);
        return NULL;
    }
    if (memchr(text, 0, len) != NULL) {
        util_err_at(errs, name, unsubd_tmpl_line(text, (size_t) ((const char *) memchr(text, 0, len) - text)),
                    "a NUL byte: not a text file");
        return NULL;
    }
    t = xcalloc(1, sizeof(*t));
    t->text = xmalloc(len + 1);
    memcpy(t->text, text, len);
    t->text[len] = 0;
    scan = unsubd_tmpl_uncomment(t->text, len);
    bad |= unsubd_tmpl_check_markup(scan, len, name, errs) < 0;
    bad |= unsubd_tmpl_styles_scan(t, scan, len, name, errs) < 0;
    bad |= unsubd_tmpl_split(t, scan, len, name, &forms, errs) < 0;
    free(scan);
    if (with_form && forms != 1) {
        util_err_at(errs, name, 0, "%s", forms ? "%{form} more than once: the page has one button"
                    : "no %{form}: the confirmation page needs its button");
        bad = 1;
    } else if (!with_form && forms) {
        util_err_at(errs, name, 0, "%%{form} is only for the confirmation page (confirm.html)");
        bad = 1;
    }
    if (bad) {
        unsubd_tmpl_free(t);
        return NULL;
    }
    return t;
}

/* unsubd_tmpl_free - release a template */
void unsubd_tmpl_free(UNSUBD_TMPL *t)
{
    if (t == NULL)
        return;
    free(t->seg);
    free(t->text);
    free(t);
}

/* unsubd_tmpl_escape - append s escaped for HTML text and attributes */
int unsubd_tmpl_escape(BUF *out, const char *s)
{
    for (; s && *s; s++) {
        const char *e;
        char c[2] = {*s, 0};

        switch (*s) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        default: e = c; break;
        }
        if (buf_puts(out, e) < 0)
            return -1;
    }
    return 0;
}

/* unsubd_tmpl_render - the page */
int unsubd_tmpl_render(const UNSUBD_TMPL *t, const char *const vals[UNSUBD_TMPL_NVARS], BUF *out)
{
    for (size_t i = 0; i < t->nseg; i++) {
        const UNSUBD_TMPL_SEG *s = &t->seg[i];
        int rc;

        if (s->var < 0)
            rc = s->len ? buf_append(out, t->text + s->off, s->len) : 0;
        else if (s->var == UNSUBD_VAR_FORM)
            rc = vals[s->var] ? buf_puts(out, vals[s->var]) : 0;
        else
            rc = unsubd_tmpl_escape(out, vals[s->var]);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* unsubd_tmpl_styles - style-src sources */
const char *unsubd_tmpl_styles(const UNSUBD_TMPL *t)
{
    return t->styles;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_lang.c - Accept-Language and Accept, as txmilter-unsubd reads them
 *
 * SYNOPSIS
 *	#include "unsubd_lang.h"
 *
 *	int	unsubd_lang_pick(const char *header, const char *const *langs,
 *				 size_t n)
 *	int	unsubd_lang_wants_html(const char *accept)
 *
 * DESCRIPTION
 *	Both headers are comma-separated lists of elements with an optional
 *	weight (RFC 9110 section 12.4.2): "fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5".
 *	A weight is "q=" 0 to 1 with at most three decimals; an element
 *	without one weighs 1. Only the first UNSUBD_LANG_HEADER_MAX bytes
 *	and UNSUBD_LANG_ITEMS_MAX elements are read.
 *
 *	unsubd_lang_pick() reads language ranges (RFC 4647 section 2.1:
 *	"*" or 1 to 8 letters, then "-" and 1 to 8 letters or digits, any
 *	number of times). A range matches a language of langs when its
 *	first subtag is that language ("fr-CA" asks for French; "in", the
 *	old code of Indonesian, counts as "id"), or when it is "*". Each
 *	language takes the weight of its most specific matching range
 *	(the language itself over a regional range over "*"; of equally
 *	specific ranges the first), so that "*, fr;q=0" excludes French
 *	and "fr;q=0, fr" too. The language weighted highest wins;
 *	among equal weights the one the header names first, then the first
 *	in langs.
 *
 *	unsubd_lang_wants_html() looks for the media ranges text/html and
 *	application/xhtml+xml (other parameters than q are allowed there).
 *	"*" + "/" + "*" alone is not a request for HTML: curl and the one-click
 *	POSTs of mailbox providers send it, and get the plain answer.
 *
 * DIAGNOSTICS
 *	None: a malformed element (bad range, bad weight, unknown
 *	parameter in Accept-Language) is skipped, the rest still counts.
 */
#include <string.h>
#include <strings.h>

#include "unsubd_lang.h"

#define UNSUBD_LANG_RANGE_MAX 64    /* bytes of one element's value */

/* What one list element holds. */
typedef struct unsubd_lang_item {
    char    value[UNSUBD_LANG_RANGE_MAX];   /* the range, NUL-terminated */
    int     q;                              /* weight in thousandths */
    int     other_params;                   /* parameters besides q */
} UNSUBD_LANG_ITEM;

/* unsubd_lang_ows - skip spaces and tabs */
static const char *unsubd_lang_ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* unsubd_lang_qvalue - "0[.ddd]" or "1[.000]" in [p, end) to 0..1000; -1 if malformed */
static int unsubd_lang_qvalue(const char *p, const char *end)
{
    int q, scale = 100;

    if (p >= end || (*p != '0' && *p != '1'))
        return -1;
    q = (*p++ - '0') * 1000;
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9' && scale > 0; p++, scale /= 10)
            q += (*p - '0') * scale;
    }
    return p == end && q <= 1000 ? q : -1;
}

/* unsubd_lang_item - parse one element [p, end); 0, or -1 if malformed */
static int unsubd_lang_item(const char *p, const char *end, UNSUBD_LANG_ITEM *it)
{
    const char *semi = memchr(p, ';', (size_t) (end - p)), *v_end;
    size_t n;

    v_end = semi ? semi : end;
    while (v_end > p && (v_end[-1] == ' ' || v_end[-1] == '\t'))
        v_end--;
    if ((n = (size_t) (v_end - p)) == 0 || n >= sizeof(it->value))
        return -1;
    memcpy(it->value, p, n);
    it->value[n] = 0;
    it->q = 1000;
    it->other_params = 0;
    while (semi != NULL) {
        const char *prm = unsubd_lang_ows(semi + 1, end), *prm_end;

        semi = prm < end ? memchr(prm, ';', (size_t) (end - prm)) : NULL;
        prm_end = semi ? semi : end;
        while (prm_end > prm && (prm_end[-1] == ' ' || prm_end[-1] == '\t'))
            prm_end--;
        if (prm_end - prm >= 2 && (prm[0] == 'q' || prm[0] == 'Q') && prm[1] == '=') {
            if ((it->q = unsubd_lang_qvalue(prm + 2, prm_end)) < 0)
                return -1;
        } else {
            it->other_params++;
        }
    }
    return 0;
}

/* The callback that judges one parsed element; pos counts elements. */
typedef void (*UNSUBD_LANG_FN)(const UNSUBD_LANG_ITEM *it, int pos, void *ctx);

/* unsubd_lang_walk - call fn for each well-formed element of header */
static void unsubd_lang_walk(const char *header, UNSUBD_LANG_FN fn, void *ctx)
{
    const char *p = header, *end;
    int pos = 0;

    if (header == NULL)
        return;
    end = header + strnlen(header, UNSUBD_LANG_HEADER_MAX);
    while (p < end && pos < UNSUBD_LANG_ITEMS_MAX) {
        const char *comma = memchr(p, ',', (size_t) (end - p)), *stop = comma ? comma : end;
        UNSUBD_LANG_ITEM it;

        p = unsubd_lang_ows(p, stop);
        if (p < stop && unsubd_lang_item(p, stop, &it) == 0)
            fn(&it, pos, ctx);
        if (p < stop)
            pos++;                      /* empty elements ("a,,b") do not count */
        p = stop + 1;
    }
}

/* unsubd_lang_range_ok - "*" or 1*8ALPHA *("-" 1*8alphanum) */
static int unsubd_lang_range_ok(const char *r)
{
    size_t run = 0;
    int first = 1;

    if (strcmp(r, "*") == 0)
        return 1;
    for (; *r; r++) {
        int alpha = (*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z');

        if (*r == '-') {
            if (run == 0)
                return 0;
            run = 0;
            first = 0;
        } else if (alpha || (!first && *r >= '0' && *r <= '9')) {
            if (++run > 8)
                return 0;
        } else {
            return 0;
        }
    }
    return run > 0;
}

/* What unsubd_lang_pick() gathers per language. */
typedef struct unsubd_lang_score {
    const char *const *langs;
    size_t  n;
    int     spec[UNSUBD_LANG_ITEMS_MAX];    /* specificity of the range that set q: -1 none */
    int     q[UNSUBD_LANG_ITEMS_MAX];
    int     pos[UNSUBD_LANG_ITEMS_MAX];
} UNSUBD_LANG_SCORE;

/* unsubd_lang_specificity - how closely range r names lang: 2 exactly, 1 a sub-range, 0 "*", -1 not */
static int unsubd_lang_specificity(const char *r, const char *lang)
{
    size_t n = strcspn(r, "-");

    if (strcmp(r, "*") == 0)
        return 0;
    if ((n == strlen(lang) && strncasecmp(r, lang, n) == 0)
        || (n == 2 && strncasecmp(r, "in", 2) == 0 && strcmp(lang, "id") == 0))
        return r[n] == 0 ? 2 : 1;
    return -1;
}

/* unsubd_lang_score_one - one Accept-Language element */
static void unsubd_lang_score_one(const UNSUBD_LANG_ITEM *it, int pos, void *ctx)
{
    UNSUBD_LANG_SCORE *s = ctx;

    if (it->other_params || !unsubd_lang_range_ok(it->value))
        return;
    for (size_t i = 0; i < s->n; i++) {
        int spec = unsubd_lang_specificity(it->value, s->langs[i]);

        if (spec <= s->spec[i])
            continue;                   /* not a match, or a less specific one than before */
        s->spec[i] = spec;
        s->q[i] = it->q;
        s->pos[i] = pos;
    }
}

/* unsubd_lang_pick - the preferred language's index, or -1 */
int unsubd_lang_pick(const char *header, const char *const *langs, size_t n)
{
    UNSUBD_LANG_SCORE s;
    int best = -1;

    if (n > UNSUBD_LANG_ITEMS_MAX)
        n = UNSUBD_LANG_ITEMS_MAX;
    s.langs = langs;
    s.n = n;
    for (size_t i = 0; i < n; i++) {
        s.spec[i] = -1;
        s.q[i] = 0;
        s.pos[i] = UNSUBD_LANG_ITEMS_MAX;
    }
    unsubd_lang_walk(header, unsubd_lang_score_one, &s);
    for (size_t i = 0; i < n; i++) {
        if (s.spec[i] < 0 || s.q[i] == 0)
            continue;
        if (best < 0 || s.q[i] > s.q[best] || (s.q[i] == s.q[best] && s.pos[i] < s.pos[best]))
            best = (int) i;
    }
    return best;
}

/* unsubd_lang_html_one - one Accept element */
static void unsubd_lang_html_one(const UNSUBD_LANG_ITEM *it, int pos, void *ctx)
{
    (void) pos;
    if (it->q > 0 && (strcasecmp(it->value, "text/html") == 0
                      || strcasecmp(it->value, "application/xhtml+xml") == 0))
        *(int *) ctx = 1;
}

/* unsubd_lang_wants_html - does Accept ask for HTML? */
int unsubd_lang_wants_html(const char *accept)
{
    int yes = 0;

    unsubd_lang_walk(accept, unsubd_lang_html_one, &yes);
    return yes;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics_accept.c - which exposition format an HTTP Accept header asks for
 *
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	int	metrics_accept_openmetrics(const char *accept)
 *
 * DESCRIPTION
 *	The header is a list of media ranges (RFC 9110 12.5.1), each
 *	"type/subtype" with ";name=value" parameters, one of which may be
 *	the weight q (0 to 1, three decimals at most). Prometheus asks
 *	"application/openmetrics-text;version=1.0.0,...,text/plain;
 *	version=0.0.4;q=0.5,* / *;q=0.1"; curl asks "* / *".
 *
 *	metrics_accept_openmetrics() answers 1 when the best weight given
 *	to application/openmetrics-text is above 0 and at least the best
 *	given to the text format (text/plain, text/ *, * / *); otherwise 0, also
 *	when there is no header: the text format is the default. Media
 *	types and parameter names are compared ignoring case.
 *
 * DIAGNOSTICS
 *	None: a part that cannot be read (no slash, a q that is not a
 *	number from 0 to 1) is skipped; bytes past the first 4096 are
 *	ignored.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "metrics.h"

#define ACCEPT_MAX  4096

/* accept_trim - the span [*b, *e) without surrounding blanks */
static void accept_trim(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

/* accept_q - a qvalue in thousandths, or -1 if malformed */
static int accept_q(const char *b, const char *e)
{
    int q, digits = 0;

    if (b == e || (*b != '0' && *b != '1'))
        return -1;
    q = (*b++ - '0') * 1000;
    if (b == e)
        return q;
    if (*b++ != '.')
        return -1;
    for (int scale = 100; b < e; b++, scale /= 10) {
        if (!isdigit((unsigned char) *b) || ++digits > 3)
            return -1;
        q += (*b - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* accept_is - the span equals s, ignoring case */
static int accept_is(const char *b, const char *e, const char *s)
{
    return (size_t) (e - b) == strlen(s) && strncasecmp(b, s, (size_t) (e - b)) == 0;
}

/* accept_range - one media range [b, e): its weight (thousandths, -1 if
 * unreadable); *kind 1 for OpenMetrics, 2 for the text format, 0 other */
static int accept_range(const char *b, const char *e, int *kind)
{
    const char *semi = memchr(b, ';', (size_t) (e - b)), *te = semi ? semi : e, *slash;
    int q = 1000;

    *kind = 0;
    accept_trim(&b, &te);
    if ((slash = memchr(b, '/', (size_t) (te - b))) == NULL || slash == b || slash + 1 == te)
        return -1;
    if (accept_is(b, te, "application/openmetrics-text"))
        *kind = 1;
    else if (accept_is(b, te, "text/plain") || accept_is(b, te, "text/*") || accept_is(b, te, "*/*"))
        *kind = 2;
    while (semi) {
        const char *pb = semi + 1, *pe, *eq;

        semi = memchr(pb, ';', (size_t) (e - pb));
        pe = semi ? semi : e;
        if ((eq = memchr(pb, '=', (size_t) (pe - pb))) == NULL)
            continue;
        {
            const char *nb = pb, *ne = eq, *vb = eq + 1, *ve = pe;

            accept_trim(&nb, &ne);
            accept_trim(&vb, &ve);
            if (accept_is(nb, ne, "q") && (q = accept_q(vb, ve)) < 0)
                return -1;
        }
    }
    return q;
}

/* metrics_accept_openmetrics - does the client prefer OpenMetrics? */
int metrics_accept_openmetrics(const char *accept)
{
    const char *p, *end;
    int best_om = 0, best_text = 0;

    if (accept == NULL)
        return 0;
    end = accept + strnlen(accept, ACCEPT_MAX);
    for (p = accept; p < end;) {
        const char *comma = memchr(p, ',', (size_t) (end - p)), *re = comma ? comma : end;
        int kind, q = accept_range(p, re, &kind);

        if (q >= 0 && kind == 1 && q > best_om)
            best_om = q;
        if (q >= 0 && kind == 2 && q > best_text)
            best_text = q;
        p = comma ? comma + 1 : end;
    }
    return best_om > 0 && best_om >= best_text;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc_rec.c - the RFC 9989 DMARC record parser
 *
 * SYNOPSIS
 *	#include "dmarc_rec.h"
 *
 *	int	dmarc_rec_is_dmarc(const char *txt)
 *	int	dmarc_rec_parse(const char *txt, DMARC_REC *r, BUF *err)
 *	DMARC_CHECK_POLICY dmarc_rec_policy(const DMARC_REC *r, int at_from,
 *			int nonexistent, const char **tag)
 *
 * DESCRIPTION
 *	A record is "v=DMARC1" followed by tag=value pairs separated by
 *	';', blanks around names, '=' and values allowed (RFC 9989 4.7).
 *	Tag names and the known values are case-insensitive. Unknown tags
 *	and the tags RFC 9989 removed (pct, rf, ri) are ignored; so is a
 *	known tag with a bad value (adkim/aspf stay relaxed, psd unknown,
 *	t n, sp/np fall back). A missing or bad p= is p=none.
 *
 *	Policy choice (RFC 9989 5.3): the record's own domain gets p;
 *	a subdomain gets sp (default p); a non-existent subdomain np
 *	(default sp). t=y moves the policy one step down, as pct=0 did.
 *
 * DIAGNOSTICS
 *	dmarc_rec_parse() appends to err a note of each ignored tag with a
 *	bad value, or why txt is no record.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmarc_rec.h"
#include "util.h"

#define REC_BLANK " \t\r\n"

/* rec_skip - past blanks */
static const char *rec_skip(const char *s)
{
    return s + strspn(s, REC_BLANK);
}

int dmarc_rec_is_dmarc(const char *txt)
{
    const char *t = rec_skip(txt);

    if (*t != 'v' && *t != 'V')
        return 0;
    t = rec_skip(t + 1);
    if (*t != '=')
        return 0;
    t = rec_skip(t + 1);
    return strncmp(t, "DMARC1", 6) == 0 && (t[6] == 0 || t[6] == ';' || strchr(REC_BLANK, t[6]));
}

/* rec_policy - "none", "quarantine", "reject" to ours; -1 otherwise */
static int rec_policy(const char *v)
{
    if (strcasecmp(v, "none") == 0)
        return DMARC_CHECK_P_NONE;
    if (strcasecmp(v, "quarantine") == 0)
        return DMARC_CHECK_P_QUARANTINE;
    if (strcasecmp(v, "reject") == 0)
        return DMARC_CHECK_P_REJECT;
    return -1;
}

/* rec_note - append a note to err, after "; " when err holds one already */
static void rec_note(BUF *err, const char *name, const char *value)
{
    (void) util_err(err, "%s%s=%.40s ignored (bad value)", err && err->len ? "; " : "", name,
                    value);
}

/* rec_tag - apply one tag (name and value lowercase-insensitive, trimmed) */
static void rec_tag(DMARC_REC *r, const char *name, const char *value, BUF *err)
{
    int pol = rec_policy(value);

    if (strcasecmp(name, "p") == 0 || strcasecmp(name, "sp") == 0 || strcasecmp(name, "np") == 0) {
        if (pol < 0) {
            rec_note(err, name, value);
        } else if (strcasecmp(name, "p") == 0) {
            r->p = (DMARC_CHECK_POLICY) pol, r->p_given = 1;
        } else if (strcasecmp(name, "sp") == 0) {
            r->sp = (DMARC_CHECK_POLICY) pol, r->sp_given = 1;
        } else {
            r->np = (DMARC_CHECK_POLICY) pol, r->np_given = 1;
        }
    } else if (strcasecmp(name, "psd") == 0) {
        if (strlen(value) == 1 && strchr("ynuYNU", value[0]))
            r->psd = (char) (value[0] | 0x20);
        else
            rec_note(err, name, value);
    } else if (strcasecmp(name, "t") == 0) {
        if (strcasecmp(value, "y") == 0 || strcasecmp(value, "n") == 0)
            r->testing = (value[0] | 0x20) == 'y';
        else
            rec_note(err, name, value);
    } else if (strcasecmp(name, "adkim") == 0 || strcasecmp(name, "aspf") == 0) {
        if (strcasecmp(value, "s") == 0 || strcasecmp(value, "r") == 0) {
            int strict = (value[0] | 0x20) == 's';

            if (strcasecmp(name, "adkim") == 0)
                r->adkim_strict = strict;
            else
                r->aspf_strict = strict;
        } else {
            rec_note(err, name, value);
        }
    }
    /* pct, rf, ri (removed by RFC 9989), rua, ruf, fo and unknown tags: ignored */
}

/* rec_trim - copy s[0..len) without surrounding blanks into out */
static void rec_trim(const char *s, size_t len, char *out, size_t outlen)
{
    while (len && strchr(REC_BLANK, *s))
        s++, len--;
    while (len && strchr(REC_BLANK, s[len - 1]))
        len--;
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, s, len);
    out[len] = 0;
}

int dmarc_rec_parse(const char *txt, DMARC_REC *r, BUF *err)
{
    const char *s;

    memset(r, 0, sizeof(*r));
    r->psd = 'u';
    if (!dmarc_rec_is_dmarc(txt))
        return util_err(err, "not a DMARC record (no v=DMARC1 first)");
    s = strchr(txt, ';');
    while (s != NULL && *s) {
        const char *end = strchr(++s, ';'), *eq;
        size_t len = end ? (size_t) (end - s) : strlen(s);
        char name[16], value[256];

        eq = memchr(s, '=', len);
        if (eq != NULL) {
            rec_trim(s, (size_t) (eq - s), name, sizeof(name));
            rec_trim(eq + 1, len - (size_t) (eq + 1 - s), value, sizeof(value));
            rec_tag(r, name, value, err);
        }
        s = end;
    }
    if (!r->sp_given)
        r->sp = r->p;
    if (!r->np_given)
        r->np = r->sp;
    return 0;
}

DMARC_CHECK_POLICY dmarc_rec_policy(const DMARC_REC *r, int at_from, int nonexistent, const char **tag)
{
    DMARC_CHECK_POLICY p;
    const char *t;

    if (at_from)
        p = r->p, t = "p";
    else if (nonexistent)
        p = r->np, t = r->np_given ? "np" : r->sp_given ? "sp" : "p";
    else
        p = r->sp, t = r->sp_given ? "sp" : "p";
    if (tag)
        *tag = t;
    if (r->testing && p != DMARC_CHECK_P_NONE)
        p = p == DMARC_CHECK_P_REJECT ? DMARC_CHECK_P_QUARANTINE : DMARC_CHECK_P_NONE;
    return p;
}

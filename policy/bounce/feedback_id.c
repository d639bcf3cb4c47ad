/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * feedback_id.c - the Feedback-ID header value (Gmail Postmaster Tools)
 *
 * SYNOPSIS
 *	#include "feedback_id.h"
 *
 *	int	feedback_id_check(const char *tmpl, BUF *err)
 *	int	feedback_id_expand(const char *tmpl, const char *stream,
 *			const char *domain, char *out, size_t outlen)
 *
 * DESCRIPTION
 *	Gmail reads Feedback-ID as up to four colon-separated identifiers
 *	(campaign, customer, mail type, sender: the last one mandatory) and
 *	reports spam rates per identifier in Postmaster Tools. The
 *	FeedbackID template is printable ASCII without white space; it may
 *	name %{stream} (what a recipient unsubscribes from: the From address
 *	or domain, UnsubscribeScope) and %{domain} (the From domain) and
 *	holds at most three colons.
 *
 *	feedback_id_check() validates a template (the configuration's
 *	check); feedback_id_expand() fills one in. A colon in a value would
 *	shift Gmail's fields, so it is replaced by '.'; a value holding a
 *	control character or white space is refused.
 *
 * DIAGNOSTICS
 *	-1 with the reason appended to err (check) or an empty out
 *	(expand).
 */
#include <stdio.h>
#include <string.h>

#include "feedback_id.h"
#include "util.h"

#define FB_MAX_COLONS 3

/* fb_var - the variable named at p ("%{stream}"...): 1 stream, 2 domain, 0 none; *len its length */
static int fb_var(const char *p, size_t *len)
{
    if (strncmp(p, "%{stream}", 9) == 0)
        return *len = 9, 1;
    if (strncmp(p, "%{domain}", 9) == 0)
        return *len = 9, 2;
    return 0;
}

/* feedback_id_check - is tmpl a FeedbackID template? */
int feedback_id_check(const char *tmpl, BUF *err)
{
    size_t i, n, colons = 0;

    if (tmpl == NULL || *tmpl == 0) {
        (void) util_err(err, "empty");
        return -1;
    }
    if (strlen(tmpl) >= FEEDBACK_ID_MAX / 2) {
        (void) util_err(err, "longer than %d bytes", FEEDBACK_ID_MAX / 2 - 1);
        return -1;
    }
    for (i = 0; tmpl[i]; i++) {
        unsigned char c = (unsigned char) tmpl[i];

        if (c == '%') {
            if (fb_var(tmpl + i, &n) == 0) {
                (void) util_err(err, "only %%{stream} and %%{domain} may follow %%");
                return -1;
            }
            i += n - 1;
        } else if (c <= ' ' || c >= 0x7f) {
            (void) util_err(err, "holds white space, a control character or 8-bit bytes");
            return -1;
        } else if (c == ':' && ++colons > FB_MAX_COLONS) {
            (void) util_err(err, "more than four colon-separated fields");
            return -1;
        }
    }
    return 0;
}

/* fb_put - value into out at *at, colons made dots; -1 if it does not fit or is unfit */
static int fb_put(const char *v, char *out, size_t outlen, size_t *at)
{
    for (; *v; v++) {
        unsigned char c = (unsigned char) *v;

        if (c <= ' ' || c == 0x7f || *at + 1 >= outlen)
            return -1;
        out[(*at)++] = c == ':' ? '.' : (char) c;
    }
    return 0;
}

/* feedback_id_expand - the template filled in */
int feedback_id_expand(const char *tmpl, const char *stream, const char *domain, char *out,
                       size_t outlen)
{
    size_t i, n, at = 0;
    int var;

    if (out == NULL || outlen == 0)
        return -1;
    out[0] = 0;
    /* per message: the reason was reported when the configuration was read */
    if (feedback_id_check(tmpl, NULL) != 0 || stream == NULL || domain == NULL)
        return -1;
    for (i = 0; tmpl[i]; i++) {
        if (tmpl[i] == '%' && (var = fb_var(tmpl + i, &n)) != 0) {
            if (fb_put(var == 1 ? stream : domain, out, outlen, &at) != 0) {
                out[0] = 0;
                return -1;
            }
            i += n - 1;
        } else if (at + 1 < outlen) {
            out[at++] = tmpl[i];
        } else {
            out[0] = 0;
            return -1;
        }
    }
    out[at] = 0;
    return 0;
}

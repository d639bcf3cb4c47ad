/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_tmpl.h - txmilter-unsubd's page templates: HTML text with
 * %{name} variables, checked once (what the page's Content-Security-
 * Policy would block is refused with file:line) and rendered with every
 * value HTML-escaped. Pure: text in, text out.
 */
#ifndef TX_UNSUBD_TMPL_H
#define TX_UNSUBD_TMPL_H

#include <stddef.h>

#include "util.h"

#define UNSUBD_TMPL_MAX     (64 * 1024)     /* bytes of one template */
#define UNSUBD_TMPL_STYLES  4               /* <style> elements in one template */
#define UNSUBD_TMPL_CSP_MAX (UNSUBD_TMPL_STYLES * 56 + 8)  /* its style-src sources */

/* The variables, in the order of unsubd_tmpl_var_names[]. */
enum unsubd_tmpl_var {
    UNSUBD_VAR_LANG = 0,        /* the page's language tag: "fr" */
    UNSUBD_VAR_TITLE,           /* localised texts of the page */
    UNSUBD_VAR_HEADING,
    UNSUBD_VAR_MESSAGE,
    UNSUBD_VAR_NOTE,
    UNSUBD_VAR_STREAM,          /* the sender's stream (From address or domain) */
    UNSUBD_VAR_RECIPIENT,       /* the recipient, masked: "b***@example.org" */
    UNSUBD_VAR_FORM,            /* the confirmation form (markup made by unsubd_page.c) */
    UNSUBD_TMPL_NVARS
};

extern const char *const unsubd_tmpl_var_names[UNSUBD_TMPL_NVARS];

typedef struct unsubd_tmpl UNSUBD_TMPL;

/* unsubd_tmpl_compile - check and keep len bytes of text, named name in
 * messages ("dir/confirm.html"); with_form: the template must hold
 * %{form} exactly once (1) or not at all (0). NULL with one
 * "name:line: message" line per problem appended to errs. */
UNSUBD_TMPL *unsubd_tmpl_compile(const char *text, size_t len, const char *name, int with_form,
                                 BUF *errs);
void unsubd_tmpl_free(UNSUBD_TMPL *t);

/* unsubd_tmpl_render - append t to out with vals[v] in place of each
 * variable: HTML-escaped, except UNSUBD_VAR_FORM (markup); a NULL value
 * is empty. -1 over out's bound. */
int unsubd_tmpl_render(const UNSUBD_TMPL *t, const char *const vals[UNSUBD_TMPL_NVARS], BUF *out);

/* unsubd_tmpl_styles - the CSP sources that allow its <style> elements:
 * "'sha256-...' 'sha256-...'", or "" when it has none */
const char *unsubd_tmpl_styles(const UNSUBD_TMPL *t);

/* unsubd_tmpl_escape - append s to out with & < > " ' as character
 * references (the one escaping rule of every page); -1 over the bound */
int unsubd_tmpl_escape(BUF *out, const char *s);

#endif

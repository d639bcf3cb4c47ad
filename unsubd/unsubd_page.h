/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_page.h - the pages of txmilter-unsubd: the built-in ones and an
 * operator's UnsubscribeTemplateDirectory, each rendered in the
 * visitor's language with the Content-Security-Policy that fits it.
 */
#ifndef TX_UNSUBD_PAGE_H
#define TX_UNSUBD_PAGE_H

#include <stddef.h>

#include "unsubd_text.h"
#include "util.h"

#define UNSUBD_PAGE_MAX     (96 * 1024)     /* bytes of a rendered page */
#define UNSUBD_CSP_MAX      512             /* a Content-Security-Policy value */

/* The policy of every answer that is not a page (plain text). */
#define UNSUBD_CSP_TEXT "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

typedef struct unsubd_pages UNSUBD_PAGES;

/* unsubd_page_load - the built-in pages, and those of dir (NULL: none)
 * in their place: confirm.html, done.html, error.html, each optionally
 * per language (confirm.fr.html). NULL with one "file:line: message"
 * line per problem in errs; conffile and confline name the directive. */
UNSUBD_PAGES *unsubd_page_load(const char *dir, const char *conffile, int confline, BUF *errs);
void unsubd_page_free(UNSUBD_PAGES *ps);

/* unsubd_page_count - how many templates came from the directory */
int unsubd_page_count(const UNSUBD_PAGES *ps);

/* unsubd_page_lang - the language index (unsubd_text_langs[]) for an
 * Accept-Language header (may be NULL); 0 (English) when none fits */
int unsubd_page_lang(const char *accept_language);

/* unsubd_page_render - page kind in language lang, naming stream and the
 * masked recipient (either may be NULL on error pages), appended to out;
 * its Content-Security-Policy in csp. -1 over out's bound. */
int unsubd_page_render(const UNSUBD_PAGES *ps, enum unsubd_page_kind kind, int lang,
                       const char *stream, const char *masked_rcpt, BUF *out,
                       char *csp, size_t csplen);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_lang.h - content negotiation for txmilter-unsubd's pages: which
 * of its languages an Accept-Language header prefers, and whether an
 * Accept header asks for HTML. Pure: no socket, no allocation.
 */
#ifndef TX_UNSUBD_LANG_H
#define TX_UNSUBD_LANG_H

#include <stddef.h>

#define UNSUBD_LANG_HEADER_MAX  4096    /* header bytes looked at */
#define UNSUBD_LANG_ITEMS_MAX   32      /* list elements looked at */

/* unsubd_lang_pick - the index in langs[0..n) (primary language tags such
 * as "en", "fr") that header (Accept-Language, may be NULL) weights
 * highest, q=0 meaning "not this one"; -1 when none is acceptable or the
 * header says nothing usable (the caller falls back to its default). */
int unsubd_lang_pick(const char *header, const char *const *langs, size_t n);

/* unsubd_lang_wants_html - 1 if accept (an Accept header, may be NULL)
 * lists text/html or application/xhtml+xml with a weight above 0 (a
 * browser), 0 otherwise (a machine POST that takes any answer). */
int unsubd_lang_wants_html(const char *accept);

#endif

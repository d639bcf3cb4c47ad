/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_text.h - the words of txmilter-unsubd's pages in each of its
 * languages (English, French, Indonesian, German, Spanish).
 */
#ifndef TX_UNSUBD_TEXT_H
#define TX_UNSUBD_TEXT_H

/* The pages a person can see. */
enum unsubd_page_kind {
    UNSUBD_PAGE_CONFIRM = 0,    /* GET /u/TOKEN: the button */
    UNSUBD_PAGE_DONE,           /* the button was pressed and the suppression stored */
    UNSUBD_PAGE_INVALID,        /* a bad, tampered or expired token */
    UNSUBD_PAGE_UNAVAILABLE,    /* the store could not record it: try again */
    UNSUBD_PAGE_NKINDS
};

#define UNSUBD_NLANGS 5         /* languages; index 0 (English) is the fallback */

/* unsubd_text_langs - the language tags, in index order: en fr id de es */
extern const char *const unsubd_text_langs[UNSUBD_NLANGS];

/* One page's words. message may hold %{stream} and %{recipient}. */
typedef struct unsubd_text {
    const char *title;
    const char *heading;
    const char *message;
    const char *note;
} UNSUBD_TEXT;

/* unsubd_text_get - the words of page kind in language lang (English
 * when lang is out of range) */
const UNSUBD_TEXT *unsubd_text_get(int lang, enum unsubd_page_kind kind);

/* unsubd_text_button - the confirmation button's label */
const char *unsubd_text_button(int lang);

#endif

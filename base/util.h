/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.h - small helpers shared by every txmilter module: allocation that
 * never returns NULL, bounded string copies, and a growable byte buffer
 * with a hard upper bound.
 */
#ifndef TX_UTIL_H
#define TX_UTIL_H

#include <stddef.h>
#include <stdarg.h>

/* Allocation failure is fatal, as in Postfix: a daemon that cannot allocate
 * a few bytes cannot do anything useful, and Postfix's milter_default_action
 * (tempfail) keeps the mail. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* strlcpy-like: always terminates; returns 0, or -1 when truncated. */
int util_strlcpy(char *dst, const char *src, size_t size);

/* Lowercase ASCII in place (header names, domains). */
void util_lower(char *s);

/* Trim ASCII white space at both ends, in place; returns s. */
char *util_trim(char *s);

/* A byte buffer that grows up to a fixed limit; data is kept NUL-terminated. */
typedef struct buf {
    char   *data;
    size_t  len;
    size_t  cap;
    size_t  max;        /* bytes allowed, not counting the terminator */
    int     fixed;      /* data is the caller's array: never grown nor freed */
} BUF;

void buf_init(BUF *b, size_t max);

/* buf_init_fixed - a BUF over the caller's array mem of size bytes (size
 * at least 1; at most size - 1 bytes of data): it never allocates, and
 * buf_free() leaves mem alone. For a reason or other short text asked for
 * once a message or a token, where a heap buffer would cost an allocation
 * per call. data is "" from the start, never NULL. Returns b, so that
 * a call can set up its argument: f(..., buf_init_fixed(&b, m, sizeof(m))). */
BUF *buf_init_fixed(BUF *b, char *mem, size_t size);
void buf_free(BUF *b);
void buf_reset(BUF *b);
int  buf_append(BUF *b, const void *p, size_t n);     /* -1: over the limit */
int  buf_puts(BUF *b, const char *s);
int  buf_printf(BUF *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* util_err - append one reason (why a call failed) to err, cut at err's
 * bound rather than dropped, so that a long reason still says what went
 * wrong; a NULL err drops it. Returns -1, so that a failing function can
 * end with "return util_err(err, ...)". Every function that can fail
 * reports why this way, in a BUF *err of its caller's: a phrase that the
 * caller builds into a message of its own (and, for configuration, its
 * file:line). A reason never holds a secret. */
int util_err(BUF *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int util_verr(BUF *err, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* util_err_at - append "file:line: message\n" (or "file: message\n" when
 * line is 0) to errs, the form of every configuration diagnostic; a NULL
 * errs drops it, and past errs's bound the rest is dropped on purpose. */
void util_err_at(BUF *errs, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void util_verr_at(BUF *errs, const char *file, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* util_open_file - open path read-only with O_NONBLOCK|O_NOCTTY|O_CLOEXEC
 * and fstat it (into st, if not NULL): the descriptor of a regular file,
 * or UTIL_FILE_ERR (cannot open or stat) or UTIL_FILE_NOTREG (a FIFO,
 * device, directory, ...) with the reason appended to err, never the path. Every
 * file txmilter's programs read opens here, so that a FIFO in a file's
 * place can never block them. util_check_file - the same check, closing
 * the file again: for files a library opens by name. */
#define UTIL_FILE_ERR		(-1)
#define UTIL_FILE_NOTREG	(-2)
struct stat;
int util_open_file(const char *path, struct stat *st, BUF *err);
int util_check_file(const char *path, BUF *err);

/* Null-terminated vector of strings. */
typedef struct strv {
    char  **v;
    size_t  n;
    size_t  cap;
} STRV;

void strv_init(STRV *sv);
void strv_add(STRV *sv, const char *s);
void strv_free(STRV *sv);
int  strv_contains_ci(const STRV *sv, const char *s);

/* Split a comma- or white-space-separated list into sv; empty items dropped. */
void strv_split(STRV *sv, const char *list, const char *seps);

#endif

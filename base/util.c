/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.c - allocation, string and buffer helpers.
 *
 * SYNOPSIS
 *	#include "util.h"
 *
 *	void *	xmalloc(size_t n)
 *	void *	xcalloc(size_t n, size_t m)
 *	void *	xrealloc(void *p, size_t n)
 *	char *	xstrdup(const char *s)
 *	char *	xstrndup(const char *s, size_t n)
 *	char *	xasprintf(const char *fmt, ...)
 *	int	util_strlcpy(char *dst, const char *src, size_t size)
 *	void	util_lower(char *s)
 *	char *	util_trim(char *s)
 *	void	buf_init(BUF *b, size_t max)
 *	BUF *	buf_init_fixed(BUF *b, char *mem, size_t size)
 *	void	buf_free(BUF *b)
 *	void	buf_reset(BUF *b)
 *	int	buf_append(BUF *b, const void *p, size_t n)
 *	int	buf_puts(BUF *b, const char *s)
 *	int	buf_printf(BUF *b, const char *fmt, ...)
 *	int	util_err(BUF *err, const char *fmt, ...)
 *	int	util_verr(BUF *err, const char *fmt, va_list ap)
 *	void	util_err_at(BUF *errs, const char *file, int line,
 *			const char *fmt, ...)
 *	void	strv_init(STRV *sv)
 *	void	strv_add(STRV *sv, const char *s)
 *	void	strv_free(STRV *sv)
 *	int	strv_contains_ci(const STRV *sv, const char *s)
 *	void	strv_split(STRV *sv, const char *list, const char *seps)
 *	int	util_open_file(const char *path, struct stat *st, BUF *err)
 *	int	util_check_file(const char *path, BUF *err)
 *
 * DESCRIPTION
 *	xmalloc(), xcalloc(), xrealloc(), xstrdup(), xstrndup(), xasprintf()
 *	allocate or die: memory exhaustion is logged and the process exits,
 *	leaving Postfix to apply milter_default_action (tempfail).
 *
 *	util_strlcpy() copies with truncation and reports it; util_lower() and
 *	util_trim() work in place on ASCII.
 *
 *	buf_*() maintain a NUL-terminated byte buffer bounded by a maximum
 *	chosen at buf_init(); an append past the maximum changes nothing and
 *	returns -1 so that the caller decides what an oversized input means.
 *	buf_init_fixed() sets one up over the caller's array (on the stack,
 *	for a reason asked for once a message or a token): it never
 *	allocates, and buf_free() leaves the array alone.
 *
 *	util_err() appends one reason to the caller's BUF *err: the one way
 *	txmilter's functions say why they failed. The reason is cut at the
 *	buffer's bound rather than dropped. util_err_at() appends one
 *	"file:line: message" diagnostic.
 *
 *	util_open_file() opens a file for reading without ever blocking
 *	(O_NONBLOCK: a FIFO in a file's place must not wedge the process)
 *	and refuses anything but a regular file; util_check_file() does the
 *	same for a file a library opens itself, and closes it again. Both
 *	append the reason ("not a regular file", or strerror()) to err.
 *
 *	strv_*() maintain a NULL-terminated vector of owned strings.
 *
 * DIAGNOSTICS
 *	Allocation failure is fatal (log_fatal()). buf_append(),
 *	buf_puts() and buf_printf() return -1 when the maximum would be
 *	passed, and leave the buffer unchanged. util_err() returns -1.
 *	util_open_file() and util_check_file() return UTIL_FILE_ERR or
 *	UTIL_FILE_NOTREG with the reason in err.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static void oom(size_t n)
{
    log_fatal("out of memory allocating %zu bytes", n);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);

    if (p == NULL)
        oom(n * m);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        log_fatal("xasprintf: bad format");
    p = xmalloc((size_t) n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t) n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* util_strlcpy - bounded copy that always terminates */
int util_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);

    if (size == 0)
        return -1;
    if (n >= size) {
        memcpy(dst, src, size - 1);
        dst[size - 1] = 0;
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

/* util_lower - lowercase ASCII in place */
void util_lower(char *s)
{
    for (; *s; s++)
        *s = (char) tolower((unsigned char) *s);
}

/* util_trim - strip white space at both ends */
char *util_trim(char *s)
{
    char *e;

    while (*s && isspace((unsigned char) *s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char) e[-1]))
        *--e = 0;
    return s;
}

void buf_init(BUF *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->fixed = 0;
}

/* buf_init_fixed - a BUF over the caller's array, never reallocated */
BUF *buf_init_fixed(BUF *b, char *mem, size_t size)
{
    if (size == 0)
        log_fatal("buf_init_fixed: an array of no bytes");
    b->data = mem;
    b->data[0] = 0;
    b->len = 0;
    b->cap = size;
    b->max = size - 1;
    b->fixed = 1;
    return b;
}

void buf_free(BUF *b)
{
    if (b->fixed) {
        buf_reset(b);
        return;
    }
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(BUF *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

/* buf_append - append n bytes, refusing to grow past the maximum */
int buf_append(BUF *b, const void *p, size_t n)
{
    size_t need;

    if (n > b->max || b->len > b->max - n)
        return -1;
    need = b->len + n + 1;
    if (need > b->cap && b->fixed)
        return -1;                      /* max < cap: cannot happen */
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;

        while (cap < need)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int buf_puts(BUF *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(BUF *b, const char *fmt, ...)
{
    va_list ap;
    char small[512];
    char *big = NULL;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t) n < sizeof(small))
        return buf_append(b, small, (size_t) n);
    big = xmalloc((size_t) n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t) n + 1, fmt, ap);
    va_end(ap);
    rc = buf_append(b, big, (size_t) n);
    free(big);
    return rc;
}

/* util_err - append one reason, cut at err's bound; -1 */
int util_err(BUF *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void) util_verr(err, fmt, ap);
    va_end(ap);
    return -1;
}

/* util_verr - util_err() with a va_list */
int util_verr(BUF *err, const char *fmt, va_list ap)
{
    char small[512], *big = NULL;
    size_t room;
    va_list aq;
    int n;

    if (err == NULL)
        return -1;
    room = err->max > err->len ? err->max - err->len : 0;
    if (err->fixed) {                   /* formatted in place: no copy, no allocation */
        (void) vsnprintf(err->data + err->len, room + 1, fmt, ap);
        err->len += strlen(err->data + err->len);
        return -1;
    }
    va_copy(aq, ap);
    n = vsnprintf(small, sizeof(small), fmt, aq);
    va_end(aq);
    if (n < 0)
        return -1;
    if ((size_t) n >= sizeof(small)) {
        big = xmalloc((size_t) n + 1);
        (void) vsnprintf(big, (size_t) n + 1, fmt, ap);
    }
    (void) buf_append(err, big ? big : small, (size_t) n < room ? (size_t) n : room);
    free(big);
    return -1;
}

/* util_err_at - one located diagnostic */
void util_err_at(BUF *errs, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    util_verr_at(errs, file, line, fmt, ap);
    va_end(ap);
}

/* util_verr_at - util_err_at() with a va_list */
void util_verr_at(BUF *errs, const char *file, int line, const char *fmt, va_list ap)
{
    char msg[1024];

    if (errs == NULL)
        return;
    (void) vsnprintf(msg, sizeof(msg), fmt, ap);
    if (line > 0)
        (void) buf_printf(errs, "%s:%d: %s\n", file, line, msg);
    else
        (void) buf_printf(errs, "%s: %s\n", file, msg);
}

void strv_init(STRV *sv)
{
    sv->v = xcalloc(1, sizeof(char *));
    sv->n = 0;
    sv->cap = 1;
}

void strv_add(STRV *sv, const char *s)
{
    if (sv->n + 1 >= sv->cap) {
        sv->cap = sv->cap * 2 + 2;
        sv->v = xrealloc(sv->v, sv->cap * sizeof(char *));
    }
    sv->v[sv->n++] = xstrdup(s);
    sv->v[sv->n] = NULL;
}

void strv_free(STRV *sv)
{
    size_t i;

    if (sv->v == NULL)
        return;
    for (i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

/* strv_contains_ci - case-insensitive membership test */
int strv_contains_ci(const STRV *sv, const char *s)
{
    size_t i;

    for (i = 0; i < sv->n; i++)
        if (strcasecmp(sv->v[i], s) == 0)
            return 1;
    return 0;
}

/* strv_split - append the non-empty items of list, split at any of seps */
void strv_split(STRV *sv, const char *list, const char *seps)
{
    char *copy = xstrdup(list), *save = NULL, *tok;

    for (tok = strtok_r(copy, seps, &save); tok; tok = strtok_r(NULL, seps, &save)) {
        char *t = util_trim(tok);

        if (*t)
            strv_add(sv, t);
    }
    free(copy);
}

/* util_open_file - a regular file opened for reading, never blocking */
int util_open_file(const char *path, struct stat *st, BUF *err)
{
    struct stat sb;
    int fd;

    if (st == NULL)
        st = &sb;
    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
        (void) util_err(err, "%s", strerror(errno));
        return UTIL_FILE_ERR;
    }
    if (fstat(fd, st) < 0) {
        (void) util_err(err, "cannot stat: %s", strerror(errno));
        (void) close(fd);
        return UTIL_FILE_ERR;
    }
    if (!S_ISREG(st->st_mode)) {
        (void) util_err(err, "not a regular file");
        (void) close(fd);
        return UTIL_FILE_NOTREG;
    }
    return fd;
}

/* util_check_file - path opens as a regular file (for libraries that open it) */
int util_check_file(const char *path, BUF *err)
{
    int fd = util_open_file(path, NULL, err);

    if (fd < 0)
        return fd;
    (void) close(fd);
    return 0;
}

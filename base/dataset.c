/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dataset.c - OpenDKIM "dataset" specifications, loaded into a list
 *
 * SYNOPSIS
 *	#include "dataset.h"
 *
 *	DATASET *dataset_load(const char *spec, const char *where, BUF *errs)
 *	void	dataset_free(DATASET *ds)
 *	int	dataset_wildmatch(const char *pattern, const char *s)
 *	enum dataset_line dataset_readline(FILE *fp, char *buf, size_t size)
 *	const char *dataset_path(const char *spec)
 *	FILE *	dataset_fopen(const char *path, BUF *err)
 *
 * DESCRIPTION
 *	dataset_load() reads the dataset named by spec (the value of a
 *	directive such as InternalHosts or KeyTable) into an ordered list of
 *	(key, value, file, line) entries:
 *
 *	"/path", "file:/path"	a flat file: one entry per line, the key is
 *				the first word, the value the rest of the
 *				line (trimmed; NULL when there is none).
 *				Blank lines and '#' comments are skipped.
 *	"refile:/path"		the same, with is_re set: keys are wildcard
 *				patterns for dataset_wildmatch().
 *	"csl:a, b"		an inline list, split at commas and white
 *				space; entries have only keys.
 *	anything else		an inline list, as for "csl:".
 *
 *	Inline entries carry where (the directive's "file:line", or
 *	"(inline)" when where is NULL) as their file and line 0. The other
 *	OpenDKIM dataset types ("db:", "ldap:", "lua:", ...) are refused.
 *	A file must be a regular file; a line longer than DATASET_LINE_MAX
 *	bytes or holding a NUL byte is an error.
 *
 *	dataset_wildmatch() matches s against pattern ignoring ASCII case;
 *	'*' matches any run of characters, including an empty one, and no
 *	other character is special. It runs in O(len(pattern) * len(s)),
 *	without recursion.
 *
 *	dataset_path() returns the file a spec names ("/path", "file:/path",
 *	"refile:/path"), or NULL for an inline list.
 *
 *	dataset_readline() is the line reader shared with conf.c: it cuts a
 *	'#' comment that starts the line or follows white space, trims the
 *	line, and reports overlong lines, NUL bytes and read errors.
 *
 *	dataset_fopen() opens a file for reading without ever blocking and
 *	refuses anything but a regular file.
 *
 * DIAGNOSTICS
 *	dataset_load() returns NULL on any error, after appending one
 *	"file:line: message\n" (or "where: message\n") line per problem to
 *	errs; it reports every bad line of a file, not only the first.
 *	dataset_fopen() returns NULL with the reason (naming the path) in
 *	err.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "util.h"

/* OpenDKIM dataset types that txmilter does not implement. */
static const char *const dataset_unsupported[] = {
    "db:", "dsn:", "erlang:", "ldap:", "ldapi:", "ldaps:", "lua:",
    "memcache:", "mdb:", "redis:", "sqlite:", NULL,
};

/* dataset_err - append one diagnostic line to errs (if any) */
static void __attribute__((format(printf, 2, 3)))
dataset_err(BUF *errs, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (errs == NULL)
        return;
    va_start(ap, fmt);
    (void) vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* An error list that outgrows its bound is cut short: the first errors
     * are the ones the operator needs. */
    if (buf_puts(errs, line) < 0 || buf_puts(errs, "\n") < 0)
        return;
}

/* dataset_add - append one entry (copies every string) */
static void dataset_add(DATASET *ds, size_t *cap, const char *key,
                        const char *value, const char *file, int line)
{
    DATASET_ENTRY *e;

    if (ds->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        ds->ent = xrealloc(ds->ent, *cap * sizeof(*ds->ent));
    }
    e = &ds->ent[ds->n++];
    e->key = xstrdup(key);
    e->value = value ? xstrdup(value) : NULL;
    e->file = xstrdup(file);
    e->line = line;
}

/* dataset_readline - one trimmed, comment-free line */
enum dataset_line dataset_readline(FILE *fp, char *buf, size_t size)
{
    size_t len = 0;
    int c, nul = 0, got = 0;
    char *p, *s;

    if (size == 0)
        return DATASET_LINE_ERR;
    while ((c = getc(fp)) != EOF) {
        got = 1;
        if (c == '\n')
            break;
        if (c == 0)
            nul = 1;
        if (len + 1 < size)
            buf[len] = (char) c;
        len++;
    }
    if (ferror(fp))
        return DATASET_LINE_ERR;
    if (!got)
        return DATASET_LINE_EOF;
    if (len + 1 > size) {
        buf[0] = 0;
        return DATASET_LINE_LONG;
    }
    buf[len] = 0;
    if (nul) {
        buf[0] = 0;
        return DATASET_LINE_NUL;
    }
    for (p = buf; *p; p++) {
        if (*p == '#' && (p == buf || isspace((unsigned char) p[-1]))) {
            *p = 0;
            break;
        }
    }
    s = util_trim(buf);
    if (s != buf)
        memmove(buf, s, strlen(s) + 1);
    return DATASET_LINE_OK;
}

/* dataset_fopen - a regular file opened for reading, or why not */
FILE *dataset_fopen(const char *path, BUF *err)
{
    char reason_mem[256];
    BUF reason;
    FILE *fp;
    int fd;

    buf_init_fixed(&reason, reason_mem, sizeof(reason_mem));
    if ((fd = util_open_file(path, NULL, &reason)) == UTIL_FILE_NOTREG)
        return util_err(err, "%s is not a regular file", path), NULL;
    if (fd < 0)
        return util_err(err, "cannot open %s: %s", path, reason.data), NULL;
    if ((fp = fdopen(fd, "r")) == NULL) {
        (void) util_err(err, "cannot read %s: %s", path, strerror(errno));
        (void) close(fd);
        return NULL;
    }
    return fp;
}

/* dataset_path - the file a dataset spec names, or NULL for an inline list */
const char *dataset_path(const char *spec)
{
    if (spec == NULL)
        return NULL;
    if (strncasecmp(spec, "refile:", 7) == 0)
        return spec + 7;
    if (strncasecmp(spec, "file:", 5) == 0)
        return spec + 5;
    if (spec[0] == '/')
        return spec;
    return NULL;
}

/* dataset_load_file - read a flat file into ds */
static int dataset_load_file(DATASET *ds, const char *path, const char *where, BUF *errs)
{
    char line[DATASET_LINE_MAX + 1], why_mem[1200];
    size_t cap = 0;
    int lineno = 0, bad = 0;
    enum dataset_line rc;
    BUF why;
    FILE *fp;

    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if ((fp = dataset_fopen(path, &why)) == NULL) {
        dataset_err(errs, "%s: %s", where ? where : path, why.data);
        return -1;
    }
    while ((rc = dataset_readline(fp, line, sizeof(line))) != DATASET_LINE_EOF) {
        char *key, *value;

        lineno++;
        if (rc == DATASET_LINE_ERR) {
            dataset_err(errs, "%s:%d: read error: %s", path, lineno, strerror(errno));
            bad = 1;
            break;
        }
        if (rc == DATASET_LINE_LONG) {
            dataset_err(errs, "%s:%d: line longer than %d bytes", path, lineno,
                        DATASET_LINE_MAX);
            bad = 1;
            continue;
        }
        if (rc == DATASET_LINE_NUL) {
            dataset_err(errs, "%s:%d: line holds a NUL byte", path, lineno);
            bad = 1;
            continue;
        }
        if (line[0] == 0)
            continue;
        key = line;
        for (value = key; *value && !isspace((unsigned char) *value); value++)
            /* void */ ;
        if (*value) {
            *value++ = 0;
            value = util_trim(value);
        }
        dataset_add(ds, &cap, key, *value ? value : NULL, path, lineno);
    }
    (void) fclose(fp);
    return bad ? -1 : 0;
}

/* dataset_load_list - split an inline list into ds */
static void dataset_load_list(DATASET *ds, const char *list, const char *where)
{
    STRV sv;
    size_t i, cap = 0;

    strv_init(&sv);
    strv_split(&sv, list, ", \t\r\n");
    for (i = 0; i < sv.n; i++)
        dataset_add(ds, &cap, sv.v[i], NULL, where ? where : "(inline)", 0);
    strv_free(&sv);
}

/* dataset_load - read the dataset named by spec */
DATASET *dataset_load(const char *spec, const char *where, BUF *errs)
{
    DATASET *ds;
    const char *path = NULL;
    size_t i;
    int rc = 0;

    if (spec == NULL)
        return NULL;
    for (i = 0; dataset_unsupported[i]; i++) {
        if (strncasecmp(spec, dataset_unsupported[i], strlen(dataset_unsupported[i])) == 0) {
            dataset_err(errs, "%s: dataset type \"%s\" is not supported "
                        "(use a file, \"refile:\" or an inline list)",
                        where ? where : "(inline)", dataset_unsupported[i]);
            return NULL;
        }
    }
    ds = xcalloc(1, sizeof(*ds));
    ds->is_re = strncasecmp(spec, "refile:", 7) == 0;
    path = dataset_path(spec);
    if (path != NULL) {
        if (*path == 0) {
            dataset_err(errs, "%s: missing file name in \"%s\"",
                        where ? where : "(inline)", spec);
            rc = -1;
        } else {
            rc = dataset_load_file(ds, path, where, errs);
        }
    } else {
        dataset_load_list(ds, strncasecmp(spec, "csl:", 4) == 0 ? spec + 4 : spec, where);
    }
    if (rc < 0) {
        dataset_free(ds);
        return NULL;
    }
    return ds;
}

/* dataset_free - release a dataset and its entries */
void dataset_free(DATASET *ds)
{
    size_t i;

    if (ds == NULL)
        return;
    for (i = 0; i < ds->n; i++) {
        free(ds->ent[i].key);
        free(ds->ent[i].value);
        free(ds->ent[i].file);
    }
    free(ds->ent);
    free(ds);
}

/* dataset_wildmatch - case-insensitive match with '*' as the only wildcard */
int dataset_wildmatch(const char *pattern, const char *s)
{
    const char *p = pattern, *star = NULL, *resume = NULL;

    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p && tolower((unsigned char) *p) == tolower((unsigned char) *s)) {
            p++;
            s++;
        } else if (star) {
            /* Let the last '*' swallow one more character and retry. */
            p = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == 0;
}

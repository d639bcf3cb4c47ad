/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dataset.h - OpenDKIM "dataset" specifications, as used by InternalHosts,
 * MTA, KeyTable, SigningTable and Domain.
 *
 *	"a, b, c"            an inline list (when the value is not a path)
 *	"/path" "file:/path" a flat file: one entry per line, "key [value]",
 *	                     '#' comments, leading white space continues nothing
 *	"refile:/path"       like a file, but keys are wildcard patterns ('*')
 *	                     tried in file order (SigningTable only)
 *	"csl:a,b"            an inline comma-separated list, explicitly
 *
 * A dataset is loaded into an ordered list of (key, value, file, line)
 * entries so that later errors can still name the line.
 */
#ifndef TX_DATASET_H
#define TX_DATASET_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

typedef struct dataset_entry {
    char   *key;
    char   *value;          /* NULL when the line had only a key */
    char   *file;           /* where it came from: the file, or for inline
                             * lists the caller's where ("(inline)" if NULL) */
    int     line;           /* 1-based line in file; 0 for inline lists */
} DATASET_ENTRY;

typedef struct dataset {
    int            is_re;   /* refile: keys are wildcard patterns */
    DATASET_ENTRY *ent;
    size_t         n;
} DATASET;

/* dataset_load - read spec; on error return NULL and append "file:line: msg\n"
 * to errs. where names the directive's own file:line for inline lists. */
DATASET *dataset_load(const char *spec, const char *where, BUF *errs);
void dataset_free(DATASET *ds);

/* dataset_fopen - open path for reading, refusing anything but a regular
 * file, without ever blocking (a FIFO in its place must not hang the
 * daemon). NULL with "cannot open PATH: reason", "PATH is not a regular
 * file" or "cannot read PATH: reason" appended to err. Every configuration file
 * txmilter reads (txmilter.conf, datasets, the rate policy) opens here. */
FILE *dataset_fopen(const char *path, BUF *err);

/* dataset_path - the file named by spec ("/path", "file:/path",
 * "refile:/path"; possibly empty), or NULL when spec is an inline list. */
const char *dataset_path(const char *spec);

/* dataset_wildmatch - case-insensitive match of s against a pattern where
 * '*' matches any run of characters (OpenDKIM refile semantics). */
int dataset_wildmatch(const char *pattern, const char *s);

/* dataset_readline - read one line of a "Name value" style file into buf
 * (size bytes) without its newline, with a '#' comment (at the start of
 * the line or after white space) cut off and white space trimmed. */
enum dataset_line {
    DATASET_LINE_OK = 0,    /* buf holds the (possibly empty) line */
    DATASET_LINE_EOF,       /* no more lines */
    DATASET_LINE_LONG,      /* longer than size - 1: the rest was skipped */
    DATASET_LINE_NUL,       /* held a NUL byte: the line was skipped */
    DATASET_LINE_ERR        /* read error (errno is set) */
};
enum dataset_line dataset_readline(FILE *fp, char *buf, size_t size);

/* The longest line dataset_load() and conf_load() accept. */
#define DATASET_LINE_MAX 8192

#endif

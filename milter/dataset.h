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

#include "util.h"

typedef struct dataset_entry {
    char   *key;
    char   *value;          /* NULL when the line had only a key */
    char   *file;           /* where it came from ("(inline)" for lists) */
    int     line;
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

/* dataset_wildmatch - case-insensitive match of s against a pattern where
 * '*' matches any run of characters (OpenDKIM refile semantics). */
int dataset_wildmatch(const char *pattern, const char *s);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_int.h - between conf.c (the file reader), the per-feature
 * directive tables (conf_daemon_dirs.c, conf_sign_dirs.c, conf_rate_dirs.c, conf_align_dirs.c,
 * conf_unsub_dirs.c, conf_bounce_dirs.c) and conf_value.c (the value parsers). Nothing outside
 * conf/ includes it.
 */
#ifndef TX_CONF_INT_H
#define TX_CONF_INT_H

#include <stddef.h>

#include "conf.h"

#define CONF_ERR_MAX		512	/* one diagnostic, without location */

typedef struct conf_dir CONF_DIR;

/* A value parser: set the field, or write a message to err and return -1. */
typedef int (*CONF_PARSE_FN) (TXCONF *cf, const CONF_DIR *d, const char *value,
                              char *err, size_t errlen);

struct conf_dir {
    const char *name;
    unsigned progs;             /* the programs that use it (enum conf_prog bits) */
    CONF_PARSE_FN parse;
    size_t  off;                /* offset of the TXCONF field */
    long    min, max;           /* range for numbers; allowed actions (bits) */
};

/* Short names for the progs column of the tables. */
#define CONF_M  CONF_PROG_TXMILTER
#define CONF_U  CONF_PROG_UNSUBD
#define CONF_C  CONF_PROG_CTL

/* One feature's part: its rows, how it starts (defaults), what it frees,
 * and its rules that involve several directives or the whole file (check,
 * may be NULL: it appends "file:line: message\n" to errs and returns -1,
 * or adds warnings to cf->warnings; prog says which programs read). */
typedef struct conf_part {
    const CONF_DIR *dirs;
    size_t  ndirs;
    void    (*defaults) (TXCONF *cf);
    void    (*release) (TXCONF *cf);
    int     (*check) (TXCONF *cf, unsigned prog, BUF *errs);
} CONF_PART;

#define CONF_NELEM(a) (sizeof(a) / sizeof((a)[0]))

extern const CONF_PART conf_daemon_part;
extern const CONF_PART conf_outbound_part;
extern const CONF_PART conf_sign_part;
extern const CONF_PART conf_rate_part;
extern const CONF_PART conf_align_part;
extern const CONF_PART conf_unsub_part;
extern const CONF_PART conf_bounce_part;

/* conf_warn - add "file:line: warning: message" to cf->warnings */
void conf_warn(TXCONF *cf, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CONF_OFF(field) offsetof(TXCONF, field)

#define CONF_FIELD(cf, d, type) ((type *) (void *) ((char *) (cf) + (d)->off))
#define CONF_ACT_BIT(a) (1L << (a))

int conf_parse_str(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_bool(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_int(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_duration(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_size(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_umask(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_facility(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_socket(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_user(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_canon(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_headers(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_action(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_mode(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_safekeys(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_storefail(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_store(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_optpath(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_unsub_url(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_unsub_mailto(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_hostport(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_choice(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_egress(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_mailboxes(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_align(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_dmarcmode(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_nameservers(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_abspath(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_group(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_sockmode(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_ratespec(TXCONF *, const CONF_DIR *, const char *, char *, size_t);

#endif

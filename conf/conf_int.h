/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_int.h - between conf.c (the directive table and the file) and
 * conf_value.c (the value parsers). Nothing else includes it.
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
    CONF_PARSE_FN parse;
    size_t  off;                /* offset of the TXCONF field */
    long    min, max;           /* range for numbers; allowed actions (bits) */
};

#define CONF_FIELD(cf, d, type) ((type *) (void *) ((char *) (cf) + (d)->off))
#define CONF_ACT_BIT(a) (1L << (a))

int conf_parse_str(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_bool(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_int(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
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
int conf_parse_align(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_nameservers(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_abspath(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_group(TXCONF *, const CONF_DIR *, const char *, char *, size_t);
int conf_parse_sockmode(TXCONF *, const CONF_DIR *, const char *, char *, size_t);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keytable.h - which keys sign a message: OpenDKIM's KeyTable and
 * SigningTable, and the Domain/Selector/KeyFile shorthand.
 *
 * KeyTable lines are "keyname domain:selector:keypath"; domain "%" means the
 * From domain; a keypath starting with '/', "./" or "../" is a file (it may
 * hold '%', replaced by the From domain), anything else is the key itself.
 * SigningTable lines are "pattern keyname [signer]". With "refile:" the
 * patterns are wildcards tried in file order; otherwise the lookup order is
 * OpenDKIM's: user@host, host, user@.parent (each parent in turn), .parent
 * (each parent in turn), user@*, then "*", keys compared ignoring case; a
 * refile: pattern is matched against "local@domain". Only the first match
 * is used unless MultipleSignatures; with it, a refile: table gives every
 * matching line, a flat table every line whose key equals the first key
 * that matched in lookup order, both in file order.
 *
 * The shorthand makes one key per Domain entry (d= that domain) which
 * signs mail from that domain, or with SubDomains from any domain below
 * it too (d= stays the listed domain); the entry "*" signs any From
 * domain with d= the From domain.
 *
 * '%' is replaced only by a From domain that keytable_domain_safe()
 * accepts; for any other domain a key that needs '%' yields no pick.
 *
 * Key material is loaded by keys.c; this module only resolves names.
 */
#ifndef TX_KEYTABLE_H
#define TX_KEYTABLE_H

#include <stddef.h>

#include "conf.h"
#include "util.h"

typedef struct keytable_key {
    char   *name;           /* the KeyTable key name */
    char   *domain;         /* d=, may be "%" */
    char   *selector;       /* s= */
    char   *keypath;        /* file path (may contain '%'), or NULL for inline */
    char   *inline_key;     /* the key itself when not a path */
    char   *file;           /* where it was defined */
    int     line;
} KEYTABLE_KEY;

typedef struct keytable KEYTABLE;

/* One resolved signing choice for a message. */
typedef struct keytable_pick {
    const KEYTABLE_KEY *key;
    char    domain[256];    /* d= with '%' replaced */
    char    signer[512];    /* i= (empty for none), '%' replaced */
    char    keypath[1024];  /* keypath with '%' replaced (empty for inline keys) */
} KEYTABLE_PICK;

/* keytable_build - from cf: KeyTable+SigningTable, or the Domain/Selector/
 * KeyFile shorthand (all three together). Both at once is an error (it is
 * almost certainly a mistake), as is a KeyTable without a SigningTable or
 * the reverse; neither gives an empty table. Every SigningTable key name
 * must exist in the KeyTable. NULL on error with "file:line: message\n"
 * lines appended to errs. */
KEYTABLE *keytable_build(const TXCONF *cf, BUF *errs);

/* keytable_lookup - the keys for a From address (local part and domain,
 * already lowercased, domain without trailing dot). Fills at most max picks
 * and returns how many; 0 means no key applies. */
size_t keytable_lookup(const KEYTABLE *kt, const char *local, const char *domain,
                       KEYTABLE_PICK *picks, size_t max);

/* keytable_keys - every KeyTable entry, for loading and checking at startup. */
const KEYTABLE_KEY *keytable_keys(const KEYTABLE *kt, size_t *n);

/* keytable_domain_safe - 1 if domain may replace '%' in a d=, an i= or a
 * key file path: 1 to 253 characters of [A-Za-z0-9.-], not starting with
 * '.', no empty label. Callers use it to tell a hostile From domain from
 * one that has no key. */
int keytable_domain_safe(const char *domain);

void keytable_free(KEYTABLE *kt);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keytable.c - which keys sign a message: KeyTable, SigningTable, shorthand
 *
 * SYNOPSIS
 *	#include "keytable.h"
 *
 *	KEYTABLE *keytable_build(const TXCONF *cf, BUF *errs)
 *	size_t	keytable_lookup(const KEYTABLE *kt, const char *local,
 *				const char *domain, KEYTABLE_PICK *picks,
 *				size_t max)
 *	const KEYTABLE_KEY *keytable_keys(const KEYTABLE *kt, size_t *n)
 *	int	keytable_domain_safe(const char *domain)
 *	void	keytable_free(KEYTABLE *kt)
 *
 * DESCRIPTION
 *	keytable_build() resolves the signing configuration of cf into a
 *	table; it reads the KeyTable and SigningTable datasets, or builds
 *	the equivalent of both from Domain, Selector and KeyFile.
 *
 *	KeyTable: "name domain:selector:keypath", split at the first two
 *	colons. domain is "%" or a domain name (at most 253 characters);
 *	selector is dot-separated labels of [A-Za-z0-9_-], at most 63 each.
 *	A keypath starting with '/', "./" or "../" is a file name, anything
 *	else the key itself. Names are unique, compared ignoring case.
 *	"refile:" (which many OpenDKIM guides use) reads the file the same
 *	way; a key name holding '*' is then refused.
 *
 *	SigningTable: "pattern name [signer]"; name must be in the KeyTable;
 *	signer (the i= tag, '%' standing for the From domain) must hold '@'.
 *
 *	keytable_lookup() finds the keys for a From address in the order
 *	keytable.h describes and fills picks with d=, i= and key path, '%'
 *	replaced by the From domain. A pick that would need '%' replaced by
 *	a domain that keytable_domain_safe() refuses, or that would overflow
 *	a KEYTABLE_PICK field, is left out. Flat tables are searched through
 *	an index sorted by key, so a lookup costs O(log n) per step.
 *
 *	keytable_keys() lists the keys for loading at start-up.
 *
 * DIAGNOSTICS
 *	keytable_build() returns NULL after appending one "file:line:
 *	message\n" line per problem to errs: a bad or repeated KeyTable
 *	line, an unknown key name or bad signer in the SigningTable, the
 *	shorthand set only in part, or mixed with a KeyTable. The
 *	SigningTable is checked only against a KeyTable without errors, so
 *	that one bad KeyTable line does not also flag every line using it.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataset.h"
#include "dns.h"
#include "keytable.h"
#include "util.h"

#define KT_QUERY_MAX 1024

enum kt_mode { KT_FLAT, KT_RE, KT_SHORT };

/* One SigningTable line (or shorthand Domain entry). */
typedef struct kt_sign {
    char   *pattern;
    size_t  key;                /* index into keys */
    char   *signer;             /* NULL for none */
} KT_SIGN;

struct keytable {
    enum kt_mode mode;
    int     multiple;           /* MultipleSignatures */
    int     subdomains;         /* SubDomains (shorthand only) */
    KEYTABLE_KEY *keys;
    size_t  nkeys;
    size_t *key_index;          /* keys sorted by name */
    KT_SIGN *sign;
    size_t  nsign;
    size_t *sign_index;         /* flat: sign sorted by pattern, then line */
};

#define kt_err util_err_at

/* kt_valid_labels - dot-separated labels of [A-Za-z0-9_-] within bounds */
static int kt_valid_labels(const char *s, size_t len)
{
    size_t i, label = 0;

    if (len == 0 || len > DNS_NAME_MAX)
        return 0;
    for (i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum((unsigned char) s[i]) || s[i] == '-' || s[i] == '_') {
            if (++label > DNS_LABEL_MAX)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0;
}

/* keytable_domain_safe - may this From domain replace '%' */
int keytable_domain_safe(const char *domain)
{
    size_t len, i;

    if (domain == NULL || (len = strlen(domain)) == 0 || len > DNS_NAME_MAX)
        return 0;
    for (i = 0; i < len; i++)
        if (!isalnum((unsigned char) domain[i]) && domain[i] != '-' && domain[i] != '.')
            return 0;
    return kt_valid_labels(domain, len);
}

/* kt_is_path - is a KeyTable keypath a file name rather than a key */
static int kt_is_path(const char *s)
{
    return s[0] == '/' || strncmp(s, "./", 2) == 0 || strncmp(s, "../", 3) == 0;
}

/* kt_key_cmp - order key indices by name, ignoring case */
static int kt_key_cmp(const void *a, const void *b, void *ctx)
{
    const KEYTABLE *kt = ctx;
    size_t  i = *(const size_t *) a, j = *(const size_t *) b;
    int     c = strcasecmp(kt->keys[i].name, kt->keys[j].name);

    return c ? c : (i > j) - (i < j);
}

/* kt_sign_cmp - order SigningTable indices by pattern, then file order */
static int kt_sign_cmp(const void *a, const void *b, void *ctx)
{
    const KEYTABLE *kt = ctx;
    size_t  i = *(const size_t *) a, j = *(const size_t *) b;
    int     c = strcasecmp(kt->sign[i].pattern, kt->sign[j].pattern);

    return c ? c : (i > j) - (i < j);
}

/* kt_index - an index array of n entries sorted with cmp */
static size_t *kt_index(KEYTABLE *kt, size_t n,
                        int (*cmp) (const void *, const void *, void *))
{
    size_t *idx = xcalloc(n ? n : 1, sizeof(size_t));
    size_t  i;

    for (i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof(size_t), cmp, kt);
    return idx;
}

/* kt_find_key - the key named name, or -1 */
static long kt_find_key(const KEYTABLE *kt, const char *name)
{
    size_t  lo = 0, hi = kt->nkeys;

    while (lo < hi) {
        size_t  mid = lo + (hi - lo) / 2;
        int     c = strcasecmp(kt->keys[kt->key_index[mid]].name, name);

        if (c == 0)
            return (long) kt->key_index[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* kt_add_key - append a key (copies every string) */
static void kt_add_key(KEYTABLE *kt, size_t *cap, const char *name, const char *domain,
                       size_t dlen, const char *selector, size_t slen,
                       const char *keydata, const char *file, int line)
{
    KEYTABLE_KEY *k;

    if (kt->nkeys == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        kt->keys = xrealloc(kt->keys, *cap * sizeof(*kt->keys));
    }
    k = &kt->keys[kt->nkeys++];
    k->name = xstrdup(name);
    k->domain = xstrndup(domain, dlen);
    k->selector = xstrndup(selector, slen);
    k->keypath = kt_is_path(keydata) ? xstrdup(keydata) : NULL;
    k->inline_key = k->keypath ? NULL : xstrdup(keydata);
    k->file = xstrdup(file);
    k->line = line;
}

/* kt_add_sign - append a SigningTable entry */
static void kt_add_sign(KEYTABLE *kt, size_t *cap, const char *pattern, size_t key,
                        const char *signer)
{
    KT_SIGN *s;

    if (kt->nsign == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        kt->sign = xrealloc(kt->sign, *cap * sizeof(*kt->sign));
    }
    s = &kt->sign[kt->nsign++];
    s->pattern = xstrdup(pattern);
    s->key = key;
    s->signer = signer ? xstrdup(signer) : NULL;
}

/* kt_load_keytable - parse the KeyTable dataset */
static int kt_load_keytable(KEYTABLE *kt, const TXCONF *cf, BUF *errs)
{
    char    where[1024];
    DATASET *ds;
    size_t  i, cap = 0;
    int     bad = 0;

    conf_where(cf, "KeyTable", where, sizeof(where));
    if ((ds = dataset_load(cf->sign.keytable, where, errs)) == NULL)
        return -1;
    for (i = 0; i < ds->n; i++) {
        const DATASET_ENTRY *e = &ds->ent[i];
        const char *c1, *c2;

        /* OpenDKIM guides often write refile:; names without '*' mean the same */
        if (ds->is_re && strchr(e->key, '*')) {
            kt_err(errs, e->file, e->line, "key name \"%s\": a wildcard in a refile: KeyTable "
                   "is not supported: give the key a name of its own (as the SigningTable "
                   "names it)", e->key);
            bad = 1;
            continue;
        }
        if (e->value == NULL || (c1 = strchr(e->value, ':')) == NULL
            || (c2 = strchr(c1 + 1, ':')) == NULL) {
            kt_err(errs, e->file, e->line, "key \"%s\": expected domain:selector:keypath "
                   "after the key name", e->key);
            bad = 1;
            continue;
        }
        if (!(c1 - e->value == 1 && e->value[0] == '%')
            && !kt_valid_labels(e->value, (size_t) (c1 - e->value))) {
            kt_err(errs, e->file, e->line, "key \"%s\": bad domain \"%.*s\"", e->key,
                   (int) (c1 - e->value), e->value);
            bad = 1;
            continue;
        }
        if (!kt_valid_labels(c1 + 1, (size_t) (c2 - c1 - 1))) {
            kt_err(errs, e->file, e->line, "key \"%s\": bad selector \"%.*s\"", e->key,
                   (int) (c2 - c1 - 1), c1 + 1);
            bad = 1;
            continue;
        }
        if (c2[1] == 0) {
            kt_err(errs, e->file, e->line, "key \"%s\": missing key file or key", e->key);
            bad = 1;
            continue;
        }
        kt_add_key(kt, &cap, e->key, e->value, (size_t) (c1 - e->value), c1 + 1,
                   (size_t) (c2 - c1 - 1), c2 + 1, e->file, e->line);
    }
    dataset_free(ds);
    kt->key_index = kt_index(kt, kt->nkeys, kt_key_cmp);
    for (i = 1; i < kt->nkeys; i++) {
        const KEYTABLE_KEY *a = &kt->keys[kt->key_index[i - 1]];
        const KEYTABLE_KEY *b = &kt->keys[kt->key_index[i]];

        if (strcasecmp(a->name, b->name) == 0) {
            kt_err(errs, b->file, b->line, "key \"%s\" defined twice (first at line %d)",
                   b->name, a->line);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

/* kt_load_signingtable - parse the SigningTable dataset */
static int kt_load_signingtable(KEYTABLE *kt, const TXCONF *cf, BUF *errs)
{
    char    where[1024], kwhere[1024];
    DATASET *ds;
    size_t  i, cap = 0;
    int     bad = 0;

    conf_where(cf, "SigningTable", where, sizeof(where));
    conf_where(cf, "KeyTable", kwhere, sizeof(kwhere));
    if ((ds = dataset_load(cf->sign.signingtable, where, errs)) == NULL)
        return -1;
    kt->mode = ds->is_re ? KT_RE : KT_FLAT;
    for (i = 0; i < ds->n; i++) {
        const DATASET_ENTRY *e = &ds->ent[i];
        char   *name, *signer = NULL, *p;
        long    key;

        if (e->value == NULL) {
            kt_err(errs, e->file, e->line, "\"%s\": missing key name", e->key);
            bad = 1;
            continue;
        }
        name = xstrdup(e->value);
        for (p = name; *p && !isspace((unsigned char) *p); p++)
            /* void */ ;
        if (*p) {
            *p++ = 0;
            signer = util_trim(p);
        }
        if ((key = kt_find_key(kt, name)) < 0) {
            kt_err(errs, e->file, e->line, "key name \"%s\" is not in the KeyTable (%s)",
                   name, kwhere);
            bad = 1;
        } else if (signer != NULL && (strchr(signer, '@') == NULL
                                      || strlen(signer) >= sizeof(((KEYTABLE_PICK *) 0)->signer)
                                      || strpbrk(signer, " \t") != NULL)) {
            kt_err(errs, e->file, e->line, "bad signer \"%s\" (expected one address "
                   "such as @example.com or user@%%)", signer);
            bad = 1;
        } else {
            kt_add_sign(kt, &cap, e->key, (size_t) key, signer);
        }
        free(name);
    }
    dataset_free(ds);
    if (kt->mode == KT_FLAT)
        kt->sign_index = kt_index(kt, kt->nsign, kt_sign_cmp);
    return bad ? -1 : 0;
}

/* kt_load_short - the Domain/Selector/KeyFile shorthand */
static int kt_load_short(KEYTABLE *kt, const TXCONF *cf, BUF *errs)
{
    char    where[1024];
    DATASET *ds;
    size_t  i, j, kcap = 0, scap = 0;
    int     bad = 0;

    if (cf->sign.domain == NULL || cf->sign.selector == NULL || cf->sign.keyfile == NULL) {
        const char *first = cf->sign.domain ? "Domain" : cf->sign.selector ? "Selector" : "KeyFile";

        conf_where(cf, first, where, sizeof(where));
        kt_err(errs, where, 0, "Domain, Selector and KeyFile must be set together "
               "(missing:%s%s%s)", cf->sign.domain ? "" : " Domain",
               cf->sign.selector ? "" : " Selector", cf->sign.keyfile ? "" : " KeyFile");
        return -1;
    }
    if (!kt_valid_labels(cf->sign.selector, strlen(cf->sign.selector))) {
        conf_where(cf, "Selector", where, sizeof(where));
        kt_err(errs, where, 0, "Selector: bad selector \"%s\"", cf->sign.selector);
        bad = 1;
    }
    conf_where(cf, "Domain", where, sizeof(where));
    if ((ds = dataset_load(cf->sign.domain, where, errs)) == NULL)
        return -1;
    if (ds->is_re) {
        kt_err(errs, where, 0, "Domain cannot be a refile: dataset");
        dataset_free(ds);
        return -1;
    }
    kt->mode = KT_SHORT;
    for (i = 0; i < ds->n; i++) {
        const DATASET_ENTRY *e = &ds->ent[i];
        int     any = strcmp(e->key, "*") == 0;

        if (e->value != NULL) {
            kt_err(errs, e->file, e->line, "unexpected text \"%s\" after domain \"%s\"",
                   e->value, e->key);
            bad = 1;
            continue;
        }
        if (!any && !kt_valid_labels(e->key, strlen(e->key))) {
            kt_err(errs, e->file, e->line, "bad domain \"%s\"", e->key);
            bad = 1;
            continue;
        }
        for (j = 0; j < kt->nsign; j++)
            if (strcasecmp(kt->sign[j].pattern, e->key) == 0)
                break;
        if (j < kt->nsign) {
            kt_err(errs, e->file, e->line, "domain \"%s\" listed twice", e->key);
            bad = 1;
            continue;
        }
        kt_add_key(kt, &kcap, e->key, any ? "%" : e->key, any ? 1 : strlen(e->key),
                   cf->sign.selector, strlen(cf->sign.selector), cf->sign.keyfile, e->file, e->line);
        /* KeyFile is always a file, even without a leading '/'. */
        if (kt->keys[kt->nkeys - 1].keypath == NULL) {
            kt->keys[kt->nkeys - 1].keypath = kt->keys[kt->nkeys - 1].inline_key;
            kt->keys[kt->nkeys - 1].inline_key = NULL;
        }
        kt_add_sign(kt, &scap, e->key, kt->nkeys - 1, NULL);
    }
    dataset_free(ds);
    return bad ? -1 : 0;
}

/* keytable_build - resolve cf's signing configuration */
KEYTABLE *keytable_build(const TXCONF *cf, BUF *errs)
{
    char    where[1024];
    KEYTABLE *kt = xcalloc(1, sizeof(*kt));
    int     shorthand = cf->sign.domain || cf->sign.selector || cf->sign.keyfile, rc = 0;

    kt->mode = KT_SHORT;
    kt->multiple = cf->sign.multiple_signatures;
    kt->subdomains = cf->sign.subdomains;
    if (cf->sign.keytable && shorthand) {
        conf_where(cf, "KeyTable", where, sizeof(where));
        kt_err(errs, where, 0, "KeyTable cannot be combined with Domain, Selector "
               "or KeyFile: use a KeyTable line instead");
        rc = -1;
    } else if (cf->sign.keytable && cf->sign.signingtable == NULL) {
        conf_where(cf, "KeyTable", where, sizeof(where));
        kt_err(errs, where, 0, "KeyTable is set but SigningTable is not");
        rc = -1;
    } else if (cf->sign.signingtable && cf->sign.keytable == NULL) {
        conf_where(cf, "SigningTable", where, sizeof(where));
        kt_err(errs, where, 0, "SigningTable is set but KeyTable is not");
        rc = -1;
    } else if (cf->sign.keytable) {
        /* A broken KeyTable would make every SigningTable name look
         * unknown: check the SigningTable against a good one only. */
        if (kt_load_keytable(kt, cf, errs) < 0 || kt_load_signingtable(kt, cf, errs) < 0)
            rc = -1;
    } else if (shorthand) {
        rc = kt_load_short(kt, cf, errs);
    }
    if (rc < 0) {
        keytable_free(kt);
        return NULL;
    }
    return kt;
}

/* kt_subst - copy tmpl to dst, '%' replaced by domain; -1 if too long */
static int kt_subst(char *dst, size_t size, const char *tmpl, const char *domain)
{
    size_t  len = 0, dlen = strlen(domain);

    for (; *tmpl; tmpl++) {
        const char *piece = *tmpl == '%' ? domain : tmpl;
        size_t  plen = *tmpl == '%' ? dlen : 1;

        if (len + plen >= size)
            return -1;
        memcpy(dst + len, piece, plen);
        len += plen;
    }
    dst[len] = 0;
    return 0;
}

/* kt_pick - fill one pick for SigningTable entry s; -1 to leave it out */
static int kt_pick(const KEYTABLE *kt, const KT_SIGN *s, const char *domain,
                   KEYTABLE_PICK *p)
{
    const KEYTABLE_KEY *k = &kt->keys[s->key];

    if ((strchr(k->domain, '%') || (k->keypath && strchr(k->keypath, '%'))
         || (s->signer && strchr(s->signer, '%'))) && !keytable_domain_safe(domain))
        return -1;
    p->key = k;
    if (kt_subst(p->domain, sizeof(p->domain), k->domain, domain) < 0
        || kt_subst(p->signer, sizeof(p->signer), s->signer ? s->signer : "", domain) < 0
        || kt_subst(p->keypath, sizeof(p->keypath), k->keypath ? k->keypath : "", domain) < 0)
        return -1;
    return 0;
}

/* kt_flat_first - sorted position of the first entry keyed q, or -1 */
static long kt_flat_first(const KEYTABLE *kt, const char *q)
{
    size_t  lo = 0, hi = kt->nsign;

    while (lo < hi) {
        size_t  mid = lo + (hi - lo) / 2;

        if (strcasecmp(kt->sign[kt->sign_index[mid]].pattern, q) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < kt->nsign && strcasecmp(kt->sign[kt->sign_index[lo]].pattern, q) == 0)
        return (long) lo;
    return -1;
}

/* kt_flat_lookup - sorted position of the first key matched in OpenDKIM order */
static long kt_flat_lookup(const KEYTABLE *kt, const char *local, const char *domain)
{
    char    q[KT_QUERY_MAX];
    const char *p;
    long    pos;
    int     n;

#define KT_TRY(...) do { \
	n = snprintf(q, sizeof(q), __VA_ARGS__); \
	if (n > 0 && (size_t) n < sizeof(q) && (pos = kt_flat_first(kt, q)) >= 0) \
	    return pos; \
    } while (0)

    if (*local)
        KT_TRY("%s@%s", local, domain);
    KT_TRY("%s", domain);
    if (*local)
        for (p = strchr(domain, '.'); p; p = strchr(p + 1, '.'))
            KT_TRY("%s@%s", local, p);
    for (p = strchr(domain, '.'); p; p = strchr(p + 1, '.'))
        KT_TRY("%s", p);
    if (*local)
        KT_TRY("%s@*", local);
    KT_TRY("*");
#undef KT_TRY
    return -1;
}

/* kt_short_match - does shorthand entry s sign mail from domain */
static int kt_short_match(const KEYTABLE *kt, const KT_SIGN *s, const char *domain)
{
    size_t  dlen = strlen(domain), plen = strlen(s->pattern);

    if (strcmp(s->pattern, "*") == 0 || strcasecmp(s->pattern, domain) == 0)
        return 1;
    return kt->subdomains && dlen > plen + 1 && domain[dlen - plen - 1] == '.'
        && strcasecmp(domain + dlen - plen, s->pattern) == 0;
}

/* keytable_lookup - the keys that sign mail from local@domain */
size_t  keytable_lookup(const KEYTABLE *kt, const char *local, const char *domain,
                        KEYTABLE_PICK *picks, size_t max)
{
    char    addr[KT_QUERY_MAX];
    size_t  i, n = 0;
    long    pos;
    int     len;

    if (kt == NULL || local == NULL || domain == NULL || picks == NULL || max == 0)
        return 0;
    if (kt->mode == KT_FLAT) {
        if ((pos = kt_flat_lookup(kt, local, domain)) < 0)
            return 0;
        for (i = (size_t) pos; i < kt->nsign && n < max; i++) {
            const KT_SIGN *s = &kt->sign[kt->sign_index[i]];

            if (strcasecmp(s->pattern, kt->sign[kt->sign_index[pos]].pattern) != 0)
                break;
            if (kt_pick(kt, s, domain, &picks[n]) == 0)
                n++;
            if (!kt->multiple)
                break;
        }
        return n;
    }
    len = snprintf(addr, sizeof(addr), "%s@%s", local, domain);
    if (len < 0 || (size_t) len >= sizeof(addr))
        return 0;
    for (i = 0; i < kt->nsign && n < max; i++) {
        const KT_SIGN *s = &kt->sign[i];
        int     hit = kt->mode == KT_RE ? dataset_wildmatch(s->pattern, addr)
            : kt_short_match(kt, s, domain);

        if (!hit)
            continue;
        if (kt_pick(kt, s, domain, &picks[n]) == 0)
            n++;
        if (!kt->multiple)
            break;
    }
    return n;
}

/* keytable_keys - every key, for loading at start-up */
const KEYTABLE_KEY *keytable_keys(const KEYTABLE *kt, size_t *n)
{
    if (kt == NULL) {
        if (n)
            *n = 0;
        return NULL;
    }
    if (n)
        *n = kt->nkeys;
    return kt->keys;
}

/* keytable_free - release a table */
void keytable_free(KEYTABLE *kt)
{
    size_t  i;

    if (kt == NULL)
        return;
    for (i = 0; i < kt->nkeys; i++) {
        free(kt->keys[i].name);
        free(kt->keys[i].domain);
        free(kt->keys[i].selector);
        free(kt->keys[i].keypath);
        free(kt->keys[i].inline_key);
        free(kt->keys[i].file);
    }
    for (i = 0; i < kt->nsign; i++) {
        free(kt->sign[i].pattern);
        free(kt->sign[i].signer);
    }
    free(kt->keys);
    free(kt->key_index);
    free(kt->sign);
    free(kt->sign_index);
    free(kt);
}

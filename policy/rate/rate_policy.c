/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rate_policy.c - the rate policy file (RateLimitPolicy)
 *
 * SYNOPSIS
 *	#include "rate_policy.h"
 *
 *	RATE_POLICY *rate_policy_load(const char *path, BUF *errs)
 *	void	rate_policy_free(RATE_POLICY *p)
 *	const char *rate_policy_describe(const RATE_RULE *r, char *buf, size_t len)
 *
 * DESCRIPTION
 *	rate_policy_load() reads the policy file path, one rule per line:
 *
 *	    name  key[,key...]  N/period  action  [option ...]
 *
 *	name	1 to 63 of A-Z a-z 0-9 _ . -, unique in the file.
 *	key	rcpt, rcpt_domain, sender, sender_domain,
 *		client_ip[/v4len[/v6len]] (v4len 0-32, default 32; v6len
 *		0-128, default 128), auth, or global (alone: the whole relay);
 *		each part at most once.
 *	N/period  N from 1 to 10000000; the period a positive integer with
 *		a unit s, m, h, d or w, from 1s to 366d.
 *	action	tempfail, reject, quarantine or shadow (which sets shadow).
 *	option	shadow; exempt-rcpt=PATTERN[,...], exempt-sender=PATTERN[,...]
 *		(dataset_wildmatch() patterns); exempt-client=NET[,...] (as
 *		InternalHosts: addresses, CIDR networks, names, '!'
 *		negation; always an inline list, never a file);
 *		exempt-auth=LOGIN[,...]. Each option at most once; lists
 *		hold no empty items.
 *
 *	Blank lines and '#' comments (at the start of a line or after white
 *	space) are skipped; at most RATE_POLICY_RULES_MAX rules. The file must be a
 *	regular file (a FIFO in its place does not block the caller).
 *
 *	rate_policy_free() releases a policy (NULL is fine).
 *
 *	rate_policy_describe() writes the rule without its name, in the file's
 *	syntax ("rcpt,sender_domain 10/1h tempfail shadow"), keys in their
 *	fixed order and the period in its largest exact unit; the text is
 *	cut to fit len (always terminated). It returns buf.
 *
 * DIAGNOSTICS
 *	rate_policy_load() returns NULL after appending one "file:line:
 *	message\n" line to errs for each problem (it goes on after an error,
 *	so one run reports every bad line): a line over DATASET_LINE_MAX
 *	bytes or holding a NUL byte, missing fields, a bad or duplicate rule
 *	name, an unknown, empty or duplicate key part, a bad prefix length,
 *	"global" with other keys, a bad limit or period, an unknown action,
 *	an unknown, duplicate or malformed option, an empty list or list
 *	item, a bad exempt-client entry (netlist_build()'s message), too
 *	many rules. A file that cannot be opened, is not a regular file or
 *	cannot be read gives "file: message\n".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "netlist.h"
#include "rate_policy.h"
#include "ratespec.h"
#include "util.h"

#define RATE_POLICY_FIELDS_MAX 64       /* name, key, limit, action + options */

/* Key parts in rate-key order, with their names. */
static const struct {
    unsigned    bit;
    const char *name;
} rate_policy_keys[] = {
    {RATE_KEY_RCPT, "rcpt"},
    {RATE_KEY_RCPT_DOMAIN, "rcpt_domain"},
    {RATE_KEY_SENDER, "sender"},
    {RATE_KEY_SENDER_DOMAIN, "sender_domain"},
    {RATE_KEY_CLIENT_IP, "client_ip"},
    {RATE_KEY_AUTH, "auth"},
    {RATE_KEY_GLOBAL, "global"},
};

static const char *const rate_policy_actions[] = {"tempfail", "reject", "quarantine", "shadow"};

/* Period units, largest first (rate_policy_describe picks the largest exact). */
static const struct {
    char     unit;
    uint64_t ms;
} rate_policy_units[] = {
    {'w', 604800000ULL}, {'d', 86400000ULL}, {'h', 3600000ULL}, {'m', 60000ULL}, {'s', 1000ULL},
};

#define RATE_POLICY_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* rate_policy_name_ok - 1 if name is 1 to 63 of [A-Za-z0-9_.-] */
static int rate_policy_name_ok(const char *name)
{
    size_t n = strlen(name);

    return n >= 1 && n < RATE_RULE_NAME_MAX
        && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* rate_policy_parse_prefix - "/24" or "/24/64" after client_ip; -1 if bad */
static int rate_policy_parse_prefix(const char *s, int *v4, int *v6)
{
    const char *slash;
    uint64_t n;

    if (*s == 0)
        return 0;
    if (*s++ != '/')
        return -1;
    slash = strchr(s, '/');
    if (ratespec_number(s, slash ? (size_t) (slash - s) : strlen(s), &n) < 0 || n > 32)
        return -1;
    *v4 = (int) n;
    if (slash == NULL)
        return 0;
    if (ratespec_number(slash + 1, strlen(slash + 1), &n) < 0 || n > 128)
        return -1;
    *v6 = (int) n;
    return 0;
}

/* rate_policy_parse_keys - the key field into r->keys and the prefix lengths */
static int rate_policy_parse_keys(RATE_RULE *r, const char *field, BUF *errs)
{
    const char *p = field, *e;
    char part[128];
    size_t i, n;
    int bad = 0;

    for (;;) {
        e = strchr(p, ',');
        n = e ? (size_t) (e - p) : strlen(p);
        if (n == 0) {
            util_err_at(errs, r->file, r->line, "empty key in \"%s\"", field);
            bad = 1;
        } else if (n >= sizeof(part)) {
            util_err_at(errs, r->file, r->line, "unknown key \"%.*s...\"", 40, p);
            bad = 1;
        } else {
            memcpy(part, p, n);
            part[n] = 0;
            for (i = 0; i < RATE_POLICY_NELEM(rate_policy_keys); i++) {
                size_t kl = strlen(rate_policy_keys[i].name);

                if (strcmp(part, rate_policy_keys[i].name) == 0
                    || (rate_policy_keys[i].bit == RATE_KEY_CLIENT_IP
                        && strncmp(part, "client_ip", kl) == 0 && part[kl] == '/'))
                    break;
            }
            if (i == RATE_POLICY_NELEM(rate_policy_keys)) {
                util_err_at(errs, r->file, r->line, "unknown key \"%s\" (expected rcpt, "
                            "rcpt_domain, sender, sender_domain, client_ip[/v4len[/v6len]], "
                            "auth or global)", part);
                bad = 1;
            } else if (r->keys & rate_policy_keys[i].bit) {
                util_err_at(errs, r->file, r->line, "duplicate key \"%s\" in \"%s\"",
                            rate_policy_keys[i].name, field);
                bad = 1;
            } else {
                r->keys |= rate_policy_keys[i].bit;
                if (rate_policy_keys[i].bit == RATE_KEY_CLIENT_IP
                    && rate_policy_parse_prefix(part + strlen("client_ip"), &r->v4len,
                                                &r->v6len) < 0) {
                    util_err_at(errs, r->file, r->line, "bad prefix length in \"%s\" (expected "
                                "client_ip/0-32 or client_ip/0-32/0-128)", part);
                    bad = 1;
                }
            }
        }
        if (e == NULL)
            break;
        p = e + 1;
    }
    if ((r->keys & RATE_KEY_GLOBAL) && (r->keys & ~(unsigned) RATE_KEY_GLOBAL)) {
        util_err_at(errs, r->file, r->line, "key \"global\" cannot be combined with other keys "
                    "(it is the whole relay): \"%s\"", field);
        bad = 1;
    }
    return bad ? -1 : 0;
}

/* rate_policy_parse_limit - "N/period" into r->limit and r->period_ms */
static int rate_policy_parse_limit(RATE_RULE *r, const char *field, BUF *errs)
{
    const char *per = strchr(field, '/');
    uint64_t n = 0, v = 0;
    enum ratespec_err e = ratespec_parse(field, &n, &v);

    if (e == RATESPEC_OK) {
        r->limit = (uint32_t) n;
        r->period_ms = v;
        return 0;
    }
    if (e == RATESPEC_BAD_LIMIT) {
        util_err_at(errs, r->file, r->line, "bad limit \"%s\" (expected N/period, e.g. 3/10m)",
                    field);
        return -1;
    }
    if (n < 1 || n > RATESPEC_LIMIT_MAX)        /* told together with a bad period */
        util_err_at(errs, r->file, r->line, "limit %llu out of range in \"%s\" (1 to %u)",
                    (unsigned long long) n, field, RATESPEC_LIMIT_MAX);
    if (e == RATESPEC_NO_UNIT)
        util_err_at(errs, r->file, r->line, "period \"%s\" in \"%s\" has no unit (s, m, h, d or w)",
                    per + 1, field);
    else if (e == RATESPEC_BAD_PERIOD)
        util_err_at(errs, r->file, r->line, "bad period \"%s\" in \"%s\" (expected a number and "
                    "s, m, h, d or w, e.g. 10m)", per + 1, field);
    else if (e == RATESPEC_PERIOD_RANGE)
        util_err_at(errs, r->file, r->line, "period \"%s\" out of range in \"%s\" (1s to 366d)",
                    per + 1, field);
    return -1;
}

/* rate_policy_parse_list - split an option's list into sv; -1 if empty items */
static int rate_policy_parse_list(RATE_RULE *r, const char *opt, const char *val, STRV *sv,
                                  BUF *errs)
{
    const char *p = val, *e;

    if (*val == 0) {
        util_err_at(errs, r->file, r->line, "empty list in \"%s\"", opt);
        return -1;
    }
    for (;;) {
        e = strchr(p, ',');
        if (e == p || (e == NULL && *p == 0)) {
            util_err_at(errs, r->file, r->line, "empty item in \"%s\"", opt);
            return -1;
        }
        if (e == NULL) {
            strv_add(sv, p);
            return 0;
        }
        {
            char *item = xstrndup(p, (size_t) (e - p));

            strv_add(sv, item);
            free(item);
        }
        p = e + 1;
    }
}

/* rate_policy_parse_option - one option into r; seen tracks options already given */
static int rate_policy_parse_option(RATE_RULE *r, const char *opt, unsigned *seen, BUF *errs)
{
    static const char *const names[] = {
        "shadow", "exempt-rcpt", "exempt-sender", "exempt-client", "exempt-auth",
    };
    const char *eq = strchr(opt, '=');
    size_t n = eq ? (size_t) (eq - opt) : strlen(opt), i;
    char where[4200];

    for (i = 0; i < RATE_POLICY_NELEM(names); i++)
        if (strlen(names[i]) == n && strncmp(opt, names[i], n) == 0)
            break;
    if (i == RATE_POLICY_NELEM(names)) {
        util_err_at(errs, r->file, r->line, "unknown option \"%s\" (expected shadow, exempt-rcpt=, "
                    "exempt-sender=, exempt-client= or exempt-auth=)", opt);
        return -1;
    }
    if (*seen & (1u << i)) {
        util_err_at(errs, r->file, r->line, "duplicate option \"%s\"", names[i]);
        return -1;
    }
    *seen |= 1u << i;
    if (i == 0) {
        if (eq != NULL) {
            util_err_at(errs, r->file, r->line, "option \"shadow\" takes no value: \"%s\"", opt);
            return -1;
        }
        r->shadow = 1;
        return 0;
    }
    if (eq == NULL) {
        util_err_at(errs, r->file, r->line, "option \"%s\" needs a value (%s=A[,B...])", names[i],
                    names[i]);
        return -1;
    }
    switch (i) {
    case 1:
        return rate_policy_parse_list(r, opt, eq + 1, &r->exempt_rcpt, errs);
    case 2:
        return rate_policy_parse_list(r, opt, eq + 1, &r->exempt_sender, errs);
    case 4:
        return rate_policy_parse_list(r, opt, eq + 1, &r->exempt_auth, errs);
    default:
        break;
    }
    if (rate_policy_parse_list(r, opt, eq + 1, &r->exempt_client_list, errs) < 0)
        return -1;
    {
        /* "csl:": an inline list even when it looks like a path. */
        char *spec = xasprintf("csl:%s", eq + 1);

        snprintf(where, sizeof(where), "%s:%d", r->file, r->line);
        r->exempt_client = netlist_build(spec, where, errs);
        free(spec);
    }
    return r->exempt_client ? 0 : -1;
}

/* rate_policy_rule_clear - release what a rule owns */
static void rate_policy_rule_clear(RATE_RULE *r)
{
    strv_free(&r->exempt_rcpt);
    strv_free(&r->exempt_sender);
    strv_free(&r->exempt_client_list);
    strv_free(&r->exempt_auth);
    netlist_free(r->exempt_client);
    r->exempt_client = NULL;
    free(r->file);
    r->file = NULL;
}

/* rate_policy_parse_line - one rule line into r; -1 after reporting its errors */
static int rate_policy_parse_line(RATE_RULE *r, char *line, const char *file, int lineno, BUF *errs)
{
    char *f[RATE_POLICY_FIELDS_MAX], *save = NULL, *tok;
    size_t nf = 0, i;
    unsigned seen = 0;
    int bad = 0;

    memset(r, 0, sizeof(*r));
    strv_init(&r->exempt_rcpt);
    strv_init(&r->exempt_sender);
    strv_init(&r->exempt_client_list);
    strv_init(&r->exempt_auth);
    r->file = xstrdup(file);
    r->line = lineno;
    r->v4len = 32;
    r->v6len = 128;
    for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
        if (nf == RATE_POLICY_FIELDS_MAX) {
            util_err_at(errs, file, lineno, "too many fields (at most %d options)",
                        RATE_POLICY_FIELDS_MAX - 4);
            return -1;
        }
        f[nf++] = tok;
    }
    if (nf < 4) {
        util_err_at(errs, file, lineno, "missing fields (expected \"name key N/period action "
                    "[option ...]\")");
        return -1;
    }
    if (!rate_policy_name_ok(f[0])) {
        util_err_at(errs, file, lineno, "bad rule name \"%s\" (1 to %d of A-Z a-z 0-9 _ . -)", f[0],
                    RATE_RULE_NAME_MAX - 1);
        bad = 1;
    } else {
        memcpy(r->name, f[0], strlen(f[0]) + 1);
    }
    if (rate_policy_parse_keys(r, f[1], errs) < 0)
        bad = 1;
    if (rate_policy_parse_limit(r, f[2], errs) < 0)
        bad = 1;
    for (i = 0; i < RATE_POLICY_NELEM(rate_policy_actions); i++)
        if (strcmp(f[3], rate_policy_actions[i]) == 0)
            break;
    if (i == RATE_POLICY_NELEM(rate_policy_actions)) {
        util_err_at(errs, file, lineno, "unknown action \"%s\" (expected tempfail, reject, "
                    "quarantine or shadow)", f[3]);
        bad = 1;
    } else {
        r->action = (RATE_ACTION) i;
        if (r->action == RATE_ACTION_SHADOW)
            r->shadow = 1;
    }
    for (i = 4; i < nf; i++)
        if (rate_policy_parse_option(r, f[i], &seen, errs) < 0)
            bad = 1;
    return bad ? -1 : 0;
}

/* rate_policy_free - release a policy */
void rate_policy_free(RATE_POLICY *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->n; i++)
        rate_policy_rule_clear(&p->rule[i]);
    free(p->rule);
    free(p->path);
    free(p);
}

/* rate_policy_load - read a policy file */
RATE_POLICY *rate_policy_load(const char *path, BUF *errs)
{
    char line[DATASET_LINE_MAX + 1];
    enum dataset_line rc;
    RATE_POLICY *p;
    RATE_RULE r;
    int lineno = 0, bad = 0, too_many = 0;
    char why_mem[1200];
    size_t i;
    FILE *fp;
    BUF why;

    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if ((fp = dataset_fopen(path, &why)) == NULL) {
        if (errs != NULL)
            (void) buf_printf(errs, "%s\n", why.data);
        return NULL;
    }
    p = xcalloc(1, sizeof(*p));
    p->path = xstrdup(path);
    while ((rc = dataset_readline(fp, line, sizeof(line))) != DATASET_LINE_EOF) {
        lineno++;
        if (rc == DATASET_LINE_ERR) {
            util_err_at(errs, path, lineno, "read error: %s", strerror(errno));
            bad = 1;
            break;
        }
        if (rc == DATASET_LINE_LONG) {
            util_err_at(errs, path, lineno, "line longer than %d bytes", DATASET_LINE_MAX);
            bad = 1;
            continue;
        }
        if (rc == DATASET_LINE_NUL) {
            util_err_at(errs, path, lineno, "line holds a NUL byte");
            bad = 1;
            continue;
        }
        if (line[0] == 0)
            continue;
        if (rate_policy_parse_line(&r, line, path, lineno, errs) < 0)
            bad = 1;
        for (i = 0; r.name[0] && i < p->n; i++) {
            if (strcmp(p->rule[i].name, r.name) == 0) {
                util_err_at(errs, path, lineno, "duplicate rule name \"%s\" (first at line %d)",
                            r.name, p->rule[i].line);
                bad = 1;
                break;
            }
        }
        if (p->n == RATE_POLICY_RULES_MAX) {
            if (!too_many)
                util_err_at(errs, path, lineno, "too many rules (at most %d)",
                            RATE_POLICY_RULES_MAX);
            too_many = bad = 1;
            rate_policy_rule_clear(&r);
            continue;
        }
        if (p->n % 16 == 0)
            p->rule = xrealloc(p->rule, (p->n + 16) * sizeof(*p->rule));
        p->rule[p->n++] = r;
    }
    (void) fclose(fp);
    if (bad) {
        rate_policy_free(p);
        return NULL;
    }
    return p;
}

/* rate_policy_put - append text to buf (len bytes), cutting it to fit */
static void rate_policy_put(char *buf, size_t len, size_t *at, const char *s)
{
    size_t n = strlen(s);

    if (*at + 1 >= len)
        return;
    if (n > len - 1 - *at)
        n = len - 1 - *at;
    memcpy(buf + *at, s, n);
    *at += n;
    buf[*at] = 0;
}

/* rate_policy_put_list - " name=a,b" */
static void rate_policy_put_list(char *buf, size_t len, size_t *at, const char *name,
                                 const STRV *sv)
{
    size_t i;

    if (sv->n == 0)
        return;
    rate_policy_put(buf, len, at, " ");
    rate_policy_put(buf, len, at, name);
    rate_policy_put(buf, len, at, "=");
    for (i = 0; i < sv->n; i++) {
        if (i)
            rate_policy_put(buf, len, at, ",");
        rate_policy_put(buf, len, at, sv->v[i]);
    }
}

/* rate_policy_describe - the rule in the file's syntax, without its name */
const char *rate_policy_describe(const RATE_RULE *r, char *buf, size_t len)
{
    char tmp[64];
    size_t at = 0, i, nk = 0;

    if (len == 0)
        return buf;
    buf[0] = 0;
    for (i = 0; i < RATE_POLICY_NELEM(rate_policy_keys); i++) {
        if (!(r->keys & rate_policy_keys[i].bit))
            continue;
        if (nk++)
            rate_policy_put(buf, len, &at, ",");
        rate_policy_put(buf, len, &at, rate_policy_keys[i].name);
        if (rate_policy_keys[i].bit == RATE_KEY_CLIENT_IP && (r->v4len != 32 || r->v6len != 128)) {
            if (r->v6len != 128)
                snprintf(tmp, sizeof(tmp), "/%d/%d", r->v4len, r->v6len);
            else
                snprintf(tmp, sizeof(tmp), "/%d", r->v4len);
            rate_policy_put(buf, len, &at, tmp);
        }
    }
    for (i = 0; i < RATE_POLICY_NELEM(rate_policy_units); i++)
        if (r->period_ms % rate_policy_units[i].ms == 0)
            break;
    if (i < RATE_POLICY_NELEM(rate_policy_units))
        snprintf(tmp, sizeof(tmp), " %u/%llu%c", r->limit,
                 (unsigned long long) (r->period_ms / rate_policy_units[i].ms),
                 rate_policy_units[i].unit);
    else
        snprintf(tmp, sizeof(tmp), " %u/%llums", r->limit, (unsigned long long) r->period_ms);
    rate_policy_put(buf, len, &at, tmp);
    rate_policy_put(buf, len, &at, " ");
    rate_policy_put(buf, len, &at, (unsigned) r->action < RATE_POLICY_NELEM(rate_policy_actions)
                    ? rate_policy_actions[r->action] : "?");
    if (r->shadow && r->action != RATE_ACTION_SHADOW)
        rate_policy_put(buf, len, &at, " shadow");
    rate_policy_put_list(buf, len, &at, "exempt-rcpt", &r->exempt_rcpt);
    rate_policy_put_list(buf, len, &at, "exempt-sender", &r->exempt_sender);
    rate_policy_put_list(buf, len, &at, "exempt-client", &r->exempt_client_list);
    rate_policy_put_list(buf, len, &at, "exempt-auth", &r->exempt_auth);
    return buf;
}

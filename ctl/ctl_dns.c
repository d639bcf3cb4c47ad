/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_dns.c - txmilterctl dns-check and genkey
 *
 * SYNOPSIS
 *	txmilterctl [-x CONFIG] dns-check [DOMAIN...]
 *	txmilterctl [-x CONFIG] genkey --domain D --selector S
 *		[--type rsa|ed25519] [--bits N] [--out FILE]
 *
 *	int	ctl_dns_main(const char *config, int argc, char **argv)
 *	int	ctl_dns_txt_rdata(const char *value, BUF *out)
 *	int	ctl_dns_spf_fix(const char *record, const char *const *missing,
 *			size_t nmissing, BUF *out)
 *
 * DESCRIPTION
 *	dns-check compares what the DNS publishes for each domain (default:
 *	every d= domain of the KeyTable) with the configuration, through the
 *	same resolver as the daemon (Nameservers):
 *	SPF	one record, at most 10 DNS-querying terms (RFC 7208 4.6.4),
 *		not truncated by libspf2, and a pass for every EgressAddress;
 *	DKIM	each selector's record present and holding our public key;
 *	DMARC	the policy as RFC 7489 receivers find it (the record here
 *		or at the organisational domain of the public suffix list)
 *		and as RFC 9989 receivers do (the DNS tree walk, psd=, np=,
 *		t=), per DMARCMode, with a warning where they differ;
 *		p=none is a warning, and so are pct, rf and ri in our own
 *		record (RFC 9989 removed them); ctl_dmarc.c words it;
 *	ALIGN	whether mail From the domain can align (DKIM d= the domain
 *		with a published key that is ours, or SPF pass);
 *	RPATH, and SPF and MX of the return-path domain, with ReturnPath
 *		set (ctl_rpath.c).
 *	The rows' status and the records to publish are ctl_dns_row(),
 *	ctl_dns_publish() and ctl_dns_spf() (ctl_dns_int.h), which
 *	ctl_rpath.c shares.
 *	It prints one table row per check, then the exact records to publish
 *	for what is missing or wrong, in zone-file syntax.
 *
 *	genkey writes a new private key (PKCS#8 PEM, mode 0600, never over an
 *	existing file) and prints its DNS record split into strings of at
 *	most 255 bytes, and the KeyTable line that uses it.
 *
 * EXIT STATUS
 *	0 everything checked is right (warnings allowed), 1 something is
 *	missing or wrong, 2 usage or configuration error, 3 a DNS lookup
 *	failed and nothing was found wrong.
 *
 * DIAGNOSTICS
 *	ctl_dns_main() returns the exit status: 0 when every check passes,
 *	1 when one fails, 3 when only DNS trouble kept a check from an
 *	answer, 2 on a usage or configuration error (file:line on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ctl_dmarc.h"
#include "ctl_dns.h"
#include "ctl_dns_int.h"
#include "dmarc_check.h"
#include "dmarc_rec.h"
#include "dmarc_walk.h"
#include "dns.h"
#include "fmt.h"
#include "keycheck.h"
#include "keys.h"
#include "preflight.h"
#include "snapshot.h"
#include "spf_check.h"

#define CTL_EGRESS_MAX 64

/* ctl_dns_txt_rdata - quoted strings of at most 255 bytes */
int ctl_dns_txt_rdata(const char *value, BUF *out)
{
    size_t len = strlen(value), i = 0;

    if (len == 0)
        return buf_puts(out, "\"\"");
    while (i < len) {
        size_t n = len - i > 255 ? 255 : len - i;

        if (buf_puts(out, i ? " \"" : "\"") < 0)
            return -1;
        for (size_t k = 0; k < n; k++) {
            char c = value[i + k];

            if ((c == '"' || c == '\\') && buf_append(out, "\\", 1) < 0)
                return -1;
            if (buf_append(out, &c, 1) < 0)
                return -1;
        }
        if (buf_puts(out, "\"") < 0)
            return -1;
        i += n;
    }
    return 0;
}

/* ctl_dns_spf_fix - add our addresses to a record, or make one */
int ctl_dns_spf_fix(const char *record, const char *const *missing, size_t nmissing, BUF *out)
{
    if (buf_puts(out, "v=spf1") < 0)
        return -1;
    for (size_t i = 0; i < nmissing; i++)
        if (buf_printf(out, " %s:%s", strchr(missing[i], ':') ? "ip6" : "ip4", missing[i]) < 0)
            return -1;
    if (record == NULL)
        return buf_puts(out, " -all");
    return buf_puts(out, record + 6);        /* after "v=spf1": the rest as published */
}

/* ctl_dns_row - one table row */
void ctl_dns_row(CTL_REPORT *r, const char *domain, const char *check, int status, const char *fmt, ...)
{
    static const char *const names[] = {"ok", "WARN", "FAIL", "DNSERR"};
    char detail[1200];
    va_list ap;

    va_start(ap, fmt);
    (void) vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    printf("%-28s %-6s %-7s %s\n", domain, check, names[status], detail);
    if (status == CTL_FAIL)
        r->worst_fail = 1;
    if (status == CTL_DNSERR) {
        r->dns_errors = 1;
        r->ndns++;
    }
}

/* ctl_dns_publish - "name. IN TXT rdata" to the records to publish */
void ctl_dns_publish(CTL_REPORT *r, const char *name, const char *value, const char *comment)
{
    (void) buf_printf(&r->publish, "; %s\n%s. IN TXT ", comment, name);
    (void) ctl_dns_txt_rdata(value, &r->publish);
    (void) buf_puts(&r->publish, "\n");
}

/* ctl_dns_spf - SPF of domain for every egress address; 1 if it passes for all */
int ctl_dns_spf(CTL_REPORT *r, const TXCONF *cf, const char *domain)
{
    DNS_ANSWER a;
    char err_mem[400], *record = NULL;
    const char *missing[CTL_EGRESS_MAX];
    size_t nmissing = 0;
    int idx, tempfail, count, all_pass = 1;
    BUF err;

    if (cf->align.egress.n == 0) {
        ctl_dns_row(r, domain, "SPF", CTL_WARN, "not checked: no EgressAddress in the configuration");
        return 0;
    }
    dns_lookup(NULL, domain, 16, &a);
    if (a.status == DNS_TEMPFAIL) {
        ctl_dns_row(r, domain, "SPF", CTL_DNSERR, "%s: %s", domain, a.why);
        dns_answer_free(&a);
        return 0;
    }
    idx = spf_check_find_record(&a);
    if (idx == -2) {
        ctl_dns_row(r, domain, "SPF", CTL_FAIL, "several SPF records: receivers get permerror; merge them");
        dns_answer_free(&a);
        return 0;
    }
    if (idx >= 0)
        record = xstrdup(a.rec[idx]);
    dns_answer_free(&a);
    if (record) {
        buf_init_fixed(&err, err_mem, sizeof(err_mem));
        count = spf_check_count_lookups(dns_lookup, NULL, domain, &tempfail, &err);
        if (count < 0)
            ctl_dns_row(r, domain, "SPF", tempfail ? CTL_DNSERR : CTL_FAIL, "%s", err.data);
        else if (count > 10)
            ctl_dns_row(r, domain, "SPF", CTL_FAIL, "%d DNS-querying terms (include, a, mx, ptr, exists, "
                    "redirect): over the limit of 10, receivers get permerror", count);
    }
    for (size_t i = 0; i < cf->align.egress.n; i++) {
        SPF_CHECK_OUTCOME o;

        spf_check_host(cf->align.egress.v[i], domain, domain, &o);
        if (o.result == SPF_CHECK_PASS)
            continue;
        all_pass = 0;
        if (o.result == SPF_CHECK_TEMPERROR) {
            ctl_dns_row(r, domain, "SPF", CTL_DNSERR, "%s: %s", cf->align.egress.v[i], o.reason);
        } else {
            ctl_dns_row(r, domain, "SPF", CTL_FAIL, "%s: %s (%s)", cf->align.egress.v[i], spf_check_result_str(o.result),
                    o.reason);
            if (o.result != SPF_CHECK_PERMERROR && nmissing < CTL_EGRESS_MAX)
                missing[nmissing++] = cf->align.egress.v[i];
        }
    }
    if (all_pass)
        ctl_dns_row(r, domain, "SPF", CTL_OK, "pass for %zu EgressAddress%s", cf->align.egress.n,
                cf->align.egress.n == 1 ? "" : "es");
    if (nmissing) {
        BUF fix;

        buf_init(&fix, 4096);
        if (ctl_dns_spf_fix(record, missing, nmissing, &fix) == 0)
            ctl_dns_publish(r, domain, fix.data, record ? "SPF: the record with our EgressAddresses added"
                        : "SPF: no record yet");
        buf_free(&fix);
    }
    free(record);
    return all_pass;
}

/* ctl_check_dkim - each selector of domain; returns how many match */
static int ctl_check_dkim(CTL_REPORT *r, SNAPSHOT *snap, const char *domain)
{
    size_t n;
    const KEYTABLE_KEY *k = keytable_keys(snap->kt, &n);
    int good = 0, any = 0;

    for (size_t i = 0; i < n; i++) {
        char why_mem[400], name[600];
        unsigned ttl;
        KEYCHECK_STATUS st;
        BUF why;

        if (strcasecmp(k[i].domain, domain) != 0)
            continue;
        any = 1;
        if (snap->keys[i] == NULL) {
            ctl_dns_row(r, domain, "DKIM", CTL_WARN, "%s: key path holds %%: not checked", k[i].selector);
            continue;
        }
        buf_init_fixed(&why, why_mem, sizeof(why_mem));
        st = keycheck_published(dns_lookup, NULL, domain, k[i].selector, snap->keys[i], &ttl, &why);
        fmt_trunc(name, sizeof(name), "%s._domainkey.%s", k[i].selector, domain);
        if (st == KEYCHECK_MATCH) {
            good++;
            ctl_dns_row(r, domain, "DKIM", CTL_OK, "%s: %s key matches %s", name,
                    snap->keys[i]->type == KEYS_ED25519 ? "ed25519" : "rsa", snap->keys[i]->origin);
        } else if (st == KEYCHECK_TEMPFAIL) {
            ctl_dns_row(r, domain, "DKIM", CTL_DNSERR, "%s", why.data);
        } else {
            char *rec = keys_dns_record(snap->keys[i]);

            ctl_dns_row(r, domain, "DKIM", CTL_FAIL, "%s: %s", keycheck_str(st), why.data);
            ctl_dns_publish(r, name, rec, st == KEYCHECK_MISSING ? "DKIM: key not published"
                        : "DKIM: replace the published record with this one");
            free(rec);
        }
    }
    if (!any)
        ctl_dns_row(r, domain, "DKIM", CTL_WARN, "no KeyTable entry signs with d=%s", domain);
    return good;
}

/* ctl_dmarc_row - one generation's DMARC row; 1 when it found a policy */
static int ctl_dmarc_row(CTL_REPORT *r, const char *domain, const char *gen, DMARC_CHECK_STATUS st,
                         DMARC_CHECK_POLICY policy, const char *view)
{
    switch (st) {
    case DMARC_CHECK_FOUND:
        ctl_dns_row(r, domain, "DMARC", policy == DMARC_CHECK_P_NONE ? CTL_WARN : CTL_OK, "%s: %s%s", gen, view,
                policy == DMARC_CHECK_P_NONE
                ? ": receivers act on nothing; move to quarantine once reports are clean" : "");
        return 1;
    case DMARC_CHECK_TEMPFAIL:
        ctl_dns_row(r, domain, "DMARC", CTL_DNSERR, "%s: %s", gen, view);
        return 0;
    case DMARC_CHECK_NONE:
        ctl_dns_row(r, domain, "DMARC", CTL_FAIL, "%s: %s (Gmail and Yahoo require one from bulk senders)", gen, view);
        return 0;
    default:
        ctl_dns_row(r, domain, "DMARC", CTL_FAIL, "%s: %s", gen, view);
        return 0;
    }
}

/* ctl_dmarc_published - the one DMARC record at _dmarc.name into out
 * ("" when there is none, or several) */
static void ctl_dmarc_published(const char *name, char *out, size_t len)
{
    char q[ORGDOMAIN_MAX + 8];
    DNS_ANSWER a;
    int found = 0;

    out[0] = 0;
    fmt_trunc(q, sizeof(q), "_dmarc.%s", name);
    dns_lookup(NULL, q, 16, &a);
    for (size_t i = 0; a.status == DNS_OK && i < a.n; i++)
        if (dmarc_rec_is_dmarc(a.rec[i]) && found++ == 0)
            util_strlcpy(out, a.rec[i], len);
    if (found > 1)
        out[0] = 0;
    dns_answer_free(&a);
}

/* ctl_dmarc_hygiene - the tags RFC 9989 removed, in the domain's own
 * record (not a public suffix domain's): a warning and the record
 * without them */
static void ctl_dmarc_hygiene(CTL_REPORT *r, const char *domain, const char *record_domain)
{
    char rec[DNS_TXT_MAX], removed[64], name[ORGDOMAIN_MAX + 8];
    BUF fixed;

    ctl_dmarc_published(record_domain, rec, sizeof(rec));
    if (rec[0] == 0)
        return;
    buf_init(&fixed, sizeof(rec) + 16);
    if (ctl_dmarc_rfc9989(rec, &fixed, removed, sizeof(removed)) > 0) {
        ctl_dns_row(r, domain, "DMARC", CTL_WARN, "_dmarc.%s has %s: RFC 9989 removed %s, its receivers ignore "
                "them", record_domain, removed, strchr(removed, ',') ? "these tags" : "this tag");
        fmt_trunc(name, sizeof(name), "_dmarc.%s", record_domain);
        ctl_dns_publish(r, name, fixed.data, "DMARC: the record the RFC 9989 way (pct=0 is t=y there; "
                    "rf and ri are gone)");
    }
    buf_free(&fixed);
}

/* ctl_check_dmarc - the policy as RFC 7489 and RFC 9989 receivers find it
 * (DMARCMode says which); returns 1 when one is found */
static int ctl_check_dmarc(CTL_REPORT *r, const TXCONF *cf, const char *domain, int can_align)
{
    enum conf_dmarc_mode mode = cf->align.dmarc_mode;
    DMARC_CHECK dm;
    DMARC_WALK w;
    char rec[300], view[900], name[ORGDOMAIN_MAX + 8];
    const char *own = NULL, *org;
    int found = 0, missing = 0;
    BUF how;

    memset(&dm, 0, sizeof(dm));
    memset(&w, 0, sizeof(w));
    if (mode != CONF_DMARC_9989) {
        dmarc_check_discover(dns_lookup, NULL, domain, &dm);
        ctl_dmarc_view7489(&dm, view, sizeof(view));
        found |= ctl_dmarc_row(r, domain, "RFC 7489", dm.status, dm.policy, view);
        missing |= dm.status != DMARC_CHECK_FOUND && dm.status != DMARC_CHECK_TEMPFAIL;
        if (dm.status == DMARC_CHECK_FOUND)
            own = dm.record_domain;
    }
    if (mode != CONF_DMARC_7489) {
        dmarc_walk_discover(dns_lookup, NULL, domain, &w);
        ctl_dmarc_view9989(&w, view, sizeof(view));
        found |= ctl_dmarc_row(r, domain, "RFC 9989", w.status, w.policy, view);
        missing |= w.status != DMARC_CHECK_FOUND && w.status != DMARC_CHECK_TEMPFAIL;
        if (own == NULL && w.status == DMARC_CHECK_FOUND && w.rec.psd != 'y')
            own = w.record_domain;
    }
    if (mode == CONF_DMARC_BOTH && ctl_dmarc_differ(&dm, &w, buf_init_fixed(&how, view, sizeof(view))))
        ctl_dns_row(r, domain, "DMARC", CTL_WARN, "receivers differ: %s", how.data);
    if (own)
        ctl_dmarc_hygiene(r, domain, own);
    if (!missing)
        return found;
    /* No rua=, no pct, rf, ri (RFC 9989): an address we made up may not
     * exist; the comment says how to add one. */
    fmt_trunc(rec, sizeof(rec), "v=DMARC1; p=%s; adkim=r; aspf=r", can_align ? "quarantine" : "none");
    org = dm.org_domain[0] ? dm.org_domain : w.status == DMARC_CHECK_NONE && w.org_domain[0] ? w.org_domain
        : domain;
    fmt_trunc(name, sizeof(name), "_dmarc.%s", org);
    ctl_dns_publish(r, name, rec, dm.status == DMARC_CHECK_NONE || w.status == DMARC_CHECK_NONE
                ? "DMARC: no record yet (add rua=mailto:ADDRESS, a mailbox you read, for aggregate reports)"
                : "DMARC: replace the published record(s) with this one (add rua=mailto:ADDRESS, "
                  "a mailbox you read, for aggregate reports)");
    return found;
}

/* ctl_domains - the d= domains of the KeyTable, without duplicates */
static void ctl_domains(SNAPSHOT *snap, STRV *out)
{
    size_t n;
    const KEYTABLE_KEY *k = keytable_keys(snap->kt, &n);

    for (size_t i = 0; i < n; i++)
        if (keytable_domain_safe(k[i].domain) && !strv_contains_ci(out, k[i].domain))
            strv_add(out, k[i].domain);
}

/* ctl_dns_check - dns-check [DOMAIN...] */
static int ctl_dns_check(const char *config, int argc, char **argv)
{
    CTL_REPORT r;
    SNAPSHOT *snap;
    BUF errs;
    STRV domains, rp_done;
    int rc;

    buf_init(&errs, 64 * 1024);
    if ((snap = snapshot_build(config, &errs)) == NULL) {
        fputs(errs.data ? errs.data : "configuration error\n", stderr);
        buf_free(&errs);
        return 2;
    }
    buf_reset(&errs);
    if (preflight_start(snap->cf, &errs) < 0) {
        fputs(errs.data ? errs.data : "cannot start the resolver\n", stderr);
        buf_free(&errs);
        snapshot_release(snap);
        return 2;
    }
    buf_free(&errs);
    strv_init(&domains);
    for (int i = 1; i < argc; i++) {
        char d[ORGDOMAIN_MAX];

        if (orgdomain_normalise(argv[i], d, sizeof(d)) < 0 || !keytable_domain_safe(d)) {
            fprintf(stderr, "txmilterctl: dns-check: \"%s\" is not a domain name\n", argv[i]);
            strv_free(&domains);
            snapshot_release(snap);
            preflight_shutdown();
            return 2;
        }
        strv_add(&domains, d);
    }
    if (domains.n == 0)
        ctl_domains(snap, &domains);
    if (domains.n == 0) {
        fprintf(stderr, "txmilterctl: dns-check: no domain given and none in the KeyTable\n");
        strv_free(&domains);
        snapshot_release(snap);
        preflight_shutdown();
        return 2;
    }
    memset(&r, 0, sizeof(r));
    strv_init(&rp_done);
    buf_init(&r.publish, 256 * 1024);
    printf("%-28s %-6s %-7s %s\n", "DOMAIN", "CHECK", "STATUS", "DETAIL");
    for (size_t i = 0; i < domains.n; i++) {
        const char *d = domains.v[i];
        int ndns = r.ndns;
        int spf = ctl_dns_spf(&r, snap->cf, d);
        int dkim = ctl_check_dkim(&r, snap, d);

        (void) ctl_check_dmarc(&r, snap->cf, d, spf || dkim);
        /* Without alignment DMARC fails whether or not a record exists yet;
         * with DNS trouble nothing can be said either way. */
        if (spf || dkim)
            ctl_dns_row(&r, d, "ALIGN", CTL_OK, "From %s can align:%s%s", d, dkim ? " DKIM" : "",
                    spf ? " SPF" : "");
        else if (r.ndns > ndns)
            ctl_dns_row(&r, d, "ALIGN", CTL_DNSERR, "From %s: alignment could not be checked (DNS trouble, "
                    "see above)", d);
        else
            ctl_dns_row(&r, d, "ALIGN", CTL_FAIL, "From %s cannot align: no published key "
                    "of ours and no SPF pass for every EgressAddress", d);
        ctl_rpath_check(&r, snap->cf, d, &rp_done);
    }
    if (r.publish.len) {
        printf("\nRecords to publish (zone-file syntax; strings of at most 255 bytes):\n%s", r.publish.data);
    }
    rc = r.worst_fail ? 1 : r.dns_errors ? 3 : 0;
    buf_free(&r.publish);
    strv_free(&rp_done);
    strv_free(&domains);
    snapshot_release(snap);
    preflight_shutdown();
    return rc;
}

/* ctl_name_ok - a selector or domain: letters, digits, '-', '_', '.' */
static int ctl_name_ok(const char *s)
{
    return *s && strlen(s) < 200 && s[0] != '.' && s[0] != '-'
        && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == strlen(s);
}

/* ctl_write_key - generate and write a key (0600, never over a file) */
static int ctl_write_key(const char *path, int ed25519, int bits)
{
    EVP_PKEY *pkey = ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
        : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
    FILE *fp;
    int fd, ok;

    if (pkey == NULL) {
        fprintf(stderr, "txmilterctl: genkey: OpenSSL cannot generate the key\n");
        return -1;
    }
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        fprintf(stderr, "txmilterctl: genkey: %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (an existing key is never overwritten)" : "");
        EVP_PKEY_free(pkey);
        return -1;
    }
    if (fchmod(fd, 0600) < 0 || (fp = fdopen(fd, "w")) == NULL) {
        fprintf(stderr, "txmilterctl: genkey: %s: %s\n", path, strerror(errno));
        close(fd);
        unlink(path);
        EVP_PKEY_free(pkey);
        return -1;
    }
    ok = PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL) == 1;
    ok = (fclose(fp) == 0) && ok;
    EVP_PKEY_free(pkey);
    if (!ok) {
        fprintf(stderr, "txmilterctl: genkey: cannot write %s\n", path);
        unlink(path);
        return -1;
    }
    return 0;
}

/* What genkey says when no --out was given: the key landed where we stand. */
#define WHERE " in the current directory (no --out given; move it to where the KeyTable points)"

/* ctl_genkey - genkey --domain D --selector S [--type T] [--bits N] [--out F] */
static int ctl_genkey(int argc, char **argv)
{
    static const struct option opts[] = {
        {"domain", required_argument, NULL, 'd'}, {"selector", required_argument, NULL, 's'},
        {"type", required_argument, NULL, 't'}, {"bits", required_argument, NULL, 'b'},
        {"out", required_argument, NULL, 'o'}, {NULL, 0, NULL, 0},
    };
    const char *domain = NULL, *selector = NULL, *type = "rsa", *out = NULL, *bits_arg = NULL;
    char path[4096], name[600], *abs, *rec;
    int c, bits = 2048, ed;
    BUF errs, rdata;
    KEYS_KEY *key;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': domain = optarg; break;
        case 's': selector = optarg; break;
        case 't': type = optarg; break;
        case 'b': bits_arg = optarg; break;
        case 'o': out = optarg; break;
        default: return 2;
        }
    }
    if (domain == NULL || selector == NULL || optind != argc) {
        fprintf(stderr, "txmilterctl: genkey needs --domain D --selector S\n");
        return 2;
    }
    if (!ctl_name_ok(domain) || !ctl_name_ok(selector)) {
        fprintf(stderr, "txmilterctl: genkey: bad domain or selector name\n");
        return 2;
    }
    if (strcasecmp(type, "rsa") != 0 && strcasecmp(type, "ed25519") != 0) {
        fprintf(stderr, "txmilterctl: genkey: --type is rsa or ed25519\n");
        return 2;
    }
    ed = strcasecmp(type, "ed25519") == 0;
    if (bits_arg) {
        char *end;
        long v = strtol(bits_arg, &end, 10);

        if (ed || *end || v < 1024 || v > 8192) {
            fprintf(stderr, "txmilterctl: genkey: --bits is for RSA keys, from 1024 to 8192 "
                    "(2048 recommended, RFC 8301)\n");
            return 2;
        }
        bits = (int) v;
    }
    if (out == NULL)
        fmt_trunc(path, sizeof(path), "%s.%s.%s.pem", selector, domain, ed ? "ed25519" : "rsa");
    else
        util_strlcpy(path, out, sizeof(path));
    if (ctl_write_key(path, ed, bits) < 0)
        return 1;
    buf_init(&errs, 4096);
    if ((key = keys_load_file(path, &errs)) == NULL) {
        fprintf(stderr, "txmilterctl: genkey: the new key does not load: %s", errs.data ? errs.data : "\n");
        buf_free(&errs);
        return 1;
    }
    buf_free(&errs);
    abs = realpath(path, NULL);
    rec = keys_dns_record(key);
    buf_init(&rdata, 64 * 1024);
    (void) ctl_dns_txt_rdata(rec, &rdata);
    fmt_trunc(name, sizeof(name), "%s._domainkey.%s", selector, domain);
    if (ed)
        printf("wrote %s (ed25519, mode 0600)%s\n\n", abs ? abs : path, out ? "" : WHERE);
    else
        printf("wrote %s (rsa %d bits, mode 0600)%s\n\n", abs ? abs : path, bits, out ? "" : WHERE);
    printf("; publish in DNS (zone-file syntax):\n%s. IN TXT %s\n\n", name, rdata.data);
    printf("; KeyTable line:\n%s %s:%s:%s\n", name, domain, selector, abs ? abs : path);
    free(rec);
    free(abs);
    buf_free(&rdata);
    keys_free(key);
    return 0;
}

/* ctl_dns_main - dispatch */
int ctl_dns_main(const char *config, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "dns-check") == 0)
        return ctl_dns_check(config, argc, argv);
    if (argc >= 1 && strcmp(argv[0], "genkey") == 0)
        return ctl_genkey(argc, argv);
    return 2;
}

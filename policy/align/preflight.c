/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preflight.c - will receivers find this outbound message DMARC-aligned?
 *
 * SYNOPSIS
 *	#include "preflight.h"
 *
 *	void	preflight_check(const TXCONF *cf, const PREFLIGHT_MSG *in,
 *			ALIGN_OUTCOME *out)
 *	int	preflight_init(const TXCONF *cf)
 *	int	preflight_start(const TXCONF *cf, BUF *errs)
 *	void	preflight_shutdown(void)
 *	int	preflight_config_check(const TXCONF *cf, BUF *errs)
 *
 * DESCRIPTION
 *	The preflight is off unless EgressAddress or AlignmentAction is
 *	configured: a signing-only relay sends no DNS query because of it.
 *	AlignmentAction defaults to log when only EgressAddress is set.
 *
 *	preflight_check() gathers the facts and lets align_decide() judge:
 *	the DMARC policy of the From domain (dmarc_check.c), for each
 *	signature txmilter adds whether the selector's published key is ours
 *	(keycheck.c), and SPF of the MAIL FROM domain (HELO name for <>) from
 *	each EgressAddress (spf_check.c). The DMARC records and DKIM keys
 *	are asked of the resolver the caller hands over (in->dns: the
 *	program's SERVICES, a table in the unit tests); SPF goes through
 *	libspf2's DNS layer (dns_spf.c), which carries no context of ours and
 *	uses the process's resolver. Each fact is cached (pfcache.c) for
 *	as long as the DNS answers behind it allow (at most an hour), so a
 *	warm cache costs a few hash lookups per message. The DNS work of one
 *	message gets twice DNSTimeout in all (dns_budget_begin()), which
 *	stays below Postfix's 30 s milter command timeout by default.
 *
 *	Warnings (no DMARC record, a p=none failure, a published key that
 *	is not ours, AlignmentAction log or quarantine) are logged on a line
 *	of their own; the verdict and reasons go into the message's summary.
 *
 *	preflight_init() (daemon, before threads) and preflight_start()
 *	create the process-wide resolver (dns.c), load the public suffix list
 *	(orgdomain.c) and the SPF server. preflight_check() does the same
 *	lazily for `txmilter -t`, which runs without the daemon.
 *
 * DIAGNOSTICS
 *	preflight_init() and preflight_start() return -1 when the
 *	resolver, the public suffix list or the SPF server cannot start
 *	(logged, or in errs). preflight_config_check() returns -1 with
 *	"file:line: message" lines in errs. DNS trouble in
 *	preflight_check() follows On-DNSError, never a pass.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include "align.h"
#include "dns.h"
#include "fmt.h"
#include "log.h"
#include "orgdomain.h"
#include "pfcache.h"
#include "preflight.h"
#include "spf_check.h"

#define PREFLIGHT_MAX_TTL 3600          /* reuse a fact at most this long */

static pthread_mutex_t preflight_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int preflight_started;
static atomic_int preflight_managed;    /* the daemon calls preflight_shutdown() itself */

/* preflight_start - resolver, suffix list, SPF server */
int preflight_start(const TXCONF *cf, BUF *errs)
{
    DNS_SETTINGS ds = conf_dns(cf);
    int rc = 0;

    pthread_mutex_lock(&preflight_lock);
    if (!atomic_load(&preflight_started)) {
        if (dns_init(&ds, errs) < 0 || orgdomain_init(cf->align.public_suffix_list, errs) < 0
            || spf_check_init(errs) < 0)
            rc = -1;
        else
            atomic_store(&preflight_started, 1);
    }
    pthread_mutex_unlock(&preflight_lock);
    return rc;
}

/* preflight_init - the daemon's start-up call */
int preflight_init(const TXCONF *cf)
{
    BUF errs;
    int rc = 0;

    atomic_store(&preflight_managed, 1);
    if (!conf_preflight(cf))
        return 0;
    buf_init(&errs, 4096);
    if (preflight_start(cf, &errs) < 0) {
        char *line, *save = NULL;

        for (line = strtok_r(errs.data ? errs.data : "", "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            log_err("alignment preflight: %s", line);
        rc = -1;
    }
    buf_free(&errs);
    return rc;
}

void preflight_shutdown(void)
{
    pthread_mutex_lock(&preflight_lock);
    spf_check_shutdown();
    dns_shutdown();
    orgdomain_shutdown();
    pfcache_clear();
    atomic_store(&preflight_started, 0);
    pthread_mutex_unlock(&preflight_lock);
}

/* preflight_config_check - files readable; restart-only changes noted */
int preflight_config_check(const TXCONF *cf, BUF *errs)
{
    char where[1024], why[256];
    DNS_SETTINGS ds;
    int rc = 0;

    if (!conf_preflight(cf))
        return 0;
    /* The libraries open these by name: check them the way our own
     * readers open files, so that a FIFO is refused here, not read there. */
    if (util_check_file(cf->align.public_suffix_list, why, sizeof(why)) < 0) {
        conf_where(cf, "PublicSuffixList", where, sizeof(where));
        buf_printf(errs, "%s: PublicSuffixList %s: %s (Debian package publicsuffix)\n", where,
                   cf->align.public_suffix_list, why);
        rc = -1;
    }
    if (cf->align.trust_anchor_file && util_check_file(cf->align.trust_anchor_file, why, sizeof(why)) < 0) {
        conf_where(cf, "TrustAnchorFile", where, sizeof(where));
        buf_printf(errs, "%s: TrustAnchorFile %s: %s (Debian package dns-root-data)\n", where,
                   cf->align.trust_anchor_file, why);
        rc = -1;
    }
    if (cf->align.egress.n == 0)
        log_warn("%s: AlignmentAction without EgressAddress: SPF is not evaluated, "
                 "only DKIM can align", cf->path ? cf->path : "configuration");
    ds = conf_dns(cf);
    dns_check_config(&ds);
    return rc;
}

/* preflight_cap - a TTL within our limit */
static unsigned preflight_cap(unsigned ttl)
{
    return ttl > PREFLIGHT_MAX_TTL ? PREFLIGHT_MAX_TTL : ttl;
}

/* preflight_dmarc - the From domain's policy, cached */
static void preflight_dmarc(const DNS_RESOLVER *dns, const char *from, DMARC_CHECK *dm)
{
    char key[ORGDOMAIN_MAX + 16];

    fmt_trunc(key, sizeof(key), "dmarc|%s", from);
    if (pfcache_get(key, dm, sizeof(*dm)))
        return;
    dmarc_check_discover(dns->lookup, dns->ctx, from, dm);
    if (dm->status != DMARC_CHECK_TEMPFAIL)
        pfcache_put(key, dm, sizeof(*dm), preflight_cap(dm->ttl));
}

/* preflight_spki_hash - which key (FNV-1a 64 of the public key) */
static unsigned long long preflight_spki_hash(const KEYS_KEY *k)
{
    unsigned long long h = 14695981039346656037ULL;

    for (size_t i = 0; i < k->spki_len; i++)
        h = (h ^ k->spki[i]) * 1099511628211ULL;
    return h;
}

/* preflight_key - is the selector's published key ours? cached */
static void preflight_key(const DNS_RESOLVER *dns, const PREFLIGHT_SIG *in, ALIGN_SIG *s)
{
    struct { KEYCHECK_STATUS st; char why[sizeof(s->key_why)]; } v;
    char key[ORGDOMAIN_MAX + 200];
    unsigned ttl = 0;

    util_strlcpy(s->domain, in->domain, sizeof(s->domain));
    util_strlcpy(s->selector, in->selector, sizeof(s->selector));
    fmt_trunc(key, sizeof(key), "key|%s|%s|%016llx", in->domain, in->selector,
              preflight_spki_hash(in->key));
    if (!pfcache_get(key, &v, sizeof(v))) {
        memset(&v, 0, sizeof(v));
        v.st = keycheck_published(dns->lookup, dns->ctx, in->domain, in->selector, in->key, &ttl,
                                  v.why, sizeof(v.why));
        if (v.st != KEYCHECK_TEMPFAIL)
            pfcache_put(key, &v, sizeof(v), preflight_cap(ttl));
    }
    s->key = v.st;
    memcpy(s->key_why, v.why, sizeof(s->key_why));
}

/* preflight_spf - SPF from each egress address, cached */
static void preflight_spf(const TXCONF *cf, const PREFLIGHT_MSG *in, ALIGN_FACTS *f)
{
    if (cf->align.egress.n == 0) {
        f->spf_state = ALIGN_SPF_NO_EGRESS;
        return;
    }
    if (spf_check_sender_domain(in->mail_from, in->helo, f->spf_domain, sizeof(f->spf_domain),
                                &f->spf_is_helo) < 0) {
        f->spf_state = ALIGN_SPF_NO_DOMAIN;
        return;
    }
    /* An identity that does not align cannot help DMARC: not evaluated. */
    if (!orgdomain_aligned(f->spf_domain, in->from_domain ? in->from_domain : "",
                           f->dmarc.status == DMARC_CHECK_FOUND && f->dmarc.aspf_strict)) {
        f->spf_state = ALIGN_SPF_UNALIGNED;
        return;
    }
    for (size_t i = 0; i < cf->align.egress.n && f->nspf < ALIGN_MAX_EGRESS; i++) {
        ALIGN_SPF *s = &f->spf[f->nspf++];
        SPF_CHECK_OUTCOME o;
        char key[ORGDOMAIN_MAX * 2 + 100];

        util_strlcpy(s->ip, cf->align.egress.v[i], sizeof(s->ip));
        fmt_trunc(key, sizeof(key), "spf|%s|%s|%s", s->ip, f->spf_domain, in->helo ? in->helo : "");
        if (!pfcache_get(key, &o, sizeof(o))) {
            spf_check_host(s->ip, f->spf_domain, in->helo, &o);
            if (o.result != SPF_CHECK_TEMPERROR)
                pfcache_put(key, &o, sizeof(o), preflight_cap(o.ttl));
        }
        s->result = o.result;
        util_strlcpy(s->why, o.reason, sizeof(s->why));
    }
}

/* preflight_lazy_init - first use outside the daemon (txmilter -t): start,
 * and stop again at exit so that nothing runs while the process ends. */
static int preflight_lazy_init(const TXCONF *cf)
{
    int managed = atomic_load(&preflight_managed);

    if (preflight_init(cf) < 0)
        return -1;
    if (!managed) {
        atomic_store(&preflight_managed, 1);
        (void) atexit(preflight_shutdown);
    }
    return 0;
}

/* preflight_check - one message */
void preflight_check(const TXCONF *cf, const PREFLIGHT_MSG *in, ALIGN_OUTCOME *out)
{
    const DNS_RESOLVER *dns = in->dns ? in->dns : dns_resolver();
    ALIGN_FACTS *f;
    ALIGN_DECISION d;

    memset(out, 0, sizeof(*out));
    if (!conf_preflight(cf))
        return;
    if (!atomic_load(&preflight_started) && preflight_lazy_init(cf) < 0) {
        /* No resolver: as DNS trouble. */
        fmt_trunc(out->summary, sizeof(out->summary), "preflight=temperror reasons=\"resolver unavailable\"");
        out->verdict = "temperror";
        if (cf->align.on_dnserror == CONF_ACT_TEMPFAIL)
            out->refuse = ALIGN_REFUSE_NO_DNS;
        return;
    }
    f = xcalloc(1, sizeof(*f));
    dns_budget_begin(2 * cf->align.dns_timeout);
    preflight_dmarc(dns, in->from_domain ? in->from_domain : "", &f->dmarc);
    if (f->dmarc.status != DMARC_CHECK_TEMPFAIL) {
        for (size_t i = 0; i < in->nsig && f->nsig < ALIGN_MAX_SIG; i++)
            preflight_key(dns, &in->sig[i], &f->sig[f->nsig++]);
        preflight_spf(cf, in, f);
    }
    dns_budget_end();
    align_decide(f, conf_align_action(cf), cf->align.on_dnserror, &d, out);
    if (d.warn)
        log_warn("%s: alignment preflight: %s", in->qid ? in->qid : "NOQUEUE", d.warning);
    free(f);
}

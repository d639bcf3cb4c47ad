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
 *	the DMARC policy of the From domain, as RFC 7489 finds it
 *	(dmarc_check.c, the public suffix list) and as RFC 9989 does
 *	(dmarc_walk.c, the DNS tree walk, which also decides relaxed
 *	alignment of d= and the SPF domain), per DMARCMode; with both
 *	(the default) the stricter outcome counts, and the verdict names
 *	both generations when they differ (align_gen.c). For each
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
#include "align_gen.h"
#include "dmarc_walk.h"
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
    char where[1024], why_mem[256];
    DNS_SETTINGS ds;
    int rc = 0;
    BUF why;

    if (!conf_preflight(cf))
        return 0;
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    /* The libraries open these by name: check them the way our own
     * readers open files, so that a FIFO is refused here, not read there. */
    if (util_check_file(cf->align.public_suffix_list, &why) < 0) {
        conf_where(cf, "PublicSuffixList", where, sizeof(where));
        buf_printf(errs, "%s: PublicSuffixList %s: %s (Debian package publicsuffix)\n", where,
                   cf->align.public_suffix_list, why.data);
        rc = -1;
    }
    buf_reset(&why);
    if (cf->align.trust_anchor_file && util_check_file(cf->align.trust_anchor_file, &why) < 0) {
        conf_where(cf, "TrustAnchorFile", where, sizeof(where));
        buf_printf(errs, "%s: TrustAnchorFile %s: %s (Debian package dns-root-data)\n", where,
                   cf->align.trust_anchor_file, why.data);
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

/* preflight_walk - the From domain's RFC 9989 policy by tree walk, cached */
static void preflight_walk(const DNS_RESOLVER *dns, const char *from, DMARC_WALK *w)
{
    char key[ORGDOMAIN_MAX + 16];

    fmt_trunc(key, sizeof(key), "walk|%s", from);
    if (pfcache_get(key, w, sizeof(*w)))
        return;
    dmarc_walk_discover(dns->lookup, dns->ctx, from, w);
    if (w->status != DMARC_CHECK_TEMPFAIL)
        pfcache_put(key, w, sizeof(*w), preflight_cap(w->ttl));
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
    BUF why;

    util_strlcpy(s->domain, in->domain, sizeof(s->domain));
    util_strlcpy(s->selector, in->selector, sizeof(s->selector));
    fmt_trunc(key, sizeof(key), "key|%s|%s|%016llx", in->domain, in->selector,
              preflight_spki_hash(in->key));
    if (!pfcache_get(key, &v, sizeof(v))) {
        memset(&v, 0, sizeof(v));
        buf_init_fixed(&why, v.why, sizeof(v.why));
        v.st = keycheck_published(dns->lookup, dns->ctx, in->domain, in->selector, in->key, &ttl,
                                  &why);
        if (v.st != KEYCHECK_TEMPFAIL)
            pfcache_put(key, &v, sizeof(v), preflight_cap(ttl));
    }
    s->key = v.st;
    memcpy(s->key_why, v.why, sizeof(s->key_why));
}

/* preflight_spf - SPF from each egress address, cached; aligned: the
 * SPF domain aligns under one generation at least (1), none (0), or
 * -1 to ask orgdomain_aligned() */
static void preflight_spf(const TXCONF *cf, const PREFLIGHT_MSG *in, ALIGN_FACTS *f, int aligned)
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
    if (aligned < 0)
        aligned = orgdomain_aligned(f->spf_domain, in->from_domain ? in->from_domain : "",
                                    f->dmarc.status == DMARC_CHECK_FOUND && f->dmarc.aspf_strict);
    if (!aligned) {
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

/* preflight_walk_align - RFC 9989 alignment of each identifier in f9
 * (the From walk in w); DNS trouble makes the generation a tempfail */
static void preflight_walk_align(const DNS_RESOLVER *dns, const DMARC_WALK *w, ALIGN_FACTS *f9)
{
    DMARC_CHECK *dm = &f9->dmarc;
    char why_mem[300];
    int found = dm->status == DMARC_CHECK_FOUND, r;
    BUF why;

    f9->walked = 1;
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    for (size_t i = 0; i < f9->nsig; i++) {
        r = dmarc_walk_aligned(dns->lookup, dns->ctx, w, f9->sig[i].domain, found && dm->adkim_strict,
                               &why);
        f9->sig_aligned[i] = r > 0;
        if (r < 0)
            break;
    }
    r = f9->spf_domain[0] && why.len == 0
        ? dmarc_walk_aligned(dns->lookup, dns->ctx, w, f9->spf_domain, found && dm->aspf_strict, &why)
        : 0;
    f9->spf_aligned = r > 0;
    if (why.len) {
        dm->status = DMARC_CHECK_TEMPFAIL;
        fmt_trunc(dm->why, sizeof(dm->why), "%s (RFC 9989 tree walk)", why.data);
    }
}

/* preflight_facts - keys and SPF for the generations in use (use[]), once */
static void preflight_facts(const TXCONF *cf, const PREFLIGHT_MSG *in, const DNS_RESOLVER *dns,
                            const int use[2], const DMARC_WALK *w, ALIGN_FACTS f[2])
{
    int lead = use[ALIGN_GEN_7489] && f[0].dmarc.status != DMARC_CHECK_TEMPFAIL ? 0 : 1, spf_any;
    DMARC_CHECK keep = f[1].dmarc;

    for (size_t i = 0; i < in->nsig && f[lead].nsig < ALIGN_MAX_SIG; i++)
        preflight_key(dns, &in->sig[i], &f[lead].sig[f[lead].nsig++]);
    if (spf_check_sender_domain(in->mail_from, in->helo, f[lead].spf_domain, sizeof(f[lead].spf_domain),
                                &f[lead].spf_is_helo) < 0)
        f[lead].spf_domain[0] = 0;
    if (use[ALIGN_GEN_9989]) {
        /* The same signatures and SPF identity; alignment by tree walk. */
        memcpy(f[1].sig, f[lead].sig, sizeof(f[1].sig));
        f[1].nsig = f[lead].nsig;
        memcpy(f[1].spf_domain, f[lead].spf_domain, sizeof(f[1].spf_domain));
        f[1].spf_is_helo = f[lead].spf_is_helo;
        if (keep.status != DMARC_CHECK_TEMPFAIL)
            preflight_walk_align(dns, w, &f[1]);
    }
    spf_any = use[ALIGN_GEN_9989] ? f[1].spf_aligned : -1;
    if (use[ALIGN_GEN_7489] && use[ALIGN_GEN_9989] && !spf_any && f[0].spf_domain[0])
        spf_any = orgdomain_aligned(f[0].spf_domain, in->from_domain ? in->from_domain : "",
                                    f[0].dmarc.status == DMARC_CHECK_FOUND && f[0].dmarc.aspf_strict);
    preflight_spf(cf, in, &f[lead], spf_any);
    if (lead == 0 && use[ALIGN_GEN_9989]) {
        f[1].spf_state = f[0].spf_state;
        f[1].nspf = f[0].nspf;
        memcpy(f[1].spf, f[0].spf, sizeof(f[1].spf));
    }
}

/* preflight_judge - decide each generation in use, keep the stricter */
static void preflight_judge(const TXCONF *cf, const PREFLIGHT_MSG *in, const int use[2], ALIGN_FACTS f[2],
                            ALIGN_OUTCOME *out)
{
    ALIGN_DECISION d[2];
    ALIGN_OUTCOME o[2];
    DMARC_CHECK c[2];
    int pick;

    for (int g = 0; g < 2; g++)
        if (use[g])
            align_decide(&f[g], conf_align_action(cf), cf->align.on_dnserror, &d[g], &o[g]);
    if (use[0] && use[1]) {
        c[0] = f[0].dmarc;
        c[1] = f[1].dmarc;
        pick = align_gen_merge(c, o, out);
    } else {
        pick = use[0] ? 0 : 1;
        *out = o[pick];
    }
    if (d[pick].warn)
        log_warn("%s: alignment preflight: %s", in->qid ? in->qid : "NOQUEUE", d[pick].warning);
}

/* preflight_check - one message */
void preflight_check(const TXCONF *cf, const PREFLIGHT_MSG *in, ALIGN_OUTCOME *out)
{
    const DNS_RESOLVER *dns = in->dns ? in->dns : dns_resolver();
    const char *from = in->from_domain ? in->from_domain : "";
    int use[2];
    ALIGN_FACTS *f;
    DMARC_WALK *w;

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
    use[ALIGN_GEN_7489] = cf->align.dmarc_mode != CONF_DMARC_9989;
    use[ALIGN_GEN_9989] = cf->align.dmarc_mode != CONF_DMARC_7489;
    f = xcalloc(2, sizeof(*f));
    w = xcalloc(1, sizeof(*w));
    dns_budget_begin(2 * cf->align.dns_timeout);
    if (use[ALIGN_GEN_7489])
        preflight_dmarc(dns, from, &f[0].dmarc);
    if (use[ALIGN_GEN_9989]) {
        preflight_walk(dns, from, w);
        dmarc_walk_to_check(w, &f[1].dmarc);
    }
    if ((use[0] && f[0].dmarc.status != DMARC_CHECK_TEMPFAIL) || (use[1] && f[1].dmarc.status != DMARC_CHECK_TEMPFAIL))
        preflight_facts(cf, in, dns, use, w, f);
    dns_budget_end();
    preflight_judge(cf, in, use, f, out);
    free(w);
    free(f);
}

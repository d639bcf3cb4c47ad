/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_unsub.c - List-Unsubscribe in the message pipeline.
 *
 * SYNOPSIS
 *	#include "msg_int.h"
 *
 *	void	msg_unsub_init(MSG *m)
 *	void	msg_unsub_free(MSG *m)
 *	int	msg_unsub_rcpt(MSG *m, const char *rcpt, char *would,
 *			size_t wouldlen)
 *	REPLY	msg_unsub_eoh(MSG *m)
 *	int	msg_unsub_eom(MSG *m, REPLY *r)
 *	size_t	msg_unsub_requests(const MSG *m)
 *	int	msg_unsub_dropped(const MSG *m, size_t i)
 *
 * DESCRIPTION
 *	msg_unsub_rcpt() recognises, at RCPT, a request sent by mail to an
 *	UnsubscribeMailto address: the token is verified and the suppression
 *	stored; the caller removes that recipient, or discards the message
 *	when it has no other. In a dry run (txmilter -t) nothing is stored:
 *	what would be is described in the caller's buffer and the summary.
 *
 *	msg_unsub_eoh() runs once the From field and the recipients are known:
 *	unless the sender is exempt, it removes the recipients suppressed
 *	from this stream (unsubscribed, bounced, complained or put there by
 *	the operator; or refuses the message when none is left, 550 5.7.1
 *	naming why, e.g. "(bounced: 5.1.1)"), then adds List-Unsubscribe and List-Unsubscribe-Post
 *	for the one recipient left, before the signers see any field, so the
 *	signatures cover them. An application's own List-Unsubscribe is kept
 *	or replaced (UnsubscribeExisting); msg_unsub_dropped() tells the
 *	signers which of the message's fields it replaces.
 *
 *	msg_unsub_eom() takes the requests out of the message at its end:
 *	mail that was only requests is discarded, other recipients get the
 *	rest. msg_unsub_requests() says how many recipients were requests.
 *
 * DIAGNOSTICS
 *	msg_unsub_rcpt() returns -1 when a request cannot be stored (the
 *	recipient is refused with 451 4.3.0). msg_unsub_eoh() refuses with
 *	451 4.3.0 when the suppression store cannot be read, 550 5.7.1
 *	when every recipient unsubscribed; a List-Unsubscribe value that
 *	cannot be made is logged and left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "msg_int.h"
#include "msg_reply.h"
#include "msg_unsub.h"
#include "rate_match.h"
#include "rate_store_failover.h"
#include "suppress.h"
#include "unsub_msg.h"

/* msg_unsub_init - no request, no field replaced */
void msg_unsub_init(MSG *m)
{
    strv_init(&m->unsub.rcpts);
    m->unsub.field_dropped = NULL;
}

/* msg_unsub_free - what the step kept */
void msg_unsub_free(MSG *m)
{
    strv_free(&m->unsub.rcpts);
    free(m->unsub.field_dropped);
    m->unsub.field_dropped = NULL;
}

/* msg_unsub_requests - recipients that were unsubscribe requests by mail */
size_t msg_unsub_requests(const MSG *m)
{
    return m->unsub.rcpts.n;
}

/* msg_unsub_dropped - 1 if the message's field i is replaced */
int msg_unsub_dropped(const MSG *m, size_t i)
{
    return m->unsub.field_dropped != NULL && i < m->nfields && m->unsub.field_dropped[i];
}

/* msg_unsub_rcpt - rcpt is an unsubscribe address: record the request */
int msg_unsub_rcpt(MSG *m, const char *rcpt, char *would, size_t wouldlen)
{
    const TXCONF *cf = m->snap->cf;
    char token[UNSUB_TOKEN_MAX], why_mem[64];
    UNSUB_PAYLOAD p;
    BUF why, err;

    const UNSUB_ROUTES *rt = m->snap->unsub_routes;
    int found = 0;

    if (m->snap->unsub_keys == NULL || (m->svc.suppress == NULL && !m->dry_run))
        return 0;
    if (cf->unsub.mailto)
        found = unsub_mailto_token(cf->unsub.mailto, rcpt, token, sizeof(token));
    for (size_t i = 0; !found && rt && i < rt->n; i++)
        if (rt->r[i].mailto)
            found = unsub_mailto_token(rt->r[i].mailto, rcpt, token, sizeof(token));
    if (!found)
        return 0;
    buf_init_fixed(&why, why_mem, sizeof(why_mem));
    if (unsub_token_open(m->snap->unsub_keys, token, (uint64_t) cf->unsub.max_age,
                         (uint64_t) services_now(&m->svc), &p, &why) < 0) {
        log_warn("%s: unsubscribe request by mail to %s: token refused (%s): delivered as ordinary mail",
                 msg_queueid(m), rcpt, why.data);
        return 0;
    }
    if (m->dry_run) {
        snprintf(would, wouldlen, "would record unsubscribe of <%s> from stream %s (dry run: "
                 "nothing written)", p.rcpt, p.stream);
        msg_note(m, "unsubscribe-by-mail=<%s> stream=%s not recorded (dry run)", p.rcpt, p.stream);
        strv_add(&m->unsub.rcpts, rcpt);
        return 1;
    }
    buf_init(&err, 512);
    if (suppress_add(m->svc.suppress, p.rcpt, p.stream, "mail", &err) < 0) {
        log_err("%s: unsubscribe request by mail for stream %s: cannot store it: %s", msg_queueid(m),
                p.stream, err.data ? err.data : "");
        buf_free(&err);
        return -1;
    }
    buf_free(&err);
    log_info("%s: unsubscribed by mail: rcpt=<%s> stream=%s", msg_queueid(m), p.rcpt, p.stream);
    msg_count_suppression(m, suppress_reason_name(SUPPRESS_UNSUBSCRIBE));
    strv_add(&m->unsub.rcpts, rcpt);
    return 1;
}


/* msg_sup_fetched - 1 suppressed (why and evidence filled), 0 not, as
 * fetched with recipient i's rate decision; -1 not fetched */
static int msg_sup_fetched(const MSG *m, size_t i, const char *stream, SUPPRESS_REASON *why,
                           char *evidence)
{
    const RATE_STORE_SUP *sup = msg_rate_sup(m, i);
    size_t k;

    if (sup == NULL || !sup->fetched)
        return -1;
    for (k = 0; k < sup->streams.n; k++)
        if (strcmp(sup->streams.v[k], stream) == 0) {
            if (k < sup->values.n)
                (void) suppress_redis_value(sup->values.v[k], why, evidence);
            return 1;
        }
    return 0;
}

/* msg_sup_text - why a recipient may not have mail of stream, after "recipient " */
static void msg_sup_text(const char *stream, SUPPRESS_REASON why, const char *evidence,
                         char *text, size_t len)
{
    size_t st = strcspn(evidence, " ;");

    if (st > 16)
        st = 16;
    switch (why) {
    case SUPPRESS_BOUNCE:
        snprintf(text, len, "bounced mail of %.200s (bounced: %.*s)", stream,
                 st ? (int) st : 7, st ? evidence : "unknown");
        break;
    case SUPPRESS_COMPLAINT:
        snprintf(text, len, "complained about mail of %.200s (complaint)", stream);
        break;
    case SUPPRESS_MANUAL:
        snprintf(text, len, "unsubscribed from mail of %.200s (by the operator)", stream);
        break;
    default:
        snprintf(text, len, "unsubscribed from mail of %.200s", stream);
        break;
    }
}

/* msg_sup_reply - the 550 for the one recipient, naming why it is suppressed */
static REPLY msg_sup_reply(const char *rcpt, const char *stream, SUPPRESS_REASON why,
                           const char *evidence)
{
    char status[17];
    size_t st = strcspn(evidence, " ;");

    if (st == 0 || st >= sizeof(status))
        snprintf(status, sizeof(status), "unknown");
    else
        snprintf(status, sizeof(status), "%.*s", (int) st, evidence);
    switch (why) {
    case SUPPRESS_BOUNCE:
        return msg_reply(REPLY_REJECT, MSG_WHY_BOUNCED, rcpt, stream, status);
    case SUPPRESS_COMPLAINT:
        return msg_reply(REPLY_REJECT, MSG_WHY_COMPLAINED, rcpt, stream);
    case SUPPRESS_MANUAL:
        return msg_reply(REPLY_REJECT, MSG_WHY_SUPPRESSED_BY_HAND, rcpt, stream);
    default:
        return msg_reply(REPLY_REJECT, MSG_WHY_UNSUBSCRIBED, rcpt, stream);
    }
}

/* msg_sup_one - 1 suppressed (why and evidence filled), 0 not, -1 could not tell */
static int msg_sup_one(MSG *m, size_t i, const char *stream, SUPPRESS_REASON *why,
                       char *evidence, BUF *err)
{
    int rc;

    *why = SUPPRESS_UNSUBSCRIBE;
    evidence[0] = 0;
    buf_reset(err);
    if ((rc = msg_sup_fetched(m, i, stream, why, evidence)) < 0)
        return suppress_lookup(m->svc.suppress, m->rcpt_norm.v[i], stream, why, evidence, err);
    suppress_answered(m->svc.suppress);     /* one round trip: decided and looked up */
    return rc;
}

/* msg_suppressed - drop the recipients suppressed from stream; the
 * number left (*first: the index of the first of them), or -1 with *r set (all gone: 550; list down under
 * StoreFailure tempfail: 451 4.3.0). Under local or accept a list that
 * cannot tell lets the message go unchecked: counted and logged by
 * suppress.c, noted in the message's summary line. */
static long msg_suppressed(MSG *m, const char *stream, size_t *first, REPLY *r)
{
    size_t i, gone = 0, n = m->rcpt_norm.n;
    unsigned char *drop;
    char evidence[SUPPRESS_EVIDENCE_MAX], first_ev[SUPPRESS_EVIDENCE_MAX] = "", text[600];
    SUPPRESS_REASON why, kind = SUPPRESS_UNSUBSCRIBE;
    int unchecked = 0, same = 1;
    STRV whys;
    BUF err;

    *first = 0;
    if (m->svc.suppress == NULL || n == 0)
        return (long) n;
    drop = xcalloc(n, 1);
    strv_init(&whys);
    buf_init(&err, 512);
    for (i = 0; i < n; i++) {
        int rc = msg_sup_one(m, i, stream, &why, evidence, &err);

        if (rc < 0) {
            if ((RATE_STORE_FAILURE) m->snap->cf->rate.store_failure == RATE_STORE_FAIL_TEMPFAIL) {
                msg_note(m, "suppression=unavailable");
                free(drop);
                strv_free(&whys);
                buf_free(&err);
                *r = msg_refuse(m, "store", msg_reply(REPLY_TEMPFAIL, MSG_WHY_SUPPRESS_DOWN));
                return -1;
            }
            if (!unchecked++)                       /* local, accept: deliver */
                msg_note(m, "suppression=unchecked");
            continue;
        }
        if (rc != 1)
            continue;
        if (gone == 0) {
            kind = why;
            util_strlcpy(first_ev, evidence, sizeof(first_ev));
        }
        same &= why == kind;
        drop[i] = 1;
        gone++;
        msg_sup_text(stream, why, evidence, text, sizeof(text));
        strv_add(&whys, text);
    }
    buf_free(&err);
    if (gone == n) {
        free(drop);
        strv_free(&whys);
        *r = msg_refuse(m, "suppressed", n > 1
                        ? msg_reply(REPLY_REJECT, same && kind == SUPPRESS_UNSUBSCRIBE
                                    ? MSG_WHY_ALL_UNSUBSCRIBED : MSG_WHY_ALL_SUPPRESSED, n, stream)
                        : msg_sup_reply(m->rcpt_norm.v[0], stream, kind, first_ev));
        return -1;
    }
    for (i = 0, gone = 0; i < n; i++)
        if (drop[i]) {
            msg_op(m, MSG_RCPT_DELETE, m->rcpt_given.v[i], NULL);
            msg_rate_refund(m, m->rcpt_given.v[i]);     /* not sent to */
            msg_note(m, "suppressed=<%s>", m->rcpt_norm.v[i]);
            msg_count_refusal(m, "suppressed");
            log_info("%s: rcpt=<%s> removed: %s", msg_queueid(m), m->rcpt_norm.v[i],
                     whys.v[gone++]);
        }
    strv_free(&whys);
    /* the first recipient left, for the header's token */
    while (*first < n && drop[*first])
        ++*first;
    free(drop);
    return (long) (n - gone);
}


/* msg_unsub_add - List-Unsubscribe (and -Post) for the one recipient rcpt;
 * present: it replaces the application's own */
static void msg_unsub_add(MSG *m, const char *stream, const char *rcpt, size_t present)
{
    const char *url, *mailto;
    BUF value, err;

    buf_init(&value, 2048);
    buf_init(&err, 512);
    unsub_route_for(m->snap->unsub_routes, m->snap->cf, m->author.domain, &url, &mailto);
    if (unsub_header_value(url, mailto, m->snap->unsub_keys, rcpt, stream,
                           m->author.domain, (uint64_t) services_now(&m->svc), &value, &err) < 0) {
        log_warn("%s: List-Unsubscribe not added: %s", msg_queueid(m), err.data ? err.data : "");
        msg_note(m, "unsubscribe=failed");
    } else if (msg_add_field(m, "List-Unsubscribe", value.data) < 0
               /* RFC 8058: one-click needs the HTTPS URI */
               || (url != NULL && msg_add_field(m, "List-Unsubscribe-Post",
                                                "List-Unsubscribe=One-Click") < 0)) {
        log_err("%s: List-Unsubscribe not added: no room for another header field",
                msg_queueid(m));
        msg_note(m, "unsubscribe=failed");
    } else if (!present) {
        msg_note(m, "unsubscribe=added");
    }
    buf_free(&value);
    buf_free(&err);
}

/* msg_unsub_eoh - honour unsubscribes and add List-Unsubscribe(-Post) */
REPLY msg_unsub_eoh(MSG *m)
{
    const TXCONF *cf = m->snap->cf;
    char stream[HDR_LOCAL_MAX + HDR_DOMAIN_MAX + 2], from[HDR_LOCAL_MAX + HDR_DOMAIN_MAX + 2];
    REPLY r = reply_continue();
    size_t i, present = 0;
    long left;
    size_t first;
    int index_lu = 0, index_lup = 0;

    snprintf(from, sizeof(from), "%s@%s", m->author.local, m->author.domain);
    util_lower(from);
    if (unsub_exempt(&m->snap->unsub_exempt, from, m->author.domain)) {
        if (conf_unsubscribes(cf) || m->svc.suppress)
            msg_note(m, "unsubscribe=exempt");
        return r;
    }
    unsub_stream(cf, m->author.local, m->author.domain, stream, sizeof(stream));
    if ((left = msg_suppressed(m, stream, &first, &r)) < 0)
        return r;
    if (!conf_unsubscribes(cf) || m->snap->unsub_keys == NULL)
        return r;
    for (i = 0; i < m->nfields; i++)
        if (strcasecmp(m->fields[i].name, "List-Unsubscribe") == 0
            || strcasecmp(m->fields[i].name, "List-Unsubscribe-Post") == 0)
            present++;
    if (present && !cf->unsub.replace) {
        msg_note(m, "unsubscribe=kept-existing");
        return r;
    }
    if (left != 1) {
        msg_note(m, "unsubscribe=skipped-%ld-recipients", left);
        return r;
    }
    if (present) {                          /* UnsubscribeExisting replace */
        m->unsub.field_dropped = xcalloc(m->nfields ? m->nfields : 1, 1);
        for (i = 0; i < m->nfields; i++) {
            int lu = strcasecmp(m->fields[i].name, "List-Unsubscribe") == 0;

            if (!lu && strcasecmp(m->fields[i].name, "List-Unsubscribe-Post") != 0)
                continue;
            m->unsub.field_dropped[i] = 1;
            /* the MTA counts fields of one name from 1; earlier deletions
             * do not renumber the later ones (Postfix's smfi_chgheader) */
            msg_op_delete(m, lu ? "List-Unsubscribe" : "List-Unsubscribe-Post", lu ? ++index_lu : ++index_lup);
        }
        msg_note(m, "unsubscribe=replaced");
    }
    msg_unsub_add(m, stream, m->rcpt_norm.v[first], present);
    return r;
}

/* msg_unsub_eom - the requests by mail leave the message: 1 when that
 * ends it (*r says how) */
int msg_unsub_eom(MSG *m, REPLY *r)
{
    const STRV *req = &m->unsub.rcpts;

    if (req->n == 0)
        return 0;
    if (req->n == m->nrcpt) {
        m->state = MSG_ST_DONE;
        msg_note(m, "action=discard (unsubscribe request by mail, %s)",
                 m->dry_run ? "not recorded: dry run" : "recorded");
        *r = reply_make(REPLY_DISCARD, NULL, NULL, NULL);
        msg_count_action(m, "discarded");
        return 1;
    }
    for (size_t i = 0; i < req->n; i++)
        msg_op(m, MSG_RCPT_DELETE, req->v[i], NULL);
    if (!m->outbound) {
        m->state = MSG_ST_DONE;
        msg_note(m, "unsubscribe-requests=%zu removed", req->n);
        *r = reply_continue();
        return 1;
    }
    return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_sign.c - DKIM signing in the message pipeline.
 *
 * SYNOPSIS
 *	#include "msg_int.h"
 *
 *	void	msg_sign_init(MSG *m)
 *	void	msg_sign_free(MSG *m)
 *	REPLY	msg_sign_start(MSG *m)
 *	REPLY	msg_sign_header(MSG *m)
 *	REPLY	msg_sign_body(MSG *m, const unsigned char *data, size_t len)
 *	REPLY	msg_sign_eom(MSG *m)
 *	int	msg_sign_active(const MSG *m)
 *	const SIGN_SET * msg_sign_signers(const MSG *m)
 *
 * DESCRIPTION
 *	msg_sign_start() runs at end of header of outbound mail, once the From
 *	mailbox is known: it looks up the SigningTable entries of the From
 *	address (at most SIGN_MAX sign) and starts one signature per key.
 *	msg_sign_header() feeds the signers every field of the message, less
 *	those another step replaces, then the fields added with
 *	msg_add_field(); msg_sign_body() streams body chunks into them
 *	(nothing of the body is kept); msg_sign_eom() finishes the
 *	signatures and lists them as DKIM-Signature fields at the top, in
 *	the configured order. msg_sign_active() and msg_sign_signers() tell
 *	the other steps whether, and with which keys, the message is signed.
 *
 * DIAGNOSTICS
 *	No key for the From domain follows On-NoKey (451 4.3.0 or a note
 *	"no-key=domain"). A key that cannot be loaded is logged and skipped;
 *	when none is left, or a signer fails later, On-SignatureError says
 *	what happens (451 4.3.0, 550 5.7.0, or a note "signing-error", the
 *	message then going unsigned); each failure is logged and counted.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg_int.h"
#include "msg_reply.h"
#include "msg_sign.h"

/* msg_sign_init - a message not yet signed */
void msg_sign_init(MSG *m)
{
    memset(&m->sign, 0, sizeof(m->sign));
}

/* msg_sign_free - the signers, if any */
void msg_sign_free(MSG *m)
{
    sign_free(m->sign.signers);
    m->sign.signers = NULL;
}

/* msg_sign_error - what On-SignatureError says */
static REPLY msg_sign_error(MSG *m)
{
    const TXCONF *cf = m->snap->cf;

    log_err("%s: signing failed: %s", msg_queueid(m), m->err.data ? m->err.data : "no usable key");
    sign_free(m->sign.signers);
    m->sign.signers = NULL;
    msg_count_sig_error(m, m->sign.picks, m->sign.npicks);
    if (cf->sign.on_sigerr == CONF_ACT_TEMPFAIL)
        return msg_refuse(m, "signing", msg_reply(REPLY_TEMPFAIL, MSG_WHY_SIGN_TEMP));
    if (cf->sign.on_sigerr == CONF_ACT_REJECT)
        return msg_refuse(m, "signing", msg_reply(REPLY_REJECT, MSG_WHY_SIGN_FAILED));
    msg_note(m, "signing-error");
    return reply_continue();
}

/* msg_sign_requests - the loadable keys of the picks as requests; how many */
static size_t msg_sign_requests(MSG *m, SIGN_REQ *req)
{
    MSG_SIGN *s = &m->sign;
    size_t i, n = 0;

    for (i = 0; i < s->npicks; i++) {
        const KEYS_KEY *key;

        buf_reset(&m->err);
        if ((key = snapshot_key(m->snap, &s->picks[i], &m->err)) == NULL) {
            log_err("%s: key %s for %s: %s", msg_queueid(m), s->picks[i].key->name,
                    s->picks[i].domain, m->err.data ? m->err.data : "");
            continue;
        }
        req[n].key = key;
        req[n].domain = s->picks[i].domain;
        req[n].selector = s->picks[i].key->selector;
        req[n].signer = s->picks[i].signer;
        n++;
    }
    return n;
}

/* msg_sign_start - pick keys and open the signatures */
REPLY msg_sign_start(MSG *m)
{
    MSG_SIGN *s = &m->sign;
    SIGN_REQ req[SIGN_MAX];
    char local[HDR_LOCAL_MAX];
    const TXCONF *cf = m->snap->cf;
    size_t n;

    util_strlcpy(local, m->author.local, sizeof(local));
    util_lower(local);
    s->npicks = keytable_lookup(m->snap->kt, local, m->author.domain, s->picks, SIGN_MAX);
    if (s->npicks == SIGN_MAX)
        log_warn("%s: %s matches %d or more SigningTable entries: only the first %d sign",
                 msg_queueid(m), m->author.domain, SIGN_MAX, SIGN_MAX);
    if (s->npicks == 0) {
        if (cf->sign.on_nokey == CONF_ACT_TEMPFAIL)
            return msg_refuse(m, "nokey", msg_reply(REPLY_TEMPFAIL, MSG_WHY_NO_KEY, m->author.domain));
        msg_note(m, "no-key=%s", m->author.domain);
        return reply_continue();
    }
    if ((n = msg_sign_requests(m, req)) == 0)
        return msg_sign_error(m);
    buf_reset(&m->err);
    s->signers = sign_begin(m->snap->dkim, req, n, msg_queueid(m), cf->sign.hdr_canon,
                            cf->sign.body_canon, &m->err);
    if (s->signers == NULL) {
        log_err("%s: cannot start signing: %s", msg_queueid(m), m->err.data);
        return msg_sign_error(m);
    }
    return reply_continue();
}

/* msg_sign_feed - every field, own then added, into the signers */
static int msg_sign_feed(MSG *m)
{
    BUF field;
    size_t i;
    int rc = 0;

    buf_init(&field, m->snap->cf->daemon.max_headers + 1024);
    for (i = 0; i < m->nfields + m->nadded && rc == 0; i++) {
        const MSG_FIELD *f = i < m->nfields ? &m->fields[i] : &m->added[i - m->nfields];
        char *spaced = NULL;
        const char *value = f->value;

        if (i < m->nfields && msg_unsub_dropped(m, i))
            continue;                       /* replaced: the message will not have it */
        if (i >= m->nfields)                /* added fields carry no leading space */
            value = spaced = xasprintf(" %s", f->value);
        if (hdr_signing_form(&field, f->name, value) < 0
            || sign_header(m->sign.signers, field.data, field.len, &m->err) < 0)
            rc = -1;
        free(spaced);
    }
    buf_free(&field);
    if (rc == 0 && sign_eoh(m->sign.signers, &m->err) < 0)
        rc = -1;
    return rc;
}

/* msg_sign_header - the header into the signers, once no step adds a field */
REPLY msg_sign_header(MSG *m)
{
    if (m->sign.signers && msg_sign_feed(m) < 0)
        return msg_sign_error(m);
    return reply_continue();
}

/* msg_sign_body - stream a body chunk into the signers */
REPLY msg_sign_body(MSG *m, const unsigned char *data, size_t len)
{
    if (m->sign.signers == NULL)
        return reply_continue();
    if (sign_body(m->sign.signers, data, len, &m->err) < 0)
        return msg_sign_error(m);
    return reply_continue();
}

/* msg_sign_list - the signatures at the top, in the configured order */
static void msg_sign_list(MSG *m)
{
    const SIGN_SET *ss = m->sign.signers;
    size_t i, n = sign_count(ss);

    /* Each insertion goes to the very top, so insert in reverse to keep
     * the signatures in the configured order. */
    for (i = n; i-- > 0;)
        msg_op(m, MSG_HDR_INSERT_TOP, DKIM_SIGNHEADER, sign_value(ss, i));
    for (i = 0; i < n; i++) {
        const SIGN_REQ *rq = sign_request(ss, i);

        msg_note(m, "sig=d=%s,s=%s,a=%s", rq->domain, rq->selector, keys_algorithm(rq->key->type));
    }
}

/* msg_sign_eom - finish the signatures and list them */
REPLY msg_sign_eom(MSG *m)
{
    double t0;

    if (m->sign.signers == NULL)
        return reply_continue();
    t0 = msg_stage_begin(m);
    if (sign_eom(m->sign.signers, &m->err) < 0) {
        msg_stage_end(m, "sign", t0);
        return msg_sign_error(m);           /* unsigned, if it goes on */
    }
    msg_stage_end(m, "sign", t0);
    msg_sign_list(m);
    msg_count_signatures(m, m->sign.signers);
    return reply_continue();
}

/* msg_sign_active - 1 if signatures are being made */
int msg_sign_active(const MSG *m)
{
    return m->sign.signers != NULL;
}

/* msg_sign_signers - the signatures being made, or NULL */
const SIGN_SET *msg_sign_signers(const MSG *m)
{
    return m->sign.signers;
}

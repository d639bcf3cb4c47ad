/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_align.c - the alignment preflight in the message pipeline.
 *
 * SYNOPSIS
 *	#include "msg_int.h"
 *
 *	void	msg_align_init(MSG *m)
 *	REPLY	msg_align_preflight(MSG *m)
 *	const char * msg_align_quarantine(const MSG *m)
 *
 * DESCRIPTION
 *	msg_align_preflight() runs at end of header of outbound mail, once
 *	the signers are started and the return path is chosen: it asks the
 *	preflight (policy/align/preflight.c, with the SERVICES resolver)
 *	whether receivers will find the message aligned under DMARC, with
 *	the signatures being made, the envelope sender the message will
 *	have (the return path, else the sender) and this relay's HELO name.
 *	The verdict is noted and counted; AlignmentAction decides whether
 *	the message is refused, held (msg_align_quarantine() then says why)
 *	or delivered.
 *
 * DIAGNOSTICS
 *	A refusal is the reply msg_reply_align() words (a DNS failure under
 *	the preflight's temperror counted as "dns", else "alignment").
 */
#include <string.h>

#include "msg_align.h"
#include "msg_int.h"
#include "msg_reply.h"
#include "preflight.h"

/* msg_align_init - not held */
void msg_align_init(MSG *m)
{
    m->align.hold = 0;
}

/* msg_align_preflight - will receivers find the message aligned? */
REPLY msg_align_preflight(MSG *m)
{
    PREFLIGHT_SIG sig[SIGN_MAX];
    PREFLIGHT_MSG in;
    ALIGN_OUTCOME out;
    const SIGN_SET *signers = msg_sign_signers(m);
    size_t n = signers ? sign_count(signers) : 0;
    const char *rp = msg_bounce_mail_from(m);
    double t0;

    for (size_t i = 0; i < n; i++) {
        const SIGN_REQ *rq = sign_request(signers, i);

        sig[i].domain = rq->domain;
        sig[i].selector = rq->selector;
        sig[i].key = rq->key;
    }
    memset(&in, 0, sizeof(in));
    in.qid = msg_queueid(m);
    in.from_domain = m->author.domain;
    in.mail_from = rp ? rp : m->sender;
    /* For the null sender, receivers check SPF of the HELO name they see:
     * this relay's ({j}, Postfix's myhostname), not the application's. */
    in.helo = m->conn.relay_name[0] ? m->conn.relay_name : m->conn.helo;
    in.sig = sig;
    in.nsig = n;
    in.dns = m->svc.dns;
    t0 = conf_preflight(m->snap->cf) ? msg_stage_begin(m) : 0;    /* timed only when it asks DNS */
    preflight_check(m->snap->cf, &in, &out);
    msg_stage_end(m, "dns", t0);
    msg_count_preflight(m, out.verdict);
    if (out.summary[0])
        msg_note(m, "%s", out.summary);
    if (out.quarantine)
        m->align.hold = 1;
    if (out.refuse != ALIGN_DELIVER)
        return msg_refuse(m, out.verdict && strcmp(out.verdict, "temperror") == 0 ? "dns" : "alignment",
                          msg_reply_align(&out));
    return reply_continue();
}

/* msg_align_quarantine - why the preflight holds the message, or NULL */
const char *msg_align_quarantine(const MSG *m)
{
    return m->align.hold ? "DMARC alignment preflight failed" : NULL;
}

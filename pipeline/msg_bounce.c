/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_bounce.c - bounces and complaints in the message pipeline: Gmail's
 * Feedback-ID header, the return path of single-recipient mail.
 *
 * SYNOPSIS
 *	#include "msg_int.h"
 *
 *	void	msg_bounce_eoh(MSG *m)
 *	void	msg_bounce_return_path(MSG *m)
 *
 * DESCRIPTION
 *	msg_bounce_eoh() runs at end of headers of outbound mail, after the
 *	suppressions and List-Unsubscribe and before the signers see any
 *	field: with FeedbackID set it adds Feedback-ID, the template filled
 *	in with the message's stream and From domain (feedback_id.c), so the
 *	signature covers it (SignHeaders must name feedback-id, which the
 *	configuration checks). An application's own Feedback-ID is kept:
 *	the header is not added twice.
 *
 *	msg_bounce_return_path() gives outbound mail with exactly one
 *	recipient and a sender that is neither null nor ReturnPathExempt
 *	the envelope sender ReturnPath makes of a return-path token
 *	(rp_token.c: the recipient, the stream, the original sender) and
 *	the From domain, so that a bounce comes back to this relay naming
 *	whom it is about. The alignment preflight then checks SPF of that
 *	address (msg.c); the change goes to the MTA at end of message
 *	(MSG_FROM_CHANGE, smfi_chgfrom()). Mail to several recipients keeps
 *	its sender: one return path names one recipient.
 *
 * DIAGNOSTICS
 *	A value that cannot be made (too long, or a stream that a header may
 *	not hold) is logged and left out; the summary says feedback-id=failed.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "feedback_id.h"
#include "log.h"
#include "msg_int.h"
#include "return_path.h"
#include "rp_token.h"
#include "unsub_msg.h"

/* msg_bounce_eoh - add Feedback-ID unless the application did */
void msg_bounce_eoh(MSG *m)
{
    const TXCONF *cf = m->snap->cf;
    char stream[HDR_LOCAL_MAX + HDR_DOMAIN_MAX + 2], value[FEEDBACK_ID_MAX];
    size_t i;

    if (cf->bounce.feedback_id == NULL)
        return;
    for (i = 0; i < m->nfields; i++)
        if (strcasecmp(m->fields[i].name, "Feedback-ID") == 0) {
            msg_note(m, "feedback-id=kept-existing");
            return;
        }
    unsub_stream(cf, m->author.local, m->author.domain, stream, sizeof(stream));
    if (feedback_id_expand(cf->bounce.feedback_id, stream, m->author.domain, value,
                           sizeof(value)) != 0) {
        log_warn("%s: Feedback-ID not added: the template FeedbackID does not fill in with "
                 "stream %s", msg_queueid(m), stream);
        msg_note(m, "feedback-id=failed");
        return;
    }
    msg_add_field(m, "Feedback-ID", value);
    msg_note(m, "feedback-id=added");
}

/* msg_bounce_return_path - the envelope sender of a single-recipient message */
void msg_bounce_return_path(MSG *m)
{
    const TXCONF *cf = m->snap->cf;
    char stream[HDR_LOCAL_MAX + HDR_DOMAIN_MAX + 2], token[RP_TOKEN_MAX], sender[ADDR_NORM_MAX];
    const char *at;

    m->return_path[0] = 0;
    if (cf->bounce.return_path == NULL || m->snap->unsub_keys == NULL)
        return;
    if (m->nrcpt != 1 || m->rcpt_norm.n != 1) {
        msg_note(m, "return-path=kept-%zu-recipients", m->rcpt_norm.n);
        return;
    }
    util_strlcpy(sender, m->sender, sizeof(sender));
    util_lower(sender);
    if (sender[0] == 0 || (at = strrchr(sender, '@')) == NULL) {
        msg_note(m, "return-path=kept-null-sender");
        return;
    }
    if (unsub_exempt(&m->snap->rp_exempt, sender, at + 1)) {
        msg_note(m, "return-path=exempt");
        return;
    }
    unsub_stream(cf, m->author.local, m->author.domain, stream, sizeof(stream));
    if (rp_token_seal(m->snap->unsub_keys, m->rcpt_norm.v[0], stream, sender,
                      (uint64_t) services_now(&m->svc), token, sizeof(token)) != 0
        || return_path_expand(cf->bounce.return_path, token, m->author.domain, m->return_path,
                              sizeof(m->return_path)) != 0) {
        m->return_path[0] = 0;
        log_warn("%s: return path not changed: the recipient, stream and sender do not fit "
                 "a token", msg_queueid(m));
        msg_note(m, "return-path=failed");
        return;
    }
    msg_op(m, MSG_FROM_CHANGE, m->return_path, NULL);
    msg_note(m, "return-path=<%s>", m->return_path);
}

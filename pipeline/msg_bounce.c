/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_bounce.c - bounces and complaints in the message pipeline: Gmail's
 * Feedback-ID header.
 *
 * SYNOPSIS
 *	#include "msg_int.h"
 *
 *	void	msg_bounce_eoh(MSG *m)
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
 * DIAGNOSTICS
 *	A value that cannot be made (too long, or a stream that a header may
 *	not hold) is logged and left out; the summary says feedback-id=failed.
 */
#include <stdio.h>
#include <strings.h>

#include "feedback_id.h"
#include "log.h"
#include "msg_int.h"
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

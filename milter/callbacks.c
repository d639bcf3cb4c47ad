/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * callbacks.c - libmilter glue: turns milter events into calls on the
 * message pipeline (msg.c) and its decisions back into milter replies.
 *
 * SYNOPSIS
 *	#include "callbacks.h"
 *
 *	void	callbacks_drain(void)
 *	int	callbacks_inflight(void)
 *	struct smfiDesc * callbacks_desc(int unix_socket)
 *	void	callbacks_services(const SERVICES *svc)
 *
 * DESCRIPTION
 *	Per-connection state lives only in smfi_setpriv(): Debian's
 *	libmilter runs the callbacks of one connection on different worker
 *	threads. Nothing here keeps per-message data in globals.
 *
 *	Negotiation asks for exact header bytes (SMFIP_HDR_LEADSPC), the
 *	macros we use (smfi_setsymlist; among them {mail_addr} and
 *	{rcpt_addr}, the addresses as the MTA read them, which rate limits
 *	and suppressions use), and skips the steps we never need.
 *	Every step costs a round trip through libmilter's worker pool, so
 *	Postfix is told not to wait for a reply to connect, HELO, each
 *	header, the end of headers and each body chunk: it then buffers them
 *	and sends them with the next step that is answered, in one write. A
 *	decision reached in such a step (a refusal at the end of headers) is
 *	kept and given at the next answered step, the end of the message;
 *	Postfix reports content-stage decisions after DATA either way. The DATA step is different on TCP: it is
 *	the last one the smtpd process sends before the cleanup process takes
 *	over the milter connection, so left unanswered it would go out alone
 *	and make cleanup's first write wait for our delayed ACK (Nagle),
 *	about 40 ms per message (what OpenDKIM suffers). It is therefore
 *	answered on TCP and skipped on unix sockets.
 *
 *	callbacks_drain() is called on SIGTERM: messages in flight finish,
 *	new ones are told to come back later (421 4.3.2).
 *
 * DIAGNOSTICS
 *	A reply the MTA refuses to take, or a header change it refuses, is
 *	logged with the queue id; the message goes on, except when the MTA
 *	refuses a field to add (a DKIM-Signature): that message is
 *	tempfailed (451 4.3.0) and counted so (msg_unapplied()). Out of memory is
 *	fatal, leaving Postfix to apply milter_default_action.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "callbacks.h"
#include "log.h"
#include "msg.h"
#include "msg_reply.h"
#include "snapshot.h"
#include "util.h"

typedef struct conn_ctx {
    MSG_CONN conn;
    MSG     *msg;
    int      leadspc;       /* header values arrive with their leading space */
    unsigned long noreply;  /* SMFIP_NR_* negotiated: those steps return NOREPLY */
    sfsistat deferred;      /* decision of a step without reply, or SMFIS_CONTINUE */
} CONN_CTX;

static int callbacks_unix;
static SERVICES callbacks_svc;          /* set before the milter thread starts */
static atomic_int callbacks_draining;
static atomic_int callbacks_nmsg;

void callbacks_drain(void)
{
    atomic_store(&callbacks_draining, 1);
}

int callbacks_inflight(void)
{
    return atomic_load(&callbacks_nmsg);
}

/* conn_get - this connection's state, created on first use */
static CONN_CTX *conn_get(SMFICTX *ctx)
{
    CONN_CTX *cc = smfi_getpriv(ctx);

    if (cc == NULL) {
        cc = xcalloc(1, sizeof(*cc));
        if (smfi_setpriv(ctx, cc) != MI_SUCCESS) {
            free(cc);
            return NULL;
        }
    }
    return cc;
}

/* conn_end_msg - forget the current message */
static void conn_end_msg(CONN_CTX *cc)
{
    cc->deferred = SMFIS_CONTINUE;
    if (cc->msg) {
        msg_free(cc->msg);
        cc->msg = NULL;
        atomic_fetch_sub(&callbacks_nmsg, 1);
    }
}

/* macro - a macro value copied into dst ("" when unset) */
static void macro(SMFICTX *ctx, const char *name, char *dst, size_t len)
{
    const char *v = smfi_getsymval(ctx, (char *) name);

    util_strlcpy(dst, v ? v : "", len);
}

/* reply_text - what may go into an SMTP reply: printable ASCII, no '%' */
static void reply_text(char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 32 || (unsigned char) *s > 126 || *s == '%')
            *s = '?';
}

/* verdict - apply a pipeline reply */
static sfsistat verdict(SMFICTX *ctx, CONN_CTX *cc, REPLY r)
{
    switch (r.verdict) {
    case REPLY_CONTINUE:
        return SMFIS_CONTINUE;
    case REPLY_ACCEPT:
        if (cc->msg)
            log_info("%s: %s: passed untouched", msg_queueid(cc->msg), msg_summary(cc->msg));
        conn_end_msg(cc);
        return SMFIS_ACCEPT;
    case REPLY_DISCARD:
        if (cc->msg)
            log_info("%s: %s", msg_queueid(cc->msg), msg_summary(cc->msg));
        conn_end_msg(cc);
        return SMFIS_DISCARD;
    case REPLY_TEMPFAIL:
    case REPLY_REJECT:
        reply_text(r.text);
        if (smfi_setreply(ctx, r.rcode, r.xcode, r.text) != MI_SUCCESS)
            log_warn("%s: cannot set SMTP reply %s %s", cc->msg ? msg_queueid(cc->msg) : "NOQUEUE",
                     r.rcode, r.xcode);
        if (cc->msg)
            log_info("%s: %s", msg_queueid(cc->msg), msg_summary(cc->msg));
        conn_end_msg(cc);
        return r.verdict == REPLY_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT;
    }
    log_err("internal error: unknown verdict %d", (int) r.verdict);
    return SMFIS_TEMPFAIL;
}

/* no_reply - the result of a step negotiated without reply: a decision is
 * kept for the next answered step (the verdict is already logged and the
 * message forgotten, so later steps see no message) */
static sfsistat no_reply(CONN_CTX *cc, unsigned long bit, sfsistat rc)
{
    if ((cc->noreply & bit) == 0)
        return rc;
    if (rc != SMFIS_CONTINUE && rc != SMFIS_NOREPLY)
        cc->deferred = rc;
    return SMFIS_NOREPLY;
}

/* take_deferred - a decision kept from a step without reply, given now */
static int take_deferred(CONN_CTX *cc, sfsistat *rc)
{
    if (cc->deferred == SMFIS_CONTINUE)
        return 0;
    *rc = cc->deferred;
    cc->deferred = SMFIS_CONTINUE;
    return 1;
}

/* tx_negotiate - actions, steps and macros we need */
static sfsistat tx_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3, unsigned long *pf0,
                             unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    CONN_CTX *cc = conn_get(ctx);
    unsigned long want = SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC
        | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;

    (void) f2;
    (void) f3;
    if (cc == NULL)
        return SMFIS_TEMPFAIL;
    if ((f0 & SMFIF_ADDHDRS) == 0) {
        log_err("the MTA does not offer to add headers: cannot sign; check milter_protocol");
        return SMFIS_REJECT;
    }
    if (callbacks_unix)
        want |= SMFIP_NODATA;
    *pf0 = (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST | SMFIF_QUARANTINE | SMFIF_DELRCPT
            | SMFIF_CHGFROM) & f0;
    *pf1 = want & f1;
    *pf2 = 0;
    *pf3 = 0;
    cc->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
    cc->noreply = *pf1 & (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY);
    cc->deferred = SMFIS_CONTINUE;
    if (*pf0 & SMFIF_SETSYMLIST) {
        (void) smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name} {client_port} j");
        /* the addresses as the MTA read them, comments and all removed */
        (void) smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen} {mail_addr}");
        (void) smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i {rcpt_addr}");
        (void) smfi_setsymlist(ctx, SMFIM_EOH, "i");
        (void) smfi_setsymlist(ctx, SMFIM_EOM, "i");
    }
    return SMFIS_CONTINUE;
}

/* tx_connect - remember who the client is */
static sfsistat tx_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
    CONN_CTX *cc = conn_get(ctx);

    if (cc == NULL)
        return SMFIS_TEMPFAIL;
    memset(&cc->conn, 0, sizeof(cc->conn));
    util_strlcpy(cc->conn.hostname, hostname ? hostname : "", sizeof(cc->conn.hostname));
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *) sa)->sin_addr, cc->conn.addr, sizeof(cc->conn.addr));
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *) sa)->sin6_addr, cc->conn.addr, sizeof(cc->conn.addr));
    macro(ctx, "{daemon_name}", cc->conn.daemon_name, sizeof(cc->conn.daemon_name));
    macro(ctx, "j", cc->conn.relay_name, sizeof(cc->conn.relay_name));
    /* Postfix's cleanup server, which emulates SMTP for sendmail(1) mail,
     * reports client port 0; a real SMTP client never has it. (Postfix 3.7
     * sends {daemon_addr} in both cases, so that cannot tell them apart.) */
    {
        const char *port = smfi_getsymval(ctx, "{client_port}");

        cc->conn.non_smtp = port != NULL && strcmp(port, "0") == 0;
    }
    return (cc->noreply & SMFIP_NR_CONN) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* tx_helo - the HELO name: SPF checks it for the null sender */
static sfsistat tx_helo(SMFICTX *ctx, char *name)
{
    CONN_CTX *cc = conn_get(ctx);

    if (cc == NULL)
        return SMFIS_TEMPFAIL;
    util_strlcpy(cc->conn.helo, name ? name : "", sizeof(cc->conn.helo));
    return (cc->noreply & SMFIP_NR_HELO) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* tx_envfrom - a message starts: outbound or not */
static sfsistat tx_envfrom(SMFICTX *ctx, char **argv)
{
    CONN_CTX *cc = conn_get(ctx);
    SNAPSHOT *snap;
    const char *why;
    char qid[64];
    REPLY r;

    if (cc == NULL)
        return SMFIS_TEMPFAIL;
    conn_end_msg(cc);
    if (atomic_load(&callbacks_draining)) {
        r = msg_reply(REPLY_TEMPFAIL, MSG_WHY_SHUTTING_DOWN);
        (void) smfi_setreply(ctx, r.rcode, r.xcode, r.text);
        return SMFIS_TEMPFAIL;
    }
    if ((snap = snapshot_acquire()) == NULL) {
        log_err("internal error: no configuration snapshot");
        return SMFIS_TEMPFAIL;
    }
    macro(ctx, "{auth_authen}", cc->conn.auth_authen, sizeof(cc->conn.auth_authen));
    cc->conn.has_mail_addr = smfi_getsymval(ctx, "{mail_addr}") != NULL;
    macro(ctx, "{mail_addr}", cc->conn.mail_addr, sizeof(cc->conn.mail_addr));
    cc->msg = msg_new(snap, &callbacks_svc, &cc->conn, argv && argv[0] ? argv[0] : "");
    atomic_fetch_add(&callbacks_nmsg, 1);
    snapshot_release(snap);
    macro(ctx, "i", qid, sizeof(qid));
    msg_set_queueid(cc->msg, qid);
    if (!msg_outbound(cc->msg, &why) && !msg_watched(cc->msg)) {
        log_info("%s: %s: passed untouched", msg_queueid(cc->msg), msg_summary(cc->msg));
        conn_end_msg(cc);
        return SMFIS_ACCEPT;
    }
    if ((r = msg_mail(cc->msg)).verdict != REPLY_CONTINUE)
        return verdict(ctx, cc, r);
    log_debug("%s: %s", msg_queueid(cc->msg), msg_summary(cc->msg));
    return SMFIS_CONTINUE;
}

/* tx_envrcpt - rate limits decide this recipient alone */
static sfsistat tx_envrcpt(SMFICTX *ctx, char **argv)
{
    CONN_CTX *cc = smfi_getpriv(ctx);
    char qid[64];
    REPLY r;

    if (cc == NULL || cc->msg == NULL)
        return SMFIS_CONTINUE;
    macro(ctx, "i", qid, sizeof(qid));
    msg_set_queueid(cc->msg, qid);
    r = msg_rcpt(cc->msg, argv && argv[0] ? argv[0] : "", smfi_getsymval(ctx, "{rcpt_addr}"));
    if (r.verdict != REPLY_TEMPFAIL && r.verdict != REPLY_REJECT)
        return SMFIS_CONTINUE;
    reply_text(r.text);
    if (smfi_setreply(ctx, r.rcode, r.xcode, r.text) != MI_SUCCESS)
        log_warn("%s: cannot set SMTP reply %s %s", msg_queueid(cc->msg), r.rcode, r.xcode);
    return r.verdict == REPLY_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

/* tx_data - answered on TCP so that cleanup's first write does not stall */
static sfsistat tx_data(SMFICTX *ctx)
{
    (void) ctx;
    return SMFIS_CONTINUE;
}

static sfsistat tx_header(SMFICTX *ctx, char *name, char *value)
{
    CONN_CTX *cc = smfi_getpriv(ctx);
    sfsistat rc = SMFIS_CONTINUE;

    if (cc && cc->msg) {
        if (cc->leadspc)
            (void) msg_header(cc->msg, name, value);
        else {
            /* Without LEADSPC Postfix removed exactly one space. */
            char *v = xasprintf(" %s", value);

            (void) msg_header(cc->msg, name, v);
            free(v);
        }
    }
    if (cc && (cc->noreply & SMFIP_NR_HDR))
        rc = SMFIS_NOREPLY;
    return rc;
}

static sfsistat tx_eoh(SMFICTX *ctx)
{
    CONN_CTX *cc = smfi_getpriv(ctx);
    char qid[64];

    if (cc == NULL)
        return SMFIS_CONTINUE;
    if (cc->msg == NULL)
        return no_reply(cc, SMFIP_NR_EOH, SMFIS_CONTINUE);
    macro(ctx, "i", qid, sizeof(qid));
    msg_set_queueid(cc->msg, qid);
    return no_reply(cc, SMFIP_NR_EOH, verdict(ctx, cc, msg_eoh(cc->msg)));
}

static sfsistat tx_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    CONN_CTX *cc = smfi_getpriv(ctx);

    if (cc == NULL)
        return SMFIS_CONTINUE;
    if (cc->msg == NULL || !msg_wants_body(cc->msg))
        return no_reply(cc, SMFIP_NR_BODY, SMFIS_CONTINUE);
    return no_reply(cc, SMFIP_NR_BODY, verdict(ctx, cc, msg_body(cc->msg, data, len)));
}

/* tx_eom - finish: add the signatures, log the summary */
static sfsistat tx_eom(SMFICTX *ctx)
{
    CONN_CTX *cc = smfi_getpriv(ctx);
    const MSG_HDROP *ops;
    REPLY r;
    char qid[64];
    size_t i, n;
    sfsistat kept;

    if (cc == NULL)
        return SMFIS_CONTINUE;
    if (take_deferred(cc, &kept))
        return kept;
    if (cc->msg == NULL)
        return SMFIS_CONTINUE;
    macro(ctx, "i", qid, sizeof(qid));
    msg_set_queueid(cc->msg, qid);
    r = msg_eom(cc->msg);
    if (r.verdict != REPLY_CONTINUE)
        return verdict(ctx, cc, r);
    n = msg_hdrops(cc->msg, &ops);
    for (i = 0; i < n; i++) {
        char *v;
        int rc;

        if (ops[i].kind == MSG_HDR_DELETE) {
            if (smfi_chgheader(ctx, ops[i].name, ops[i].index, NULL) != MI_SUCCESS)
                log_err("%s: cannot remove %s header: the MTA refused", msg_queueid(cc->msg), ops[i].name);
            continue;
        }
        if (ops[i].kind == MSG_FROM_CHANGE) {
            char *from = xasprintf("<%s>", ops[i].name);

            /* the message still goes, with its own sender: logged, not refused */
            if (smfi_chgfrom(ctx, from, NULL) != MI_SUCCESS)
                log_err("%s: cannot change the envelope sender to %s: the MTA refused "
                        "(milter_protocol 6 and SMFIF_CHGFROM needed)", msg_queueid(cc->msg), from);
            free(from);
            continue;
        }
        if (ops[i].kind == MSG_RCPT_DELETE) {
            if (smfi_delrcpt(ctx, ops[i].name) != MI_SUCCESS)
                log_err("%s: cannot remove recipient <%s>: the MTA refused", msg_queueid(cc->msg),
                        ops[i].name);
            continue;
        }
        v = cc->leadspc ? xasprintf(" %s", ops[i].value) : xstrdup(ops[i].value);
        rc = ops[i].kind == MSG_HDR_INSERT_TOP
            ? smfi_insheader(ctx, 0, ops[i].name, v)
            : smfi_addheader(ctx, ops[i].name, v);
        free(v);
        if (rc != MI_SUCCESS) {
            r = msg_unapplied(cc->msg);
            log_err("%s: cannot add %s header: the MTA refused; message tempfailed",
                    msg_queueid(cc->msg), ops[i].name);
            (void) smfi_setreply(ctx, r.rcode, r.xcode, r.text);
            conn_end_msg(cc);
            return SMFIS_TEMPFAIL;
        }
    }
    if (msg_quarantine(cc->msg)) {
        char *why = xstrdup(msg_quarantine(cc->msg));

        reply_text(why);
        if (smfi_quarantine(ctx, why) != MI_SUCCESS)
            log_err("%s: cannot quarantine the message (%s): the MTA refused", msg_queueid(cc->msg), why);
        free(why);
    }
    msg_applied(cc->msg);
    log_info("%s: %s", msg_queueid(cc->msg), msg_summary(cc->msg));
    conn_end_msg(cc);
    return SMFIS_CONTINUE;
}

static sfsistat tx_abort(SMFICTX *ctx)
{
    CONN_CTX *cc = smfi_getpriv(ctx);

    if (cc && cc->msg) {
        log_debug("%s: transaction aborted by the client or the MTA", msg_queueid(cc->msg));
        conn_end_msg(cc);
    }
    return SMFIS_CONTINUE;
}

static sfsistat tx_close(SMFICTX *ctx)
{
    CONN_CTX *cc = smfi_getpriv(ctx);

    if (cc) {
        conn_end_msg(cc);
        free(cc);
        (void) smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

static struct smfiDesc callbacks_table = {
    .xxfi_name = "txmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST | SMFIF_QUARANTINE | SMFIF_DELRCPT
        | SMFIF_CHGFROM,
    .xxfi_connect = tx_connect,
    .xxfi_helo = tx_helo,
    .xxfi_envfrom = tx_envfrom,
    .xxfi_envrcpt = tx_envrcpt,
    .xxfi_header = tx_header,
    .xxfi_eoh = tx_eoh,
    .xxfi_body = tx_body,
    .xxfi_eom = tx_eom,
    .xxfi_abort = tx_abort,
    .xxfi_close = tx_close,
    .xxfi_unknown = NULL,
    .xxfi_data = tx_data,
    .xxfi_negotiate = tx_negotiate,
};

struct smfiDesc *callbacks_desc(int unix_socket)
{
    callbacks_unix = unix_socket;
    return &callbacks_table;
}

/* callbacks_services - the stores every message gets (libmilter's
 * callbacks carry no context of ours but the connection's) */
void callbacks_services(const SERVICES *svc)
{
    callbacks_svc = *svc;
}

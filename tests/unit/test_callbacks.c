/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_callbacks.c - unit tests for milter/callbacks.c, the libmilter
 * adapter, without an MTA: the smfi_* functions it calls are replaced
 * here by fakes over a SMFICTX of the test's own (macros in, replies and
 * header changes recorded), and each row of a table drives one SMTP
 * transaction through the callback table (negotiate, connect, helo,
 * envfrom, envrcpt, header, eoh, body, eom, close) on a real snapshot
 * with an Ed25519 key. Checked: what each step returns to libmilter,
 * the SMTP reply set (codes, and text without '%' or control bytes),
 * the header changes (DKIM-Signature at the top, with the leading space
 * only under SMFIP_HDR_LEADSPC), decisions of steps without reply kept
 * for the end of message, the 421 while draining, and negotiation, and
 * what each transaction counted: txmilter_messages_total{action} and
 * txmilter_refusals_total{reason} (a 451 4.3.0 because the MTA refused
 * the signature is a tempfailed message, not a signed one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "callbacks.h"
#include "metrics.h"
#include "msg_metrics.h"
#include "services.h"
#include "snapshot.h"
#include "testutil.h"

/* ------------------------------------------------------------ fake libmilter */

#define CTX_MACROS 8

/* The connection as libmilter would hold it. */
struct smfi_str {
    void       *priv;
    const char *macro[CTX_MACROS][2];   /* name, value */
    char        reply[700];             /* "rcode xcode text" of the last smfi_setreply() */
    char        ops[8192];              /* the header and recipient changes, one a line */
    int         fail_insheader;         /* smfi_insheader() answers MI_FAILURE */
};

/* ops_add - record one change */
static void ops_add(SMFICTX *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ops_add(SMFICTX *ctx, const char *fmt, ...)
{
    size_t len = strlen(ctx->ops);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx->ops + len, sizeof(ctx->ops) - len, fmt, ap);
    va_end(ap);
}

/* smfi_getpriv - the fake: the connection's state */
void *smfi_getpriv(SMFICTX *ctx)
{
    return ctx->priv;
}

/* smfi_setpriv - the fake */
int smfi_setpriv(SMFICTX *ctx, void *priv)
{
    ctx->priv = priv;
    return MI_SUCCESS;
}

/* smfi_getsymval - the fake: the row's macros */
char *smfi_getsymval(SMFICTX *ctx, char *name)
{
    for (size_t i = 0; i < CTX_MACROS && ctx->macro[i][0]; i++)
        if (strcmp(ctx->macro[i][0], name) == 0)
            return (char *) ctx->macro[i][1];
    return NULL;
}

/* smfi_setreply - the fake: the reply is kept */
int smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *text)
{
    snprintf(ctx->reply, sizeof(ctx->reply), "%s %s %s", rcode, xcode ? xcode : "", text ? text : "");
    return MI_SUCCESS;
}

/* smfi_setsymlist - the fake: which macros each stage asks for */
int smfi_setsymlist(SMFICTX *ctx, int stage, char *macros)
{
    ops_add(ctx, "symlist %d %s\n", stage, macros);
    return MI_SUCCESS;
}

/* smfi_insheader - the fake: "ins INDEX NAME:VALUE" */
int smfi_insheader(SMFICTX *ctx, int index, char *name, char *value)
{
    if (ctx->fail_insheader)
        return MI_FAILURE;
    ops_add(ctx, "ins %d %s:%.40s\n", index, name, value);
    return MI_SUCCESS;
}

/* smfi_addheader - the fake: "add NAME:VALUE" */
int smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
    ops_add(ctx, "add %s:%.40s\n", name, value);
    return MI_SUCCESS;
}

/* smfi_chgheader - the fake: "chg NAME INDEX" (deletions only here) */
int smfi_chgheader(SMFICTX *ctx, char *name, int index, char *value)
{
    ops_add(ctx, "chg %s %d %s\n", name, index, value ? value : "(delete)");
    return MI_SUCCESS;
}

/* smfi_delrcpt - the fake: "delrcpt RCPT" */
int smfi_delrcpt(SMFICTX *ctx, char *rcpt)
{
    ops_add(ctx, "delrcpt %s\n", rcpt);
    return MI_SUCCESS;
}

/* smfi_chgfrom - the fake: "chgfrom ADDR" */
int smfi_chgfrom(SMFICTX *ctx, char *from, char *args)
{
    ops_add(ctx, "chgfrom %s%s%s\n", from, args ? " " : "", args ? args : "");
    return MI_SUCCESS;
}

/* smfi_quarantine - the fake: "quarantine REASON" */
int smfi_quarantine(SMFICTX *ctx, char *reason)
{
    ops_add(ctx, "quarantine %s\n", reason);
    return MI_SUCCESS;
}

/* ------------------------------------------------------------ fixture */

static char dir[] = "/tmp/txcallbacks.XXXXXX";
static METRICS *reg;
static MSG_METRICS counters;            /* messages and refusals only */

static const char *const actions[] = {"signed", "accept-unsigned", "not-outbound", "rejected", "tempfailed",
                                      "quarantined", "discarded", NULL};
static const char *const reasons[] = {"from", "alignment", "ratelimit", "suppressed", "dns", "store", "size",
                                      "sender", "recipient", "nokey", "signing", "unapplied", NULL};

/* setup - a key, its tables and the snapshot every row runs on */
static int setup(void)
{
    SERVICES svc;

    if (mkdtemp(dir) == NULL)
        return -1;
    th_signing_files(dir);
    snapshot_install(th_tables_snapshot(dir, "InternalHosts 127.0.0.1\n", (const char *) NULL));
    reg = metrics_new();
    counters.messages = metrics_family(reg, METRICS_COUNTER, "txmilter_messages_total", "m", "action", 16,
                                       NULL, 0);
    counters.refusals = metrics_family(reg, METRICS_COUNTER, "txmilter_refusals_total", "r", "reason", 32,
                                       NULL, 0);
    services_init(&svc);
    svc.metrics = &counters;
    callbacks_services(&svc);
    return 0;
}

/* ------------------------------------------------------------ transactions */

#define ALL_ACTIONS 0x1ffUL             /* what Postfix offers */
#define ALL_STEPS   0x1fffffUL

typedef struct cb_case {
    const char *name;
    int         unix_socket;
    int         leadspc;                /* the MTA offers SMFIP_HDR_LEADSPC */
    const char *client;                 /* IPv4 address */
    const char *auth;                   /* {auth_authen}, NULL: none */
    const char *from, *rcpt;            /* MAIL FROM and RCPT TO arguments */
    const char *from_field;             /* From value as the MTA gives it, NULL: none */
    int         fail_insheader;         /* the MTA refuses to insert a field */
    sfsistat    at_envfrom, at_envrcpt, at_eoh, at_eom;
    const char *reply;                  /* start of the reply set, "" for none */
    const char *ops;                    /* in the changes made, NULL: no field inserted */
    const char *action;                 /* the message counted under, NULL: none */
    const char *reason;                 /* one refusal counted under, NULL: none */
} CB_CASE;

#define GO SMFIS_CONTINUE
#define NR SMFIS_NOREPLY
#define NONE ((sfsistat) -1)            /* the step is not reached */

static const CB_CASE cb_cases[] = {
    {"internal client: signed, DKIM-Signature on top with its leading space", 1, 1, "127.0.0.1", NULL,
     "<a@example.com>", "<b@example.org>", " a@example.com", 0, GO, GO, NR, GO, "",
     "ins 0 DKIM-Signature: v=1;", "signed", NULL},
    {"without SMFIP_HDR_LEADSPC: the value without the space", 1, 0, "127.0.0.1", NULL,
     "<a@example.com>", "<b@example.org>", "a@example.com", 0, GO, GO, NR, GO, "", "ins 0 DKIM-Signature:v=1;",
     "signed", NULL},
    {"authenticated client: outbound", 0, 1, "198.51.100.7", "user", "<a@example.com>", "<b@example.org>",
     " a@example.com", 0, GO, GO, NR, GO, "", "ins 0 DKIM-Signature: v=1;", "signed", NULL},
    {"other client: accepted at MAIL FROM, untouched", 1, 1, "198.51.100.7", NULL, "<a@example.com>",
     "<b@example.org>", " a@example.com", 0, SMFIS_ACCEPT, NONE, NONE, NONE, "", NULL, "not-outbound",
     NULL},
    {"no From field: the refusal at end of header is given at end of message", 1, 1, "127.0.0.1", NULL,
     "<a@example.com>", "<b@example.org>", NULL, 0, GO, GO, NR, SMFIS_REJECT,
     "550 5.6.0 message has no From header field", NULL, "rejected", "from"},
    {"bad recipient: 550 5.1.3 at RCPT", 1, 1, "127.0.0.1", NULL, "<a@example.com>",
     "<john doe@example.org>", " a@example.com", 0, GO, SMFIS_REJECT, NONE, NONE, "550 5.1.3 <john doe@example.org>",
     NULL, NULL, "recipient"},
    {"bad sender with a percent sign: 553 5.1.7, the sign replaced", 1, 1, "127.0.0.1", NULL,
     "<a%b c@example.com>", "<b@example.org>", " a@example.com", 0, SMFIS_REJECT, NONE, NONE, NONE,
     "553 5.1.7 <a?b c@example.com>", NULL, "rejected", "sender"},
    {"the MTA refuses the signature: 451 4.3.0", 1, 1, "127.0.0.1", NULL, "<a@example.com>",
     "<b@example.org>", " a@example.com", 1, GO, GO, NR, SMFIS_TEMPFAIL, "451 4.3.0 cannot add DKIM signature",
     NULL, "tempfailed", "unapplied"},
};

/* step - one callback's result against what the row wants; 0 when the transaction ends */
static int step(const CB_CASE *c, const char *what, sfsistat got, sfsistat want)
{
    if (got != want)
        fail_msg("case \"%s\": %s returned %d, want %d", c->name, what, (int) got, (int) want);
    return got == SMFIS_CONTINUE || got == SMFIS_NOREPLY;
}

/* connect_client - negotiate, connect and HELO for the row */
static void connect_client(const CB_CASE *c, struct smfiDesc *d, SMFICTX *ctx)
{
    unsigned long f0, f1, f2, f3;
    struct sockaddr_in sin;

    assert_int_equal(d->xxfi_negotiate(ctx, ALL_ACTIONS, c->leadspc ? ALL_STEPS : ALL_STEPS & ~SMFIP_HDR_LEADSPC,
                                       0, 0, &f0, &f1, &f2, &f3), SMFIS_CONTINUE);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, c->client, &sin.sin_addr), 1);
    assert_int_equal(d->xxfi_connect(ctx, "client.example", (struct sockaddr *) &sin), SMFIS_NOREPLY);
    assert_int_equal(d->xxfi_helo(ctx, "app.example"), SMFIS_NOREPLY);
}

/* counts - each value's count in f, in order of vals */
static void counts(METRICS_FAMILY *f, const char *const *vals, double *out)
{
    for (size_t i = 0; vals[i]; i++)
        out[i] = metrics_value(f, METRICS_L(vals[i]));
}

/* check_counted - exactly one more under want (none when NULL), no more elsewhere */
static void check_counted(const CB_CASE *c, const char *family, METRICS_FAMILY *f, const char *const *vals,
                          const double *before, const char *want)
{
    double after[16];

    counts(f, vals, after);
    for (size_t i = 0; vals[i]; i++) {
        double delta = after[i] - before[i], wanted = want && strcmp(want, vals[i]) == 0;

        if (delta != wanted)
            fail_msg("case \"%s\": %s{%s} went up by %g, want %g", c->name, family, vals[i], delta, wanted);
    }
}

/* test_transaction - one row through every step it reaches */
static void test_transaction(void **state)
{
    const CB_CASE *c = *state;
    double actions0[16], reasons0[16];
    struct smfiDesc *d = callbacks_desc(c->unix_socket);
    SMFICTX ctx;
    char *from[] = {(char *) c->from, NULL}, *rcpt[] = {(char *) c->rcpt, NULL};
    char body[] = "hello\r\n";

    memset(&ctx, 0, sizeof(ctx));
    ctx.macro[0][0] = "i", ctx.macro[0][1] = "QID1";
    ctx.macro[1][0] = "{client_port}", ctx.macro[1][1] = "40000";
    ctx.macro[2][0] = "j", ctx.macro[2][1] = "relay.example";
    if (c->auth)
        ctx.macro[3][0] = "{auth_authen}", ctx.macro[3][1] = c->auth;
    ctx.fail_insheader = c->fail_insheader;
    counts(counters.messages, actions, actions0);
    counts(counters.refusals, reasons, reasons0);
    connect_client(c, d, &ctx);
    if (!step(c, "envfrom", d->xxfi_envfrom(&ctx, from), c->at_envfrom)
        || !step(c, "envrcpt", d->xxfi_envrcpt(&ctx, rcpt), c->at_envrcpt))
        goto close;
    if (c->from_field)
        (void) d->xxfi_header(&ctx, "From", (char *) c->from_field);
    (void) d->xxfi_header(&ctx, "Subject", c->leadspc ? " hi" : "hi");
    if (!step(c, "eoh", d->xxfi_eoh(&ctx), c->at_eoh))
        goto close;
    (void) d->xxfi_body(&ctx, (unsigned char *) body, strlen(body));
    (void) step(c, "eom", d->xxfi_eom(&ctx), c->at_eom);
close:
    assert_int_equal(d->xxfi_close(&ctx), SMFIS_CONTINUE);
    assert_null(ctx.priv);
    if (strncmp(ctx.reply, c->reply, strlen(c->reply)) != 0 || (c->reply[0] == 0 && ctx.reply[0]))
        fail_msg("case \"%s\": reply \"%s\", want \"%s...\"", c->name, ctx.reply, c->reply);
    for (const char *p = ctx.reply; *p; p++)
        if (*p == '%' || (unsigned char) *p < 32 || (unsigned char) *p > 126)
            fail_msg("case \"%s\": reply \"%s\" unfit for SMTP", c->name, ctx.reply);
    if (c->ops ? strstr(ctx.ops, c->ops) == NULL : strstr(ctx.ops, "ins ") != NULL)
        fail_msg("case \"%s\": changes\n%s\nwant \"%s\"", c->name, ctx.ops, c->ops ? c->ops : "no insertion");
    check_counted(c, "txmilter_messages_total", counters.messages, actions, actions0, c->action);
    check_counted(c, "txmilter_refusals_total", counters.refusals, reasons, reasons0, c->reason);
}

/* test_draining - after callbacks_drain() a new message gets 421 4.3.2 */
static void test_draining(void **state)
{
    const CB_CASE *c = &cb_cases[0];
    struct smfiDesc *d = callbacks_desc(1);
    SMFICTX ctx;
    char *from[] = {"<a@example.com>", NULL};

    (void) state;
    memset(&ctx, 0, sizeof(ctx));
    connect_client(c, d, &ctx);
    callbacks_drain();
    assert_int_equal(d->xxfi_envfrom(&ctx, from), SMFIS_TEMPFAIL);
    assert_string_equal(ctx.reply, "421 4.3.2 txmilter is shutting down, try again later");
    assert_int_equal(callbacks_inflight(), 0);
    assert_int_equal(d->xxfi_close(&ctx), SMFIS_CONTINUE);
}

/* One negotiation: what the MTA offers, what txmilter takes. */
typedef struct neg_case {
    const char *name;
    int         unix_socket;
    unsigned long offered_actions;
    sfsistat    result;
    int         nodata;                 /* SMFIP_NODATA asked for */
} NEG_CASE;

static const NEG_CASE neg_cases[] = {
    {"unix socket: DATA skipped", 1, ALL_ACTIONS, SMFIS_CONTINUE, 1},
    {"TCP: DATA answered (Nagle)", 0, ALL_ACTIONS, SMFIS_CONTINUE, 0},
    {"an MTA that cannot add headers is refused", 1, ALL_ACTIONS & ~SMFIF_ADDHDRS, SMFIS_REJECT, 0},
};

/* test_negotiate - actions, steps and macros asked for */
static void test_negotiate(void **state)
{
    const NEG_CASE *c = *state;
    struct smfiDesc *d = callbacks_desc(c->unix_socket);
    unsigned long f0 = 0, f1 = 0, f2 = 1, f3 = 1;
    SMFICTX ctx;

    memset(&ctx, 0, sizeof(ctx));
    if (d->xxfi_negotiate(&ctx, c->offered_actions, ALL_STEPS, 0, 0, &f0, &f1, &f2, &f3) != c->result)
        fail_msg("case \"%s\": negotiation result", c->name);
    if (c->result == SMFIS_CONTINUE) {
        unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST | SMFIF_QUARANTINE | SMFIF_DELRCPT
            | SMFIF_CHGFROM;

        if (f0 != want || (f1 & SMFIP_HDR_LEADSPC) == 0 || (f1 & SMFIP_NR_HDR) == 0 || f2 || f3
            || ((f1 & SMFIP_NODATA) != 0) != c->nodata)
            fail_msg("case \"%s\": actions %#lx steps %#lx", c->name, f0, f1);
        if (strstr(ctx.ops, "{rcpt_addr}") == NULL || strstr(ctx.ops, "{mail_addr}") == NULL)
            fail_msg("case \"%s\": macros asked for:\n%s", c->name, ctx.ops);
    }
    (void) d->xxfi_close(&ctx);
}

int main(void)
{
    const struct CMUnitTest last[] = {
        cmocka_unit_test(test_draining),    /* last: draining does not end */
    };
    int rc;

    if (setup() < 0) {
        fprintf(stderr, "test_callbacks: cannot set up %s\n", dir);
        return 1;
    }
    rc = RUN("callbacks negotiation", test_negotiate, neg_cases);
    rc |= RUN("callbacks transactions", test_transaction, cb_cases);
    rc |= cmocka_run_group_tests_name("callbacks draining", last, NULL, NULL);
    snapshot_shutdown();
    metrics_free(reg);
    return (th_remove_dir(dir) < 0 || rc) ? 1 : 0;
}

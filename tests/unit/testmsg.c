/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testmsg.c - the pipeline fixtures of testmsg.h, shared by test_msg_arf,
 * test_msg_bounce and test_msg_unsub.
 *
 * SYNOPSIS
 *	cmocka_run_group_tests_name(name, tests, th_msg_setup, th_msg_teardown)
 *	s = th_msg_snapshot(lines, extra); th_msg_services(&svc);
 *	sent = th_msg_outbound(s, &svc, stream, rcpt);
 *
 * DESCRIPTION
 *	th_msg_setup() makes the scratch directory th_msg_dir with a
 *	signing key, its KeyTable and SigningTable, and an unsubscribe key
 *	file (th_signing_files()); th_msg_teardown() removes it.
 *	th_msg_snapshot() builds a snapshot signing with them, the
 *	suppression list's DataDirectory th_msg_dir; th_msg_list() opens that
 *	list emptied (its file removed first) and th_msg_services() hands it
 *	to a SERVICES.
 *	th_msg_outbound() sends one message from an internal client: MAIL
 *	FROM and From the stream, one recipient, a Subject and a one-line
 *	body, and says what it got: the verdict, the List-Unsubscribe field
 *	appended and the envelope sender set, if any.
 *
 * DIAGNOSTICS
 *	A snapshot or list that cannot be made fails the calling test with
 *	the errors; a recipient refused at RCPT fails it too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "msg.h"
#include "services.h"
#include "snapshot.h"
#include "suppress.h"
#include "testmsg.h"
#include "testutil.h"

char th_msg_dir[] = "/tmp/txmsg-test.XXXXXX";

/* th_msg_setup - a signing key, its tables and the unsubscribe keys */
int th_msg_setup(void **state)
{
    (void) state;
    if (mkdtemp(th_msg_dir) == NULL)
        return -1;
    th_signing_files(th_msg_dir);
    return 0;
}

/* th_msg_teardown - remove th_msg_dir */
int th_msg_teardown(void **state)
{
    (void) state;
    return th_remove_dir(th_msg_dir);
}

/* th_msg_snapshot - the keys and the list in th_msg_dir, lines and extra */
SNAPSHOT *th_msg_snapshot(const char *lines, const char *extra)
{
    char base[1024];

    snprintf(base, sizeof(base), "InternalHosts 127.0.0.1\nUnsubscribeKeyFile %s/unsub.keys\n"
             "DataDirectory %s\n", th_msg_dir, th_msg_dir);
    return th_tables_snapshot(th_msg_dir, base, lines, extra, (const char *) NULL);
}

/* th_msg_list - an empty list in th_msg_dir */
SUPPRESS *th_msg_list(void)
{
    char path[300];
    SUPPRESS *l;
    BUF err;

    snprintf(path, sizeof(path), "%s/suppress.db", th_msg_dir);
    unlink(path);
    buf_init(&err, 512);
    l = suppress_open("embedded", th_msg_dir, 1000, &err);
    if (l == NULL)
        fail_msg("suppress_open: %s", err.data);
    buf_free(&err);
    return l;
}

/* th_msg_services - no stores but an empty list */
void th_msg_services(SERVICES *svc)
{
    services_init(svc);
    svc->suppress = th_msg_list();
}

/* th_msg_outbound - one message from stream to rcpt through eom */
TH_SENT th_msg_outbound(SNAPSHOT *s, SERVICES *svc, const char *stream, const char *rcpt)
{
    MSG_CONN conn;
    const MSG_HDROP *ops;
    char env[300], r[300], from[300];
    TH_SENT out;
    MSG *m;

    memset(&out, 0, sizeof(out));
    memset(&conn, 0, sizeof(conn));
    snprintf(conn.addr, sizeof(conn.addr), "127.0.0.1");
    snprintf(env, sizeof(env), "<%s>", stream);
    snprintf(from, sizeof(from), " %s", stream);
    m = msg_new(s, svc, &conn, env);
    msg_set_queueid(m, "OUT1");
    snprintf(r, sizeof(r), "<%s>", rcpt);
    assert_int_equal(msg_rcpt(m, r, rcpt).verdict, REPLY_CONTINUE);
    (void) msg_header(m, "From", from);
    (void) msg_header(m, "Subject", " hi");
    if ((out.verdict = msg_eoh(m)).verdict == REPLY_CONTINUE) {
        (void) msg_body(m, (const unsigned char *) "hi\r\n", 4);
        out.verdict = msg_eom(m);
    }
    for (size_t i = 0, n = msg_hdrops(m, &ops); i < n; i++) {
        if (ops[i].kind == MSG_FROM_CHANGE)
            snprintf(out.rp, sizeof(out.rp), "%s", ops[i].name);
        if (ops[i].kind == MSG_HDR_APPEND && strcmp(ops[i].name, "List-Unsubscribe") == 0)
            snprintf(out.lu, sizeof(out.lu), "%s", ops[i].value);
    }
    msg_free(m);
    return out;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_control.c - unit tests for control.c's gate: which peer may send
 * which request on the control socket.
 *
 *	No snapshot is installed, so a request that passes the gate is
 *	answered "ERR not configured"; one that does not is answered
 *	"ERR permission denied: ...". The daemon's own uid is 110 here.
 *	Every table row is one named cmocka test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"
#include "control.h"
#include "util.h"

#define SELF 110
#define PASSED "ERR not configured\n"
#define DENIED "ERR permission denied: "

typedef struct {
    const char *name;
    const char *request;
    long uid;                   /* the peer's; -1 unknown, -2 no peer at all */
    const char *want;           /* the answer starts with this */
} GATE_CASE;

static const GATE_CASE gate_cases[] = {
    {"root may reset", "RESET burst|rcpt=a@b.example\n", 0, PASSED},
    {"the daemon's uid may reset", "RESET burst|rcpt=a@b.example\n", SELF, PASSED},
    {"another uid may not reset", "RESET burst|rcpt=a@b.example\n", 1001, DENIED},
    {"reset in any case", "reset burst|rcpt=a@b.example\n", 1001, DENIED},
    {"reset without a key", "RESET\n", 1001, DENIED},
    {"unknown peer may not reset", "RESET k\n", -1, DENIED},
    {"no peer may not reset", "RESET k\n", -2, DENIED},
    {"another uid may show", "SHOW burst|rcpt=a@b.example\n", 1001, PASSED},
    {"another uid may explain", "EXPLAIN rcpt=a@b.example\n", 1001, PASSED},
    {"another uid may ask for stats", "STATS\n", 1001, PASSED},
    {"unknown peer may ask for stats", "STATS\n", -1, PASSED},
};

/* No store is open: the gate is decided before any store is asked. */
static const SERVICES no_services;

/* test_gate - the answer's first line */
static void test_gate(void **state)
{
    const GATE_CASE *c = *state;
    CONTROL_PEER peer = {c->uid, 4242, SELF};
    BUF out;

    buf_init(&out, 4096);
    control_handle(&no_services, c->request, c->uid == -2 ? NULL : &peer, &out);
    assert_non_null(out.data);
    if (strncmp(out.data, c->want, strlen(c->want)) != 0)
        fail_msg("answer %s, want %s...", out.data, c->want);
    buf_free(&out);
}

/* test_denied_names_uids - the refusal says who may, and who asked */
static void test_denied_names_uids(void **state)
{
    CONTROL_PEER peer = {1001, 4242, SELF};
    BUF out;

    (void) state;
    buf_init(&out, 4096);
    control_handle(&no_services, "RESET k\n", &peer, &out);
    assert_string_equal(out.data, "ERR permission denied: RESET changes state and needs root or "
                        "uid 110 (the daemon's own); you are uid 1001\n");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest single[] = {
        cmocka_unit_test(test_denied_names_uids),
    };
    int failed = RUN("control gate", test_gate, gate_cases);

    return failed + cmocka_run_group_tests_name("control refusal", single, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_feedback_id.c - unit tests for feedback_id.c: FeedbackID templates
 * accepted and refused, and their values filled in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feedback_id.h"
#include "testutil.h"

typedef struct fb_case {
    const char *name;
    const char *tmpl;
    const char *stream, *domain;
    const char *want;           /* NULL: the template is refused, or the value cannot be made */
    int         tmpl_ok;
} FB_CASE;

static const FB_CASE fb_cases[] = {
    { "stream_domain_sender", "%{stream}:%{domain}:txmilter", "news@shop.example", "shop.example",
      "news@shop.example:shop.example:txmilter", 1 },
    { "fixed_text_only", "campaign:customer:receipt:acme", "s", "d", "campaign:customer:receipt:acme", 1 },
    { "one_field", "%{domain}", "s", "shop.example", "shop.example", 1 },
    { "variable_twice", "%{domain}.%{domain}", "s", "a.example", "a.example.a.example", 1 },
    { "colon_in_value_made_dot", "%{stream}:x", "a:b@shop.example", "shop.example",
      "a.b@shop.example:x", 1 },
    { "space_in_value_refused", "%{stream}:x", "a b@shop.example", "shop.example", NULL, 1 },
    { "too_long_value", "%{stream}%{stream}", "{X300}", "d", NULL, 1 },
    { "five_fields_refused", "a:b:c:d:e", "s", "d", NULL, 0 },
    { "unknown_variable_refused", "%{token}:x", "s", "d", NULL, 0 },
    { "bare_percent_refused", "100%:x", "s", "d", NULL, 0 },
    { "space_refused", "a b:c", "s", "d", NULL, 0 },
    { "control_refused", "a\tb", "s", "d", NULL, 0 },
    { "eight_bit_refused", "caf\xc3\xa9", "s", "d", NULL, 0 },
    { "empty_refused", "", "s", "d", NULL, 0 },
    { "too_long_template", "{X300}", "s", "d", NULL, 0 },
};

/* test_feedback_id - check, then expand */
static void test_feedback_id(void **state)
{
    const FB_CASE *c = *state;
    char *tmpl = th_expand(c->tmpl, NULL), *stream = th_expand(c->stream, NULL);
    char why[128] = "", out[FEEDBACK_ID_MAX];
    int rc;

    if ((feedback_id_check(tmpl, TH_ERR(why)) == 0) != c->tmpl_ok)
        fail_msg("check: %s (%s)", c->tmpl_ok ? "refused" : "accepted", why);
    if (!c->tmpl_ok)
        assert_true(why[0] != 0);
    rc = feedback_id_expand(tmpl, stream, c->domain, out, sizeof(out));
    if (c->want) {
        assert_int_equal(rc, 0);
        assert_string_equal(out, c->want);
    } else {
        assert_int_equal(rc, -1);
        assert_string_equal(out, "");
    }
    free(tmpl);
    free(stream);
}

int main(void)
{
    return RUN("feedback_id", test_feedback_id, fb_cases) ? 1 : 0;
}

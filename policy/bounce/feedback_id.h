/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * feedback_id.h - Gmail's Feedback-ID header value from the FeedbackID
 * template: "%{stream}:%{domain}:txmilter" and the like.
 */
#ifndef TX_FEEDBACK_ID_H
#define TX_FEEDBACK_ID_H

#include <stddef.h>

#include "util.h"

#define FEEDBACK_ID_MAX 512         /* bytes of a value, NUL included */

/* feedback_id_check - 0 if tmpl is a template feedback_id_expand() takes,
 * else -1 with a short reason appended to err */
int feedback_id_check(const char *tmpl, BUF *err);

/* feedback_id_expand - tmpl with %{stream} and %{domain} replaced into
 * out; 0, or -1 when a value does not fit or holds what a header field
 * value may not (out is then "") */
int feedback_id_expand(const char *tmpl, const char *stream, const char *domain, char *out,
                       size_t outlen);

#endif

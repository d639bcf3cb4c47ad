/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * align_gen.h - the two generations of DMARC side by side: RFC 7489
 * (public suffix list) and RFC 9989 (DNS tree walk) each give an
 * outcome; the preflight acts on the stricter and names both when they
 * differ. Pure logic.
 */
#ifndef TX_ALIGN_GEN_H
#define TX_ALIGN_GEN_H

#include "align.h"

enum { ALIGN_GEN_7489 = 0, ALIGN_GEN_9989 = 1 };

/* align_gen_text - one generation's policy as the verdict names it:
 * "no policy", "policy unknown (DNS)", "p=reject from _dmarc.example.com",
 * "p=reject from the PSD _dmarc.example" */
void align_gen_text(const DMARC_CHECK *c, char *out, size_t outlen);

/* align_gen_rank - how strict an outcome is: refused for good, refused
 * for now, held, a failure delivered, anything else */
int align_gen_rank(const ALIGN_OUTCOME *o);

/* align_gen_merge - *out becomes the stricter of o[0] (RFC 7489) and
 * o[1] (RFC 9989), RFC 7489's on a tie; when the generations' policies
 * or verdicts differ, its reasons start with both ("RFC 7489: no policy;
 * RFC 9989: p=reject from the PSD _dmarc.example: ...") and its summary
 * ends with them. Returns the index chosen. */
int align_gen_merge(const DMARC_CHECK c[2], const ALIGN_OUTCOME o[2], ALIGN_OUTCOME *out);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sign.h - DKIM signing of one message with one or more keys (libopendkim).
 */
#ifndef TX_SIGN_H
#define TX_SIGN_H

#include <stddef.h>

#include <opendkim/dkim.h>

#include "conf.h"
#include "keys.h"
#include "util.h"

#define SIGN_MAX 8              /* signatures per message */

/* One signature to make. */
typedef struct sign_req {
    const KEYS_KEY *key;
    const char *domain;         /* d= */
    const char *selector;       /* s= */
    const char *signer;         /* i=, or NULL/"" for none */
} SIGN_REQ;

typedef struct sign_set SIGN_SET;

/* sign_lib_new - a DKIM_LIB set up from cf (header lists, no l=). The
 * library handle is shared read-only by all threads afterwards. NULL with
 * a message in errs on failure. */
DKIM_LIB *sign_lib_new(const TXCONF *cf, BUF *errs);
void sign_lib_free(DKIM_LIB *lib);

/* sign_begin - start a signature per request. NULL with a reason in err. */
SIGN_SET *sign_begin(DKIM_LIB *lib, const SIGN_REQ *req, size_t n, const char *jobid,
                     enum conf_canon hcanon, enum conf_canon bcanon, BUF *err);

/* Feed the message: header fields in signing form (hdr_signing_form()),
 * then end of headers, then body bytes (CRLF line ends), then the end.
 * Each returns 0, or -1 with a reason in err. */
/* sign_set_handover - on (the default): the body is hashed once in
 * txmilter and the digest handed to every handle when libopendkim is the
 * version sign_bh.c knows; off: libopendkim hashes the body per handle.
 * Only before sign_eoh(). sign_handed_over(): after sign_eoh(), 1 if the
 * digest is being handed over. */
void sign_set_handover(SIGN_SET *ss, int on);
int sign_handed_over(const SIGN_SET *ss);

int sign_header(SIGN_SET *ss, const char *field, size_t len, BUF *err);
int sign_eoh(SIGN_SET *ss, BUF *err);
int sign_body(SIGN_SET *ss, const unsigned char *data, size_t len, BUF *err);
int sign_eom(SIGN_SET *ss, BUF *err);

/* After sign_eom(): how many signatures, and each DKIM-Signature value
 * (folded with LF + TAB, no CR, starting with "v=1;"). Owned by ss. */
size_t sign_count(const SIGN_SET *ss);
const char *sign_value(const SIGN_SET *ss, size_t i);
const SIGN_REQ *sign_request(const SIGN_SET *ss, size_t i);

void sign_free(SIGN_SET *ss);

#endif

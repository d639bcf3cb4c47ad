/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * callbacks.h - the libmilter callback table and the process-wide state
 * the daemon needs from it (messages in flight, draining on shutdown).
 */
#ifndef TX_CALLBACKS_H
#define TX_CALLBACKS_H

#include <libmilter/mfapi.h>

#include "services.h"

/* The filter description to pass to smfi_register(). unix_socket says
 * whether Postfix talks to us over a unix socket, where steps can be
 * negotiated to need no reply without meeting Nagle's algorithm. */
struct smfiDesc *callbacks_desc(int unix_socket);

/* callbacks_services - the services handed to every message; call once,
 * before the milter thread starts */
void callbacks_services(const SERVICES *svc);

/* callbacks_drain - stop taking new messages (they get 421 4.3.2) */
void callbacks_drain(void);

/* callbacks_inflight - messages between MAIL FROM and their end */
int callbacks_inflight(void);

#endif

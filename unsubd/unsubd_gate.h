/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_gate.h - txmilter-unsubd's front door: accepts the connections,
 * limits them per client address, gives each request a deadline for its
 * header fields and body together, and hands libmicrohttpd only whole,
 * well-formed requests (unsubd_head.c); everything else it answers
 * itself, with the full header set and a log line.
 */
#ifndef TX_UNSUBD_GATE_H
#define TX_UNSUBD_GATE_H

#include <sys/socket.h>

#include <microhttpd.h>

#include "netlist.h"
#include "unsubd_metrics.h"

#define UNSUBD_GATE_PER_CLIENT  16      /* connections per client address (IPv6: /64) */
#define UNSUBD_GATE_DEADLINE    20      /* seconds for a whole request: line, fields, body */
#define UNSUBD_GATE_PENDING     512     /* requests being received at once */

typedef struct unsubd_gate UNSUBD_GATE;

/* unsubd_gate_start - serve listen_fd (owned from then on) for mhd (a
 * daemon started with MHD_USE_NO_LISTEN_SOCKET); connections from an
 * address in trusted (may be NULL) are not limited per address (the
 * proxy: its requests are limited per X-Forwarded-For client instead). Its own
 * answers are counted in metrics (may be NULL). The gate is
 * also stored in *slot before its thread starts (libmicrohttpd's
 * callbacks find it there). NULL, logged, if the thread cannot start. */
UNSUBD_GATE *unsubd_gate_start(int listen_fd, struct MHD_Daemon *mhd, const NETLIST *trusted,
                               UNSUBD_METRICS *metrics, UNSUBD_GATE **slot);

/* unsubd_gate_opened, unsubd_gate_closed - libmicrohttpd started a
 * connection the gate handed over, or closes the one on fd (its
 * MHD_OPTION_NOTIFY_CONNECTION, before the socket is closed) */
void unsubd_gate_opened(UNSUBD_GATE *g);
void unsubd_gate_closed(UNSUBD_GATE *g, int fd);

/* unsubd_gate_quiesce - stop accepting (the listening socket is closed);
 * requests being received go on */
void unsubd_gate_quiesce(UNSUBD_GATE *g);

/* unsubd_gate_busy - requests of which a byte has come and that are not
 * yet answered: in the gate, being handed over, or in libmicrohttpd */
int unsubd_gate_busy(UNSUBD_GATE *g);

/* unsubd_gate_stop - stop the thread (nothing is handed over after it)
 * and close what it holds */
void unsubd_gate_stop(UNSUBD_GATE *g);

/* unsubd_gate_free - free it, once libmicrohttpd has stopped */
void unsubd_gate_free(UNSUBD_GATE *g);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net_listen.h - "host:port" listen addresses: reading one and binding a
 * TCP socket to it (txmilter-unsubd's endpoint, the metrics endpoints).
 */
#ifndef TX_NET_LISTEN_H
#define TX_NET_LISTEN_H

#include <stddef.h>

/* net_listen_split - "host:port" or "[v6]:port" into host (without
 * brackets; "*" stays "*") and port (1-65535); -1 if malformed */
int net_listen_split(const char *value, char *host, size_t hostlen, char *port, size_t portlen);

/* net_listen_tcp - a listening, non-blocking, close-on-exec TCP socket on
 * value ("host:port"; host "*": every address), or -1 with the reason
 * logged as "what value: ...". */
int net_listen_tcp(const char *what, const char *value);

#endif

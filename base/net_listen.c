/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net_listen.c - listen addresses: reading and binding them
 *
 * SYNOPSIS
 *	#include "net_listen.h"
 *
 *	int	net_listen_split(const char *value, char *host, size_t hostlen,
 *				 char *port, size_t portlen)
 *	int	net_listen_tcp(const char *what, const char *value)
 *
 * DESCRIPTION
 *	net_listen_split() reads "host:port"; an IPv6 address needs its
 *	brackets ("[::1]:9140"); the port is a number from 1 to 65535.
 *
 *	net_listen_tcp() resolves the host (numeric or a name; "*" is every
 *	address) and binds the first address that can be bound, with
 *	SO_REUSEADDR, and listens on it. Called while the process may still
 *	bind any port, before privileges are dropped.
 *
 * DIAGNOSTICS
 *	net_listen_split() returns -1 for a value without a port, with a
 *	port out of range or a host too long for host. net_listen_tcp()
 *	logs why it cannot listen (name "what value") and returns -1.
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "net_listen.h"
#include "util.h"

/* net_listen_split - split host:port */
int net_listen_split(const char *value, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon, *h = value;
    size_t hl;
    char *end;
    unsigned long p;

    if (value[0] == '[') {
        const char *rb = strchr(value, ']');

        if (rb == NULL || rb[1] != ':')
            return -1;
        h = value + 1;
        hl = (size_t) (rb - h);
        colon = rb + 1;
    } else {
        if ((colon = strrchr(value, ':')) == NULL || strchr(value, ':') != colon)
            return -1;              /* an IPv6 address needs its brackets */
        hl = (size_t) (colon - value);
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != 0 || errno != 0 || p == 0 || p > 65535
        || strlen(colon + 1) >= portlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    (void) util_strlcpy(port, colon + 1, portlen);
    return 0;
}

/* net_listen_tcp - bind and listen */
int net_listen_tcp(const char *what, const char *value)
{
    struct addrinfo hints, *res = NULL, *ai;
    char host[256], port[8];
    int fd = -1, rc, one = 1, err = 0;

    if (net_listen_split(value, host, sizeof(host), port, sizeof(port)) < 0) {
        log_err("%s %s: expected host:port", what, value);
        return -1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if ((rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res)) != 0) {
        log_err("%s %s: %s", what, value, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol)) < 0) {
            err = errno;
            continue;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
            break;
        err = errno;
        (void) close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        log_err("%s %s: cannot listen: %s", what, value, strerror(err));
    return fd;
}

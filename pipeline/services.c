/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * services.c - the shared services handed to the pipeline.
 *
 * SYNOPSIS
 *	#include "services.h"
 *
 *	void	services_init(SERVICES *svc)
 *	time_t	services_time(void)
 *	time_t	services_now(const SERVICES *svc)
 *
 * DESCRIPTION
 *	services_init() fills a SERVICES with what every program has: no
 *	rate store, no suppression list, no counters, the process's
 *	resolver (dns_resolver()) and the system clock; the program then
 *	sets the stores and counters it opened. A test sets its own
 *	resolver or clock instead.
 *
 *	services_now() reads svc's clock (services_time() when none is
 *	set); the pipeline reads the time only through it.
 *
 * DIAGNOSTICS
 *	None.
 */
#include <string.h>

#include "services.h"

/* services_init - no stores, the process's resolver and clock */
void services_init(SERVICES *svc)
{
    memset(svc, 0, sizeof(*svc));
    svc->dns = dns_resolver();
    svc->now = services_time;
}

/* services_time - time() */
time_t services_time(void)
{
    return time(NULL);
}

/* services_now - the services' clock */
time_t services_now(const SERVICES *svc)
{
    return svc && svc->now ? svc->now() : services_time();
}

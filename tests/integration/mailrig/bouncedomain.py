# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.bouncedomain - a private Postfix set up for the bounce domain as the README
tells operators to, for the tests of what comes back to the return path (bounces,
complaints):

    relay_domains = bounce.example.com
    transport_maps = hash:<its etc>/transport          bounce.example.com  discard:
    internal_mail_filter_classes = bounce              (own_bounces: its bounce daemon's
                                                        DSNs pass the milter too)

and, unlike the session's instance, with Postfix's default relay restrictions and
mynetworks = 127.0.0.1/32, so that a client on REMOTE is a remote MTA: Postfix takes mail
from it only for the relay domain, and txmilter (InternalHosts 127.0.0.1, ::1) sees it as
inbound.  Everything else is relayed to the given receiver (a mailrig.capture.Capture).
"""

import os

from .postfix import Postfix
from .util import run

BOUNCE_DOMAIN = "bounce.example.com"
REMOTE = "127.0.0.2"                    # neither Postfix's mynetworks nor InternalHosts


def bounce_domain_postfix(workdir, relay, milter_spec, name, own_bounces=True, extra=None):
    """bounce_domain_postfix - a started Postfix that accepts BOUNCE_DOMAIN (discarding
    what the milter lets through) and relays everything else to relay (host, port);
    extra: more main.cf settings, e.g. maximal_queue_lifetime"""
    conf = {
        "relay_domains": BOUNCE_DOMAIN,
        "mynetworks": "127.0.0.1/32",
        # Postfix's default: relay for mynetworks, and to relay_domains
        "smtpd_relay_restrictions":
            "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
    }
    if own_bounces:
        conf["internal_mail_filter_classes"] = "bounce"
    conf.update(extra or {})
    pf = Postfix(workdir, relay, milter_spec, name=name, extra=conf)
    transport = os.path.join(pf.confdir, "transport")
    with open(transport, "w") as f:
        f.write("%s    discard:\n" % BOUNCE_DOMAIN)
    run(["postmap", "hash:" + transport])
    pf.extra["transport_maps"] = "hash:" + transport
    return pf.start()

# SPDX-License-Identifier: BSD-2-Clause
"""mailrig - real mail components on loopback, for txmilter's integration tests.

Everything here starts real programs (unbound, txmilter or opendkim, a private
Postfix instance, an SMTP capture server, redis-server) on free loopback ports inside
one working directory, and stops them again.  The pytest fixtures in conftest.py,
tests/bench, tests/redis-launch and contrib/quickstart.sh use it; nothing in it
depends on pytest.  Each piece has start()/stop(); stop() is safe to call twice and
after a failed start.  All programs run as root (Postfix drops to its mail_owner
itself).  Errors raise RigError with the relevant log excerpt.

The modules, lowest first (each imports only those above it):

  mailrig.util          RigError, free_port, wait_until, run, tail, stop_process,
                        make_dir, make_traversable, point_link, connectable, Cleanup
  mailrig.keys          KeyPair.rsa(), KeyPair.ed25519(): keys and their DKIM records
  mailrig.unbound       DnsServer (unbound with local zones), dns_txt, txt_rdata
  mailrig.message       make_message, Message (header access, exact bytes), parse_tags
  mailrig.capture       Capture (smtpcapture.py), Delivered
  mailrig.milters       SigningSetup, setup_for, TxMilter, OpenDkim, txmilter_binary
  mailrig.smtp          smtp_send -> SmtpResult (the one SMTP client), smtp_raw
  mailrig.maincf        MainCfRegistration (alternate_config_directories)
  mailrig.postfix       Postfix: a private instance, submit, sendmail, maillog lookups
  mailrig.bouncedomain  bounce_domain_postfix: a Postfix set up for the bounce domain
                        (BOUNCE_DOMAIN, a discard: transport, REMOTE a remote MTA)
  mailrig.verify        verify_dkimpy, verify_maildkim, check_signed, check_not_verifying
  mailrig.redisserver   RedisServer (also redis-sentinel), RedisMonitor; tests/redis-launch
  mailrig.chromium      Chromium: headless chromium over the DevTools protocol (a pipe)
  mailrig.prometheus    Prometheus: Debian's prometheus scraping the daemons, its HTTP API

Tests import from the modules; the names below are here too, for scripts that
`import mailrig` (contrib/quickstart-demo.py, tests/bench).
"""

from .util import (HERE, PYTHON, REPO, Cleanup, RigError, connectable, free_port,
                   make_dir, make_traversable, point_link, run, stop_process, tail, wait_until)
from .keys import KeyPair
from .unbound import DnsServer, dns_txt, txt_rdata
from .message import Message, make_message, parse_tags
from .capture import Capture, Delivered
from .milters import (Milter, OpenDkim, SigningSetup, TxMilter, setup_for,
                      txmilter_binary, txmilter_usable)
from .smtp import SmtpResult, smtp_raw, smtp_send
from .maincf import MainCfRegistration
from .postfix import Postfix
from .bouncedomain import BOUNCE_DOMAIN, REMOTE, bounce_domain_postfix
from .verify import (check_not_verifying, check_signed, describe, verify_all,
                     verify_dkimpy, verify_maildkim)
from .redisserver import RedisMonitor, RedisServer
from .prometheus import Prometheus

__all__ = ["HERE", "PYTHON", "REPO", "Cleanup", "RigError", "connectable", "free_port",
           "make_dir", "make_traversable", "point_link", "run", "stop_process", "tail",
           "wait_until", "KeyPair", "DnsServer", "dns_txt", "txt_rdata", "Message",
           "make_message", "parse_tags", "Capture", "Delivered", "Milter", "OpenDkim",
           "SigningSetup", "TxMilter", "setup_for", "txmilter_binary", "txmilter_usable",
           "SmtpResult", "smtp_raw", "smtp_send", "MainCfRegistration", "Postfix",
           "BOUNCE_DOMAIN", "REMOTE", "bounce_domain_postfix",
           "check_not_verifying", "check_signed", "describe", "verify_all", "verify_dkimpy",
           "verify_maildkim", "RedisMonitor", "RedisServer", "Prometheus"]

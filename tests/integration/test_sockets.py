# SPDX-License-Identifier: BSD-2-Clause
"""The milter on TCP sockets (inet: and inet6:), the way many sites run OpenDKIM.

Each test starts its own Postfix instance whose smtpd_milters point at the TCP socket.
"""

import pytest

from mailrig.message import make_message
from mailrig.milters import setup_for
from mailrig.verify import check_signed

RSA = [("example.com", "rsa-sha256")]
DUAL = [("example.com", "rsa-sha256"), ("example.com", "ed25519-sha256")]


def test_inet_socket_rsa_signed_and_verified(dns, keys, capture, start_milter, make_postfix):
    m = start_milter(setup_for(keys, "rsa"), socket_kind="inet")
    assert m.spec.startswith("inet:") and m.postfix_spec.startswith("inet:127.0.0.1:")
    pf = make_postfix(m.postfix_spec)
    for i in range(3):               # several messages on fresh milter connections
        msg, mid = make_message(subject="inet %d" % i)
        r = pf.submit("sender@example.com", ["rcpt@receiver.example"], msg)
        assert r.accepted, r
        d = capture.wait_for(mid)
        check_signed(d.raw, dns.port, RSA)
    rc, out = pf.sendmail("sender@example.com", ["rcpt@receiver.example"],
                          make_message(message_id="inet-sendmail-%s@txtest.example"
                                       % m.port)[0])
    assert rc == 0, out
    d = capture.wait_for("inet-sendmail-%s@txtest.example" % m.port)
    check_signed(d.raw, dns.port, RSA)
    assert m.alive()


def test_inet6_socket_dual_signed_for_an_ipv6_client(dns, keys, capture, start_milter,
                                                     make_postfix):
    import socket
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    m = start_milter(setup_for(keys, "dual"), socket_kind="inet6")
    assert m.postfix_spec.startswith("inet:[::1]:")
    pf = make_postfix(m.postfix_spec, ipv6=True)
    msg, mid = make_message(subject="inet6")
    r = pf.submit("sender@example.com", ["rcpt@receiver.example"], msg, host="::1")
    assert r.accepted, r
    d = capture.wait_for(mid)
    check_signed(d.raw, dns.port, DUAL)
    assert any("client=" in l and "::1" in l for l in pf.log_for(mid))
    assert m.alive()

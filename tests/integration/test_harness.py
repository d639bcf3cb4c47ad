# SPDX-License-Identifier: BSD-2-Clause
"""The harness itself, proven with components nobody here wrote.

Whatever --milter says for the rest of the suite, these tests use Debian's OpenDKIM
as the signing milter, so that a failure here is a harness problem, not a txmilter
bug.  If they fail, nothing else in this directory means anything.
"""

import os
import smtplib
import socket
import struct
import threading

import pytest

from mailrig.util import RigError
from mailrig.message import make_message
from mailrig.milters import TxMilter, setup_for, txmilter_usable
from mailrig.redisserver import RedisServer
from mailrig.smtp import smtp_send
from mailrig.verify import check_not_verifying, check_signed
from ratelimit_helpers import ctl



def test_harness_dns_serves_dkim_records_split_into_255_byte_strings(dns, keys):
    from dns.rdatatype import TXT
    rsa = keys["rsa_com"]
    ans = dns.query(rsa.dns_name, "TXT")
    strings = [s for rr in ans.response.answer if rr.rdtype == TXT
               for item in rr.items for s in item.strings]
    assert len(strings) >= 2 and all(len(s) <= 255 for s in strings)
    assert b"".join(strings).decode() == rsa.dns_txt
    assert dns.txt(keys["ed_com"].dns_name).decode() == keys["ed_com"].dns_txt
    assert dns.txt("nosuch._domainkey.example.com") is None


def test_harness_keys_are_private_and_in_the_expected_formats(keys):
    import os
    for k in keys.values():
        assert os.stat(k.path).st_mode & 0o777 == 0o600
        with open(k.path) as f:
            assert f.readline().strip() == "-----BEGIN PRIVATE KEY-----"
    assert keys["ed_com"].dns_txt.startswith("v=DKIM1; k=ed25519; p=")
    assert len(keys["ed_com"].dns_txt.split("p=")[1]) == 44      # base64 of 32 bytes


def test_harness_capture_keeps_the_exact_bytes_it_receives(capture):
    raw = (b"From: a@example.com\r\nSubject:  two  spaces \t\r\n\tfolded\r\n"
           b"X-8bit: \xc3\xa9t\xe9\r\n\r\n.leading dot\r\n..two dots\r\ntrailing space \r\n")
    s = smtplib.SMTP("127.0.0.1", capture.port, timeout=10)
    s.sendmail("a@example.com", ["b@example.net"], raw)
    s.quit()
    got = [m for m in capture.messages() if m.raw == raw]
    assert len(got) == 1
    assert got[0].meta["rcpts"] == ["<b@example.net>"]


def test_harness_opendkim_signature_verified_by_both_verifiers(rig):
    rig.start_milter(setup_for(rig.keys, "rsa"), kind="opendkim")
    msg, mid = make_message()
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    assert r.accepted, r
    d = rig.capture.wait_for(mid)
    assert d.msg.names()[0] == "DKIM-Signature"
    check_signed(d.raw, rig.dns.port, [("example.com", "rsa-sha256")])
    # and the verifiers do notice tampering
    bad = d.raw.replace(b"Subject: txmilter test", b"Subject: txmilter tesT", 1)
    check_not_verifying(bad, rig.dns.port)
    lines = rig.postfix.log_for(mid)
    assert any("status=sent" in l for l in lines), lines


def test_harness_opendkim_signs_mail_submitted_with_sendmail(rig):
    rig.start_milter(setup_for(rig.keys, "rsa"), kind="opendkim")
    msg, mid = make_message()
    rc, out = rig.postfix.sendmail("sender@example.com", ["rcpt@receiver.example"], msg)
    assert rc == 0, out
    d = rig.capture.wait_for(mid)
    check_signed(d.raw, rig.dns.port, [("example.com", "rsa-sha256")])


def test_harness_milter_down_means_tempfail_not_loss(rig):
    # No milter on the socket: milter_default_action = tempfail must refuse with 4xx.
    rig.no_milter()
    msg, mid = make_message()
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    assert r.all_refused and 400 <= r.refusal[1] < 500, r
    assert rig.capture.find(mid) == []


def test_harness_dns_takes_new_records_on_restart(dns):
    dns.add_txt("_dmarc.example.org", "v=DMARC1; p=reject")
    dns.add_rr("mail.example.org. 300 IN A 192.0.2.25")
    dns.restart()
    try:
        assert dns.txt("_dmarc.example.org") == b"v=DMARC1; p=reject"
        assert [r.address for r in dns.query("mail.example.org", "A")] == ["192.0.2.25"]
    finally:
        dns.remove("_dmarc.example.org")
        dns.remove("mail.example.org")
        dns.restart()
    assert dns.txt("_dmarc.example.org") is None


def test_harness_postfix_fate_of_a_delivered_message(rig):
    rig.start_milter(setup_for(rig.keys, "rsa"), kind="opendkim")
    msg, mid = make_message()
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    assert r.accepted, r
    rig.capture.wait_for(mid)
    rig.postfix.wait_log_for(mid, "status=sent")
    fate = rig.postfix.fate(mid)
    assert fate["queue_id"] == r.queue_id and fate["status"] == "sent", fate


def test_harness_capture_refuses_chosen_recipients_with_the_chosen_reply(capture):
    """capture.refuse(): a listed recipient (any case) gets exactly the reply given, at
    once and on every attempt, the others 250; a refusal is recorded; lifting it works"""
    dead, full, ok = "dead.h@receiver.example", "full.h@receiver.example", "ok.h@receiver.example"
    capture.refuse(dead, "550 5.1.1 <%s>: no such user" % dead)
    capture.refuse(full, "452 4.2.2 <%s>: mailbox full" % full)
    try:
        msg, mid = make_message()
        r = smtp_send(capture.port, "a@example.com", [dead.upper(), full, ok], msg)
        assert r.rcpt(dead.upper()) == (550, "5.1.1 <%s>: no such user" % dead), r.rcpts
        assert r.rcpt(full) == (452, "4.2.2 <%s>: mailbox full" % full), r.rcpts
        assert r.accepted, r
        d = capture.wait_for(mid)
        assert d.meta["rcpts"] == ["<%s>" % ok], d.meta
        got = capture.wait_refused(dead)
        assert got[-1]["reply"] == "550 5.1.1 <%s>: no such user" % dead, got
        assert got[-1]["mail_from"] == "<a@example.com>", got
        capture.refuse(full, None)
        msg, mid = make_message()
        r = smtp_send(capture.port, "a@example.com", [dead, full], msg)
        assert r.rcpt(dead)[0] == 550 and r.rcpt(full)[0] == 250 and r.accepted, r.rcpts
        assert capture.wait_for(mid).meta["rcpts"] == ["<%s>" % full]
        assert len(capture.refused(full)) == 1 and len(capture.refused(dead)) == 2
    finally:
        capture.refuse_none()
    msg, mid = make_message()
    r = smtp_send(capture.port, "a@example.com", [dead], msg)
    assert r.accepted, r


def test_harness_capture_refuse_wants_a_real_reply_code(capture):
    for bad in ("250 2.0.0 fine", "55 5.1.1 short", "550", "550 5.1.1 a\r\nb", "550 5.1.1 a\n"):
        with pytest.raises(RigError):
            capture.refuse("x@receiver.example", bad)
    # a broken rules file shows (451 to every RCPT) instead of silently delivering
    with open(capture.refuse_file, "w") as f:
        f.write('{"x@receiver.example": "250 ok"}')
    try:
        msg, _ = make_message()
        r = smtp_send(capture.port, "a@example.com", ["y@receiver.example"], msg)
        assert r.rcpt("y@receiver.example") == (451, "4.3.5 smtpcapture: bad refuse file"), r.rcpts
    finally:
        capture.refuse_none()


class PongSquatter:
    """a listener on a loopback port that answers anything with +PONG, as another
    test's Redis on a port our server wanted would"""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                c.recv(4096)
                c.sendall(b"+PONG\r\n")

    def close(self):
        self.sock.close()


def test_harness_redis_start_waits_for_its_own_server_not_the_port_squatter(workdir):
    """a port free_port() chose and another process took before redis-server bound it:
    start() does not take the squatter's PONG for our server, it moves to another port
    (a restart keeps that one); a port asked for stays taken: a clear RigError"""
    squat = PongSquatter()
    try:
        r = RedisServer(workdir, name="squatted")
        r.port = squat.port                 # as if taken between free_port() and bind
        r.start()
        try:
            assert r.port != squat.port and r.alive() and r.ping(), (r.port, squat.port)
            assert r.cli("SET", "k", "v").strip() == "OK"
            port = r.port
            r.kill()
            r.start()
            assert r.port == port and r.alive() and r.ping()
        finally:
            r.kill()
        fixed = RedisServer(workdir, name="fixed", port=squat.port)
        with pytest.raises(RigError, match="port %d stayed in use" % squat.port):
            fixed.start(timeout=1)
        assert not fixed.alive()
    finally:
        squat.close()


def _listener_pid(path):
    """the pid of the process listening on the unix socket path (SO_PEERCRED)"""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.settimeout(5)
        c.connect(path)
        cred = c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", cred)[0]
    finally:
        c.close()


def test_harness_txmilters_started_together_answer_on_their_own_control_sockets(workdir, keys):
    """two txmilters of one directory (as the tests' milters share one), neither naming a
    ControlSocket or DataDirectory: each gets its own in that directory, never the
    machine's default (/run/txmilter/control.sock, /var/lib/txmilter), and txmilterctl
    with either's configuration talks to that daemon: its policy, its pid on the socket"""
    ok, why = txmilter_usable()
    if not ok:
        pytest.fail("txmilter is not usable: %s" % why)
    pair = []
    try:
        for tag in ("first", "second"):
            policy = os.path.join(workdir, "ctl-pair-%s.policy" % tag)
            with open(policy, "w") as f:
                f.write("burst-%s rcpt 3/10m tempfail\n" % tag)
            m = TxMilter(workdir, setup_for(keys, "rsa", extra=[("RateLimitPolicy", policy)]),
                         name="ctl-pair", tag=tag, sock_name="%s.sock" % tag)
            m.policy, m.rule = policy, "burst-" + tag
            pair.append(m)
        for m in pair:
            m.start()
        a, b = pair
        assert a.control_socket != b.control_socket
        assert a.datadir != b.datadir
        for m in pair:
            assert os.path.dirname(m.control_socket) == m.dir, m.control_socket
            assert os.path.dirname(m.datadir) == m.dir, m.datadir
            assert os.path.isdir(m.datadir)
        for m in pair:
            assert _listener_pid(m.control_socket) == m.proc.pid
            rc, out, err = ctl(m, "ratelimit", "stats")
            assert rc == 0, err
            assert "policy: %s (1 rules)" % m.policy in out, out
            assert "rule %s: " % m.rule in out, out
    finally:
        for m in pair:
            m.stop()
    for m in pair:
        assert m.returncode() == 0, m.log_text(True)[-2000:]

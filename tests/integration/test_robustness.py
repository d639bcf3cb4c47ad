# SPDX-License-Identifier: BSD-2-Clause
"""Malformed and hostile messages: nothing crashes, nothing is lost silently.

Each test states the one outcome txmilter is meant to give the message: delivered and
signed, the signatures verifying with dkimpy and Mail::DKIM (delivered_signed), or
refused by txmilter with a given reply, nothing delivered, and the reason in its log
under the queue id (refused_by_milter).  The milter process must still be running
afterwards.
"""

import os
import re

import pytest

from mailrig.message import make_message, Message
from mailrig.milters import setup_for
from mailrig.verify import check_signed

RSA = "rsa-sha256"
ED = "ed25519-sha256"
DUAL = [("example.com", RSA), ("example.com", ED)]


def delivered_signed(rig, milter, result, mid, expect=DUAL, timeout=60):
    """delivered_signed - the message was accepted, delivered, and carries the expected
    signatures, each verifying; returns the Delivered message"""
    assert milter.alive(), "the milter died on this message:\n%s" % milter.log_text(True)[-3000:]
    assert result.accepted, "expected delivery, got %r\nmaillog: %s\nmilter: %s" % (
        result, rig.postfix.log_for(mid), milter.log_text(True)[-2000:])
    d = rig.capture.wait_for(mid, timeout)
    rig.postfix.wait_log_for(mid, r"status=sent")
    check_signed(d.raw, rig.dns.port, expect)
    assert milter.alive()
    return d


def refused_by_milter(rig, milter, result, mid, code, xcode, reason):
    """refused_by_milter - the client got code xcode with reason at end of DATA, nothing
    was delivered, Postfix logged it as the milter's refusal, and the milter's log holds
    the reason under the queue id"""
    assert milter.alive(), "the milter died on this message:\n%s" % milter.log_text(True)[-3000:]
    assert result.data is not None and result.data[0] == code, "expected %d: %r" % (code, result)
    assert result.data[1].startswith(xcode + " ") and reason in result.data[1], result.data
    assert rig.capture.find(mid) == [], "refused (%r) yet delivered" % (result.data,)
    rig.postfix.wait_log_for(mid, r"milter-reject: ")       # maillog lines come late
    fate = rig.postfix.fate(mid)
    assert fate["status"] == ("milter-reject" if code >= 500 else "milter-tempfail"), fate
    milter.wait_log(re.escape(fate["queue_id"]) + r": .*action=(reject|tempfail) reason=\".*"
                    + re.escape(reason))
    assert rig.capture.find(mid) == []
    assert milter.alive()


@pytest.mark.txmilter_only
def test_message_without_from_refused_and_logged(rig):
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    mid = "nofrom-%s@txtest.example" % os.urandom(8).hex()
    msg, mid = make_message(headers=[("To", "rcpt@receiver.example"), ("Subject", "no from"),
                                     ("Date", "Mon, 2 Jan 2023 10:00:00 +0000"),
                                     ("Message-ID", "<%s>" % mid)], message_id=mid)
    assert b"\r\nFrom:" not in msg and not msg.startswith(b"From:")
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    refused_by_milter(rig, m, r, mid, 550, "5.6.0", "message has no From header field")


@pytest.mark.txmilter_only
def test_message_with_two_from_headers_refused_and_logged(rig):
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    msg, mid = make_message(extra_headers=[("From", "other@example.com")])
    assert len(Message(msg).fields("From")) == 2
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    refused_by_milter(rig, m, r, mid, 550, "5.6.0", "message has 2 From header fields")


# From fields that receivers read as another author, or as none, than the domain a
# lax parser signs and aligns (issue 10); each is refused whatever it would sign as.
BAD_FROM = {
    "address-as-display-name": ("a@evil.example <news@example.com>",
                                "has a display name with an unquoted '@'"),
    "text-after-angle-address": ("<news@example.com> extra", "has text after the address"),
    "space-inside-domain": ("news@exa mple.com", "has white space or a comment inside the address"),
    "semicolon-after-address": ("news@example.com;", "has text after the address"),
    "domain-literal": ("news@[192.0.2.1]", "has a domain literal: it can never be DKIM-signed"),
    "group": ("team: news@example.com;", "holds a group"),
    "obsolete-route": ("<@relay.example:news@example.com>", "has an obsolete source route"),
    "space-around-at": ("news @ example.com", "has white space or a comment inside the address"),
    "trailing-dot": ("news@example.com.", "has a domain that is not a DNS host name"),
}


@pytest.mark.txmilter_only
@pytest.mark.parametrize("spelling", sorted(BAD_FROM))
def test_from_that_receivers_read_differently_refused(rig, spelling):
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    value, reason = BAD_FROM[spelling]
    msg, mid = make_message(from_addr=value)
    assert ("\r\nFrom: %s\r\n" % value).encode() in b"\r\n" + msg
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    refused_by_milter(rig, m, r, mid, 550, "5.6.0", "From header field " + reason)


@pytest.mark.txmilter_only
def test_from_with_latin1_bytes_refused(rig):
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    msg, mid = make_message(headers=None, from_addr="x")
    msg = msg.replace(b"From: x\r\n", b"From: \xc9lise <news@example.com>\r\n", 1)
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    refused_by_milter(rig, m, r, mid, 550, "5.6.0", "From header field holds 8-bit bytes")


def submit_with_nul(rig, msg):
    """submit_with_nul - send msg (holding a NUL byte) by raw SMTP, which smtplib would not;
    returns an SmtpResult-like object for the DATA reply"""
    replies = rig.postfix.submit_raw(
        ["EHLO client.txtest.example", "MAIL FROM:<sender@example.com>",
         "RCPT TO:<rcpt@receiver.example>", "DATA"],
        msg + b".\r\n")
    assert replies[4].startswith("354"), replies
    final = replies[-2] if replies[-1].startswith("221") else replies[-1]

    class Result:
        data = (int(final[:3]), final[4:])
        accepted = data[0] == 250
    return Result()


# A NUL byte in a header field, where a receiver reading past it would see another value.
NUL_FIELDS = {
    "unsigned-field": (b"X-Nul", b"before", b"after"),
    "signed-field": (b"Subject", b"before", b"after"),
    "from-field": (b"From", b"news@example.com", b"@evil.example"),
}


@pytest.mark.parametrize("where", sorted(NUL_FIELDS))
def test_nul_byte_in_a_header_signed_as_delivered(rig, where):
    # Postfix ends the field at the NUL (what libmilter hands txmilter too): the
    # message goes out signed over exactly what receivers get, nothing after the NUL
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    name, before, after = NUL_FIELDS[where]
    msg, mid = make_message()
    if name != b"X-Nul":
        msg = re.sub(rb"(^|\r\n)%s: [^\r]*\r\n" % name, rb"\1", msg, count=1)
    msg = msg.replace(b"\r\n\r\n", b"\r\n%s: %s\x00%s\r\n\r\n" % (name, before, after), 1)
    assert msg.count(b"\x00") == 1 and len(Message(msg).fields(name.decode())) == 1
    d = delivered_signed(rig, m, submit_with_nul(rig, msg), mid)
    assert b"\r\n%s: %s\r\n" % (name, before) in d.raw
    assert b"\x00" not in d.raw and after not in d.raw


@pytest.mark.parametrize("canon", ["relaxed/relaxed", "simple/simple"])
def test_8bit_non_utf8_bytes_in_headers_signed_and_verified(rig, canon):
    m = rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    msg, mid = make_message(extra_headers=[b"X-Latin1: caf\xe9 \xfcber na\xefve",
                                           b"Subject: Gr\xfc\xdfe \xff\xfe\x80"],
                            headers=None)
    # two Subjects would muddle things: drop the default one
    msg = msg.replace(b"Subject: txmilter test\r\n", b"", 1)
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    d = delivered_signed(rig, m, r, mid)
    assert b"X-Latin1: caf\xe9 \xfcber na\xefve\r\n" in d.raw
    assert b"Subject: Gr\xfc\xdfe \xff\xfe\x80\r\n" in d.raw


@pytest.mark.parametrize("canon", ["relaxed/relaxed", "simple/simple"])
def test_obsolete_whitespace_before_colon_signed_and_verified(rig, canon):
    # RFC 5322 4.5 obs-optional: "Subject : x" is obsolete but seen in the wild
    m = rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    msg, mid = make_message()
    msg = msg.replace(b"Subject: txmilter test", b"Subject : obsolete syntax", 1)
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    delivered_signed(rig, m, r, mid)


def test_header_line_over_1000_characters_with_spaces_signed_and_verified(rig):
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    # in Subject: a signed field, so a change in transit would show
    words = " ".join("word%04d" % i for i in range(150))          # 1349 characters
    msg, mid = make_message(subject=words)
    assert len(b"Subject: " + words.encode()) > 1000
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    delivered_signed(rig, m, r, mid)


@pytest.mark.txmilter_only
def test_header_line_of_5000_characters_without_whitespace_signed_and_warned(rig):
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    blob = "A" * 5000
    msg, mid = make_message(subject=blob)             # Subject is signed
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    assert r.accepted, r
    d = rig.capture.wait_for(mid)
    assert "subject" in d.msg.dkim_signatures()[0]["h"].lower().split(":")
    # txmilter signs the line as it came and warns that relays will break it
    qid = rig.postfix.queue_id_of(mid)
    m.wait_log(re.escape(qid) + r": a header line is longer than 998 bytes")
    m.wait_log(re.escape(qid) + r": .*warning=header-line-over-998")
    # Postfix's smtp client broke the line at smtp_line_length_limit (998) when
    # delivering, after signing; put it back as the client sent it, and the
    # signatures must hold over what txmilter saw
    field = re.search(rb"\r\nSubject:([^\r]*(?:\r\n[ \t][^\r]*)*)\r\n", d.raw)
    assert field and field.group(1) != b" " + blob.encode(), "Postfix no longer folds: %r" % d.raw[:300]
    assert re.sub(rb"[\r\n \t]", b"", field.group(1)) == blob.encode()
    raw = d.raw.replace(field.group(0), b"\r\nSubject: " + blob.encode() + b"\r\n", 1)
    check_signed(raw, rig.dns.port, DUAL)


def test_many_headers_signed_and_verified(rig):
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    extra = [("X-Many-%03d" % i, "value %d" % i) for i in range(500)]
    msg, mid = make_message(extra_headers=extra)
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    d = delivered_signed(rig, m, r, mid)
    assert len([n for n in d.msg.names() if n.startswith("X-Many-")]) == 500


@pytest.mark.parametrize("canon", ["relaxed/relaxed", "simple/simple"])
def test_empty_body_signed_and_verified(rig, canon):
    m = rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    msg, mid = make_message(body=b"")
    assert msg.endswith(b"\r\n\r\n")
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    delivered_signed(rig, m, r, mid)


def test_body_without_final_newline_signed_and_verified(rig):
    m = rig.start_milter(setup_for(rig.keys, "dual", canon="simple/simple"))
    msg, mid = make_message(body=b"no newline at the end")
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    delivered_signed(rig, m, r, mid)


def test_client_disconnects_in_the_middle_of_data(rig):
    import socket
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    msg, mid = make_message(body=b"x" * 70 + b"\r\n" * 1000)
    s = socket.create_connection(("127.0.0.1", rig.postfix.smtpd_port), 10)
    f = s.makefile("rb")
    f.readline()
    for cmd in (b"EHLO c.txtest.example", b"MAIL FROM:<sender@example.com>",
                b"RCPT TO:<rcpt@receiver.example>", b"DATA"):
        s.sendall(cmd + b"\r\n")
        while True:
            line = f.readline()
            if line[3:4] != b"-":
                break
    s.sendall(msg[: len(msg) // 2])
    f.close()
    s.shutdown(socket.SHUT_RDWR)
    s.close()
    rig.postfix.wait_log(r"lost connection after DATA")
    if m.kind == "txmilter":
        m.wait_log(r"aborted")
    # the milter takes the abort in its stride and signs the next message
    msg2, mid2 = make_message()
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg2)
    delivered_signed(rig, m, r, mid2)
    assert rig.capture.find(mid) == []


@pytest.mark.big
def test_50mb_body_delivered_signed_and_verified(rig):
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:-_+*#\r\n"
    n = (50 * 1024 * 1024) // len(line) + 1
    body = b"".join(b"%08d " % i + line for i in range(n))
    assert len(body) >= 50 * 1024 * 1024
    msg, mid = make_message(body=body, subject="fifty megabytes")
    r = rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg, timeout=300)
    d = delivered_signed(rig, m, r, mid, timeout=180)
    assert d.msg.body == body

# SPDX-License-Identifier: BSD-2-Clause
"""DKIM signing through a real Postfix, checked by verifiers nobody here wrote.

Each test starts the milter with the configuration of its scenario, submits mail to the
private Postfix (SMTP or sendmail(1)), takes the message exactly as Postfix delivered it
to the capture server, and checks it the way an operator or a receiver would.
"""

import os
import re

import pytest

from mailrig.message import make_message, Message
from mailrig.milters import setup_for, SigningSetup
from mailrig.verify import check_not_verifying, check_signed
from ratelimit_helpers import ctl_stats

RSA = "rsa-sha256"
ED = "ed25519-sha256"
EXPECT = {"rsa": [("example.com", RSA)], "ed25519": [("example.com", ED)],
          "dual": [("example.com", RSA), ("example.com", ED)]}

# RFC 6376 5.4.2 / standards.md: fields that must be oversigned (named once more than
# they occur), so that a copy added later breaks the signature.
MUST_OVERSIGN = ["from", "subject", "to", "cc", "reply-to", "date", "message-id",
                 "content-type", "list-unsubscribe", "list-unsubscribe-post"]


def send_and_fetch(rig, msg, mid, mail_from="sender@example.com",
                   rcpts=("rcpt@receiver.example",), **kw):
    r = rig.postfix.submit(mail_from, list(rcpts), msg, **kw)
    assert r.accepted, "message not accepted: %r\nmaillog: %s" % (r, rig.postfix.log_for(mid))
    return rig.capture.wait_for(mid)


def h_names(sig):
    return [x.lower() for x in sig["h"].split(":")]


def our_sigs(delivered, n):
    """the n topmost DKIM-Signature fields (ours: the milter inserts them at the top)"""
    sigs = delivered.msg.dkim_signatures()
    assert len(sigs) >= n, "expected %d signature(s), found %d:\n%s" % (
        n, len(sigs), delivered.raw[:3000].decode(errors="replace"))
    return sigs[:n]


# --- one key, two keys -------------------------------------------------------

def test_rsa_only_signed_and_verified_by_both_verifiers(rig):
    m = rig.start_milter(setup_for(rig.keys, "rsa"))
    msg, mid = make_message()
    d = send_and_fetch(rig, msg, mid)
    sigs = our_sigs(d, 1)
    assert len(d.msg.fields("DKIM-Signature")) == 1
    assert sigs[0]["a"] == RSA and sigs[0]["d"] == "example.com" and sigs[0]["s"] == "rsa1"
    check_signed(d.raw, rig.dns.port, EXPECT["rsa"])
    assert m.alive()
    if m.kind == "txmilter":
        # one summary line per message, under Postfix's queue id, naming the signature
        qid = rig.postfix.queue_id_of(mid)
        m.wait_log(r"^\S*:? ?%s: .*d=example\.com.*s=rsa1.*signed" % re.escape(qid))


def test_ed25519_only_signed_and_verified_by_dkimpy(rig):
    rig.start_milter(setup_for(rig.keys, "ed25519"))
    msg, mid = make_message()
    d = send_and_fetch(rig, msg, mid)
    sigs = our_sigs(d, 1)
    assert len(d.msg.fields("DKIM-Signature")) == 1
    assert sigs[0]["a"] == ED and sigs[0]["s"] == "ed1"
    py, pl = check_signed(d.raw, rig.dns.port, EXPECT["ed25519"])
    # Debian's Mail::DKIM cannot verify Ed25519 and must say so rather than pass
    assert not pl[0].ok, pl


def test_dual_rsa_and_ed25519_two_signatures_each_verified_separately(rig):
    rig.start_milter(setup_for(rig.keys, "dual"))
    msg, mid = make_message()
    d = send_and_fetch(rig, msg, mid)
    sigs = our_sigs(d, 2)
    assert len(d.msg.fields("DKIM-Signature")) == 2
    assert sorted((s["a"], s["s"]) for s in sigs) == [(ED, "ed1"), (RSA, "rsa1")]
    py, pl = check_signed(d.raw, rig.dns.port, EXPECT["dual"])
    assert [r.ok for r in py] == [True, True], py


def test_every_signature_uses_the_key_parsed_at_load(rig, workdir):
    """libopendkim would re-parse each key per signature (tests/bench/RESULTS.md);
    the daemon counts the signatures made with the key it parsed at start-up."""
    ctlsock = os.path.join(workdir, "keys-%d.ctl" % os.getpid())
    m = rig.start_milter(setup_for(rig.keys, "dual", extra=[("ControlSocket", ctlsock)]))
    if m.kind != "txmilter":
        pytest.skip("txmilter's own counters")
    for _ in range(3):
        msg, mid = make_message()
        d = send_and_fetch(rig, msg, mid)
        check_signed(d.raw, rig.dns.port, EXPECT["dual"])
    assert ctl_stats(m)["signing keys"] == "6 loads from the parsed key, 0 parsed again"
    assert "parse the private key again" not in m.log_text()


# --- canonicalisation and header shapes --------------------------------------

CANONS = ["relaxed/relaxed", "simple/simple"]
ALGS = ["rsa", "ed25519"]


@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("alg", ALGS)
def test_canonicalization_signature_verifies(rig, canon, alg):
    # Ed25519 under simple header canonicalisation is what Debian's OpenDKIM gets wrong
    # (the header it inserts is folded differently from the one it hashed).
    rig.start_milter(setup_for(rig.keys, alg, canon=canon))
    msg, mid = make_message(subject="canonicalisation %s %s" % (canon, alg))
    d = send_and_fetch(rig, msg, mid)
    sig = our_sigs(d, 1)[0]
    assert sig.get("c", "simple/simple") in (canon, canon.split("/")[0]), sig
    check_signed(d.raw, rig.dns.port, EXPECT[alg])


def replace_fields(msg, fields):
    """replace_fields - put the given raw fields in place of the default ones of the same
    names (the message keeps one of each)"""
    m = Message(msg)
    names = {f.split(b":", 1)[0].strip().lower() for f in fields}
    kept = [f for n, f in m.headers if n.strip().lower().encode() not in names]
    return b"\r\n".join(kept + list(fields)) + b"\r\n\r\n" + m.body


def assert_covered(d, names):
    """every signature's h= names each of these fields (else the test proves nothing)"""
    for sig in d.msg.dkim_signatures():
        h = h_names(sig)
        for n in names:
            assert n in h, "%s is not signed, h=%s" % (n, sig["h"])


FOLDED = [
    b"To: first@receiver.example,\r\n\tsecond@receiver.example,\r\n   third@receiver.example",
    b"Subject: a    run  of\t\tspaces and\ttabs   ",
    b"Cc:      five leading spaces <cc@receiver.example>",
    b"Reply-To:\t\ttab after colon <reply@example.com>",
    b"Content-Type: text/plain;\r\n\tcharset=\"utf-8\";\r\n\tformat=flowed",
]


@pytest.mark.parametrize("canon", CANONS)
def test_folded_headers_tabs_and_runs_of_spaces_survive_signing(rig, canon):
    rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    msg, mid = make_message()
    msg = replace_fields(msg, FOLDED)
    d = send_and_fetch(rig, msg, mid)
    # Postfix delivers the fields unchanged; the signatures must cover them as they are
    for f in FOLDED:
        assert f + b"\r\n" in d.raw, "Postfix changed %r" % f
    assert_covered(d, ["to", "subject", "cc", "reply-to", "content-type"])
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])


@pytest.mark.parametrize("canon", CANONS)
def test_header_without_space_after_colon(rig, canon):
    rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    msg, mid = make_message(headers=[
        b"From:sender@example.com", b"To:rcpt@receiver.example", b"Subject:x",
        b"Date:Mon, 2 Jan 2023 10:00:00 +0000", ("Message-ID:<%s>" % "PLACEHOLDER").encode(),
    ])
    msg = msg.replace(b"PLACEHOLDER", b"nospace-" + mid.encode())
    mid = "nospace-" + mid
    d = send_and_fetch(rig, msg, mid)
    assert b"\r\nSubject:x\r\n" in d.raw
    sig = our_sigs(d, 2)[0]
    assert "subject" in h_names(sig)
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])


@pytest.mark.parametrize("canon", CANONS)
def test_utf8_subject_in_raw_8bit(rig, canon):
    rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    subject = "Ihre Bestätigung – Buchung №42 für Zoë 🎉"
    msg, mid = make_message(subject=subject)
    assert subject.encode("utf-8") in msg
    d = send_and_fetch(rig, msg, mid)
    assert b"Subject: " + subject.encode("utf-8") + b"\r\n" in d.raw
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])


FROM_FORMS = {
    "addr-spec": "sender@example.com",
    "name-addr": "Example Shop <shop@example.com>",
    "quoted-display-with-comma": '"Doe, John" <john@example.com>',
    "encoded-word-display": "=?UTF-8?B?QsOkY2tlcmVp?= <baker@example.com>",
    "trailing-comment": "john@example.com (John Doe)",
    "uppercase-domain": "NoReply@EXAMPLE.COM",
    "angle-addr-no-space": "Shop<shop@example.com>",
}


@pytest.mark.parametrize("form", sorted(FROM_FORMS))
def test_from_header_forms_all_signed_for_their_domain(rig, form):
    rig.start_milter(setup_for(rig.keys, "dual"))
    msg, mid = make_message(from_addr=FROM_FORMS[form])
    d = send_and_fetch(rig, msg, mid)
    sigs = d.msg.dkim_signatures()
    assert len(sigs) == 2 and {s["d"].lower() for s in sigs} == {"example.com"}, (
        "From: %s was not signed for example.com: %r" % (FROM_FORMS[form], sigs))
    check_signed(d.raw, rig.dns.port, [(sigs[0]["d"], sigs[0]["a"]), (sigs[1]["d"], sigs[1]["a"])])


# Each shape replaces the default field(s) of that name; all of them are signed fields.
HEADER_SHAPES = {
    "empty-subject": [b"Subject:"],
    "empty-subject-with-space": [b"Subject: "],
    "trailing-whitespace": [b"Subject: value \t "],
    "lowercase-names": [b"subject: lower case name", b"to: rcpt@receiver.example"],
    "uppercase-names": [b"SUBJECT: UPPER CASE NAME", b"CC: copy@receiver.example"],
    "fold-after-colon": [b"Subject:\r\n folded right after the colon"],
    "whitespace-only-fold-line": [b"Subject: a\r\n \r\n b"],
    "long-folded-references": [b"References: " + b"\r\n ".join(
        b"<%d.part@txtest.example>" % i for i in range(40))],
}


@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("shape", sorted(HEADER_SHAPES))
def test_legal_but_unusual_header_shapes_signed_and_verified(rig, shape, canon):
    rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    msg, mid = make_message()
    msg = replace_fields(msg, HEADER_SHAPES[shape])
    d = send_and_fetch(rig, msg, mid)
    for line in HEADER_SHAPES[shape]:
        assert line + b"\r\n" in d.raw, "Postfix changed %r" % line
    assert_covered(d, {f.split(b":", 1)[0].decode().lower() for f in HEADER_SHAPES[shape]})
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])


def test_existing_dkim_signature_kept_and_ours_added_on_top(rig):
    rig.start_milter(setup_for(rig.keys, "rsa"))
    foreign = (b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=upstream.example;"
               b" s=sel;\r\n\th=from:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"
               b"\r\n\tb=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    msg, mid = make_message(headers=None)
    msg = foreign + b"\r\n" + msg
    d = send_and_fetch(rig, msg, mid)
    fields = d.msg.fields("DKIM-Signature")
    assert len(fields) == 2, fields
    assert d.msg.names()[0] == "DKIM-Signature"
    assert b"d=example.com" in fields[0] and b"d=upstream.example" in fields[1]
    assert foreign in d.raw                      # the old one is untouched
    py, pl = check_signed(d.raw, rig.dns.port, EXPECT["rsa"])
    assert py[0].ok and not py[1].ok             # ours passes, the bogus one does not


def test_refile_signing_table_gives_each_from_domain_its_own_d(rig):
    k = rig.keys
    setup = SigningSetup([k["rsa_com"], k["ed_com"], k["rsa_net"], k["ed_net"]],
                         signing=[("*@example.com", k["rsa_com"]), ("*@example.com", k["ed_com"]),
                                  ("*@example.net", k["rsa_net"]), ("*@example.net", k["ed_net"])],
                         multiple=True)
    rig.start_milter(setup)
    for dom in ("example.com", "example.net"):
        msg, mid = make_message(from_addr="News <news@%s>" % dom)
        d = send_and_fetch(rig, msg, mid, mail_from="bounce@%s" % dom)
        sigs = our_sigs(d, 2)
        assert {s["d"] for s in sigs} == {dom}, sigs
        check_signed(d.raw, rig.dns.port, [(dom, RSA), (dom, ED)])
    # a From domain with no SigningTable entry passes unsigned (On-NoKey accept)
    msg, mid = make_message(from_addr="someone@example.org")
    d = send_and_fetch(rig, msg, mid, mail_from="someone@example.org")
    assert d.msg.fields("DKIM-Signature") == []


# --- who gets signed ----------------------------------------------------------

def test_client_outside_internal_hosts_is_delivered_unsigned(rig):
    m = rig.start_milter(setup_for(rig.keys, "dual", internal="127.0.0.1, ::1"))
    msg, mid = make_message()
    # Postfix listens on 127.0.0.1 and sees this client as 127.0.0.2 (Linux loopback)
    d = send_and_fetch(rig, msg, mid, source_address="127.0.0.2")
    assert d.msg.fields("DKIM-Signature") == []
    assert any("client=" in l and "127.0.0.2" in l for l in rig.postfix.log_for(mid))
    if m.kind == "txmilter":
        # the decision is taken at MAIL FROM, before Postfix has a queue id
        m.wait_log(r"from=<sender@example\.com>.*not outbound.*127\.0\.0\.2")


def test_sendmail_submission_is_signed_through_non_smtpd_milters(rig):
    rig.start_milter(setup_for(rig.keys, "dual"))
    msg, mid = make_message()
    rc, out = rig.postfix.sendmail("sender@example.com", ["rcpt@receiver.example"], msg)
    assert rc == 0, out
    d = rig.capture.wait_for(mid)
    assert any("uid=0" in l or "pickup" in l for l in rig.postfix.log_for(mid))
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])


# --- what the signature covers -----------------------------------------------

def test_h_tag_covers_from_and_oversigns_without_l_tag(rig):
    rig.start_milter(setup_for(rig.keys, "dual"))
    msg, mid = make_message(extra_headers=[("Reply-To", "support@example.com"),
                                           ("Received", "from elsewhere by app; today"),
                                           ("Comments", "not signed"),
                                           ("Keywords", "not signed")])
    d = send_and_fetch(rig, msg, mid)
    present = [n.lower() for n in Message(msg).names()]
    for sig in our_sigs(d, 2):
        h = h_names(sig)
        assert "l" not in sig, "l= lets anyone append unsigned content: %r" % sig
        assert h.count("from") >= 2, "From must be signed and oversigned: h=%s" % sig["h"]
        for name in MUST_OVERSIGN:
            assert h.count(name) >= present.count(name) + 1, (
                "%s occurs %d time(s) but h= names it %d time(s): h=%s"
                % (name, present.count(name), h.count(name), sig["h"]))
        for name in ("received", "return-path", "comments", "keywords", "dkim-signature"):
            assert name not in h, "h= must not sign %s: h=%s" % (name, sig["h"])
        assert sig["a"] != "rsa-sha1"
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])


def test_signature_is_the_topmost_header_above_postfix_received(rig):
    rig.start_milter(setup_for(rig.keys, "dual"))
    msg, mid = make_message()
    d = send_and_fetch(rig, msg, mid)
    names = [n.lower() for n in d.msg.names()]
    assert names[:3] == ["dkim-signature", "dkim-signature", "received"], names[:5]
    assert b"by relay.txtest.example (Postfix)" in d.msg.fields("Received")[0]


# --- tampering ----------------------------------------------------------------

@pytest.mark.parametrize("canon", CANONS)
def test_tampered_subject_fails_both_verifiers(rig, canon):
    rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    msg, mid = make_message(subject="Your receipt 1234")
    d = send_and_fetch(rig, msg, mid)
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])
    bad = d.raw.replace(b"Subject: Your receipt 1234", b"Subject: Your receipt 1235", 1)
    assert bad != d.raw
    check_not_verifying(bad, rig.dns.port)


@pytest.mark.parametrize("canon", CANONS)
def test_prepended_second_from_fails_verification(rig, canon):
    rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    msg, mid = make_message()
    d = send_and_fetch(rig, msg, mid)
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])
    # insert the forged From just below our signatures (a receiver reads the top one)
    idx = d.raw.index(b"\r\nReceived:") + 2
    bad = d.raw[:idx] + b"From: ceo@example.com\r\n" + d.raw[idx:]
    assert len(Message(bad).fields("From")) == 2
    check_not_verifying(bad, rig.dns.port)
    # and appended at the end of the header block as well
    hdr_end = d.raw.index(b"\r\n\r\n") + 2
    bad2 = d.raw[:hdr_end] + b"From: ceo@example.com\r\n" + d.raw[hdr_end:]
    check_not_verifying(bad2, rig.dns.port)


def test_tampered_body_fails_both_verifiers(rig):
    rig.start_milter(setup_for(rig.keys, "dual"))
    msg, mid = make_message(body=b"Your code is 123456.\r\n")
    d = send_and_fetch(rig, msg, mid)
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])
    bad = d.raw.replace(b"Your code is 123456.", b"Your code is 654321.")
    check_not_verifying(bad, rig.dns.port)
    bad2 = d.raw + b"Appended line.\r\n"
    check_not_verifying(bad2, rig.dns.port)


@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("how", ["smtp", "sendmail"])
def test_bare_cr_and_lf_in_the_body_signed_as_delivered(rig, canon, how):
    """a body with a bare CR inside a line, a bare LF, trailing whitespace, empty lines
    and a bare CR at the end: Postfix turns the bare CR into a space and the LF into
    CRLF before the milter sees them, and both signatures (one body pass) verify on
    what was delivered"""
    rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    msg, mid = make_message(subject="bare line ends %s %s" % (canon, how),
                            body=b"one\rstill one\r\ntwo\nthree \t \r\n\r\n\r")
    if how == "smtp":
        d = send_and_fetch(rig, msg, mid)
    else:
        rc, out = rig.postfix.sendmail("sender@example.com", "rcpt@receiver.example",
                                       msg.replace(b"\r\n", b"\n"))
        assert rc == 0, out
        d = rig.capture.wait_for(mid)
    assert b"\r\n\r\none still one\r\ntwo\r\n" in d.raw, d.raw[-200:]
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])


@pytest.mark.parametrize("canon", CANONS)
def test_body_of_many_milter_chunks_dual_signed_and_verified(rig, canon):
    """a 300 KB body (five 64 KB milter chunks, lines cut across them, runs of spaces
    and tabs, empty lines inside and at the end): hashed once, both signatures verify"""
    rig.start_milter(setup_for(rig.keys, "dual", canon=canon))
    lines = []
    for i in range(6500):
        lines.append(b"%d:\t  word%s  x \t" % (i, b" w" * (i % 37)) + (b"\r\n\r\n" if i % 13 == 0 else b"\r\n"))
    body = b"".join(lines) + b"\r\n\r\n"
    assert len(body) > 5 * 65535
    msg, mid = make_message(subject="many chunks %s" % canon, body=body)
    d = send_and_fetch(rig, msg, mid)
    check_signed(d.raw, rig.dns.port, EXPECT["dual"])


# --- several messages ----------------------------------------------------------

def test_several_transactions_on_one_connection_each_signed_for_its_own_domain(rig):
    """per-connection state must not leak from one transaction into the next"""
    import smtplib
    k = rig.keys
    setup = SigningSetup([k["rsa_com"], k["ed_com"], k["rsa_net"]],
                         signing=[("*@example.com", k["rsa_com"]), ("*@example.com", k["ed_com"]),
                                  ("*@example.net", k["rsa_net"])], multiple=True)
    rig.start_milter(setup)
    plan = [("example.net", [("example.net", RSA)]),
            ("example.org", []),
            ("example.com", [("example.com", RSA), ("example.com", ED)]),
            ("example.net", [("example.net", RSA)])]
    s = smtplib.SMTP("127.0.0.1", rig.postfix.smtpd_port, timeout=60)
    s.ehlo("client.txtest.example")
    sent = []
    for i, (dom, expect) in enumerate(plan):
        msg, mid = make_message(from_addr="app@%s" % dom, subject="transaction %d" % i)
        if i == 1:
            # an aborted transaction in between
            s.mail("app@example.com")
            s.rcpt("rcpt@receiver.example")
            s.rset()
        s.sendmail("app@%s" % dom, ["rcpt@receiver.example"], msg)
        sent.append((mid, dom, expect))
    s.quit()
    for mid, dom, expect in sent:
        d = rig.capture.wait_for(mid)
        got = sorted((t["d"], t["a"]) for t in d.msg.dkim_signatures())
        assert got == sorted(expect), "From %s: signatures %s, expected %s" % (dom, got, expect)
        if expect:
            check_signed(d.raw, rig.dns.port, expect)


def test_parallel_sessions_all_signed_and_verified(rig):
    """libmilter runs one connection's callbacks on different threads: no mix-ups"""
    from concurrent.futures import ThreadPoolExecutor
    m = rig.start_milter(setup_for(rig.keys, "dual"))
    jobs = []
    for i in range(24):
        body = ("message %d\r\n" % i).encode() * (1 + i * 50)
        jobs.append(make_message(subject="parallel %d" % i, body=body))

    def send(job):
        msg, mid = job
        return rig.postfix.submit("sender@example.com", ["rcpt@receiver.example"], msg)

    with ThreadPoolExecutor(max_workers=6) as ex:
        results = list(ex.map(send, jobs))
    assert all(r.accepted for r in results), [r for r in results if not r.accepted]
    for (msg, mid), r in zip(jobs, results):
        d = rig.capture.wait_for(mid)
        assert d.msg.body == Message(msg).body
        py = check_signed(d.raw, rig.dns.port, EXPECT["dual"])[0]
        assert all(x.ok for x in py)
    assert m.alive()


# --- table semantics ------------------------------------------------------------

def test_multiple_signatures_no_signs_with_the_first_match_only(rig):
    k = rig.keys
    setup = SigningSetup([k["rsa_com"], k["ed_com"]],
                         signing=[("*@example.com", k["rsa_com"]), ("*@example.com", k["ed_com"])],
                         multiple=False)
    rig.start_milter(setup)
    msg, mid = make_message()
    d = send_and_fetch(rig, msg, mid)
    sigs = d.msg.dkim_signatures()
    assert [(s["d"], s["s"], s["a"]) for s in sigs] == [("example.com", "rsa1", RSA)], sigs
    check_signed(d.raw, rig.dns.port, EXPECT["rsa"])


@pytest.mark.txmilter_only
def test_on_nokey_tempfail_defers_outbound_mail_without_a_key(rig):
    m = rig.start_milter(setup_for(rig.keys, "rsa", extra=[("On-NoKey", "tempfail")]))
    msg, mid = make_message(from_addr="someone@example.org")
    r = rig.postfix.submit("someone@example.org", ["rcpt@receiver.example"], msg)
    assert r.all_refused and 400 <= r.refusal[1] < 500, r
    assert rig.capture.find(mid) == []
    fate = rig.postfix.fate(mid)
    assert fate["status"] == "milter-tempfail", fate
    m.wait_log(r"%s: .*example\.org" % re.escape(fate["queue_id"]))
    # mail for a domain with a key still goes out
    msg, mid = make_message()
    d = send_and_fetch(rig, msg, mid)
    check_signed(d.raw, rig.dns.port, EXPECT["rsa"])


# --- txmilter -t: the same signatures offline ------------------------------------------

def offline_sign(rig, workdir, name, msg, which="dual"):
    """txmilter -t on msg with the session's keys: (exit status, output, the message as
    it would be delivered: the resulting header section, then the body as given)"""
    import subprocess
    import mailrig
    d = mailrig.make_dir(os.path.join(workdir, "offline-" + name))
    setup = setup_for(rig.keys, which)
    conf = os.path.join(d, "txmilter.conf")
    with open(conf, "w") as f:
        for n, v in [("Syslog", "no")] + setup.table_lines(d) + [("MultipleSignatures", "yes")]:
            f.write("%s %s\n" % (n, v))
    path = os.path.join(d, "msg.eml")
    with open(path, "wb") as f:
        f.write(msg)
    p = subprocess.run([mailrig.txmilter_binary(), "-t", path, "-x", conf, "--from", "sender@example.com",
                        "--rcpt", "rcpt@receiver.example"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    out = p.stdout.decode(errors="replace")
    m = re.search(r"^--- resulting header ---\n(.*?)^---\n", out, re.M | re.S)
    delivered = None
    if m:
        sep = msg.find(b"\r\n\r\n")
        body = msg[sep + 4:] if sep >= 0 else b""
        delivered = m.group(1).replace("\n", "\r\n").encode() + b"\r\n" + body
    return p.returncode, out + p.stderr.decode(errors="replace"), delivered


@pytest.mark.txmilter_only
def test_offline_signatures_verify_on_a_folded_header_and_a_body_of_many_chunks(rig, workdir):
    # 300 KB of body: the offline reader streams it in several 64 KB chunks
    body = "".join("line %06d of a long receipt\r\n" % i for i in range(10000)).encode()
    msg, _ = make_message(subject="a subject\r\n folded onto a second line", body=body)
    rc, out, delivered = offline_sign(rig, workdir, "chunks", msg)
    assert rc == 0 and "verdict: accept" in out, out
    assert re.search(r"(?m)^outbound: yes \(internal client 127\.0\.0\.1\)$", out), out
    assert re.search(r"(?m)^Subject: a subject\n folded onto a second line$", out), out
    check_signed(delivered, rig.dns.port, [("example.com", "rsa-sha256"), ("example.com", "ed25519-sha256")])


@pytest.mark.txmilter_only
def test_offline_message_that_is_all_header_is_signed(rig, workdir):
    msg, _ = make_message()
    msg = msg[:msg.find(b"\r\n\r\n") + 2]            # no separator line, no body
    rc, out, delivered = offline_sign(rig, workdir, "allheader", msg, which="rsa")
    assert rc == 0 and "verdict: accept" in out, out
    check_signed(delivered, rig.dns.port, [("example.com", "rsa-sha256")])


@pytest.mark.txmilter_only
def test_offline_refusal_exits_3_with_the_reply(rig, workdir):
    msg, _ = make_message(headers=[("To", "<rcpt@receiver.example>"), ("Subject", "no From")])
    rc, out, delivered = offline_sign(rig, workdir, "nofrom", msg, which="rsa")
    assert rc == 3 and delivered is None, out
    assert "verdict: reject at end of header: 550 5.6.0 message has no From header field" in out, out
    assert re.search(r"(?m)^summary: .*action=reject", out), out


def test_feedback_id_added_signed_and_verified_by_both_verifiers(rig):
    """FeedbackID: Gmail's Feedback-ID header, filled in per message before signing, is in
    h= (and oversigned), and the signature verifies with dkimpy and Mail::DKIM; removing
    the header breaks it"""
    rig.start_milter(setup_for(rig.keys, "rsa",
                               extra=[("FeedbackID", "%{stream}:%{domain}:txmilter")]))
    msg, mid = make_message(from_addr="news@example.com")
    d = send_and_fetch(rig, msg, mid)
    assert d.msg.fields("Feedback-ID") == [b"Feedback-ID: news@example.com:example.com:txmilter"], \
        d.raw[:3000]
    sig = our_sigs(d, 1)[0]
    assert h_names(sig).count("feedback-id") == 2, sig["h"]
    check_signed(d.raw, rig.dns.port, EXPECT["rsa"])
    stripped = b"".join(l for l in d.raw.splitlines(True) if not l.startswith(b"Feedback-ID:"))
    check_not_verifying(stripped, rig.dns.port)

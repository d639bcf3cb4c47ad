# SPDX-License-Identifier: BSD-2-Clause
"""Complaints end to end (issue 16): feedback reports (ARF, RFC 5965) through a real Postfix.

A private Postfix instance accepts the bounce domain as the README tells operators to
(relay_domains = bounce.example.com, a discard: transport behind the milter, Postfix's
default relay restrictions, mynetworks = 127.0.0.1/32), so that a client on 127.0.0.2 is a
remote MTA -- a mailbox provider's feedback loop -- and txmilter (InternalHosts 127.0.0.1,
::1) sees its mail as inbound.

txmilter signs example.com with List-Unsubscribe (URL and mailto), ReturnPath
bounces+%{token}@bounce.%{domain} and ComplaintAddress fbl@bounce.example.com.  Each test
first sends a real message through Postfix to the capture server and takes it as delivered
-- its List-Unsubscribe and envelope sender hold the real tokens -- then reports it the way
Yahoo's Complaint Feedback Loop does: multipart/report; report-type=feedback-report, a
text part, a message/feedback-report part (Feedback-Type, User-Agent, Original-Mail-From,
Original-Rcpt-To, Arrival-Date, Reporting-MTA) and the message as the provider received it
(its Return-Path first) as message/rfc822.  What is checked is what an operator sees: the
next message to that recipient (refused 550 5.7.1 "... (complaint)" or delivered),
`txmilterctl suppress list --reason complaint`, txmilter's log line,
txmilter_complaints_total on /metrics, and Postfix's log (the report dropped by the
milter, never queued).

Scenarios: an abuse report suppresses (SQLite and Redis); one whose enclosed message is
base64 with only its Return-Path token (headers only, as JMRP sends) too, and one whose
enclosed message is quoted-printable with its List-Unsubscribe cut by soft line breaks; an opt-out
report suppresses as an unsubscribe; with Redis stopped the report is refused 451 4.3.0
and the one sent again once it is back suppresses; a report naming the recipient only in
Original-Rcpt-To and To, one with tampered tokens, a not-spam report and a message that is
no report at all change nothing.
"""

import base64
import os
import quopri
import re
import urllib.request
import uuid

import pytest

from dsn_helpers import RP_RX, discarded_by_milter, listed, rcpt
from mailrig.bouncedomain import BOUNCE_DOMAIN, REMOTE, bounce_domain_postfix
from mailrig.util import free_port, make_dir, wait_until
from mailrig.capture import Capture
from mailrig.message import make_message
from mailrig.milters import SigningSetup
from unsub_helpers import MAILTO_TEMPLATE, URL_TEMPLATE, unsub_targets, write_keyfile

pytestmark = [pytest.mark.txmilter_only, pytest.mark.usefixtures("reaper_after_workdir")]

NEWS = "news@example.com"                    # the stream of every test here
FBL = "fbl@bounce.example.com"
ARRIVAL = "Fri, 04 Dec 2026 10:00:00 +0000"
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
B32 = "abcdefghijklmnopqrstuvwxyz234567"


@pytest.fixture(scope="module")
def ccap(workdir):
    """the receiver of this module's Postfix"""
    c = Capture(workdir, name="capture-complaints").start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def cpf(workdir, ccap):
    """a Postfix that accepts the bounce domain and discards what the milter lets through"""
    sock = os.path.join(workdir, "milter", "milter.sock")    # where start_milter publishes
    pf = bounce_domain_postfix(workdir, ("127.0.0.1", ccap.port), "unix:" + sock,
                               "postfix-complaints", own_bounces=False)
    yield pf
    pf.stop()


STORES = ["sqlite", "redis"]              # store_url's parameters (conftest.py)


class ComplaintRig:
    """the milter, this module's Postfix and receiver, and the metrics endpoint"""

    def __init__(self, milter, pf, cap, metrics_port):
        self.milter, self.pf, self.cap = milter, pf, cap
        self.metrics_url = "http://127.0.0.1:%d/metrics" % metrics_port

    def send(self, to, from_addr=NEWS):
        msg, mid = make_message(from_addr=from_addr, to_addr=to, subject="our news")
        return self.pf.submit("app@example.com", [to], msg), mid

    def deliver(self, to):
        """a message of the stream to `to`, as the receiver got it"""
        r, mid = self.send(to)
        assert r.accepted, "refused: %r\nmaillog: %s" % (r, self.pf.log_for(mid))
        return self.cap.wait_for(mid)

    def listed(self, reason="complaint"):
        """`txmilterctl suppress list --reason R` as a list of dicts"""
        return listed(self.milter, reason)

    def complaints(self):
        """{result: count} of txmilter_complaints_total"""
        with urllib.request.urlopen(self.metrics_url, timeout=10) as r:
            text = r.read().decode()
        return {m.group(1): float(m.group(2)) for m in re.finditer(
            r'^txmilter_complaints_total\{result="([^"]+)"\} (\S+)$', text, re.M)}

    def offer(self, body):
        """body (bytes) from the feedback loop to FBL: Postfix's SmtpResult"""
        return self.pf.submit("feedback@arf.mail.yahoo.com", [FBL], body, source_address=REMOTE,
                              helo="mta1.mail.yahoo.com")

    def report(self, body):
        """body (bytes) from the feedback loop to FBL; the queue id Postfix gave it"""
        r = self.offer(body)
        assert r.accepted, "the relay refused the report: %r\nmaillog tail: %s" % (
            r, self.pf.log_text()[-3000:])
        m = re.search(r"queued as (\w+)", r.data[1])
        assert m, r.data
        return m.group(1)

    def discarded_by_milter(self, qid):
        """Postfix's cleanup dropped qid on the milter's word: it never reached a queue"""
        discarded_by_milter(self.pf, qid)


@pytest.fixture
def crig(start_milter, keys, workdir, cpf, ccap, store_url):
    """txmilter signing example.com with List-Unsubscribe, ReturnPath and ComplaintAddress"""
    d = make_dir(os.path.join(workdir, "complaints", uuid.uuid4().hex[:8]), 0o700)
    port = free_port()
    extra = [("UnsubscribeKeyFile", write_keyfile(os.path.join(d, "unsub.keys"),
                                                  [(1, os.urandom(32))])),
             ("UnsubscribeURL", URL_TEMPLATE), ("UnsubscribeMailto", MAILTO_TEMPLATE),
             ("ReturnPath", "bounces+%{token}@bounce.%{domain}"),
             ("ComplaintAddress", FBL + ", jmrp@" + BOUNCE_DOMAIN),
             ("DataDirectory", make_dir(os.path.join(d, "data"), 0o700)),
             ("ControlSocket", "none"), ("MetricsListen", "127.0.0.1:%d" % port)]
    if store_url:
        extra.append(("Store", store_url))
    m = start_milter(SigningSetup([keys["rsa_com"]], extra=extra))
    return ComplaintRig(m, cpf, ccap, port)


def envelope_sender(d):
    rp = d.meta["mail_from"].split()[0].strip("<>")
    assert RP_RX.match(rp), d.meta
    return rp


def as_received(d):
    """the delivered message as the provider keeps it: its Return-Path first (CRLF)"""
    return b"Return-Path: <%s>\r\nReceived: from relay.txtest.example by mta1.mail.yahoo.com\r\n" % (
        envelope_sender(d).encode()) + d.raw


def yahoo_report(original, feedback_type="abuse", original_rcpt="", mail_from="",
                 ctype="message/rfc822", cte=None):
    """a report as Yahoo's CFL writes them, enclosing original (bytes)"""
    b = "----=_Part_%s" % uuid.uuid4().hex[:12]
    fields = ["Feedback-Type: %s" % feedback_type, "User-Agent: Yahoo!-Mail-Feedback/2.0",
              "Version: 1"]
    if mail_from:
        fields.append("Original-Mail-From: <%s>" % mail_from)
    if original_rcpt:
        fields.append("Original-Rcpt-To: <%s>" % original_rcpt)
    fields += ["Arrival-Date: %s" % ARRIVAL, "Reporting-MTA: dns; mta1.mail.yahoo.com",
               "Source-IP: 192.0.2.10", "Authentication-Results: mta1.mail.yahoo.com; "
               "dkim=pass header.d=example.com"]
    if cte == "base64":
        original = base64.encodebytes(original)
    elif cte == "quoted-printable":
        original = quopri.encodestring(original.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    head = ("From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>\r\n"
            "To: %s\r\nSubject: FW: our news\r\nMessage-ID: <arf.%s@yahoo.com>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=feedback-report;\r\n"
            "\tboundary=\"%s\"\r\n\r\n" % (FBL, uuid.uuid4().hex, b))
    text = ("--%s\r\nContent-Type: text/plain; charset=\"US-ASCII\"\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n"
            "This is an email abuse report for an email message received from IP\r\n"
            "192.0.2.10 on %s.%s\r\n\r\n" % (b, ARRIVAL, (
                "\r\nThe recipient was %s." % original_rcpt) if original_rcpt else ""))
    fb = "--%s\r\nContent-Type: message/feedback-report\r\n\r\n%s\r\n\r\n" % (b, "\r\n".join(fields))
    orig = "--%s\r\nContent-Type: %s\r\n%sContent-Disposition: inline\r\n\r\n" % (
        b, ctype, "Content-Transfer-Encoding: %s\r\n" % cte if cte else "")
    return (head + text + fb + orig).encode() + original + ("\r\n--%s--\r\n" % b).encode()


def flip_b64url(token):
    pos = len(token) // 2
    return token[:pos] + B64URL[B64URL.index(token[pos]) ^ 0x20] + token[pos + 1:]


def flip_b32(token):
    pos = len(token) // 2
    return token[:pos] + B32[(B32.index(token[pos]) + 1) % 32] + token[pos + 1:]


def assert_complaint_refused(crig, to):
    """the next message of the stream to `to` is refused as the README says"""
    r, mid = crig.send(to)
    want = "5.7.1 <%s>: recipient complained about mail of %s (complaint)" % (to, NEWS)
    assert r.data is not None and r.data[0] == 550 and r.data[1] == want, (
        "expected 550 %s, got %r\nmaillog: %s" % (want, r, crig.pf.log_for(mid)))
    assert crig.pf.fate(mid)["status"] == "milter-reject", crig.pf.fate(mid)
    assert not crig.cap.find(mid)


def assert_nothing_changed(crig, to):
    """nothing listed, and the next message to `to` is delivered"""
    assert [e for e in crig.listed() + crig.listed("unsubscribe") if e["rcpt"] == to] == []
    d = crig.deliver(to)
    assert d.meta["rcpts"] == ["<%s>" % to], d.meta


# --- reports that suppress ----------------------------------------------------------------

@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_yahoo_abuse_report_suppresses_the_recipient(crig):
    """an abuse report enclosing the message as received: the List-Unsubscribe token names
    the recipient, who is suppressed (reason complaint, source arf, never lapsing, evidence
    from the report); the report is dropped by the milter; the next message is refused
    550 5.7.1 (complaint); another recipient still gets mail; the counter says so"""
    to, other = rcpt("carol"), rcpt("dave")
    d = crig.deliver(to)
    unsub_targets(d.msg)                        # the message carries our List-Unsubscribe
    before = crig.complaints()
    assert before.get("suppressed") == 0, before    # known from the start, at 0
    qid = crig.report(yahoo_report(as_received(d), original_rcpt="redacted@yahoo.com"))

    line = crig.milter.wait_log(r"^.*%s: complaint \(abuse\).*$" % qid, timeout=30).group(0)
    assert ("complaint (abuse) from arf.mail.yahoo.com: rcpt=<%s> stream=%s suppressed "
            "(reason=complaint, token in list-unsubscribe)" % (to, NEWS)) in line, line
    crig.discarded_by_milter(qid)
    got = [e for e in crig.listed() if e["rcpt"] == to]
    assert len(got) == 1, crig.listed()
    e = got[0]
    assert (e["stream"], e["source"], e["reason"], e["expires"]) == (
        NEWS, "arf", "complaint", "never"), e
    assert e["evidence"] == ("abuse; arrival=%s; reporter=arf.mail.yahoo.com; "
                             "ua=Yahoo!-Mail-Feedback/2.0" % ARRIVAL), e
    assert crig.complaints().get("suppressed") == 1, crig.complaints()

    assert_complaint_refused(crig, to)
    assert crig.deliver(other).meta["rcpts"] == ["<%s>" % other]


def test_base64_headers_only_report_suppresses_by_the_return_path_token(crig):
    """JMRP style: only the header, as text/rfc822-headers in base64, without
    List-Unsubscribe: the Return-Path (the rewritten envelope sender) names the recipient"""
    to = rcpt("erin")
    d = crig.deliver(to)
    head = as_received(d).split(b"\r\n\r\n", 1)[0] + b"\r\n"
    head = b"\r\n".join(l for l in re.split(rb"\r\n(?![ \t])", head)
                        if not l.lower().startswith(b"list-unsubscribe")) + b"\r\n"
    assert not re.search(rb"(?im)^list-unsubscribe", head), head
    qid = crig.report(yahoo_report(head, ctype="text/rfc822-headers", cte="base64"))
    line = crig.milter.wait_log(r"^.*%s: complaint \(abuse\).*$" % qid, timeout=30).group(0)
    assert "rcpt=<%s> stream=%s suppressed (reason=complaint, token in return-path)" % (
        to, NEWS) in line, line
    crig.discarded_by_milter(qid)
    assert [e["reason"] for e in crig.listed() if e["rcpt"] == to] == ["complaint"]
    assert_complaint_refused(crig, to)


@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_quoted_printable_report_suppresses_by_the_list_unsubscribe_token(crig):
    """the enclosed message in quoted-printable (Python's quopri, as a mailer writes it:
    lines cut at 76 by soft line breaks, "=" as =3D), so that neither token is in the
    report as it is: decoded, the List-Unsubscribe token names the recipient"""
    to = rcpt("kate")
    d = crig.deliver(to)
    url, _ = unsub_targets(d.msg)
    utok = re.search(r"/u/([A-Za-z0-9_-]+)$", url).group(1)
    body = yahoo_report(as_received(d), cte="quoted-printable")
    assert utok.encode() not in body, "the token is not cut: the test would not decode"
    qid = crig.report(body)
    line = crig.milter.wait_log(r"^.*%s: complaint \(abuse\).*$" % qid, timeout=30).group(0)
    assert "rcpt=<%s> stream=%s suppressed (reason=complaint, token in list-unsubscribe)" % (
        to, NEWS) in line, line
    crig.discarded_by_milter(qid)
    assert [e["reason"] for e in crig.listed() if e["rcpt"] == to] == ["complaint"]
    assert crig.complaints().get("suppressed") == 1, crig.complaints()
    assert_complaint_refused(crig, to)


def test_opt_out_report_suppresses_as_an_unsubscribe(crig):
    """Feedback-Type opt-out: the recipient is suppressed with reason unsubscribe (source
    arf), and the next message is refused as unsubscribed"""
    to = rcpt("ida")
    d = crig.deliver(to)
    qid = crig.report(yahoo_report(as_received(d), feedback_type="opt-out"))
    crig.milter.wait_log(r"%s: complaint \(opt-out\) .* rcpt=<%s> .*suppressed \(reason=unsubscribe"
                         % (qid, re.escape(to)), timeout=30)
    crig.discarded_by_milter(qid)
    got = [e for e in crig.listed("unsubscribe") if e["rcpt"] == to]
    assert [(e["stream"], e["source"], e["expires"]) for e in got] == [(NEWS, "arf", "never")], got
    assert [e for e in crig.listed() if e["rcpt"] == to] == []
    assert crig.complaints().get("unsubscribed") == 1, crig.complaints()
    r, mid = crig.send(to)
    want = "5.7.1 <%s>: recipient unsubscribed from mail of %s" % (to, NEWS)
    assert r.data is not None and r.data[0] == 550 and r.data[1] == want, r


@pytest.mark.parametrize("store_url", ["redis"], indirect=True)
def test_store_down_refuses_the_report_451_and_the_resent_report_suppresses(crig, request):
    """Redis stopped: the report is refused 451 4.3.0 (Postfix passes txmilter's reply
    on), nothing is lost: the feedback loop sends it again once the store is back, and
    then the recipient is suppressed"""
    to = rcpt("jack")
    d = crig.deliver(to)
    body = yahoo_report(as_received(d))
    redis = request.node.redis
    redis.stop()
    r = crig.offer(body)
    assert r.data == (451, "4.3.0 suppression list unavailable, try again later"), r
    crig.milter.wait_log(r"complaint \(abuse\) about rcpt=<%s> stream=%s: cannot record it"
                         % (re.escape(to), re.escape(NEWS)), timeout=30)
    assert crig.complaints().get("failed", 0) >= 1, crig.complaints()
    redis.start()
    # the reporter retries as an MTA does; the store's breaker may need a moment
    wait_until(lambda: crig.offer(body).accepted, 30, interval=1, what="the report accepted")
    crig.milter.wait_log(r"complaint \(abuse\) from arf\.mail\.yahoo\.com: rcpt=<%s> stream=%s "
                         r"suppressed" % (re.escape(to), re.escape(NEWS)), timeout=30)
    assert [e["reason"] for e in crig.listed() if e["rcpt"] == to] == ["complaint"]
    assert_complaint_refused(crig, to)


# --- reports that change nothing ----------------------------------------------------------

def test_recipient_named_only_in_original_rcpt_to_and_to_changes_nothing(crig):
    """a report about mail that carries no token of ours (another sender's, or ours with
    its List-Unsubscribe and Return-Path gone) that names the victim in Original-Rcpt-To,
    To and the text: logged, nothing suppressed"""
    victim = rcpt("victim")
    crig.deliver(victim)                        # the victim does get our mail
    forged = ("Return-Path: <app@example.com>\r\nFrom: %s\r\nTo: <%s>\r\n"
              "Subject: our news\r\nMessage-ID: <%s@example.com>\r\n\r\nhello\r\n"
              % (NEWS, victim, uuid.uuid4().hex)).encode()
    qid = crig.report(yahoo_report(forged, original_rcpt=victim, mail_from="app@example.com"))
    line = crig.milter.wait_log(r"^.*%s: feedback report \(abuse\).*$" % qid, timeout=30).group(0)
    assert ("no List-Unsubscribe or return path of ours in the enclosed message: nothing "
            "suppressed") in line, line
    crig.discarded_by_milter(qid)
    assert crig.complaints().get("no-token") == 1, crig.complaints()
    assert_nothing_changed(crig, victim)


def test_tampered_tokens_change_nothing(crig):
    """the enclosed message with one character of each token changed (List-Unsubscribe's
    URL and mailto, Return-Path, and the report's Original-Mail-From): logged as refused"""
    to = rcpt("frank")
    d = crig.deliver(to)
    raw = as_received(d)
    url, mailto = unsub_targets(d.msg)
    utok = re.search(r"/u/([A-Za-z0-9_-]+)$", url).group(1)
    mtok = re.match(r"unsub\+([A-Za-z0-9_-]+)@", mailto).group(1)
    rp = envelope_sender(d)
    rtok = RP_RX.match(rp).group(1)
    bad_rp = rp.replace(rtok, flip_b32(rtok))
    raw = raw.replace(utok.encode(), flip_b64url(utok).encode())
    raw = raw.replace(mtok.encode(), flip_b64url(mtok).encode())
    raw = raw.replace(rp.encode(), bad_rp.encode())
    assert utok.encode() not in raw and rtok.encode() not in raw
    qid = crig.report(yahoo_report(raw, mail_from=bad_rp))
    line = crig.milter.wait_log(r"^.*%s: feedback report \(abuse\).*$" % qid, timeout=30).group(0)
    assert "token refused: bad authentication tag: nothing suppressed" in line, line
    crig.discarded_by_milter(qid)
    assert crig.complaints().get("bad-token") == 1, crig.complaints()
    assert_nothing_changed(crig, to)


def test_not_spam_report_changes_nothing(crig):
    """the recipient took our mail out of the spam folder: logged, not suppressed"""
    to = rcpt("gina")
    d = crig.deliver(to)
    qid = crig.report(yahoo_report(as_received(d), feedback_type="not-spam"))
    line = crig.milter.wait_log(r"^.*%s: feedback report \(not-spam\).*$" % qid,
                                timeout=30).group(0)
    assert "about rcpt=<%s> stream=%s: not a complaint, nothing suppressed" % (to, NEWS) in line
    crig.discarded_by_milter(qid)
    assert crig.complaints().get("ignored") == 1, crig.complaints()
    assert_nothing_changed(crig, to)


def test_mail_that_is_no_report_is_dropped_and_changes_nothing(crig):
    """a person writes to the complaint address, naming themselves and quoting our
    List-Unsubscribe in the body: no feedback report, dropped, nothing suppressed"""
    to = rcpt("hank")
    d = crig.deliver(to)
    url, _ = unsub_targets(d.msg)
    msg, mid = make_message(from_addr=to, to_addr=FBL, subject="stop this",
                            body=("Please remove %s.\r\nList-Unsubscribe: <%s>\r\n" % (to, url)).encode())
    r = crig.pf.submit(to, [FBL], msg, source_address=REMOTE, helo="mx.receiver.example")
    assert r.accepted, r
    qid = re.search(r"queued as (\w+)", r.data[1]).group(1)
    line = crig.milter.wait_log(r"^.*%s: mail to ComplaintAddress.*$" % qid, timeout=30).group(0)
    assert "not a feedback report" in line and "dropped, nothing suppressed" in line, line
    crig.discarded_by_milter(qid)
    assert crig.complaints().get("not-arf") == 1, crig.complaints()
    assert not [x for x in crig.cap.messages() if FBL in " ".join(x.meta["rcpts"])]
    assert_nothing_changed(crig, to)

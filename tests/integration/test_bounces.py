# SPDX-License-Identifier: BSD-2-Clause
"""Bounces end to end (issue 16): a real Postfix, its own bounce daemon, a refusing receiver.

A private Postfix instance relays to a capture server of its own (mailrig.capture), which
refuses chosen recipients at RCPT TO as a receiving MTA does.  The instance is set up for
the bounce domain as the README tells operators to:

    relay_domains = bounce.example.com
    transport_maps = hash:<its etc>/transport          bounce.example.com  discard:
    internal_mail_filter_classes = bounce              (non_smtpd_milters = txmilter)

and, unlike the session's instance, with Postfix's default relay restrictions and
mynetworks = 127.0.0.1/32, so that a client on 127.0.0.2 is a remote MTA: Postfix takes
mail from it only for the relay domain, and txmilter (InternalHosts 127.0.0.1, ::1) sees
it as inbound.

txmilter signs example.com with ReturnPath bounces+%{token}@bounce.%{domain} and the
suppression list in SQLite (or Redis where a test says so), no List-Unsubscribe.
Scenarios:

  - the receiver refuses dead@ with 550 5.1.1; Postfix's bounce daemon sends the DSN to
    the rewritten return path; it passes txmilter (non_smtpd_milters), which suppresses
    the recipient (reason bounce, status 5.1.1) and discards the DSN; the next message to
    that recipient is refused 550 5.7.1 (bounced: 5.1.1), other recipients still get mail
    (SQLite and Redis);
  - the receiver answers 452 4.2.2 (mailbox full) each time and Postfix, trying once
    (maximal_queue_lifetime 0), bounces each message: BounceSoftLimit 3/7d suppresses at
    the third (SQLite and Redis);
  - Postfix's delay warning (delay_warning_time) of a 452 4.2.2 is counted, suppresses
    nothing, and the message arrives once the mailbox takes mail;
  - the delay warning and then the bounce (maximal_queue_lifetime) of one message are
    one soft bounce under BounceSoftLimit 2/7d, and suppress nothing; the delay warning
    of a second message is the second and suppresses;
  - the bounce of mail to several recipients (which keeps its envelope sender) passes
    txmilter as ordinary mail and reaches the application's sender;
  - with the milter away when the bounce daemon writes its DSN, or the Redis store
    frozen so that txmilter refuses it 451 4.3.0, nothing is lost: Postfix keeps the
    message (bounce failed) and the DSN it sends again later suppresses;
  - a DSN a remote MTA sends over SMTP to the return path (after it had accepted the
    message) does the same (SQLite and Redis); Exim's Status 5.0.0 is read from the reply
    it quotes (550 5.1.1 dead, 550 5.7.1 policy);
  - a DSN whose token was tampered with changes nothing, and the log says why;
  - an out-of-office reply to the return path changes nothing and is dropped;
  - other mail to the bounce domain passes txmilter untouched and the transport discards
    it: nothing is relayed on.

txmilter_bounces_total (MetricsListen) counts each report by what it was.

DKIM of a message with the rewritten envelope, and SPF alignment of the new MAIL FROM, are
tested in test_alignment.py (test_return_path_signature_still_verifies_after_the_envelope_
change, test_return_path_makes_spf_align_single_recipient_only); here the DSN side.
"""

import os
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
from mailrig.redisserver import RedisServer
from ratelimit_helpers import ctl
from unsub_helpers import write_keyfile

pytestmark = [pytest.mark.txmilter_only, pytest.mark.usefixtures("reaper_after_workdir")]

NEWS = "news@example.com"                    # the stream of every test here


@pytest.fixture(scope="module")
def bcap(workdir):
    """the receiver of this module's Postfix"""
    c = Capture(workdir, name="capture-bounces").start()
    yield c
    c.stop()


def bounce_postfix(workdir, cap, name, more=None):
    """a started Postfix that accepts the bounce domain and hands its own bounces to the
    milter, relaying everything else to cap"""
    sock = os.path.join(workdir, "milter", "milter.sock")    # where start_milter publishes
    return bounce_domain_postfix(workdir, ("127.0.0.1", cap.port), "unix:" + sock, name,
                                 extra=more)


@pytest.fixture(scope="module")
def bpf(workdir, bcap):
    """this module's Postfix"""
    pf = bounce_postfix(workdir, bcap, "postfix-bounces")
    yield pf
    pf.stop()


@pytest.fixture(scope="module")
def bpf_once(workdir, bcap):
    """the same, with maximal_queue_lifetime = 0: a temporary failure is tried once, then
    bounced as Postfix does when a deferral outlives its queue lifetime (Action failed,
    the 4.x.x status)"""
    pf = bounce_postfix(workdir, bcap, "postfix-bounces-once", {"maximal_queue_lifetime": "0"})
    yield pf
    pf.stop()


@pytest.fixture(scope="module")
def bpf_warn(workdir, bcap):
    """the same, with delay_warning_time = 1s: a message deferred for a second gets
    Postfix's delay warning (Action delayed) at its next attempt"""
    pf = bounce_postfix(workdir, bcap, "postfix-bounces-warn", {"delay_warning_time": "1s"})
    yield pf
    pf.stop()


@pytest.fixture(scope="module")
def bpf_warn_expire(workdir, bcap):
    """the same, with delay_warning_time = 1s and maximal_queue_lifetime = 6s: a message
    deferred gets Postfix's delay warning at its next attempt past a second, and its
    bounce (Action failed) at the first attempt past six"""
    pf = bounce_postfix(workdir, bcap, "postfix-bounces-warn-expire",
                        {"delay_warning_time": "1s", "maximal_queue_lifetime": "6s"})
    yield pf
    pf.stop()


class BounceRig:
    """the milter, its configuration and this module's Postfix and receiver"""

    def __init__(self, milter, datadir, pf, cap, setup, metrics_port):
        self.milter, self.datadir, self.pf, self.cap = milter, datadir, pf, cap
        self.setup = setup
        self.metrics_port = metrics_port

    def start_again(self, start_milter):
        """start_again - a second txmilter on the same keys and list (the first may still
        be winding down: a MetricsListen port of its own); it becomes self.milter"""
        self.metrics_port = free_port()
        extra = [kv for kv in self.setup.extra if kv[0] != "MetricsListen"]
        extra.append(("MetricsListen", "127.0.0.1:%d" % self.metrics_port))
        self.milter = start_milter(SigningSetup(self.setup.keys, extra=extra))
        return self.milter

    def bounces_counted(self):
        """txmilter_bounces_total by class, as MetricsListen serves it now"""
        url = "http://127.0.0.1:%d/metrics" % self.metrics_port
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
        return {m.group(1): float(m.group(2)) for m in re.finditer(
            r'^txmilter_bounces_total\{class="([a-z_]+)"\} (\S+)$', text, re.M)}

    def send(self, rcpts, from_addr=NEWS, mail_from="app@example.com"):
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        msg, mid = make_message(from_addr=from_addr, to_addr=", ".join(rcpts))
        return self.pf.submit(mail_from, rcpts, msg), mid

    def suppressed(self, reason="bounce"):
        """`txmilterctl suppress list --reason R` as a list of dicts"""
        return listed(self.milter, reason)


STORES = ["sqlite", "redis"]              # store_url's parameters (conftest.py)


@pytest.fixture
def make_brig(start_milter, keys, workdir, bcap, store_url):
    """make_brig(pf, more=()) - txmilter signing example.com with ReturnPath (and no
    List-Unsubscribe: the return path alone keeps the suppression list) and the directives
    in more, for the Postfix pf"""
    def make(pf, more=()):
        tag = uuid.uuid4().hex[:8]
        d = make_dir(os.path.join(workdir, "bounces", tag), 0o700)
        datadir = make_dir(os.path.join(d, "data"), 0o700)
        keyfile = write_keyfile(os.path.join(d, "rp.keys"), [(1, os.urandom(32))])
        port = free_port()
        extra = [("UnsubscribeKeyFile", keyfile),
                 ("ReturnPath", "bounces+%{token}@bounce.%{domain}"),
                 ("DataDirectory", datadir), ("ControlSocket", "none"),
                 ("MetricsListen", "127.0.0.1:%d" % port)] + list(more)
        if store_url:
            extra.append(("Store", store_url))
        setup = SigningSetup([keys["rsa_com"]], extra=extra)
        return BounceRig(start_milter(setup), datadir, pf, bcap, setup, port)
    yield make
    bcap.refuse_none()


@pytest.fixture
def brig(make_brig, bpf):
    return make_brig(bpf)


def assert_bounced_refused(brig, to, status="5.1.1"):
    """the next message of the stream to `to` is refused as the README says"""
    r, mid = brig.send(to)
    want = "5.7.1 <%s>: recipient bounced mail of %s (bounced: %s)" % (to, NEWS, status)
    assert r.data is not None and r.data[0] == 550 and r.data[1] == want, (
        "expected 550 %s, got %r\nmaillog: %s" % (want, r, brig.pf.log_for(mid)))
    assert brig.pf.fate(mid)["status"] == "milter-reject", brig.pf.fate(mid)
    assert not brig.cap.find(mid)


def assert_delivered(brig, rcpts):
    """a message of the stream to rcpts is delivered, to exactly those recipients"""
    rcpts = [rcpts] if isinstance(rcpts, str) else rcpts
    r, mid = brig.send(rcpts)
    assert r.accepted, "refused: %r\nmaillog: %s" % (r, brig.pf.log_for(mid))
    d = brig.cap.wait_for(mid)
    assert sorted(d.meta["rcpts"]) == sorted("<%s>" % a for a in rcpts), d.meta
    return d


def assert_delivered_without(brig, rcpts, gone):
    """a message to rcpts is delivered to all of them but gone"""
    r, mid = brig.send(rcpts)
    assert r.accepted, "refused: %r\nmaillog: %s" % (r, brig.pf.log_for(mid))
    d = brig.cap.wait_for(mid)
    assert sorted(d.meta["rcpts"]) == sorted("<%s>" % a for a in rcpts if a != gone), d.meta
    return d


def return_path_of(brig, to):
    """deliver a message to `to` and give the envelope sender it went out with"""
    d = assert_delivered(brig, to)
    rp = d.meta["mail_from"].split()[0].strip("<>")
    assert RP_RX.match(rp), d.meta
    return rp


def entries_for(brig, to):
    return [e for e in brig.suppressed() if e["rcpt"] == to]


def send_remote(brig, rp, msg):
    """msg to the return path rp from a remote MTA (127.0.0.2, null sender, as DSNs and
    RFC 3834 auto-replies come); Postfix's SmtpResult (.queue_id)"""
    r = brig.pf.submit("", [rp], msg, source_address=REMOTE, helo="mx.receiver.example")
    assert r.accepted, "the relay refused mail to its return path: %r\nmaillog tail: %s" % (
        r, brig.pf.log_text()[-3000:])
    return r


# --- the relay's own bounce daemon ------------------------------------------------------

@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_postfix_bounce_of_a_550_511_suppresses_the_recipient(brig):
    """the receiver refuses the recipient with 550 5.1.1; Postfix's bounce daemon sends its
    DSN to the rewritten return path, which goes through txmilter (non_smtpd_milters,
    internal_mail_filter_classes=bounce): the recipient is suppressed with status 5.1.1
    and the DSN discarded; the next message to it is refused (bounced: 5.1.1) while
    other recipients, and the others of a message to several, still get mail"""
    dead, alive, third = rcpt("dead"), rcpt("alive"), rcpt("third")
    brig.cap.refuse(dead, "550 5.1.1 <%s>: no such user" % dead)
    r, mid = brig.send(dead)
    assert r.accepted, r
    refusal = brig.cap.wait_refused(dead)[0]
    assert RP_RX.match(refusal["mail_from"].split()[0].strip("<>")), refusal

    brig.pf.wait_log_for(mid, r"dsn=5\.1\.1, status=bounced", timeout=60)
    ndn = brig.pf.wait_log_for(mid, r"sender non-delivery notification: ", timeout=60)
    bqid = ndn.rsplit(" ", 1)[1]
    line = brig.milter.wait_log(r"^.*%s: bounced: .*$" % bqid, timeout=60).group(0)
    assert ("bounced: rcpt=<%s> stream=%s status=5.1.1 suppressed (reason=bounce)"
            % (dead, NEWS)) in line, line
    summary = brig.milter.wait_log(r"^txmilter\[\d+\]: %s: from=<> .*$" % bqid, timeout=30).group(0)
    assert "bounce from the MTA itself: read as a DSN" in summary, summary
    assert "bounce=dead status=5.1.1 suppressed=<%s> action=discard" % dead in summary, summary
    discarded_by_milter(brig.pf, bqid)
    assert not [d for d in brig.cap.messages() if BOUNCE_DOMAIN in " ".join(d.meta["rcpts"])]

    got = entries_for(brig, dead)
    assert len(got) == 1, brig.suppressed()
    e = got[0]
    assert (e["stream"], e["source"], e["reason"], e["expires"]) == (NEWS, "dsn", "bounce", "never"), e
    assert e["evidence"] == "5.1.1; smtp; 550 5.1.1 <%s>: no such user" % dead, e

    counted = brig.bounces_counted()
    assert counted["dead"] == 1 and sum(counted.values()) == 1, counted

    brig.cap.refuse(dead, None)                 # were it sent, it would arrive now
    assert_bounced_refused(brig, dead)
    assert_delivered(brig, alive)
    assert_delivered_without(brig, [alive, third, dead], dead)



def test_bounce_of_mail_to_several_recipients_goes_to_its_sender(brig):
    """mail to several recipients keeps the application's envelope sender (one token
    names one recipient): with internal_mail_filter_classes = bounce, Postfix's bounce
    to that sender still passes txmilter as ordinary mail and is delivered; nothing is
    suppressed, the other recipient got the message"""
    dead, alive = rcpt("dead-multi"), rcpt("alive-multi")
    brig.cap.refuse(dead, "550 5.1.1 <%s>: no such user" % dead)
    r, mid = brig.send([dead, alive], mail_from="app@example.com")
    assert r.accepted, r
    d = brig.cap.wait_for(mid)
    assert d.meta["rcpts"] == ["<%s>" % alive] and d.meta["mail_from"].startswith(
        "<app@example.com>"), d.meta
    ndn = brig.pf.wait_log_for(mid, r"sender non-delivery notification: ", timeout=60)
    bqid = ndn.rsplit(" ", 1)[1]
    line = brig.pf.wait_log(r"^.* %s: to=<app@example\.com>, .*status=sent.*$" % bqid, timeout=60)
    assert line
    dsn = [m for m in brig.cap.messages() if m.meta["rcpts"] == ["<app@example.com>"]
           and m.meta["mail_from"].startswith("<>")]
    assert len(dsn) == 1 and b"Status: 5.1.1" in dsn[0].raw and dead.encode() in dsn[0].raw, dsn
    summary = milter_line(brig, bqid, "from=<>")
    assert "bounce=" not in summary and "outbound" in summary, summary
    assert brig.suppressed() == []
    assert sum(brig.bounces_counted().values()) == 0

def test_bounce_while_the_milter_is_away_is_kept_until_it_is_back(brig, rig, start_milter):
    """the receiver first defers (451), then, with no milter on Postfix's socket, refuses
    550 5.1.1: the bounce daemon's DSN cannot pass the milter (milter_default_action
    tempfail), so Postfix keeps the message (bounce failed); once txmilter is back
    Postfix sends the DSN again and it suppresses the recipient"""
    dead = rcpt("later")
    brig.cap.refuse(dead, "451 4.3.0 <%s>: try again later" % dead)
    r, mid = brig.send(dead)
    assert r.accepted, r
    brig.pf.wait_log_for(mid, r"dsn=4\.3\.0, status=deferred", timeout=60)

    rig.no_milter()
    brig.cap.refuse(dead, "550 5.1.1 <%s>: no such user" % dead)
    brig.pf.flush()
    brig.pf.wait_log_for(mid, r"status=deferred \(bounce failed\)", timeout=60)
    assert brig.suppressed() == []
    assert brig.pf.fate(mid)["queue_id"] and brig.pf.queue_count() >= 1

    m = brig.start_again(start_milter)
    brig.pf.flush()
    line = m.wait_log(r"^.*: bounced: rcpt=<%s> .*$" % re.escape(dead), timeout=60).group(0)
    assert "status=5.1.1 suppressed (reason=bounce)" in line, line
    brig.pf.wait_log_for(mid, r"sender non-delivery notification: ", timeout=60)
    brig.pf.wait_log_for(mid, r": removed", timeout=60)
    # Postfix kept the bounce, not the delivery, to do: it sent the same DSN again
    assert len(brig.cap.refused(dead)) == 2, brig.cap.refused(dead)
    assert brig.bounces_counted()["dead"] == 1
    assert [e["evidence"] for e in entries_for(brig, dead)] == [
        "5.1.1; smtp; 550 5.1.1 <%s>: no such user" % dead]
    assert_bounced_refused(brig, dead)


@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_postfix_bounces_of_452_422_past_the_soft_limit_suppress(make_brig, bpf_once):
    """the receiver answers 452 4.2.2 (mailbox full) every time; Postfix, trying once
    (maximal_queue_lifetime 0), bounces each message with Action failed, Status 4.2.2.
    With BounceSoftLimit 3/7d the first two are counted and the recipient still gets the
    next message, the third suppresses it: the next is refused (bounced: 4.2.2)"""
    brig = make_brig(bpf_once, [("BounceSoftLimit", "3/7d")])
    full, alive = rcpt("full"), rcpt("alive")
    brig.cap.refuse(full, "452 4.2.2 <%s>: mailbox full" % full)
    for n in (1, 2, 3):
        r, mid = brig.send(full)
        assert r.accepted, "message %d refused: %r\nmaillog: %s" % (n, r, brig.pf.log_for(mid))
        brig.pf.wait_log_for(mid, r"dsn=4\.2\.2, status=deferred", timeout=60)
        brig.pf.wait_log_for(mid, r"status=expired, returned to sender", timeout=60)
        ndn = brig.pf.wait_log_for(mid, r"sender non-delivery notification: ", timeout=60)
        bqid = ndn.rsplit(" ", 1)[1]
        line = milter_line(brig, bqid, "rcpt=<%s> stream=%s" % (full, NEWS))
        assert re.search(r"status=4\.2\.2 \(full\): soft bounce %d in 7d, BounceSoftLimit 3" % n,
                         line), line
        discarded_by_milter(brig.pf, bqid)
        if n < 3:
            assert "counted, not suppressed" in line, line
            assert entries_for(brig, full) == [], brig.suppressed()
        else:
            assert line.split(": ", 2)[2].startswith("bounced: "), line
            assert "suppressed (reason=bounce)" in line, line
    assert len(brig.cap.refused(full)) == 3
    e = entries_for(brig, full)
    assert len(e) == 1 and e[0]["evidence"] == (
        "4.2.2; soft: 3 in 7d; smtp; 452 4.2.2 <%s>: mailbox full" % full), e
    assert brig.bounces_counted()["full"] == 3
    assert_bounced_refused(brig, full, status="4.2.2")
    assert_delivered(brig, alive)


def test_postfix_delay_warning_is_counted_and_the_message_still_arrives(make_brig, bpf_warn):
    """the receiver answers 452 4.2.2 for a while: Postfix's delay warning (Action delayed,
    Status 4.2.2) to the return path passes txmilter, is counted (full) and suppresses
    nothing; once the mailbox takes mail again the message arrives"""
    brig = make_brig(bpf_warn)
    full = rcpt("delayed")
    brig.cap.refuse(full, "452 4.2.2 <%s>: mailbox full" % full)
    r, mid = brig.send(full)
    assert r.accepted, r
    brig.pf.wait_log_for(mid, r"dsn=4\.2\.2, status=deferred", timeout=60)

    def warned():
        brig.pf.flush()                          # the next attempt, past delay_warning_time
        return [l for l in brig.pf.log_for(mid) if "sender delay notification: " in l]
    bqid = wait_until(warned, 60, interval=1, what="Postfix's delay warning")[0].rsplit(" ", 1)[1]
    line = milter_line(brig, bqid, "rcpt=<%s> stream=%s" % (full, NEWS))
    assert "delayed status=4.2.2 (full): counted, not suppressed" in line, line
    discarded_by_milter(brig.pf, bqid)
    assert brig.suppressed() == []
    # without BounceSoftLimit nothing is counted, and txmilterctl says so
    rc, out, err = ctl(brig.milter, "suppress", "list", "--soft")
    assert (rc, out) == (0, "") and "BounceSoftLimit is not set" in err, (rc, out, err)
    rc, out, err = ctl(brig.milter, "suppress", "list", "--soft", "--reason", "bounce")
    assert rc == 2 and "no --reason" in err, (rc, out, err)
    assert brig.bounces_counted()["full"] == 1

    brig.cap.refuse(full, None)
    brig.pf.flush()
    d = brig.cap.wait_for(mid, timeout=60)
    assert d.meta["rcpts"] == ["<%s>" % full], d.meta

def notices_of(brig, mid, kind):
    """the queue ids of Postfix's notices of kind ("delay", "non-delivery") for mid, each
    attempt flushed from the queue so that the next comes without Postfix's backoff"""
    def found():
        brig.pf.flush()
        return [l.rsplit(" ", 1)[1] for l in brig.pf.log_for(mid)
                if "sender %s notification: " % kind in l]
    return wait_until(found, 60, interval=1, what="Postfix's %s notification" % kind)


def test_delay_warning_and_bounce_of_one_message_count_once(make_brig, bpf_warn_expire):
    """the receiver answers 452 4.2.2 every time: Postfix warns of the delay of the first
    message, then bounces it (Action failed) when its queue lifetime is over. Both are
    about one message to one recipient: under BounceSoftLimit 2/7d they are soft bounce 1
    and suppress nothing. The delay warning of a second message is soft bounce 2 and
    suppresses; that message's own bounce later is still the second"""
    brig = make_brig(bpf_warn_expire, [("BounceSoftLimit", "2/7d")])
    full = rcpt("full-once")
    brig.cap.refuse(full, "452 4.2.2 <%s>: mailbox full" % full)
    r, mid = brig.send(full)
    assert r.accepted, r
    brig.pf.wait_log_for(mid, r"dsn=4\.2\.2, status=deferred", timeout=60)

    warn = notices_of(brig, mid, "delay")[0]
    line = milter_line(brig, warn, "rcpt=<%s> stream=%s" % (full, NEWS))
    assert ("delayed status=4.2.2 (full): soft bounce 1 in 7d, BounceSoftLimit 2: counted, "
            "not suppressed") in line, line
    final = notices_of(brig, mid, "non-delivery")[0]
    brig.pf.wait_log_for(mid, r"status=expired, returned to sender", timeout=10)
    line = milter_line(brig, final, "rcpt=<%s> stream=%s" % (full, NEWS))
    assert ("failed status=4.2.2 (full): soft bounce 1 in 7d, BounceSoftLimit 2: counted, "
            "not suppressed") in line, line
    discarded_by_milter(brig.pf, final)
    assert entries_for(brig, full) == [], brig.suppressed()
    assert brig.bounces_counted()["full"] == 2      # two reports, one soft bounce
    rc, out, err = ctl(brig.milter, "suppress", "list", "--soft", "--rcpt", full)
    assert rc == 0 and [l.split("\t")[:4] for l in out.splitlines()] == [
        [full, NEWS, "1", "2/7d"]], (rc, out, err)

    r, mid2 = brig.send(full)                       # not refused: a second message
    assert r.accepted, "refused: %r\nmaillog: %s" % (r, brig.pf.log_for(mid2))
    warn = notices_of(brig, mid2, "delay")[0]
    line = milter_line(brig, warn, "rcpt=<%s> stream=%s" % (full, NEWS))
    assert re.search(r"bounced: rcpt=<%s> stream=%s status=4\.2\.2 \(full\): soft bounce 2 in "
                     r"7d, BounceSoftLimit 2: suppressed \(reason=bounce\)" % (
                         re.escape(full), re.escape(NEWS)), line), line
    e = entries_for(brig, full)
    assert len(e) == 1 and e[0]["evidence"] == (
        "4.2.2; soft: 2 in 7d; smtp; 452 4.2.2 <%s>: mailbox full" % full), e
    final = notices_of(brig, mid2, "non-delivery")[0]
    assert "soft bounce 2 in 7d" in milter_line(brig, final, "rcpt=<%s>" % full)
    assert_bounced_refused(brig, full, status="4.2.2")


def test_bounce_while_the_list_cannot_record_it_is_kept_until_it_can(make_brig, bpf, workdir):
    """with the Redis store frozen when Postfix's DSN arrives, txmilter cannot record the
    bounce: it refuses the DSN 451 4.3.0, so Postfix keeps the message (bounce failed)
    rather than lose the report; once Redis answers, a retry records it"""
    redis = RedisServer(workdir, name="redis-bounces-frozen-%s" % uuid.uuid4().hex[:6]).start()
    try:
        brig = make_brig(bpf, [("Store", redis.url), ("StoreTimeout", "500")])
        dead = rcpt("unrecorded")
        brig.cap.refuse(dead, "451 4.3.0 <%s>: try again later" % dead)
        r, mid = brig.send(dead)
        assert r.accepted, r
        brig.pf.wait_log_for(mid, r"dsn=4\.3\.0, status=deferred", timeout=60)

        redis.freeze()
        try:
            brig.cap.refuse(dead, "550 5.1.1 <%s>: no such user" % dead)
            brig.pf.flush()
            brig.pf.wait_log_for(mid, r"status=deferred \(bounce failed\)", timeout=60)
            line = brig.milter.wait_log(r"^.*bounce for rcpt=<%s> stream=%s: cannot record it.*$"
                                        % (re.escape(dead), re.escape(NEWS)), timeout=30).group(0)
            assert "error" in line, line
            brig.pf.wait_log(r"milter-reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: "
                             r"4\.3\.0 .*; from=<> to=<bounces\+", timeout=30)
        finally:
            redis.thaw()

        def recorded():
            brig.pf.flush()                      # Postfix's retry, without its backoff
            return entries_for(brig, dead)
        got = wait_until(recorded, 60, interval=1, what="the bounce recorded once Redis answers")
        assert got[0]["evidence"] == "5.1.1; smtp; 550 5.1.1 <%s>: no such user" % dead, got
        brig.pf.wait_log_for(mid, r": removed", timeout=60)
        assert_bounced_refused(brig, dead)
    finally:
        redis.stop()

# --- reports from outside ---------------------------------------------------------------

def remote_dsn(rp, rcpt, status="5.1.1", diag=None, final=None):
    """a DSN as a remote MTA writes it after accepting a message (multipart/report with a
    human part, the message/delivery-status part and the returned header)"""
    final = final or rcpt
    diag = diag or "smtp; 550-5.1.1 The email account that you tried to reach does not exist."
    b = "=_dsn_" + uuid.uuid4().hex
    return ("From: Mail Delivery Subsystem <mailer-daemon@mx.receiver.example>\r\n"
            "To: %(rp)s\r\n"
            "Subject: Delivery Status Notification (Failure)\r\n"
            "Date: Fri, 04 Dec 2026 12:00:00 +0000\r\n"
            "Message-ID: <%(id)s@mx.receiver.example>\r\n"
            "Auto-Submitted: auto-replied\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
            "\tboundary=\"%(b)s\"\r\n"
            "\r\n"
            "--%(b)s\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n"
            "Your message wasn't delivered to %(final)s because the address couldn't be\r\n"
            "found, or is unable to receive mail.\r\n"
            "\r\n"
            "--%(b)s\r\n"
            "Content-Type: message/delivery-status\r\n"
            "\r\n"
            "Reporting-MTA: dns; mx.receiver.example\r\n"
            "Arrival-Date: Fri, 04 Dec 2026 11:59:58 +0000\r\n"
            "\r\n"
            "Final-Recipient: rfc822; %(final)s\r\n"
            "Action: failed\r\n"
            "Status: %(status)s\r\n"
            "Remote-MTA: dns; mailstore1.receiver.example\r\n"
            "Diagnostic-Code: %(diag)s\r\n"
            "Last-Attempt-Date: Fri, 04 Dec 2026 12:00:00 +0000\r\n"
            "\r\n"
            "--%(b)s\r\n"
            "Content-Type: text/rfc822-headers\r\n"
            "\r\n"
            "From: %(news)s\r\n"
            "To: %(rcpt)s\r\n"
            "Subject: txmilter test\r\n"
            "\r\n"
            "--%(b)s--\r\n" % {"rp": rp, "rcpt": rcpt, "final": final, "status": status,
                               "diag": diag, "b": b, "news": NEWS,
                               "id": uuid.uuid4().hex}).encode()


def out_of_office(rp, rcpt):
    """an RFC 3834 auto-reply to the envelope sender, as mail clients send them"""
    return ("From: %(rcpt)s\r\n"
            "To: %(rp)s\r\n"
            "Subject: Automatic reply: txmilter test\r\n"
            "Date: Fri, 04 Dec 2026 12:00:00 +0000\r\n"
            "Message-ID: <%(id)s@receiver.example>\r\n"
            "Auto-Submitted: auto-replied\r\n"
            "X-Auto-Response-Suppress: All\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n"
            "I am out of the office until Monday, with no access to mail.\r\n"
            "Status: 5.1.1\r\nAction: failed\r\n" % {"rp": rp, "rcpt": rcpt,
                                                  "id": uuid.uuid4().hex}).encode()


def milter_line(brig, qid, what):
    """the milter's log line for qid that holds what"""
    rx = r"^txmilter\[\d+\]: (?:warning: |error: )?%s: .*%s.*$" % (qid, re.escape(what))
    return brig.milter.wait_log(rx, timeout=30).group(0)


def tamper(rp):
    """rp with one character of its token changed (to another base32 character)"""
    m = RP_RX.match(rp)
    tok = m.group(1)
    i = len(tok) // 2
    alt = "b" if tok[i] != "b" else "c"
    return "bounces+%s%s%s@%s" % (tok[:i], alt, tok[i + 1:], BOUNCE_DOMAIN)


@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_remote_dsn_over_smtp_suppresses_the_recipient(brig):
    """a remote MTA accepted the message, then found the mailbox gone: its DSN, over SMTP
    from outside to the return path, suppresses the token's recipient (the report's
    Final-Recipient is how that MTA spells it) and is discarded"""
    gone, alive = rcpt("gone"), rcpt("alive")
    rp = return_path_of(brig, gone)
    r = send_remote(brig, rp, remote_dsn(rp, gone, final=gone.upper()))
    line = milter_line(brig, r.queue_id, "bounced: rcpt=<%s>" % gone)
    assert "stream=%s status=5.1.1 suppressed (reason=bounce)" % NEWS in line, line
    summary = milter_line(brig, r.queue_id, "from=<>")
    assert "not outbound" in summary and "bounce=dead status=5.1.1" in summary, summary
    discarded_by_milter(brig.pf, r.queue_id)
    e = entries_for(brig, gone)
    assert len(e) == 1 and e[0]["evidence"] == (
        "5.1.1; smtp; 550-5.1.1 The email account that you tried to reach does not exist."), e
    assert_bounced_refused(brig, gone)
    assert_delivered(brig, alive)


def test_exim_status_5_0_0_is_read_from_the_reply_it_quotes(make_brig, bpf):
    """Exim reports every failure as Status 5.0.0 and quotes the remote reply: with
    "550 5.1.1" the recipient is dead (suppressed, bounced: 5.1.1); with "550 5.7.1"
    (spam) it is a policy refusal, which BounceSoftLimit 1/7d would have suppressed as an
    unclassified failure, and the recipient stays deliverable"""
    brig = make_brig(bpf, [("BounceSoftLimit", "1/7d")])
    gone, spammed = rcpt("exim-gone"), rcpt("exim-spam")
    rp = return_path_of(brig, gone)
    r = send_remote(brig, rp, remote_dsn(rp, gone, status="5.0.0",
                    diag="smtp; 550 5.1.1 <%s>: Recipient address rejected: User unknown" % gone))
    line = milter_line(brig, r.queue_id, "bounced: rcpt=<%s>" % gone)
    assert "status=5.1.1 suppressed (reason=bounce)" in line, line
    assert_bounced_refused(brig, gone)

    rp = return_path_of(brig, spammed)
    r = send_remote(brig, rp, remote_dsn(rp, spammed, status="5.0.0",
                    diag="smtp; 550 5.7.1 Spamassassin considers this message SPAM"))
    line = milter_line(brig, r.queue_id, "rcpt=<%s>" % spammed)
    assert "status=5.7.1 (policy)" in line and "not suppressed" in line, line
    discarded_by_milter(brig.pf, r.queue_id)
    assert entries_for(brig, spammed) == []
    assert_delivered(brig, spammed)
    counted = brig.bounces_counted()
    assert (counted["dead"], counted["policy"], counted["other"]) == (1, 1, 0), counted

def test_forged_dsn_with_a_tampered_token_changes_nothing(brig):
    """a DSN to a return path whose token was altered (one character) names no recipient
    anyone can trust: logged, discarded, nothing suppressed, mail still goes"""
    victim = rcpt("victim")
    rp = return_path_of(brig, victim)
    forged = tamper(rp)
    assert forged != rp
    r = send_remote(brig, forged, remote_dsn(forged, victim))
    line = milter_line(brig, r.queue_id, "bounce to %s: token refused" % forged)
    assert "ignored, nothing suppressed" in line, line
    assert "bounce=bad-token action=discard" in milter_line(brig, r.queue_id, "from=<>")
    discarded_by_milter(brig.pf, r.queue_id)
    counted = brig.bounces_counted()
    assert counted["bad_token"] == 1 and sum(counted.values()) == 1, counted
    assert brig.suppressed() == []
    assert brig.suppressed("unsubscribe") == [] and brig.suppressed("manual") == []
    assert_delivered(brig, victim)


def test_out_of_office_reply_to_the_return_path_changes_nothing(brig):
    """an auto-reply (not a multipart/report, though its text says "Status: 5.1.1") is
    no DSN: logged as such, dropped, nothing suppressed"""
    away = rcpt("away")
    rp = return_path_of(brig, away)
    r = send_remote(brig, rp, out_of_office(rp, away))
    line = milter_line(brig, r.queue_id, "mail to the return path of rcpt=<%s> is no DSN" % away)
    assert "dropped" in line, line
    assert "bounce=not-dsn action=discard" in milter_line(brig, r.queue_id, "from=<>")
    discarded_by_milter(brig.pf, r.queue_id)
    counted = brig.bounces_counted()
    assert counted["not_dsn"] == 1 and sum(counted.values()) == 1, counted
    assert brig.suppressed() == []
    assert_delivered(brig, away)


def test_other_mail_to_the_bounce_domain_is_discarded_by_the_transport(brig):
    """mail to the bounce domain that is no return path passes txmilter untouched, and
    the discard: transport drops it: it is never relayed to the next hop"""
    msg, mid = make_message(from_addr="someone@receiver.example",
                            to_addr="postmaster@" + BOUNCE_DOMAIN)
    r = brig.pf.submit("someone@receiver.example", ["postmaster@" + BOUNCE_DOMAIN], msg,
                       source_address=REMOTE, helo="mx.receiver.example")
    assert r.accepted, r
    line = brig.pf.wait_log_for(mid, r"status=sent", timeout=30)
    assert "relay=none" in line and "discard" in line.lower(), line
    assert "passed untouched" in milter_line(brig, r.queue_id, "not outbound")
    assert not brig.cap.find(mid)
    assert brig.suppressed() == []

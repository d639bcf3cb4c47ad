# SPDX-License-Identifier: BSD-2-Clause
"""test_dsn.py - DSNs to the return path through a real Postfix (issue 16), both stores.

txmilter runs with ReturnPath and BounceSoftLimit; a message to a recipient goes out
through the session's Postfix and the capture server shows the envelope sender it was
given (bounces+TOKEN@bounce.example.com, a real token).  The receiving side's MTA then
answers with delivery-status reports built as Postfix's bounce daemon writes them
(multipart/report with the notification, message/delivery-status and the returned
headers), sent with the null sender from outside InternalHosts to that address, through
the same Postfix.  What is checked is what an operator sees: the reply to the next
message, the milter's log lines, what `txmilterctl suppress list` shows.

Soft bounces (4.2.2 mailbox full, the way Postfix reports a deferral that timed out:
Action failed, Status 4.2.2) count towards BounceSoftLimit 3/7d: two leave the recipient
deliverable, the third suppresses it (reason bounce) and the next message is refused
550 5.7.1 (bounced: 4.2.2).  Policy refusals (5.7.1, 4.7.0, 5.6.0, 5.2.3) are about the
message, never the address: however many come, the recipient stays deliverable.
"""

import re
import uuid

import pytest

from dsn_helpers import NEWS, RP, outbound, rcpt, return_path_of, send_dsn
from mailrig.redisserver import RedisServer
from ratelimit_helpers import ctl
from unsub_helpers import unsub_setup

pytestmark = pytest.mark.txmilter_only

STORES = ["sqlite", "redis"]


@pytest.fixture
def store_url(request, workdir):
    """None (embedded SQLite) or the URL of a fresh redis-server, by the test's parameter"""
    if request.param == "sqlite":
        yield None
        return
    r = RedisServer(workdir, name="redis-dsn-%s" % uuid.uuid4().hex[:6]).start()
    yield r.url
    r.stop()


def bounce_rows(m):
    rc, out, err = ctl(m, "suppress", "list", "--reason", "bounce")
    assert rc == 0, (rc, out, err)
    return [l.split("\t") for l in out.splitlines() if l]


def soft_setup(rig, workdir, store_url):
    return unsub_setup(rig.keys, workdir, store=store_url,
                       extra=[("ReturnPath", RP), ("BounceSoftLimit", "3/7d"),
                              ("BounceSuppressFor", "30d")])


@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_soft_bounces_suppress_at_the_limit(rig, workdir, store_url):
    """4.2.2 twice: deliverable; the third within 7d: suppressed, the next message 550"""
    m = rig.start_milter(soft_setup(rig, workdir, store_url))
    to, other = rcpt("full"), rcpt("alsofull")
    rp, mid = return_path_of(rig, to)
    rp_other, mid_other = return_path_of(rig, other)
    q = re.escape(to)
    for n in (1, 2):
        send_dsn(rig, m, rp, to, mid, "4.2.2",
                 r"bounce for rcpt=<%s> stream=%s: failed status=4\.2\.2 \(full\): soft bounce %d "
                 r"in 7d, BounceSoftLimit 3: counted, not suppressed" % (q, re.escape(NEWS), n))
        r, omid = outbound(rig, to)
        assert r.accepted, "deliverable after %d soft bounces: %r %s" % (
            n, r, rig.postfix.log_for(omid))
        rig.capture.wait_for(omid)
    # another recipient's soft bounces count for it alone
    send_dsn(rig, m, rp_other, other, mid_other, "4.2.2",
             r"rcpt=<%s> .*soft bounce 1 in 7d" % re.escape(other))
    send_dsn(rig, m, rp, to, mid, "4.2.2",
             r"bounced: rcpt=<%s> stream=%s status=4\.2\.2 \(full\) soft bounce 3 in 7d, "
             r"BounceSoftLimit 3: suppressed \(reason=bounce\)" % (q, re.escape(NEWS)))

    r, omid = outbound(rig, to)
    assert r.data is not None and r.data[0] == 550, (r, rig.postfix.log_for(omid))
    want = "5.7.1 <%s>: recipient bounced mail of %s (bounced: 4.2.2)" % (to, NEWS)
    assert want in r.data[1], "reply %r does not say %r" % (r.data, want)
    assert not rig.capture.find(omid)
    r, omid = outbound(rig, other)
    assert r.accepted, (r, rig.postfix.log_for(omid))

    rows = bounce_rows(m)
    assert [row[:2] for row in rows] == [[to, NEWS]], rows
    assert rows[0][3:5] == ["dsn", "bounce"], rows
    assert rows[0][6].startswith("4.2.2; soft: 3 in 7d; smtp; 452 4.2.2 <%s>" % to), rows
    assert rows[0][5] != "never", rows          # BounceSuppressFor 30d: it expires

    # lifted by the operator: deliverable again, the count starts afresh
    rc, out, err = ctl(m, "suppress", "remove", to, NEWS)
    assert rc == 0, (rc, out, err)
    send_dsn(rig, m, rp, to, mid, "4.2.2", r"rcpt=<%s> .*soft bounce 1 in 7d.*counted" % q)
    r, omid = outbound(rig, to)
    assert r.accepted, (r, rig.postfix.log_for(omid))


@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_policy_refusals_never_suppress(rig, workdir, store_url):
    """5.7.1, 4.7.0, 5.6.0, 5.2.3 and 5.7.26, past the soft limit: still deliverable"""
    m = rig.start_milter(soft_setup(rig, workdir, store_url))
    to = rcpt("policy")
    rp, mid = return_path_of(rig, to)
    for status in ("5.7.1", "4.7.0", "5.6.0", "5.2.3", "5.7.26"):
        send_dsn(rig, m, rp, to, mid, status,
                 r"bounce for rcpt=<%s> stream=%s: failed status=%s \(policy\)"
                 % (re.escape(to), re.escape(NEWS), re.escape(status)))
    r, omid = outbound(rig, to)
    assert r.accepted, (r, rig.postfix.log_for(omid))
    rig.capture.wait_for(omid)
    assert bounce_rows(m) == []
    assert "soft bounce" not in m.log_text(True)

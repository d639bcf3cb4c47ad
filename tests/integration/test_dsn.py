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
Action failed, Status 4.2.2) count towards BounceSoftLimit 3/7d, once per message: two
messages' leave the recipient deliverable, the third's suppresses it (reason bounce) and
the next message is refused 550 5.7.1 (bounced: 4.2.2).  Policy refusals (5.7.1, 4.7.0, 5.6.0, 5.2.3) are about the
message, never the address: however many come, the recipient stays deliverable.
With Redis, counting is one command, and a Redis that does not answer defers the report
(451 4.3.0) rather than lose it; the report sent again counts once.
"""

import re
import uuid

import pytest

from dsn_helpers import NEWS, RP, outbound, postfix_dsn, rcpt, return_path_of, send_dsn
from mailrig.redisserver import RedisServer
from mailrig.util import wait_until
from ratelimit_helpers import ctl
from unsub_helpers import unsub_setup

pytestmark = pytest.mark.txmilter_only

STORES = ["sqlite", "redis"]              # store_url's parameters (conftest.py)


def bounce_rows(m):
    rc, out, err = ctl(m, "suppress", "list", "--reason", "bounce")
    assert rc == 0, (rc, out, err)
    return [l.split("\t") for l in out.splitlines() if l]


def soft_rows(m, *args):
    """`txmilterctl suppress list --soft ARGS` as rows, and what it said on stderr"""
    rc, out, err = ctl(m, "suppress", "list", "--soft", *args)
    assert rc == 0, (rc, out, err)
    return [l.split("\t") for l in out.splitlines() if l], err


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def soft_setup(rig, workdir, store_url):
    return unsub_setup(rig.keys, workdir, store=store_url,
                       extra=[("ReturnPath", RP), ("BounceSoftLimit", "3/7d"),
                              ("BounceSuppressFor", "30d")])


@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_soft_bounces_suppress_at_the_limit(rig, workdir, store_url):
    """4.2.2 for two messages: deliverable; for a third within 7d: suppressed, the next
    message 550 (a soft bounce counts once per message: each report is about another)"""
    m = rig.start_milter(soft_setup(rig, workdir, store_url))
    to, other = rcpt("full"), rcpt("alsofull")
    rp_other, mid_other = return_path_of(rig, other)
    q = re.escape(to)
    for n in (1, 2):
        rp, mid = return_path_of(rig, to)
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
    # what txmilterctl shows of the counts, and looking counts nothing
    rows, err = soft_rows(m, "--rcpt", to.upper())
    assert [r[:4] for r in rows] == [[to, NEWS, "2", "3/7d"]], rows
    assert ISO.match(rows[0][4]) and ISO.match(rows[0][5]) and rows[0][4] <= rows[0][5], rows
    assert "1 recipient with soft bounces" in err, err
    rows, err = soft_rows(m)
    assert sorted(r[:3] for r in rows) == sorted([[to, NEWS, "2"], [other, NEWS, "1"]]), rows
    rp, mid = return_path_of(rig, to)
    send_dsn(rig, m, rp, to, mid, "4.2.2",
             r"bounced: rcpt=<%s> stream=%s status=4\.2\.2 \(full\): soft bounce 3 in 7d, "
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
    assert soft_rows(m, "--rcpt", to, "--stream", NEWS) == ([], "0 recipients with soft bounces\n")
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


def test_soft_count_is_one_redis_call_and_a_frozen_redis_defers_the_report(rig, workdir):
    """with a Redis store, counting a soft bounce is one command (the script), its key in
    the list's namespace with the window as TTL; while Redis does not answer, the report
    is refused 451 4.3.0 (the remote MTA keeps it); sent again once Redis answers it
    counts once, also when the command of the refused attempt ran after all"""
    redis = RedisServer(workdir, name="redis-dsn-rtt-%s" % uuid.uuid4().hex[:6]).start()
    try:
        m = rig.start_milter(unsub_setup(rig.keys, workdir, store=redis.url, extra=[
            ("ReturnPath", RP), ("BounceSoftLimit", "3/7d"), ("StoreTimeout", "500")]))
        to = rcpt("rtt")
        q = re.escape(to)
        rp, mid = return_path_of(rig, to)
        key = "txm:{txmilter}:unsub:soft:%d:%s:%s" % (len(NEWS), NEWS, to)

        msg, dmid = postfix_dsn(rp, to, mid, "4.2.2")
        redis.freeze()
        try:
            r = rig.postfix.submit("", [rp], msg, source_address="127.0.0.2",
                                   helo="mx.receiver.example")
            assert r.data is not None and r.data[0] == 451, r
            assert r.data[1].startswith("4.3.0"), r.data
            m.wait_log(r"soft bounce for rcpt=<%s> stream=%s: cannot count or record it"
                       % (q, re.escape(NEWS)))
            assert not rig.capture.find(dmid)
        finally:
            redis.thaw()
        # the remote MTA sends the same report again until it is taken (the store's
        # circuit breaker may refuse a little longer): one report, one count
        def taken():
            r = rig.postfix.submit("", [rp], msg, source_address="127.0.0.2",
                                   helo="mx.receiver.example")
            assert r.accepted or (r.data and r.data[0] == 451), r
            return r.accepted
        wait_until(taken, 30, interval=1, what="the report taken once Redis answers")
        m.wait_log(r"rcpt=<%s> .*soft bounce 1 in 7d.*counted" % q)
        assert redis.cli("ZCARD", key).strip() == "1"
        assert "soft bounce 2 in 7d" not in m.log_text(True)

        rp, mid = return_path_of(rig, to)           # another message: another soft bounce
        mon = redis.monitor()
        try:
            send_dsn(rig, m, rp, to, mid, "4.2.2", r"rcpt=<%s> .*soft bounce 2 in 7d" % q)
            lines = []
            mon.count(lines)
        finally:
            mon.close()
        assert len(lines) == 1 and '"EVAL"' in lines[0] and "ZADD" in lines[0], lines
        assert redis.cli("ZCARD", key).strip() == "2"
        ttl = int(redis.cli("TTL", key).strip())
        assert 7 * 86400 - 60 < ttl <= 7 * 86400, ttl
    finally:
        redis.stop()

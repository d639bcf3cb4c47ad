# SPDX-License-Identifier: BSD-2-Clause
"""Per-recipient rate limits (issue 3) through a real Postfix, with real redis-server.

Each test is one scenario an operator would run before trusting the feature: it starts
txmilter with a rate policy (and, where the scenario needs it, a redis-server of its
own on a free loopback port), sends mail through the private Postfix, and checks what
the operator would check: how many messages reached the capture server for whom, the
SMTP reply every recipient got, the daemon's log lines and `txmilterctl`'s answers.

Recipients are told apart with the test's own reference normalisation (rl_norm: case,
trailing dot, +tag, Gmail dots and googlemail.com); deliveries are counted by
Message-ID, so the session-wide capture server can be shared with other tests.
"""

import grp
import os
import re
import stat
import time

import pytest

from mailrig.util import run, wait_until
from mailrig.message import make_message
from mailrig.capture import Delivered
from mailrig.redisserver import RedisServer
from mailrig.smtp import smtp_send
from ratelimit_helpers import (LocalUser, Load, count_delivered_to, ctl, ctl_ok, ctl_stats,
                               delivered_rcpts, hup, new_message, queue_drop, queue_json,
                               rl_norm, rl_setup, txmilterctl_binary,
                               wait_delivered, write_policy)

pytestmark = pytest.mark.txmilter_only

VICTIM = "victim@gmail.com"


def variant(i):
    """the i-th address of the mail bomb: all of them are victim@gmail.com"""
    return ["victim@gmail.com", "victim+%d@gmail.com" % i, "v.ictim@googlemail.com",
            "VICTIM@GMAIL.COM.", "Vic.Tim+reset%d@GoogleMail.com" % i][i % 5]


def tempfail_rx(addr, rule):
    """the reply text (after the code) of a recipient over a tempfail limit"""
    return re.compile(r"^4\.7\.1 <%s>: rate limit %s, retry in (\d+) s$"
                      % (re.escape(addr.strip("<>")), re.escape(rule)))


@pytest.fixture
def rl(request, rig, workdir):
    """the rig, plus setup(policy, **kw) -> SigningSetup with that rate policy"""
    n = [0]
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[-40:]

    def setup(policy, **kw):
        n[0] += 1
        return rl_setup(rig.keys, workdir, policy, tag="%s-%d" % (base, n[0]), **kw)
    rig.setup = setup
    rig.workdir = workdir
    if not os.access(txmilterctl_binary(), os.X_OK):
        pytest.fail("txmilterctl not found at %s (set TXMILTERCTL)" % txmilterctl_binary())
    return rig


@pytest.fixture
def redis(request, workdir):
    name = "redis-" + re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[-40:]
    r = RedisServer(workdir, name=name).start()
    yield r
    r.stop()


def send(rl, rcpts, port=None, tag="rl", **kw):
    msg, mid = new_message(to_addr=", ".join(a.rstrip(".") for a in rcpts), tag=tag)
    return smtp_send(port or rl.postfix.smtpd_port, "app@example.com", rcpts, msg, mid, **kw)


def rate_log_lines(milter, rule, action="tempfail", rcpt=VICTIM):
    rx = re.compile(r"^(?:\S+ )*[0-9A-Za-z]+: rcpt=<%s> rule=%s action=%s count=(\d+) limit=(\d+) "
                    r"retry=(\d+)s" % (re.escape(rcpt), re.escape(rule), action), re.M)
    return rx.findall(milter.log_text(True))


# ---------------------------------------------------------------------------

def test_mail_bomb_variants_limited(rl):
    """50 messages to variants of one Gmail inbox, each also to a colleague: 3 reach the
    victim, 47 RCPTs get 451 4.7.1 with the exact wait, the colleagues get all 50."""
    m = rl.start_milter(rl.setup("rcpt-burst rcpt 3/10m tempfail\n"))
    sent = []
    for i in range(50):
        other = "colleague%d@receiver.example" % i
        rcpts = [variant(i), other] if i % 2 == 0 else [other, variant(i)]
        sent.append(send(rl, rcpts, tag="bomb"))
    for r in sent:
        assert r.error is None and r.accepted, r

    accepted = [r for r in sent if r.rcpt(variant(sent.index(r)))[0] == 250]
    assert len(accepted) == 3, "victim accepted %d times, not 3:\n%s" % (
        len(accepted), "\n".join(map(repr, sent)))
    assert accepted == sent[:3], "the first three must be the accepted ones"
    t_first = [t for a, c, _, _, t in sent[0].rcpts if a == variant(0)][0]
    waits = []
    for i, r in enumerate(sent[3:], 3):
        v = variant(i)
        a, code, text, t0, t1 = [x for x in r.rcpts if x[0] == v][0]
        assert code == 451, r
        mm = tempfail_rx(v, "rcpt-burst").match(text)
        assert mm, "reply to RCPT %s: %d %s" % (v, code, text)
        n = int(mm.group(1))
        expect = 600 - (t1 - t_first)
        assert abs(n - expect) <= 2, "retry in %d s, expected %.1f (600 s after the first " \
            "accepted, %.2f s ago)" % (n, expect, t1 - t_first)
        waits.append(n)
    assert waits == sorted(waits, reverse=True), waits
    # the colleagues are unaffected
    for i, r in enumerate(sent):
        assert r.rcpt("colleague%d@receiver.example" % i)[0] == 250, r

    mids = [r.mid for r in sent]
    got = wait_delivered(rl.capture, mids, 50)
    time.sleep(0.5)
    got = delivered_rcpts(rl.capture, mids)
    assert len(got) == 50 and all(len(v) == len(set(v)) for v in got.values())
    assert count_delivered_to(rl.capture, mids, VICTIM) == 3
    for i in range(50):
        assert count_delivered_to(rl.capture, mids, "colleague%d@receiver.example" % i) == 1
    # the log names every refusal: queue id, normalised recipient, rule, count, wait
    lines = rate_log_lines(m, "rcpt-burst")
    assert len(lines) == 47, m.log_text(True)[-3000:]
    assert all(c == "3" and l == "3" for c, l, _ in lines), lines
    assert m.alive()


# RFC 822 spellings Postfix (strict_rfc821_envelopes = no) accepts and delivers to
# victim@gmail.com: comments anywhere, a stray '>', blanks inside the brackets, Gmail dots.
HOSTILE = ["<victim(3)@gmail.com>", "<victim@gmail.com(x)>", "<victim@gmail.com>>",
           "<(hi)victim@gmail.com>", "<victim@(x)gmail.com>", "<vic.tim(1)@googlemail.com>",
           "<victim@gmail.com (reset)>", "<Victim+tag(z)@GMAIL.com>"]


def test_mail_bomb_comment_spellings_limited_as_postfix_reads_them(rl):
    """8 messages to RFC 822 spellings of one inbox that Postfix delivers to
    victim@gmail.com, under rcpt 3/10m: exactly 3 delivered, 5 told 451 4.7.1; txmilter
    counted what {rcpt_addr} said, and policy explain (no macro) reads each the same."""
    pf = rl.postfix
    p = run(["postconf", "-c", pf.confdir, "-h", "strict_rfc821_envelopes"], check=False)
    assert p.stdout.decode().strip() == "no", "the test needs Postfix's default reading"
    m = rl.start_milter(rl.setup("rcpt-burst rcpt 3/10m tempfail\n"))
    sent = []
    for i, v in enumerate(HOSTILE):
        msg, mid = new_message(to_addr="victim@gmail.com", tag="comment")
        sent.append(smtp_send(pf.smtpd_port, "<app@example.com>", [v], msg, mid, raw=True))
    codes = [r.rcpts[0][1] for r in sent]
    assert codes == [250] * 3 + [451] * 5, "\n".join(map(repr, sent))
    for r in sent[3:]:
        a, code, text = r.rcpts[0][:3]
        assert re.match(r"^4\.7\.1 <.*>: rate limit rcpt-burst, retry in \d+ s$", text), (a, text)
    for r in sent[:3]:
        assert r.error is None and r.data and r.data[0] == 250, r
    mids = [r.mid for r in sent]
    wait_delivered(rl.capture, mids, 3)
    time.sleep(0.5)
    got = delivered_rcpts(rl.capture, mids)
    assert sorted(got) == sorted(r.mid for r in sent[:3]), got
    assert all(v == ["<victim@gmail.com>"] for v in got.values()), got
    log = m.log_text(True)
    # what Postfix 3.7 puts in {rcpt_addr} for each spelling: the plain address
    for v in HOSTILE:
        assert re.search(r"rcpt %s read as <[^>]*> by the MTA, normalised <victim@gmail\.com>"
                         % re.escape(v), log), "no macro reading of %s:\n%s" % (v, log[-3000:])
    macro = ["victim@gmail.com"] * 5 + ["vic.tim@googlemail.com", "victim@gmail.com",
                                         "victim+tag@gmail.com"]   # as in test_addr_smtp.c
    for v, want in zip(HOSTILE, macro):
        assert "rcpt %s read as <%s> by the MTA" % (v, want) in log, (v, log[-3000:])
    assert len(rate_log_lines(m, "rcpt-burst")) == 5, log[-3000:]
    assert "counted as written" not in log
    # without the macro (the control socket, whose words hold no blank), the same key
    for v in [v for v in HOSTILE if " " not in v]:
        out = ctl_ok(m, "policy", "explain", "--rcpt", v)
        assert "recipient victim@gmail.com (normalised from %s)" % v in out, out
        assert "3 of 3 used, refuses" in out, out
    assert m.alive()


def test_recipient_that_cannot_be_normalised_is_refused_5_1_3(rl):
    """a recipient Postfix accepts but txmilter cannot normalise (a bad IDN label) is
    refused with 550 5.1.3 and the reason, never counted under a key of its own; policy
    explain says the same; the other recipient is delivered."""
    m = rl.start_milter(rl.setup("rcpt-burst rcpt 3/10m tempfail\n"))
    msg, mid = new_message(tag="bad")
    r = smtp_send(rl.postfix.smtpd_port, "<app@example.com>",
                  ["<a@xn--zzzz.receiver.example>", "<ok@receiver.example>"], msg, mid, raw=True)
    a, code, text = r.rcpts[0][:3]
    assert code == 550 and text.startswith("5.1.3 <a@xn--zzzz.receiver.example>: bad recipient "
                                           "address: bad IDN label"), r
    assert r.rcpts[1][1] == 250 and r.data and r.data[0] == 250, r
    got = wait_delivered(rl.capture, [mid], 1)
    assert list(got.values()) == [["<ok@receiver.example>"]], got
    out = ctl_ok(m, "policy", "explain", "--rcpt", "<a@xn--zzzz.receiver.example>")
    assert "is refused: it cannot be normalised: bad IDN label" in out, out
    assert "verdict: reject (550 5.1.3 bad recipient address)" in out, out
    # the key the raw spelling had before ("counted as written") stays unused
    out = ctl_ok(m, "ratelimit", "show", "rcpt-burst|rcpt=<a@xn--zzzz.receiver.example>")
    assert ": 0 of 3 used" in out, out


def test_sender_as_postfix_reads_it_and_unreadable_sender_refused_5_1_7(rl):
    """MAIL FROM spellings with comments count as one sender (sender 2/10m: the third
    message is refused); a sender Postfix accepts but txmilter cannot normalise gets
    553 5.1.7 at MAIL FROM with the reason."""
    m = rl.start_milter(rl.setup("sender-burst sender 2/10m tempfail\n"))
    codes = []
    for i, f in enumerate(["<app(1)@example.com>", "<app@example.com(2)>", "<app@example.com>>"]):
        msg, mid = new_message(tag="sender")
        r = smtp_send(rl.postfix.smtpd_port, f, ["s%d@receiver.example" % i], msg, mid, raw=True)
        assert r.mail[0] == 250, r
        codes.append(r.rcpts[0][1])
    assert codes == [250, 250, 451], codes
    for f in ["<app(1)@example.com>", "<app@example.com(2)>", "<app@example.com>>"]:
        assert "sender %s read as <app@example.com> by the MTA, normalised <app@example.com>" \
            % f in m.log_text(True), m.log_text(True)[-3000:]
    assert len(re.findall(r"rcpt=<s2@receiver\.example> rule=sender-burst action=tempfail",
                          m.log_text(True))) == 1, m.log_text(True)[-2000:]
    msg, mid = new_message(tag="badsender")
    r = smtp_send(rl.postfix.smtpd_port, "<app@xn--zzzz.example>", ["t@receiver.example"], msg,
                  mid, raw=True)
    assert r.mail[0] == 553 and r.mail[1].startswith(
        "5.1.7 <app@xn--zzzz.example>: bad sender address: bad IDN label"), r
    assert not r.rcpts, r


def test_two_milters_sharing_redis_never_exceed_limit(rl, redis, make_postfix):
    """two relays (Postfix + txmilter each) on one Redis, 4 clients in parallel aiming
    32 messages at one inbox: never more than the limit (5) delivered in all."""
    policy = "rcpt-burst rcpt 5/10m tempfail\n"
    m1 = rl.start_milter(rl.setup(policy, store=redis.url, store_failure="tempfail"))
    m2 = rl.start_milter(rl.setup(policy, store=redis.url, store_failure="tempfail"),
                         name="milter-b")
    pf2 = make_postfix(m2.postfix_spec)
    load = Load([rl.postfix.smtpd_port, pf2.smtpd_port], threads=4, per_thread=8,
                rcpt_fn=lambda t, i: [variant(8 * t + i), "c%d-%d@receiver.example" % (t, i)],
                tag="shared")
    results = load.start().join()
    assert len(results) == 32
    for r in results:
        assert r.error is None and r.accepted, r
    victim_ok = [r for r in results if any(rl_norm(a) == VICTIM for a in r.accepted_rcpts)]
    refused = [(a, c, t) for r in results for a, c, t, _, _ in r.rcpts
               if rl_norm(a) == VICTIM and c != 250]
    for a, c, t in refused:
        assert c == 451 and tempfail_rx(a, "rcpt-burst").match(t), (a, c, t)
    s1, s2 = ctl_stats(m1), ctl_stats(m2)
    assert s1["primary"] == "up" and s2["primary"] == "up", (s1, s2)
    mids = [r.mid for r in results]
    wait_delivered(rl.capture, mids, 32)
    time.sleep(0.5)
    n = count_delivered_to(rl.capture, mids, VICTIM)
    assert n == len(victim_ok) and n <= 5, "delivered to the victim: %d, accepted: %d" % (
        n, len(victim_ok))
    if s1["primary failures"] == "0" and s2["primary failures"] == "0":
        assert n == 5, "Redis answered every call, yet only %d of 5 got through" % n
    # both relays took part, and Redis decided: one EVALSHA per recipient
    assert {r.port for r in results} == {rl.postfix.smtpd_port, pf2.smtpd_port}
    assert int(s1["decided by primary"]) > 0 and int(s2["decided by primary"]) > 0, (s1, s2)
    st = redis.commandstats()
    assert st.get("evalsha", 0) + st.get("eval", 0) >= 64, st
    for m in (m1, m2):
        assert m.alive()


@pytest.mark.parametrize("failure", ["local", "tempfail", "accept"])
def test_redis_stopped_and_restarted_under_load(rl, redis, failure):
    """Redis goes away under load and comes back: no crash, StoreFailure as configured,
    back on Redis within 2 s, every message accepted (and delivered) or tempfailed."""
    m = rl.start_milter(rl.setup("burst rcpt 2/10m tempfail\n", store=redis.url,
                                 store_failure=failure))
    load = Load([rl.postfix.smtpd_port], threads=2, per_thread=250, pause=0.02,
                tag="fault-" + failure).start()
    try:
        load.wait_count(10)
        assert ctl_stats(m)["primary"] == "up"
        redis.stop()
        t_down = time.time()
        wait_until(lambda: ctl_stats(m)["primary"] == "down", 5, what="primary: down")
        # a victim while Redis is away: 3 messages against a limit of 2
        probe = [send(rl, [variant(i)], tag="probe") for i in range(3)]
        time.sleep(max(0.0, 1.5 - (time.time() - t_down)))
        redis.start()
        t_up = time.time()
        wait_until(lambda: ctl_stats(m)["primary"] == "up", 5, interval=0.02,
                   what="txmilter back on Redis")
        back = time.time() - t_up
        n_at_return = load.count()
        load.wait_count(n_at_return + 20)
    finally:
        results = load.stop()
    assert m.alive(), m.log_text(True)[-3000:]
    assert back <= 2.0, "back on Redis %.2f s after it returned" % back

    # StoreFailure, as configured, for the victim while Redis was down
    codes = [r.rcpt(variant(i))[0] for i, r in enumerate(probe)]
    texts = [r.rcpt(variant(i))[1] for i, r in enumerate(probe)]
    if failure == "local":
        assert codes == [250, 250, 451] and tempfail_rx(variant(2), "burst").match(texts[2]), probe
    elif failure == "accept":
        assert codes == [250, 250, 250], probe
    else:
        assert codes == [451] * 3, probe
        for i, t in enumerate(texts):
            assert t == "4.4.3 <%s>: rate limit service unavailable, try again later" % variant(i), t

    # none lost: each load message is accepted (and delivered) or tempfailed
    acc = [r for r in results if r.accepted]
    tmp = [r for r in results if r.data is None and r.error is None and r.rcpts
           and all(c == 451 for _, c, _, _, _ in r.rcpts)]
    assert len(acc) + len(tmp) == len(results), [r for r in results if r not in acc + tmp][:5]
    for r in tmp:
        assert r.rcpts[0][2].startswith("4.4.3 "), r
    if failure == "tempfail":
        assert tmp, "no load message was tempfailed while Redis was down"
    else:
        assert not tmp, tmp[:5]
    got = wait_delivered(rl.capture, [r.mid for r in acc], len(acc), timeout=60)
    assert len(got) == len(acc)
    assert not delivered_rcpts(rl.capture, [r.mid for r in tmp])

    # the log and the counters say what happened
    m.wait_log(r"rate store \S+ unavailable: StoreFailure %s decides" % failure)
    m.wait_log(r"rate store \S+ answers again after \d+ ms; \d+ decisions were made by "
               r"StoreFailure %s" % failure)
    st = ctl_stats(m)
    assert st["primary"] == "up" and int(st["primary failures"]) >= 1, st
    assert int(st["decided while unavailable"]) >= 3, st
    # decisions went to the new Redis (it started empty: NOSCRIPT, then EVAL)
    cs = redis.commandstats()
    assert cs.get("eval", 0) + cs.get("evalsha", 0) >= 10, cs


def test_sighup_policy_change_under_load_and_broken_policy_keeps_old(rl):
    """a changed policy applied with SIGHUP while mail flows: no message fails; then a
    broken policy file: the reload fails, says why, and the previous policy runs on."""
    setup = rl.setup("burst-a rcpt 5/10m tempfail\n")
    m = rl.start_milter(setup)
    load = Load([rl.postfix.smtpd_port], threads=2, per_thread=200, pause=0.01,
                tag="hup").start()
    try:
        load.wait_count(10)
        write_policy(setup, "# tightened\nburst-b rcpt 2/10m tempfail\n")
        hup(m)
        m.wait_log(r"configuration reloaded from ")
        n = load.count()
        load.wait_count(n + 15)
        hup(m)                                    # the same policy again: harmless
        load.wait_count(load.count() + 10)
    finally:
        results = load.stop()
    bad = [r for r in results if not r.accepted]
    assert not bad, "messages failed during the reload: %r" % bad[:5]
    wait_delivered(rl.capture, [r.mid for r in results], len(results), timeout=60)

    # the new policy is the one in force
    v = [send(rl, [variant(i)], tag="hup-v") for i in range(3)]
    assert [r.rcpt(variant(i))[0] for i, r in enumerate(v)] == [250, 250, 451], v
    assert tempfail_rx(variant(2), "burst-b").match(v[2].rcpt(variant(2))[1]), v[2]

    # a broken file: reload refused, error at file:line, old policy (burst-b 2/10m) stays
    write_policy(setup, "burst-b rcpt 2/10m tempfail\nbroken rcpt 2/10x tempfail\n")
    hup(m)
    m.wait_log(r"reload of \S+ failed; the previous configuration stays in force")
    m.wait_log(re.escape(setup.policy_path) + r":2:")
    assert m.alive()
    w = [send(rl, ["second.victim@example.org"], tag="hup-w") for i in range(3)]
    assert [r.rcpt("second.victim@example.org")[0] for r in w] == [250, 250, 451], w
    assert tempfail_rx("second.victim@example.org", "burst-b").match(
        w[2].rcpt("second.victim@example.org")[1]), w[2]
    rc, out, err = ctl(m, "ratelimit", "stats")
    assert rc == 0 and "(1 rules)" in out, out + err


def test_shadow_rule_logs_and_counts_but_never_refuses(rl):
    """a rule tried in shadow: every message is delivered, the log says what the rule
    would have done, and its count is kept (txmilterctl explain shows it)."""
    m = rl.start_milter(rl.setup("try-burst rcpt 2/10m tempfail shadow\n"
                                 "day rcpt 100/1d tempfail\n"))
    sent = [send(rl, [variant(i)], tag="shadow") for i in range(5)]
    for i, r in enumerate(sent):
        assert r.rcpt(variant(i))[0] == 250 and r.accepted, r
    mids = [r.mid for r in sent]
    wait_delivered(rl.capture, mids, 5)
    assert count_delivered_to(rl.capture, mids, VICTIM) == 5
    text = m.log_text(True)
    would = re.findall(r"rcpt=<victim@gmail\.com> rule=try-burst shadow: would tempfail "
                       r"\(count=2 limit=2 retry=(\d+)s\)", text)
    assert len(would) == 3, text[-3000:]
    assert all(0 < int(w) <= 600 for w in would), would
    assert not rate_log_lines(m, "try-burst"), "a shadow rule logged a refusal"
    out = ctl_ok(m, "policy", "explain", "--rcpt", "Victim+x@googlemail.com")
    assert re.search(r"rule try-burst .*: key try-burst\|rcpt=victim@gmail\.com: 2 of 2 used, "
                     r"refuses\n  retry in \d+ s \(shadow: logged only\)", out), out
    # the enforcing rule beside it counted every accepted message
    assert re.search(r"rule day .*: 5 of 100 used, allows", out), out
    assert "verdict: accept (shadow rules would refuse)" in out, out


def test_quarantine_puts_message_in_hold_queue(rl):
    """action quarantine: the recipient is accepted, the message goes to Postfix's hold
    queue instead of being delivered; Postfix logs the hold, txmilter logs why."""
    m = rl.start_milter(rl.setup("q-burst rcpt 1/10m quarantine\n"))
    first = send(rl, [variant(0)], tag="quar")
    assert first.accepted, first
    rl.capture.wait_for(first.mid)
    second = send(rl, [variant(1), "boss@receiver.example"], tag="quar")
    assert [c for _, c, _, _, _ in second.rcpts] == [250, 250], second
    assert second.accepted, second
    # Postfix's cleanup logs the hold without the milter's reason ("milter triggers
    # HOLD action"); txmilter's summary line for the same queue id carries it.
    rl.postfix.wait_log_for(second.mid, r"milter-hold: END-OF-MESSAGE from ")
    qid = rl.postfix.queue_id_of(second.mid)
    try:
        held = [q for q in queue_json(rl.postfix) if q["queue_id"] == qid]
        assert held and held[0]["queue_name"] == "hold", held
        assert sorted(r["address"] for r in held[0]["recipients"]) == \
            sorted([variant(1), "boss@receiver.example"]), held
        m.wait_log(r"rcpt=<victim@gmail\.com> rule=q-burst action=quarantine count=1 limit=1")
        m.wait_log(r"^\S+ %s: .*quarantine=\"rate limit q-burst for <victim@gmail\.com>\"" % qid)
        time.sleep(1.0)
        assert rl.capture.find(second.mid) == [], "a quarantined message was delivered"
    finally:
        queue_drop(rl.postfix, qid)


@pytest.mark.parametrize("store", ["embedded", "redis"])
def test_quota_given_back_for_aborted_and_rejected_transactions(rl, workdir, request, store):
    """RCPT then RSET, and messages txmilter itself rejects at end of header (no From),
    use no quota: afterwards the full limit is still available (both stores)."""
    url = None
    if store == "redis":
        r = RedisServer(workdir, name="redis-quota").start()
        request.addfinalizer(r.stop)
        url = r.url
    m = rl.start_milter(rl.setup("burst rcpt 2/10m tempfail\n", store=url,
                                 store_failure="tempfail" if url else None))
    key = "burst|rcpt=victim@gmail.com"

    def used():
        out = ctl_ok(m, "ratelimit", "show", key)
        mm = re.search(r": (\d+) of 2 used", out)
        assert mm, out
        return int(mm.group(1))

    for i in range(3):
        r = send(rl, [variant(i)], tag="rset", rset_after_rcpt=True)
        assert r.rcpt(variant(i))[0] == 250, r
    wait_until(lambda: used() == 0, 5, what="quota given back after RSET")

    nofrom = []
    for i in range(3):
        mid = "nofrom-%s@txtest.example" % os.urandom(6).hex()
        msg, mid = make_message(headers=[("To", variant(i).rstrip(".")), ("Subject", "no from"),
                                         ("Message-ID", "<%s>" % mid)], message_id=mid)
        r = smtp_send(rl.postfix.smtpd_port, "app@example.com", [variant(i)], msg, mid)
        assert r.rcpt(variant(i))[0] == 250, r
        assert r.data and r.data[0] == 550 and r.data[1].startswith("5.6.0 "), r
        nofrom.append(r)
    wait_until(lambda: used() == 0, 5, what="quota given back after 550 at end of header")

    full = [send(rl, [variant(i)], tag="after") for i in range(3)]
    assert [r.rcpt(variant(i))[0] for i, r in enumerate(full)] == [250, 250, 451], full
    wait_delivered(rl.capture, [r.mid for r in full[:2]], 2)
    assert not delivered_rcpts(rl.capture, [r.mid for r in nofrom])
    assert used() == 2


def maildrop_clear(pf):
    """remove what sendmail(1) left in the maildrop (pickup would retry it)"""
    d = os.path.join(pf.queue, "maildrop")
    for f in os.listdir(d):
        try:
            os.unlink(os.path.join(d, f))
        except OSError:
            pass


def sendmail_to_the_limit(rl):
    """sendmail(1) the one message to VICTIM that burst rcpt 1/10m lets through; delivered"""
    msg1, mid1 = new_message(to_addr=VICTIM, tag="sm1")
    rc, out = rl.postfix.sendmail("app@example.com", [VICTIM], msg1)
    assert rc == 0, out
    rl.capture.wait_for(mid1)


def test_sendmail_over_limit_recipient_removed_others_delivered(rl):
    """sendmail(1) mail (non_smtpd_milters), txmilter.conf(5) RATE POLICY: a recipient
    over the limit is removed at the end of the message and logged; the others get it."""
    m = rl.start_milter(rl.setup("burst rcpt 1/10m tempfail\n"))
    pf = rl.postfix
    try:
        sendmail_to_the_limit(rl)

        v2 = "v.ictim+two@gmail.com"
        msg2, mid2 = new_message(to_addr="%s, boss@receiver.example" % v2, tag="sm2")
        before = len(pf.log_text())
        rc, out = pf.sendmail("app@example.com", [v2, "boss@receiver.example"], msg2)
        assert rc == 0, out

        def decided():
            new = [l for l in pf.log_text()[before:].splitlines()
                   if "milter-reject" in l or "milter configuration error" in l
                   or "not accepted" in l]
            return rl.capture.find(mid2) or new
        got = wait_until(decided, 20, what="delivery of <%s> or a Postfix refusal" % mid2)
        assert isinstance(got[0], Delivered), \
            "Postfix did not take the message:\n%s" % "\n".join(got)
        d = got[0]
        assert [r.strip("<>") for r in d.meta["rcpts"]] == ["boss@receiver.example"], d.meta
        qid2 = pf.queue_id_of(mid2)
        m.wait_log(r"%s: rcpt=<victim@gmail\.com> rule=burst action=tempfail count=1 limit=1 "
                   r"retry=\d+s \(non-SMTP\)" % qid2)
        m.wait_log(r"%s: .*removed=<%s>" % (qid2, re.escape(v2)))
    finally:
        maildrop_clear(pf)


def test_sendmail_recipient_that_cannot_be_normalised_removed_others_delivered(rl):
    """sendmail(1) mail: a recipient txmilter cannot normalise cannot be refused at RCPT
    (Postfix would defer the whole message), so it is removed at the end and logged; the
    other recipient gets the message."""
    m = rl.start_milter(rl.setup("burst rcpt 3/10m tempfail\n"))
    pf = rl.postfix
    bad = "a@xn--zzzz.receiver.example"
    try:
        msg, mid = new_message(to_addr="boss@receiver.example", tag="smbad")
        rc, out = pf.sendmail("app@example.com", [bad, "boss@receiver.example"], msg)
        assert rc == 0, out
        d = rl.capture.wait_for(mid)
        assert [r.strip("<>") for r in d.meta["rcpts"]] == ["boss@receiver.example"], d.meta
        qid = pf.queue_id_of(mid)
        m.wait_log(r"%s: rcpt=<?%s>?: refused: bad IDN label.*\(non-SMTP: removed at the end\)"
                   % (qid, re.escape(bad)))
        m.wait_log(r"%s: .*removed=<?%s>? \(bad address\)" % (qid, re.escape(bad)))
    finally:
        maildrop_clear(pf)


def test_sendmail_message_over_limit_is_kept_not_lost(rl):
    """sendmail(1) mail whose only recipient is over the limit is not delivered and not
    lost: Postfix keeps it (maildrop/deferred, retried later) or bounces it, and both
    logs say why (rule, count, wait)."""
    m = rl.start_milter(rl.setup("burst rcpt 1/10m tempfail\n"))
    pf = rl.postfix
    try:
        sendmail_to_the_limit(rl)

        v3 = "VICTIM+three@gmail.com"
        msg3, mid3 = new_message(to_addr=v3, tag="sm3")
        rc, out = pf.sendmail("app@example.com", [v3], msg3)
        assert rc == 0, "sendmail put the message into the maildrop: %s" % out
        m.wait_log(r"rcpt=<victim@gmail\.com> rule=burst action=tempfail count=1 limit=1 "
                   r"retry=\d+s")

        def kept_or_bounced():
            why = [l for l in pf.log_text().splitlines()
                   if "milter-reject" in l and "rate limit burst" in l and "4.7.1" in l]
            maildrop = os.listdir(os.path.join(pf.queue, "maildrop"))
            queued = [x for x in queue_json(pf)
                      if any(r["address"].lower() == v3.lower() for r in x.get("recipients", []))]
            bounced = [l for l in pf.log_for(mid3) if "status=bounced" in l]
            return (why, maildrop, queued, bounced) if why and (maildrop or queued or bounced) \
                else None
        why, maildrop, queued, bounced = wait_until(kept_or_bounced, 20,
                                                    what="the refused message kept or bounced")
        time.sleep(0.5)
        assert rl.capture.find(mid3) == [], "the victim got a message over its limit"
        assert m.alive()
    finally:
        for x in queue_json(pf):
            if any(r["address"].lower() == "victim+three@gmail.com"
                   for r in x.get("recipients", [])):
                queue_drop(pf, x["queue_id"])
        maildrop_clear(pf)


@pytest.mark.parametrize("store", ["embedded", "redis"])
def test_txmilterctl_lint_explain_show_reset_stats(rl, workdir, request, store):
    """the operator's commands against the running daemon: lint, explain (consumes
    nothing), show, reset (the recipient gets through again), stats."""
    r = None
    if store == "redis":
        r = RedisServer(workdir, name="redis-ctl").start()
        request.addfinalizer(r.stop)
    setup = rl.setup("# anti-bombing\nburst rcpt 2/10m tempfail\n"
                     "day rcpt 20/1d tempfail exempt-sender=receipts@shop.example\n",
                     store=r.url if r else None)
    m = rl.start_milter(setup)

    out = ctl_ok(m, "policy", "lint")
    assert re.search(r"%s:2: burst rcpt 2/10m tempfail" % re.escape(setup.policy_path), out), out
    assert out.rstrip().endswith("2 rules, valid"), out
    bad = os.path.join(os.path.dirname(setup.policy_path), "broken.policy")
    with open(bad, "w") as f:
        f.write("ok rcpt 1/1m\nbad rcpt 1/1m explode\n")
    rc, out, err = ctl(m, "policy", "lint", bad)
    assert rc == 1 and "%s:2:" % bad in err, (rc, out, err)

    assert send(rl, [variant(0)], tag="ctl").rcpt(variant(0))[0] == 250
    for _ in range(5):
        out = ctl_ok(m, "policy", "explain", "--rcpt", "V.ictim+x@googlemail.com",
                     "--sender", "app@example.com", "--client", "127.0.0.1")
    assert "recipient victim@gmail.com (normalised from V.ictim+x@googlemail.com)" in out, out
    assert re.search(r"rule burst .*: key burst\|rcpt=victim@gmail\.com: 1 of 2 used, allows", out), out
    assert "verdict: accept" in out, out
    # explain consumed nothing: one more gets through, then the limit holds
    assert send(rl, [variant(1)], tag="ctl").rcpt(variant(1))[0] == 250
    third = send(rl, [variant(2)], tag="ctl")
    assert third.rcpt(variant(2))[0] == 451, third
    out = ctl_ok(m, "policy", "explain", "--rcpt", VICTIM)
    assert re.search(r"2 of 2 used, refuses\n  retry in \d+ s", out), out
    assert re.search(r"verdict: tempfail by rule burst, retry in \d+ s", out), out
    out = ctl_ok(m, "policy", "explain", "--rcpt", VICTIM, "--sender", "receipts@shop.example")
    assert re.search(r"rule day .*does not apply \(exempt: the sender matches exempt-sender=\)", out), out
    assert not re.search(r"(?m)^OK$", out), out            # the protocol's last line is not shown

    out = ctl_ok(m, "ratelimit", "show", "burst|rcpt=victim@gmail.com")
    assert re.search(r"burst\|rcpt=victim@gmail\.com: 2 of 2 used in 600 s, full, next in \d+ s",
                     out), out
    if r:
        keys = r.cli("--scan").split()
        assert "txm:{txmilter}:burst|rcpt=victim@gmail.com" in keys, keys
    out = ctl_ok(m, "ratelimit", "reset", "burst|rcpt=victim@gmail.com")
    assert "reset" in out, out
    assert re.search(r": 0 of 2 used", ctl_ok(m, "ratelimit", "show", "burst|rcpt=victim@gmail.com"))
    again = send(rl, [variant(3)], tag="ctl")
    assert again.rcpt(variant(3))[0] == 250 and again.accepted, again
    rc, out, err = ctl(m, "ratelimit", "show", "nosuchrule|rcpt=x@y")
    assert rc == 1 and "no rule of the current policy" in err, (rc, out, err)

    st = ctl_stats(m)
    if r:
        assert st["store"] == "%s (with StoreFailure local while it is down)" % r.url \
            and st["primary"] == "up", st
        assert int(st["decided by primary"]) >= 4, st
        assert int(st["primary failures"]) == 0, st
    else:
        assert st["store"] == "embedded" and int(st["keys"]) >= 2, st
    assert st["policy"] == "%s (2 rules)" % setup.policy_path, st
    # by default only root and the daemon's own user may connect (Postfix is in the UserID group)
    assert os.stat(dict(setup.extra)["ControlSocket"]).st_mode & 0o777 == 0o600
    assert m.alive()


@pytest.fixture
def local_user():
    u = LocalUser()
    yield u
    u.remove()


def test_txmilterctl_reset_refused_to_socket_group_member_allowed_to_root(rl, local_user):
    """a user in ControlSocketGroup (as Postfix is in the UserID group) may look but not
    reset: RESET needs root or the daemon's own uid, by the peer's credentials."""
    u = local_user
    setup = rl.setup("burst rcpt 2/10m tempfail\n",
                     extra=[("ControlSocketGroup", u.group), ("ControlSocketMode", "0660")])
    m = rl.start_milter(setup)
    sock = dict(setup.extra)["ControlSocket"]
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode) and st.st_mode & 0o777 == 0o660, oct(st.st_mode)
    assert grp.getgrgid(st.st_gid).gr_name == u.group, st
    key = "burst|rcpt=victim@gmail.com"
    for i in range(2):
        assert send(rl, [variant(i)], tag="perm").rcpt(variant(i))[0] == 250

    rc, out, err = ctl(m, "ratelimit", "show", key, user=u)
    assert rc == 0 and re.search(r": 2 of 2 used in 600 s, full", out), (rc, out, err)
    rc, out, err = ctl(m, "policy", "explain", "--rcpt", VICTIM, user=u)
    assert rc == 0 and "verdict: tempfail by rule burst" in out, (rc, out, err)
    rc, out, err = ctl(m, "ratelimit", "stats", user=u)
    assert rc == 0 and re.search(r"(?m)^store: embedded$", out), (rc, out, err)

    rc, out, err = ctl(m, "ratelimit", "reset", key, user=u)
    assert rc == 1, (rc, out, err)
    assert err.startswith("txmilterctl: permission denied: RESET changes state") \
        and "you are uid %d" % u.uid in err, (rc, out, err)
    m.wait_log(r"control socket: RESET refused: peer uid=%d pid=\d+ is neither root nor uid 0"
               % u.uid)
    assert re.search(r": 2 of 2 used", ctl_ok(m, "ratelimit", "show", key))
    assert send(rl, [variant(2)], tag="perm").rcpt(variant(2))[0] == 451

    assert "reset" in ctl_ok(m, "ratelimit", "reset", key)
    assert re.search(r": 0 of 2 used", ctl_ok(m, "ratelimit", "show", key))
    assert send(rl, [variant(3)], tag="perm").rcpt(variant(3))[0] == 250

# SPDX-License-Identifier: BSD-2-Clause
"""Metrics and health (issue 13) through a real Postfix, scraped by a real Prometheus.

Each test starts txmilter with MetricsListen on a free loopback port (and, where the
scenario needs it, txmilter-unsubd with UnsubscribeMetricsListen and a redis-server),
sends mail through the private Postfix and checks what an operator's Prometheus would
show: the counters read back through Prometheus's HTTP API match what was sent,
signed and refused; promtool accepts the exposition; /health says why it is down.
"""

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from mailrig.util import REPO, free_port, make_dir, wait_until
from mailrig.smtp import smtp_send
from mailrig.prometheus import Prometheus
from mailrig.redisserver import RedisServer
from mailrig.unbound import DnsServer
from ratelimit_helpers import ctl_stats, hup, new_message, rl_setup, wait_delivered, write_policy
from unsub_helpers import (UnsubD, http, local_url, one_click, seal_token, unsub_setup,
                           unsub_targets)

pytestmark = pytest.mark.txmilter_only

PROMTOOL = "/usr/bin/promtool"
RULES = os.path.join(REPO, "contrib", "prometheus", "txmilter.rules.yml")
DASHBOARD = os.path.join(REPO, "contrib", "prometheus", "grafana-txmilter.json")
RULE_TESTS = os.path.join(REPO, "tests", "prometheus")
STORE_TTL = 5       # seconds a Redis PING's answer is kept (DAEMON_HEALTH_STORE_TTL, txmilter(8))
DNS_PROBE = 5       # seconds between probes of a resolver that reads as down (DAEMON_HEALTH_DNS_PROBE)
NEWS = "news@example.com"
VICTIM = "victim@gmail.com"


def http_get(url, accept=None, timeout=10):
    """(status, content type, body text) of one GET"""
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def samples(text):
    """{'name{labels}': value} of an exposition (text format or OpenMetrics)"""
    d = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        k, _, v = line.rpartition(" ")
        d[k] = float(v)
    return d


@pytest.fixture
def mrig(request, rig, workdir):
    """the rig, plus setup(policy, **kw): a rate-limited signing setup with MetricsListen"""
    n = [0]
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[-40:]

    def setup(policy, extra=(), **kw):
        n[0] += 1
        port = free_port()
        s = rl_setup(rig.keys, workdir, policy, tag="%s-%d" % (base, n[0]),
                     extra=[("MetricsListen", "127.0.0.1:%d" % port)] + list(extra), **kw)
        s.metrics_url = "http://127.0.0.1:%d" % port
        return s
    rig.setup = setup
    rig.workdir = workdir
    return rig


def send(rig, rcpts, tag="metrics", from_addr="app@example.com"):
    msg, mid = new_message(to_addr=", ".join(rcpts), from_addr=from_addr, tag=tag)
    return smtp_send(rig.postfix.smtpd_port, from_addr, rcpts, msg, mid)


def scrape(setup, accept=None):
    status, ctype, body = http_get(setup.metrics_url + "/metrics", accept)
    assert status == 200, (status, body)
    return ctype, body


def test_scrape_counts_signed_and_refused_and_promtool_accepts_it(mrig):
    """5 messages to one inbox under rcpt 3/10m: the counters say 3 signed, 2 RCPTs
    refused by the rule; promtool check metrics has nothing to say about the text."""
    s = mrig.setup("rcpt-burst rcpt 3/10m tempfail\n")
    m = mrig.start_milter(s)
    sent = [send(mrig, ["victim@gmail.com"], tag="mb") for _ in range(5)]
    codes = [r.rcpts[0][1] for r in sent]
    assert codes == [250] * 3 + [451] * 2, sent
    wait_delivered(mrig.capture, [r.mid for r in sent[:3]], 3)
    ctype, text = scrape(s)
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    v = samples(text)
    assert v['txmilter_messages_total{action="signed"}'] == 3
    assert v['txmilter_signatures_total{domain="example.com",selector="rsa1",'
             'algorithm="rsa-sha256"}'] == 3, text
    assert v['txmilter_refusals_total{reason="ratelimit"}'] == 2
    assert v['txmilter_ratelimit_decisions_total{rule="rcpt-burst",result="allowed"}'] == 3
    assert v['txmilter_ratelimit_decisions_total{rule="rcpt-burst",result="refused"}'] == 2
    assert v['txmilter_stage_duration_seconds_count{stage="eom"}'] == 3
    assert 'victim' not in text and 'gmail' not in text, "a recipient in a label"
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert p.returncode == 0 and p.stdout.strip() == b"", p.stdout.decode()
    # OpenMetrics when asked, ending in # EOF
    ctype, om = scrape(s, "application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
    assert ctype.startswith("application/openmetrics-text; version=1.0.0"), ctype
    assert om.endswith("# EOF\n") and "# TYPE txmilter_messages counter" in om
    # txmilterctl ratelimit stats: allowed/refused per rule (embedded store)
    st = ctl_stats(m)
    assert st["rule rcpt-burst"] == "allowed 3, refused 2, shadow-refused 0", st


def test_health_ok_and_404(mrig):
    s = mrig.setup("rcpt-burst rcpt 3/10m tempfail\n")
    mrig.start_milter(s)
    assert http_get(s.metrics_url + "/health")[0::2] == (200, "ok\n")
    assert http_get(s.metrics_url + "/nothing")[0] == 404


def promtool(*args, stdin=None):
    p = subprocess.run([PROMTOOL] + list(args), input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace")


def test_promtool_checks_and_tests_the_shipped_alert_rules():
    """promtool check rules on contrib/prometheus; promtool test rules runs the simulated
    mail bomb (and every other alert) of tests/prometheus"""
    rc, out = promtool("check", "rules", RULES)
    assert rc == 0, out
    tests = sorted(os.path.join(RULE_TESTS, f) for f in os.listdir(RULE_TESTS)
                   if f.endswith(".test.yml"))
    assert tests, "no promtool rule tests in %s" % RULE_TESTS
    rc, out = promtool("test", "rules", *tests)
    assert rc == 0 and "SUCCESS" in out, out
    rc, out = promtool("check", "config", os.path.join(REPO, "contrib", "prometheus",
                                                        "prometheus.yml"))
    assert rc == 0, out


def dashboard_metrics():
    """every txmilter metric name the dashboard's queries use"""
    with open(DASHBOARD) as f:
        dash = json.load(f)
    exprs = []

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("expr", "query", "definition") and isinstance(v, str):
                    exprs.append(v)
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(dash)
    assert exprs and dash.get("panels"), "no queries in the dashboard"
    return sorted(set(n for e in exprs for n in re.findall(r"\btxmilter_[a-z_]+", e)))


@pytest.fixture
def prom(request, workdir):
    made = []
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[-40:]

    def make(targets, **kw):
        p = Prometheus(workdir, targets, name="prometheus-%s-%d" % (base, len(made)), **kw)
        made.append(p)
        return p.start()
    yield make
    for p in made:
        p.stop()


def test_prometheus_scrapes_both_daemons_while_mail_flows(rig, workdir, prom):
    """A mail bomb, a malformed message and a one-click unsubscribe through the real
    Postfix and txmilter-unsubd; Prometheus, scraping both every second, reads back
    exactly what was signed, refused and unsubscribed; the mail-bomb alert goes pending;
    every metric the dashboard names exists."""
    d = make_dir(os.path.join(workdir, "metrics-prom"))
    policy = os.path.join(d, "rate.policy")
    with open(policy, "w") as f:
        f.write("rcpt-burst rcpt 3/10m tempfail\nclient client_ip 10000/1m tempfail\n")
    mport, uport = free_port(), free_port()
    setup = unsub_setup(rig.keys, workdir, extra=[
        ("RateLimitPolicy", policy), ("ControlSocket", os.path.join(d, "ctl.sock")),
        ("MetricsListen", "127.0.0.1:%d" % mport),
        ("UnsubscribeMetricsListen", "127.0.0.1:%d" % uport)])
    m = rig.start_milter(setup)
    u = UnsubD(m).start()
    try:
        p = prom({"txmilter": ["127.0.0.1:%d" % mport],
                  "txmilter-unsubd": ["127.0.0.1:%d" % uport]}, rule_files=[RULES])
        p.wait_scraped()
        assert p.value('txmilter_ratelimit_decisions_total{rule="rcpt-burst",result="refused"}') == 0

        bomb = []
        for i in range(33):
            msg, mid = new_message(to_addr=VICTIM, from_addr=NEWS, tag="bomb%d" % i)
            bomb.append(smtp_send(rig.postfix.smtpd_port, NEWS, [VICTIM], msg, mid))
        codes = [r.rcpts[0][1] for r in bomb]
        assert codes == [250] * 3 + [451] * 30, bomb
        two_from = (b"From: a@example.com\r\nFrom: b@example.com\r\nTo: x@receiver.example\r\n"
                    b"Subject: two authors\r\nMessage-ID: <two-from@txtest.example>\r\n\r\nhi\r\n")
        r = smtp_send(rig.postfix.smtpd_port, "app@example.com", ["x@receiver.example"], two_from,
                      "two-from@txtest.example")
        assert r.data is not None and r.data[0] == 550, r
        first = rig.capture.wait_for(bomb[0].mid)
        url, _ = unsub_targets(first.msg)
        assert one_click(local_url(url, u.port)) == "200", u.log_text()[-2000:]
        assert http("http://127.0.0.1:%d/u/not-a-token" % u.port)[0] == 400

        want = {
            'txmilter_messages_total{action="signed"}': 3,
            'txmilter_messages_total{action="rejected"}': 1,
            'txmilter_refusals_total{reason="ratelimit"}': 30,
            'txmilter_refusals_total{reason="from"}': 1,
            # the victim 3 times, the two-author message's recipient once
            'txmilter_ratelimit_decisions_total{rule="rcpt-burst",result="allowed"}': 4,
            'txmilter_ratelimit_decisions_total{rule="rcpt-burst",result="refused"}': 30,
            'txmilter_ratelimit_decisions_total{rule="client",result="allowed"}': 34,
            'sum(txmilter_signatures_total{domain="example.com",algorithm="rsa-sha256"})': 3,
            'txmilter_stage_duration_seconds_count{stage="sign"}': 3,
            # no preflight here: no DNS stage timed; the embedded store timed per recipient
            'txmilter_stage_duration_seconds_count{stage="dns"}': 0,
            'txmilter_stage_duration_seconds_count{stage="store"}': 34,
            'txmilter_unsubd_requests_total{code="200"}': 1,
            'txmilter_unsubd_requests_total{code="400"}': 1,
            'txmilter_unsubd_unsubscribes_total{stream="example.com"}': 1,
            'txmilter_store_up{store="suppression"}': 1,
            'txmilter_unsubd_store_up': 1,
            'count(up == 1)': 2,
        }
        for expr, v in want.items():
            p.wait_value(expr, v)
        assert p.value('txmilter_build_info{job="txmilter"}') == 1
        names = set(p.api("label/__name__/values"))
        assert not [n for n in names if re.search("victim|gmail", n)]
        for lab in ("domain", "stream", "rule", "reason", "action"):
            vals = p.api("label/%s/values" % lab)
            assert not [v for v in vals if "@" in v or "victim" in v], (lab, vals)
        loaded = {r["name"] for g in p.rules() for r in g["rules"]}
        for a in ("TxmilterMailBombInProgress", "TxmilterAlignmentRefusals",
                  "TxmilterSignatureErrors", "TxmilterHeaderChangesRefused", "TxmilterStoreDown",
                  "TxmilterStoreBreakerOpen", "TxmilterDNSErrors", "TxmilterReloadFailed", "TxmilterUnsubscribeEndpoint5xx"):
            assert a in loaded, (a, loaded)
        wait_until(lambda: ("TxmilterMailBombInProgress", "pending") in p.alerts()
                   or ("TxmilterMailBombInProgress", "firing") in p.alerts(), 30,
                   what="the mail-bomb alert")
        # a family exists when a daemon exports it (# TYPE), whether or not Prometheus
        # has stored a series of it yet (no preflight ran here)
        families = set()
        for port in (mport, uport):
            families |= set(re.findall(r"^# TYPE (\S+) ", http_get(
                "http://127.0.0.1:%d/metrics" % port)[2], re.M))
        missing = []
        for n in dashboard_metrics():
            base = re.sub(r"_(bucket|sum|count)$", "", n)
            if n not in names and n not in families and base not in families:
                missing.append(n)
        assert not missing, "the dashboard names metrics that do not exist: %s" % missing
        # the unsubd exposition is valid too
        rc, out = promtool("check", "metrics",
                           stdin=http_get("http://127.0.0.1:%d/metrics" % uport)[2].encode())
        assert rc == 0 and out.strip() == "", out
    finally:
        u.stop()


def test_health_503_while_redis_is_down_and_prometheus_sees_the_store_down(rig, workdir, prom):
    """Store redis://: txmilterctl ratelimit stats counts per rule; /health 200, and many
    scrapes of /metrics and /health send Redis one PING per STORE_TTL seconds, not one
    each; then 503 naming the store within STORE_TTL (plus the PING's timeout) of
    redis-server stopping (txmilter_store_up{store="rate"} 0 in Prometheus), 200 again after it
    is back."""
    r = RedisServer(workdir, name="redis-metrics").start()
    try:
        port = free_port()
        s = rl_setup(rig.keys, workdir, "rcpt-burst rcpt 3/10m tempfail\n", tag="metrics-redis",
                     store="redis://127.0.0.1:%d/0" % r.port,
                     # a loaded machine must not time a decision out into StoreFailure local
                     extra=[("MetricsListen", "127.0.0.1:%d" % port), ("StoreTimeout", "2000"),
                            ("StoreConnectTimeout", "2000"), ("StoreRetryInterval", "200")])
        m = rig.start_milter(s)
        base = "http://127.0.0.1:%d" % port
        p = prom({"txmilter": ["127.0.0.1:%d" % port]})
        p.wait_scraped()
        assert http_get(base + "/health")[0::2] == (200, "ok\n")
        # txmilterctl ratelimit stats counts per rule with Redis too
        codes = [send(rig, [VICTIM], tag="redis-bomb").rcpts[0][1] for _ in range(5)]
        assert codes == [250] * 3 + [451] * 2, (codes, m.log_text()[-3000:])
        st = ctl_stats(m)
        assert st["rule rcpt-burst"] == "allowed 3, refused 2, shadow-refused 0", st
        p.wait_value('txmilter_ratelimit_decisions_total{rule="rcpt-burst",result="refused"}', 2)
        p.wait_value('txmilter_store_up{store="rate"}', 1)
        # PINGs are STORE_TTL seconds apart at least: in a window of L seconds, at most
        # L // STORE_TTL + 1 of them (Prometheus scrapes meanwhile too, sharing the answer)
        t0 = time.monotonic()
        pings = r.commandstats().get("ping", 0)
        for _ in range(20):
            assert http_get(base + "/health")[0::2] == (200, "ok\n")
            assert samples(http_get(base + "/metrics")[2])['txmilter_store_up{store="rate"}'] == 1
        pings = r.commandstats().get("ping", 0) - pings
        allowed = int((time.monotonic() - t0) // STORE_TTL) + 1
        assert pings <= allowed, "40 requests sent Redis %d PINGs, want at most %d" % (pings, allowed)
        r.stop()

        def down():
            st, _, text = http_get(base + "/health")
            return st == 503 and text
        body = wait_until(down, STORE_TTL + 2 + 5, what="/health 503 after redis-server stopped")
        assert "store redis" in body, body
        assert "127.0.0.1:%d" % r.port not in body, "the Store URL (it may hold a password)"
        p.wait_value('txmilter_store_up{store="rate"}', 0)
        r.start()
        wait_until(lambda: http_get(base + "/health")[0] == 200, 30, what="/health 200 again")
        p.wait_value('txmilter_store_up{store="rate"}', 1)
    finally:
        r.stop()


def test_summary_line_of_t_and_of_the_daemon_have_one_format(mrig, workdir):
    """The daemon's one line per message and txmilter -t's summary: both say
    from=<...> (also when -t is given --from without brackets) and name the same
    fields in the same order."""
    s = mrig.setup("rcpt-burst rcpt 3/10m tempfail\n")
    m = mrig.start_milter(s)
    msg, mid = new_message(to_addr="ann@receiver.example", tag="summary")
    r = smtp_send(mrig.postfix.smtpd_port, "app@example.com", ["ann@receiver.example"], msg, mid)
    assert r.accepted, r
    line = m.wait_log(r"^.*: (from=<app@example\.com> outbound .*action=signed.*)$").group(1)
    path = os.path.join(workdir, "summary-%s.eml" % mid)
    with open(path, "wb") as f:
        f.write(msg)
    p = subprocess.run([m.binary, "-t", path, "-x", m.conf_path, "--from", "app@example.com",
                        "--rcpt", "ann@receiver.example"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode(errors="replace")
    t = re.search(r"(?m)^summary: (.*)$", out)
    assert p.returncode == 0 and t, out
    assert t.group(1).startswith("from=<app@example.com> outbound "), t.group(1)

    def fields(x):
        return re.findall(r"(?:^| )([a-z][a-z-]*)=", x)
    assert fields(t.group(1)) == fields(line), "daemon: %s\n-t:     %s" % (line, t.group(1))


def test_health_503_names_the_resolver_when_dns_queries_keep_failing(mrig):
    """Alignment preflight on, Nameservers where nothing answers (On-DNSError accept, so
    mail still flows): after three failed queries /health is 503 naming the resolver, and
    the DNS counters say timeout."""
    dead = "127.0.0.1@%d" % free_port()
    s = mrig.setup("rcpt-burst rcpt 100/10m tempfail\n", extra=[
        ("EgressAddress", "192.0.2.10"), ("AlignmentAction", "reject"), ("Nameservers", dead),
        ("DNSTimeout", "1"), ("On-DNSError", "accept")])
    m = mrig.start_milter(s)
    assert http_get(s.metrics_url + "/health")[0::2] == (200, "ok\n")
    for i in range(3):
        r = send(mrig, ["dns%d@receiver.example" % i], tag="dnsdown")
        assert r.accepted, r
    status, _, body = http_get(s.metrics_url + "/health")
    assert status == 503 and "resolver: the last" in body, (status, body, m.log_text()[-2000:])
    v = samples(scrape(s)[1])
    assert v['txmilter_dns_queries_total{result="timeout"}'] >= 3, v
    assert v['txmilter_preflight_verdicts_total{domain="example.com",verdict="temperror"}'] == 3, v
    assert v['txmilter_stage_duration_seconds_count{stage="dns"}'] == 3, v


def test_health_resolver_up_again_without_mail_once_dns_answers(mrig, workdir):
    """Alignment preflight on, Nameservers a test unbound of our own: /health 200;
    unbound stopped, three messages (On-DNSError accept) make /health 503 naming the
    resolver, and the scrapes meanwhile probe it at most once per DNS_PROBE seconds;
    unbound started again, /health is 200 within DNS_PROBE seconds (plus the probe's own
    second) without another message, and the probe's answer is counted."""
    srv = DnsServer(workdir)
    srv.dir = make_dir(os.path.join(workdir, "dns-metrics"))
    srv.conf = os.path.join(srv.dir, "unbound.conf")
    srv.logfile = os.path.join(srv.dir, "unbound.log")
    srv.add_txt("example.com", "v=spf1 ip4:192.0.2.10 -all")
    srv.start()
    try:
        s = mrig.setup("rcpt-burst rcpt 100/10m tempfail\n", extra=[
            ("EgressAddress", "192.0.2.10"), ("AlignmentAction", "reject"),
            ("Nameservers", "127.0.0.1@%d" % srv.port), ("DNSTimeout", "1"), ("On-DNSError", "accept")])
        m = mrig.start_milter(s)
        health = s.metrics_url + "/health"
        assert http_get(health)[0::2] == (200, "ok\n")
        srv.stop()
        for i in range(3):
            r = send(mrig, ["dns%d@receiver.example" % i], tag="dnsback")
            assert r.accepted, r
        status, _, body = http_get(health)
        assert status == 503 and "resolver: the last" in body, (status, body, m.log_text()[-2000:])
        # probes are DNS_PROBE seconds apart at least: in L seconds, at most L // DNS_PROBE + 1
        t0 = time.monotonic()
        v0 = samples(scrape(s)[1])
        for _ in range(10):
            assert http_get(health)[0] == 503
        v1 = samples(scrape(s)[1])
        allowed = int((time.monotonic() - t0) // DNS_PROBE) + 1
        failed = sum(v1['txmilter_dns_queries_total{result="%s"}' % k]
                     - v0['txmilter_dns_queries_total{result="%s"}' % k] for k in ("timeout", "error"))
        assert failed <= allowed, "10 requests probed %d times, want at most %d" % (failed, allowed)
        srv.start()
        wait_until(lambda: http_get(health)[0::2] == (200, "ok\n"), DNS_PROBE + 1 + 5,
                   what="/health 200 with unbound back and no mail")
        v = samples(scrape(s)[1])
        assert v['txmilter_dns_queries_total{result="nxdomain"}'] > v1['txmilter_dns_queries_total{result="nxdomain"}'], v
        assert sum(x for k, x in v.items() if k.startswith("txmilter_messages_total")) == 3, v
    finally:
        srv.stop()


def test_reloads_are_counted_by_result(mrig):
    """SIGHUP with a good policy: success and a newer timestamp; with a broken one:
    failure, the timestamp stays (the old configuration is in force)"""
    s = mrig.setup("rcpt-burst rcpt 3/10m tempfail\n")
    m = mrig.start_milter(s)

    def value(name):
        return samples(scrape(s)[1]).get(name)
    t0 = value("txmilter_config_last_reload_success_timestamp_seconds")
    assert value('txmilter_config_reloads_total{result="success"}') == 0
    time.sleep(1.1)                       # the timestamp has a resolution of 1 s
    hup(m)
    m.wait_log(r"configuration reloaded from")
    assert value('txmilter_config_reloads_total{result="success"}') == 1
    t1 = value("txmilter_config_last_reload_success_timestamp_seconds")
    assert t1 > t0, (t0, t1)
    write_policy(s, "rcpt-burst rcpt 3/10x tempfail\n")
    hup(m)
    m.wait_log(r"reload of .* failed")
    wait_until(lambda: value('txmilter_config_reloads_total{result="failure"}') == 1, 10,
               what="the failed reload counted")
    assert value('txmilter_config_reloads_total{result="success"}') == 1
    assert value("txmilter_config_last_reload_success_timestamp_seconds") == t1


def test_unsubd_health_503_while_its_redis_store_is_down(rig, workdir):
    """txmilter-unsubd on Store redis://: /health 200; with redis-server stopped a
    one-click POST is answered 503 and /health says the suppression list failed; both
    are counted; back to 200 once Redis answers again."""
    r = RedisServer(workdir, name="redis-unsubd-metrics").start()
    try:
        uport = free_port()
        setup = unsub_setup(rig.keys, workdir, store="redis://127.0.0.1:%d/0" % r.port,
                            extra=[("UnsubscribeMetricsListen", "127.0.0.1:%d" % uport)])
        m = rig.start_milter(setup)
        u = UnsubD(m).start()
        base = "http://127.0.0.1:%d" % uport
        try:
            msg, mid = new_message(to_addr="carla@receiver.example", from_addr=NEWS, tag="unsubd-h")
            assert smtp_send(rig.postfix.smtpd_port, NEWS, ["carla@receiver.example"], msg,
                             mid).accepted
            url, _ = unsub_targets(rig.capture.wait_for(mid).msg)
            assert http_get(base + "/health")[0::2] == (200, "ok\n")
            r.stop()
            assert one_click(local_url(url, u.port)) == "503", u.log_text()[-2000:]
            status, _, body = http_get(base + "/health")
            assert (status, body) == (503, "unhealthy: suppression list: last call failed\n")
            v = samples(http_get(base + "/metrics")[2])
            assert v['txmilter_unsubd_requests_total{code="503"}'] == 1, v
            assert v["txmilter_unsubd_store_up"] == 0, v
            r.start()
            wait_until(lambda: one_click(local_url(url, u.port)) == "200", 30,
                       what="the unsubscribe recorded once Redis is back")
            assert http_get(base + "/health")[0] == 200
            v = samples(http_get(base + "/metrics")[2])
            assert v['txmilter_unsubd_unsubscribes_total{stream="example.com"}'] == 1, v
        finally:
            u.stop()
    finally:
        r.stop()


def test_unsubd_counts_streams_of_unconfigured_domains_as_other(rig, workdir):
    """txmilter-unsubd names a stream's domain in txmilter_unsubd_unsubscribes_total only
    when the KeyTable does (example.com, there with 0 from the start): authentic tokens of
    streams of 20 made-up domains (an application may send From any domain) are all
    counted under stream="other", and none of those domains becomes a label."""
    uport = free_port()
    setup = unsub_setup(rig.keys, workdir, extra=[("UnsubscribeMetricsListen", "127.0.0.1:%d" % uport)])
    m = rig.start_milter(setup)
    u = UnsubD(m).start()
    try:
        metrics = "http://127.0.0.1:%d/metrics" % uport
        v = samples(http_get(metrics)[2])
        assert v['txmilter_unsubd_unsubscribes_total{stream="example.com"}'] == 0, v
        assert v['txmilter_unsubd_unsubscribes_total{stream="other"}'] == 0, v
        streams = ["news@made-up%d.example" % i for i in range(20)] + ["news@Example.COM"]
        for i, stream in enumerate(streams):
            token = seal_token(setup.unsub.keyfile, "r%d@receiver.example" % i, stream)
            assert one_click("%s/u/%s" % (u.base, token)) == "200", u.log_text()[-2000:]
        text = http_get(metrics)[2]
        v = samples(text)
        assert v['txmilter_unsubd_unsubscribes_total{stream="other"}'] == 20, text
        assert v['txmilter_unsubd_unsubscribes_total{stream="example.com"}'] == 1, text
        assert "made-up" not in text, text
        assert len([k for k in v if k.startswith("txmilter_unsubd_unsubscribes_total")]) == 2, text
    finally:
        u.stop()


def test_bounces_counted_by_class_and_suppressions_by_reason(rig, workdir):
    """Reports to the return path through Postfix, one of each kind: txmilter_bounces_total
    says what each was (a DSN's class, not_dsn, bad_token), txmilter_suppressions_total
    what was recorded (a dead address, and a soft limit of 2 reached); promtool accepts
    the exposition"""
    from dsn_helpers import out_of_office, rcpt, return_path_of, send_back, send_dsn, RP
    port = free_port()
    setup = unsub_setup(rig.keys, workdir, extra=[
        ("MetricsListen", "127.0.0.1:%d" % port), ("ReturnPath", RP),
        ("BounceSoftLimit", "2/1d")])
    setup.metrics_url = "http://127.0.0.1:%d" % port
    m = rig.start_milter(setup)
    v = samples(scrape(setup)[1])
    for cls in ("dead", "full", "policy", "transient", "other", "none", "not_dsn", "bad_token"):
        assert v['txmilter_bounces_total{class="%s"}' % cls] == 0, (cls, v)
    assert v['txmilter_suppressions_total{reason="bounce"}'] == 0, v

    dead, full, misc = rcpt("dead"), rcpt("full"), rcpt("misc")
    rp_dead, mid_dead = return_path_of(rig, dead)
    rp_full, mid_full = return_path_of(rig, full)
    rp_misc, mid_misc = return_path_of(rig, misc)
    # a soft bounce counts once per message: the second of each is about another one
    rp_full2, mid_full2 = return_path_of(rig, full)
    rp_misc2, mid_misc2 = return_path_of(rig, misc)
    send_dsn(rig, m, rp_dead, dead, mid_dead, "5.1.1", r"bounced: rcpt=<%s>" % re.escape(dead))
    send_dsn(rig, m, rp_full, full, mid_full, "4.2.2", r"soft bounce 1 in 1d")
    send_dsn(rig, m, rp_full2, full, mid_full2, "5.2.2", r"soft bounce 2 in 1d.*suppressed")
    send_dsn(rig, m, rp_misc, misc, mid_misc, "5.7.1", r"status=5\.7\.1 \(policy\)")
    send_dsn(rig, m, rp_misc, misc, mid_misc, "4.4.1", r"status=4\.4\.1 \(transient\).*soft bounce 1")
    send_dsn(rig, m, rp_misc2, misc, mid_misc2, "5.0.0",
             r"status=5\.0\.0 \(other\).*soft bounce 2")
    send_dsn(rig, m, rp_dead, dead, mid_dead, "2.0.0", r"status=2\.0\.0 \(none\)", action="delivered")
    msg, mid = out_of_office(rp_misc, misc)
    send_back(rig, m, rp_misc, msg, mid, r"is no DSN")
    local, _, domain = rp_misc.partition("@")
    k = len("bounces+") + 10
    forged = local[:k] + ("b" if local[k] != "b" else "c") + local[k + 1:] + "@" + domain
    send_dsn(rig, m, forged, misc, mid_misc, "5.1.1", r"token refused")

    ctype, text = scrape(setup)
    v = samples(text)
    want = {"dead": 1, "full": 2, "policy": 1, "transient": 1, "other": 1, "none": 1,
            "not_dsn": 1, "bad_token": 1}
    got = {c: v['txmilter_bounces_total{class="%s"}' % c] for c in want}
    assert got == want, text
    # the dead address, the soft limit reached twice (full; misc by transient + other)
    assert v['txmilter_suppressions_total{reason="bounce"}'] == 3, text
    assert v['txmilter_suppressions_total{reason="unsubscribe"}'] == 0, text
    assert "receiver.example" not in text and "bounces+" not in text, "an address in a label"
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert p.returncode == 0 and p.stdout.strip() == b"", p.stdout.decode()

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

from mailrig.util import free_port, wait_until
from mailrig.smtp import smtp_send
from ratelimit_helpers import ctl_stats, new_message, rl_setup, wait_delivered

pytestmark = pytest.mark.txmilter_only

PROMTOOL = "/usr/bin/promtool"


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

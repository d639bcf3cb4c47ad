# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.prometheus - Debian's prometheus on loopback, scraping the daemons under test.

  Prometheus(workdir, targets, name, interval, rule_files)
                        prometheus on 127.0.0.1:PORT in <workdir>/<name> (its own, empty TSDB,
                        no remote anything), scraping each job of targets
                        ({"txmilter": ["127.0.0.1:9140"], ...}) every interval seconds.
                        .start() waits until /-/ready; .stop(); .query(expr) -> the
                        instant vector [(labels, value)]; .value(expr) -> one float or
                        None; .wait_value(expr, want, timeout) -> until it equals want;
                        .targets() -> [(job, health, lastError)]; .wait_scraped(timeout)
                        -> every target up at least once; .rules() -> the loaded groups

A missing prometheus is an error naming the Debian package, never a reason to skip.
"""

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request

from .util import RigError, free_port, make_dir, stop_process, tail, wait_until

PROMETHEUS = "/usr/bin/prometheus"


class Prometheus:
    """prometheus scraping targets on loopback, see the module's comment."""

    def __init__(self, workdir, targets, name="prometheus", interval=1, rule_files=()):
        self.dir = make_dir(os.path.join(workdir, name))
        self.port = free_port()
        self.targets_cfg = targets
        self.interval = interval
        self.rule_files = list(rule_files)
        self.logfile = os.path.join(self.dir, "prometheus.log")
        self.config = os.path.join(self.dir, "prometheus.yml")
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None

    def write_config(self):
        lines = ["global:", "  scrape_interval: %ds" % self.interval,
                 "  scrape_timeout: %ds" % max(1, self.interval),
                 "  evaluation_interval: %ds" % self.interval]
        if self.rule_files:
            lines.append("rule_files:")
            lines += ["  - %s" % json.dumps(p) for p in self.rule_files]
        lines.append("scrape_configs:")
        for job, addrs in self.targets_cfg.items():
            lines += ["  - job_name: %s" % json.dumps(job),
                      "    static_configs:",
                      "      - targets: %s" % json.dumps(list(addrs))]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, timeout=60):
        if shutil.which(PROMETHEUS) is None:
            raise RigError("prometheus is not installed: install the Debian package prometheus "
                           "(this test never skips)")
        self.write_config()
        data = os.path.join(self.dir, "data")
        shutil.rmtree(data, ignore_errors=True)     # a fresh TSDB: no series of an earlier run
        make_dir(data)
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + self.config, "--storage.tsdb.path=" + data,
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn",
             "--storage.tsdb.retention.time=1d"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.dir)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise RigError("prometheus exited %s:\n%s" % (self.proc.returncode,
                                                              tail(self.logfile)))
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False
        wait_until(ready, timeout, interval=0.2, what="prometheus on port %d" % self.port)
        return self

    def stop(self):
        stop_process(self.proc, timeout=30)
        self.proc = None

    def api(self, path, **params):
        url = self.url + "/api/v1/" + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as r:
            doc = json.loads(r.read().decode())
        if doc.get("status") != "success":
            raise RigError("prometheus %s: %s" % (path, doc))
        return doc["data"]

    def query(self, expr):
        """query - the instant vector of expr now: [(labels dict, float)]"""
        data = self.api("query", query=expr)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def value(self, expr):
        """value - the one value of expr, None if it has none"""
        res = self.query(expr)
        if not res:
            return None
        if len(res) > 1:
            raise RigError("%s has %d series: %s" % (expr, len(res), res))
        return res[0][1]

    def wait_value(self, expr, want, timeout=30):
        """wait_value - until expr is want (a scrape or two after the fact); its value"""
        seen = []

        def ok():
            v = self.value(expr)
            seen[:] = [v]
            return v == want
        try:
            wait_until(ok, timeout, interval=0.25, what="%s == %s" % (expr, want))
        except RigError:
            raise RigError("%s is %s, not %s, after %d s" % (expr, seen[0] if seen else None,
                                                              want, timeout))
        return want

    def targets(self):
        """targets - [(job, health, lastError)] of the active targets"""
        return [(t["labels"]["job"], t["health"], t["lastError"])
                for t in self.api("targets")["activeTargets"]]

    def wait_scraped(self, timeout=30):
        """wait_scraped - every target scraped and up"""
        def ok():
            t = self.targets()
            return t and all(h == "up" for _, h, _ in t)
        try:
            wait_until(ok, timeout, interval=0.25, what="every target up")
        except RigError:
            raise RigError("targets not up: %s" % self.targets())

    def rules(self):
        return self.api("rules")["groups"]

    def alerts(self):
        """alerts - [(alertname, state)] of the active alerts"""
        return [(a["labels"]["alertname"], a["state"]) for a in self.api("alerts")["alerts"]]

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""metrics_cost.py - what the metrics cost on the hot path: txmilter without and with them.

Run as root (everything on loopback, every process stopped at the end):

    /usr/bin/python3 tests/bench/metrics_cost.py --off OLD/txmilter --on NEW/txmilter \
        --gen build/tests/bench/miltergen [--messages 2000] [--repeat 5] [--callgrind]

--off is a txmilter built without the metrics code (main before issue 13), --on one
with it (same compiler and flags). Both get the same configuration: RSA-2048 signing
of example.com and a two-rule rate policy on the embedded store (every recipient
decided by two rules, so each message passes every counter: rcpt, store, eoh, eom,
sign, rate decisions, signatures, action). Three milters, run one after the other in
rounds (off, on, on + MetricsListen scraped 10 times a second, then again), each
round `miltergen -c 4` (a recipient of its own for each message); the median of --repeat
rounds is reported: messages/s and the milter's CPU ms per message.

With --callgrind, the "on" binary also runs under valgrind --tool=callgrind for 300
messages, and the script reports the instructions (Ir) per message spent inside the
metrics code (metrics_*, msg_count_*, msg_stage_*; their own instructions) and in
clock_gettime (every caller; the stage timers read the clock twice per stage) against
the whole process: counts that do not depend on the machine's load.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import mailrig  # noqa: E402
from sidebyside import make_message  # noqa: E402

POLICY = "rcpt-day rcpt 1000000/1d tempfail\nclient client_ip 10000000/1m tempfail\n"


class Scraper:
    """GET /metrics every interval seconds until stopped; counts the scrapes"""

    def __init__(self, url, interval=0.1):
        self.url, self.interval, self.n, self.stop_ev = url, interval, 0, threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop_ev.is_set():
            with urllib.request.urlopen(self.url, timeout=10) as r:
                r.read()
            self.n += 1
            self.stop_ev.wait(self.interval)

    def start(self):
        self.t.start()
        return self

    def stop(self):
        self.stop_ev.set()
        self.t.join(30)


def milter(work, keys, binary, name, metrics_port=None):
    policy = os.path.join(work, "rate.policy")
    with open(policy, "w") as f:
        f.write(POLICY)
    extra = [("RateLimitPolicy", policy)]
    if metrics_port:
        extra.append(("MetricsListen", "127.0.0.1:%d" % metrics_port))
    setup = mailrig.SigningSetup([keys], extra=extra)
    m = mailrig.TxMilter(work, setup, binary=binary, name=name, tag=name)
    return m


def gen_run(gen, m, msgfile, n, label):
    cmd = [gen, "-s", m.spec, "-f", msgfile, "-c", "4", "-m", "50", "-n", str(n),
           "--pid", str(m.proc.pid), "--label", label, "-q"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    line = p.stdout.decode().strip()
    print(line, flush=True)
    kv = dict(tok.split("=", 1) for tok in line.split() if "=" in tok)
    if p.returncode != 0 or int(kv.get("signed", "0")) != n:
        raise SystemExit("%s: run failed (rc %d): %s %s" % (label, p.returncode, line,
                                                            p.stderr.decode()[-500:]))
    return float(kv["msgs_per_s"]), float(kv["milter_cpu_ms_per_msg"])


def callgrind(args, work, keys, msgfile):
    m = milter(work, keys, args.on, "callgrind")
    out = os.path.join(work, "callgrind.out")
    m.command = lambda: ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                         args.on, "-f", "-x", m.conf_path]
    m.start(timeout=120)
    try:
        gen_run(args.gen, m, msgfile, 40, "callgrind-warmup")
        subprocess.run(["callgrind_control", "-z", str(m.proc.pid)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        gen_run(args.gen, m, msgfile, 300, "callgrind")
        subprocess.run(["callgrind_control", "-d", str(m.proc.pid)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    finally:
        m.stop(60)
    dumps = sorted(f for f in os.listdir(work) if f.startswith("callgrind.out"))
    total = mine = clock = 0
    for d in dumps:
        rep = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100",
                              os.path.join(work, d)], stdout=subprocess.PIPE,
                             timeout=300).stdout.decode(errors="replace")
        for line in rep.splitlines():
            mm = re.match(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S+)", line)
            if not mm:
                continue
            ir = int(mm.group(1).replace(",", ""))
            fn = mm.group(2)
            if "PROGRAM TOTALS" in line:
                total += ir
            elif re.search(r":(metrics_|msg_count_|msg_stage_)", fn):
                mine += ir
            elif re.search(r"clock_gettime", fn):
                clock += ir
    print("CALLGRIND over %d dumps: total %d Ir, metrics code %d Ir (self)" % (len(dumps), total, mine))
    if total:
        print("CALLGRIND per message: %.0f Ir total, %.0f Ir in the metrics code (%.3f%%); "
              "clock_gettime of every caller (the stage timers among them) %.0f Ir (%.3f%%)"
              % (total / 300.0, mine / 300.0, 100.0 * mine / total, clock / 300.0,
                 100.0 * clock / total))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--off", required=True)
    ap.add_argument("--on", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--callgrind", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="txbench-metrics-")
    started = []
    try:
        keys = mailrig.KeyPair.rsa(mailrig.make_dir(os.path.join(work, "keys")), "example.com",
                                   "rsa1")
        msgfile = make_message(os.path.join(work, "4k.eml"), 4096)
        port = mailrig.free_port()
        ms = {"off": milter(work, keys, args.off, "off"),
              "on": milter(work, keys, args.on, "on"),
              "on+scrape": milter(work, keys, args.on, "onscrape", metrics_port=port)}
        for m in ms.values():
            m.start()
            started.append(m)
            gen_run(args.gen, m, msgfile, 200, "warmup")
        res = {k: [] for k in ms}
        scraper = Scraper("http://127.0.0.1:%d/metrics" % port).start()
        try:
            for r in range(args.repeat):
                for k, m in ms.items():
                    res[k].append(gen_run(args.gen, m, msgfile, args.messages, "%s/r%d" % (k, r)))
        finally:
            scraper.stop()
        print("scrapes during the runs: %d" % scraper.n)
        print("\n| txmilter | runs | msgs/s (median) | all runs msgs/s | milter CPU ms/msg (median) |")
        print("|---|---|---|---|---|")
        for k, runs in res.items():
            print("| %s | %d | %.0f | %s | %.3f |" % (
                k, len(runs), statistics.median(r[0] for r in runs),
                ", ".join("%.0f" % r[0] for r in runs), statistics.median(r[1] for r in runs)))
        for m in started:
            m.stop()
        started = []
        if args.callgrind:
            callgrind(args, work, keys, msgfile)
    finally:
        for m in started:
            m.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

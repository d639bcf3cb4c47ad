#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""nagle.py - per-message latency through Postfix with the milter on a unix socket
and on an inet (TCP loopback) socket: the Nagle / delayed-ACK stall of
shared/notes/libraries.md section 11.

Run as root (it starts a private Postfix on loopback ports, like the integration
tests, with tests/integration/mailrig/):

    TXMILTER=/path/to/txmilter /usr/bin/python3 tests/bench/nagle.py [--messages 300]
        [--sessions 1,4] [--size 4096] [--repeat 3] [--opendkim] [--write RESULTS.md]

For each milter and socket kind it points the Postfix instance's smtpd_milters at the
milter, runs a warm-up, then `smtp-source -s S -m M -l L` --repeat times, timing each
run, and reports the median as ms per message (wall time / messages) and messages/s.
Postfix relays everything to smtp-sink (no storage), so the figure is what the SMTP
client waits for: smtpd, cleanup and the milter round trips.  It checks that every
measured message was signed (the milter's log), so a broken milter cannot look fast.
With --write FILE the section "Milter socket: unix vs inet (Nagle)" of FILE is
replaced (or appended).  Everything stays on loopback; every loop is bounded.
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import mailrig  # noqa: E402

SECTION = "## Milter socket: unix vs inet (Nagle)"


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d CPU(s) (nproc), %s, Linux %s" % (os.cpu_count(), model, platform.release())


class SmtpSink:
    """smtp-sink writing each delivered transaction to DIR/m.<hex> (checked, not timed)"""

    def __init__(self, workdir):
        self.port = mailrig.free_port()
        self.dir = mailrig.make_dir(os.path.join(workdir, "sink"))
        shutil.chown(self.dir, "postfix", "postfix")
        self.proc = None

    def clear(self):
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))

    def delivered(self):
        return os.listdir(self.dir)

    def signed(self):
        n = 0
        for f in self.delivered():
            with open(os.path.join(self.dir, f), "rb") as fp:
                n += b"\nDKIM-Signature:" in fp.read()
        return n

    def start(self):
        self.proc = subprocess.Popen(["smtp-sink", "-u", "postfix", "-c", "-d",
                                      os.path.join(self.dir, "m."),
                                      "127.0.0.1:%d" % self.port, "256"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        mailrig.wait_until(lambda: mailrig.connectable("inet:%d@127.0.0.1" % self.port), 10,
                           what="smtp-sink")
        return self

    def stop(self):
        mailrig.stop_process(self.proc)


def smtp_source(port, sessions, messages, size):
    cmd = ["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", str(size),
           "-f", "sender@example.com", "-t", "rcpt@receiver.example",
           "-M", "client.txtest.example", "127.0.0.1:%d" % port]
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    dt = time.monotonic() - t0
    if p.returncode != 0 or p.stderr.strip():
        raise mailrig.RigError("%s: status %d\n%s%s" % (" ".join(cmd), p.returncode,
                                                      p.stdout.decode(), p.stderr.decode()))
    return dt, cmd


def bench_one(args, wd, pf, sink, kind, socket_kind, setup, results):
    if kind == "txmilter":
        m = mailrig.TxMilter(wd, setup, socket_kind=socket_kind,
                             name="m-%s-%s" % (kind, socket_kind))
    else:
        m = mailrig.OpenDkim(wd, setup, socket_kind=socket_kind,
                             name="m-%s-%s" % (kind, socket_kind))
    if kind == "txmilter":
        # the same log level for every run
        with open(m.conf_path) as f:
            conf = f.read().replace("LogWhy yes", "LogWhy no")
        with open(m.conf_path, "w") as f:
            f.write(conf)
    m.start()
    try:
        pf.set_milter(m.postfix_spec)
        smtp_source(pf.smtpd_port, 2, 20, args.size)          # warm-up
        if args.probe:
            probe(args, pf, kind, m, results)
        for sessions in args.sessions:
            runs = []
            for _ in range(args.repeat):
                mailrig.wait_until(lambda: pf.queue_count() == 0, 60, interval=0.2,
                                   what="an empty queue")
                sink.clear()
                dt, cmd = smtp_source(pf.smtpd_port, sessions, args.messages, args.size)
                # every message handed over to smtp-sink (250 after its dump is written)
                mailrig.wait_until(lambda: len(sink.delivered()) >= args.messages
                                   and pf.queue_count() == 0, 60, interval=0.2,
                                   what="%d delivered messages" % args.messages)
                n = sink.signed()
                if n != args.messages:
                    if args.keep:
                        for f in sink.delivered():
                            with open(os.path.join(sink.dir, f), "rb") as fp:
                                if b"\nDKIM-Signature:" not in fp.read():
                                    print("unsigned:", os.path.join(sink.dir, f))
                    raise mailrig.RigError("%s on %s: %d of %d messages signed" % (
                        kind, socket_kind, n, args.messages))
                runs.append(dt)
            med = statistics.median(runs)
            row = {"milter": kind, "socket": m.spec, "sessions": sessions,
                   "ms_per_msg": 1000.0 * med / args.messages,
                   "msg_per_s": args.messages / med,
                   "runs_ms_per_msg": [1000.0 * r / args.messages for r in runs],
                   "cmd": " ".join(cmd)}
            results.append(row)
            print("%-9s %-28s -s %d: %7.2f ms/message  %7.1f msg/s  (runs: %s)" % (
                kind, m.spec, sessions, row["ms_per_msg"], row["msg_per_s"],
                ", ".join("%.2f" % x for x in row["runs_ms_per_msg"])), flush=True)
    finally:
        m.stop()


def probe(args, pf, kind, m, results):
    """per-message latency distribution: one SMTP session per message, sequential"""
    import smtplib
    body = b"x" * 76 + b"\r\n"
    extra = b"".join(b"X-Filler-%02d: %s\r\n" % (i, b"v" * 180) for i in range(args.probe_headers))
    msg = (b"From: sender@example.com\r\nTo: rcpt@receiver.example\r\n"
           b"Subject: probe\r\n" + extra + b"\r\n" + body * max(1, args.size // len(body)))
    lat = []
    for _ in range(args.probe):
        t0 = time.monotonic()
        s = smtplib.SMTP("127.0.0.1", pf.smtpd_port, timeout=30)
        s.sendmail("sender@example.com", ["rcpt@receiver.example"], msg)
        s.quit()
        lat.append(1000.0 * (time.monotonic() - t0))
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    row = {"milter": kind, "socket": m.spec, "probe": True, "n": len(lat),
           "p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "max": lat[-1],
           "over30": sum(1 for x in lat if x > 30)}
    results.append(row)
    print("%-9s %-28s probe: p50 %.2f p90 %.2f p99 %.2f max %.2f ms; %d of %d over 30 ms" % (
        kind, m.spec, row["p50"], row["p90"], row["p99"], row["max"], row["over30"],
        row["n"]), flush=True)


def markdown(args, results, started):
    lines = [SECTION, "",
             "Measured %s on %s." % (started.strftime("%Y-%m-%d %H:%M UTC"), machine()),
             "Postfix %s (private instance on loopback, `milter_protocol = 6`), relaying to "
             "`smtp-sink`; txmilter `%s`." % (
                 args.postfix_version,
                 mailrig.txmilter_binary()),
             "Command: `TXMILTER=%s /usr/bin/python3 tests/bench/nagle.py %s`, which for every "
             "milter/socket runs a warm-up, then %d timed runs of" % (
                 mailrig.txmilter_binary(), " ".join(sys.argv[1:]), args.repeat),
             "`smtp-source -s S -m %d -l %d -f sender@example.com -t rcpt@receiver.example "
             "-M client.txtest.example 127.0.0.1:PORT`; the median is shown. Every message "
             "was checked to carry a DKIM-Signature at the sink." % (args.messages, args.size),
             "",
             "| milter | socket | sessions (-s) | ms/message (wall/messages) | messages/s | "
             "all runs, ms/message |",
             "|---|---|---|---|---|---|"]
    for r in results:
        if r.get("probe"):
            continue
        sock = re.sub(r"/tmp/[^ ]*/", ".../", r["socket"])
        lines.append("| %s | `%s` | %d | %.2f | %.1f | %s |" % (
            r["milter"], sock, r["sessions"], r["ms_per_msg"], r["msg_per_s"],
            ", ".join("%.2f" % x for x in r["runs_ms_per_msg"])))
    probes = [r for r in results if r.get("probe")]
    if probes:
        lines += ["", "Per-message latency (%d messages, one SMTP session each, sent one "
                  "after the other with Python's smtplib, same message size):" % probes[0]["n"],
                  "", "| milter | socket | p50 ms | p90 ms | p99 ms | max ms | over 30 ms |",
                  "|---|---|---|---|---|---|---|"]
        for r in probes:
            sock = re.sub(r"/tmp/[^ ]*/", ".../", r["socket"])
            lines.append("| %s | `%s` | %.2f | %.2f | %.2f | %.2f | %d |" % (
                r["milter"], sock, r["p50"], r["p90"], r["p99"], r["max"], r["over30"]))
    return "\n".join(lines) + "\n"


def write_section(path, text):
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    i = old.find(SECTION)
    if i < 0:
        new = (old.rstrip("\n") + "\n\n" if old else "# Benchmark results\n\n") + text
    else:
        j = old.find("\n## ", i + len(SECTION))
        new = old[:i] + text + (old[j:] if j >= 0 else "")
    with open(path + ".tmp", "w") as f:
        f.write(new)
    os.rename(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--sessions", default="1,4")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--opendkim", action="store_true", help="also Debian's opendkim")
    ap.add_argument("--only", default="", help="e.g. txmilter:inet (for investigations)")
    ap.add_argument("--probe", type=int, default=0,
                    help="also time N single messages for a latency distribution")
    ap.add_argument("--probe-headers", type=int, default=0,
                    help="extra 195-byte header fields in the probe message (a large header "
                    "block, written in parts when the MSS is small)")
    ap.add_argument("--write", help="RESULTS.md to update")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    args = ap.parse_args()
    args.sessions = [int(x) for x in args.sessions.split(",")]
    if os.geteuid() != 0:
        sys.exit("run as root")
    ok, why = mailrig.txmilter_usable()
    if not ok:
        sys.exit(why)
    started = datetime.datetime.utcnow()
    wd = tempfile.mkdtemp(prefix="txmilter-bench-")
    os.chmod(wd, 0o755)
    mailrig.make_traversable(wd)
    cleanup = mailrig.Cleanup()
    results = []
    try:
        kd = mailrig.make_dir(os.path.join(wd, "keys"), 0o700)
        key = mailrig.KeyPair.rsa(kd, "example.com", "rsa1")
        setup = mailrig.SigningSetup([key], internal="127.0.0.1")
        sink = SmtpSink(wd).start()
        cleanup.push(sink.stop)
        pf = mailrig.Postfix(wd, ("127.0.0.1", sink.port), "", name="postfix",
                             extra={"default_process_limit": "50"})
        pf.start()
        cleanup.push(pf.stop)
        args.postfix_version = pf.postconf("-h", "mail_version").strip()
        combos = [("txmilter", "unix"), ("txmilter", "inet")]
        if args.opendkim and shutil.which("opendkim"):
            combos += [("opendkim", "unix"), ("opendkim", "inet")]
        if args.only:
            combos = [tuple(x.split(":")) for x in args.only.split(",")]
        for kind, sk in combos:
            bench_one(args, wd, pf, sink, kind, sk, setup, results)
    finally:
        try:
            cleanup.run()
        finally:
            if args.keep:
                print("kept", wd)
            else:
                shutil.rmtree(wd, ignore_errors=True)
    text = markdown(args, results, started)
    print()
    print(text)
    if args.write:
        write_section(args.write, text)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""sidebyside.py - txmilter, OpenDKIM and rspamd side by side, through miltergen.

Run as root on the machine to measure (everything stays on loopback; every loop is
bounded; every process it starts is stopped at the end):

    /usr/bin/python3 tests/bench/sidebyside.py --build /work/build-bench \
        [--messages 3000] [--repeat 3] [--no-rspamd] [--no-install] [--profile]

--build is a build directory where `make && make bench` has run (txmilter and
tests/bench/miltergen).  The script

  - installs the peers from Debian's packages when missing (`apt-get install
    opendkim rspamd`) and disables the services the packages enable;
  - makes one RSA-2048 and one Ed25519 key for example.com, a 4 KB, a 100 KB and a
    50 MB message, starts unbound (the keys, SPF and DMARC of example.com) and
    redis-server on loopback ports;
  - runs, one after the other on unix sockets: txmilter signing only (RSA,
    Ed25519, both), txmilter with all four jobs (RSA signing + List-Unsubscribe +
    a per-recipient Redis rate-limit rule + alignment preflight with a warm
    cache, also on an inet socket), txmilter with all four jobs and the bounce
    features (tx-all4rf: ReturnPath, i.e. a sealed token and smfi_chgfrom for
    single-recipient mail, and FeedbackID, a signed Feedback-ID header), OpenDKIM (Mode s, same RSA key,
    relaxed/relaxed) and rspamd 3.4 (rspamd_proxy in milter mode, dkim_signing
    only, same key); each with a warm-up and then `miltergen` at concurrency 1, 4
    and 16 (4 KB) and 4 (100 KB), --repeat times; the median run is reported;
  - measures txmilter's RSS with 64 concurrent connections and the RSS added by
    one 50 MB message (OpenDKIM's too, for reference);
  - runs the end-to-end test through a private Postfix (`smtp-source -s 4|16 -m N
    -l 4096` -> Postfix with smtpd_milters = the milter, or none -> smtp-sink): no
    milter, txmilter with all four jobs, OpenDKIM and rspamd, counting the signed
    messages at the sink and the CPU of the milter and of the whole machine;
  - with --perf, records txmilter (all four jobs, RSA only, Ed25519 only) with
    `perf record -g` during a c4 run and prints the shares by object and symbol;
  - with --profile, runs txmilter (all four jobs) under valgrind --tool=callgrind
    for a short miltergen run and prints the top functions (inclusive and self);
  - the signing series also send a 1 MB and a 10 MB message (c4 and c2), and txmilter
    with all four jobs a 4 KB message to 100 recipients (c4), with the Redis
    commands counted (INFO commandstats) to show the round trips per recipient;
  - with --callgrind, runs txmilter (RSA, Ed25519, both; all four jobs with and
    without the bounce features when --cg-only names tx-all4, tx-all4rf: 4 KB to
    1 and to 100 recipients, and 100 KB) and OpenDKIM under
    valgrind --tool=callgrind and counts the instructions per message of 4 KB,
    100 KB and 1 MB messages (zeroed before, dumped after each size, same
    process), and from them the instructions per KB of body: the figure that the
    other programs sharing the machine cannot disturb; the dump of the 1 MB run is
    kept and its top functions printed (the profile);
  - with --syscalls tx-all4,tx-all4rf, counts the system calls per message of those
    configurations with strace -c -f during a c4 run (the kernel's share, which
    callgrind does not see);
  - memory: txmilter's and OpenDKIM's RSS before, at the peak and after one 1 MB,
    one 10 MB and one 50 MB message, each on a fresh process, plus VmHWM.

It prints one line per run (miltergen's key=value output) and a Markdown table; for
txmilter with all four jobs it also reports the CPU that Redis and unbound spent per
message, since they share the machine.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import mailrig  # noqa: E402
import nagle  # noqa: E402
from mailrig.redisserver import RedisServer  # noqa: E402

EGRESS = "192.0.2.10"
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua").split()


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=kw.pop("timeout", 600), **kw).stdout.decode(errors="replace")


def install_peers(want_rspamd):
    pkgs = [p for p, b in (("opendkim", "opendkim"), ("rspamd", "rspamd"))
            if (p != "rspamd" or want_rspamd) and shutil.which(b) is None]
    if pkgs:
        print("installing %s" % " ".join(pkgs), flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + pkgs,
                       check=True, env=env, stdout=subprocess.DEVNULL, timeout=900)
        for p in pkgs:      # the packages enable their services: undo that, stop them
            subprocess.run(["systemctl", "disable", "--now", p], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)


def make_message(path, size, seed=1):
    head = ("From: Sender <sender@example.com>\nTo: Rcpt <rcpt@receiver.example>\n"
            "Subject: benchmark message of %d bytes\nDate: Sat, 28 Nov 2026 08:00:00 +0000\n"
            "Message-ID: <bench.%d@example.com>\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n"
            % (size, size))
    n = len(head)
    k = seed
    lines = []
    while n < size:             # deterministic text, 72-column lines
        words = []
        for _ in range(11):
            k = (k * 1103515245 + 12345) & 0x7fffffff
            words.append(WORDS[k % len(WORDS)])
        line = " ".join(words)[:72] + "\n"
        lines.append(line)
        n += len(line)
    with open(path, "w") as f:
        f.write(head + "".join(lines))
    return path


def descendants(pid):
    """descendants - pid and every process below it (from /proc)"""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo and len(out) < 1000:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def status_kb(pids, field="VmRSS"):
    """status_kb - a /proc/PID/status field in kB (VmRSS, VmHWM), summed over pids"""
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def rss_kb(pids):
    return status_kb(pids)


def hwm_kb(pids):
    """VmHWM (peak RSS since start) summed over these processes"""
    return status_kb(pids, "VmHWM")


def cpu_ms(pids):
    """utime + stime of these processes, in ms"""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return 1000.0 * total / tick


def machine_cpu_ms():
    """CPU time spent by the whole machine (all CPUs, everything but idle/iowait), in ms"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = sum(v) - v[3] - v[4]
    return 1000.0 * busy / os.sysconf("SC_CLK_TCK")


def e2e_table(rows):
    out = ["| milter on Postfix | smtp-source -s | messages | msgs/s (median) | all runs msgs/s "
           "| ms/message (wall) | signed | milter CPU ms/msg | whole machine CPU ms/msg |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| %s | %d | %d | %.0f | %s | %.2f | %d | %.3f | %.3f |" % (
            r["milter"], r["sessions"], r["n"], r["mps"],
            ", ".join("%.0f" % x for x in r["all_mps"]), r["ms"], r["signed"],
            r["milter_cpu"], r["all_cpu"]))
    return "\n".join(out)


# ---------------------------------------------------------------------------
# the milters

class Rspamd:
    """rspamd 3.4 as a DKIM-signing-only milter (rspamd_proxy, self_scan)."""

    def __init__(self, workdir, key, workers=2):
        self.dir = mailrig.make_dir(os.path.join(workdir, "rspamd"))
        for d in ("local", "local/local.d", "local/override.d", "db", "run", "log"):
            mailrig.make_dir(os.path.join(self.dir, d))
        self.sock_path = os.path.join(self.dir, "rspamd.sock")
        self.spec = "unix:" + self.sock_path
        self.postfix_spec = self.spec
        ov = os.path.join(self.dir, "local", "override.d")
        loc = os.path.join(self.dir, "local", "local.d")
        w = lambda d, name, text: open(os.path.join(d, name), "w").write(text)
        w(ov, "worker-proxy.inc",
          'milter = yes;\ntimeout = 120s;\nbind_socket = "%s mode=0666";\ncount = %d;\n'
          'max_retries = 5;\ndiscard_on_reject = false;\nquarantine_on_reject = false;\n'
          'upstream "local" {\n  default = yes;\n  self_scan = yes;\n}\n'
          % (self.sock_path, workers))
        for name in ("worker-normal.inc", "worker-controller.inc", "worker-fuzzy.inc"):
            w(ov, name, "enabled = false;\ncount = -1;\n")
        w(loc, "options.inc", 'dns {\n  nameserver = ["127.0.0.1:9"];\n  timeout = 1s;\n'
          '  retransmits = 1;\n}\nlocal_addrs = "127.0.0.0/8";\n')
        w(loc, "logging.inc", 'level = "error";\n')
        for f in os.listdir("/etc/rspamd/modules.d"):
            name = f[:-5] if f.endswith(".conf") else None
            if name and name not in ("dkim", "dkim_signing"):
                w(ov, name + ".conf", "enabled = false;\n")
        for name in ("fuzzy_check", "chartable", "regexp", "rbl", "surbl", "spf", "dmarc",
                     "arc", "emails", "phishing", "mx_check", "asn", "settings", "neural",
                     "ratelimit", "greylist", "multimap", "milter_headers", "history_redis",
                     "hfilter", "once_received", "replies", "reputation", "mime_types",
                     "maillist", "mid", "forged_recipients", "force_actions", "whitelist",
                     "trie", "bayes_expiry", "dynamic_conf", "clickhouse", "elastic",
                     "metadata_exporter", "metric_exporter", "url_redirector", "p0f", "dcc",
                     "antivirus", "external_services", "spamassassin", "spamtrap",
                     "rspamd_update", "aws_s3", "bimi", "http_headers", "known_senders",
                     "external_relay", "fuzzy_collect", "mime_types", "headers_checks"):
            if not os.path.exists(os.path.join(ov, name + ".conf")):
                w(ov, name + ".conf", "enabled = false;\n")
        w(ov, "dkim.conf", "enabled = true;\n")
        w(ov, "dkim_signing.conf",
          'enabled = true;\nsign_local = true;\nsign_authenticated = true;\n'
          'use_domain = "header";\nuse_esld = false;\nallow_username_mismatch = true;\n'
          'allow_hdrfrom_mismatch = true;\nsign_inbound = true;\ntry_fallback = false;\n'
          'domain {\n  "example.com" {\n    path = "%s";\n    selector = "%s";\n  }\n}\n'
          % (key.path, key.selector))
        self.logfile = os.path.join(self.dir, "rspamd.out")
        self.proc = None

    def start(self, timeout=60):
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        d = self.dir
        cmd = ["rspamd", "-f", "-i", "-u", "root", "-g", "root", "-c", "/etc/rspamd/rspamd.conf",
               "--var=LOCAL_CONFDIR=" + os.path.join(d, "local"),
               "--var=DBDIR=" + os.path.join(d, "db"), "--var=RUNDIR=" + os.path.join(d, "run"),
               "--var=LOGDIR=" + os.path.join(d, "log")]
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise mailrig.RigError("rspamd exited %s:\n%s" % (
                    self.proc.returncode, mailrig.tail(self.logfile)
                    + mailrig.tail(os.path.join(d, "log", "rspamd.log"))))
            return mailrig.connectable(self.spec)
        mailrig.wait_until(ready, timeout, what="rspamd socket")
        time.sleep(2)           # all workers up
        return self

    def pids(self):
        return descendants(self.proc.pid)

    def stop(self):
        mailrig.stop_process(self.proc, 20)


def pids_of(m):
    return m.pids() if hasattr(m, "pids") else [m.proc.pid]


# ---------------------------------------------------------------------------
# runs

class Bench:
    def __init__(self, args):
        self.args = args
        self.gen = os.path.join(args.build, "tests", "bench", "miltergen")
        self.rows = []
        self.e2e_rows = []
        self.loads = []

    def gen_run(self, m, msgfile, conc, n, per_conn, label, spec=None, extra=()):
        side = getattr(m, "side_pids", None)        # Redis and unbound of all four jobs
        side0 = cpu_ms(side()) if side else 0.0
        cmd = [self.gen, "-s", spec or m.spec, "-f", msgfile, "-c", str(conc), "-m",
               str(per_conn), "-n", str(n), "--pid", ",".join(map(str, pids_of(m))),
               "--label", label, "-q"] + list(extra)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
        line = p.stdout.decode().strip()
        print(line + ((" STDERR " + p.stderr.decode()[-300:]) if p.returncode else ""),
              flush=True)
        kv = {}
        for tok in line.split():
            if "=" in tok:
                k, v = tok.split("=", 1)
                kv[k] = v
        kv["rc"] = p.returncode
        kv["load1"] = float(open("/proc/loadavg").read().split()[0])   # the machine is shared
        self.loads.append(kv["load1"])
        if side and p.returncode == 0 and kv.get("msgs", "0") != "0":
            kv["side_cpu"] = (cpu_ms(side()) - side0) / int(kv["msgs"])
            print("  Redis + unbound CPU: %.3f ms/msg" % kv["side_cpu"], flush=True)
        return kv

    def series(self, name, m, msgs, spec=None, socket="unix", confs=None, redis=None):
        a = self.args
        self.gen_run(m, msgs["4k"], 4, min(400, a.messages), a.per_conn, name + "/warmup",
                     spec=spec)
        for conf in confs or self.default_confs():
            size, conc, n = conf[:3]
            rcpts = conf[3] if len(conf) > 3 else 1
            extra = ["-r", str(rcpts)] if rcpts > 1 else []
            label = "%s/%s/%s/c%d%s" % (name, socket, size, conc,
                                        "/r%d" % rcpts if rcpts > 1 else "")
            runs = []
            for _ in range(a.repeat):
                if redis is not None:
                    redis.cli("CONFIG", "RESETSTAT")
                runs.append(self.gen_run(m, msgs[size], conc, n, a.per_conn, label, spec=spec,
                                         extra=extra))
                if redis is not None:
                    runs[-1]["redis"] = redis.commandstats()
                    print("  Redis commands: %s" % json.dumps(runs[-1]["redis"]), flush=True)
            ok = [r for r in runs if r.get("rc") == 0]
            if not ok:
                self.rows.append(dict(milter=name, socket=socket, size=size, conc=conc,
                                      rcpts=rcpts, failed=True))
                continue
            ok.sort(key=lambda r: float(r["msgs_per_s"]))
            med = ok[len(ok) // 2]
            self.rows.append(dict(milter=name, socket=socket, size=size, conc=conc, rcpts=rcpts,
                                  redis=med.get("redis"),
                                  n=int(med["msgs"]), mps=float(med["msgs_per_s"]),
                                  all_mps=[float(r["msgs_per_s"]) for r in runs
                                           if "msgs_per_s" in r],
                                  p50=float(med["p50_ms"]), p99=float(med["p99_ms"]),
                                  cpu=float(med["milter_cpu_ms_per_msg"]),
                                  gen_cpu=float(med["gen_cpu_ms_per_msg"]),
                                  side_cpu=med.get("side_cpu"), load1=med["load1"],
                                  signed=int(med["signed"]), unsub=int(med["unsub"]),
                                  chgfrom=int(med.get("chgfrom", 0)),
                                  feedback_id=int(med.get("feedback_id", 0)),
                                  tempfail=int(med["tempfail"]), reject=int(med["reject"])))

    def default_confs(self):
        n = self.args.messages
        return [("4k", 1, n // 2), ("4k", 4, n), ("4k", 16, n), ("100k", 4, n // 4),
                ("1m", 4, max(40, n // 30)), ("10m", 2, max(10, n // 200))]

    def callgrind(self, name, m, msgs, work, steps=None):
        """instructions per message (all threads) of 4 KB, 100 KB and 1 MB messages
        (or steps: (key, size, messages, recipients)), counted by callgrind in one
        process: zeroed before each step, dumped after"""
        a = self.args
        steps = steps or [("4k", "4k", a.cg_messages, 1), ("100k", "100k", a.cg_messages, 1),
                          ("1m", "1m", max(4, a.cg_messages // 5), 1)]
        out = os.path.join(work, name + ".callgrind")
        m.command = (lambda binary, conf: lambda: [
            "valgrind", "--tool=callgrind", "--compress-strings=no", "--compress-pos=no",
            "--callgrind-out-file=" + out] + binary(conf))(
            m.callgrind_cmd, m.conf_path)
        m.start(timeout=180)
        try:
            self.gen_run(m, msgs["4k"], 2, 20, 10, name + "/callgrind-warmup")
            res = {"milter": name}
            for key, size, n, rcpts in steps:
                sh(["callgrind_control", "-z", str(m.proc.pid)], timeout=120)
                kv = self.gen_run(m, msgs[size], 2, n, 10, "%s/callgrind/%s" % (name, key),
                                  extra=["-r", str(rcpts)] if rcpts > 1 else [])
                before = set(os.listdir(work))
                sh(["callgrind_control", "-d", str(m.proc.pid)], timeout=120)
                mailrig.wait_until(lambda: set(os.listdir(work)) - before, 60, interval=0.2,
                                   what="a callgrind dump")
                dump = os.path.join(work, sorted(set(os.listdir(work)) - before)[-1])
                time.sleep(0.5)
                ir = None
                with open(dump) as f:
                    for line in f:
                        if line.startswith("totals:") or line.startswith("summary:"):
                            ir = int(line.split()[1])
                res[key] = ir / int(kv["msgs"])
                for k in ("signed", "unsub", "chgfrom", "feedback_id"):
                    res[key + "_" + k] = int(kv.get(k, 0))
                print("CALLGRIND %s %s: %d messages, %.0f instructions per message" % (
                    name, key, int(kv["msgs"]), res[key]), flush=True)
                if key in ("1m", "4k_r1") or key == steps[-1][0]:
                    keep = os.path.join(a.build, "callgrind.%s.%s.out" % (name, key))
                    shutil.copy(dump, keep)
                    for inclusive in ("--inclusive=yes", "--inclusive=no"):
                        print(sh(["callgrind_annotate", inclusive, "--threshold=95",
                                  dump])[:6000])
                    print("callgrind output kept in", keep, flush=True)
            if "1m" in res and "4k" in res:
                kb = (os.path.getsize(msgs["1m"]) - os.path.getsize(msgs["4k"])) / 1024.0
                res["per_kb"] = (res["1m"] - res["4k"]) / kb
                print("CALLGRIND %s: %.0f instructions per KB of body" % (name, res["per_kb"]),
                      flush=True)
        finally:
            m.stop(120)
        return res

    def e2e(self, name, m, pf, sink):
        """smtp-source -> Postfix (smtpd_milters = m, or none) -> smtp-sink, -s 4 and 16:
        wall time per message, and the CPU per message of the milter and of the whole
        machine (Postfix, smtp-source and smtp-sink included)"""
        a = self.args
        pf.set_milter(m.postfix_spec if m else "")
        nagle.smtp_source(pf.smtpd_port, 2, 40, 4096)           # warm-up
        for sessions in (4, 16):
            runs = []
            for _ in range(a.repeat):
                mailrig.wait_until(lambda: pf.queue_count() == 0, 120, interval=0.2,
                                   what="an empty queue")
                sink.clear()
                cpu0, sys0 = cpu_ms(pids_of(m)) if m else 0.0, machine_cpu_ms()
                dt, cmd = nagle.smtp_source(pf.smtpd_port, sessions, a.e2e_messages, 4096)
                mailrig.wait_until(lambda: len(sink.delivered()) >= a.e2e_messages
                                   and pf.queue_count() == 0, 120, interval=0.2,
                                   what="%d delivered messages" % a.e2e_messages)
                cpu1, sys1 = cpu_ms(pids_of(m)) if m else 0.0, machine_cpu_ms()
                runs.append(dict(secs=dt, signed=sink.signed(),
                                 milter_cpu=(cpu1 - cpu0) / a.e2e_messages,
                                 all_cpu=(sys1 - sys0) / a.e2e_messages))
                print("E2E %s -s %d: %.3f s, %.1f msg/s, signed %d/%d, milter %.3f ms/msg, "
                      "machine %.3f ms/msg" % (name, sessions, dt, a.e2e_messages / dt,
                                               runs[-1]["signed"], a.e2e_messages,
                                               runs[-1]["milter_cpu"], runs[-1]["all_cpu"]),
                      flush=True)
            runs.sort(key=lambda r: r["secs"])
            med = runs[len(runs) // 2]
            self.e2e_rows.append(dict(milter=name, sessions=sessions, n=a.e2e_messages,
                                      mps=a.e2e_messages / med["secs"],
                                      ms=1000.0 * med["secs"] / a.e2e_messages,
                                      all_mps=[a.e2e_messages / r["secs"] for r in runs],
                                      signed=med["signed"], milter_cpu=med["milter_cpu"],
                                      all_cpu=med["all_cpu"], cmd=" ".join(cmd)))

    def syscalls(self, name, m, msgfile, work, n=200):
        """system calls per message of the milter (all threads), counted by
        strace -c -f during one c4 run: the kernel's share, which callgrind does not
        see and which the load does not change"""
        self.gen_run(m, msgfile, 4, 100, self.args.per_conn, name + "/strace-warmup")
        out = os.path.join(work, name + ".strace")
        tr = subprocess.Popen(["strace", "-c", "-f", "-U", "name,calls", "-S", "calls",
                               "-o", out] + sum((["-p", str(p)] for p in pids_of(m)), []),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)               # attached to every thread
        kv = self.gen_run(m, msgfile, 4, n, self.args.per_conn, name + "/strace")
        tr.send_signal(2)
        tr.wait(timeout=60)
        calls = {}
        with open(out) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[1].isdigit() and not parts[0].startswith("-"):
                    calls[parts[0]] = int(parts[1]) / float(kv["msgs"])
        total = calls.pop("total", sum(calls.values()))
        print("SYSCALLS %s: %.1f per message; %s" % (name, total, ", ".join(
            "%s %.2f" % (k, v) for k, v in sorted(calls.items(), key=lambda x: -x[1]))),
            flush=True)
        return dict(milter=name, total=total, calls=calls)

    def perf(self, name, m, msgfile, work):
        """perf record -g on the milter during one c4 run; prints the shares by
        object and by symbol (self time), kernel included"""
        a = self.args
        self.gen_run(m, msgfile, 4, 400, a.per_conn, name + "/perf-warmup")
        out = os.path.join(work, name + ".perf.data")
        rec = subprocess.Popen(["perf", "record", "-F", "4000", "-g", "-o", out, "-p",
                                ",".join(map(str, pids_of(m)))],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        self.gen_run(m, msgfile, 4, a.messages, a.per_conn, name + "/perf")
        rec.send_signal(2)
        rec.wait(timeout=60)
        for sort in ("dso", "dso,sym"):
            rep = sh(["perf", "report", "-i", out, "--no-children", "--sort", sort, "--stdio",
                      "--percent-limit", "0.7"], timeout=300)
            print("PERF %s by %s\n%s" % (name, sort, "\n".join(
                l for l in rep.splitlines() if l.strip() and not l.startswith("#")
                and not l.lstrip().startswith("|") and not l.lstrip().startswith("-")
                and "--" not in l)[:6000]), flush=True)
        keep = os.path.join(a.build, name + ".perf.data")
        shutil.copy(out, keep)
        print("perf data kept in", keep, flush=True)

    def memory(self, name, m, msgs, big="50m"):
        """RSS: idle after warm-up, peak with 64 connections, peak added by one big message"""
        pids = pids_of(m)
        self.gen_run(m, msgs["4k"], 2, 100, 10, name + "/mem-warmup")
        idle = rss_kb(pids)
        out = {"milter": name, "idle_kb": idle, "big": big}
        # the big message first, on the warm but otherwise fresh process: after 64
        # connections the heap has grown and would hide what one big message adds
        for key, conc, n, f in (("big", 1, 1, msgs[big]), ("c64", 64, 64 * 20, msgs["4k"])):
            before = rss_kb(pids)
            p = subprocess.Popen([self.gen, "-s", m.spec, "-f", f, "-c", str(conc), "-m", "20",
                                  "-n", str(n), "--label", "%s/mem-%s" % (name, key), "-q",
                                  "--pid", ",".join(map(str, pids))],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            peak = before
            t_end = time.time() + 600
            while p.poll() is None and time.time() < t_end:
                peak = max(peak, rss_kb(pids))
                time.sleep(0.005)
            o, e = p.communicate(timeout=60)
            print(o.decode().strip(), e.decode()[-300:], flush=True)
            out[key + "_before_kb"] = before
            out[key + "_peak_kb"] = peak
            out[key + "_after_kb"] = rss_kb(pids)
            out[key + "_hwm_kb"] = hwm_kb(pids)
        print("MEMORY", json.dumps(out), flush=True)
        return out


def table(rows):
    out = ["| milter | socket | message | rcpts | conc | messages | msgs/s (median) | all runs msgs/s "
           "| p50 ms | p99 ms | milter CPU ms/msg | miltergen CPU ms/msg | Redis+unbound CPU ms/msg "
           "| signed | chgfrom | Feedback-ID |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("failed"):
            out.append("| %s | %s | %s | %d | %d | FAILED ||||||||||" % (
                r["milter"], r["socket"], r["size"], r.get("rcpts", 1), r["conc"]))
            continue
        out.append("| %s | %s | %s | %d | %d | %d | %.0f | %s | %.2f | %.2f | %.3f | %.3f | %s "
                   "| %d | %d | %d |" % (
            r["milter"], r["socket"], r["size"], r.get("rcpts", 1), r["conc"], r["n"], r["mps"],
            ", ".join("%.0f" % x for x in r["all_mps"]), r["p50"], r["p99"], r["cpu"],
            r["gen_cpu"], "–" if r.get("side_cpu") is None else "%.3f" % r["side_cpu"],
            r["signed"], r.get("chgfrom", 0), r.get("feedback_id", 0)))
    return "\n".join(out)


def cg_bounce_table(cg):
    """instructions per message of all four jobs with and without ReturnPath +
    FeedbackID (callgrind), and what the bounce features add"""
    by = {r["milter"]: r for r in cg}
    out = ["| milter | 4 KB, 1 rcpt | 4 KB, 100 rcpts | 100 KB, 1 rcpt | per extra recipient "
           "| chgfrom / Feedback-ID at 1 rcpt |", "|---|---|---|---|---|---|"]
    rows = [by[k] for k in ("tx-all4", "tx-all4rf") if k in by]
    for r in rows + [by[k] for k in ("tx-all4r", "tx-all4f") if k in by]:
        out.append("| %s | %.0f | %.0f | %.0f | %.0f | %d / %d of %d |" % (
            r["milter"], r["4k_r1"], r["4k_r100"], r["100k_r1"],
            (r["4k_r100"] - r["4k_r1"]) / 99.0, r["4k_r1_chgfrom"], r["4k_r1_feedback_id"],
            r["4k_r1_signed"]))
    if len(rows) == 2:
        d = {k: rows[1][k] - rows[0][k] for k in ("4k_r1", "4k_r100", "100k_r1")}
        out.append("| added by ReturnPath + FeedbackID | %+.0f (%+.1f %%) | %+.0f (%+.1f %%) "
                   "| %+.0f (%+.1f %%) | | |" % (
                       d["4k_r1"], 100.0 * d["4k_r1"] / rows[0]["4k_r1"], d["4k_r100"],
                       100.0 * d["4k_r100"] / rows[0]["4k_r100"], d["100k_r1"],
                       100.0 * d["100k_r1"] / rows[0]["100k_r1"]))
    return "\n".join(out)


def body_table(rows):
    """CPU per KB of body from the c4 rows: (1 MB - 4 KB) and (100 KB - 4 KB); and for
    the 100-recipient row the CPU and the Redis commands per recipient"""
    by = {(r["milter"], r["socket"], r["size"], r["conc"], r.get("rcpts", 1)): r
          for r in rows if not r.get("failed")}
    out = ["| milter | CPU µs per KB, 4 KB -> 100 KB | CPU µs per KB, 4 KB -> 1 MB "
           "| ms/msg 1 MB (c4) | ms/msg 10 MB (c2) |", "|---|---|---|---|---|"]
    sizes = {"4k": 4096, "100k": 100 * 1024, "1m": 1024 * 1024}
    for name in sorted({k[0] for k in by}):
        base = by.get((name, "unix", "4k", 4, 1))
        if base is None:
            continue
        cells = []
        for size in ("100k", "1m"):
            r = by.get((name, "unix", size, 4, 1))
            cells.append("–" if r is None else "%.1f" % (
                1000.0 * (r["cpu"] - base["cpu"]) / ((sizes[size] - 4096) / 1024.0)))
        for size, conc in (("1m", 4), ("10m", 2)):
            r = by.get((name, "unix", size, conc, 1))
            cells.append("–" if r is None else "%.2f" % r["cpu"])
        out.append("| %s | %s |" % (name, " | ".join(cells)))
    for k, r in sorted(by.items()):
        if k[4] > 1:
            base = by.get((k[0], k[1], k[2], k[3], 1))
            cmds = r.get("redis") or {}
            per = (r["cpu"] - base["cpu"]) / (k[4] - 1) if base else None
            out.append("\n%s, %s, %d recipients, c%d: %.3f ms CPU per message, %s ms per extra "
                       "recipient; Redis commands in the median run: %s (%.3f EVALSHA per "
                       "recipient)" % (k[0], k[2], k[4], k[3], r["cpu"],
                                       "–" if per is None else "%.4f" % per, json.dumps(cmds),
                                       cmds.get("evalsha", 0) / float(r["n"] * k[4])))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--per-conn", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-rspamd", action="store_true")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--only", default="", help="comma list: tx-rsa,tx-ed,tx-dual,tx-all4,"
                    "tx-all4rf,tx-all4r,tx-all4f,opendkim,rspamd,e2e,memory,profile,"
                    "callgrind")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--e2e-messages", type=int, default=1000,
                    help="messages per smtp-source run in the end-to-end Postfix runs")
    ap.add_argument("--perf", action="store_true",
                    help="perf record txmilter (all four jobs and RSA only) during a c4 run")
    ap.add_argument("--json", help="write the rows here")
    ap.add_argument("--syscalls", default="", help="comma list of txmilter configurations "
                    "(e.g. tx-all4,tx-all4rf) whose system calls per message strace counts")
    ap.add_argument("--callgrind", action="store_true",
                    help="instructions per message and per KB of body under callgrind")
    ap.add_argument("--cg-only", default="", help="comma list of the milters run under "
                    "callgrind (default: tx-rsa,tx-ed,tx-dual,opendkim; also tx-all4, "
                    "tx-all4rf, and ReturnPath or FeedbackID alone: tx-all4r, tx-all4f)")
    ap.add_argument("--cg-messages", type=int, default=20,
                    help="messages per size under callgrind (1 MB: a fifth)")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    only = set(filter(None, a.only.split(",")))
    want = lambda x: not only or x in only
    txbin = os.path.join(a.build, "txmilter")
    if not a.no_install:
        install_peers(not a.no_rspamd)
    print("machine: %s; date %s; load %s" % (nagle.machine(), datetime.datetime.utcnow().strftime(
        "%Y-%m-%d %H:%M UTC"), open("/proc/loadavg").read().strip()), flush=True)
    work = tempfile.mkdtemp(prefix="txm-sbs-")
    mailrig.make_traversable(work)
    started = []
    b = Bench(a)
    try:
        keydir = mailrig.make_dir(os.path.join(work, "keys"), 0o755)
        rsa = mailrig.KeyPair.rsa(keydir, "example.com", "s1")
        ed = mailrig.KeyPair.ed25519(keydir, "example.com", "e1")
        msgs = {"4k": make_message(os.path.join(work, "m4k.eml"), 4096),
                "100k": make_message(os.path.join(work, "m100k.eml"), 100 * 1024),
                "1m": make_message(os.path.join(work, "m1m.eml"), 1024 * 1024),
                "10m": make_message(os.path.join(work, "m10m.eml"), 10 * 1024 * 1024),
                "50m": make_message(os.path.join(work, "m50m.eml"), 50 * 1024 * 1024)}
        dns = mailrig.DnsServer(work)
        dns.add_key(rsa)
        dns.add_key(ed)
        dns.add_txt("example.com", "v=spf1 ip4:%s -all" % EGRESS)
        dns.add_txt("_dmarc.example.com", "v=DMARC1; p=reject; adkim=r; aspf=r")
        dns.add_txt("bounce.example.com", "v=spf1 ip4:%s -all" % EGRESS)   # ReturnPath's
        dns.start()
        started.append(dns)
        redis = RedisServer(work)
        redis.start()
        started.append(redis)
        ctl = lambda tag: ("ControlSocket", os.path.join(work, tag + ".ctl"))
        policy = os.path.join(work, "ratelimit.policy")
        with open(policy, "w") as f:
            f.write("# one rule per recipient, never reached in the benchmark\n"
                    "bench-rcpt   rcpt   100000/1h   tempfail\n")
        ukeys = os.path.join(work, "unsub.keys")
        with open(ukeys, "w") as f:
            import base64
            f.write("1 %s\n" % base64.b64encode(os.urandom(32)).decode())
        os.chmod(ukeys, 0o600)
        udata = mailrig.make_dir(os.path.join(work, "unsubdata"), 0o700)
        all4 = [("Store", redis.url),
                ("RateLimitPolicy", policy),
                ("UnsubscribeKeyFile", ukeys),
                ("UnsubscribeURL", "https://unsub.%{domain}/u/%{token}"),
                ("UnsubscribeMailto", "unsub+%{token}@example.com"),
                ("DataDirectory", udata),
                ("UnsubscribeListen", "127.0.0.1:%d" % mailrig.free_port()),
                ("EgressAddress", EGRESS), ("AlignmentAction", "reject"),
                ("Nameservers", "127.0.0.1@%d" % dns.port)]
        bounce = [("ReturnPath", "bounces+%{token}@bounce.%{domain}"),
                  ("FeedbackID", "%{stream}:%{domain}:txmilter")]
        tx_confs = [("tx-rsa", [rsa], [ctl("rsa")]), ("tx-ed", [ed], [ctl("ed")]),
                    ("tx-dual", [rsa, ed], [ctl("dual")]),
                    ("tx-all4", [rsa], [ctl("all4")] + all4),
                    ("tx-all4rf", [rsa], [ctl("all4rf")] + all4 + bounce),
                    # each bounce feature alone, to split tx-all4rf's cost
                    ("tx-all4r", [rsa], [ctl("all4r")] + all4 + bounce[:1]),
                    ("tx-all4f", [rsa], [ctl("all4f")] + all4 + bounce[1:])]
        all4_like = ("tx-all4", "tx-all4rf", "tx-all4r", "tx-all4f")

        def tx(name, keys, extra, socket_kind="unix"):
            setup = mailrig.SigningSetup(keys, extra=extra)
            m = mailrig.TxMilter(work, setup, socket_kind=socket_kind, binary=txbin,
                                 name=name + "-" + socket_kind)
            if name in all4_like:
                m.side_pids = lambda: [redis.proc.pid, dns.proc.pid]
            return m

        for name, keys, extra in tx_confs:
            if not want(name) or (name in ("tx-all4r", "tx-all4f") and name not in only):
                continue            # the split of tx-all4rf only when asked for
            m = tx(name, keys, extra).start()
            started.append(m)
            if name in all4_like:
                b.series(name, m, msgs, redis=redis, confs=[
                    ("4k", 1, a.messages // 2), ("4k", 4, a.messages), ("4k", 16, a.messages),
                    ("100k", 4, a.messages // 4), ("4k", 4, max(40, a.messages // 10), 100)])
            else:
                b.series(name, m, msgs)
            m.stop()
            started.remove(m)
            if name == "tx-all4":
                m = tx(name, keys, extra, "inet").start()
                started.append(m)
                b.series(name, m, msgs, socket="inet", confs=[("4k", 4, a.messages),
                                                              ("4k", 16, a.messages)])
                m.stop()
                started.remove(m)
        if want("opendkim"):
            m = mailrig.OpenDkim(work, mailrig.SigningSetup([rsa])).start()
            started.append(m)
            b.series("opendkim", m, msgs)
            m.stop()
            started.remove(m)
        if want("rspamd") and not a.no_rspamd:
            m = Rspamd(work, rsa).start()
            started.append(m)
            b.series("rspamd", m, msgs)
            m.stop()
            started.remove(m)
        if want("e2e"):
            redis.cli("FLUSHALL")       # the rate-limit rule starts from zero again
            sink = nagle.SmtpSink(work).start()
            started.append(sink)
            pf = mailrig.Postfix(work, ("127.0.0.1", sink.port), "", name="postfix-e2e",
                                 extra={"default_process_limit": "50"})
            pf.start()
            started.append(pf)
            b.e2e("none", None, pf, sink)
            for name, make in (("tx-all4", lambda: tx("tx-all4", [rsa], tx_confs[3][2])),
                               ("opendkim", lambda: mailrig.OpenDkim(
                                   work, mailrig.SigningSetup([rsa]), name="opendkim-e2e")),
                               ("rspamd", lambda: Rspamd(work, rsa))):
                if name == "rspamd" and a.no_rspamd:
                    continue
                m = make().start()
                started.append(m)
                b.e2e(name, m, pf, sink)
                pf.set_milter("")
                m.stop()
                started.remove(m)
        print("\n" + table(b.rows), flush=True)
        if b.loads:
            print("\nload average (1 min) after each run: min %.2f, median %.2f, max %.2f" % (
                min(b.loads), sorted(b.loads)[len(b.loads) // 2], max(b.loads)), flush=True)
        print("\n" + body_table(b.rows), flush=True)
        if b.e2e_rows:
            print("\n" + e2e_table(b.e2e_rows), flush=True)
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"milter": b.rows, "e2e": b.e2e_rows}, f, indent=1)
        if want("memory"):
            for big in ("1m", "10m", "50m"):
                for name, keys, extra in (tx_confs[2], tx_confs[3]):
                    m = tx(name, keys, extra).start()
                    started.append(m)
                    b.memory(name, m, msgs, big)
                    m.stop()
                    started.remove(m)
                m = mailrig.OpenDkim(work, mailrig.SigningSetup([rsa]),
                                     name="opendkim-mem-" + big).start()
                started.append(m)
                b.memory("opendkim", m, msgs, big)
                m.stop()
                started.remove(m)
        if a.callgrind or "callgrind" in only:
            cg = []
            cg_want = set(filter(None, a.cg_only.split(","))) or {"tx-rsa", "tx-ed", "tx-dual",
                                                                   "opendkim"}
            n = a.cg_messages
            all4_steps = [("4k_r1", "4k", n, 1), ("4k_r100", "4k", max(4, n // 5), 100),
                          ("100k_r1", "100k", n, 1)]
            for name, keys, extra in tx_confs:
                if name not in cg_want:
                    continue
                m = tx(name, keys, extra)
                m.callgrind_cmd = lambda conf: [txbin, "-f", "-x", conf]
                started.append(m)
                cg.append(b.callgrind(name, m, msgs, work,
                                      all4_steps if name in all4_like else None))
                started.remove(m)
            if "opendkim" in cg_want:
                m = mailrig.OpenDkim(work, mailrig.SigningSetup([rsa]), name="opendkim-cg")
                m.callgrind_cmd = lambda conf: ["opendkim", "-f", "-x", conf]
                started.append(m)
                cg.append(b.callgrind("opendkim", m, msgs, work))
                started.remove(m)
            print("\n| milter | instructions/msg 4 KB | 100 KB | 1 MB | instructions per KB of body |")
            print("|---|---|---|---|---|")
            for r in (r for r in cg if "per_kb" in r):
                print("| %s | %.0f | %.0f | %.0f | %.0f |" % (r["milter"], r["4k"], r["100k"],
                                                             r["1m"], r["per_kb"]))
            print("\n" + cg_bounce_table(cg))
            if a.json:
                with open(a.json + ".callgrind", "w") as f:
                    json.dump(cg, f, indent=1)
        sc_want = set(filter(None, a.syscalls.split(",")))
        for name, keys, extra in (c for c in tx_confs if c[0] in sc_want):
            m = tx(name, keys, extra).start()
            started.append(m)
            b.syscalls(name, m, msgs["4k"], work)
            m.stop()
            started.remove(m)
        if a.perf:
            for name, keys, extra in (tx_confs[3], tx_confs[0], tx_confs[1]):
                m = tx(name, keys, extra).start()
                started.append(m)
                b.perf(name, m, msgs["4k"], work)
                m.stop()
                started.remove(m)
        if a.profile or "profile" in only:
            name, keys, extra = tx_confs[3]
            m = tx(name, keys, extra, "unix")
            out = os.path.join(work, "callgrind.out")
            m.command = lambda: ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                                 txbin, "-f", "-x", m.conf_path]
            m.start(timeout=120)
            started.append(m)
            b.gen_run(m, msgs["4k"], 2, 40, 10, "profile-warmup")
            subprocess.run(["callgrind_control", "-z", str(m.proc.pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
            b.gen_run(m, msgs["4k"], 2, 400, 10, "profile/all4")
            m.stop(60)
            started.remove(m)
            for inclusive in ("--inclusive=yes", "--inclusive=no"):
                print(sh(["callgrind_annotate", inclusive, "--threshold=99", out])[:9000])
            keep = os.path.join(a.build, "callgrind.sidebyside.out")
            shutil.copy(out, keep)
            print("callgrind output kept in", keep)
    finally:
        for p in reversed(started):
            try:
                p.stop()
            except Exception as e:          # noqa: BLE001
                print("stop:", e)
        if os.environ.get("KEEP_WORKDIR") is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("workdir kept:", work)


if __name__ == "__main__":
    main()

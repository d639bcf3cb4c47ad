# SPDX-License-Identifier: BSD-2-Clause
"""ratelimit_helpers - pieces for the rate-limit integration tests (test_ratelimit.py).

Adds to the mailrig package (redis-server: mailrig.redisserver; SMTP: mailrig.smtp):

  txmilterctl_binary()              $TXMILTERCTL, else txmilterctl next to $TXMILTER
  rl_setup(keys, workdir, policy, ...)
                                    a SigningSetup (example.com RSA key) whose extra
                                    directives add RateLimitPolicy, ControlSocket, Store...
  ctl(milter, *args)                run txmilterctl -x <the milter's config> args
  LocalUser()                       a throwaway system user in a group of its own;
                                    ctl(..., user=u) runs txmilterctl as that user
  new_message(to_addr, ...)         a message with a Message-ID of its own: (bytes, mid)
  Load                              threads sending bounded numbers of messages in parallel
  rl_norm(addr)                     the test's own reference normalisation (Gmail rules)
  delivered_rcpts(capture, mids)    {message-id: [envelope recipients]} of what was delivered
"""

import grp
import json
import os
import pwd
import re
import signal
import threading
import time
import uuid

from mailrig.capture import Delivered
from mailrig.message import make_message
from mailrig.milters import SigningSetup, txmilter_binary
from mailrig.smtp import smtp_send
from mailrig.util import RigError, make_dir, make_traversable, run, wait_until


# ---------------------------------------------------------------------------
# binaries

def txmilterctl_binary():
    """txmilterctl_binary - $TXMILTERCTL, or txmilterctl in the directory of $TXMILTER"""
    b = os.environ.get("TXMILTERCTL")
    if b:
        return b
    return os.path.join(os.path.dirname(os.path.abspath(txmilter_binary())), "txmilterctl")


def ctl(milter, *args, timeout=20, user=None):
    """ctl - txmilterctl -x CONF args... (as the LocalUser user, if given):
    (returncode, stdout, stderr)"""
    as_user = ["setpriv", "--reuid=" + user.name, "--regid=" + user.group, "--init-groups",
               "--"] if user else []
    p = run(as_user + [txmilterctl_binary(), "-x", milter.conf_path] + list(args), check=False,
            timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


class LocalUser:
    """A system user of its own group, made for one test (groupadd, useradd) and
    removed with remove(): .name, .group, .uid, .gid."""

    def __init__(self):
        self.name = self.group = "txmt-" + uuid.uuid4().hex[:10]
        run(["groupadd", "--system", self.group])
        try:
            run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", "--gid", self.group, self.name])
        except RigError:
            run(["groupdel", self.group], check=False)
            raise
        self.uid = pwd.getpwnam(self.name).pw_uid
        self.gid = grp.getgrnam(self.group).gr_gid

    def remove(self):
        run(["userdel", self.name], check=False)
        run(["groupdel", self.group], check=False)


def ctl_ok(milter, *args):
    rc, out, err = ctl(milter, *args)
    if rc != 0:
        raise AssertionError("txmilterctl %s exited %d\nstdout: %s\nstderr: %s"
                             % (" ".join(args), rc, out, err))
    return out


def ctl_stats(milter):
    """ctl_stats - `txmilterctl ratelimit stats` as a dict (name -> value text)"""
    out = ctl_ok(milter, "ratelimit", "stats")
    d = {}
    for line in out.splitlines():
        k, sep, v = line.partition(": ")
        if sep:
            d[k.strip()] = v.strip()
    return d


# ---------------------------------------------------------------------------
# txmilter configuration with a rate policy

def rl_setup(keys, workdir, policy, tag=None, store=None, store_failure=None, extra=()):
    """rl_setup - SigningSetup signing for example.com (RSA) with a rate policy.

    policy: the policy file's text, written to <workdir>/ratelimit/<tag>.policy
    (setup.policy_path); the control socket is <workdir>/ratelimit/<tag>.ctl."""
    d = make_dir(os.path.join(workdir, "ratelimit"))
    make_traversable(d)
    tag = tag or uuid.uuid4().hex[:8]
    path = os.path.join(d, "%s.policy" % tag)
    with open(path, "w") as f:
        f.write(policy)
    lines = [("RateLimitPolicy", path), ("ControlSocket", os.path.join(d, "%s.ctl" % tag))]
    if store:
        lines.append(("Store", store))
    if store_failure:
        lines.append(("StoreFailure", store_failure))
    lines += list(extra)
    s = SigningSetup([keys["rsa_com"]], extra=lines)
    s.policy_path = path
    return s


def write_policy(setup, text):
    """write_policy - replace the policy file atomically (as an operator's editor would)"""
    tmp = setup.policy_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, setup.policy_path)


def hup(milter):
    milter.proc.send_signal(signal.SIGHUP)


# ---------------------------------------------------------------------------
# sending

def new_message(to_addr="rcpt@receiver.example", from_addr="app@example.com", tag="rl"):
    mid = "%s-%s@txtest.example" % (tag, uuid.uuid4().hex)
    return make_message(from_addr=from_addr, to_addr=to_addr, message_id=mid,
                                subject="rate limit test %s" % tag)


class Load:
    """Threads each sending up to `per_thread` messages (one recipient each, a unique one
    unless rcpt_fn says otherwise) to the given SMTP ports, until stop() or the bound.

    results: every SmtpResult, in completion order (thread-safe append)."""

    def __init__(self, ports, threads=2, per_thread=200, rcpt_fn=None, pause=0.0, tag="load"):
        self.ports = list(ports)
        self.nthreads = threads
        self.per_thread = per_thread
        self.rcpt_fn = rcpt_fn or (lambda t, i: ["u%d-%d-%s@load.example" % (t, i, self.tag)])
        self.pause = pause
        self.tag = tag + uuid.uuid4().hex[:6]
        self.results = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []

    def _run(self, t):
        port = self.ports[t % len(self.ports)]
        for i in range(self.per_thread):
            if self.stopping.is_set():
                return
            rcpts = self.rcpt_fn(t, i)
            msg, mid = new_message(to_addr=", ".join(rcpts), tag=self.tag)
            r = smtp_send(port, "app@example.com", rcpts, msg, mid)
            r.port = port
            with self.lock:
                self.results.append(r)
            if self.pause:
                time.sleep(self.pause)

    def start(self):
        for t in range(self.nthreads):
            th = threading.Thread(target=self._run, args=(t,), daemon=True)
            th.start()
            self.threads.append(th)
        return self

    def count(self):
        with self.lock:
            return len(self.results)

    def wait_count(self, n, timeout=30):
        wait_until(lambda: self.count() >= n or not self.running(), timeout,
                   what="%d messages sent by the load" % n)

    def running(self):
        return any(t.is_alive() for t in self.threads)

    def stop(self, timeout=60):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout)
        return self.results

    def join(self, timeout=120):
        for t in self.threads:
            t.join(timeout)
        return self.results


# ---------------------------------------------------------------------------
# what was delivered

GMAIL = ("gmail.com", "googlemail.com")


def rl_norm(addr):
    """rl_norm - the test's reference normalisation: what txmilter must count as one
    recipient (case, trailing dot, +tag, Gmail dots, googlemail.com)"""
    a = addr.strip().strip("<>")
    local, _, dom = a.rpartition("@")
    dom = dom.lower().rstrip(".")
    local = local.lower().split("+", 1)[0]
    if dom in GMAIL:
        dom = "gmail.com"
        local = local.replace(".", "")
    return "%s@%s" % (local, dom)


def delivered_rcpts(capture, mids):
    """delivered_rcpts - {message-id: [envelope rcpts of each delivery]} for the given
    Message-IDs (a message delivered twice lists its recipients twice)"""
    want = set(m.strip("<>") for m in mids)
    out = {}
    for p in capture.files():
        with open(p, "rb") as f:
            head = f.read(20000).split(b"\r\n\r\n", 1)[0]
        m = re.search(rb"(?im)^message-id:\s*<([^>]+)>", head)
        if not m:
            continue
        mid = m.group(1).decode(errors="replace")
        if mid in want:
            d = Delivered(p)
            out.setdefault(mid, []).extend(d.meta.get("rcpts", []))
    return out


def count_delivered_to(capture, mids, norm_addr):
    """count_delivered_to - deliveries (among mids) whose envelope names norm_addr"""
    n = 0
    for rcpts in delivered_rcpts(capture, mids).values():
        n += sum(1 for r in rcpts if rl_norm(r) == norm_addr)
    return n


def wait_delivered(capture, mids, n, timeout=30):
    """wait_delivered - wait until n of these messages were delivered (and a little
    more, so that one too many would be seen); return delivered_rcpts()"""
    wait_until(lambda: len(delivered_rcpts(capture, mids)) >= n, timeout,
               what="%d of the test's messages delivered" % n)
    return delivered_rcpts(capture, mids)


def queue_json(postfix):
    """queue_json - postqueue -j of a private instance: list of dicts"""
    p = run(["postqueue", "-c", postfix.confdir, "-j"], check=False)
    return [json.loads(l) for l in p.stdout.decode(errors="replace").splitlines() if l.strip()]


def queue_drop(postfix, queue_id):
    """queue_drop - delete one message from a private instance's queue"""
    run(["postsuper", "-c", postfix.confdir, "-d", queue_id], check=False)

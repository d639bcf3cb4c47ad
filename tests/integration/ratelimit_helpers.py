"""ratelimit_helpers - pieces for the rate-limit integration tests (test_ratelimit.py).

Adds to mailrig.py, changes nothing in it:

  txmilterctl_binary()              $TXMILTERCTL, else txmilterctl next to $TXMILTER
  RedisServer(workdir)              a real redis-server on a free loopback port, no
                                    persistence; .stop() / .start() keep the port;
                                    .cli(...), .commandstats(), .freeze() / .thaw()
                                    (SIGSTOP / SIGCONT), .monitor()
  RedisMonitor                      MONITOR: .count() the commands clients sent since
                                    the last count (not those a script ran)
  rl_setup(keys, workdir, policy, ...)
                                    a SigningSetup (example.com RSA key) whose extra
                                    directives add RateLimitPolicy, ControlSocket, Store...
  ctl(milter, *args)                run txmilterctl -x <the milter's config> args
  LocalUser()                       a throwaway system user in a group of its own;
                                    ctl(..., user=u) runs txmilterctl as that user
  SmtpClient.send(...)              one SMTP transaction with a timestamp for every reply
  Load                              threads sending bounded numbers of messages in parallel
  rl_norm(addr)                     the test's own reference normalisation (Gmail rules)
  delivered_rcpts(capture, mids)    {message-id: [envelope recipients]} of what was delivered
"""

import grp
import os
import pwd
import re
import signal
import smtplib
import subprocess
import threading
import time
import uuid

import mailrig
from mailrig import RigError, SigningSetup, free_port, make_dir, run, tail, wait_until


# ---------------------------------------------------------------------------
# binaries

def txmilterctl_binary():
    """txmilterctl_binary - $TXMILTERCTL, or txmilterctl in the directory of $TXMILTER"""
    b = os.environ.get("TXMILTERCTL")
    if b:
        return b
    return os.path.join(os.path.dirname(os.path.abspath(mailrig.txmilter_binary())), "txmilterctl")


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
# redis-server

class RedisServer:
    """redis-server on 127.0.0.1:port (no RDB/AOF: a restart starts empty, as after a
    crash of a cache-only Redis).  stop() and start() again keep the port."""

    def __init__(self, workdir, name="redis", port=None):
        self.dir = make_dir(os.path.join(workdir, name))
        self.port = port or free_port()
        self.logfile = os.path.join(self.dir, "redis.log")
        self.proc = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self, timeout=10):
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--dir", self.dir, "--protected-mode", "yes", "--loglevel", "notice"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise RigError("redis-server exited %s:\n%s" % (self.proc.returncode,
                                                               tail(self.logfile)))
            p = subprocess.run(["redis-cli", "-p", str(self.port), "PING"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=5)
            return p.stdout.strip() == b"PONG"
        wait_until(ready, timeout, what="redis-server on port %d" % self.port)
        return self

    def stop(self):
        """stop - SIGTERM and wait: the port is closed when this returns"""
        mailrig.stop_process(self.proc)
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cli(self, *args):
        p = run(["redis-cli", "-p", str(self.port)] + [str(a) for a in args], timeout=10)
        return p.stdout.decode(errors="replace")

    def freeze(self):
        """freeze - SIGSTOP: connections hang, nothing answers (a stuck or paused Redis)"""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)

    def monitor(self):
        return RedisMonitor(self)

    def commandstats(self):
        """commandstats - {command: calls} from INFO commandstats"""
        out = {}
        for line in self.cli("INFO", "commandstats").splitlines():
            m = re.match(r"cmdstat_([a-z|_]+):calls=(\d+)", line)
            if m:
                out[m.group(1)] = int(m.group(2))
        return out


class RedisMonitor:
    """RedisMonitor - a MONITOR connection.  count() sends a marker on another
    connection and reads the feed up to it, so it waits for nothing but Redis."""

    def __init__(self, server):
        import socket
        self.server = server
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.buf = b""
        self.sock.sendall(b"MONITOR\r\n")
        assert self._line() == b"+OK"
        self.count()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RigError("MONITOR connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def count(self, lines=None):
        """count - client commands since the last count; their lines into lines"""
        mark = "txm-mark-" + uuid.uuid4().hex
        self.server.cli("ECHO", mark)
        n = 0
        while True:
            line = self._line().decode(errors="replace")
            if mark in line:
                return n
            if " lua]" not in line:
                n += 1
                if lines is not None:
                    lines.append(line)

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------------------
# txmilter configuration with a rate policy

def rl_setup(keys, workdir, policy, tag=None, store=None, store_failure=None, extra=()):
    """rl_setup - SigningSetup signing for example.com (RSA) with a rate policy.

    policy: the policy file's text, written to <workdir>/ratelimit/<tag>.policy
    (setup.policy_path); the control socket is <workdir>/ratelimit/<tag>.ctl."""
    d = make_dir(os.path.join(workdir, "ratelimit"))
    mailrig.make_traversable(d)
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
    return mailrig.make_message(from_addr=from_addr, to_addr=to_addr, message_id=mid,
                                subject="rate limit test %s" % tag)


class Sent:
    """One SMTP transaction: every reply with the time it arrived (time.time())."""

    def __init__(self, mid):
        self.mid = mid
        self.mail = None
        self.rcpts = []                   # [(address, code, text, t_sent, t_reply)]
        self.data = None                  # (code, text) or None
        self.error = None
        self.t_start = time.time()

    def rcpt(self, addr):
        for a, code, text, _, _ in self.rcpts:
            if a == addr:
                return code, text
        return None

    @property
    def accepted_rcpts(self):
        return [a for a, code, _, _, _ in self.rcpts if code in (250, 251)]

    @property
    def delivered_expected(self):
        """the server took responsibility (250 to DATA)"""
        return self.data is not None and self.data[0] == 250

    def __repr__(self):
        return "<Sent %s mail=%r rcpts=%r data=%r error=%r>" % (
            self.mid, self.mail, [(a, c, t) for a, c, t, _, _ in self.rcpts], self.data,
            self.error)


def smtp_send(port, mail_from, rcpts, msg, mid, rset_after_rcpt=False, host="127.0.0.1",
              timeout=60):
    """smtp_send - one transaction; returns Sent.  With rset_after_rcpt the client sends
    RSET instead of DATA (an aborted transaction)."""
    r = Sent(mid)
    try:
        s = smtplib.SMTP(host, port, timeout=timeout)
        try:
            s.ehlo("client.txtest.example")
            code, text = s.mail(mail_from)
            r.mail = (code, text.decode(errors="replace"))
            if code != 250:
                return r
            for a in rcpts:
                t0 = time.time()
                code, text = s.rcpt(a)
                r.rcpts.append((a, code, text.decode(errors="replace"), t0, time.time()))
            if rset_after_rcpt:
                s.rset()
                return r
            if not r.accepted_rcpts:
                return r
            try:
                code, text = s.data(msg)
            except smtplib.SMTPDataError as e:
                code, text = e.smtp_code, e.smtp_error
            r.data = (code, text.decode(errors="replace") if isinstance(text, bytes) else text)
        finally:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                s.close()
    except (smtplib.SMTPException, OSError) as e:
        r.error = "%s: %s" % (type(e).__name__, e)
    return r


class Load:
    """Threads each sending up to `per_thread` messages (one recipient each, a unique one
    unless rcpt_fn says otherwise) to the given SMTP ports, until stop() or the bound.

    results: every Sent, in completion order (thread-safe append)."""

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
            d = mailrig.Delivered(p)
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
    import json
    p = run(["postqueue", "-c", postfix.confdir, "-j"], check=False)
    return [json.loads(l) for l in p.stdout.decode(errors="replace").splitlines() if l.strip()]


def queue_drop(postfix, queue_id):
    """queue_drop - delete one message from a private instance's queue"""
    run(["postsuper", "-c", postfix.confdir, "-d", queue_id], check=False)

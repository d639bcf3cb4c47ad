# SPDX-License-Identifier: BSD-2-Clause
"""The daemon as an operator runs it: reload signals, draining on SIGTERM, UserID,
PidFile, and listed MTA daemon names (issue 2, "The daemon" and "What is outbound").

Every test drives the real txmilter binary behind a real Postfix and checks delivered
mail with both verifiers.  All of these assert txmilter behaviour (OpenDKIM has other
signals and messages), so they are marked txmilter_only.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from mailrig.util import connectable, free_port, RigError, run, stop_process, tail, wait_until
from mailrig.keys import KeyPair
from mailrig.message import make_message
from mailrig.milters import setup_for, SigningSetup, TxMilter
from mailrig.verify import check_signed

pytestmark = pytest.mark.txmilter_only

RSA = [("example.com", "rsa-sha256")]
TEST_USER = "txmilter-it"


# --- helpers -------------------------------------------------------------------

@pytest.fixture(scope="module")
def rsa2(workdir, keys, dns):
    """a second RSA key for example.com (selector rsa2), published in the test DNS"""
    kd = os.path.dirname(keys["rsa_com"].path)
    k = KeyPair.rsa(kd, "example.com", "rsa2")
    if dns.txt(k.dns_name) is None:
        dns.add_key(k)
        dns.restart()
    assert dns.txt(k.dns_name) == k.dns_txt.encode()
    return k


def send_signed(rig, selector, postfix=None, expect=RSA, **kw):
    """send a message through Postfix; it must arrive signed with selector and verify"""
    pf = postfix or rig.postfix
    msg, mid = make_message(**kw)
    r = pf.submit("sender@example.com", ["rcpt@receiver.example"], msg)
    assert r.accepted, "not accepted: %r\n%s" % (r, pf.log_for(mid))
    d = rig.capture.wait_for(mid)
    sigs = d.msg.dkim_signatures()
    assert sigs, "delivered unsigned:\n%s" % d.raw[:1500].decode(errors="replace")
    assert [s["s"] for s in sigs] == [selector], \
        "expected exactly one signature with s=%s, got %s" % (
            selector, [(s["d"], s["s"]) for s in sigs])
    check_signed(d.raw, rig.dns.port, expect)
    return d


def rewrite_tables(milter, key):
    """point the milter's KeyTable/SigningTable (same paths) at key alone"""
    SigningSetup([key]).table_lines(milter.dir)


def signal_and_wait(milter, sig, pattern, timeout=10):
    """send sig; wait for a new log line matching pattern; return its match"""
    before = len(re.findall(pattern, milter.log_text(True), re.I | re.M))
    os.kill(milter.proc.pid, sig)
    rx = re.compile(pattern, re.I | re.M)
    wait_until(lambda: len(rx.findall(milter.log_text(True))) > before, timeout,
               what="log line /%s/ after signal %d" % (pattern, sig))
    return rx.findall(milter.log_text(True))[-1]


def wait_pidfile(path, timeout=10, what="PidFile"):
    """wait until path holds a whole line; the pid in it"""
    wait_until(lambda: os.path.exists(path) and open(path).read().endswith("\n"), timeout,
               what=what)
    with open(path) as f:
        return int(f.read())


def started_lines(milter):
    return re.findall(r"txmilter \S+ started on .* \(pid (\d+)\)", milter.log_text(True))


class SmtpConn:
    """A bare SMTP session, so the test decides when each byte is sent."""

    def __init__(self, port, host="127.0.0.1", timeout=30):
        self.s = socket.create_connection((host, port), timeout)
        self.f = self.s.makefile("rb")
        self.banner = self.reply()

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                break
            lines.append(line.decode(errors="replace").rstrip("\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                break
        return "\n".join(lines)

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.reply()

    def send(self, data):
        self.s.sendall(data)

    def close(self):
        try:
            self.f.close()
            self.s.close()
        except OSError:
            pass


# --- 1, 2: reload -------------------------------------------------------------------

def test_sighup_reload_applies_a_new_selector_without_restart(rig, rsa2):
    m = rig.start_milter(setup_for(rig.keys, "rsa"))
    pid = m.proc.pid
    send_signed(rig, "rsa1", subject="before reload")

    rewrite_tables(m, rsa2)
    signal_and_wait(m, signal.SIGHUP, r"configuration reloaded from .* \(generation \d+\)")
    send_signed(rig, "rsa2", subject="after reload")

    assert m.alive() and m.proc.pid == pid
    assert started_lines(m) == [str(pid)], "the daemon restarted instead of reloading"
    with open(m.pidfile) as f:
        assert int(f.read()) == pid


def test_sighup_with_a_broken_configuration_keeps_the_old_one(rig, rsa2):
    m = rig.start_milter(setup_for(rig.keys, "rsa"))
    pid = m.proc.pid
    with open(m.conf_path) as f:
        good = f.read()
    # a valid new selector and an unknown directive: nothing of the new file may apply
    rewrite_tables(m, rsa2)
    with open(m.conf_path, "a") as f:
        f.write("NoSuchDirective yes\n")
    bad_line = good.count("\n") + 1
    where = re.escape("%s:%d:" % (m.conf_path, bad_line))

    for sig in (signal.SIGHUP, signal.SIGUSR1):
        signal_and_wait(m, sig, where + r".*unknown directive.*NoSuchDirective")
        text = m.log_text(True)
        assert re.search(r"reload of %s failed; the previous configuration stays in force"
                         % re.escape(m.conf_path), text), text[-2000:]
        assert "configuration reloaded" not in text
        send_signed(rig, "rsa1", subject="broken reload, %s" % sig.name)
        assert m.alive() and m.proc.pid == pid

    # SIGUSR1 reloads like SIGHUP once the file is fixed
    with open(m.conf_path, "w") as f:
        f.write(good)
    signal_and_wait(m, signal.SIGUSR1, r"configuration reloaded from")
    send_signed(rig, "rsa2", subject="fixed, SIGUSR1")
    assert m.alive() and m.proc.pid == pid and started_lines(m) == [str(pid)]


# --- 3: SIGTERM drains ---------------------------------------------------------------

def test_sigterm_lets_a_message_in_flight_finish(rig):
    m = rig.start_milter(setup_for(rig.keys, "rsa", extra=[("ShutdownTimeout", "30")]))
    pf = rig.postfix
    msg, mid = make_message(subject="in flight during SIGTERM",
                            body=b"line of the body\r\n" * 200)
    head, body = msg.split(b"\r\n\r\n", 1)

    slow = SmtpConn(pf.smtpd_port)
    other = None
    try:
        assert slow.banner.startswith("220"), slow.banner
        assert slow.cmd("EHLO slow.txtest.example").startswith("250")
        assert slow.cmd("MAIL FROM:<sender@example.com>").startswith("250")
        assert slow.cmd("RCPT TO:<rcpt@receiver.example>").startswith("250")
        assert slow.cmd("DATA").startswith("354")
        slow.send(head + b"\r\n\r\n")

        t_term = time.monotonic()
        m.expect_exit = True
        os.kill(m.proc.pid, signal.SIGTERM)
        m.wait_log(r"shutting down: 1 message\(s\) in flight")

        # a new transaction during the drain is told to come back later
        other = SmtpConn(pf.smtpd_port)
        assert other.banner.startswith("220"), other.banner
        assert other.cmd("EHLO other.txtest.example").startswith("250")
        rep = other.cmd("MAIL FROM:<sender@example.com>")
        assert re.match(r"421[ -]4\.3\.2 ", rep), \
            "MAIL FROM during the drain: %r (expected 421 4.3.2)" % rep
        assert other.f.read() == b"", "Postfix should close the session after 421"

        time.sleep(1.0)                   # the slow client takes its time
        assert m.alive(), "exited with a message in flight:\n" + m.log_text(True)[-2000:]
        slow.send(body + b".\r\n")
        rep = slow.reply()
        assert rep.startswith("250"), "in-flight message not accepted: %r" % rep
        slow.cmd("QUIT")
    finally:
        slow.close()
        if other:
            other.close()

    d = rig.capture.wait_for(mid)
    sigs = d.msg.dkim_signatures()
    assert [s["s"] for s in sigs] == ["rsa1"], sigs
    check_signed(d.raw, rig.dns.port, RSA)

    # then it stops by itself, well before ShutdownTimeout, status 0, PidFile removed
    try:
        rc = m.proc.wait(20)
    except subprocess.TimeoutExpired:
        pytest.fail("still running 20 s after the last message finished:\n"
                    + m.log_text(True)[-2000:])
    assert rc == 0, m.log_text(True)[-2000:]
    assert time.monotonic() - t_term < 28, "it waited for ShutdownTimeout"
    assert not os.path.exists(m.pidfile), "PidFile left behind"
    assert re.search(r"\bstopped\b", m.log_text(True))
    assert not re.search(r"still in flight", m.log_text(True))


# --- 4: UserID ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def test_user():
    """an unprivileged system user; removed afterwards only if this module created it"""
    created = False
    try:
        pw = pwd.getpwnam(TEST_USER)
    except KeyError:
        run(["useradd", "-r", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin",
                     TEST_USER])
        created = True
        pw = pwd.getpwnam(TEST_USER)
    yield pw
    if created:
        for _ in range(100):              # userdel refuses while a process runs as the user
            p = run(["userdel", TEST_USER], check=False)
            if p.returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RigError("userdel %s: %s" % (TEST_USER, p.stderr.decode()))


def handles_sigterm(pid):
    """has the main thread of pid a SIGTERM handler and SIGTERM unblocked?"""
    st = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            st[k] = v.strip()
    bit = 1 << (signal.SIGTERM - 1)
    return bool(int(st["SigCgt"], 16) & bit) and not int(st["SigBlk"], 16) & bit


def proc_ids(pid):
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid"):
                ids[k] = [int(x) for x in v.split()]
            if k == "Groups":
                ids[k] = [int(x) for x in v.split()]
    return ids


def test_userid_drops_privileges(rig, test_user):
    key = rig.keys["rsa_com"]
    st = os.stat(key.path)
    assert st.st_uid == 0 and st.st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(key.path)).st_mode & 0o777 == 0o700
    m = rig.start_milter(setup_for(rig.keys, "rsa", extra=[("UserID", TEST_USER)]))
    try:
        ids = proc_ids(m.proc.pid)
        uid, gid = test_user.pw_uid, test_user.pw_gid
        assert ids["Uid"] == [uid] * 4, ids
        assert ids["Gid"] == [gid] * 4, ids
        assert 0 not in ids["Groups"], ids
        # every thread, not just the main one
        for tid in os.listdir("/proc/%d/task" % m.proc.pid):
            assert proc_ids(int(tid))["Uid"] == [uid] * 4

        sst = os.stat(m.sock_path)
        assert (sst.st_uid, sst.st_gid) == (uid, gid), "socket not given to %s" % TEST_USER
        with open(m.pidfile) as f:
            assert int(f.read()) == m.proc.pid

        # the root-only key was read before the drop ...
        send_signed(rig, "rsa1", subject="as %s" % TEST_USER)
        # ... and the operator was told a reload could not read it again
        m.wait_log(r"%s is owned by uid 0, not by UserID %s: .*reload.* will not be able"
                   r" to read it" % (re.escape(key.path), TEST_USER))
        # which is what happens: the reload fails, the old configuration stays
        signal_and_wait(m, signal.SIGHUP, r"reload of .* failed; the previous "
                                          r"configuration stays in force")
        m.wait_log(r"%s: cannot open key: Permission denied" % re.escape(key.path))
        send_signed(rig, "rsa1", subject="after a failed reload as %s" % TEST_USER)
        assert m.alive()
    finally:
        m.expect_exit = True
        m.stop()                           # before the user is removed
    assert m.returncode() == 0, m.log_text(True)[-2000:]


# --- 5: PidFile -------------------------------------------------------------------

def test_pidfile_written_and_removed(rig, workdir):
    # foreground
    m = rig.start_milter(setup_for(rig.keys, "rsa"))
    # the socket is open before the PidFile is written
    wait_until(lambda: os.path.exists(m.pidfile) and open(m.pidfile).read().endswith("\n"),
               10, what="PidFile")
    with open(m.pidfile) as f:
        assert f.read() == "%d\n" % m.proc.pid
    wait_until(lambda: handles_sigterm(m.proc.pid), 10, what="daemon to handle SIGTERM")
    m.expect_exit = True
    m.proc.send_signal(signal.SIGTERM)
    assert m.proc.wait(20) == 0
    assert not os.path.exists(m.pidfile)
    # nothing was in flight: no talk of waiting for it
    log = m.log_text(True)
    assert "shutting down: no message in flight" in log and "waiting up to" not in log, log[-2000:]

    # detached (no -f): the PidFile names the daemon, not the process we started
    tm = TxMilter(workdir, setup_for(rig.keys, "rsa"), name="milter-detached",
                          tag="detached")
    if os.path.exists(tm.pidfile):
        os.unlink(tm.pidfile)
    p = subprocess.Popen([tm.binary, "-x", tm.conf_path], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.communicate(timeout=20)[0]
    assert p.returncode == 0, out
    pid = None
    try:
        wait_until(lambda: os.path.exists(tm.pidfile) and open(tm.pidfile).read().endswith("\n"),
                   10, what="PidFile of the detached daemon")
        with open(tm.pidfile) as f:
            pid = int(f.read())
        assert pid != p.pid
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            assert f.read().split(b"\0")[0] == tm.binary.encode()
        wait_until(lambda: connectable(tm.spec), 10, what="detached daemon's socket")
        # (a SIGTERM sent before the daemon handles it is another test's subject)
        wait_until(lambda: handles_sigterm(pid), 10, what="daemon to handle SIGTERM")
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), 20,
                   what="detached daemon to exit")
        assert not os.path.exists(tm.pidfile)
        pid = None
    finally:
        if pid and os.path.exists("/proc/%d" % pid):
            os.kill(pid, signal.SIGKILL)


def test_startup_error_reaches_stderr_with_syslog_on_and_no_terminal(rig, workdir):
    # as under systemd: Syslog yes, stderr a pipe; the socket's directory is missing
    tm = TxMilter(workdir, setup_for(rig.keys, "rsa"), name="milter-nosockdir", tag="nosockdir")
    missing = os.path.join(tm.dir, "no-such-dir")
    with open(tm.conf_path) as f:
        conf = f.read()
    conf = re.sub(r"(?m)^Socket .*$", "Socket unix:%s/m.sock" % missing, conf)
    conf = re.sub(r"(?m)^Syslog no$", "Syslog yes", conf)
    with open(tm.conf_path, "w") as f:
        f.write(conf)
    p = subprocess.run([tm.binary, "-f", "-x", tm.conf_path], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 1, err
    assert ("cannot open milter socket unix:%s/m.sock: directory %s: No such file or directory"
            % (missing, missing)) in err, err


# --- 6: MTA daemon names ------------------------------------------------------------

def test_listed_mta_daemon_name_is_outbound(rig, make_postfix):
    m = rig.start_milter(setup_for(rig.keys, "rsa", internal="192.0.2.0/24",
                                   extra=[("MTA", "ORIGINATING")]))
    pf = make_postfix(m.postfix_spec, name="postfix-mta")
    port2 = free_port()
    with open(os.path.join(pf.confdir, "master.cf"), "a") as f:
        f.write("127.0.0.1:%d inet n - n - - smtpd\n"
                "  -o milter_macro_daemon_name=ORIGINATING\n" % port2)
    pf.reload()

    def ready():
        try:
            c = SmtpConn(port2, timeout=2)
            c.cmd("QUIT")
            c.close()
            return c.banner.startswith("220")
        except OSError:
            return False
    wait_until(ready, 20, what="second smtpd listener on port %d" % port2)

    tag = os.urandom(4).hex()

    # through the ORIGINATING listener: signed
    env1 = "orig-%s@example.com" % tag
    msg, mid = make_message(subject="via ORIGINATING")
    r = pf.submit(env1, ["rcpt@receiver.example"], msg, port=port2)
    assert r.accepted, r
    d = rig.capture.wait_for(mid)
    assert [s["s"] for s in d.msg.dkim_signatures()] == ["rsa1"]
    check_signed(d.raw, rig.dns.port, RSA)
    qid = pf.queue_id_of(mid)
    m.wait_log(r"%s: from=<%s> outbound \(daemon ORIGINATING is listed in MTA\).*"
               r"action=signed" % (re.escape(qid), re.escape(env1)))

    # the normal listener, same client address: passed untouched.  (The decision is
    # taken at MAIL FROM, before Postfix has a queue id: the line says NOQUEUE.)
    env2 = "plain-%s@example.com" % tag
    msg, mid = make_message(subject="via the normal listener")
    r = pf.submit(env2, ["rcpt@receiver.example"], msg)
    assert r.accepted, r
    d = rig.capture.wait_for(mid)
    assert d.msg.fields("DKIM-Signature") == []
    m.wait_log(r"from=<%s> not outbound \(client \S+ \[127\.0\.0\.1\] is not in "
               r"InternalHosts.*daemon is not listed in MTA\): passed untouched"
               % re.escape(env2))
    assert not re.search(r"from=<%s> outbound" % re.escape(env2), m.log_text(True))


@pytest.mark.parametrize("window", ["before-handlers", "while-starting-libmilter"])
def test_sigterm_right_after_the_pidfile_appears(rig, workdir, window):
    """Once the PidFile exists (for a detached daemon: once the command returned), an
    init script or systemd may send SIGTERM at any moment; it must get the same orderly
    stop as later: exit 0, PidFile removed.

    strace widens two windows of daemon_run() deterministically: a delay before the
    signal handlers are installed (injected into the pipe2() just before them; the
    handlers now come before the PidFile, so the signal always finds them), and a delay
    right after libmilter's thread is created (injected after that clone3()). While
    strace holds the main thread stopped, the kernel hands the signal to libmilter's
    signal thread instead; txmilter must still stop in order."""
    if not shutil.which("strace"):
        pytest.skip("strace is not installed")
    inject = {"before-handlers": "pipe2:delay_enter=1000000",
              "while-starting-libmilter": "clone3:delay_exit=1000000"}[window]
    tm = TxMilter(workdir, setup_for(rig.keys, "rsa"), name="milter-early",
                          tag="early-" + window)
    for f in (tm.pidfile, tm.sock_path):
        if os.path.exists(f):
            os.unlink(f)
    log = open(tm.logfile, "wb")
    # strace without -f follows only the main thread; its exit status is the daemon's
    p = subprocess.Popen(["strace", "-qq", "-o", "/dev/null", "-e",
                          "trace=" + inject.split(":")[0],
                          "-e", "inject=" + inject, tm.binary, "-f", "-x", tm.conf_path],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        wait_until(lambda: os.path.exists(tm.pidfile) and open(tm.pidfile).read().endswith("\n"),
                   10, what="PidFile")
        with open(tm.pidfile) as f:
            pid = int(f.read())
        if window == "while-starting-libmilter":
            # libmilter's own threads exist: the milter thread and its signal thread
            wait_until(lambda: len(os.listdir("/proc/%d/task" % pid)) >= 3, 5,
                       what="libmilter's threads")
        os.kill(pid, signal.SIGTERM)
        rc = p.wait(20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    text = tail(tm.logfile, 3000)
    assert rc == 0, "SIGTERM right after start: exit status %s, log:\n%s" % (rc, text)
    assert not os.path.exists(tm.pidfile), "PidFile left behind; log:\n" + text


# --- 7: reloads that would wedge or disarm the daemon (issue 10) -----------------------

def write_keytable(milter, key, path):
    """the milter's KeyTable, with key's entry pointing at path"""
    with open(os.path.join(milter.dir, "KeyTable"), "w") as f:
        f.write("%s %s:%s:%s\n" % (key.name, key.domain, key.selector, path))


def test_sighup_with_a_fifo_key_fails_quickly_and_the_daemon_stays_in_control(rig):
    m = rig.start_milter(setup_for(rig.keys, "rsa", extra=[("ShutdownTimeout", "5")]))
    key = rig.keys["rsa_com"]
    fifo = os.path.join(m.dir, "key.fifo")
    os.mkfifo(fifo, 0o600)
    kt = os.path.join(m.dir, "KeyTable")

    write_keytable(m, key, fifo)
    signal_and_wait(m, signal.SIGHUP, r"reload of .* failed; the previous configuration "
                                      r"stays in force")
    m.wait_log(r"error: %s:1: KeyTable key file %s: not a regular file"
               % (re.escape(kt), re.escape(fifo)))
    send_signed(rig, "rsa1", subject="after a reload with a FIFO key")

    # the next SIGHUP, with the file fixed, is not ignored
    write_keytable(m, key, key.path)
    signal_and_wait(m, signal.SIGHUP, r"configuration reloaded from")
    send_signed(rig, "rsa1", subject="after the fixed reload")

    # and SIGTERM still stops it, well within ShutdownTimeout
    m.expect_exit = True
    os.kill(m.proc.pid, signal.SIGTERM)
    try:
        rc = m.proc.wait(20)
    except subprocess.TimeoutExpired:
        pytest.fail("SIGTERM did not stop the daemon:\n" + m.log_text(True)[-2000:])
    assert rc == 0, m.log_text(True)[-2000:]


def process_ended(pid):
    """has pid exited (gone, or a zombie not yet reaped)?"""
    try:
        with open("/proc/%d/status" % pid) as f:
            return re.search(r"^State:\s+Z", f.read(), re.M) is not None
    except FileNotFoundError:
        return True


def test_sigterm_stops_the_daemon_while_a_reload_is_stuck(rig, workdir):
    """Whatever a reload waits for (here: strace holds its open() of a new KeyTable for
    two minutes), SIGTERM still stops the daemon and later SIGHUPs are not silently
    lost."""
    if not shutil.which("strace"):
        pytest.skip("strace is not installed")
    tm = TxMilter(workdir, setup_for(rig.keys, "rsa", extra=[("ShutdownTimeout", "5")]),
                          name="milter-stuck", tag="stuck")
    for f in (tm.pidfile, tm.sock_path):
        if os.path.exists(f):
            os.unlink(f)
    kt = os.path.join(tm.dir, "KeyTable")
    held = kt + ".new"
    shutil.copy(kt, held)
    log = open(tm.logfile, "wb")
    # -P: only opens of the new KeyTable, which only a reload reads, are held
    p = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-P", held,
                          "-e", "trace=openat", "-e", "inject=openat:delay_enter=120000000",
                          tm.binary, "-f", "-x", tm.conf_path],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    pid = None
    try:
        pid = wait_pidfile(tm.pidfile, 20)
        wait_until(lambda: "started on" in tail(tm.logfile), 20, what="start")
        with open(tm.conf_path) as f:
            conf = f.read()
        with open(tm.conf_path, "w") as f:
            f.write(conf.replace("KeyTable %s\n" % kt, "KeyTable %s\n" % held))
        os.kill(pid, signal.SIGHUP)
        time.sleep(0.5)
        os.kill(pid, signal.SIGHUP)
        wait_until(lambda: "has not finished" in tail(tm.logfile), 10,
                   what="the second SIGHUP to be reported while the first reload is stuck")
        os.kill(pid, signal.SIGTERM)
        # gone, or a zombie (strace, its parent, may not reap it while it unwinds
        # the held call: the daemon's own exit is what counts)
        try:
            wait_until(lambda: process_ended(pid), 40, what="the daemon to exit")
        except RigError:
            pytest.fail("SIGTERM did not stop the daemon during a stuck reload:\n"
                        + tail(tm.logfile, 3000))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if pid and not process_ended(pid):   # detached from strace, still running
            os.kill(pid, signal.SIGKILL)
    text = tail(tm.logfile, 3000)
    assert re.search(r"\bstopped\b", text), text
    assert re.search(r"shutting down while a reload .* has not finished", text), text
    assert not os.path.exists(tm.pidfile), text


def cut_before(path, name):
    """cut path short just before the line that sets name"""
    with open(path) as f:
        lines = f.readlines()
    cut = [i for i, l in enumerate(lines) if l.split(None, 1)[:1] == [name]]
    assert cut, "%s sets no %s" % (path, name)
    with open(path, "w") as f:
        f.writelines(lines[:cut[0]])


def test_sighup_with_an_empty_or_truncated_configuration_keeps_signing(rig):
    m = rig.start_milter(setup_for(rig.keys, "rsa"))
    pid = m.proc.pid
    with open(m.conf_path) as f:
        good = f.read()
    for how in ("empty", "cut before KeyTable"):
        if how == "empty":
            open(m.conf_path, "w").close()
        else:
            with open(m.conf_path, "w") as f:
                f.write(good)
            cut_before(m.conf_path, "KeyTable")
        signal_and_wait(m, signal.SIGHUP, r"reload of .* failed; the previous configuration "
                                          r"stays in force")
        m.wait_log(r"error: %s: no signing key configured .*Signing no" % re.escape(m.conf_path))
        assert "configuration reloaded" not in m.log_text(True), how
        send_signed(rig, "rsa1", subject="after a reload with a configuration %s" % how)
        assert m.alive() and m.proc.pid == pid
    with open(m.conf_path, "w") as f:
        f.write(good)
    signal_and_wait(m, signal.SIGHUP, r"configuration reloaded from")


def test_reload_that_turns_protections_off_logs_an_error(rig, workdir):
    from ratelimit_helpers import rl_setup
    from unsub_helpers import unsub_setup
    us = unsub_setup(rig.keys, workdir)
    setup = rl_setup(rig.keys, workdir, "rcpt-burst rcpt 100/1m tempfail\n",
                     extra=us.extra + [("EgressAddress", "192.0.2.25")])
    m = rig.start_milter(setup)
    with open(m.conf_path) as f:
        lines = f.readlines()
    off = re.compile(r"(RateLimitPolicy|Unsubscribe\w*|EgressAddress)\s")
    with open(m.conf_path, "w") as f:
        f.writelines(l for l in lines if not off.match(l))
    line = signal_and_wait(m, signal.SIGHUP, r"^.*error: reload of .* turns off .*$")
    for what in ("rate limiting", "List-Unsubscribe", "alignment preflight"):
        assert what in line, line
    m.wait_log(r"configuration reloaded from")
    send_signed(rig, "rsa1", subject="after a reload that turned protections off")

    # a reload that keeps them off says nothing more
    before = len(re.findall(r"turns off", m.log_text(True)))
    signal_and_wait(m, signal.SIGHUP, r"configuration reloaded from .* \(generation 3\)")
    assert len(re.findall(r"turns off", m.log_text(True))) == before


def test_store_value_in_any_case_starts_with_unsubscribe(rig, workdir):
    from unsub_helpers import unsub_setup
    setup = unsub_setup(rig.keys, workdir, extra=[("Store", "Embedded")])
    m = rig.start_milter(setup)
    assert m.alive()
    rc, err = m.check_config()
    assert rc == 0, err


def test_txmilter_and_unsubd_on_one_configuration_keep_their_own_pid_files(rig, workdir):
    from unsub_helpers import unsub_setup, unsubd_binary
    us = unsub_setup(rig.keys, workdir)
    upid = os.path.join(us.unsub.dir, "unsubd.pid")
    us.extra.append(("UnsubscribePidFile", upid))
    m = rig.start_milter(us)
    assert wait_pidfile(m.pidfile) == m.proc.pid
    log = open(os.path.join(us.unsub.dir, "unsubd.log"), "ab")
    u = subprocess.Popen([unsubd_binary(), "-f", "-x", m.conf_path], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        assert wait_pidfile(upid, what="UnsubscribePidFile") == u.pid
        with open(m.pidfile) as f:
            assert int(f.read()) == m.proc.pid, "txmilter-unsubd wrote txmilter's PidFile"
    finally:
        stop_process(u)
    assert u.returncode == 0
    assert not os.path.exists(upid)
    with open(m.pidfile) as f:
        assert int(f.read()) == m.proc.pid, "txmilter-unsubd removed txmilter's PidFile"

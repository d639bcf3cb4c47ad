# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.util - the small helpers every piece of the rig uses.

  RigError                          what every piece raises, with the relevant log excerpt
  HERE, REPO, PYTHON                tests/integration, the repository, Debian's python3
  free_port(host)                   a port free for TCP and UDP on host right now
  wait_until(pred, timeout, ...)    poll until pred() is true (bounded; RigError on timeout)
  run(cmd, ...)                     a command with its output captured; RigError on failure
  tail(path, nbytes)                the end of a log file, for error messages
  stop_process(proc, timeout)       SIGTERM a Popen, SIGKILL it after timeout
  make_dir(path, mode), make_traversable(path), point_link(link, target)
  connectable(spec)                 does a milter socket (libmilter syntax) accept now?
  pid_alive(pid), atomic_write(path, data, mode)
  Cleanup                           a stack of stop() calls for scripts without fixtures
"""

import errno
import os
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # tests/integration
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"         # Debian's python3, which has dkim and dns modules


class RigError(Exception):
    pass


def free_port(host="127.0.0.1"):
    """free_port - a port that is free for TCP and UDP on host right now"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as u:
                u.bind((host, port))
        except OSError:
            continue
        return port
    raise RigError("no free port on %s" % host)


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """wait_until - poll pred() until it returns a true value; raise RigError on timeout"""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise RigError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def run(cmd, check=True, input=None, timeout=120, env=None):
    """run - run a command, capturing output; raise RigError with its output on failure"""
    p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env)
    if check and p.returncode != 0:
        raise RigError("%s exited %d\nstdout: %s\nstderr: %s" % (
            " ".join(cmd), p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace")))
    return p


def tail(path, nbytes=6000):
    """tail - the last nbytes of a file as text (or why it could not be read)"""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - nbytes))
            return f.read().decode(errors="replace")
    except OSError as e:
        return "(%s: %s)" % (path, e)


def stop_process(proc, timeout=15):
    """stop_process - SIGTERM a Popen we started, SIGKILL it after timeout"""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def make_dir(path, mode=0o755):
    """make_dir - create path (and parents) if missing, set its mode; return it"""
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    return path


def make_traversable(path):
    """make_traversable - let the postfix user reach path (o+x on each parent)"""
    p = os.path.abspath(path)
    while p not in ("/", ""):
        st = os.stat(p)
        if not st.st_mode & 0o001:
            os.chmod(p, st.st_mode | 0o011)
        p = os.path.dirname(p)


def point_link(link, target):
    """point_link - make the symlink link lead to target (relative when in the same
    directory); replaced atomically, so a client never finds it missing"""
    tmp = link + ".new"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(os.path.basename(target) if os.path.dirname(link) == os.path.dirname(target)
               else target, tmp)
    os.rename(tmp, link)


def connectable(spec, timeout=0.5):
    """connectable - does a milter socket (libmilter syntax) accept a connection now?"""
    kind, _, rest = spec.partition(":")
    try:
        if kind in ("unix", "local"):
            if not os.path.exists(rest):
                return False
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            addr = rest
        else:
            port, _, host = rest.partition("@")
            host = host.strip("[]") or ("::1" if kind == "inet6" else "127.0.0.1")
            s = socket.socket(socket.AF_INET6 if kind == "inet6" else socket.AF_INET,
                              socket.SOCK_STREAM)
            addr = (host, int(port))
        s.settimeout(timeout)
        try:
            s.connect(addr)
        finally:
            s.close()
        return True
    except OSError:
        return False


def pid_alive(pid):
    """pid_alive - does process pid exist (ours or not)?"""
    try:
        os.kill(pid, 0)
        return True
    except OSError as e:
        return e.errno == errno.EPERM


def atomic_write(path, data, mode):
    """atomic_write - replace path by data (mode, default 0644) with one rename"""
    tmp = path + ".txtests-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode if mode is not None else 0o644)
    os.rename(tmp, path)


class Cleanup:
    """A stack of stop() calls run in reverse order, even when one of them fails."""

    def __init__(self):
        self.stack = []

    def push(self, fn):
        self.stack.append(fn)
        return fn

    def run(self):
        errors = []
        while self.stack:
            fn = self.stack.pop()
            try:
                fn()
            except Exception as e:              # noqa: BLE001 - keep cleaning up
                errors.append(e)
        if errors:
            raise errors[0]

# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.redisserver - the one Redis launcher of the tests (Python and C).

  RedisServer(workdir, name, port, password, unixsocket, sentinel_of)
                                    redis-server on 127.0.0.1:PORT in <workdir>/<name>,
                                    no persistence (a restart starts empty, as after a
                                    crash of a cache-only Redis); with sentinel_of=PORT a
                                    redis-sentinel monitoring 127.0.0.1:PORT as "mymaster".
                                    .start() waits until it (INFO's process_id, not
                                    whoever took the port meanwhile) answers, on another
                                    port if free_port()'s was taken; .stop() (SIGTERM),
                                    .kill() (SIGKILL): gone when they return, and start()
                                    again keeps the port; .freeze() / .thaw() (SIGSTOP /
                                    SIGCONT); .alive(), .url, .sock, .cli(...),
                                    .commandstats(), .monitor()
  RedisMonitor                      MONITOR: .count() the commands clients sent since the
                                    last count (not those a script ran)
  main(argv)                        tests/redis-launch, for the C unit tests: start one
                                    server, print "ready PORT PID SOCK", and kill it when
                                    the caller closes our stdin (or dies)

A missing redis-server or redis-sentinel is an error (RigError naming the Debian
package), never a reason to skip.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

from .util import RigError, free_port, make_dir, run, stop_process, tail, wait_until

PACKAGES = {"redis-server": "redis-server", "redis-sentinel": "redis-sentinel"}


def _resp(*args):
    """_resp - one command in the Redis protocol"""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class RedisServer:
    """redis-server (or redis-sentinel) on 127.0.0.1:port, see the module's comment."""

    def __init__(self, workdir, name="redis", port=None, password=None, unixsocket=False,
                 sentinel_of=None):
        self.dir = make_dir(os.path.join(workdir, name))
        self.chosen_port = not port       # free_port()'s: another one if it is taken
        self.port = port or free_port()
        self.password = password
        self.sentinel_of = sentinel_of
        self.sock = os.path.join(self.dir, "redis.sock") if unixsocket else None
        self.logfile = os.path.join(self.dir, "redis.log")
        self.proc = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    @property
    def program(self):
        return "redis-sentinel" if self.sentinel_of else "redis-server"

    def command(self):
        """command - the argv of the server (a sentinel's configuration file written)"""
        if self.sentinel_of:
            conf = os.path.join(self.dir, "sentinel.conf")
            with open(conf, "w") as f:
                f.write("port %d\nbind 127.0.0.1\ndir %s\ndaemonize no\n"
                        "sentinel monitor mymaster 127.0.0.1 %d 1\n"
                        "sentinel down-after-milliseconds mymaster 60000\n"
                        % (self.port, self.dir, self.sentinel_of))
            return ["redis-sentinel", conf]
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--daemonize", "no",
               "--dir", self.dir, "--protected-mode", "yes", "--loglevel", "notice"]
        if self.sock:
            cmd += ["--unixsocket", self.sock, "--unixsocketperm", "700"]
        if self.password:
            cmd += ["--requirepass", self.password]
        return cmd

    def ping(self):
        """ping - does our server answer PING (after AUTH, with a password) now?"""
        return self.answering_pid() == (self.proc.pid if self.proc else None)

    def answering_pid(self):
        """answering_pid - the process id of the server answering on our port (INFO
        server), None if nothing answers; another test's server may hold the port"""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                f = s.makefile("rb")
                if self.password and not self.sentinel_of:
                    s.sendall(_resp("AUTH", self.password))
                    f.readline()
                s.sendall(_resp("INFO", "server"))
                head = f.readline()
                if not head.startswith(b"$"):
                    return None
                body = f.read(int(head[1:]) + 2)
        except (OSError, ValueError):
            return None
        m = re.search(rb"^process_id:(\d+)", body, re.M)
        return int(m.group(1)) if m else None

    def start(self, timeout=10):
        """start - run the server and wait until it (not another process that took
        the port meanwhile) answers; a port that free_port() chose and someone took
        before the server bound it is exchanged for another, a port asked for (a
        restart) is tried again until timeout"""
        if shutil.which(self.program) is None:
            raise RigError("%s is not installed: install the Debian package %s "
                           "(this test never skips)" % (self.program, PACKAGES[self.program]))
        deadline = time.monotonic() + timeout
        while True:
            if self._run(deadline - time.monotonic()):
                self.chosen_port = False    # a restart keeps it
                return self
            if time.monotonic() > deadline:
                raise RigError("%s: port %d stayed in use by another process:\n%s" % (
                    self.program, self.port, tail(self.logfile)))
            if self.chosen_port:
                self.port = free_port()
            else:
                time.sleep(0.1)

    def _run(self, timeout):
        """_run - one start: True once it answers, False if the port was in use"""
        log = open(self.logfile, "ab")
        start = log.tell()
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                return "exited"
            return self.ping()
        try:
            if wait_until(ready, max(timeout, 0.5), interval=0.01,
                          what="%s on port %d" % (self.program, self.port)) is True:
                return True
        except RigError:
            self.kill()
            raise
        with open(self.logfile, "rb") as f:
            f.seek(start)
            said = f.read().decode(errors="replace")
        if "Address already in use" in said:
            self.proc = None
            return False
        raise RigError("%s on port %d exited %s:\n%s" % (
            self.program, self.port, self.proc.returncode, tail(self.logfile)))

    def stop(self):
        """stop - SIGTERM and wait: the port is closed when this returns"""
        stop_process(self.proc)
        self.proc = None

    def kill(self):
        """kill - SIGKILL (a crash; also of a frozen server) and wait until it is gone"""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.send_signal(signal.SIGCONT)
            self.proc.wait()
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


USAGE = """usage: redis-launch [--port N] [--password P] [--unixsocket] [--sentinel-of PORT] DIR

Starts redis-server (or redis-sentinel monitoring 127.0.0.1:PORT) on 127.0.0.1, in DIR
(created), waits until it answers, prints "ready PORT PID SOCK" (SOCK "-" without
--unixsocket) or "error MESSAGE", then stays until the server exits; when our stdin
reaches its end (the caller closed it or died) the server is killed.
"""


def main(argv):
    """main - tests/redis-launch (see USAGE); 0 when the server ran, 1 if it did not start"""
    opts = {"port": None, "password": None, "unixsocket": False, "sentinel_of": None}
    args = list(argv)
    try:
        while len(args) > 1:
            a = args.pop(0)
            if a == "--unixsocket":
                opts["unixsocket"] = True
            elif a in ("--port", "--sentinel-of"):
                opts[a[2:].replace("-", "_")] = int(args.pop(0))
            elif a == "--password":
                opts["password"] = args.pop(0)
            else:
                raise ValueError(a)
        (path,) = args
    except (ValueError, IndexError):
        sys.stderr.write(USAGE)
        return 2
    try:
        srv = RedisServer(os.path.dirname(os.path.abspath(path)), os.path.basename(path), **opts)
        srv.start()
    except (RigError, OSError) as e:
        print("error %s" % str(e).replace("\n", " | "), flush=True)
        return 1
    print("ready %d %d %s" % (srv.port, srv.proc.pid, srv.sock or "-"), flush=True)

    def watch_stdin():
        while os.read(0, 4096):
            pass
        srv.kill()
    threading.Thread(target=watch_stdin, daemon=True).start()
    srv.proc.wait()
    return 0

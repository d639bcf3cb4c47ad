# SPDX-License-Identifier: BSD-2-Clause
"""unsub_helpers - pieces for the List-Unsubscribe integration tests (test_unsubscribe.py).

Adds to the mailrig package:

  unsubd_binary()                   $TXMILTER_UNSUBD, else txmilter-unsubd next to $TXMILTER
  unsub_setup(keys, workdir, ...)   a SigningSetup whose extra directives turn List-Unsubscribe
                                    on (key file, URL and mailto templates, exempt senders,
                                    DataDirectory, UnsubscribeListen, Store); .unsub holds the
                                    paths and the port
  UnsubD(milter)                    txmilter-unsubd -f on the milter's own configuration (only
                                    UnsubscribePidFile added); .start(), .stop(), .restart(), .log_text()
  one_click(url)                    the POST exactly as Gmail sends it (curl); the status code
  http(url, method, ...)            any request (curl, no redirects followed):
                                    (status, headers dict, body)
  local_url(url, port)              https://host/... -> http://127.0.0.1:port/... (what the
                                    TLS reverse proxy in front of txmilter-unsubd does)
  unsub_targets(msg)                (https URL, mailto address) from List-Unsubscribe
  token_of(url)                     the token in an UnsubscribeURL
  token_tool(), seal_token(keyfile, rcpt, stream)
                                    tests/unsubd_token_tool ($UNSUBD_TOKEN_TOOL, else in the
                                    build directory of $TXMILTER): a token of the real sealer
  sqlite_entries(datadir)           rows of DataDirectory/suppress.db (read-only)
"""

import base64
import os
import re
import subprocess
import uuid

from mailrig.milters import SigningSetup, txmilter_binary
from mailrig.util import (RigError, connectable, free_port, make_dir, run, stop_process, tail,
                          wait_until)

URL_TEMPLATE = "https://unsub.%{domain}/u/%{token}"
MAILTO_TEMPLATE = "unsub+%{token}@example.com"
EXEMPT = "reset@example.com, *@auth.example.com"


def unsubd_binary():
    """unsubd_binary - $TXMILTER_UNSUBD, or txmilter-unsubd next to $TXMILTER"""
    b = os.environ.get("TXMILTER_UNSUBD")
    if b:
        return b
    return os.path.join(os.path.dirname(os.path.abspath(txmilter_binary())),
                        "txmilter-unsubd")


def write_keyfile(path, keys):
    """write_keyfile - UnsubscribeKeyFile lines "ID BASE64" (mode 0600); keys: [(id, 32 bytes)]"""
    old = os.umask(0o077)
    try:
        with open(path, "w") as f:
            for kid, raw in keys:
                f.write("%d %s\n" % (kid, base64.b64encode(raw).decode()))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return path


class UnsubPaths:
    pass


def unsub_setup(keys, workdir, tag=None, store=None, existing=None, scope=None,
                exempt=EXEMPT, mailto=MAILTO_TEMPLATE, dual=False, extra=()):
    """unsub_setup - a SigningSetup for example.com (RSA, or RSA and Ed25519 with dual)
    with List-Unsubscribe on.  setup.unsub: .dir, .datadir, .keyfile, .port, .store"""
    tag = tag or uuid.uuid4().hex[:8]
    d = make_dir(os.path.join(workdir, "unsub", tag), 0o700)
    u = UnsubPaths()
    u.dir = d
    u.datadir = make_dir(os.path.join(d, "data"), 0o700)
    u.keyfile = write_keyfile(os.path.join(d, "unsub.keys"), [(1, os.urandom(32))])
    u.port = free_port()
    u.store = store
    lines = [("UnsubscribeKeyFile", u.keyfile), ("UnsubscribeURL", URL_TEMPLATE),
             ("DataDirectory", u.datadir), ("UnsubscribeListen", "127.0.0.1:%d" % u.port)]
    if mailto:
        lines.append(("UnsubscribeMailto", mailto))
    if exempt:
        lines.append(("UnsubscribeExempt", exempt))
    if existing:
        lines.append(("UnsubscribeExisting", existing))
    if scope:
        lines.append(("UnsubscribeScope", scope))
    if store:
        lines.append(("Store", store))
    lines += list(extra)
    ks = [keys["rsa_com"], keys["ed_com"]] if dual else [keys["rsa_com"]]
    s = SigningSetup(ks, extra=lines)
    s.unsub = u
    return s


class UnsubD:
    """txmilter-unsubd -f -x CONF, where CONF is a copy of the milter's configuration file
    (both daemons read one file in production) with UnsubscribePidFile added; the
    milter's PidFile stays in it, and txmilter-unsubd must leave it alone."""

    def __init__(self, milter, name="unsubd"):
        self.milter = milter
        self.unsub = milter.setup.unsub
        self.port = self.unsub.port
        self.dir = self.unsub.dir
        self.conf_path = os.path.join(self.dir, "%s.conf" % name)
        self.logfile = os.path.join(self.dir, "%s.log" % name)
        self.pidfile = os.path.join(self.dir, "%s.pid" % name)
        with open(milter.conf_path) as f:
            lines = [l for l in f if not re.match(r"(?i)^\s*UnsubscribePidFile\s", l)]
        lines.append("UnsubscribePidFile %s\n" % self.pidfile)
        with open(self.conf_path, "w") as f:
            f.writelines(lines)
        self.proc = None
        self.exits = []                   # exit status of every stopped process

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=15):
        b = unsubd_binary()
        if not os.access(b, os.X_OK):
            raise RigError("%s: not an executable file" % b)
        log = open(self.logfile, "ab")
        log.write(b"==== start\n")
        log.flush()
        self.proc = subprocess.Popen([b, "-f", "-x", self.conf_path], stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise RigError("txmilter-unsubd exited %s:\n%s" % (self.proc.returncode,
                                                                 tail(self.logfile)))
            return connectable("inet:%d@127.0.0.1" % self.port)
        wait_until(ready, timeout, what="txmilter-unsubd on port %d" % self.port)
        return self

    def stop(self, timeout=15):
        if self.proc is not None:
            stop_process(self.proc, timeout)
            self.exits.append(self.proc.returncode)
            self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=5):
        rx = re.compile(pattern, re.M)
        return wait_until(lambda: rx.search(self.log_text()), timeout,
                          what="txmilter-unsubd log line /%s/" % pattern)


# ---------------------------------------------------------------------------
# HTTP

def one_click(url, timeout=20):
    """one_click - RFC 8058 POST exactly as Gmail sends it; the HTTP status as a string"""
    p = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
             "-H", "Content-Type: application/x-www-form-urlencoded",
             "--data", "List-Unsubscribe=One-Click", url], check=False, timeout=timeout)
    return p.stdout.decode().strip()


def http(url, method="GET", data=None, headers=(), timeout=20):
    """http - one request with curl (redirects not followed): (status, headers, body)"""
    cmd = ["curl", "-s", "-D", "-", "-X", method, "--max-time", str(timeout)]
    if method == "HEAD":
        cmd = ["curl", "-s", "-I", "--max-time", str(timeout)]
    for h in headers:
        cmd += ["-H", h]
    if data is not None:
        cmd += ["--data-binary", data]
    p = run(cmd + [url], check=False, timeout=timeout + 5)
    out = p.stdout
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/\S+ (\d{3})", lines[0] if lines else "")
    if not m:
        raise RigError("no HTTP answer from %s %s (curl exit %d): %r" % (
            method, url, p.returncode, out[:300]))
    hdrs = {}
    for l in lines[1:]:
        k, sep, v = l.partition(":")
        if sep:
            hdrs[k.strip().lower()] = v.strip()
    return int(m.group(1)), hdrs, body.decode(errors="replace")


def local_url(url, port):
    """local_url - the https URL as the TLS proxy passes it to txmilter-unsubd"""
    assert url.startswith("https://"), url
    return re.sub(r"^https://[^/]+", "http://127.0.0.1:%d" % port, url)


# ---------------------------------------------------------------------------
# the header

def unfold(value):
    return re.sub(rb"\r\n[ \t]+", b" ", value).decode("latin-1").strip()


def unsub_targets(msg):
    """unsub_targets - (https URL, mailto address or None) of the one List-Unsubscribe"""
    vals = msg.values("List-Unsubscribe")
    if len(vals) != 1:
        raise AssertionError("expected one List-Unsubscribe, found %d: %r" % (len(vals), vals))
    uris = re.findall(r"<([^>]*)>", unfold(vals[0]))
    https = [u for u in uris if u.startswith("https://")]
    mailto = [u for u in uris if u.startswith("mailto:")]
    assert len(https) == 1, uris
    addr = None
    if mailto:
        addr = mailto[0][len("mailto:"):].split("?", 1)[0]
    return https[0], addr


def token_tool():
    return os.environ.get("UNSUBD_TOKEN_TOOL") or os.path.join(
        os.path.dirname(os.path.abspath(txmilter_binary())), "tests", "unsubd_token_tool")


def seal_token(keyfile, rcpt, stream):
    """seal_token - the token txmilter would put in List-Unsubscribe for (rcpt, stream)"""
    return run([token_tool(), keyfile, rcpt, stream]).stdout.decode().strip()


def token_of(url):
    m = re.search(r"/u/([^/?#]+)$", url)
    assert m, url
    return m.group(1)


def sqlite_entries(datadir):
    """sqlite_entries - [(rcpt, stream, source)] in DataDirectory/suppress.db ([] if none)"""
    path = os.path.join(datadir, "suppress.db")
    if not os.path.exists(path):
        return []
    import sqlite3
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    try:
        return [tuple(r) for r in c.execute("SELECT rcpt, stream, source FROM suppress")]
    finally:
        c.close()

# SPDX-License-Identifier: BSD-2-Clause
"""Fixtures for txmilter's integration tests (see the mailrig package for the pieces).

Run as root with Debian's interpreter:

    TXMILTER=build/txmilter /usr/bin/python3 -m pytest tests/integration

Session-wide: one working directory, the DKIM keys, an unbound test DNS server, the SMTP
capture server and a private Postfix instance whose smtpd_milters and non_smtpd_milters
point at the unix socket <workdir>/milter/milter.sock.  Per test: the milter under test
is started on that socket with the test's configuration (start_milter) and stopped
afterwards; its log is checked for sanitizer reports.  store_url gives the test's
suppression store (SQLite, or a fresh redis-server), reaper_after_workdir orders the
session's teardown for the modules that ask for it.

Options / environment:
  --milter=txmilter|opendkim   (or MAILRIG_MILTER) the milter under test; opendkim is
                               Debian's OpenDKIM, a stand-in that proves the harness works
  TXMILTER                     the txmilter binary (default build/txmilter)
  MAILRIG_KEEP=1               keep the working directory (logs, delivered mail)
  MAILRIG_ARTIFACTS=DIR        copy every milter log there (tests/run-all checks them)
"""

import os
import re
import shutil
import signal
import tempfile
import uuid

import pytest

from mailrig.util import connectable, make_dir, make_traversable, point_link, tail
from mailrig.keys import KeyPair
from mailrig.unbound import DnsServer
from mailrig.capture import Capture
from mailrig.milters import OpenDkim, TxMilter, txmilter_usable
from mailrig.postfix import Postfix
from mailrig.redisserver import RedisServer
from unsub_helpers import UnsubD


def pytest_addoption(parser):
    parser.addoption("--milter", default=os.environ.get("MAILRIG_MILTER", "txmilter"),
                     choices=["txmilter", "opendkim"],
                     help="the milter under test (default txmilter)")


def pytest_configure(config):
    config.addinivalue_line("markers", "big: large messages (50 MB); part of the default run")
    config.addinivalue_line("markers", "txmilter_only: asserts txmilter behaviour OpenDKIM lacks")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--milter") != "txmilter":
        skip = pytest.mark.skip(reason="asserts txmilter-specific behaviour")
        for it in items:
            if "txmilter_only" in it.keywords:
                it.add_marker(skip)


@pytest.fixture(scope="session")
def milter_kind(request):
    return request.config.getoption("--milter")


@pytest.fixture(scope="session")
def workdir():
    if os.geteuid() != 0:
        pytest.exit("the integration tests run Postfix and must run as root", 2)
    d = tempfile.mkdtemp(prefix="txmilter-it-")
    os.chmod(d, 0o755)
    make_traversable(d)
    yield d
    if not os.environ.get("MAILRIG_KEEP"):
        shutil.rmtree(d, ignore_errors=True)
    else:
        print("\nmailrig: kept %s" % d)


@pytest.fixture(scope="session")
def keys(workdir):
    """RSA-2048 and Ed25519 keys for example.com and example.net (selectors rsa1, ed1)"""
    kd = make_dir(os.path.join(workdir, "keys"), 0o700)
    return {
        "rsa_com": KeyPair.rsa(kd, "example.com", "rsa1"),
        "ed_com": KeyPair.ed25519(kd, "example.com", "ed1"),
        "rsa_net": KeyPair.rsa(kd, "example.net", "rsa1"),
        "ed_net": KeyPair.ed25519(kd, "example.net", "ed1"),
    }


@pytest.fixture(scope="session")
def dns(workdir, keys):
    srv = DnsServer(workdir)
    srv.add_zone("example.org")
    for k in keys.values():
        srv.add_key(k)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def capture(workdir):
    c = Capture(workdir).start()
    yield c
    c.stop()


MILTER_DIR = "milter"
SOCK_COUNTER = [0]          # <workdir>/milter/milter.sock is what Postfix talks to


@pytest.fixture(scope="session")
def postfix(workdir, capture):
    sock = os.path.join(workdir, MILTER_DIR, "milter.sock")
    pf = Postfix(workdir, ("127.0.0.1", capture.port), "unix:" + sock)
    pf.start()
    yield pf
    pf.stop()


class Reaper:
    """Milters told to stop but not yet gone.

    libmilter takes about 4 s to wind down after SIGTERM, so a test does not wait for
    its milter: the next test's milter takes over the socket path at once.  Exit-time
    reports (LeakSanitizer) are collected here when each process is gone, and the
    session fails at its end, naming the test, if any appeared."""

    def __init__(self):
        self.pending = []                 # (test name, Milter)
        self.problems = []

    def add(self, test, m):
        if m.proc is not None and m.proc.poll() is None:
            m.proc.send_signal(signal.SIGTERM)
        self.pending.append((test, m))
        self.collect()
        while len(self.pending) > 8:      # do not let stopping processes pile up
            self.finish(*self.pending.pop(0))

    def collect(self):
        still = []
        for test, m in self.pending:
            if m.proc is None or m.proc.poll() is not None:
                self.finish(test, m)
            else:
                still.append((test, m))
        self.pending = still

    def finish(self, test, m):
        m.stop(timeout=75)                # waits; SIGKILL only after ShutdownTimeout+
        art = os.environ.get("MAILRIG_ARTIFACTS")
        if art:
            os.makedirs(art, exist_ok=True)
            shutil.copy(m.logfile, os.path.join(art, os.path.basename(m.logfile)))
        errs = m.sanitizer_errors()
        if errs:
            self.problems.append("%s: %s log has sanitizer reports:\n%s\n%s" % (
                test, m.kind, "\n".join(errs[:5]), tail(m.logfile, 6000)))
        rc = m.returncode()
        if rc not in (0, None) and not getattr(m, "expect_exit", False):
            self.problems.append("%s: %s exited with status %s after SIGTERM:\n%s" % (
                test, m.kind, rc, tail(m.logfile, 3000)))

    def finish_all(self):
        while self.pending:
            self.finish(*self.pending.pop(0))


@pytest.fixture(scope="session")
def reaper(workdir):
    """the Reaper; it needs workdir (the logs it reads) until it has finished"""
    r = Reaper()
    yield r
    r.finish_all()
    if r.problems:
        pytest.fail("\n\n".join(r.problems), pytrace=False)


@pytest.fixture
def start_milter(request, workdir, milter_kind, postfix, dns, reaper):
    """start_milter(setup, kind=None, socket_kind="unix") -> running Milter.

    With socket_kind "unix" the milter listens where the session Postfix looks.  Each
    milter is stopped after the test; a milter that died during the test makes the test
    fail, and one whose log holds a sanitizer report fails the session (see Reaper)."""
    started = []
    testname = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    counter = SOCK_COUNTER

    def start(setup, kind=None, socket_kind="unix", **kw):
        kind = kind or milter_kind
        n = len(started)
        tag = "%s-%s%s" % (kind, testname, "-%d" % n if n else "")
        if socket_kind == "unix":
            kw.setdefault("name", MILTER_DIR)
            counter[0] += 1
            kw.setdefault("sock_name", "s%d.sock" % counter[0])
        else:
            kw.setdefault("name", "milter-" + socket_kind)
        if kind == "txmilter":
            ok, why = txmilter_usable()
            if not ok:
                pytest.fail("txmilter is not usable: %s" % why)
            m = TxMilter(workdir, setup, socket_kind=socket_kind, tag=tag, **kw)
        else:
            if not shutil.which("opendkim"):
                pytest.skip("opendkim is not installed")
            m = OpenDkim(workdir, setup, socket_kind=socket_kind, tag=tag, **kw)
        started.append(m)
        m.start()
        if socket_kind == "unix" and kw["name"] == MILTER_DIR:
            # Postfix connects to milter.sock, a symlink to this milter's own socket:
            # the previous test's milter may still be winding down on its own path.
            m.publish_as(os.path.join(workdir, MILTER_DIR, "milter.sock"))
        return m

    yield start

    problems = []
    for m in started:
        if m.proc is not None and m.proc.poll() is not None and \
                not getattr(m, "expect_exit", False):
            problems.append("%s died during the test (status %s); log tail:\n%s"
                            % (m.kind, m.returncode(), tail(m.logfile, 3000)))
        errs = m.sanitizer_errors()
        if errs:
            problems.append("%s log has sanitizer reports:\n%s" % (m.kind, "\n".join(errs[:5])))
        reaper.add(testname, m)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def make_postfix(workdir, capture):
    """make_postfix(milter_spec, ipv6=False) -> an extra started Postfix instance"""
    made = []

    def make(milter_spec, ipv6=False, name=None):
        pf = Postfix(workdir, ("127.0.0.1", capture.port), milter_spec,
                             name=name or "postfix-%d" % (len(made) + 2), ipv6=ipv6)
        made.append(pf)
        pf.start()
        return pf

    yield make
    for pf in made:
        pf.stop()


def no_milter(workdir):
    """no_milter - point the socket Postfix uses at a path nothing serves (a milter of an
    earlier test may still be winding down on the one it pointed at) and prove that
    nothing answers there; the next start_milter() points it at its own milter again"""
    d = make_dir(os.path.join(workdir, MILTER_DIR))     # no milter may have made it yet
    link = os.path.join(d, "milter.sock")
    point_link(link, os.path.join(d, "nothing-serves-this.sock"))
    assert not connectable("unix:" + link), "something serves %s" % os.path.realpath(link)


@pytest.fixture
def rig(dns, capture, postfix, keys, start_milter, workdir):
    """Everything a signing test needs, in one object; rig.no_milter() takes the milter
    away from Postfix."""
    class Rig:
        pass
    r = Rig()
    r.dns, r.capture, r.postfix, r.keys, r.start_milter = dns, capture, postfix, keys, start_milter
    r.no_milter = lambda: no_milter(workdir)
    return r


@pytest.fixture
def unsubds():
    """unsubds(milter) - txmilter-unsubd on the milter's configuration (unsub_helpers.UnsubD),
    started; all stopped afterwards: exit status 0, no sanitizer report in the log"""
    made = []

    def make(milter):
        d = UnsubD(milter)
        made.append(d)
        return d.start()
    yield make
    bad = []
    for d in made:
        died = d.proc is not None and d.proc.poll() is not None
        d.stop()
        if died or any(rc not in (0, None) for rc in d.exits):
            bad.append("txmilter-unsubd exit status %s%s:\n%s" % (
                d.exits, " (died during the test)" if died else "", d.log_text()[-3000:]))
        elif re.search(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:", d.log_text()):
            bad.append("txmilter-unsubd sanitizer report:\n%s" % d.log_text()[-3000:])
    if bad:
        pytest.fail("\n".join(bad), pytrace=False)


@pytest.fixture
def reaper_after_workdir(workdir, reaper):
    """a module's tests (pytest.mark.usefixtures) hold the reaper after the work directory,
    so that at the end of the session the reaper collects milter logs before the directory
    goes (a last test that used only workdir let pytest remove it first)"""
    yield


@pytest.fixture
def store_url(request, workdir):
    """None (the embedded SQLite in DataDirectory) or the URL of a fresh redis-server, also
    request.node.redis, by the test's parameter ("sqlite", "redis"; indirect=True);
    without one, SQLite"""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield None
        return
    module = request.module.__name__.rsplit(".", 1)[-1].replace("test_", "", 1)
    r = RedisServer(workdir, name="redis-%s-%s" % (module, uuid.uuid4().hex[:6])).start()
    request.node.redis = r
    yield r.url
    r.stop()

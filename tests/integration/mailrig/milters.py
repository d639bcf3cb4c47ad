# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.milters - the signing milter under test and what it signs with.

  SigningSetup(keys, ...)           keys, SigningTable rules, canonicalisation, InternalHosts,
                                    extra directives; .table_lines(dir) writes the tables
  setup_for(keys, which, **kw)      a SigningSetup for example.com: "rsa", "ed25519", "dual"
  TxMilter(workdir, setup, ...)     txmilter -f -x CONF ($TXMILTER); .check_config() (-n);
                                    .control_socket: its own ControlSocket, .datadir: its
                                    own DataDirectory, unless the configuration names them
  OpenDkim(workdir, setup, ...)     Debian's opendkim as a stand-in (validates the harness)
                                    both: .start(), .stop(), .alive(), .log_text(),
                                    .wait_log(rx), .sanitizer_errors(), .publish_as(link),
                                    .spec (libmilter syntax), .postfix_spec (smtpd_milters)
  txmilter_binary(), txmilter_usable(binary)
                                    $TXMILTER (default build/txmilter); does `-V` run?
"""

import itertools
import os
import re
import subprocess

from .util import (REPO, RigError, connectable, free_port, make_dir, make_traversable,
                   point_link, run, stop_process, tail, wait_until)


class Milter:
    """Common part of the milter under test: a foreground process whose stderr is logged."""

    kind = "milter"

    def __init__(self, workdir, socket_kind="unix", port=None, name=None, tag=None,
                 sock_name="milter.sock"):
        self.name = name or self.kind
        self.dir = make_dir(os.path.join(workdir, self.name))
        make_traversable(self.dir)
        tag = tag or self.kind
        self.conf_path = os.path.join(self.dir, "%s.conf" % tag)
        self.logfile = os.path.join(self.dir, "%s.log" % tag)
        self.pidfile = os.path.join(self.dir, "%s.pid" % tag)
        self.socket_kind = socket_kind
        if socket_kind == "unix":
            self.sock_path = os.path.join(self.dir, sock_name)
            if len(self.sock_path) > 100:
                raise RigError("unix socket path too long: %s" % self.sock_path)
            self.spec = "unix:" + self.sock_path
            self.postfix_spec = "unix:" + self.sock_path
        elif socket_kind == "inet":
            self.port = port or free_port()
            self.spec = "inet:%d@127.0.0.1" % self.port
            self.postfix_spec = "inet:127.0.0.1:%d" % self.port
        elif socket_kind == "inet6":
            self.port = port or free_port("::1")
            self.spec = "inet6:%d@[::1]" % self.port
            self.postfix_spec = "inet:[::1]:%d" % self.port
        else:
            raise RigError("unknown socket kind %r" % socket_kind)
        self.proc = None
        self.log_offset = 0

    def command(self):
        raise NotImplementedError

    def write_conf(self, lines):
        with open(self.conf_path, "w") as f:
            for name, value in lines:
                f.write("%s %s\n" % (name, value))

    def start(self, timeout=20):
        if self.socket_kind == "unix" and os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        log = open(self.logfile, "ab")
        log.write(b"==== start %s\n" % " ".join(self.command()).encode())
        log.flush()
        self.log_offset = log.tell()
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env())
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise RigError("%s exited with status %s before its socket was ready:\n%s"
                               % (self.kind, self.proc.returncode, tail(self.logfile)))
            return connectable(self.spec)
        wait_until(ready, timeout, what="%s socket %s" % (self.kind, self.spec))
        if self.socket_kind == "unix":
            mode = os.stat(self.sock_path).st_mode & 0o777
            if mode & 0o006 != 0o006:
                # The tests run the milter as root without UserID: let Postfix in.
                with open(self.logfile, "ab") as f:
                    f.write(b"mailrig: socket mode %o, chmod 0666 for postfix\n" % mode)
                os.chmod(self.sock_path, 0o666)
        return self

    def env(self):
        return None

    def publish_as(self, link):
        """publish_as - make the path link (a symlink) lead to this milter's unix socket"""
        point_link(link, self.sock_path)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def returncode(self):
        return None if self.proc is None else self.proc.poll()

    def stop(self, timeout=15):
        stop_process(self.proc, timeout)

    def log_text(self, since_start=False):
        with open(self.logfile, "rb") as f:
            if since_start:
                f.seek(self.log_offset)
            return f.read().decode(errors="replace")

    def wait_log(self, pattern, timeout=10):
        """wait_log - wait until the log (since start) matches the regex; return the match"""
        rx = re.compile(pattern, re.I | re.M)
        return wait_until(lambda: rx.search(self.log_text(True)), timeout,
                          what="%s log line /%s/" % (self.kind, pattern))

    def sanitizer_errors(self):
        """sanitizer_errors - AddressSanitizer/UBSan reports in the log"""
        text = self.log_text()
        return [l for l in text.splitlines()
                if "ERROR: AddressSanitizer" in l or "runtime error:" in l
                or "ERROR: LeakSanitizer" in l]


class SigningSetup:
    """What to sign with: keys, SigningTable rules, canonicalisation, InternalHosts...

    keys:      KeyPair list (all go into the KeyTable)
    signing:   list of (pattern, key) SigningTable rules; default "*@domain" for each key
    shorthand: use Domain/Selector/KeyFile instead of tables (exactly one key)
    extra:     further (Name, value) directives, written last
    """

    def __init__(self, keys, signing=None, canon="relaxed/relaxed", internal="127.0.0.1, ::1",
                 multiple=None, shorthand=False, extra=(), sign_headers=None,
                 oversign_headers=None):
        self.keys = list(keys)
        self.signing = signing if signing is not None else [("*@" + k.domain, k) for k in self.keys]
        self.canon = canon
        self.internal = internal
        self.multiple = multiple if multiple is not None else len(self.keys) > 1
        self.shorthand = shorthand
        self.extra = list(extra)
        self.sign_headers = sign_headers
        self.oversign_headers = oversign_headers

    def table_lines(self, d):
        """write KeyTable and SigningTable into d; return the directives naming them"""
        if self.shorthand:
            k = self.keys[0]
            return [("Domain", k.domain), ("Selector", k.selector), ("KeyFile", k.path)]
        kt = os.path.join(d, "KeyTable")
        st = os.path.join(d, "SigningTable")
        with open(kt, "w") as f:
            for k in self.keys:
                f.write("%s %s:%s:%s\n" % (k.name, k.domain, k.selector, k.path))
        with open(st, "w") as f:
            for pat, k in self.signing:
                f.write("%s %s\n" % (pat, k.name))
        return [("KeyTable", kt), ("SigningTable", "refile:" + st)]


def setup_for(keys, which, **kw):
    """setup_for - a SigningSetup for example.com: which is "rsa", "ed25519" or "dual";
    keys is the dict of the session's KeyPairs (rsa_com, ed_com, rsa_net, ed_net)"""
    ks = {"rsa": [keys["rsa_com"]], "ed25519": [keys["ed_com"]],
          "dual": [keys["rsa_com"], keys["ed_com"]]}[which]
    return SigningSetup(ks, **kw)


class TxMilter(Milter):
    """txmilter -f -x TXCONF (binary from $TXMILTER, default build/txmilter).

    What txmilter would otherwise default to a path of the whole machine is put in the
    milter's own directory unless the configuration names it: ControlSocket (c<N>.ctl,
    N unique in this process, as milters of several tests share one directory) and
    DataDirectory (data-<N>/), so that tests running side by side never reach another
    test's daemon or suppression list. PidFile is the milter's own; MetricsListen is off
    unless asked for."""

    kind = "txmilter"
    _seq = itertools.count(1)

    def __init__(self, workdir, setup, socket_kind="unix", port=None, binary=None,
                 name=None, raw_conf=None, tag=None, sock_name="milter.sock"):
        super().__init__(workdir, socket_kind, port, name, tag, sock_name)
        self.binary = binary or txmilter_binary()
        self.setup = setup
        n = next(TxMilter._seq)
        self.control_socket = os.path.join(self.dir, "c%d.ctl" % n)
        self.datadir = os.path.join(self.dir, "data-%d" % n)
        lines = [("Socket", self.spec), ("Syslog", "no"), ("LogWhy", "yes"),
                 ("PidFile", self.pidfile), ("UMask", "000")]
        if raw_conf is not None:
            lines = raw_conf(self)
        else:
            lines += [("InternalHosts", setup.internal),
                      ("Canonicalization", setup.canon),
                      ("MultipleSignatures", "yes" if setup.multiple else "no")]
            lines += setup.table_lines(self.dir)
            if setup.sign_headers:
                lines.append(("SignHeaders", setup.sign_headers))
            if setup.oversign_headers:
                lines.append(("OversignHeaders", setup.oversign_headers))
            lines += setup.extra
        self.write_conf(self._own_paths(lines))

    def _own_paths(self, lines):
        """lines, and the private ControlSocket and DataDirectory they do not name;
        .control_socket and .datadir say what the daemon uses (None: "none")"""
        names = {name.lower(): value for name, value in lines}
        out = list(lines)
        for name, attr in (("ControlSocket", "control_socket"), ("DataDirectory", "datadir")):
            given = names.get(name.lower())
            if given is None:
                if name == "DataDirectory":
                    make_dir(self.datadir)
                out.append((name, getattr(self, attr)))
            else:
                setattr(self, attr, None if given.strip().lower() == "none" else given)
        return out

    def command(self):
        return [self.binary, "-f", "-x", self.conf_path]

    def env(self):
        e = dict(os.environ)
        # Under ASan, make reports land in the log and stop the process.
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        return e

    def check_config(self):
        """check_config - txmilter -n -x TXCONF: (returncode, stderr)"""
        p = run([self.binary, "-n", "-x", self.conf_path], check=False)
        return p.returncode, p.stderr.decode(errors="replace")


class OpenDkim(Milter):
    """Debian's opendkim as a stand-in signing milter (validates the harness)."""

    kind = "opendkim"

    def __init__(self, workdir, setup, socket_kind="unix", port=None, name=None, tag=None,
                 sock_name="milter.sock"):
        super().__init__(workdir, socket_kind, port, name, tag, sock_name)
        self.setup = setup
        lines = [("Mode", "s"), ("Socket", self.spec), ("Syslog", "no"),
                 ("PidFile", self.pidfile), ("UMask", "000"),
                 ("RequireSafeKeys", "false"),
                 ("InternalHosts", setup.internal.replace(" ", "")),
                 ("Canonicalization", setup.canon),
                 ("SignatureAlgorithm", "rsa-sha256"),
                 ("OversignHeaders", "From"),
                 ("MultipleSignatures", "yes" if setup.multiple else "no")]
        lines += setup.table_lines(self.dir)
        self.write_conf(lines)

    def command(self):
        return ["opendkim", "-f", "-x", self.conf_path]


def txmilter_binary():
    return os.environ.get("TXMILTER") or os.path.join(REPO, "build", "txmilter")


def txmilter_usable(binary=None):
    """txmilter_usable - (ok, why): does `txmilter -V` run and exit 0?"""
    b = binary or txmilter_binary()
    if not os.access(b, os.X_OK):
        return False, "%s: not an executable file" % b
    try:
        p = run([b, "-V"], check=False, timeout=10)
    except Exception as e:                      # noqa: BLE001 - report anything
        return False, "%s -V: %s" % (b, e)
    if p.returncode != 0:
        return False, "%s -V exited %d: %s" % (b, p.returncode,
                                              (p.stdout + p.stderr).decode(errors="replace"))
    return True, p.stdout.decode(errors="replace")


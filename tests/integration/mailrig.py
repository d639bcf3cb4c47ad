"""mailrig - real mail components on loopback, for txmilter's integration tests.

Everything here starts real programs (unbound, txmilter or opendkim, a private
Postfix instance, an SMTP capture server) on free loopback ports inside one
working directory, and stops them again.  The pytest fixtures in conftest.py and
contrib/quickstart.sh both use it; nothing in it depends on pytest.

Pieces (each has start()/stop(); stop() is safe to call twice and after a failed start):

  free_port()                       a free TCP (and UDP) port on loopback
  KeyPair.rsa(dir, domain, sel)     openssl RSA-2048 / Ed25519 PKCS#8 PEM keys (0600)
  KeyPair.ed25519(dir, domain, sel)   with .dns_name and .dns_txt (the DKIM record)
  DnsServer(dir)                    unbound serving local-data zones on 127.0.0.1@PORT;
                                    .add_txt(name, text), .add_rr(line), .restart()
  Capture(dir)                      smtpcapture.py: stores delivered messages byte-exact;
                                    .wait_messages(n), .wait_for(message_id)
  Milter: TxMilter(dir, conf), OpenDkim(dir, conf)
                                    the signing milter under test; .alive(), .log_text(),
                                    .postfix_spec (for smtpd_milters)
  MainCfRegistration(confdir)       lists a private config dir in /etc/postfix/main.cf
                                    (alternate_config_directories) and restores the file
  Postfix(dir, ...)                 a private Postfix instance (own config, queue, maillog)
                                    .submit(...) SMTP with per-recipient replies,
                                    .sendmail(...) the non_smtpd_milters path,
                                    .log_for(message_id) what Postfix did with a message
  verify_dkimpy(msg, port), verify_maildkim(msg, port)
                                    independent verifiers, one result per signature
  Message(raw)                      header access for assertions (exact bytes kept)

All programs run as root (Postfix drops to its mail_owner itself).  Errors raise
RigError with the relevant log excerpt.
"""

import errno
import fcntl
import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"         # Debian's python3, which has dkim and dns modules
MAIN_CF = "/etc/postfix/main.cf"


class RigError(Exception):
    pass


# ---------------------------------------------------------------------------
# small helpers

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


# ---------------------------------------------------------------------------
# keys

class KeyPair:
    """A DKIM private key file and the TXT record that publishes its public half."""

    def __init__(self, path, domain, selector, algo, dns_txt):
        self.path = path
        self.domain = domain
        self.selector = selector
        self.algo = algo                  # "rsa" or "ed25519"
        self.dns_txt = dns_txt
        self.dns_name = "%s._domainkey.%s" % (selector, domain)
        self.name = "%s-%s-%s" % (algo, selector, domain)   # KeyTable entry name

    @property
    def a_tag(self):
        return "rsa-sha256" if self.algo == "rsa" else "ed25519-sha256"

    @classmethod
    def rsa(cls, keydir, domain, selector, bits=2048):
        path = os.path.join(keydir, "%s.%s.rsa.pem" % (selector, domain))
        if not os.path.exists(path):
            old = os.umask(0o077)
            try:
                run(["openssl", "genpkey", "-algorithm", "rsa", "-pkeyopt",
                     "rsa_keygen_bits:%d" % bits, "-out", path + ".tmp"])
                os.rename(path + ".tmp", path)
            finally:
                os.umask(old)
        os.chmod(path, 0o600)
        der = run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"]).stdout
        import base64
        txt = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
        return cls(path, domain, selector, "rsa", txt)

    @classmethod
    def ed25519(cls, keydir, domain, selector):
        path = os.path.join(keydir, "%s.%s.ed25519.pem" % (selector, domain))
        if not os.path.exists(path):
            old = os.umask(0o077)
            try:
                run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path + ".tmp"])
                os.rename(path + ".tmp", path)
            finally:
                os.umask(old)
        os.chmod(path, 0o600)
        der = run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"]).stdout
        import base64
        txt = "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()
        return cls(path, domain, selector, "ed25519", txt)


# ---------------------------------------------------------------------------
# DNS: unbound with local-data

def txt_rdata(text):
    """txt_rdata - zone-file TXT rdata: quoted strings of at most 255 bytes each"""
    raw = text.encode()
    parts = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
    out = []
    for p in parts:
        s = p.decode("latin-1").replace("\\", "\\\\").replace('"', '\\"')
        out.append('"%s"' % s)
    return " ".join(out)


class DnsServer:
    """unbound -d serving static local zones on 127.0.0.1@port (UDP and TCP)."""

    def __init__(self, workdir, port=None):
        self.dir = make_dir(os.path.join(workdir, "dns"))
        self.port = port or free_port()
        self.zones = []
        self.records = []                 # zone-file lines "name ttl IN TYPE rdata"
        self.proc = None
        self.conf = os.path.join(self.dir, "unbound.conf")
        self.logfile = os.path.join(self.dir, "unbound.log")

    def add_zone(self, zone):
        zone = zone.rstrip(".").lower() + "."
        if zone not in self.zones:
            self.zones.append(zone)

    def add_rr(self, line):
        """add_rr - add a zone-file record line; its last two labels become a static zone"""
        name = line.split()[0].rstrip(".")
        labels = name.split(".")
        if not any((name + ".").lower().endswith("." + z) or (name + ".").lower() == z
                   for z in self.zones):
            self.add_zone(".".join(labels[-2:]))
        self.records.append(line)

    def add_txt(self, name, text, ttl=300):
        self.add_rr("%s. %d IN TXT %s" % (name.rstrip("."), ttl, txt_rdata(text)))

    def add_key(self, key):
        self.add_txt(key.dns_name, key.dns_txt)

    def remove(self, name):
        """remove - drop every record of name (takes effect on restart())"""
        n = name.rstrip(".").lower() + "."
        self.records = [r for r in self.records if r.split()[0].lower().rstrip(".") + "." != n]

    def write_conf(self):
        lines = [
            "server:",
            "    interface: 127.0.0.1@%d" % self.port,
            "    port: %d" % self.port,
            "    do-daemonize: no",
            '    username: ""',
            '    chroot: ""',
            '    directory: "%s"' % self.dir,
            '    pidfile: ""',
            "    use-syslog: no",
            '    logfile: ""',
            "    verbosity: 1",
            "    access-control: 127.0.0.0/8 allow",
            "    do-ip6: no",
            '    module-config: "iterator"',
            "    num-threads: 1",
        ]
        for z in self.zones:
            lines.append('    local-zone: "%s" static' % z)
        for r in self.records:
            if "'" in r:
                raise RigError("record may not contain a single quote: %r" % r)
            lines.append("    local-data: '%s'" % r)
        lines += ["remote-control:", "    control-enable: no", ""]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))

    def start(self, timeout=15):
        self.write_conf()
        run(["unbound-checkconf", self.conf])
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(["unbound", "-d", "-c", self.conf],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        probe = (self.records[0].split()[0] if self.records else self.zones[0]
                 if self.zones else "localhost.")

        def ready():
            if self.proc.poll() is not None:
                raise RigError("unbound exited %s:\n%s" % (self.proc.returncode,
                                                           tail(self.logfile)))
            try:
                self.query(probe, "SOA", timeout=0.5)
                return True
            except Exception:
                return False
        wait_until(ready, timeout, what="unbound on port %d" % self.port)
        return self

    def stop(self):
        stop_process(self.proc)
        self.proc = None

    def restart(self):
        """restart - apply added or removed records (same port)"""
        self.stop()
        return self.start()

    def resolver(self):
        import dns.resolver
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = ["127.0.0.1"]
        r.port = self.port
        r.lifetime = 5
        return r

    def query(self, name, rdtype="TXT", timeout=5):
        r = self.resolver()
        r.lifetime = timeout
        return r.resolve(name, rdtype, raise_on_no_answer=False)

    def txt(self, name):
        """txt - the TXT record of name as one string (strings concatenated), or None"""
        return dns_txt(self.port, name)


def dns_txt(port, name, timeout=5):
    """dns_txt - first TXT record of name from 127.0.0.1:port, strings joined (bytes), or None"""
    import dns.resolver
    import dns.rdatatype
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = port
    r.lifetime = timeout
    if isinstance(name, bytes):
        name = name.decode()
    try:
        ans = r.resolve(name, "TXT", raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
        return None
    for rrset in ans.response.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            return b"".join(list(rrset.items)[0].strings)
    return None


# ---------------------------------------------------------------------------
# the capture server (what Postfix delivers)

class Delivered:
    """One message as Postfix delivered it to the capture server."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.raw = f.read()
        with open(path[:-4] + ".json") as f:
            self.meta = json.load(f)
        self.msg = Message(self.raw)

    def __repr__(self):
        return "<Delivered %s %d bytes>" % (self.path, len(self.raw))


class Capture:
    """smtpcapture.py on 127.0.0.1:port, writing into dir."""

    def __init__(self, workdir, port=None, host="127.0.0.1", name="capture"):
        self.dir = make_dir(os.path.join(workdir, name))
        self.maildir = make_dir(os.path.join(self.dir, "mail"))
        self.host = host
        self.port = port or free_port(host)
        self.proc = None
        self.logfile = os.path.join(self.dir, "capture.log")
        self.pidfile = os.path.join(self.dir, "capture.pid")

    @property
    def listen(self):
        return ("[%s]:%d" if ":" in self.host else "%s:%d") % (self.host, self.port)

    def start(self, timeout=10, daemon=False):
        log = open(self.logfile, "ab")
        cmd = [PYTHON, os.path.join(HERE, "smtpcapture.py"), "--listen", self.listen,
               "--dir", self.maildir, "--pidfile", self.pidfile]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=daemon)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise RigError("capture server exited:\n" + tail(self.logfile))
            try:
                socket.create_connection((self.host, self.port), 0.5).close()
                return True
            except OSError:
                return False
        wait_until(ready, timeout, what="capture server")
        return self

    def stop(self):
        stop_process(self.proc)
        self.proc = None

    def files(self):
        return sorted(os.path.join(self.maildir, f[:-5] + ".eml")
                      for f in os.listdir(self.maildir) if f.endswith(".json"))

    def messages(self):
        return [Delivered(p) for p in self.files()]

    def clear(self):
        for f in os.listdir(self.maildir):
            os.unlink(os.path.join(self.maildir, f))

    def wait_messages(self, n, timeout=30):
        """wait_messages - wait until at least n messages arrived; return them all"""
        wait_until(lambda: len(self.files()) >= n, timeout,
                   what="%d delivered message(s) in %s" % (n, self.maildir))
        return self.messages()

    def find(self, message_id):
        """find - delivered messages whose Message-ID is message_id (<...> optional)"""
        mid = message_id.strip("<>").encode()
        out = []
        for p in self.files():
            with open(p, "rb") as f:
                head = f.read(200000).split(b"\r\n\r\n", 1)[0]
            if re.search(rb"(?im)^message-id:\s*<" + re.escape(mid) + rb">", head):
                out.append(Delivered(p))
        return out

    def wait_for(self, message_id, timeout=30):
        """wait_for - wait until the message with message_id was delivered; return it"""
        found = wait_until(lambda: self.find(message_id), timeout,
                           what="delivery of <%s>" % message_id.strip("<>"))
        return found[0]


# ---------------------------------------------------------------------------
# milters

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
    """txmilter -f -x TXCONF (binary from $TXMILTER, default build/txmilter)."""

    kind = "txmilter"

    def __init__(self, workdir, setup, socket_kind="unix", port=None, binary=None,
                 name=None, raw_conf=None, tag=None, sock_name="milter.sock"):
        super().__init__(workdir, socket_kind, port, name, tag, sock_name)
        self.binary = binary or txmilter_binary()
        self.setup = setup
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
        self.write_conf(lines)

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


# ---------------------------------------------------------------------------
# /etc/postfix/main.cf: alternate_config_directories for private instances

class MainCfRegistration:
    """List a private config dir in the default main.cf while it is in use.

    Several test runs may share the machine, so the file is changed under a lock and a
    state file records the original content and every registered directory with its
    owner's pid.  When the last registration goes, the original file is restored byte
    for byte (or removed, if there was none)."""

    LOCK = "/run/lock/txmilter-tests-main.cf.lock"
    STATE = "/run/txmilter-tests-main.cf.json"
    BEGIN = ("# BEGIN txmilter-tests: temporary, for private test/demo Postfix instances;"
             " removed when they stop\n")
    END = "# END txmilter-tests\n"

    def __init__(self, confdir, owner_pid=None):
        self.confdir = os.path.abspath(confdir)
        self.owner_pid = owner_pid        # whose life the registration lasts (default: ours)
        self.registered = False

    def _locked(self, fn):
        make_dir(os.path.dirname(self.LOCK), 0o1777) if not os.path.isdir(
            os.path.dirname(self.LOCK)) else None
        with open(self.LOCK, "a") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            try:
                return fn()
            finally:
                fcntl.flock(lk, fcntl.LOCK_UN)

    def _load_state(self):
        try:
            with open(self.STATE) as f:
                st = json.load(f)
        except (OSError, ValueError):
            st = None
        if st is not None:
            # forget registrations of dead runs
            st["dirs"] = {d: pid for d, pid in st["dirs"].items() if _pid_alive(pid)}
        return st

    def _write(self, st):
        if not st["dirs"]:
            if st["original"] is None:
                if os.path.exists(MAIN_CF):
                    os.unlink(MAIN_CF)
            else:
                _atomic_write(MAIN_CF, st["original"].encode("latin-1"), st["mode"])
            os.unlink(self.STATE)
            return
        orig = st["original"] or ""
        prior = st.get("prior_alternates", "")
        text = orig
        if text and not text.endswith("\n"):
            text += "\n"
        text += self.BEGIN
        text += "alternate_config_directories = %s\n" % " ".join(
            ([prior] if prior else []) + sorted(st["dirs"]))
        text += self.END
        _atomic_write(MAIN_CF, text.encode("latin-1"), st["mode"] or 0o644)
        _atomic_write(self.STATE, json.dumps(st).encode(), 0o600)

    def register(self):
        def do():
            st = self._load_state()
            if st is None:
                original, mode, prior = None, None, ""
                if os.path.exists(MAIN_CF):
                    with open(MAIN_CF, "rb") as f:
                        original = f.read().decode("latin-1")
                    # a block left by a run whose state vanished (/run is cleared at boot)
                    i = original.find(self.BEGIN)
                    j = original.find(self.END, i)
                    if i >= 0 and j > i:
                        original = original[:i] + original[j + len(self.END):]
                        _atomic_write(MAIN_CF, original.encode("latin-1"),
                                      os.stat(MAIN_CF).st_mode & 0o7777)
                    mode = os.stat(MAIN_CF).st_mode & 0o7777
                    p = run(["postconf", "-h", "-c", "/etc/postfix",
                             "alternate_config_directories"], check=False)
                    prior = p.stdout.decode().strip() if p.returncode == 0 else ""
                st = {"original": original, "mode": mode, "prior_alternates": prior, "dirs": {}}
            st["dirs"][self.confdir] = self.owner_pid or os.getpid()
            self._write(st)
        self._locked(do)
        self.registered = True

    def set_owner(self, pid):
        """set_owner - tie the registration to another process (e.g. a Postfix master that
        outlives this script); a later register() drops it once that process is gone"""
        self.owner_pid = pid
        if self.registered:
            self.register()

    def unregister(self, force=False):
        if not self.registered and not force:
            return

        def do():
            st = self._load_state()
            if st is None:
                return
            st["dirs"].pop(self.confdir, None)
            self._write(st)
        self._locked(do)
        self.registered = False


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError as e:
        return e.errno == errno.EPERM


def _atomic_write(path, data, mode):
    tmp = path + ".txtests-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode if mode is not None else 0o644)
    os.rename(tmp, path)


# ---------------------------------------------------------------------------
# Postfix

MASTER_CF = """\
# master.cf of a private test instance (written by mailrig.py)
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class SmtpResult:
    """What the SMTP server answered at each step of one submission."""

    def __init__(self):
        self.connect = None
        self.mail = None
        self.rcpts = {}                   # address -> (code, text)
        self.data = None                  # (code, text) or None when DATA was not reached
        self.error = None                 # exception text if the session broke

    @property
    def accepted(self):
        return self.data is not None and self.data[0] == 250

    @property
    def refusal(self):
        """(stage, code, text) of the first 4xx/5xx reply, or None"""
        for stage, rep in [("connect", self.connect), ("mail", self.mail)] + \
                [("rcpt " + k, v) for k, v in self.rcpts.items()] + [("data", self.data)]:
            if rep is not None and rep[0] >= 400:
                return (stage, rep[0], rep[1])
        return None

    @property
    def all_refused(self):
        """did the server refuse the message as a whole (4xx/5xx at MAIL, every RCPT, or DATA)?"""
        if self.mail and self.mail[0] >= 400:
            return True
        if self.rcpts and all(v[0] >= 400 for v in self.rcpts.values()):
            return True
        return self.data is not None and self.data[0] >= 400

    @property
    def queue_id(self):
        if self.data:
            m = re.search(r"queued as ([0-9A-Za-z]+)", self.data[1])
            if m:
                return m.group(1)
        return None

    def __repr__(self):
        return "<SmtpResult mail=%r rcpts=%r data=%r error=%r>" % (
            self.mail, self.rcpts, self.data, self.error)


def _reply(code_text):
    code, text = code_text
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return (code, text)


class Postfix:
    """A private Postfix instance: smtpd on 127.0.0.1:smtpd_port, relaying everything to
    relay (host, port), with smtpd_milters and non_smtpd_milters = milter_spec."""

    def __init__(self, workdir, relay, milter_spec, smtpd_port=None, name="postfix",
                 ipv6=False, extra=None):
        self.dir = make_dir(os.path.join(workdir, name))
        make_traversable(self.dir)
        self.confdir = make_dir(os.path.join(self.dir, "etc"))
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.maillog = os.path.join(self.dir, "maillog")
        self.smtpd_port = smtpd_port or free_port()
        self.relay = relay
        self.milter_spec = milter_spec
        self.ipv6 = ipv6
        self.extra = dict(extra or {})
        self.reg = MainCfRegistration(self.confdir)
        self.started = False
        self.syslog_name = "postfix-txtest"

    def main_cf(self):
        host, port = self.relay
        p = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "meta_directory": "/etc/postfix",
            "shlib_directory": "/usr/lib/postfix",
            "command_directory": "/usr/sbin",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "syslog_name": self.syslog_name,
            "myhostname": "relay.txtest.example",
            "mydomain": "txtest.example",
            "myorigin": "$myhostname",
            "inet_interfaces": "127.0.0.1, [::1]" if self.ipv6 else "127.0.0.1",
            "inet_protocols": "all" if self.ipv6 else "ipv4",
            "mydestination": "",
            "local_transport": "error:local delivery is disabled",
            "alias_maps": "",
            "alias_database": "",
            "mynetworks": "127.0.0.0/8" + (" [::1]/128" if self.ipv6 else ""),
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            # Pass client headers through untouched (no From:/Date: added, no address
            # rewriting), so the milter sees exactly what the client sent.
            "local_header_rewrite_clients": "",
            "relayhost": ("[%s]:%d" % (host, port)),
            "smtp_dns_support_level": "disabled",
            "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.dir,
            "smtpd_milters": self.milter_spec,
            "non_smtpd_milters": self.milter_spec,
            "milter_default_action": "tempfail",
            "milter_protocol": "6",
            "message_size_limit": "120000000",
            "mailbox_size_limit": "0",
            "biff": "no",
            "smtputf8_enable": "yes",
            "queue_run_delay": "5s",
            "minimal_backoff_time": "5s",
            "maximal_backoff_time": "10s",
            "smtpd_error_sleep_time": "0",
            "smtpd_soft_error_limit": "100",
            "smtpd_hard_error_limit": "200",
            "smtpd_client_connection_rate_limit": "0",
            "anvil_rate_time_unit": "60s",
            "default_process_limit": "20",
            "notify_classes": "",
            "bounce_notice_recipient": "postmaster",
        }
        p.update(self.extra)
        return "".join("%s = %s\n" % kv for kv in p.items())

    def postfix(self, *args, check=True):
        """postfix - run postfix(1) on this instance (it reports errors only on a tty or
        in the maillog, so a failure carries the maillog's tail)"""
        try:
            return run(["postfix", "-c", self.confdir] + list(args), check=check, timeout=60)
        except RigError as e:
            raise RigError("%s\nmaillog:\n%s" % (e, tail(self.maillog, 3000)))

    def postconf(self, *args):
        return run(["postconf", "-c", self.confdir] + list(args)).stdout.decode()

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, timeout=30):
        for d in (self.queue, self.data):
            make_dir(d)
        with open(os.path.join(self.confdir, "main.cf"), "w") as f:
            f.write(self.main_cf())
        listen = "127.0.0.1:%d" % self.smtpd_port
        if self.ipv6:
            listen = "127.0.0.1:%d inet n - n - - smtpd\n[::1]:%d" % (
                self.smtpd_port, self.smtpd_port)
        with open(os.path.join(self.confdir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen=listen))
        open(self.maillog, "ab").close()
        self.reg.register()
        try:
            self.postfix("set-permissions")
            self.postfix("check")
            self.postfix("start")
            self.started = True
            wait_until(lambda: self._smtpd_ready(), timeout, what="postfix smtpd")
        except Exception:
            self.stop()
            raise
        return self

    def _smtpd_ready(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.smtpd_port), 1)
            s.settimeout(5)
            banner = s.recv(512)
            s.sendall(b"QUIT\r\n")
            s.close()
            return banner.startswith(b"220")
        except OSError:
            return False

    def _our_pids(self):
        """processes whose environment says they belong to this instance"""
        pids = []
        key = ("MAIL_CONFIG=" + self.confdir).encode()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if key in env:
                pids.append(int(d))
        return pids

    def stop(self, force=False):
        """stop - stop the instance (force: also one that another process started) and
        take its directory out of /etc/postfix/main.cf again"""
        if force and not self.started:
            pid = self.master_pid()
            self.started = pid is not None and _pid_alive(pid) or bool(self._our_pids())
            if os.path.exists(os.path.join(self.confdir, "main.cf")):
                self.reg.register()       # postfix -c DIR needs it, even to stop
        try:
            if self.started:
                self.postfix("stop", check=False)
                try:
                    wait_until(lambda: not self._our_pids(), 20, interval=0.2,
                               what="postfix processes to exit")
                except RigError:
                    for pid in self._our_pids():
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
                self.started = False
        finally:
            self.reg.unregister()

    def reload(self):
        self.postfix("reload")

    def set_milter(self, spec):
        """set_milter - point smtpd_milters and non_smtpd_milters at spec and reload"""
        self.milter_spec = spec
        self.postconf("-e", "smtpd_milters=" + spec, "non_smtpd_milters=" + spec)
        if self.started:
            self.reload()
            time.sleep(1.0)

    # -- submitting

    def submit(self, mail_from, rcpts, msg, source_address=None, host="127.0.0.1",
               port=None, timeout=120, helo="client.txtest.example"):
        """submit - send msg (bytes) by SMTP; return SmtpResult with every reply"""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        r = SmtpResult()
        port = port or self.smtpd_port
        try:
            s = smtplib.SMTP(timeout=timeout,
                             source_address=(source_address, 0) if source_address else None)
            r.connect = _reply(s.connect(host, port))
            s.ehlo(helo)
            r.mail = _reply(s.mail(mail_from))
            if r.mail[0] != 250:
                s.quit()
                return r
            ok = False
            for rc in rcpts:
                r.rcpts[rc] = _reply(s.rcpt(rc))
                ok = ok or r.rcpts[rc][0] in (250, 251)
            if not ok:
                s.quit()
                return r
            try:
                r.data = _reply(s.data(msg))
            except smtplib.SMTPDataError as e:
                r.data = _reply((e.smtp_code, e.smtp_error))
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                pass
        except (smtplib.SMTPException, OSError) as e:
            r.error = "%s: %s" % (type(e).__name__, e)
        return r

    def submit_raw(self, transcript_lines, data, host="127.0.0.1", port=None, timeout=60):
        """submit_raw - speak SMTP over a bare socket (data sent unmodified, must end in
        CRLF.CRLF); returns the list of reply lines received"""
        port = port or self.smtpd_port
        s = socket.create_connection((host, port), timeout)
        f = s.makefile("rb")
        replies = []

        def read_reply():
            lines = []
            while True:
                line = f.readline()
                if not line:
                    break
                lines.append(line.decode(errors="replace").rstrip("\r\n"))
                if len(line) < 4 or line[3:4] != b"-":
                    break
            replies.append("\n".join(lines))
            return lines[-1] if lines else ""

        read_reply()
        for cmd in transcript_lines:
            s.sendall(cmd.encode() + b"\r\n")
            read_reply()
        s.sendall(data)
        read_reply()
        try:
            s.sendall(b"QUIT\r\n")
            read_reply()
        except OSError:
            pass
        s.close()
        return replies

    def sendmail(self, mail_from, rcpts, msg, timeout=60):
        """sendmail - submit through sendmail(1) (pickup -> non_smtpd_milters)"""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        p = subprocess.run(["sendmail", "-C", self.confdir, "-i", "-f", mail_from, "--"]
                           + rcpts, input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")

    # -- the log

    def log_text(self):
        with open(self.maillog, "rb") as f:
            return f.read().decode(errors="replace")

    def queue_id_of(self, message_id):
        """queue_id_of - the queue id cleanup logged for message_id, or None"""
        mid = re.escape(message_id.strip("<>"))
        m = re.search(r"\]: ([0-9A-Za-z]+): message-id=<" + mid + ">", self.log_text())
        return m.group(1) if m else None

    def log_for(self, message_id):
        """log_for - every maillog line about the message with this Message-ID"""
        qid = self.queue_id_of(message_id)
        if not qid:
            return []
        return [l for l in self.log_text().splitlines() if (" %s: " % qid) in l]

    def fate(self, message_id):
        """fate - what Postfix did with a message, from the maillog:
        {"queue_id", "status" ("sent", "deferred", "bounced", "milter-reject",
        "milter-tempfail", "milter-discard", "queued", None), "reply", "lines"}"""
        lines = self.log_for(message_id)
        out = {"queue_id": self.queue_id_of(message_id), "status": None, "reply": None,
               "lines": lines}
        for l in lines:
            m = re.search(r"milter-(reject|discard|hold): \S+ from \S+: (.*?);", l)
            if m:
                code = m.group(2)[:1]
                out["status"] = "milter-%s" % ("tempfail" if code == "4" else m.group(1))
                out["reply"] = m.group(2)
            m = re.search(r"status=(sent|deferred|bounced|expired) \((.*)\)", l)
            if m:
                out["status"], out["reply"] = m.group(1), m.group(2)
            if out["status"] is None and "(queue active)" in l:
                out["status"] = "queued"
        return out

    def wait_log(self, pattern, timeout=20):
        rx = re.compile(pattern, re.M)
        return wait_until(lambda: rx.search(self.log_text()), timeout,
                          what="maillog line /%s/" % pattern)

    def wait_log_for(self, message_id, pattern, timeout=20):
        """wait_log_for - wait until a maillog line about message_id matches pattern"""
        rx = re.compile(pattern)

        def found():
            for l in self.log_for(message_id):
                if rx.search(l):
                    return l
            return None
        return wait_until(found, timeout,
                          what="maillog line /%s/ for <%s>" % (pattern, message_id))

    def queue_count(self):
        n = 0
        for sub in ("incoming", "active", "deferred", "hold", "maildrop"):
            for _, _, files in os.walk(os.path.join(self.queue, sub)):
                n += len(files)
        return n

    def flush(self):
        run(["postqueue", "-c", self.confdir, "-f"], check=False)


# ---------------------------------------------------------------------------
# messages

HDR_SPLIT = re.compile(rb"\r\n(?![ \t])")


class Message:
    """A raw message (bytes, CRLF) with helpers for header assertions.

    headers: list of (name, field) where field is the exact bytes of the whole field
    (name, colon, value, folds), without the final CRLF."""

    def __init__(self, raw):
        self.raw = raw
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep and raw.endswith(b"\r\n"):
            head = raw[:-2]
        self.head = head
        self.body = body
        self.headers = []
        for field in HDR_SPLIT.split(head) if head else []:
            name = field.split(b":", 1)[0]
            self.headers.append((name.decode("latin-1"), field))

    def names(self):
        return [n for n, _ in self.headers]

    def fields(self, name):
        return [f for n, f in self.headers if n.lower() == name.lower()]

    def values(self, name):
        return [f.split(b":", 1)[1] for f in self.fields(name)]

    def dkim_signatures(self):
        """the DKIM-Signature tag dicts, topmost first (values unfolded, WSP removed)"""
        out = []
        for v in self.values("DKIM-Signature"):
            out.append(parse_tags(v))
        return out


def parse_tags(value):
    """parse_tags - DKIM tag=value list (bytes) to a dict of str, whitespace removed"""
    tags = {}
    for part in value.decode("latin-1").split(";"):
        if "=" not in part:
            continue
        k, v = part.split("=", 1)
        tags[k.strip()] = re.sub(r"\s+", "", v)
    return tags


def make_message(subject="txmilter test", from_addr="sender@example.com",
                 to_addr="rcpt@receiver.example", body=None, extra_headers=(),
                 message_id=None, headers=None):
    """make_message - a CRLF message; returns (bytes, message_id)"""
    import email.utils
    import uuid
    mid = message_id or "%s@txtest.example" % uuid.uuid4().hex
    if headers is None:
        headers = [
            ("From", from_addr),
            ("To", to_addr),
            ("Subject", subject),
            ("Date", email.utils.formatdate(localtime=False)),
            ("Message-ID", "<%s>" % mid),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
        ]
    lines = []
    for h in list(headers) + list(extra_headers):
        if isinstance(h, bytes):
            lines.append(h)
        else:
            n, v = h
            lines.append(("%s: %s" % (n, v)).encode("utf-8") if isinstance(v, str)
                         else n.encode() + b": " + v)
    if body is None:
        body = b"Hello,\r\n\r\nthis is a test message from the txmilter integration suite.\r\n"
    return b"\r\n".join(lines) + b"\r\n\r\n" + body, mid


# ---------------------------------------------------------------------------
# verifiers

class SigResult:
    def __init__(self, index, d, s, a, ok, detail, verifier, h=""):
        self.index, self.d, self.s, self.a = index, d, s, a
        self.ok, self.detail, self.verifier, self.h = ok, detail, verifier, h

    def __repr__(self):
        return "<%s sig#%d d=%s s=%s a=%s %s%s>" % (
            self.verifier, self.index, self.d, self.s, self.a,
            "pass" if self.ok else "FAIL", "" if self.ok else " (%s)" % self.detail)


def verify_dkimpy(raw, dns_port):
    """verify_dkimpy - check each DKIM-Signature of raw separately with dkimpy"""
    import dkim

    def dnsfunc(name, timeout=5):
        return dns_txt(dns_port, name, timeout)

    n = len(Message(raw).fields("DKIM-Signature"))
    out = []
    for i in range(n):
        d = dkim.DKIM(raw, minkey=1024)
        tags = Message(raw).dkim_signatures()[i]
        try:
            ok = bool(d.verify(idx=i, dnsfunc=dnsfunc))
            detail = "pass" if ok else "signature did not verify"
        except dkim.DKIMException as e:
            ok, detail = False, "%s: %s" % (type(e).__name__, e)
        out.append(SigResult(i, tags.get("d", ""), tags.get("s", ""), tags.get("a", ""),
                             ok, detail, "dkimpy", tags.get("h", "")))
    return out


def verify_maildkim(raw, dns_port):
    """verify_maildkim - check each DKIM-Signature of raw with Mail::DKIM (perl)"""
    p = run(["perl", os.path.join(HERE, "verify_maildkim.pl"), str(dns_port)],
            input=raw, timeout=300)
    out = []
    for line in p.stdout.decode().splitlines():
        o = json.loads(line)
        if "overall" in o:
            continue
        out.append(SigResult(o["index"], o["d"], o["s"], o["a"], o["result"] == "pass",
                             "%s: %s" % (o["result"], o["detail"]), "Mail::DKIM"))
    return out


def verify_all(raw, dns_port):
    """verify_all - dkimpy for every signature, Mail::DKIM for the RSA ones.

    Returns (dkimpy_results, maildkim_results)."""
    return verify_dkimpy(raw, dns_port), verify_maildkim(raw, dns_port)


def describe(results):
    return "; ".join(repr(r) for r in results)


def check_signed(raw, dns_port, expect):
    """check_signed - verify raw with both verifiers and compare with expectations.

    expect: list of (d, a) pairs, one per signature txmilter should have added, in any
    order (a is "rsa-sha256" or "ed25519-sha256").  Every expected signature must be
    present and pass dkimpy; RSA ones must also pass Mail::DKIM, and Mail::DKIM must not
    claim an Ed25519 one passes or crash on it (Debian's cannot verify Ed25519: it has to
    say so).  Returns (dkimpy, maildkim) results; raises AssertionError with both
    verifiers' findings otherwise."""
    py, pl = verify_all(raw, dns_port)
    msg = "dkimpy: %s\nMail::DKIM: %s" % (describe(py), describe(pl))
    got = sorted((r.d, r.a) for r in py)
    for e in expect:
        assert e in got, "expected a signature d=%s a=%s; found %s\n%s" % (e[0], e[1], got, msg)
    for r in py:
        if (r.d, r.a) in expect:
            assert r.ok, "dkimpy rejects signature #%d (d=%s a=%s): %s\n%s" % (
                r.index, r.d, r.a, r.detail, msg)
    assert len(pl) == len(py), "verifiers disagree on the number of signatures\n" + msg
    for r in pl:
        if (r.d, r.a) not in expect:
            continue
        if r.a == "rsa-sha256":
            assert r.ok, "Mail::DKIM rejects RSA signature #%d (d=%s): %s\n%s" % (
                r.index, r.d, r.detail, msg)
        elif r.a == "ed25519-sha256" and r.ok is False:
            # Debian's Mail::DKIM (1.20230212) has no Ed25519: it must say so, not pass.
            assert re.search(r"unsupported algorithm", r.detail, re.I), \
                "unexpected Mail::DKIM result for Ed25519: %s\n%s" % (r.detail, msg)
    return py, pl


def check_not_verifying(raw, dns_port):
    """check_not_verifying - every signature fails in dkimpy and every RSA one in Mail::DKIM"""
    py, pl = verify_all(raw, dns_port)
    msg = "dkimpy: %s\nMail::DKIM: %s" % (describe(py), describe(pl))
    assert py, "no signature at all\n" + msg
    for r in py:
        assert not r.ok, "dkimpy still accepts signature #%d\n%s" % (r.index, msg)
    for r in pl:
        assert not r.ok, "Mail::DKIM still accepts signature #%d\n%s" % (r.index, msg)
    return py, pl


# ---------------------------------------------------------------------------
# a whole rig, for scripts (quickstart) that do not use pytest fixtures

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


if __name__ == "__main__":
    sys.stderr.write("mailrig.py is a module; see tests/integration/conftest.py\n")
    sys.exit(2)

# SPDX-License-Identifier: BSD-2-Clause
"""txmilter -n: what an operator sees when checking a configuration before a restart."""

import os
import pwd
import re
import shutil
import subprocess
import tempfile

import pytest

import mailrig

from mailrig.util import run
from mailrig.keys import KeyPair
from mailrig.milters import setup_for, SigningSetup, TxMilter

pytestmark = pytest.mark.txmilter_only


@pytest.fixture
def cfgdir(workdir, request):
    # short (socket paths have a limit) and unique (parametrised names share a prefix)
    d = tempfile.mkdtemp(prefix="cfg-" + request.node.name[:24] + "-", dir=workdir)
    os.chmod(d, 0o755)
    return d


def test_config_check_accepts_the_test_configuration(cfgdir, keys):
    m = TxMilter(cfgdir, setup_for(keys, "dual"), name="m")
    rc, err = m.check_config()
    assert rc == 0, err


def test_config_check_reports_unknown_directive_with_file_and_line(cfgdir, keys):
    m = TxMilter(cfgdir, setup_for(keys, "rsa"), name="m")
    with open(m.conf_path, "a") as f:
        f.write("# a comment\nSigningTabel refile:/nonexistent\n")
    nlines = sum(1 for _ in open(m.conf_path))
    rc, err = m.check_config()
    assert rc != 0
    assert "%s:%d:" % (m.conf_path, nlines) in err, err


def test_config_check_refuses_a_world_readable_key(cfgdir, keys):
    key = os.path.join(cfgdir, "readable.pem")
    shutil.copy(keys["rsa_com"].path, key)
    os.chmod(key, 0o644)
    k = KeyPair(key, "example.com", "rsa1", "rsa", keys["rsa_com"].dns_txt)
    m = TxMilter(cfgdir, SigningSetup([k]), name="m")
    rc, err = m.check_config()
    assert rc != 0, "a private key readable by others must be refused"
    assert "readable.pem" in err, err


def test_config_check_reports_an_unknown_control_socket_group(cfgdir, keys):
    """the daemon would refuse to start: -n says so first, with file and line"""
    m = TxMilter(cfgdir, setup_for(keys, "rsa", extra=[
        ("ControlSocket", os.path.join(cfgdir, "ctl.sock")),
        ("ControlSocketGroup", "txmt-no-such-group")]), name="m")
    rc, err = m.check_config()
    assert rc == 1, err
    assert '%s:%d: ControlSocketGroup: no such group "txmt-no-such-group"' % (
        m.conf_path, line_of(m.conf_path, "ControlSocketGroup")) in err, err


# --- files that are not regular files (issue 10) ---------------------------------------

def line_of(path, name):
    """the line of path that sets directive name"""
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.split(None, 1)[:1] == [name]:
                return n
    raise AssertionError("%s sets no %s" % (path, name))


def check_bounded(cmd):
    """run a -n check; a check that blocks fails the test instead of hanging it"""
    try:
        p = run(cmd, check=False, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("%s still running after 20 s: it blocked on a file" % " ".join(cmd))
    return p.returncode, p.stderr.decode(errors="replace")


def fifo_in(d, name):
    path = os.path.join(d, name)
    os.mkfifo(path, 0o600)
    return path


def fifo_keyfile(d, keys):
    """KeyFile (the Domain/Selector/KeyFile shorthand) names a FIFO"""
    k = KeyPair(fifo_in(d, "key.fifo"), "example.com", "rsa1", "rsa",
                        keys["rsa_com"].dns_txt)
    return SigningSetup([k], shorthand=True), "KeyFile", None


def fifo_keytable_key(d, keys):
    """a KeyTable line names a FIFO as its key file"""
    k = KeyPair(fifo_in(d, "key.fifo"), "example.com", "rsa1", "rsa",
                        keys["rsa_com"].dns_txt)
    return SigningSetup([k]), "KeyTable key file", ("KeyTable", 1)


def fifo_extra(name, *more):
    """a directive naming a FIFO, with the directives that make it used"""
    def make(d, keys):
        lines = [(name, fifo_in(d, name + ".fifo"))] + list(more)
        return setup_for(keys, "rsa", extra=lines), name, None
    make.__doc__ = "%s names a FIFO" % name
    return make


FIFO_CASES = {
    "KeyFile": fifo_keyfile,
    "KeyTable": fifo_keytable_key,
    "PublicSuffixList": fifo_extra("PublicSuffixList", ("EgressAddress", "192.0.2.25")),
    "TrustAnchorFile": fifo_extra("TrustAnchorFile", ("EgressAddress", "192.0.2.25")),
    "UnsubscribeKeyFile": fifo_extra("UnsubscribeKeyFile",
                                     ("UnsubscribeURL", "https://unsub.example.com/u/%{token}")),
    "RateLimitPolicy": fifo_extra("RateLimitPolicy"),
}


@pytest.mark.parametrize("case", sorted(FIFO_CASES))
def test_config_check_refuses_a_fifo_quickly_with_file_and_line(cfgdir, keys, case):
    setup, what, at = FIFO_CASES[case](cfgdir, keys)
    m = TxMilter(cfgdir, setup, name="m")
    fifo = [p for p in os.listdir(cfgdir) if p.endswith(".fifo")]
    assert len(fifo) == 1
    fifo = os.path.join(cfgdir, fifo[0])
    rc, err = check_bounded([m.binary, "-n", "-x", m.conf_path])
    assert rc != 0, "a FIFO as %s passed -n:\n%s" % (case, err)
    if at is None:
        at = (m.conf_path, line_of(m.conf_path, case))
    else:
        at = (os.path.join(m.dir, at[0]), at[1])          # a table next to the file
    want = "%s:%d: %s %s: not a regular file" % (at[0], at[1], what, fifo)
    assert want in err, err


def test_unsubd_check_refuses_a_fifo_as_unsubscribe_key_file(cfgdir, keys):
    from unsub_helpers import unsubd_binary
    setup, _, _ = fifo_extra("UnsubscribeKeyFile",
                             ("UnsubscribeURL", "https://unsub.example.com/u/%{token}"),
                             ("DataDirectory", cfgdir))(cfgdir, keys)
    m = TxMilter(cfgdir, setup, name="m")
    rc, err = check_bounded([unsubd_binary(), "-n", "-x", m.conf_path])
    assert rc != 0, err
    want = "%s:%d: UnsubscribeKeyFile %s: not a regular file" % (
        m.conf_path, line_of(m.conf_path, "UnsubscribeKeyFile"),
        os.path.join(cfgdir, "UnsubscribeKeyFile.fifo"))
    assert want in err, err


# --- a configuration that signs nothing (issue 10) ------------------------------------

def cut_before(path, name):
    """truncate path just before the line that sets name (a copy cut short)"""
    with open(path) as f:
        lines = f.readlines()
    n = line_of(path, name)
    with open(path, "w") as f:
        f.writelines(lines[:n - 1])


@pytest.mark.parametrize("how", ["empty", "cut_before_keytable"])
def test_config_check_refuses_a_configuration_that_signs_nothing(cfgdir, keys, how):
    m = TxMilter(cfgdir, setup_for(keys, "rsa"), name="m")
    if how == "empty":
        open(m.conf_path, "w").close()
    else:
        cut_before(m.conf_path, "KeyTable")
    rc, err = check_bounded([m.binary, "-n", "-x", m.conf_path])
    assert rc != 0, "a configuration without keys passed -n:\n" + err
    assert "%s: no signing key configured" % m.conf_path in err, err
    assert 'Signing no' in err, "no hint at the directive that allows it:\n" + err

    # said explicitly, it is a valid configuration
    with open(m.conf_path, "a") as f:
        f.write("Signing no\n")
    rc, err = check_bounded([m.binary, "-n", "-x", m.conf_path])
    assert rc == 0, err


def test_config_check_refuses_signing_no_next_to_keys(cfgdir, keys):
    m = TxMilter(cfgdir, setup_for(keys, "rsa", extra=[("Signing", "no")]), name="m")
    rc, err = check_bounded([m.binary, "-n", "-x", m.conf_path])
    assert rc != 0, err
    assert "%s:%d: Signing no, but signing keys are configured" % (
        m.conf_path, line_of(m.conf_path, "Signing")) in err, err


# --- one run reports every stage; what would only fail later (issue 14) ----------------

def check_run(conf):
    """txmilter -n -x conf, bounded: (returncode, stdout, stderr lines)"""
    try:
        p = mailrig.run([mailrig.txmilter_binary(), "-n", "-x", conf], check=False, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("txmilter -n -x %s still running after 30 s" % conf)
    return (p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace").splitlines())


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    return path


def need_user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pytest.skip("no user %s on this system" % name)


def test_config_check_reports_every_stage_in_one_run(cfgdir, keys):
    """a bad directive, a bad InternalHosts entry, a bad KeyTable line and an unknown
    UserID: each used to need a run of its own"""
    setup = setup_for(keys, "rsa", internal="127.0.0.1, 10.0.0.0/33",
                      extra=[("SyslogFacility", "kern"), ("UserID", "txmt-no-such-user")])
    m = mailrig.TxMilter(cfgdir, setup, name="m")
    kt = os.path.join(m.dir, "KeyTable")
    with open(kt, "a") as f:
        f.write("broken example.com\n")
    rc, out, err = check_run(m.conf_path)
    assert rc == 1, err
    c = m.conf_path
    assert err == [
        '%s:%d: SyslogFacility: unknown syslog facility "kern" (expected mail, daemon, user '
        'or local0 to local7)' % (c, line_of(c, "SyslogFacility")),
        '%s:%d: bad prefix length in "10.0.0.0/33" (expected /0 to /32)'
        % (c, line_of(c, "InternalHosts")),
        '%s:2: key "broken": expected domain:selector:keypath after the key name' % kt,
        '%s:%d: UserID: no such user "txmt-no-such-user"' % (c, line_of(c, "UserID")),
    ], "\n".join(err)


def test_config_check_warns_but_accepts_an_open_relay_setup(cfgdir, keys):
    """an open signer, a socket on every interface and '*' in a flat SigningTable work,
    but are almost never meant: warnings, exit 0"""
    k = keys["rsa_com"]
    kt = write_lines(os.path.join(cfgdir, "KeyTable"),
                     ["rsa1 %s:%s:%s" % (k.domain, k.selector, k.path)])
    st = write_lines(os.path.join(cfgdir, "SigningTable"), ["*@example.com rsa1"])
    port = mailrig.free_port()
    c = write_lines(os.path.join(cfgdir, "open.conf"), [
        "Socket inet:%d" % port,
        "InternalHosts 127.0.0.1, 0.0.0.0/0, ::/0",
        "KeyTable " + kt,
        "SigningTable " + st,
    ])
    rc, out, err = check_run(c)
    assert rc == 0, err
    assert out.strip() == "%s: configuration is valid (1 signing key, 4 warnings)" % c
    every = ("lets every client in: anyone who reaches the relay gets mail signed as your "
             "domains (an open signer); list your own networks")
    assert err == [
        "%s:2: warning: InternalHosts 0.0.0.0/0 %s" % (c, every),
        "%s:2: warning: InternalHosts ::/0 %s" % (c, every),
        "%s:1: warning: Socket inet:%d listens on every interface: use inet:PORT@localhost "
        "unless remote MTAs must connect (then firewall the port)" % (c, port),
        "%s:1: warning: \"*@example.com\" never matches: without refile: the SigningTable's "
        "'*' is no wildcard; write \"SigningTable refile:%s\" (%s:4); with On-NoKey accept "
        "that mail goes out unsigned" % (st, st, c),
    ], "\n".join(err)


def test_daemon_logs_the_warnings_at_start(cfgdir, keys):
    m = mailrig.TxMilter(cfgdir, setup_for(keys, "rsa", internal="127.0.0.1, 0.0.0.0/0"),
                         name="m")
    m.start()
    try:
        m.wait_log(r"%s:\d+: warning: InternalHosts 0\.0\.0\.0/0 lets every client in"
                   % re.escape(m.conf_path))
    finally:
        m.stop()


def test_config_check_refuses_keys_the_userid_cannot_read(cfgdir, keys):
    """root-owned 0600 keys pass the check as root but fail on reload, as UserID"""
    user = need_user("nobody")
    kdir = mailrig.make_dir(os.path.join(cfgdir, "keys"), 0o755)
    key = os.path.join(kdir, "rsa.pem")
    shutil.copy(keys["rsa_com"].path, key)
    os.chmod(key, 0o600)
    k = mailrig.KeyPair(key, "example.com", "rsa1", "rsa", keys["rsa_com"].dns_txt)
    m = mailrig.TxMilter(cfgdir, mailrig.SigningSetup([k], extra=[("UserID", "nobody")]),
                         name="m")
    rc, out, err = check_run(m.conf_path)
    assert rc == 1, err
    assert err == [
        "%s:1: KeyTable key file %s: nobody cannot read it (Permission denied), so a reload "
        "(SIGHUP), which runs as that user, fails: chown nobody %s"
        % (os.path.join(m.dir, "KeyTable"), key, key)], "\n".join(err)

    os.chown(key, user.pw_uid, -1)
    rc, out, err = check_run(m.conf_path)
    assert rc == 0 and err == [], err


def test_config_check_wants_a_data_directory_the_userid_can_write(cfgdir):
    """the embedded suppression list keeps its SQLite file in DataDirectory"""
    user = need_user("nobody")
    from unsub_helpers import write_keyfile
    ukey = write_keyfile(os.path.join(cfgdir, "unsub.keys"), [(1, os.urandom(32))])
    os.chown(ukey, user.pw_uid, -1)
    data = os.path.join(cfgdir, "data")
    c = write_lines(os.path.join(cfgdir, "unsub.conf"), [
        "Signing no",
        "UserID nobody",
        "UnsubscribeKeyFile " + ukey,
        "UnsubscribeURL https://unsub.example.com/u/%{token}",
        "DataDirectory " + data,
    ])
    rc, out, err = check_run(c)
    assert rc == 1
    assert err == ["%s:5: DataDirectory %s: No such file or directory: create the directory, "
                   "owned by nobody (the embedded suppression list keeps its SQLite file "
                   "there)" % (c, data)], "\n".join(err)

    os.mkdir(data, 0o755)
    rc, out, err = check_run(c)
    assert rc == 1
    assert err == ["%s:5: DataDirectory %s: nobody cannot write it (Permission denied): "
                   "chown nobody %s" % (c, data, data)], "\n".join(err)

    os.chown(data, user.pw_uid, -1)
    rc, out, err = check_run(c)
    assert rc == 0 and err == [], err


KEYFILE_USE_CASES = {
    # name: (the lines beside Signing no, DataDirectory and UnsubscribeKeyFile, the error)
    "ComplaintAddress alone": (["ComplaintAddress fbl@bounce.example.com"], None),
    "ReturnPath alone": (["ReturnPath bounces+%{token}@bounce.example.com"], None),
    "UnsubscribeURL": (["UnsubscribeURL https://unsub.example.com/u/%{token}"], None),
    "nothing": ([], "{c}:{k}: UnsubscribeKeyFile is set but nothing uses its keys: they seal and "
                "open the tokens of UnsubscribeURL (https, one-click), UnsubscribeMailto (mail "
                "only), ReturnPath (bounces) and ComplaintAddress (feedback reports): set one "
                "of them, or remove it"),
    "UnsubscribeMailto without the keys": (
        ["UnsubscribeMailto unsubscribe+%{token}@bounce.example.com"],
        "{c}:{u}: UnsubscribeMailto needs UnsubscribeKeyFile: its tokens are sealed with those "
        "keys"),
}


@pytest.mark.parametrize("case", sorted(KEYFILE_USE_CASES))
def test_config_check_names_what_uses_the_unsubscribe_keys(cfgdir, case):
    """UnsubscribeKeyFile goes with what seals or opens its tokens: ComplaintAddress alone
    (reports about mail already sent) is one; a key file nothing uses is refused with a
    message naming all four, and a List-Unsubscribe without keys names the directive"""
    from unsub_helpers import write_keyfile
    more, want = KEYFILE_USE_CASES[case]
    data = mailrig.make_dir(os.path.join(cfgdir, "data"), 0o700)
    lines = ["Signing no", "DataDirectory " + data, "ControlSocket none"]
    if "without the keys" not in case:
        lines.append("UnsubscribeKeyFile " + write_keyfile(os.path.join(cfgdir, "unsub.keys"),
                                                           [(1, os.urandom(32))]))
    c = write_lines(os.path.join(cfgdir, "keys.conf"), lines + more)
    rc, out, err = check_run(c)
    if want is None:
        assert rc == 0 and err == [], err
        return
    assert rc == 1, (out, err)
    assert err == [want.format(c=c, k=len(lines), u=len(lines) + 1)], "\n".join(err)


def test_config_check_warns_when_redis_and_the_resolver_do_not_answer(cfgdir, keys):
    """a warning, not an error: the daemon starts and follows StoreFailure/On-DNSError"""
    rport, dport = mailrig.free_port(), mailrig.free_port()
    m = mailrig.TxMilter(cfgdir, setup_for(keys, "rsa", extra=[
        ("Store", "redis://127.0.0.1:%d/" % rport),
        ("EgressAddress", "192.0.2.25"),
        ("Nameservers", "127.0.0.1@%d" % dport),
        ("DNSTimeout", "1")]), name="m")
    rc, out, err = check_run(m.conf_path)
    assert rc == 0, err
    c = m.conf_path
    text = "\n".join(err)
    assert ("%s:%d: warning: Store redis://127.0.0.1:%d/ does not answer (" % (
        c, line_of(c, "Store"), rport)) in text, text
    assert "until it does, StoreFailure local applies" in text, text
    # said once: the Redis pool asked does not log the same refusal on its own line
    about_redis = [l for l in err if "127.0.0.1:%d" % rport in l]
    assert len(about_redis) == 1, text
    assert ("%s:%d: warning: the resolver (127.0.0.1@%d) gave no answer for "
            "rsa1._domainkey.example.com" % (c, line_of(c, "Nameservers"), dport)) in text, text


# --- OpenDKIM migration (issue 14) ------------------------------------------------------

def opendkim_genkey(d, domain, selector):
    """a key as OpenDKIM users have them: opendkim-genkey, root-owned, 0600"""
    if shutil.which("opendkim-genkey") is None:
        pytest.skip("opendkim-genkey (opendkim-tools) is not installed")
    kdir = mailrig.make_dir(os.path.join(d, "keys", domain), 0o755)
    mailrig.run(["opendkim-genkey", "-D", kdir, "-d", domain, "-s", selector])
    key = os.path.join(kdir, selector + ".private")
    assert os.stat(key).st_mode & 0o777 == 0o600
    return key


def test_config_check_debian_stock_opendkim_conf(cfgdir):
    """Debian's /etc/opendkim.conf as installed: only the missing key is named; with a
    KeyTable added it is a valid txmilter.conf"""
    stock = "/etc/opendkim.conf"
    if not os.path.exists(stock):
        pytest.skip("opendkim is not installed")
    opendkim = need_user("opendkim")
    c = os.path.join(cfgdir, "opendkim.conf")
    shutil.copy(stock, c)
    os.chmod(c, 0o644)
    rc, out, err = check_run(c)
    assert rc == 1
    assert err == [
        '%s: no signing key configured (no KeyTable, no Domain/Selector/KeyFile): all mail '
        'would leave unsigned; make a key with "txmilterctl genkey" and add it to the '
        'KeyTable, or say "Signing no" if that is intended' % c], "\n".join(err)

    key = opendkim_genkey(cfgdir, "example.com", "mail")
    os.chown(key, opendkim.pw_uid, -1)
    kt = write_lines(os.path.join(cfgdir, "KeyTable"),
                     ["mail._domainkey.example.com example.com:mail:" + key])
    st = write_lines(os.path.join(cfgdir, "SigningTable"),
                     ["*@example.com mail._domainkey.example.com"])
    with open(c, "a") as f:
        f.write("KeyTable %s\nSigningTable refile:%s\n" % (kt, st))
    rc, out, err = check_run(c)
    assert rc == 0 and err == [], err
    assert out.strip() == "%s: configuration is valid (1 signing key)" % c


PRODUCTION_OPENDKIM = """\
# /etc/opendkim.conf of a typical relay, as the guides write it
Syslog                  yes
SyslogSuccess           yes
LogWhy                  yes
AutoRestart             yes
AutoRestartRate         10/1h
UMask                   002
Mode                    sv
Canonicalization        relaxed/simple
OversignHeaders         From
SignatureAlgorithm      rsa-sha256
ExternalIgnoreList      refile:{d}/TrustedHosts
InternalHosts           refile:{d}/TrustedHosts
KeyTable                refile:{d}/KeyTable
SigningTable            refile:{d}/SigningTable
Socket                  inet:8891@localhost
PidFile                 {d}/opendkim.pid
UserID                  opendkim:opendkim
"""


def test_config_check_typical_production_opendkim_conf(cfgdir):
    """everything to change is named in one run; after exactly those changes it passes"""
    opendkim = need_user("opendkim")
    d = cfgdir
    key = opendkim_genkey(d, "example.com", "mail")
    write_lines(os.path.join(d, "TrustedHosts"),
                ["127.0.0.1", "::1", "localhost", "192.168.1.*", "*.example.com"])
    kt = write_lines(os.path.join(d, "KeyTable"),
                     ["mail._domainkey.example.com example.com:mail:" + key])
    write_lines(os.path.join(d, "SigningTable"),
                ["*@example.com mail._domainkey.example.com"])
    c = os.path.join(d, "opendkim.conf")
    with open(c, "w") as f:
        f.write(PRODUCTION_OPENDKIM.format(d=d))
    rc, out, err = check_run(c)
    assert rc == 1
    restart = ("systemd restarts txmilter: set Restart=on-failure (and StartLimitBurst=, "
               "StartLimitIntervalSec=) in txmilter.service")
    assert err == [
        "%s:5: AutoRestart yes is not supported: %s" % (c, restart),
        "%s:6: AutoRestartRate is not supported: %s" % (c, restart),
        '%s:8: txmilter signs only; Mode sv is not supported: write "Mode s" and keep '
        'OpenDKIM or OpenDMARC for inbound verification' % c,
        "%s:1: KeyTable key file %s: opendkim cannot read it (Permission denied), so a "
        "reload (SIGHUP), which runs as that user, fails: chown opendkim %s" % (kt, key, key),
    ], "\n".join(err)

    # what the messages say, and nothing else
    with open(c) as f:
        lines = [l for l in f if not l.startswith("AutoRestart")]
    with open(c, "w") as f:
        f.writelines(l.replace("Mode                    sv", "Mode s") for l in lines)
    os.chown(key, opendkim.pw_uid, -1)
    rc, out, err = check_run(c)
    assert rc == 0 and err == [], err
    assert out.strip() == "%s: configuration is valid (1 signing key)" % c

"""txmilter -n: what an operator sees when checking a configuration before a restart."""

import os
import shutil
import subprocess
import tempfile

import pytest

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
    nlines = sum(1 for _ in open(m.conf_path))
    rc, err = m.check_config()
    assert rc == 1, err
    assert '%s:%d: ControlSocketGroup: no such group "txmt-no-such-group"' % (
        m.conf_path, nlines) in err, err


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

"""txmilter -n: what an operator sees when checking a configuration before a restart."""

import os
import shutil

import pytest

import mailrig
from mailrig import setup_for

pytestmark = pytest.mark.txmilter_only


@pytest.fixture
def cfgdir(workdir, request):
    d = mailrig.make_dir(os.path.join(workdir, "cfg-" + request.node.name[:40]))
    return d


def test_config_check_accepts_the_test_configuration(cfgdir, keys):
    m = mailrig.TxMilter(cfgdir, setup_for(keys, "dual"), name="m")
    rc, err = m.check_config()
    assert rc == 0, err


def test_config_check_reports_unknown_directive_with_file_and_line(cfgdir, keys):
    m = mailrig.TxMilter(cfgdir, setup_for(keys, "rsa"), name="m")
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
    k = mailrig.KeyPair(key, "example.com", "rsa1", "rsa", keys["rsa_com"].dns_txt)
    m = mailrig.TxMilter(cfgdir, mailrig.SigningSetup([k]), name="m")
    rc, err = m.check_config()
    assert rc != 0, "a private key readable by others must be refused"
    assert "readable.pem" in err, err


def test_config_check_reports_an_unknown_control_socket_group(cfgdir, keys):
    """the daemon would refuse to start: -n says so first, with file and line"""
    m = mailrig.TxMilter(cfgdir, setup_for(keys, "rsa", extra=[
        ("ControlSocket", os.path.join(cfgdir, "ctl.sock")),
        ("ControlSocketGroup", "txmt-no-such-group")]), name="m")
    nlines = sum(1 for _ in open(m.conf_path))
    rc, err = m.check_config()
    assert rc == 1, err
    assert '%s:%d: ControlSocketGroup: no such group "txmt-no-such-group"' % (
        m.conf_path, nlines) in err, err

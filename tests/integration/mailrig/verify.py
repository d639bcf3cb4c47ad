# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.verify - DKIM signatures checked by two independent verifiers.

  verify_dkimpy(raw, dns_port)      dkimpy, each signature on its own: [SigResult]
  verify_maildkim(raw, dns_port)    Mail::DKIM (verify_maildkim.pl): [SigResult]
  verify_all(raw, dns_port)         both: (dkimpy results, Mail::DKIM results)
  check_signed(raw, dns_port, expect)
                                    the expected (d, a) signatures pass in both (Ed25519:
                                    Mail::DKIM must say it cannot); AssertionError otherwise
  check_not_verifying(raw, dns_port)
                                    every signature fails in both
"""

import json
import os
import re

from .message import Message
from .unbound import dns_txt
from .util import HERE, run


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


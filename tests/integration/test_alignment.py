# SPDX-License-Identifier: BSD-2-Clause
"""The DMARC alignment preflight and `txmilterctl dns-check`, against a real DNS server.

A second unbound (its own port and directory) serves this module's test zones; txmilter
points at it with Nameservers and sends from EgressAddress 192.0.2.10 (a documentation
address).  Each scenario is one From domain with the records it needs:

  relaxed.example.com    p=reject adkim=r, signed d=example.com             -> pass (DKIM)
  strict.example.com     p=reject adkim=s, signed d=strict.example.com      -> pass (DKIM)
  strictfail.example.com p=reject adkim=s, signed d=example.com             -> 550 (OpenDMARC #268)
  spfonly.example.org    p=reject, signed d=example.net, SPF pass           -> pass (SPF)
  neither.example.org    p=reject, signed d=example.net, SPF fail           -> 550 with reasons
  mail.example.net       no record, org example.net p=reject                -> 550 (fallback, #54)
  sub.example.org        no record, org example.org p=reject sp=none       -> delivered, warned
  example.org            p=reject (sp= does not apply)                      -> 550
  pnone.example.com      p=none, not aligned                                -> delivered, warned
  nodmarc.example.com    no DMARC record at all                             -> delivered, warned
  badkey.example.com     aligned, but the published key is not ours         -> 550, flagged
  incl.example.org       SPF through two include levels                     -> pass (SPF)
  bigspf.example.org     SPF of 72 mechanisms (libspf2 truncates it)        -> permerror, 550
  example.co.uk          signed d=co.uk (public suffix)                     -> 550
  case.example.com       KeyTable d=Example.COM, mixed case                 -> pass
  mail.x.y.kawasaki.jp   no record, org x.y.kawasaki.jp (PSL *.kawasaki.jp) p=reject,
                         signed d=x.y.kawasaki.jp                           -> pass
  v.y.kawasaki.jp        p=reject, signed d=y.kawasaki.jp (a public suffix) -> 550
  www.city.kawasaki.jp   no record, org city.kawasaki.jp (!city.kawasaki.jp) p=reject,
                         signed d=city.kawasaki.jp                          -> pass
  sfa.example.com        _dmarc.sfa.example.com answers SERVFAIL            -> 451 4.4.3
  mail.sforg.example     no record, _dmarc.sforg.example (the organisational domain, the
                         next step up) answers SERVFAIL                     -> 451 4.4.3

The TLDs (com, org, net, uk, jp, example) are static zones too, so that a walk up the tree
(RFC 9989) gets NXDOMAIN at once instead of asking the internet.
"""

import os
import re
import subprocess

import pytest

from mailrig.util import free_port, make_dir
from mailrig.keys import KeyPair
from mailrig.unbound import DnsServer
from mailrig.message import make_message
from mailrig.milters import SigningSetup, txmilter_binary
from unsub_helpers import write_keyfile

EGRESS = "192.0.2.10"
pytestmark = [pytest.mark.txmilter_only, pytest.mark.usefixtures("reaper_after_workdir")]


def alias(key, domain):
    """the same key file and public key under another d= domain"""
    return KeyPair(key.path, domain, key.selector, key.algo, key.dns_txt)


@pytest.fixture(scope="module")
def adns(workdir, keys):
    """unbound serving the alignment zones (separate from the session's DNS server)"""
    srv = DnsServer(workdir)
    srv.dir = make_dir(os.path.join(workdir, "dns-align"))
    srv.conf = os.path.join(srv.dir, "unbound.conf")
    srv.logfile = os.path.join(srv.dir, "unbound.log")
    rsa, ed, rsa_net = keys["rsa_com"], keys["ed_com"], keys["rsa_net"]
    for z in ("example.com", "example.org", "example.net", "co.uk", "broken.example",
              "good.example.net", "kawasaki.jp", "com", "org", "net", "uk", "jp", "example"):
        srv.add_zone(z)
    txt = srv.add_txt
    txt("rsa1._domainkey.example.com", rsa.dns_txt)
    txt("ed1._domainkey.example.com", ed.dns_txt)
    txt("rsa1._domainkey.example.net", rsa_net.dns_txt)
    txt("rsa1._domainkey.strict.example.com", rsa.dns_txt)
    txt("rsa1._domainkey.badkey.example.com", rsa_net.dns_txt)     # not our key
    txt("rsa1._domainkey.co.uk", rsa.dns_txt)
    txt("_dmarc.relaxed.example.com", "v=DMARC1; p=reject; adkim=r; aspf=r")
    txt("_dmarc.strict.example.com", "v=DMARC1; p=reject; adkim=s")
    txt("_dmarc.strictfail.example.com", "v=DMARC1; p=reject; adkim=s; aspf=s")
    txt("_dmarc.pnone.example.com", "v=DMARC1; p=none")
    txt("_dmarc.badkey.example.com", "v=DMARC1; p=reject")
    txt("_dmarc.case.example.com", "v=DMARC1; p=reject; adkim=r")
    txt("_dmarc.example.org", "v=DMARC1; p=reject; sp=none")
    txt("_dmarc.spfonly.example.org", "v=DMARC1; p=reject")
    txt("spfonly.example.org", "v=spf1 ip4:%s -all" % EGRESS)
    txt("_dmarc.neither.example.org", "v=DMARC1; p=reject")
    txt("neither.example.org", "v=spf1 ip4:198.51.100.1 -all")
    txt("_dmarc.incl.example.org", "v=DMARC1; p=reject")
    txt("incl.example.org", "v=spf1 include:_spf1.example.org -all")
    txt("_spf1.example.org", "v=spf1 ip4:203.0.113.0/24 include:_spf2.example.org -all")
    txt("_spf2.example.org", "v=spf1 ip4:192.0.2.0/24 -all")
    txt("_dmarc.bigspf.example.org", "v=DMARC1; p=reject")
    txt("bigspf.example.org", "v=spf1 " + " ".join(
        "ip4:198.51.%d.%d" % (i // 200, i % 200 + 1) for i in range(70)) + " ip4:%s -all" % EGRESS)
    txt("_dmarc.example.net", "v=DMARC1; p=reject")
    txt("_dmarc.example.co.uk", "v=DMARC1; p=reject")
    # public suffix list wildcard (*.kawasaki.jp) and exception (!city.kawasaki.jp) rules
    for d in ("x.y.kawasaki.jp", "y.kawasaki.jp", "city.kawasaki.jp"):
        txt("rsa1._domainkey." + d, rsa.dns_txt)
    txt("_dmarc.x.y.kawasaki.jp", "v=DMARC1; p=reject")
    txt("_dmarc.v.y.kawasaki.jp", "v=DMARC1; p=reject")
    txt("_dmarc.city.kawasaki.jp", "v=DMARC1; p=reject")
    # dns-check: a record with the tags RFC 9989 removed (pct=0 moved p=reject down in RFC 7489)
    txt("_dmarc.legacy.example.net", "v=DMARC1; p=reject; pct=0; ri=3600; rua=mailto:d@example.net")
    # DNS failure at the first and at the second step of policy discovery
    srv.add_servfail("_dmarc.sfa.example.com")
    srv.add_servfail("_dmarc.sforg.example")
    # RFC 9989: a PSD policy, np=, t=y, an intermediate label, the label limit, SERVFAIL at
    # a step of the tree walk that RFC 7489 never asks
    txt("_dmarc.example", "v=DMARC1; p=reject; psd=y")
    txt("_dmarc.npx.example.com", "v=DMARC1; p=none; np=reject")
    srv.add_rr("www.npx.example.com. 300 IN A 192.0.2.80")
    srv.add_rr("mxonly.npx.example.com. 300 IN MX 10 relay.rp.example.org.")
    txt("_dmarc.testing.example.com", "v=DMARC1; p=reject; t=y")
    txt("_dmarc.dept.example.com", "v=DMARC1; p=reject")
    txt("_dmarc.c.d.e.f.g.h1.example.com", "v=DMARC1; p=reject")       # 8 labels: skipped
    txt("_dmarc.d.e.f.g.h2.example.com", "v=DMARC1; p=reject")         # 7 labels: asked
    srv.add_servfail("_dmarc.y.sfwalk.example.com")
    # dns-check: a correct domain and a broken one
    txt("good.example.net", "v=spf1 ip4:%s -all" % EGRESS)
    txt("rsa1._domainkey.good.example.net", rsa.dns_txt)
    txt("ed1._domainkey.good.example.net", ed.dns_txt)
    txt("_dmarc.good.example.net", "v=DMARC1; p=reject")
    txt("broken.example", "v=spf1 ip4:198.51.100.1 -all")
    txt("rsa1._domainkey.broken.example", rsa_net.dns_txt)         # not our key
    # ReturnPath: DKIM d=example.net does not align with rp.example.org; only the
    # rewritten MAIL FROM (bounces+TOKEN@bounce.rp.example.org) makes SPF align
    txt("_dmarc.rp.example.org", "v=DMARC1; p=reject")
    txt("bounce.rp.example.org", "v=spf1 ip4:%s -all" % EGRESS)
    srv.add_rr("bounce.rp.example.org. 300 IN MX 10 relay.rp.example.org.")
    srv.add_rr("relay.rp.example.org. 300 IN A %s" % EGRESS)
    srv.start()
    yield srv
    srv.stop()


def signing_setup(keys, extra=()):
    rsa, rsa_net = keys["rsa_com"], keys["rsa_net"]
    k_com = alias(rsa, "example.com")
    k_strict = alias(rsa, "strict.example.com")
    k_net = alias(rsa_net, "example.net")
    k_bad = alias(rsa, "badkey.example.com")
    k_couk = alias(rsa, "co.uk")
    k_case = alias(rsa, "Example.COM")
    k_case.name = "rsa-case"
    psl = {d: alias(rsa, d) for d in ("x.y.kawasaki.jp", "y.kawasaki.jp", "city.kawasaki.jp")}
    for d, k in psl.items():
        k.name = "rsa-" + d.split(".")[0]
    for k, n in ((k_com, "com"), (k_strict, "strict"), (k_net, "net"), (k_bad, "bad"),
                 (k_couk, "couk")):
        k.name = "rsa-" + n
    signing = [
        ("*@relaxed.example.com", k_com), ("*@strict.example.com", k_strict),
        ("*@strictfail.example.com", k_com), ("*@pnone.example.com", k_net),
        ("*@nodmarc.example.com", k_com), ("*@badkey.example.com", k_bad),
        ("*@case.example.com", k_case), ("*@example.co.uk", k_couk),
        ("*@mail.example.net", k_com), ("*@*example.org", k_net),
        ("*@mail.x.y.kawasaki.jp", psl["x.y.kawasaki.jp"]), ("*@v.y.kawasaki.jp", psl["y.kawasaki.jp"]),
        ("*@www.city.kawasaki.jp", psl["city.kawasaki.jp"]),
        ("*@sfa.example.com", k_com), ("*@mail.sforg.example", k_com),
    ]
    return SigningSetup([k_com, k_strict, k_net, k_bad, k_couk, k_case] + list(psl.values()), signing=signing,
                        multiple=False, extra=list(extra))


def preflight_conf(adns, action="reject", nameservers=None, more=()):
    return [("EgressAddress", EGRESS), ("AlignmentAction", action),
            ("Nameservers", nameservers or "127.0.0.1@%d" % adns.port), ("ControlSocket", "none")] + \
        list(more)


@pytest.fixture
def amilter(rig, adns):
    """start_milter for this module: the alignment configuration, AlignmentAction reject"""
    def start(action="reject", nameservers=None, more=()):
        return rig.start_milter(signing_setup(rig.keys, preflight_conf(adns, action, nameservers, more)))
    return start


def send(rig, from_addr, mail_from=None, headers=None):
    msg, mid = make_message(from_addr=from_addr, headers=headers)
    r = rig.postfix.submit(mail_from or "bounce@nospf.example.com", ["rcpt@receiver.example"], msg)
    return r, mid


def delivered(rig, r, mid):
    assert r.accepted, "refused: %r\nmaillog: %s" % (r, rig.postfix.log_for(mid))
    return rig.capture.wait_for(mid)


def refused(rig, r, mid, code, xcode):
    assert r.data is not None and r.data[0] == code, "expected %d: %r" % (code, r)
    assert r.data[1].startswith(xcode), r.data
    assert rig.capture.find(mid) == []
    return r.data[1]


def summary_for(m, needle):
    """the milter's log line holding needle"""
    line = m.wait_log(r"^.*%s.*$" % re.escape(needle), timeout=15)
    return line.group(0)


# --- DKIM -----------------------------------------------------------------------------

def test_dkim_aligned_relaxed_delivered_signed(rig, amilter):
    """RFC 7489: the public suffix list makes example.com the organisational domain"""
    m = amilter(more=[("DMARCMode", "7489")])
    r, mid = send(rig, "app@relaxed.example.com")
    d = delivered(rig, r, mid)
    assert d.msg.dkim_signatures()[0]["d"] == "example.com"
    line = summary_for(m, "header-from=<app@relaxed.example.com>")
    assert "preflight=pass" in line and "dkim d=example.com s=rsa1 aligned" in line


def test_relaxed_without_org_record_refused_as_rfc9989_judges(rig, amilter):
    """RFC 9989: example.com publishes no DMARC record, so the tree walk makes
    relaxed.example.com its own organisational domain and d=example.com does not
    align; DMARCMode both acts on the stricter and the reply names both"""
    m = amilter()
    r, mid = send(rig, "app@relaxed.example.com")
    text = refused(rig, r, mid, 550, "5.7.26")
    assert "RFC 7489: p=reject from _dmarc.relaxed.example.com (pass); " \
           "RFC 9989: p=reject from _dmarc.relaxed.example.com (fail)" in text, text
    line = summary_for(m, "header-from=<app@relaxed.example.com>")
    assert "generations=" in line and "preflight=fail" in line, line


def test_dkim_aligned_strict_delivered(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@strict.example.com")
    delivered(rig, r, mid)
    assert "preflight=pass" in summary_for(m, "header-from=<app@strict.example.com>")


def test_strict_alignment_with_psl_loaded_refused_opendmarc_268(rig, amilter):
    """libopendmarc passes adkim=s for d=example.com / From strictfail.example.com"""
    amilter()
    r, mid = send(rig, "app@strictfail.example.com")
    text = refused(rig, r, mid, 550, "5.7.26")
    assert "d=example.com not aligned (adkim=s)" in text


# --- SPF ------------------------------------------------------------------------------

def test_only_spf_aligned_delivered(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@spfonly.example.org", mail_from="bounce@spfonly.example.org")
    delivered(rig, r, mid)
    line = summary_for(m, "header-from=<app@spfonly.example.org>")
    assert "preflight=pass" in line and "%s=pass" % EGRESS in line
    assert "d=example.net s=rsa1 not aligned" in line


def test_neither_aligned_refused_with_reason(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@neither.example.org", mail_from="bounce@neither.example.org")
    text = refused(rig, r, mid, 550, "5.7.26")
    assert "DMARC alignment preflight failed for neither.example.org (p=reject)" in text
    assert "d=example.net not aligned" in text and "SPF fail for neither.example.org" in text
    line = summary_for(m, "header-from=<app@neither.example.org>")
    assert "preflight=fail" in line
    # libspf2's own comment, without the placeholder host name it starts with
    assert "domain of neither.example.org does not designate" in line and "txmilter.invalid" not in line


def test_spf_include_chain_passes(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@incl.example.org", mail_from="bounce@incl.example.org")
    delivered(rig, r, mid)
    assert "%s=pass" % EGRESS in summary_for(m, "header-from=<app@incl.example.org>")


def test_spf_record_over_60_mechanisms_is_permerror_not_neutral(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@bigspf.example.org", mail_from="bounce@bigspf.example.org")
    text = refused(rig, r, mid, 550, "5.7.26")
    assert "SPF permerror for bigspf.example.org" in text
    line = summary_for(m, "header-from=<app@bigspf.example.org>")
    assert "72 mechanisms but libspf2 keeps only" in line and "neutral" not in line


# --- policy discovery -----------------------------------------------------------------

def test_subdomain_falls_back_to_org_domain_record_opendmarc_54(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@mail.example.net")
    text = refused(rig, r, mid, 550, "5.7.26")
    # _dmarc.example.net has no sp=: its p= applies, and the reply says p=, not sp=
    assert "mail.example.net (p=reject)" in text
    assert "policy=reject (p=reject at _dmarc.example.net)" in summary_for(m, "header-from=<app@mail.example.net>")


def test_sp_none_applies_to_subdomain_not_to_org_domain(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@sub.example.org")
    delivered(rig, r, mid)
    m.wait_log(r"alignment preflight: sub\.example\.org would fail DMARC; delivered because "
               r"the policy is none")
    r, mid = send(rig, "app@example.org")
    refused(rig, r, mid, 550, "5.7.26")


def test_p_none_delivered_and_warned(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@pnone.example.com")
    delivered(rig, r, mid)
    m.wait_log(r"alignment preflight: pnone\.example\.com would fail DMARC; delivered")


def test_no_dmarc_record_delivered_and_warned(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@nodmarc.example.com")
    delivered(rig, r, mid)
    m.wait_log(r"alignment preflight: nodmarc\.example\.com has no usable DMARC policy.*"
               r"Gmail and Yahoo")
    assert "preflight=none" in summary_for(m, "header-from=<app@nodmarc.example.com>")


# --- keys, DNS, libopendmarc cases ----------------------------------------------------

def test_published_key_not_ours_is_flagged_and_refused(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@badkey.example.com")
    text = refused(rig, r, mid, 550, "5.7.26")
    assert "key rsa1._domainkey mismatch" in text
    m.wait_log(r"published key mismatch: rsa1\._domainkey\.badkey\.example\.com: the published RSA "
               r"key is not the public half of")


def test_dns_server_down_tempfails(rig, amilter):
    m = amilter(nameservers="127.0.0.1@%d" % free_port(), more=[("DNSTimeout", "1")])
    r, mid = send(rig, "app@relaxed.example.com")
    text = refused(rig, r, mid, 451, "4.4.3")
    assert "cannot be checked now (DNS: " in text and "DNS trouble: DNS:" not in text
    assert m.alive()


@pytest.mark.parametrize("from_domain, failing", [
    ("sfa.example.com", "_dmarc.sfa.example.com"),      # the From domain's own record
    ("mail.sforg.example", "_dmarc.sforg.example"),     # the next step: its parent
])
def test_servfail_during_policy_discovery_tempfails_never_passes(rig, amilter, adns, from_domain, failing):
    import dns.resolver
    with pytest.raises(dns.resolver.NoNameservers, match="SERVFAIL"):
        adns.query(failing, "TXT")                                      # at once, not a timeout
    m = amilter()
    r, mid = send(rig, "app@" + from_domain)
    text = refused(rig, r, mid, 451, "4.4.3")
    assert "cannot be checked now" in text, text
    line = summary_for(m, "header-from=<app@%s>" % from_domain)
    assert "preflight=temperror" in line, line


def test_dns_down_with_on_dnserror_accept_delivers(rig, amilter):
    m = amilter(nameservers="127.0.0.1@%d" % free_port(),
                more=[("DNSTimeout", "1"), ("On-DNSError", "accept")])
    r, mid = send(rig, "app@relaxed.example.com")
    delivered(rig, r, mid)
    assert "preflight=temperror" in summary_for(m, "header-from=<app@relaxed.example.com>")


def test_public_suffix_signer_does_not_align_co_uk(rig, amilter):
    """libopendmarc aligns d=co.uk with From example.co.uk"""
    amilter()
    r, mid = send(rig, "app@example.co.uk")
    assert "d=co.uk not aligned" in refused(rig, r, mid, 550, "5.7.26")


def test_psl_wildcard_rule_makes_x_y_kawasaki_jp_an_organisational_domain(rig, amilter):
    """*.kawasaki.jp: y.kawasaki.jp is a public suffix, so the policy of mail.x.y.kawasaki.jp
    is at _dmarc.x.y.kawasaki.jp (libopendmarc looked at _dmarc.y.kawasaki.jp and found none)"""
    m = amilter()
    r, mid = send(rig, "app@mail.x.y.kawasaki.jp")
    delivered(rig, r, mid)
    line = summary_for(m, "header-from=<app@mail.x.y.kawasaki.jp>")
    assert "preflight=pass" in line and "at _dmarc.x.y.kawasaki.jp" in line, line


def test_psl_wildcard_suffix_signer_does_not_align(rig, amilter):
    """d=y.kawasaki.jp is a public suffix under *.kawasaki.jp: it aligns with nothing below it
    (libopendmarc made y.kawasaki.jp the organisational domain of v.y.kawasaki.jp)"""
    amilter()
    r, mid = send(rig, "app@v.y.kawasaki.jp")
    assert "d=y.kawasaki.jp not aligned" in refused(rig, r, mid, 550, "5.7.26")


def test_psl_exception_rule_city_kawasaki_jp_is_an_organisational_domain(rig, amilter):
    """!city.kawasaki.jp: city.kawasaki.jp is registrable despite *.kawasaki.jp"""
    m = amilter()
    r, mid = send(rig, "app@www.city.kawasaki.jp")
    delivered(rig, r, mid)
    line = summary_for(m, "header-from=<app@www.city.kawasaki.jp>")
    assert "preflight=pass" in line and "at _dmarc.city.kawasaki.jp" in line, line


def test_mixed_case_domains_align(rig, amilter):
    """libopendmarc's suffix lookup was case-sensitive (Mail.Example.COM had no org domain)"""
    m = amilter(more=[("DMARCMode", "7489")])
    r, mid = send(rig, "App@Case.Example.COM")
    delivered(rig, r, mid)
    assert "preflight=pass" in summary_for(m, "header-from=<App@case.example.com>")


def test_alignment_action_quarantine_holds(rig, amilter):
    m = amilter(action="quarantine")
    r, mid = send(rig, "app@neither.example.org", mail_from="bounce@neither.example.org")
    assert r.accepted, r
    rig.postfix.wait_log_for(mid, r"hold")
    m.wait_log(r"AlignmentAction quarantine")


# --- From field (refused by msg.c before the preflight) -------------------------------

def test_two_from_fields_refused(rig, amilter):
    amilter()
    msg, mid = make_message(headers=[("From", "a@relaxed.example.com"), ("From", "b@relaxed.example.com"),
                                     ("To", "rcpt@receiver.example"), ("Subject", "two"),
                                     ("Message-ID", "<two-%s@txtest.example>" % os.urandom(6).hex())])
    mid = re.search(rb"Message-ID: <([^>]+)>", msg).group(1).decode()
    r = rig.postfix.submit("bounce@relaxed.example.com", ["rcpt@receiver.example"], msg)
    text = refused(rig, r, mid, 550, "5.6.0")
    assert "2 From header fields" in text and "RFC 7489 6.6.1" in text


def test_one_from_with_two_addresses_refused(rig, amilter):
    amilter()
    r, mid = send(rig, "a@relaxed.example.com, b@relaxed.example.com")
    text = refused(rig, r, mid, 550, "5.6.0")
    assert "holds 2 addresses" in text


def test_domain_literal_from_refused_for_good_not_tempfailed(rig, amilter):
    # no _dmarc.[192.0.2.1] lookup to fail on: a literal can never be signed or aligned
    m = amilter()
    r, mid = send(rig, "news@[192.0.2.1]", mail_from="bounce@relaxed.example.com")
    text = refused(rig, r, mid, 550, "5.6.0")
    assert "domain literal: it can never be DKIM-signed or DMARC-aligned" in text, text
    rig.postfix.wait_log_for(mid, r"milter-reject: ")
    m.wait_log(re.escape(rig.postfix.queue_id_of(mid)) + r": .*reason=\"From header field has a domain literal")
    assert "_dmarc" not in m.log_text(True)


# --- txmilter -t ----------------------------------------------------------------------

def test_offline_run_prints_verdict_and_reasons(rig, adns, workdir):
    conf = os.path.join(workdir, "align-offline.conf")
    setup = signing_setup(rig.keys, preflight_conf(adns))
    d = make_dir(os.path.join(workdir, "align-offline"))
    with open(conf, "w") as f:
        for n, v in [("Syslog", "no"), ("Canonicalization", "relaxed/relaxed")] + \
                setup.table_lines(d) + setup.extra:
            f.write("%s %s\n" % (n, v))
    msg, _ = make_message(from_addr="app@strictfail.example.com")
    path = os.path.join(d, "msg.eml")
    with open(path, "wb") as f:
        f.write(msg)
    p = subprocess.run([txmilter_binary(), "-t", path, "-x", conf, "--from",
                        "bounce@strictfail.example.com", "--rcpt", "r@receiver.example"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode()
    assert p.returncode == 3, out + p.stderr.decode()
    assert "550 5.7.26" in out and "preflight=fail" in out and "adkim=s" in out


# --- txmilterctl dns-check ------------------------------------------------------------

def ctl_binary():
    return os.path.join(os.path.dirname(txmilter_binary()), "txmilterctl")


def dns_check(workdir, adns, keys, domain, name, nameservers=None, more=()):
    rsa, ed = keys["rsa_com"], keys["ed_com"]
    ks = [alias(rsa, domain), alias(ed, domain)]
    ks[0].name, ks[1].name = "r-" + domain, "e-" + domain
    setup = SigningSetup(ks, extra=preflight_conf(adns, nameservers=nameservers, more=more))
    d = make_dir(os.path.join(workdir, "dnscheck-" + name))
    conf = os.path.join(d, "txmilter.conf")
    with open(conf, "w") as f:
        for n, v in [("Syslog", "no")] + setup.table_lines(d) + setup.extra:
            f.write("%s %s\n" % (n, v))
    return subprocess.run([ctl_binary(), "-x", conf, "dns-check"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def test_dns_check_correct_zone_exits_0(workdir, adns, keys):
    p = dns_check(workdir, adns, keys, "good.example.net", "good")
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode()
    for check in ("SPF", "DKIM", "DMARC", "ALIGN"):
        assert re.search(r"^good\.example\.net\s+%s\s+ok" % check, out, re.M), out
    assert len(re.findall(r"^good\.example\.net\s+DKIM\s+ok", out, re.M)) == 2
    assert "Records to publish" not in out


def test_dns_check_broken_zone_prints_records_that_fix_it(workdir, adns, keys):
    p = dns_check(workdir, adns, keys, "broken.example", "broken")
    out = p.stdout.decode()
    assert p.returncode == 1, out + p.stderr.decode()
    assert re.search(r"^broken\.example\s+SPF\s+FAIL\s+%s: fail" % re.escape(EGRESS), out, re.M), out
    assert re.search(r"^broken\.example\s+DKIM\s+FAIL\s+mismatch", out, re.M), out
    assert re.search(r"^broken\.example\s+DKIM\s+FAIL\s+missing", out, re.M), out
    assert re.search(r"^broken\.example\s+DMARC\s+FAIL", out, re.M), out
    # no DMARC record yet does not make "cannot align" any less of a failure
    assert re.search(r"^broken\.example\s+ALIGN\s+FAIL\s+From broken\.example cannot align", out, re.M), out
    records = re.findall(r"^(\S+)\. IN TXT (.+)$", out, re.M)
    names = [n for n, _ in records]
    assert names == ["broken.example", "rsa1._domainkey.broken.example",
                     "ed1._domainkey.broken.example", "_dmarc.broken.example"], out
    spf = dict(records)["broken.example"]
    assert spf == '"v=spf1 ip4:%s ip4:198.51.100.1 -all"' % EGRESS
    # every string within 255 bytes; the records are what a fixed zone must hold
    for name, rdata in records:
        for s in re.findall(r'"((?:[^"\\]|\\.)*)"', rdata):
            assert len(s) <= 255, (name, len(s))
    rsa_rec = "".join(re.findall(r'"([^"]*)"', dict(records)["rsa1._domainkey.broken.example"]))
    assert rsa_rec == keys["rsa_com"].dns_txt
    ed_rec = "".join(re.findall(r'"([^"]*)"', dict(records)["ed1._domainkey.broken.example"]))
    assert ed_rec == keys["ed_com"].dns_txt
    # the proposed DMARC record names no report address we made up; the comment asks for one
    assert dict(records)["_dmarc.broken.example"] == '"v=DMARC1; p=none; adkim=r; aspf=r"', out
    assert "add rua=mailto:ADDRESS, a mailbox you read" in out
    # publish them: dns-check is then satisfied (p=none in the proposed DMARC only warns)
    for name, _ in records:
        adns.remove(name)
    for name, rdata in records:
        adns.add_rr("%s. 300 IN TXT %s" % (name, rdata))
    adns.restart()
    p = dns_check(workdir, adns, keys, "broken.example", "broken2")
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode()
    assert "Records to publish" not in out


def test_dns_check_shows_both_generations_and_warns_where_a_psd_policy_differs(workdir, adns, keys):
    """_dmarc.example with psd=y: RFC 9989 receivers apply its p=reject to shop.example, which
    has no record of its own; RFC 7489 receivers (public suffix list) find no policy"""
    p = dns_check(workdir, adns, keys, "shop.example", "psd")
    out = p.stdout.decode()
    assert p.returncode == 1, out + p.stderr.decode()
    assert re.search(r"^shop\.example\s+DMARC\s+FAIL\s+RFC 7489: no policy", out, re.M), out
    assert re.search(r"^shop\.example\s+DMARC\s+ok\s+RFC 9989: p=reject from the PSD _dmarc\.example ", out,
                     re.M), out
    assert re.search(r"^shop\.example\s+DMARC\s+WARN\s+receivers differ: RFC 7489: no policy; RFC 9989: "
                     r"p=reject from the PSD _dmarc\.example$", out, re.M), out
    # the record it proposes is for the domain itself, written the RFC 9989 way
    records = dict(re.findall(r"^(\S+)\. IN TXT (.+)$", out, re.M))
    assert records["_dmarc.shop.example"] == '"v=DMARC1; p=none; adkim=r; aspf=r"', out


def test_dns_check_proposes_the_record_without_pct_rf_ri(workdir, adns, keys):
    p = dns_check(workdir, adns, keys, "legacy.example.net", "legacy")
    out = p.stdout.decode()
    assert re.search(r"^legacy\.example\.net\s+DMARC\s+WARN\s+_dmarc\.legacy\.example\.net has pct, ri: "
                     r"RFC 9989 removed these tags", out, re.M), out
    # pct=0 made RFC 7489's p=reject a quarantine; RFC 9989 ignores pct
    assert "receivers differ: RFC 7489: p=quarantine from _dmarc.legacy.example.net; " \
        "RFC 9989: p=reject from _dmarc.legacy.example.net" in out, out
    records = dict(re.findall(r"^(\S+)\. IN TXT (.+)$", out, re.M))
    assert records["_dmarc.legacy.example.net"] == \
        '"v=DMARC1; p=reject; rua=mailto:d@example.net; t=y"', out


def test_dns_check_with_dns_down_says_not_checked_and_exits_3(workdir, adns, keys):
    dead = "127.0.0.1@%d" % free_port()        # nothing answers there
    p = dns_check(workdir, adns, keys, "good.example.net", "dnsdown", nameservers=dead)
    out = p.stdout.decode()
    assert p.returncode == 3, out + p.stderr.decode()
    assert re.search(r"^good\.example\.net\s+ALIGN\s+DNSERR\s+From good\.example\.net: alignment could not "
                     r"be checked \(DNS trouble", out, re.M), out
    assert "cannot align" not in out


def test_genkey_without_out_says_it_wrote_into_the_current_directory(workdir):
    d = make_dir(os.path.join(workdir, "genkey-cwd"))
    p = subprocess.run([ctl_binary(), "genkey", "--domain", "example.com", "--selector", "s2", "--type", "ed25519"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, cwd=d)
    text = p.stdout.decode()
    assert p.returncode == 0, text + p.stderr.decode()
    path = os.path.join(d, "s2.example.com.ed25519.pem")
    assert os.path.exists(path)
    assert "wrote %s (ed25519, mode 0600) in the current directory (no --out given" % os.path.realpath(path) in text


def test_genkey_writes_0600_key_and_split_record(workdir):
    d = make_dir(os.path.join(workdir, "genkey"))
    out = os.path.join(d, "s1.pem")
    p = subprocess.run([ctl_binary(), "genkey", "--domain", "example.com", "--selector", "s1",
                        "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    text = p.stdout.decode()
    assert p.returncode == 0, text + p.stderr.decode()
    assert os.stat(out).st_mode & 0o777 == 0o600
    m = re.search(r"^s1\._domainkey\.example\.com\. IN TXT (.+)$", text, re.M)
    strings = re.findall(r'"([^"]*)"', m.group(1))
    assert len(strings) == 2 and all(len(s) <= 255 for s in strings)
    der = subprocess.run(["openssl", "pkey", "-in", out, "-pubout", "-outform", "DER"],
                         stdout=subprocess.PIPE, check=True).stdout
    import base64
    assert "".join(strings) == "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    # never over an existing key
    p = subprocess.run([ctl_binary(), "genkey", "--domain", "example.com", "--selector", "s1",
                        "--type", "ed25519", "--out", out], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 1 and b"never overwritten" in p.stderr
    p = subprocess.run([ctl_binary(), "genkey", "--domain", "example.com", "--selector", "e1",
                        "--type", "ed25519", "--out", os.path.join(d, "e1.pem")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0 and b"k=ed25519; p=" in p.stdout


# --- ReturnPath: the envelope sender of single-recipient mail -------------------------

RP = "bounces+%{token}@bounce.%{domain}"
RP_LOCAL = re.compile(r"^bounces\+([a-z2-7]+)@bounce\.rp\.example\.org$")


def envfrom(d):
    """the MAIL FROM address Postfix relayed d with (no brackets, no parameters)"""
    return d.meta["mail_from"].split()[0].strip("<>")


def rp_conf(adns, workdir, more=()):
    d = make_dir(os.path.join(workdir, "rp"))
    keyfile = write_keyfile(os.path.join(d, "rp.keys"), [(1, os.urandom(32))])
    # the suppression list that bounces to the return path feed (test_bounces.py)
    data = make_dir(os.path.join(d, "data-%s" % os.urandom(4).hex()), 0o700)
    # RFC 7489: relaxed.example.com aligns with d=example.com only through the public
    # suffix list (RFC 9989's view: test_relaxed_without_org_record_refused_as_rfc9989_judges)
    return preflight_conf(adns, more=[("UnsubscribeKeyFile", keyfile), ("ReturnPath", RP),
                                      ("DataDirectory", data), ("DMARCMode", "7489")] + list(more))


def test_return_path_makes_spf_align_single_recipient_only(rig, adns, workdir):
    """without ReturnPath, From rp.example.org (DKIM d=example.net, MAIL FROM without SPF)
    is refused 550 5.7.26; with it the envelope sender becomes a token address under
    bounce.rp.example.org, whose SPF passes from EgressAddress and aligns (relaxed), so the
    message goes, with that MAIL FROM; two recipients keep the application's sender"""
    amilter_plain = rig.start_milter(signing_setup(rig.keys, preflight_conf(adns)))
    r, mid = send(rig, "news@rp.example.org", mail_from="app@nospf.example.com")
    refused(rig, r, mid, 550, "5.7.26")
    del amilter_plain

    m = rig.start_milter(signing_setup(rig.keys, rp_conf(adns, workdir)))
    r, mid = send(rig, "news@rp.example.org", mail_from="app@nospf.example.com")
    d = delivered(rig, r, mid)
    assert RP_LOCAL.match(envfrom(d)), d.meta
    line = summary_for(m, "header-from=<news@rp.example.org>")
    assert "preflight=pass" in line and "%s=pass" % EGRESS in line, line
    assert "return-path=<bounces+" in line, line

    msg, mid = make_message(from_addr="news@relaxed.example.com")
    r = rig.postfix.submit("app@nospf.example.com", ["a@receiver.example", "b@receiver.example"], msg)
    d = delivered(rig, r, mid)
    assert envfrom(d) == "app@nospf.example.com", d.meta
    assert "return-path=kept-2-recipients" in summary_for(m, "header-from=<news@relaxed.example.com>")


def test_return_path_exempt_sender_keeps_its_envelope(rig, adns, workdir):
    m = rig.start_milter(signing_setup(rig.keys, rp_conf(
        adns, workdir, more=[("ReturnPathExempt", "reset@relaxed.example.com")])))
    r, mid = send(rig, "news@relaxed.example.com", mail_from="reset@relaxed.example.com")
    d = delivered(rig, r, mid)
    assert envfrom(d) == "reset@relaxed.example.com", d.meta
    assert "return-path=exempt" in summary_for(m, "header-from=<news@relaxed.example.com>")


def test_return_path_signature_still_verifies_after_the_envelope_change(rig, adns, workdir):
    """DKIM signs the header and body, not the envelope: dkimpy and Mail::DKIM verify the
    message delivered with the rewritten MAIL FROM"""
    from mailrig.verify import check_signed
    rig.start_milter(signing_setup(rig.keys, rp_conf(adns, workdir)))
    msg, mid = make_message(from_addr="news@relaxed.example.com")
    r = rig.postfix.submit("app@nospf.example.com", ["rcpt@receiver.example"], msg)
    d = delivered(rig, r, mid)
    assert re.match(r"^bounces\+[a-z2-7]+@bounce\.relaxed\.example\.com$", envfrom(d)), d.meta
    check_signed(d.raw, rig.dns.port, [("example.com", "rsa-sha256")])


def rp_check(workdir, adns, keys, name, template):
    """dns-check of good.example.net with ReturnPath template"""
    d = make_dir(os.path.join(workdir, "rpcheck-" + name))
    keyfile = write_keyfile(os.path.join(d, "rp.keys"), [(1, os.urandom(32))])
    p = dns_check(workdir, adns, keys, "good.example.net", name,
                  more=[("UnsubscribeKeyFile", keyfile), ("ReturnPath", template)])
    return p.returncode, p.stdout.decode() + p.stderr.decode()


def publish(adns, records):
    for rr in records:
        adns.add_rr(rr)
    adns.restart()


def test_dns_check_return_path_domain_needs_spf_and_somewhere_to_deliver_bounces(
        workdir, adns, keys):
    """ReturnPath bounces+%{token}@bounce.%{domain}: for From good.example.net (whose own
    records are right) dns-check checks bounce.good.example.net: no SPF and no MX, A nor
    AAAA fail (exit 1) with the records that fix them; published, everything passes (exit
    0), an A record being enough (the implicit MX)"""
    rc, out = rp_check(workdir, adns, keys, "bare", RP)
    assert rc == 1, out
    assert re.search(r"^good\.example\.net\s+RPATH\s+ok\s+return path @bounce\.good\.example\.net "
                     r"aligns with From good\.example\.net", out, re.M), out
    assert re.search(r"^bounce\.good\.example\.net\s+SPF\s+FAIL\s+%s: " % re.escape(EGRESS), out,
                     re.M), out
    assert re.search(r"^bounce\.good\.example\.net\s+MX\s+FAIL\s+no MX, A nor AAAA: receivers "
                     r"cannot deliver bounces", out, re.M), out
    txt = dict(re.findall(r"^(\S+)\. IN TXT (.+)$", out, re.M))
    assert txt == {"bounce.good.example.net": '"v=spf1 ip4:%s -all"' % EGRESS}, out
    addr = re.findall(r"^(\S+)\. IN (A|AAAA|MX) (.+)$", out, re.M)
    assert addr == [("bounce.good.example.net", "A", EGRESS)], out
    # the good domain's own rows are unchanged
    for check in ("SPF", "DKIM", "DMARC", "ALIGN"):
        assert re.search(r"^good\.example\.net\s+%s\s+ok" % check, out, re.M), out

    publish(adns, ["bounce.good.example.net. 300 IN TXT %s" % txt["bounce.good.example.net"],
                   "bounce.good.example.net. 300 IN A %s" % EGRESS])
    rc, out = rp_check(workdir, adns, keys, "fixed", RP)
    assert rc == 0, out
    assert re.search(r"^bounce\.good\.example\.net\s+SPF\s+ok\s+pass", out, re.M), out
    assert re.search(r"^bounce\.good\.example\.net\s+MX\s+ok\s+no MX; A %s: receivers can "
                     r"deliver bounces" % re.escape(EGRESS), out, re.M), out
    assert "Records to publish" not in out


def test_dns_check_return_path_outside_the_from_domain_and_a_null_mx(workdir, adns, keys):
    """a fixed return-path domain: bounce.rp.example.org (SPF and an MX) passes but does not
    align with From good.example.net (a warning: DMARC rests on DKIM); one with a null MX
    (RFC 7505) cannot take bounces: FAIL, and the records say to remove it"""
    publish(adns, ["nullmx.example.org. 300 IN TXT \"v=spf1 ip4:%s -all\"" % EGRESS,
                   "nullmx.example.org. 300 IN MX 0 ."])
    rc, out = rp_check(workdir, adns, keys, "fixed-rp", "bounces+%{token}@bounce.rp.example.org")
    assert re.search(r"^good\.example\.net\s+RPATH\s+WARN\s+return path @bounce\.rp\.example\.org "
                     r"does not align with From good\.example\.net", out, re.M), out
    assert re.search(r"^bounce\.rp\.example\.org\s+SPF\s+ok", out, re.M), out
    assert re.search(r"^bounce\.rp\.example\.org\s+MX\s+ok\s+MX 10 relay\.rp\.example\.org\.: ",
                     out, re.M), out
    assert rc == 0, out

    rc, out = rp_check(workdir, adns, keys, "nullmx", "b+%{token}@nullmx.example.org")
    assert rc == 1, out
    assert re.search(r"^nullmx\.example\.org\s+SPF\s+ok", out, re.M), out
    assert re.search(r"^nullmx\.example\.org\s+MX\s+FAIL\s+null MX \(RFC 7505\), the domain takes no "
                     r"mail: 0 \.: receivers cannot deliver bounces", out, re.M), out
    assert '; return path: remove the null MX ("0 .") of nullmx.example.org' in out, out
    assert re.findall(r"^(\S+)\. IN (A|AAAA|MX) (.+)$", out, re.M) == [
        ("nullmx.example.org", "A", EGRESS)], out


def test_dns_check_return_path_dns_trouble_is_dnserr_never_a_pass(workdir, adns, keys):
    """SERVFAIL for the return-path domain: its SPF and MX rows say DNSERR, nothing is
    proposed for it, and with nothing found wrong the exit status is 3"""
    adns.add_servfail("sfrp.example.org")
    adns.restart()
    rc, out = rp_check(workdir, adns, keys, "sfrp", "bounces+%{token}@bounce.sfrp.example.org")
    assert re.search(r"^bounce\.sfrp\.example\.org\s+SPF\s+DNSERR", out, re.M), out
    assert re.search(r"^bounce\.sfrp\.example\.org\s+MX\s+DNSERR\s+bounce\.sfrp\.example\.org MX: ",
                     out, re.M), out
    assert not re.search(r"^bounce\.sfrp\.example\.org\. IN ", out, re.M), out
    assert rc == 3, out


# --- RFC 9989 (DMARCMode both, the default) ----------------------------------------------

def test_psd_policy_refuses_unaligned_from_without_own_record(rig, amilter):
    """_dmarc.example (psd=y, p=reject) covers shop.example, which has no record: RFC 7489
    finds no policy (delivered), RFC 9989 finds the PSD's; the stricter counts"""
    m = amilter()
    r, mid = send(rig, "app@shop.example")
    text = refused(rig, r, mid, 550, "5.7.26")
    assert "RFC 7489: no policy (none); RFC 9989: p=reject from the PSD _dmarc.example (fail)" in text, text
    line = summary_for(m, "header-from=<app@shop.example>")
    assert "preflight=fail" in line and "generations=" in line, line


def test_psd_policy_ignored_under_dmarcmode_7489(rig, amilter):
    m = amilter(more=[("DMARCMode", "7489")])
    r, mid = send(rig, "app@shop.example")
    delivered(rig, r, mid)
    assert "preflight=none" in summary_for(m, "header-from=<app@shop.example>")


def test_np_reject_for_a_non_existent_subdomain(rig, amilter):
    """np=reject at npx.example.com: nosuch.npx.example.com has no A, AAAA nor MX"""
    amilter()
    r, mid = send(rig, "app@nosuch.npx.example.com")
    text = refused(rig, r, mid, 550, "5.7.26")
    assert "RFC 9989: np=reject from _dmarc.npx.example.com" in text, text


def test_np_does_not_apply_to_an_existing_subdomain(rig, amilter):
    m = amilter()
    r, mid = send(rig, "app@www.npx.example.com")
    delivered(rig, r, mid)
    line = summary_for(m, "header-from=<app@www.npx.example.com>")
    assert "preflight-action=deliver" in line, line


def test_np_does_not_apply_to_a_subdomain_with_only_an_mx(rig, amilter):
    """mxonly.npx.example.com has an MX and no A nor AAAA: it exists (RFC 9989), so np=
    does not apply and p=none lets the mail go"""
    m = amilter()
    r, mid = send(rig, "app@mxonly.npx.example.com")
    delivered(rig, r, mid)
    line = summary_for(m, "header-from=<app@mxonly.npx.example.com>")
    assert "preflight-action=deliver" in line, line


def test_t_y_moves_the_policy_one_step_down(rig, amilter):
    """t=y: p=reject is applied as quarantine (RFC 9989); RFC 7489 knows no t="""
    m = amilter(more=[("DMARCMode", "9989")])
    r, mid = send(rig, "app@testing.example.com")
    text = refused(rig, r, mid, 550, "5.7.26")
    assert "(p=quarantine)" in text, text
    assert "t=y" in summary_for(m, "header-from=<app@testing.example.com>")


def test_record_at_an_intermediate_label(rig, amilter):
    """_dmarc.dept.example.com applies to x.dept.example.com under RFC 9989; RFC 7489 asks
    only x.dept.example.com and the organisational domain example.com"""
    amilter()
    r, mid = send(rig, "app@x.dept.example.com")
    text = refused(rig, r, mid, 550, "5.7.26")
    assert "RFC 7489: no policy (none); RFC 9989: p=reject from _dmarc.dept.example.com (fail)" in text, text


def test_tree_walk_label_limit(rig, amilter):
    """a 10-label From domain: the walk asks it, then its last 7 labels and up; a record at
    8 labels is never seen, one at 7 is"""
    m = amilter()
    r, mid = send(rig, "app@a.b.c.d.e.f.g.h1.example.com")
    delivered(rig, r, mid)
    assert "preflight=none" in summary_for(m, "header-from=<app@a.b.c.d.e.f.g.h1.example.com>")
    r, mid = send(rig, "app@a.b.c.d.e.f.g.h2.example.com")
    text = refused(rig, r, mid, 550, "5.7.26")
    assert "RFC 9989: p=reject from _dmarc.d.e.f.g.h2.example.com" in text, text


def test_servfail_at_a_tree_walk_step_tempfails(rig, amilter):
    """_dmarc.y.sfwalk.example.com answers SERVFAIL: RFC 7489 never asks it (no policy),
    the walk does: temperror, 451 4.4.3, never a pass"""
    m = amilter()
    r, mid = send(rig, "app@x.y.sfwalk.example.com")
    text = refused(rig, r, mid, 451, "4.4.3")
    assert "_dmarc.y.sfwalk.example.com" in text, text
    assert "preflight=temperror" in summary_for(m, "header-from=<app@x.y.sfwalk.example.com>")


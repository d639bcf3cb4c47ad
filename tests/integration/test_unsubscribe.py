# SPDX-License-Identifier: BSD-2-Clause
"""List-Unsubscribe end to end (issue 4): real Postfix, real HTTP, both stores.

Each test starts txmilter with List-Unsubscribe on (its own key file and DataDirectory),
and, where the scenario needs it, txmilter-unsubd on the same configuration.  Mail goes
through the session's Postfix; what Postfix delivered is taken from the capture server
and used the way a receiver would: the URL in List-Unsubscribe is POSTed with curl
exactly as Gmail does (to txmilter-unsubd directly, as the TLS reverse proxy would pass
it), the mailto address is written to from outside InternalHosts.  The operator's view
is then checked: what Postfix answered the next message, what was delivered to whom,
what the store holds, what the daemons logged.

The endpoint's own behaviour in detail (bodies, limits, rate, multipart...) is covered by
test_unsubd.py; here only what a whole relay has to get right.
"""

import base64
import os
import re
import signal
import uuid

import pytest

from mailrig.util import run, wait_until
from mailrig.message import make_message
from mailrig.milters import TxMilter
from mailrig.verify import check_signed
from mailrig.redisserver import RedisServer
from mailrig.smtp import smtp_send
from ratelimit_helpers import ctl, ctl_stats
from unsub_helpers import (http, local_url, one_click, seal_token, sqlite_entries,
                           token_of, unsub_setup, unsub_targets)

pytestmark = pytest.mark.txmilter_only

RSA = "rsa-sha256"
ED = "ed25519-sha256"
NEWS = "news@example.com"               # the stream every test unsubscribes from
OFFERS = "offers@example.com"           # another stream of the same domain
RESET = "reset@example.com"             # UnsubscribeExempt


def rcpt(name):
    """a recipient of its own for each test (Redis is shared by a test's daemons only,
    but distinct addresses keep a failure's logs readable)"""
    return "%s.%s@receiver.example" % (name, uuid.uuid4().hex[:6])


STORES = ["sqlite", "redis"]              # store_url's parameters (conftest.py)


def send(rig, from_addr, rcpts, extra_headers=(), source_address=None, mail_from=None,
         subject="unsubscribe test", to_header=None):
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    msg, mid = make_message(subject=subject, from_addr=from_addr,
                            to_addr=to_header or ", ".join(rcpts), extra_headers=extra_headers)
    r = rig.postfix.submit(mail_from if mail_from is not None else from_addr, rcpts, msg,
                           source_address=source_address)
    return r, mid


def deliver(rig, from_addr, rcpts, **kw):
    """send and return the message as delivered (it must be accepted)"""
    r, mid = send(rig, from_addr, rcpts, **kw)
    assert r.accepted, "message from %s to %s not accepted: %r\nmaillog: %s" % (
        from_addr, rcpts, r, rig.postfix.log_for(mid))
    return rig.capture.wait_for(mid)


def assert_refused_unsubscribed(rig, from_addr, to, stream):
    r, mid = send(rig, from_addr, to)
    assert r.data is not None and r.data[0] == 550, (
        "expected 550 for mail of %s to unsubscribed %s, got %r\nmaillog: %s"
        % (stream, to, r, rig.postfix.log_for(mid)))
    want = "5.7.1 <%s>: recipient unsubscribed from mail of %s" % (to, stream)
    assert want in r.data[1], "reply %r does not say %r" % (r.data, want)
    f = rig.postfix.fate(mid)
    assert f["status"] == "milter-reject", f
    assert not rig.capture.find(mid)
    return r


def rcpts_of(d):
    """the envelope recipients Postfix delivered d to (bare addresses)"""
    return [re.search(r"<([^>]*)>", x).group(1) for x in d.meta["rcpts"]]


def has_unsub_headers(d):
    return bool(d.msg.fields("List-Unsubscribe") or d.msg.fields("List-Unsubscribe-Post"))


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def flip(token, pos=None):
    """flip - the token with the top bit of one base64url character flipped (always a
    data bit, also in the last character, whose low bits may be padding)"""
    pos = len(token) // 2 if pos is None else pos
    alt = B64URL[B64URL.index(token[pos]) ^ 0x20]
    return token[:pos] + alt + token[pos + 1:]


def stored(setup, redis_server=None):
    """every (rcpt, stream, source) in the configured store"""
    if redis_server is None:
        return sqlite_entries(setup.unsub.datadir)
    out = []
    for stream in redis_server.cli("SMEMBERS", "txm:{txmilter}:unsub:streams").split():
        flat = redis_server.cli("HGETALL", "txm:{txmilter}:unsub:s:" + stream).split("\n")
        flat = [x for x in flat if x != ""]
        for i in range(0, len(flat) - 1, 2):
            out.append((flat[i], stream, flat[i + 1].split()[1]))
    return out


def restart_milter(rig, m):
    """a new txmilter process on the same configuration takes over Postfix's socket; the
    old one gets SIGTERM (libmilter needs seconds to go; the fixture collects it)"""
    m.proc.send_signal(signal.SIGTERM)
    m.expect_exit = True
    return rig.start_milter(m.setup)


# --- the headers ---------------------------------------------------------------

def test_one_recipient_gets_both_headers_signed_oversigned_and_an_opaque_token(rig, workdir):
    """dual keys: both signatures cover and oversign the two fields, dkimpy verifies both,
    Mail::DKIM the RSA one; the token does not reveal the recipient"""
    setup = unsub_setup(rig.keys, workdir, dual=True)
    m = rig.start_milter(setup)
    to = rcpt("alice")
    d = deliver(rig, NEWS, to)

    lu = d.msg.fields("List-Unsubscribe")
    lup = d.msg.fields("List-Unsubscribe-Post")
    assert len(lu) == 1 and len(lup) == 1, d.raw[:3000]
    assert lup[0] == b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", lup
    # <https URL>, then the mailto on a folded continuation line (RFC 2369 order)
    assert re.match(rb"^List-Unsubscribe: <https://unsub\.example\.com/u/[A-Za-z0-9_-]+>,"
                    rb"\r\n[ \t]+<mailto:unsub\+[A-Za-z0-9_-]+@example\.com\?subject=unsubscribe>$",
                    lu[0]), lu[0]

    url, mailto = unsub_targets(d.msg)
    token = token_of(url)
    assert re.match(r"^unsub\+[A-Za-z0-9_-]+@example\.com$", mailto), mailto
    # opaque: neither the address, nor its local part, nor any base64 form of it
    low = (url + mailto).lower()
    local = to.split("@")[0]
    assert to not in low and local not in low and local.split(".")[0] not in low, url
    for shift in range(3):
        raw = (b"xx"[:shift] + to.encode())
        for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            frag = enc.decode().rstrip("=")[4:16]
            assert frag not in url, "token holds base64 of the recipient: %s" % url
    assert len(token) <= 120, "token of %d characters: %s" % (len(token), token)

    sigs = d.msg.dkim_signatures()
    assert len(sigs) == 2
    for s in sigs:
        h = [x.lower() for x in s["h"].split(":")]
        assert h.count("list-unsubscribe") == 2, "List-Unsubscribe not oversigned: h=%s" % s["h"]
        assert h.count("list-unsubscribe-post") == 2, \
            "List-Unsubscribe-Post not oversigned: h=%s" % s["h"]
    py, pl = check_signed(d.raw, rig.dns.port, [("example.com", RSA), ("example.com", ED)])
    assert all(r.ok for r in py), py
    assert [r.ok for r in pl if r.a == RSA] == [True], pl
    m.wait_log(r"unsubscribe=added.*added=List-Unsubscribe added=List-Unsubscribe-Post")


def test_two_recipients_get_no_header_because_one_token_cannot_name_both(rig, workdir):
    m = rig.start_milter(unsub_setup(rig.keys, workdir))
    a, b = rcpt("anna"), rcpt("ben")
    d = deliver(rig, NEWS, [a, b])
    assert not has_unsub_headers(d), d.raw[:2000]
    assert sorted(rcpts_of(d)) == sorted([a, b])
    check_signed(d.raw, rig.dns.port, [("example.com", RSA)])
    m.wait_log(r"unsubscribe=skipped-2-recipients")


def test_exempt_sender_gets_no_header(rig, workdir):
    rig.start_milter(unsub_setup(rig.keys, workdir))
    for sender in (RESET, "code@auth.example.com"):
        d = deliver(rig, sender, rcpt("otto"))
        assert not has_unsub_headers(d), "%s is exempt but got:\n%s" % (sender, d.raw[:2000])


# --- one click -------------------------------------------------------------------

@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_gmail_one_click_post_then_same_stream_refused_other_stream_and_exempt_delivered(
        rig, workdir, unsubds, store_url, request):
    setup = unsub_setup(rig.keys, workdir, store=store_url)
    m = rig.start_milter(setup)
    u = unsubds(m)
    to = rcpt("carla")
    d = deliver(rig, NEWS, to)
    url, _ = unsub_targets(d.msg)

    assert one_click(local_url(url, u.port)) == "200", u.log_text()[-2000:]
    u.wait_log(r"method=POST path=/u/%s\S* status=200 result=unsubscribed stream=%s "
               r"rcpt_domain=receiver\.example" % (re.escape(token_of(url)[:8]), re.escape(NEWS)))
    # a second press (or a provider's retry) is harmless
    assert one_click(local_url(url, u.port)) == "200"

    redis_server = getattr(request.node, "redis", None)
    entries = stored(setup, redis_server)
    assert entries == [(to, NEWS, "http")], entries
    if redis_server is not None:
        assert sqlite_entries(setup.unsub.datadir) == [], "Store is Redis, yet SQLite was written"

    assert_refused_unsubscribed(rig, NEWS, to, NEWS)
    # the From address is the stream: another sender of the same domain still reaches her
    d2 = deliver(rig, OFFERS, to)
    assert len(d2.msg.fields("List-Unsubscribe")) == 1
    # exempt senders (password resets...) are never suppressed
    d3 = deliver(rig, RESET, to)
    assert not has_unsub_headers(d3)
    m.wait_log(r"action=reject reason=\"<%s>: recipient unsubscribed" % re.escape(to))


def test_unsubscribed_recipient_removed_from_multi_recipient_message_other_still_served(
        rig, workdir, unsubds):
    """one of two recipients unsubscribed: the message reaches the other only, and never
    carries a token of the unsubscribed one"""
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    u = unsubds(m)
    gone, other = rcpt("dora"), rcpt("emil")
    url, _ = unsub_targets(deliver(rig, NEWS, gone).msg)
    assert one_click(local_url(url, u.port)) == "200"

    r, mid = send(rig, NEWS, [gone, other])
    assert r.accepted and all(x.code == 250 for x in r.rcpts), r
    d = rig.capture.wait_for(mid)
    assert rcpts_of(d) == [other], d.meta
    m.wait_log(r"rcpt=<%s> removed: unsubscribed from mail of %s" % (re.escape(gone),
                                                                     re.escape(NEWS)))
    rig.postfix.wait_log_for(mid, r"to=<%s>.*status=sent" % re.escape(other))
    assert not [l for l in rig.postfix.log_for(mid) if "to=<%s>" % gone in l], \
        rig.postfix.log_for(mid)
    assert len(rig.capture.find(mid)) == 1
    check_signed(d.raw, rig.dns.port, [("example.com", RSA)])
    # txmilter.conf(5): the headers are added when exactly one recipient is left after the
    # suppressed ones are removed -- with a token of the one left, never of the one removed
    lu = d.msg.fields("List-Unsubscribe")
    assert len(lu) == 1 and len(d.msg.fields("List-Unsubscribe-Post")) == 1, d.raw[:2500]
    url2, _ = unsub_targets(d.msg)
    assert token_of(url2) != token_of(url)
    status, _, page = http(local_url(url2, u.port), "GET")
    assert status == 200 and ("%s***@receiver.example" % other[0]) in page, page
    assert one_click(local_url(url2, u.port)) == "200"
    assert sorted(sqlite_entries(setup.unsub.datadir)) == sorted(
        [(gone, NEWS, "http"), (other, NEWS, "http")])


def test_get_shows_a_page_and_does_not_unsubscribe(rig, workdir, unsubds):
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    u = unsubds(m)
    to = rcpt("gina")
    url, _ = unsub_targets(deliver(rig, NEWS, to).msg)
    lurl = local_url(url, u.port)

    for method in ("GET", "HEAD"):
        status, hdrs, body = http(lurl, method)
        assert status == 200, (method, status, hdrs, body)
        assert "location" not in hdrs
        assert hdrs.get("content-type", "").startswith("text/html"), hdrs
    status, hdrs, body = http(lurl, "GET")
    assert re.search(r"<form[^>]*method=\"?post", body, re.I), body
    assert "One-Click" in body, body
    assert to not in body, "the page shows the whole address: %s" % body
    u.wait_log(r"method=GET .*status=200 result=confirm-page")

    assert sqlite_entries(setup.unsub.datadir) == []
    d = deliver(rig, NEWS, to)
    assert len(d.msg.fields("List-Unsubscribe")) == 1


def test_tampered_and_forged_tokens_get_400_and_nothing_is_stored(rig, workdir, unsubds):
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    u = unsubds(m)
    to = rcpt("hugo")
    url, mailto = unsub_targets(deliver(rig, NEWS, to).msg)
    token = token_of(url)
    base = local_url(url, u.port)[:-len(token)]
    bad = {
        "flipped-middle": flip(token),
        "flipped-first": flip(token, 0),
        "flipped-last": flip(token, len(token) - 1),
        "truncated": token[:-4],
        "forged": base64.urlsafe_b64encode(os.urandom(len(token) * 3 // 4)).decode().rstrip("="),
    }
    for what, t in bad.items():
        assert t != token
        code = one_click(base + t)
        assert code == "400", "%s token: POST answered %s" % (what, code)
        status, hdrs, _ = http(base + t, "GET")
        assert status == 400 and "location" not in hdrs, (what, status, hdrs)
    u.wait_log(r"status=400 result=bad-token")
    assert not re.search(r"status=3\d\d", u.log_text()), u.log_text()
    assert sqlite_entries(setup.unsub.datadir) == []

    # the same by mail: a tampered mailto token is not an unsubscribe
    local, _, dom = mailto.partition("@")
    forged = "unsub+%s@%s" % (flip(local[len("unsub+"):]), dom)
    r, mid = send(rig, to, forged, source_address="127.0.0.2", subject="unsubscribe")
    assert r.accepted, r
    m.wait_log(r"token refused")
    assert sqlite_entries(setup.unsub.datadir) == []

    d = deliver(rig, NEWS, to)
    assert len(d.msg.fields("List-Unsubscribe")) == 1


# --- durability -------------------------------------------------------------------

@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_suppression_survives_restart_of_unsubd_and_txmilter(rig, workdir, unsubds, store_url,
                                                             request):
    setup = unsub_setup(rig.keys, workdir, store=store_url)
    m = rig.start_milter(setup)
    u = unsubds(m)
    to, to2 = rcpt("ida"), rcpt("jan")
    url, _ = unsub_targets(deliver(rig, NEWS, to).msg)
    url2, _ = unsub_targets(deliver(rig, NEWS, to2).msg)
    assert one_click(local_url(url, u.port)) == "200"

    u.restart()
    m2 = restart_milter(rig, m)
    assert m2.alive()
    assert_refused_unsubscribed(rig, NEWS, to, NEWS)
    # a token issued before the restarts still works after them
    assert one_click(local_url(url2, u.port)) == "200"
    assert_refused_unsubscribed(rig, NEWS, to2, NEWS)
    redis_server = getattr(request.node, "redis", None)
    assert sorted(stored(setup, redis_server)) == sorted([(to, NEWS, "http"),
                                                          (to2, NEWS, "http")])
    assert u.exits == [0], "txmilter-unsubd exit status after SIGTERM: %s" % u.exits


# --- by mail ----------------------------------------------------------------------

def test_mail_to_the_mailto_address_from_outside_is_recorded_and_discarded(rig, workdir):
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    to = rcpt("karl")
    _, mailto = unsub_targets(deliver(rig, NEWS, to).msg)

    # the receiver's MTA (outside InternalHosts) sends the request on the user's behalf
    r, mid = send(rig, to, mailto, source_address="127.0.0.2", subject="unsubscribe")
    assert r.accepted, "unsubscribe mail refused: %r" % (r,)
    rig.postfix.wait_log_for(mid, r"milter-discard")
    m.wait_log(r"unsubscribed by mail: rcpt=<%s> stream=%s" % (re.escape(to), re.escape(NEWS)))
    assert not rig.capture.find(mid), "the unsubscribe request was delivered"
    assert sqlite_entries(setup.unsub.datadir) == [(to, NEWS, "mail")]

    assert_refused_unsubscribed(rig, NEWS, to, NEWS)


def test_mail_to_the_mailto_address_with_a_comment_is_recognised(rig, workdir):
    """<unsub+TOKEN(request)@example.com> is delivered by Postfix to the mailto address: it
    is an unsubscribe request like the plain spelling (recorded, discarded)"""
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    to = rcpt("kurt")
    _, mailto = unsub_targets(deliver(rig, NEWS, to).msg)
    msg, mid = make_message(subject="unsubscribe", from_addr=to, to_addr=mailto)
    r = smtp_send(rig.postfix.smtpd_port, "<%s>" % to, ["<%s>" % mailto.replace("@", "(request)@")],
                  msg, mid, raw=True, source_address="127.0.0.2")
    assert r.rcpts[0][1] == 250 and r.data and r.data[0] == 250, r
    rig.postfix.wait_log_for(mid, r"milter-discard")
    m.wait_log(r"unsubscribed by mail: rcpt=<%s> stream=%s" % (re.escape(to), re.escape(NEWS)))
    assert not rig.capture.find(mid), "the unsubscribe request was delivered"
    assert sqlite_entries(setup.unsub.datadir) == [(to, NEWS, "mail")]


def test_mail_to_mailto_and_another_recipient_only_the_mailto_recipient_removed(rig, workdir):
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    to = rcpt("lena")
    _, mailto = unsub_targets(deliver(rig, NEWS, to).msg)
    other = "postmaster@example.com"
    r, mid = send(rig, to, [mailto, other], source_address="127.0.0.2", subject="unsubscribe")
    assert r.accepted, r
    d = rig.capture.wait_for(mid)
    assert rcpts_of(d) == [other], d.meta
    m.wait_log(r"unsubscribed by mail: rcpt=<%s>" % re.escape(to))
    assert sqlite_entries(setup.unsub.datadir) == [(to, NEWS, "mail")]


@pytest.mark.parametrize("store_url", STORES, indirect=True)
def test_offline_run_with_the_mailto_address_as_rcpt_stores_nothing(keys, workdir, store_url):
    """txmilter -t is a dry run: an unsubscribe request by mail is reported, never stored
    (neither in the SQLite file, which is not even created, nor in Redis)"""
    setup = unsub_setup(keys, workdir, store=store_url)
    # written, never started: its configuration is what txmilter -t and txmilterctl read
    m = TxMilter(workdir, setup, name="offline-unsub", tag=uuid.uuid4().hex[:8])
    to = rcpt("paul")
    mailto = "unsub+%s@example.com" % seal_token(setup.unsub.keyfile, to, NEWS)
    msg, _ = make_message(from_addr=to, to_addr=mailto, subject="unsubscribe")
    path = os.path.join(m.dir, "unsub-%s.eml" % uuid.uuid4().hex[:6])
    with open(path, "wb") as f:
        f.write(msg)

    def offline():
        p = run([m.binary, "-t", path, "-x", m.conf_path, "--from", to, "--rcpt", mailto],
                        check=False)
        out = p.stdout.decode(errors="replace")
        want = "recipient %s: would record unsubscribe of <%s> from stream %s (dry run: " \
               "nothing written)" % (mailto, to, NEWS)
        assert want in out.splitlines(), out + p.stderr.decode(errors="replace")
        assert "not recorded (dry run)" in out and "verdict: discard" in out, out
        return out

    if store_url is None:
        offline()
        assert os.listdir(setup.unsub.datadir) == [], "txmilter -t created files"
    other = rcpt("quinn")
    rc, out, err = ctl(m, "suppress", "add", other, NEWS)
    assert rc == 0, (rc, out, err)
    offline()
    rc, out, err = ctl(m, "suppress", "list")
    assert rc == 0 and [l.split("\t")[:2] for l in out.splitlines()] == [[other, NEWS]], out
    if store_url is None:
        assert sqlite_entries(setup.unsub.datadir) == [(other, NEWS, "txmilterctl")]


# --- the application's own header ---------------------------------------------------

APP_LU = b"List-Unsubscribe: <https://app.example.com/leave?u=42>, <mailto:leave@example.com>"
APP_LUP = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"


def test_existing_list_unsubscribe_kept_by_default(rig, workdir):
    m = rig.start_milter(unsub_setup(rig.keys, workdir))
    d = deliver(rig, NEWS, rcpt("mia"), extra_headers=[APP_LU, APP_LUP])
    assert d.msg.fields("List-Unsubscribe") == [APP_LU], d.raw[:3000]
    assert d.msg.fields("List-Unsubscribe-Post") == [APP_LUP]
    assert b"unsub.example.com" not in d.raw
    sig = d.msg.dkim_signatures()[0]
    assert "list-unsubscribe" in sig["h"].lower().split(":")
    check_signed(d.raw, rig.dns.port, [("example.com", RSA)])
    m.wait_log(r"unsubscribe=kept-existing")


def test_existing_list_unsubscribe_replaced_with_ours_exactly_one_and_signed(rig, workdir, unsubds):
    setup = unsub_setup(rig.keys, workdir, existing="replace")
    m = rig.start_milter(setup)
    u = unsubds(m)
    to = rcpt("nils")
    d = deliver(rig, NEWS, to, extra_headers=[APP_LU, APP_LUP])
    lu = d.msg.fields("List-Unsubscribe")
    assert len(lu) == 1, "expected exactly one List-Unsubscribe:\n%s" % d.raw[:3000].decode(
        errors="replace")
    assert b"app.example.com" not in d.raw and b"leave@example.com" not in d.raw
    assert d.msg.fields("List-Unsubscribe-Post") == [APP_LUP]
    url, _ = unsub_targets(d.msg)
    assert url.startswith("https://unsub.example.com/u/")
    check_signed(d.raw, rig.dns.port, [("example.com", RSA)])
    m.wait_log(r"unsubscribe=replaced")
    # and ours works
    assert one_click(local_url(url, u.port)) == "200"
    assert sqlite_entries(setup.unsub.datadir) == [(to, NEWS, "http")]


# --- txmilterctl suppress --------------------------------------------------------------

def test_txmilterctl_suppress_add_refuses_remove_delivers_list_and_export(rig, workdir):
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    to = rcpt("olga")

    rc, out, err = ctl(m, "suppress", "add", to, NEWS)
    assert rc == 0, (rc, out, err)
    rc, out, err = ctl(m, "suppress", "list")
    assert rc == 0, (rc, out, err)
    rows = [l.split("\t") for l in out.splitlines() if l]
    assert len(rows) == 1 and rows[0][:2] == [to, NEWS] and rows[0][3] == "txmilterctl", out
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", rows[0][2]), rows
    rc, out, err = ctl(m, "suppress", "export")
    assert rc == 0, (rc, out, err)
    lines = out.splitlines()
    assert lines[0] == "rcpt,stream,created,source,reason,expires,evidence", out
    assert lines[1].startswith("%s,%s," % (to, NEWS)) and lines[1].endswith(",txmilterctl,manual,,"), out

    assert_refused_unsubscribed(rig, NEWS, to, NEWS)

    rc, out, err = ctl(m, "suppress", "remove", to, NEWS)
    assert rc == 0, (rc, out, err)
    rc, out, err = ctl(m, "suppress", "list")
    assert to not in out, out
    rc, out, err = ctl(m, "suppress", "remove", to, NEWS)
    assert rc == 1, "removing a missing entry: exit %d\n%s%s" % (rc, out, err)
    d = deliver(rig, NEWS, to)
    assert len(d.msg.fields("List-Unsubscribe")) == 1


def test_txmilterctl_bounce_entry_refuses_with_its_status_listed_by_reason_and_lifted(rig, workdir):
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    to, other = rcpt("bounced"), rcpt("unsubscribed")
    evidence = "5.1.1; smtp; 550 5.1.1 <%s>: Recipient address rejected" % to
    rc, out, err = ctl(m, "suppress", "add", to, NEWS, "--reason", "bounce", "--evidence", evidence)
    assert rc == 0 and "(bounce)" in out, (rc, out, err)
    rc, out, err = ctl(m, "suppress", "add", other, NEWS, "--reason", "unsubscribe")
    assert rc == 0, (rc, out, err)

    r, mid = send(rig, NEWS, to)
    assert r.data is not None and r.data[0] == 550, (r, rig.postfix.log_for(mid))
    want = "5.7.1 <%s>: recipient bounced mail of %s (bounced: 5.1.1)" % (to, NEWS)
    assert want in r.data[1], "reply %r does not say %r" % (r.data, want)
    assert_refused_unsubscribed(rig, NEWS, other, NEWS)

    rc, out, err = ctl(m, "suppress", "list", "--reason", "bounce")
    rows = [l.split("\t") for l in out.splitlines() if l]
    assert rc == 0 and len(rows) == 1, (rc, out, err)
    assert rows[0][:2] == [to, NEWS] and rows[0][4:] == ["bounce", "never", evidence], rows
    rc, out, err = ctl(m, "suppress", "list", "--reason", "unsubscribe")
    assert rc == 0 and [l.split("\t")[:2] for l in out.splitlines()] == [[other, NEWS]], out
    rc, out, err = ctl(m, "suppress", "list", "--reason", "bogus")
    assert rc == 2, (rc, out, err)

    rc, out, err = ctl(m, "suppress", "remove", to, NEWS)
    assert rc == 0, (rc, out, err)
    deliver(rig, NEWS, to)


# --- the suppression list while Redis is frozen ----------------------------------

FROZEN_MESSAGES = 12


def redis_unsub_setup(rig, workdir, redis, failure, policy=True):
    """List-Unsubscribe on Redis with StoreFailure failure, a control socket and (with
    policy) a rate policy, so that both stores share the one Redis pool"""
    d = os.path.join(workdir, "unsub-redis-%s" % uuid.uuid4().hex[:6])
    os.makedirs(d)
    os.chmod(d, 0o755)
    extra = [("StoreFailure", failure), ("ControlSocket", os.path.join(d, "ctl"))]
    if policy:
        path = os.path.join(d, "rate.policy")
        with open(path, "w") as f:
            f.write("burst rcpt 1000/10m tempfail\n")
        os.chmod(path, 0o644)
        extra.append(("RateLimitPolicy", path))
    return unsub_setup(rig.keys, workdir, store=redis.url, extra=extra)


def redis_trouble_lines(m):
    """the milter's warnings about Redis trouble (each timeout or refusal, each outage);
    each message's own summary line is not one of them"""
    return [l for l in m.log_text(True).splitlines()
            if re.search(r"(warning|error): .*(no answer within|connect to|unavailable|"
                         r"stayed busy)", l)]


@pytest.mark.parametrize("failure,policy", [("local", True), ("accept", True),
                                            ("tempfail", False)])
def test_frozen_redis_suppression_checks_follow_storefailure_then_enforced_again(
        rig, workdir, failure, policy):
    """Redis frozen (SIGSTOP): with StoreFailure local or accept mail flows unchecked
    (there is no local copy of the list), with tempfail it is deferred with 451 4.3.0;
    each failure counted, a bounded number of log lines (the breaker, not one timeout
    per message); after SIGCONT the unsubscribed recipient is refused again"""
    redis = RedisServer(workdir, name="redis-frozen-%s" % uuid.uuid4().hex[:6]).start()
    try:
        m = rig.start_milter(redis_unsub_setup(rig, workdir, redis, failure, policy))
        victim, other = rcpt("frozen"), rcpt("other")
        rc, out, err = ctl(m, "suppress", "add", victim, NEWS)
        assert rc == 0, (rc, out, err)
        assert_refused_unsubscribed(rig, NEWS, victim, NEWS)

        redis.freeze()
        try:
            results = [send(rig, NEWS, [victim, other][i % 2]) for i in range(FROZEN_MESSAGES)]
        finally:
            redis.thaw()
        for r, mid in results:
            if failure == "tempfail":
                assert r.data is not None and r.data[0] == 451, r
                assert r.data[1].startswith("4.3.0 ") and "suppression list unavailable" in \
                    r.data[1], r
                assert not rig.capture.find(mid)
            else:
                assert r.accepted, "%r\nmaillog: %s" % (r, rig.postfix.log_for(mid))
                rig.capture.wait_for(mid)
        trouble = redis_trouble_lines(m)
        # the opening timeout, the breaker and the list's outage line, a probe or two
        # (one per StoreRetryInterval), the rate store's line: never one per message
        assert 1 <= len(trouble) <= 8, "\n".join(trouble)
        m.wait_log(r"suppression list unavailable \(.*\): StoreFailure %s: messages " % failure)
        if failure != "tempfail":
            unchecked = re.findall(r"suppression=unchecked", m.log_text(True))
            assert len(unchecked) == FROZEN_MESSAGES, m.log_text(True)[-3000:]

        # Redis answers again: the breaker closes, the suppression holds again
        def refused():
            r, mid = send(rig, NEWS, victim)
            return r.data is not None and r.data[0] == 550
        wait_until(refused, 20, interval=0.2, what="the unsubscribed recipient refused again")
        assert_refused_unsubscribed(rig, NEWS, victim, NEWS)
        deliver(rig, NEWS, other)
        m.wait_log(r"suppression list answers again after \d+ ms")
        st = ctl_stats(m)
        assert st["suppression list"] == "up", st
        assert int(st["suppression checks failed"]) >= FROZEN_MESSAGES // 2, st
        assert m.alive(), m.log_text(True)[-3000:]
    finally:
        redis.stop()


def test_unsubscribe_by_mail_while_redis_frozen_is_deferred_not_lost(rig, workdir):
    """an unsubscribe request sent by mail while the list cannot store it gets 451 4.3.0
    (the sender's MTA retries), and the frozen Redis costs one timeout, not one per try"""
    redis = RedisServer(workdir, name="redis-frozen-mail-%s" % uuid.uuid4().hex[:6]).start()
    try:
        m = rig.start_milter(redis_unsub_setup(rig, workdir, redis, "accept"))
        to = rcpt("mailer")
        d = deliver(rig, NEWS, to)
        _, addr = unsub_targets(d.msg)
        redis.freeze()
        try:
            tries = [send(rig, to, addr, source_address="127.0.0.2") for _ in range(4)]
        finally:
            redis.thaw()
        for r, mid in tries:
            assert r.rcpt(addr)[0] == 451 and r.rcpt(addr)[1].startswith("4.3.0 "), r
        assert len(redis_trouble_lines(m)) <= 8, "\n".join(redis_trouble_lines(m))
        assert int(ctl_stats(m)["suppression additions failed"]) == 4

        def stored_now():
            r, mid = send(rig, to, addr, source_address="127.0.0.2")
            return (r.rcpt(addr) or (0,))[0] == 250
        wait_until(stored_now, 20, interval=0.2, what="the request stored once Redis answers")
        assert (to, NEWS, "mail") in stored(None, redis), stored(None, redis)
        assert_refused_unsubscribed(rig, NEWS, to, NEWS)
    finally:
        redis.stop()


def test_rate_decision_and_suppression_check_are_one_redis_round_trip(rig, workdir):
    """with a rate policy on the same Redis, a recipient costs one command: the rate
    script returns its suppressions, the end-of-headers check asks nothing more"""
    redis = RedisServer(workdir, name="redis-rtt-%s" % uuid.uuid4().hex[:6]).start()
    try:
        m = rig.start_milter(redis_unsub_setup(rig, workdir, redis, "local"))
        victim, other = rcpt("rtt"), rcpt("rtt-other")
        rc, out, err = ctl(m, "suppress", "add", victim, NEWS)
        assert rc == 0, (rc, out, err)
        deliver(rig, NEWS, other)              # connected, script loaded
        mon = redis.monitor()
        try:
            for to, refused in ((other, False), (victim, True)):
                lines = []
                if refused:
                    assert_refused_unsubscribed(rig, NEWS, to, NEWS)
                else:
                    deliver(rig, NEWS, to)
                mon.count(lines)
                # one call decides and looks up; a refused message then gets its quota back
                want = ['"D"', '"R"'] if refused else ['"D"']
                got = [op for l in lines for op in ('"D"', '"R"') if '"EVALSHA" ' in l
                       and ' %s ' % op in l]
                assert got == want and len(lines) == len(want), (
                    "one recipient, %d commands:\n%s" % (len(lines), "\n".join(lines)))
        finally:
            mon.close()
    finally:
        redis.stop()


def test_unsubscribed_recipient_refused_under_every_spelling_postfix_accepts(rig, workdir):
    """Postfix (strict_rfc821_envelopes = no) delivers <olga(3)@x>, <olga@x(c)>, <olga@x>>
    ... to olga@x: each spelling of a recipient who unsubscribed is refused 550 5.7.1, and
    nothing reaches the capture; the plain address of another recipient still is served."""
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    local, dom = rcpt("olga").split("@")
    to = "%s@%s" % (local, dom)
    rc, out, err = ctl(m, "suppress", "add", to, NEWS)
    assert rc == 0, (rc, out, err)
    spellings = ["<%s(3)@%s>" % (local, dom), "<%s@%s(x)>" % (local, dom),
                 "<%s@%s>>" % (local, dom), "<(hi)%s@%s>" % (local, dom),
                 "<%s@(x)%s>" % (local, dom), "<%s+tag(y)@%s.>" % (local.upper(), dom.upper()),
                 "<%s@%s (z)>" % (local, dom), "<<%s@%s>>" % (local, dom)]
    mids = []
    for v in spellings:
        msg, mid = make_message(subject="spelling", from_addr=NEWS, to_addr=to)
        r = smtp_send(rig.postfix.smtpd_port, "<%s>" % NEWS, [v], msg, mid, raw=True)
        assert r.rcpts[0][1] == 250, "Postfix must accept %s: %r" % (v, r)
        assert r.data is not None and r.data[0] == 550, "%s: %r" % (v, r)
        assert ("5.7.1 <%s>: recipient unsubscribed from mail of %s" % (to, NEWS)) in r.data[1], \
            "%s: %r" % (v, r)
        mids.append(mid)
    for mid in mids:
        assert rig.postfix.fate(mid)["status"] == "milter-reject", rig.postfix.log_for(mid)
        assert not rig.capture.find(mid)
    # what Postfix put in {rcpt_addr}: its resolver's form (tests/unit/test_addr_smtp.c)
    log = m.log_text(True)
    for v in spellings:
        want = ("%s+tag@%s" % (local, dom)) if "+tag" in v else to
        assert "rcpt %s read as <%s> by the MTA" % (v, want) in log, (v, log[-3000:])
    d = deliver(rig, NEWS, rcpt("paul"))
    assert len(d.msg.fields("List-Unsubscribe")) == 1

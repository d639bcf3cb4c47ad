# SPDX-License-Identifier: BSD-2-Clause
"""txmilter-unsubd: the one-click unsubscribe endpoint (issue 4), over real HTTP.

Each test starts txmilter-unsubd on a free loopback port with its own configuration,
key file and DataDirectory (the embedded SQLite store), makes tokens with
tests/unsubd_token_tool (the real unsub_token_seal(), next to $TXMILTER), and talks to
it with curl exactly as Gmail does, and with Python for raw requests. What is stored is
read from the SQLite file itself. No Postfix is involved.

Binaries: $TXMILTER_UNSUBD, else txmilter-unsubd next to $TXMILTER (default build/);
$UNSUBD_TOKEN_TOOL, else tests/unsubd_token_tool in the same build directory.
"""

import base64
import hashlib
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time

import pytest

from mailrig.util import connectable, free_port, make_dir, make_traversable, run, tail, wait_until
from mailrig.milters import txmilter_binary
from unsub_helpers import token_tool

UNSUBD_LOG_PREFIX = 8                  # token characters the log may show (unsubd_http.h)
RCPT = "bob@example.org"
STREAM = "news@shop.example"
GMAIL = ["-X", "POST", "-H", "Content-Type: application/x-www-form-urlencoded",
         "--data", "List-Unsubscribe=One-Click"]


def _build_dir():
    return os.path.dirname(os.path.abspath(txmilter_binary()))


def unsubd_binary():
    return os.environ.get("TXMILTER_UNSUBD") or os.path.join(_build_dir(), "txmilter-unsubd")


def write_keys(path, ids):
    """write_keys - a key file with one random 32-byte key per id (last seals); returns {id: line}"""
    lines = {i: "%d %s" % (i, base64.b64encode(os.urandom(32)).decode()) for i in ids}
    write_key_lines(path, [lines[i] for i in ids])
    return lines


def write_key_lines(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


class Unsubd:
    """txmilter-unsubd with a temporary configuration, key file and DataDirectory."""

    def __init__(self, base, name, extra=""):
        self.dir = make_dir(os.path.join(base, name), 0o755)
        self.keyfile = os.path.join(self.dir, "unsub.keys")
        self.datadir = make_dir(os.path.join(self.dir, "data"), 0o750)
        self.conf = os.path.join(self.dir, "txmilter.conf")
        self.log = os.path.join(self.dir, "unsubd.log")
        self.port = free_port()
        self.proc = None
        self.tokens = []
        self.keys = write_keys(self.keyfile, [1])
        with open(self.conf, "w") as f:
            f.write("Socket inet:%d@127.0.0.1\nSyslog no\nControlSocket none\n"
                    "UnsubscribeKeyFile %s\nUnsubscribeListen 127.0.0.1:%d\nDataDirectory %s\n%s"
                    % (free_port(), self.keyfile, self.port, self.datadir, extra))

    def start(self, foreground=True):
        args = [unsubd_binary(), "-x", self.conf] + (["-f"] if foreground else [])
        started = self.logtext().count("txmilter-unsubd started") if os.path.exists(self.log) else 0
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdout=logf, stderr=logf)
        logf.close()
        if foreground:                                      # serving, not merely bound
            wait_until(lambda: self.logtext().count("txmilter-unsubd started") > started
                               or self.proc.poll() is not None, 20, what="txmilter-unsubd to start")
        else:
            wait_until(lambda: connectable("inet:%d@127.0.0.1" % self.port),
                               20, what="txmilter-unsubd to listen")
        if foreground:
            assert self.proc.poll() is None, "txmilter-unsubd exited:\n" + tail(self.log)
        return self

    def stop(self):
        rc = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(20)
        self.proc = None
        return rc

    def hup(self, expect):
        """hup - SIGHUP, then wait for the log line that says how the reload went"""
        before = self.logtext().count(expect)
        self.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.logtext().count(expect) > before, 10, what=expect)

    def token(self, rcpt=RCPT, stream=STREAM, issued=None, keyfile=None):
        cmd = [token_tool(), keyfile or self.keyfile, rcpt, stream] + ([str(issued)] if issued else [])
        tok = run(cmd).stdout.decode().strip()
        self.tokens.append(tok)
        return tok

    def url(self, token_or_path):
        p = token_or_path if token_or_path.startswith("/") else "/u/" + token_or_path
        return "http://127.0.0.1:%d%s" % (self.port, p)

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def rows(self):
        """rows - every (rcpt, stream, source) in the SQLite store"""
        db = os.path.join(self.datadir, "suppress.db")
        if not os.path.exists(db):
            return []
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            if "suppress" not in tables:
                return []
            return sorted(con.execute("SELECT rcpt, stream, source FROM suppress").fetchall())
        finally:
            con.close()


def curl(url, *args):
    """curl - (status, headers lower-cased, body) of one request, never following redirects"""
    p = subprocess.run(["curl", "-sS", "--max-time", "20", "-D", "-", "-o", "/dev/stderr", *args, url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    head = p.stdout.decode(errors="replace")
    blocks = [b for b in re.split(r"\r?\n\r?\n", head) if b.startswith("HTTP/")]
    assert blocks, "curl got no response: rc=%d %s" % (p.returncode, p.stderr[-500:])
    lines = blocks[-1].splitlines()
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    assert not 300 <= status < 400 and "location" not in headers, "a redirect: %s" % lines
    return status, headers, p.stderr.decode(errors="replace")


@pytest.fixture
def unsubd(tmp_path, request):
    """unsubd - a factory: unsubd(extra_config_lines) -> a started Unsubd; stopped afterwards"""
    for b in (unsubd_binary(), token_tool()):
        if not os.access(b, os.X_OK):
            pytest.fail("%s is missing: build txmilter first (make)" % b)
    make_traversable(str(tmp_path))
    made = []

    def make(extra="", start=True, name=None):
        u = Unsubd(str(tmp_path), name or "u%d" % len(made), extra)
        made.append(u)
        return u.start() if start else u

    yield make
    codes = [u.stop() for u in made]                        # every daemon stopped before any check
    for u, rc in zip(made, codes):
        art = os.environ.get("MAILRIG_ARTIFACTS")
        if art and os.path.exists(u.log):
            shutil.copy(u.log, os.path.join(art, "unsubd-%s-%s.log" % (request.node.name, os.path.basename(u.dir))))
        assert rc in (None, 0), "txmilter-unsubd exited %s on SIGTERM:\n%s" % (rc, tail(u.log))
        text = u.logtext() if os.path.exists(u.log) else ""
        assert not re.search(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:", text), text[-3000:]
        for t in u.tokens:                                  # never a whole token in the log
            assert t[:UNSUBD_LOG_PREFIX + 1] not in text, "the log holds a token: %s" % t


def test_gmail_one_click_post_unsubscribes_durably(unsubd):
    u = unsubd()
    tok = u.token()
    status, headers, body = curl(u.url(tok), *GMAIL)
    assert status == 200, body
    assert "unsubscribed" in body.lower()
    assert headers["content-type"].startswith("text/plain")
    assert headers["cache-control"] == "no-store"
    assert u.rows() == [(RCPT, STREAM, "http")]
    log = u.logtext()
    assert "status=200 result=unsubscribed stream=%s rcpt_domain=example.org" % STREAM in log
    assert tok not in log and RCPT not in log, "the log holds a token or the recipient"
    assert "path=/u/%s..." % tok[:8] in log


def test_repeated_posts_are_harmless(unsubd):
    u = unsubd()
    tok = u.token()
    for _ in range(3):
        assert curl(u.url(tok), *GMAIL)[0] == 200
    assert u.rows() == [(RCPT, STREAM, "http")]


def test_multipart_post_unsubscribes(unsubd):
    u = unsubd()
    status, _, body = curl(u.url(u.token()), "-F", "List-Unsubscribe=One-Click")
    assert status == 200, body
    assert u.rows() == [(RCPT, STREAM, "http")]


def test_get_shows_a_post_form_and_stores_nothing(unsubd):
    u = unsubd()
    tok = u.token()
    status, headers, page = curl(u.url(tok))
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert re.search(r'<form method="post"', page)
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert "action=" not in page, "the form posts to the page's own URL"
    assert STREAM in page and "b***@example.org" in page and RCPT not in page
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    status, _, _ = curl(u.url(tok), "-I")                   # HEAD, as some scanners do
    assert status == 200
    # a link scanner's GET, even with the one-click body or a query, stores nothing
    assert curl(u.url(tok) + "?List-Unsubscribe=One-Click", "--data", "List-Unsubscribe=One-Click",
                "-X", "GET")[0] == 200
    assert u.rows() == []
    # the page's own button works: POST the form as a browser would
    assert curl(u.url(tok), "--data-urlencode", "List-Unsubscribe=One-Click")[0] == 200
    assert u.rows() == [(RCPT, STREAM, "http")]


LANG_BUTTONS = {"en": "Unsubscribe", "fr": "Me désabonner", "id": "Berhenti berlangganan",
                "de": "Abmelden", "es": "Cancelar suscripción"}
BROWSER = ["-H", "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"]


def style_hashes(page):
    """style_hashes - the CSP sources of the page's <style> elements, as a browser hashes them"""
    return ["'sha256-%s'" % base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()
            for m in re.findall(r"<style[^>]*>(.*?)</style>", re.sub(r"<!--.*?-->", "", page, flags=re.S), re.S)]


def assert_page_headers(headers, page, lang):
    """assert_page_headers - what every page carries: its style allowed by hash and nothing
    else, no framing, no referrer, no powerful features, its own browsing context group"""
    csp = headers["content-security-policy"]
    assert csp.startswith("default-src 'none';"), csp
    hashes = style_hashes(page)
    assert hashes and all(h in csp for h in hashes), (hashes, csp)
    assert "unsafe" not in csp and "script" not in csp and "http" not in csp, csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "<script" not in page.lower() and " style=" not in page
    assert headers["permissions-policy"].startswith("accelerometer=(), camera=()")
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
    assert headers["content-language"] == lang
    assert '<html lang="%s">' % lang in page


def test_confirmation_page_in_each_language_styled_by_hash_with_every_security_header(unsubd):
    u = unsubd()
    tok = u.token()
    for accept, lang in [("fr-CA,fr;q=0.9,en;q=0.8", "fr"), ("id-ID, id;q=0.9", "id"),
                         ("de;q=0.4, es;q=0.6", "es"), ("de-AT", "de"), ("ja, *;q=0.1", "en"),
                         (None, "en"), ("*, en;q=0", "fr")]:
        status, headers, page = curl(u.url(tok), *(["-H", "Accept-Language: " + accept] if accept else []))
        assert status == 200, (accept, page)
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert_page_headers(headers, page, lang)
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
        assert ">%s</button>" % LANG_BUTTONS[lang] in page, (accept, page)
        assert STREAM in page and "b***@example.org" in page and RCPT not in page
    assert u.rows() == []
    # plain answers carry the new headers too
    status, headers, _ = curl(u.url("/nope"))
    assert status == 404 and headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]


def test_browser_post_gets_the_result_page_one_click_post_stays_plain(unsubd):
    u = unsubd()
    tok = u.token()
    status, headers, page = curl(u.url(tok), *BROWSER, "-H", "Accept-Language: de",
                                 "--data", "List-Unsubscribe=One-Click")
    assert status == 200, page
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert_page_headers(headers, page, "de")
    assert "Sie sind abgemeldet" in page and STREAM in page and "<form" not in page
    assert u.rows() == [(RCPT, STREAM, "http")]
    status, headers, body = curl(u.url(u.token(rcpt="carol@example.org")), *GMAIL)   # RFC 8058
    assert status == 200 and headers["content-type"].startswith("text/plain"), headers
    assert body == "You have been unsubscribed.\n"
    # a bad link: an error page for a person, a line of text for a machine
    bad = tok[:-3] + ("AAA" if not tok.endswith("AAA") else "BBB")
    status, headers, page = curl(u.url(bad), "-H", "Accept-Language: fr")
    assert status == 400 and headers["content-type"] == "text/html; charset=utf-8"
    assert_page_headers(headers, page, "fr")
    assert "Ce lien ne fonctionne pas" in page and "<form" not in page
    status, headers, page = curl(u.url(bad), *BROWSER, "--data", "List-Unsubscribe=One-Click")
    assert status == 400 and "This link does not work" in page
    status, headers, body = curl(u.url(bad), *GMAIL)
    assert status == 400 and headers["content-type"].startswith("text/plain")
    assert sorted(r[0] for r in u.rows()) == sorted([RCPT, "carol@example.org"])


BRAND_CONFIRM = """<!DOCTYPE html>
<html lang="%{lang}"><head><meta charset="utf-8"><title>%{title} - Shop</title>
<style>h1{color:#b00}</style></head>
<body><h1>SHOP: %{heading}</h1><p>%{message}</p>%{form}<p>%{note}</p></body></html>
"""


def test_template_directory_brands_the_pages_is_checked_at_start_and_reloaded_on_sighup(unsubd, tmp_path):
    tdir = make_dir(str(tmp_path / "templates"), 0o755)
    with open(os.path.join(tdir, "confirm.html"), "w") as f:
        f.write(BRAND_CONFIRM)
    u = unsubd("UnsubscribeTemplateDirectory %s\n" % tdir)
    tok = u.token()
    status, headers, page = curl(u.url(tok), "-H", "Accept-Language: fr")
    assert status == 200 and "<h1>SHOP: Vous désabonner de ces e-mails" in page, page
    assert_page_headers(headers, page, "fr")
    assert "%s" % STREAM in page and "<title>Se désabonner - Shop</title>" in page
    # a broken template: SIGHUP keeps the pages in use, and says where the mistake is
    with open(os.path.join(tdir, "done.html"), "w") as f:
        f.write("<p>ok</p>\n<p style=\"color:red\">%{stream}</p>\n")
    u.hup("previous pages stay in force")
    assert re.search(r"done\.html:2: a style= attribute", u.logtext()), u.logtext()[-2000:]
    assert "SHOP:" in curl(u.url(tok))[2]
    # -n and a start say the same
    p = run([unsubd_binary(), "-n", "-x", u.conf], check=False)
    assert p.returncode == 1 and re.search(r"done\.html:2: a style= attribute", p.stderr.decode()), p.stderr
    # fixed, and a page per language: SIGHUP takes them
    with open(os.path.join(tdir, "done.html"), "w") as f:
        f.write("<p class=\"x\">DONE %{recipient} %{stream}</p>\n")
    with open(os.path.join(tdir, "confirm.es.html"), "w") as f:
        f.write("<h1>TIENDA %{heading}</h1>%{form}")
    u.hup("template(s) loaded from")
    assert "<h1>TIENDA " in curl(u.url(tok), "-H", "Accept-Language: es")[2]
    status, headers, page = curl(u.url(tok), *BROWSER, "--data", "List-Unsubscribe=One-Click")
    assert status == 200 and page == "<p class=\"x\">DONE b***@example.org %s</p>\n" % STREAM, page
    assert "style-src" not in headers["content-security-policy"]        # no style, no hash
    # a missing directory, a misspelt file: refused at start with file:line
    v = unsubd("UnsubscribeTemplateDirectory %s/nosuch\n" % tdir, start=False)
    p = run([unsubd_binary(), "-n", "-x", v.conf], check=False)
    assert p.returncode == 1 and re.search(r"txmilter\.conf:\d+: UnsubscribeTemplateDirectory .*nosuch: "
                                           r"No such file", p.stderr.decode()), p.stderr
    with open(os.path.join(tdir, "confirm.FR.html"), "w") as f:
        f.write("%{form}")
    w = unsubd("UnsubscribeTemplateDirectory %s\n" % tdir, start=False)
    p = subprocess.run([unsubd_binary(), "-f", "-x", w.conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    assert p.returncode == 1 and b"confirm.FR.html: not a template of txmilter-unsubd" in p.stdout, p.stdout
    # a FIFO in place of a template is refused at once, never waited on
    os.unlink(os.path.join(tdir, "confirm.FR.html"))
    os.mkfifo(os.path.join(tdir, "error.html"))
    p = subprocess.run([unsubd_binary(), "-n", "-x", w.conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10)
    assert p.returncode == 1 and b"error.html: not a regular file" in p.stdout, p.stdout


def test_the_shipped_example_templates_load_and_render(unsubd):
    from mailrig.util import REPO
    tdir = os.path.join(REPO, "contrib", "unsubscribe-templates")
    u = unsubd("UnsubscribeTemplateDirectory %s\n" % tdir)
    p = run([unsubd_binary(), "-n", "-x", u.conf], check=False)
    assert p.returncode == 0 and b"pages " + tdir.encode() in p.stdout, (p.stdout, p.stderr)
    tok = u.token()
    for lang, want in (("en", "1 Market Street"), ("fr", "1 rue du Marché")):
        status, headers, page = curl(u.url(tok), "-H", "Accept-Language: " + lang)
        assert status == 200 and want in page and "Example Shop" in page, page
        assert_page_headers(headers, page, lang)
    status, headers, page = curl(u.url(tok[:-2] + "xx"), "-H", "Accept-Language: es")
    assert status == 400 and "Este enlace no funciona" in page and "help@shop.example" in page
    status, headers, page = curl(u.url(tok), *BROWSER, "--data", "List-Unsubscribe=One-Click")
    assert status == 200 and "You are unsubscribed" in page and "Example Shop" in page
    assert_page_headers(headers, page, "en")


def _flip(tok, i):
    c = tok[i]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return tok[:i] + alphabet[(alphabet.index(c) + 1) % 64] + tok[i + 1:]


def test_tampered_and_forged_tokens_are_refused(unsubd, tmp_path):
    u = unsubd()
    tok = u.token()
    other = str(tmp_path / "other.keys")
    write_keys(other, [1])                                  # same key id, other secret
    bad = [_flip(tok, i) for i in (0, 1, 5, len(tok) // 2, len(tok) - 2, len(tok) - 1)]
    bad += [tok[:-1], tok[:20], tok + "A", u.token(keyfile=other), "A" * len(tok),
            tok.replace(tok[3], "." if tok[3] != "." else "-", 1)]
    for t in bad:
        status, headers, body = curl(u.url(t), *GMAIL)
        assert status == 400, (t, status, body)
        assert headers["content-type"].startswith("text/plain")
        assert curl(u.url(t))[0] == 400, t                  # GET: 400 too, the error page
    assert u.rows() == []
    assert "bad-token" in u.logtext()


def test_bodies_other_than_one_click_are_refused(unsubd):
    u = unsubd()
    tok = u.token()
    cases = [
        ["-X", "POST"],                                                           # no body at all
        ["--data", "List-Unsubscribe=One-Click", "-H", "Content-Type: text/plain"],
        ["--data", "List-Unsubscribe=Yes"],
        ["--data", "unsubscribe=1"],
        ["-H", "Content-Type: application/json", "--data", '{"List-Unsubscribe":"One-Click"}'],
        ["-F", "List-Unsubscribe=Two-Clicks"],
    ]
    for args in cases:
        status, _, body = curl(u.url(tok), *args)
        assert status == 400, (args, status, body)
    assert u.rows() == []


def test_oversized_bodies_get_413(unsubd):
    u = unsubd()
    tok = u.token()
    big = "List-Unsubscribe=One-Click&pad=" + "x" * 5000
    status, _, _ = curl(u.url(tok), "--data", big)           # Content-Length says so: at once
    assert status == 413
    # chunked: 411 Length Required, before any byte of it (issue 12: the gate checks a whole
    # request before libmicrohttpd sees it, and one-click senders send a Content-Length)
    status, _, _ = curl(u.url(tok), "-H", "Transfer-Encoding: chunked", "--data", big)
    assert status == 411
    assert u.rows() == []
    # still serving
    assert curl(u.url(tok), *GMAIL)[0] == 200


def test_limits_and_odd_requests_never_redirect(unsubd):
    u = unsubd()
    tok = u.token()
    expect = {
        "/": 404, "/u": 404, "/u/": 400, "//u/" + tok: 404, "/u/" + tok + "/": 400,
        "/unsubscribe": 404, "/u/" + "A" * 300: 400, "/x" + "y" * 2000: 414,
    }
    for path, want in expect.items():
        assert curl(u.url(path))[0] == want, path
        assert curl(u.url(path), *GMAIL)[0] == want, path
    assert curl(u.url(tok), "-X", "PUT")[0] == 405
    status, headers, _ = curl(u.url(tok), "-X", "DELETE")
    assert status == 405 and "POST" in headers["allow"]
    # a request line and headers over the connection's memory are refused by libmicrohttpd
    status, _, _ = curl(u.url(tok), "-H", "X-Big: " + "z" * 20000)
    assert status in (400, 413, 414, 431)
    assert u.rows() == []


def test_rate_limit_per_client_gives_429_with_retry_after(unsubd):
    u = unsubd()
    tok = u.token()
    conn = http.client.HTTPConnection("127.0.0.1", u.port, timeout=10)
    statuses = []
    retry = None
    for _ in range(125):
        conn.request("GET", "/u/" + tok)
        r = conn.getresponse()
        r.read()
        statuses.append(r.status)
        if r.status == 429:
            retry = r.getheader("Retry-After")
        if r.will_close:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", u.port, timeout=10)
    conn.close()
    assert statuses[:120] == [200] * 120
    assert set(statuses[120:]) == {429}
    assert retry is not None and 1 <= int(retry) <= 60
    # a POST over the rate is refused too, and nothing is stored
    assert curl(u.url(tok), *GMAIL)[0] == 429
    assert u.rows() == []
    assert "result=rate-limited" in u.logtext()
    # another client (behind the trusted proxy on loopback) has its own allowance
    assert curl(u.url(tok), *GMAIL, "-H", "X-Forwarded-For: 198.51.100.7")[0] == 200
    assert u.rows() == [(RCPT, STREAM, "http")]


def test_x_forwarded_for_only_from_trusted_proxy(unsubd):
    u = unsubd()                                            # default: 127.0.0.1 is the proxy
    assert curl(u.url(u.token()), "-H", "X-Forwarded-For: 6.6.6.6, 198.51.100.7")[0] == 200
    assert "client=198.51.100.7 method=GET" in u.logtext()
    v = unsubd("UnsubscribeTrustedProxy none\n")
    assert curl(v.url(v.token()), "-H", "X-Forwarded-For: 198.51.100.7")[0] == 200
    assert "client=127.0.0.1 method=GET" in v.logtext()
    assert "198.51.100.7" not in v.logtext()


def test_expired_token_is_refused(unsubd):
    u = unsubd("UnsubscribeMaxAge 3600\n")
    old = u.token(issued=int(time.time()) - 7200)
    fresh = u.token(issued=int(time.time()) - 60)
    assert curl(u.url(old), *GMAIL)[0] == 400
    assert 'reason="expired"' in u.logtext()
    assert u.rows() == []
    assert curl(u.url(fresh), *GMAIL)[0] == 200


def test_suppression_survives_restart(unsubd):
    u = unsubd()
    tok = u.token()
    assert curl(u.url(tok), *GMAIL)[0] == 200
    assert u.stop() == 0
    assert u.rows() == [(RCPT, STREAM, "http")]
    u.start()
    assert u.rows() == [(RCPT, STREAM, "http")]
    assert curl(u.url(tok), *GMAIL)[0] == 200
    assert curl(u.url(u.token(rcpt="carol@example.org")), *GMAIL)[0] == 200
    assert u.rows() == [(RCPT, STREAM, "http"), ("carol@example.org", STREAM, "http")]


def test_sighup_rotates_keys_and_a_bad_file_keeps_the_old_ones(unsubd):
    u = unsubd()
    k1 = u.keys[1]
    t1 = u.token()
    # rotation: key 2 appended (it seals from now on), key 1 still verifies
    k2 = "2 " + base64.b64encode(os.urandom(32)).decode()
    write_key_lines(u.keyfile, [k1, k2])
    u.hup("reload: keys loaded")
    t2 = u.token()
    assert curl(u.url(t1), *GMAIL)[0] == 200
    assert curl(u.url(t2), *GMAIL, "-H", "X-Forwarded-For: 198.51.100.2")[0] == 200
    # key 1 removed: its tokens are refused from now on, key 2's still work
    write_key_lines(u.keyfile, [k2])
    u.hup("reload: keys loaded")
    assert curl(u.url(t1))[0] == 400
    assert curl(u.url(u.token(rcpt="dave@example.org", keyfile=None)), *GMAIL)[0] == 200
    assert 'reason="unknown key"' in u.logtext()
    # a broken file: logged, the keys in use stay
    with open(u.keyfile, "w") as f:
        f.write("this is not a key\n")
    os.chmod(u.keyfile, 0o600)
    u.hup("previous keys stay in force")
    assert curl(u.url(t2))[0] == 200
    assert curl(u.url(t1))[0] == 400
    os.chmod(u.keyfile, 0o644)                              # readable by others: refused as well
    write_key_lines(u.keyfile, [k1])
    os.chmod(u.keyfile, 0o644)
    u.hup("previous keys stay in force")
    assert curl(u.url(t1))[0] == 400
    assert u.proc.poll() is None
    assert sorted(r[0] for r in u.rows()) == [RCPT, "dave@example.org"]


def test_sigterm_finishes_the_request_in_flight(unsubd):
    u = unsubd()
    tok = u.token()
    body = b"List-Unsubscribe=One-Click"
    s = socket.create_connection(("127.0.0.1", u.port), timeout=10)
    s.sendall(b"POST /u/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (tok.encode(), len(body), body[:10]))
    time.sleep(0.3)
    u.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert u.proc.poll() is None, "exited with a request in flight"
    # new connections are no longer accepted
    assert not connectable("inet:%d@127.0.0.1" % u.port)
    s.sendall(body[10:])
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
    s.close()
    assert reply.startswith(b"HTTP/1.1 200"), reply
    assert u.proc.wait(20) == 0
    assert u.rows() == [(RCPT, STREAM, "http")]


def test_runs_as_userid_and_detaches_with_pidfile(unsubd, tmp_path):
    user = "nobody"
    pw = pwd.getpwnam(user)
    pidfile = str(tmp_path / "unsubd.pid")
    u = unsubd("UserID %s\nUnsubscribePidFile %s\n" % (user, pidfile), start=False)
    os.chown(u.datadir, pw.pw_uid, pw.pw_gid)
    u.start(foreground=False)
    assert u.proc.wait(10) == 0                             # the parent returns once detached
    pid = int(wait_until(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(),
                                 10, what="UnsubscribePidFile"))
    try:
        with open("/proc/%d/status" % pid) as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        assert uids == [str(pw.pw_uid)] * 4, status
        assert curl(u.url(u.token()), *GMAIL)[0] == 200
        assert os.stat(os.path.join(u.datadir, "suppress.db")).st_uid == pw.pw_uid
        assert u.rows() == [(RCPT, STREAM, "http")]
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), 20, what="daemon exit")


def test_configuration_errors_are_reported(unsubd):
    u = unsubd(start=False)
    with open(u.conf, "a") as f:
        f.write("UnsubscribeListen nonsense\n")
    p = run([unsubd_binary(), "-n", "-x", u.conf], check=False)
    assert p.returncode == 1
    assert re.search(r"txmilter\.conf:\d+: .*UnsubscribeListen", p.stderr.decode())
    v = unsubd(start=False)
    os.chmod(v.keyfile, 0o644)
    p = run([unsubd_binary(), "-n", "-x", v.conf], check=False)
    assert p.returncode == 1 and v.keyfile in p.stderr.decode()
    w = unsubd(start=False)
    p = run([unsubd_binary(), "-n", "-x", w.conf], check=False)
    assert p.returncode == 0, p.stderr


def test_redis_store_and_a_store_outage_is_never_reported_as_success(unsubd, tmp_path):
    from mailrig.redisserver import RedisServer
    redis = RedisServer(str(tmp_path), "redis")
    redis.start()
    try:
        u = unsubd("Store %s\n" % redis.url)
        tok = u.token()
        assert curl(u.url(tok), *GMAIL)[0] == 200
        ctl = os.path.join(_build_dir(), "txmilterctl")
        listed = run([ctl, "-x", u.conf, "suppress", "list"]).stdout.decode()
        assert RCPT in listed and STREAM in listed, listed
        assert u.stop() == 0
        u.start()                                           # a restart of unsubd keeps it (it is in Redis)
        assert RCPT in run([ctl, "-x", u.conf, "suppress", "list"]).stdout.decode()
        redis.stop()
        status, headers, body = curl(u.url(u.token(rcpt="carol@example.org")), *GMAIL)
        assert status == 503, body                          # the receiver will try again
        assert int(headers["retry-after"]) > 0
        assert "result=store-error" in u.logtext()
        assert curl(u.url(tok))[0] == 200                   # GET needs no store
        redis.start()
        status = wait_until(
            lambda: curl(u.url(u.token(rcpt="carol@example.org")), *GMAIL)[0] == 200, 15,
            interval=0.5, what="the store to come back")
        assert status
    finally:
        redis.stop()

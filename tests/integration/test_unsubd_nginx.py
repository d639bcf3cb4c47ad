# SPDX-License-Identifier: BSD-2-Clause
"""The shipped TLS front, for real: Debian's nginx with contrib/nginx-unsubscribe.conf in
front of txmilter-unsubd (issue 12).

The configuration is used as shipped; the test replaces only what its header says may
differ on a test machine (the listen ports, on loopback; the upstream port; the two
certificate paths) and checks that no other line changed. The certificate is a
throwaway one made with openssl. Clients are Python's ssl module (able to speak TLS 1.0
and 1.1, so that a refusal is nginx's, not the client's) and raw requests, sent from
127.0.0.5 so that X-Forwarded-For can be told from the proxy's own address.
"""

import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import threading

import pytest

from mailrig.util import connectable, free_port, run, tail, wait_until
from test_unsubd import RCPT, STREAM, unsubd  # noqa: F401 (fixture)
from test_unsubd_hardening import PER_CLIENT, established_to, parse as parse_raw

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "contrib", "nginx-unsubscribe.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CLIENT = "127.0.0.5"
OTHER = "127.0.0.6"                     # another client behind the same proxy
HOST = "unsub.example.com"


def adapt(text, tls_port, http_port, upstream_port, cert, key):
    """adapt - the shipped file with only its documented substitutions"""
    subs = [
        (r"^(\s*listen )443( ssl http2;)$", r"\g<1>127.0.0.1:%d\2" % tls_port),
        (r"^(\s*listen )\[::\]:443( ssl http2;)$", r"\g<1>[::1]:%d\2" % tls_port),
        (r"^(\s*listen )80;$", r"\g<1>127.0.0.1:%d;" % http_port),
        (r"^(\s*listen )\[::\]:80;$", r"\g<1>[::1]:%d;" % http_port),
        (r"^(\s*server 127\.0\.0\.1:)8025;$", r"\g<1>%d;" % upstream_port),
        (r"^(\s*ssl_certificate\s+)\S+;$", r"\g<1>%s;" % cert),
        (r"^(\s*ssl_certificate_key\s+)\S+;$", r"\g<1>%s;" % key),
    ]
    out, changed = [], 0
    for line in text.split("\n"):
        new = line
        for pat, rep in subs:
            new = re.sub(pat, rep, new)
        changed += new != line
        out.append(new)
    assert changed == 7, "the shipped file no longer has the lines the test may adapt"
    return "\n".join(out)


class Nginx:
    """nginx in the foreground with its own prefix, pid and logs, serving the adapted file."""

    def __init__(self, base, upstream_port):
        self.dir = os.path.join(base, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.tls_port, self.http_port = free_port(), free_port()
        self.cert, self.key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=" + HOST, "-addext", "subjectAltName=DNS:" + HOST,
             "-keyout", self.key, "-out", self.cert])
        with open(SHIPPED) as f:
            site = adapt(f.read(), self.tls_port, self.http_port, upstream_port, self.cert, self.key)
        with open(os.path.join(self.dir, "site.conf"), "w") as f:
            f.write(site)
        self.error_log = os.path.join(self.dir, "error.log")
        temps = "".join("%s_temp_path %s/%s;\n" % (t, self.dir, t)
                        for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write("daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\n"
                    "pid %s/nginx.pid;\nerror_log %s info;\nevents { worker_connections 256; }\n"
                    "http {\n%saccess_log off;\ninclude %s;\n}\n"
                    % (self.dir, self.error_log, temps, os.path.join(self.dir, "site.conf")))
        self.proc = None

    def start(self):
        p = run([NGINX, "-t", "-p", self.dir, "-c", self.conf], check=False)
        assert p.returncode == 0, p.stderr.decode()
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: connectable("inet:%d@127.0.0.1" % self.tls_port) or self.proc.poll() is not None,
                   20, what="nginx to listen")
        assert self.proc.poll() is None, tail(self.error_log)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def tls_context(version=None, verify=True, cafile=None):
    """tls_context - a client context for exactly this version (None: the defaults)"""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")          # our side may speak old versions
    if cafile:
        ctx.load_verify_locations(cafile)
    ctx.check_hostname = verify
    ctx.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    return ctx


def https(ng, data, ctx=None, source=CLIENT, timeout=15):
    """https - send a raw request over TLS from source; the raw answer (read to the end)"""
    ctx = ctx or tls_context(cafile=ng.cert)
    raw = socket.create_connection(("127.0.0.1", ng.tls_port), timeout=timeout, source_address=(source, 0))
    with ctx.wrap_socket(raw, server_hostname=HOST) as s:
        s.sendall(data)
        reply = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ssl.SSLError, ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            reply += chunk
    return reply


def parse(reply):
    """parse - (status, headers lower-cased, body as text) of a raw answer"""
    status, headers, body = parse_raw(reply)
    return status, headers, body.decode(errors="replace")


def request(method, path, headers=(), body=b""):
    h = "".join("%s: %s\r\n" % kv for kv in headers)
    return ("%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (method, path, HOST, h, len(body))).encode() + body


@pytest.fixture
def front(unsubd, tmp_path):
    """front - txmilter-unsubd behind the shipped nginx: (nginx, unsubd)"""
    yield from front_with(unsubd, tmp_path, "")


@pytest.fixture
def slow_store_front(unsubd, tmp_path):
    """slow_store_front - the front with a rate limit out of the way, a store that may
    wait 10 s for its SQLite lock (a test holds it to keep requests in flight), and
    metrics on u.metrics_port"""
    mport = free_port()
    for ng, u in front_with(unsubd, tmp_path, "UnsubscribeRateLimit 1000/1m\nStoreTimeout 10000\n"
                            "UnsubscribeMetricsListen 127.0.0.1:%d\n" % mport):
        u.metrics_port = mport
        yield ng, u


def front_with(unsubd, tmp_path, extra):
    """front_with - txmilter-unsubd (with extra configuration lines) behind nginx"""
    if not os.access(NGINX, os.X_OK):
        pytest.fail("nginx is missing (Debian package nginx, in DEPS)")
    u = unsubd(extra)
    ng = Nginx(str(tmp_path), u.port)
    ng.start()
    try:
        yield ng, u
    finally:
        ng.stop()
        art = os.environ.get("MAILRIG_ARTIFACTS")
        if art and os.path.exists(ng.error_log):
            shutil.copy(ng.error_log, os.path.join(art, "nginx-error.log"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")          # TLS 1.0 and 1.1, on purpose
@pytest.mark.parametrize("version,accepted", [
    (ssl.TLSVersion.TLSv1, False), (ssl.TLSVersion.TLSv1_1, False),
    (ssl.TLSVersion.TLSv1_2, True), (ssl.TLSVersion.TLSv1_3, True)])
def test_tls_versions(front, version, accepted):
    ng, _ = front
    ctx = tls_context(version, verify=False)
    raw = socket.create_connection(("127.0.0.1", ng.tls_port), timeout=15)
    try:
        if accepted:
            with ctx.wrap_socket(raw, server_hostname=HOST) as s:
                assert s.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        else:
            with pytest.raises(ssl.SSLError) as e:
                ctx.wrap_socket(raw, server_hostname=HOST)
            # nginx said no (an alert), not our own client
            assert "PROTOCOL_VERSION" in str(e.value).upper() or "UNSUPPORTED_PROTOCOL" in str(e.value).upper(), e.value
            assert "NO_PROTOCOLS_AVAILABLE" not in str(e.value).upper(), e.value
    finally:
        raw.close()


def test_one_click_through_the_front_with_hsts_and_no_version(front):
    ng, u = front
    tok = u.token()
    status, headers, body = parse(https(ng, request(
        "POST", "/u/" + tok, [("Content-Type", "application/x-www-form-urlencoded")],
        b"List-Unsubscribe=One-Click")))
    assert status == 200, body
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["server"] == "nginx", headers                     # server_tokens off
    assert u.rows() == [(RCPT, STREAM, "http")]
    status, headers, page = parse(https(ng, request("GET", "/u/" + tok)))
    assert status == 200 and "<form" in page
    assert "strict-transport-security" in headers
    assert "location" not in headers


def test_only_u_token_is_proxied(front):
    ng, u = front
    tok = u.token()
    before = u.logtext().count("client=")
    for path in ("/", "/x", "/u", "/u/", "/u/%s/" % tok, "/x/../u/" + tok, "/u/../u/" + tok,
                 "//u/" + tok, "/u/%41" + tok[1:], "/u/%s%%00garbage" % tok, "/u/" + tok + "/..",
                 "/%75/" + tok, "/u/" + "A" * 300, "/metrics", "/health"):
        for method in ("GET", "POST"):
            reply = https(ng, request(method, path, [("Content-Type", "application/x-www-form-urlencoded")],
                                      b"List-Unsubscribe=One-Click" if method == "POST" else b""))
            status, headers, body = parse(reply)
            assert status in (400, 404), (method, path, status, body[:200])    # 400: nginx on %00
            assert "strict-transport-security" in headers, (path, headers)   # "always"
            assert headers.get("server") == "nginx", (path, headers)
            assert "nginx/" not in body, (path, body)
    assert u.logtext().count("client=") == before, "nginx passed one of them on:\n" + tail(u.log)
    assert u.rows() == []
    # other methods stop at nginx too
    status, headers, _ = parse(https(ng, request("PUT", "/u/" + tok)))
    assert status == 403
    assert u.logtext().count("client=") == before
    # plain http: refused, never redirected
    s = socket.create_connection(("127.0.0.1", ng.http_port), timeout=15)
    s.sendall(request("POST", "/u/" + tok, [("Content-Type", "application/x-www-form-urlencoded")],
                      b"List-Unsubscribe=One-Click"))
    reply = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    s.close()
    status, headers, _ = parse(reply)
    assert status == 404 and "location" not in headers
    assert u.rows() == []


def test_x_forwarded_for_names_the_client_not_what_it_claims(front):
    ng, u = front
    tok = u.token()
    status, _, _ = parse(https(ng, request("GET", "/u/" + tok, [("X-Forwarded-For", "6.6.6.6")])))
    assert status == 200
    log = u.logtext()
    assert "client=%s method=GET" % CLIENT in log, log[-2000:]
    assert "6.6.6.6" not in log


def one_click(ng, tok, results, source=CLIENT):
    """one_click - the RFC 8058 POST through the front; its status into results"""
    status, _, body = parse(https(ng, request(
        "POST", "/u/" + tok, [("Content-Type", "application/x-www-form-urlencoded")],
        b"List-Unsubscribe=One-Click"), source=source, timeout=30))
    results.append((status, body.strip()))


def test_one_client_behind_the_proxy_is_limited_at_its_share(slow_store_front):
    """PER_CLIENT + 3 one-click POSTs of one client in flight at once through nginx, all
    from nginx's address, while the store stalls (a test holds its SQLite lock): the gate
    counts them per X-Forwarded-For client as it hands them over, not once one of the
    four request threads takes one, so the 3 over the limit are refused 429 while the
    lock is still held, logged under the client's own address and counted; the proxy
    itself is not limited as one address, so another client behind it, arriving
    meanwhile, is taken too (not refused), and once the store answers, every request
    under the limit is done"""
    from test_metrics import http_get, samples
    ng, u = slow_store_front
    n, over = PER_CLIENT, 3             # 19: under nginx's own limit_conn of 20 per client
    toks = [u.token(rcpt="r%d@receiver.example" % i) for i in range(n + over)]
    other = u.token(rcpt="other@receiver.example")
    lock = sqlite3.connect(os.path.join(u.datadir, "suppress.db"), timeout=5,
                           isolation_level=None)
    results, theirs, threads = [], [], []
    refused = [(429, "Too many requests at once; please try again later.")] * over
    try:
        lock.execute("BEGIN EXCLUSIVE")             # every one-click write waits
        for tok in toks:
            threads.append(threading.Thread(target=one_click, args=(ng, tok, results)))
            threads[-1].start()
        # the refusals come while the lock is held: none of the others can be answered yet
        wait_until(lambda: len(results) >= over, 8,
                   what="the %d requests over the limit refused while the store stalls" % over)
        assert results == refused, results
        threads.append(threading.Thread(target=one_click, args=(ng, other, theirs, OTHER)))
        threads[-1].start()
        wait_until(lambda: "client=%s method=POST" % OTHER in u.logtext()
                   or established_to(u.port) >= n + 1, 8,
                   what="the other client's request at txmilter-unsubd")
        assert theirs == [], theirs                 # taken, waiting for the store like the rest
        assert len(results) == over, results
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    for t in threads:
        t.join(60)
    assert sorted(results) == sorted(refused + [(200, "You have been unsubscribed.")] * n), results
    assert theirs == [(200, "You have been unsubscribed.")], theirs
    log = u.logtext()
    assert log.count("client=%s method=POST path=/u/" % CLIENT) == n + over, log[-3000:]
    assert len(re.findall(r"client=%s method=POST path=/u/\S+ status=429 result=too-many-connections\n"
                          % re.escape(CLIENT), log)) == over, log[-3000:]
    assert log.count("client=%s method=POST" % OTHER) == 1, log[-3000:]
    assert re.search(r"client=%s method=POST path=/u/\S+ status=200 " % re.escape(OTHER), log), log[-3000:]
    assert "client=127.0.0.1 " not in log, log[-3000:]
    assert len(u.rows()) == n + 1
    status, _, text = http_get("http://127.0.0.1:%d/metrics" % u.metrics_port)
    assert status == 200
    assert samples(text).get('txmilter_unsubd_requests_total{code="429"}') == over, text

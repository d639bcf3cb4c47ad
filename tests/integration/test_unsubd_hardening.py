# SPDX-License-Identifier: BSD-2-Clause
"""txmilter-unsubd held to the standard of a page on the open Internet (issue 12).

Each test is one finding of the attack on the endpoint and fails on the code before
the fix: the UnsubscribeRateLimit directive, X-Forwarded-For over several lines or
over 1 KB, plain-http UnsubscribeURL refused, libmicrohttpd's own error answers
(every answer with the security headers, a Content-Type, Connection: close and a
log line), paths checked before decoding, the one-click body with white space,
slowloris from one address. The daemon is started as in test_unsubd.py (its
fixture), on loopback, with its own configuration and store.
"""

import http.client
import os
import re
import socket
import sqlite3
import threading
import time

import pytest

from mailrig.util import run, wait_until
from mailrig.milters import txmilter_binary
from test_unsubd import GMAIL, RCPT, STREAM, curl, unsubd, unsubd_binary  # noqa: F401 (fixture)


def line_of(path, directive):
    """line_of - the number of the last line of path that sets directive"""
    n = 0
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if line.split()[:1] == [directive]:
                n = i
    return n


def get(u, path, headers=(), method="GET", body=None):
    """get - (status, headers lower-cased, body) of one request over http.client,
    with headers a list of (name, value) (a name may repeat)"""
    conn = http.client.HTTPConnection("127.0.0.1", u.port, timeout=15)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "unsub.example.com")
        for k, v in headers:
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode(errors="replace")
    finally:
        conn.close()


# --- UnsubscribeRateLimit ---------------------------------------------------------------

def test_unsubscribe_rate_limit_directive_sets_the_limit(unsubd):
    u = unsubd("UnsubscribeRateLimit 3/1m\n")
    tok = u.token()
    statuses = [curl(u.url(tok))[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429], statuses
    assert "rate limit 3 per 60 s per client" in u.logtext()
    # another client behind the trusted proxy has its own allowance
    assert curl(u.url(tok), *GMAIL, "-H", "X-Forwarded-For: 198.51.100.7")[0] == 200
    assert u.rows() == [(RCPT, STREAM, "http")]


def test_unsubscribe_rate_limit_default_is_120_per_minute(unsubd):
    u = unsubd()
    assert "rate limit 120 per 60 s per client" in u.logtext()


@pytest.mark.parametrize("value", ["120", "120/60", "0/1m", "x/1m", "120/1y", "5/400d"])
def test_unsubscribe_rate_limit_bad_values_name_file_and_line(unsubd, value):
    u = unsubd("UnsubscribeRateLimit %s\n" % value, start=False)
    p = run([unsubd_binary(), "-n", "-x", u.conf], check=False)
    err = p.stderr.decode()
    assert p.returncode == 1, err
    assert "%s:%d: UnsubscribeRateLimit: bad value" % (u.conf, line_of(u.conf, "UnsubscribeRateLimit")) \
        in err, err


# --- UnsubscribeURL must be https (RFC 8058 3.1) -----------------------------------------

def test_plain_http_unsubscribe_url_is_refused_with_file_and_line(unsubd, tmp_path):
    u = unsubd("UnsubscribeURL http://unsub.example.com/u/%{token}\n", start=False)
    p = run([txmilter_binary(), "-n", "-x", u.conf], check=False)
    err = p.stderr.decode()
    assert p.returncode != 0
    assert "%s:%d: UnsubscribeURL: \"http://unsub.example.com/u/%%{token}\" is not an https:// URL" % (
        u.conf, line_of(u.conf, "UnsubscribeURL")) in err, err
    # the same in an UnsubscribeTable line
    table = str(tmp_path / "unsub.table")
    with open(table, "w") as f:
        f.write("# per domain\nexample.com https://unsub.example.com/u/%{token}\n"
                "example.org http://unsub.example.org/u/%{token}\n")
    v = unsubd("UnsubscribeURL https://unsub.example.com/u/%%{token}\nUnsubscribeTable %s\n" % table,
               start=False)
    p = run([txmilter_binary(), "-n", "-x", v.conf], check=False)
    assert p.returncode != 0
    assert "%s:3: expected" % table in p.stderr.decode(), p.stderr.decode()


# --- X-Forwarded-For from the trusted proxy ----------------------------------------------

def test_x_forwarded_for_lines_are_joined_and_read_from_the_right(unsubd):
    u = unsubd()
    tok = u.token()
    # the client sent its own line; the proxy appended its own line after it
    status, _, _ = get(u, "/u/" + tok, [("X-Forwarded-For", "6.6.6.6"),
                                        ("X-Forwarded-For", "198.51.100.7")])
    assert status == 200
    log = u.logtext()
    assert "client=198.51.100.7 method=GET" in log, log
    assert "client=6.6.6.6" not in log


def test_a_long_x_forwarded_for_still_names_the_client(unsubd):
    u = unsubd("UnsubscribeRateLimit 2/1h\n")
    tok = u.token()
    pad = ", ".join("203.0.113.%d" % (i % 250) for i in range(120))
    assert len(pad) > 1024
    for client in ("198.51.100.8", "198.51.100.9"):
        for _ in range(2):
            status, _, _ = get(u, "/u/" + tok, [("X-Forwarded-For", pad + ", " + client)])
            assert status == 200, client          # each client its own bucket, not the proxy's
    log = u.logtext()
    assert "client=198.51.100.8 method=GET" in log and "client=198.51.100.9 method=GET" in log, log


# --- the path as received, before any decoding -------------------------------------------

def test_a_path_is_checked_before_decoding(unsubd):
    u = unsubd()
    tok = u.token()
    for path in ("/u/%s%%00garbage" % tok, "/u/%s%%2F" % tok, "/u/%%41%s" % tok[1:],
                 "/u/" + "".join("%%%02X" % ord(ch) for ch in tok)):
        status, headers, _ = get(u, path, [("Content-Type", "application/x-www-form-urlencoded")],
                                 method="POST", body=b"List-Unsubscribe=One-Click")
        assert status == 400, (path, status)
        assert get(u, path)[0] == 400, path
    assert get(u, "/%75/" + tok)[0] == 404              # "/u/" spelt with an escape is another path
    assert u.rows() == []
    assert "bad-token" in u.logtext()
    assert get(u, "/u/" + tok + "?x=%00")[0] == 200      # the query is not the path


# --- the one-click body, as libmicrohttpd's post processor reads it -----------------------

URLENC = "application/x-www-form-urlencoded"


def mp(boundary):
    return "multipart/form-data; boundary=" + boundary


BODIES = {
    # application/x-www-form-urlencoded
    "gmail": (URLENC, "List-Unsubscribe=One-Click", 200),
    "leading-plus": (URLENC, "List-Unsubscribe=+One-Click", 200),
    "surrounding-space": (URLENC, "List-Unsubscribe=%20One-Click%20", 200),
    "trailing-crlf": (URLENC, "List-Unsubscribe=One-Click\r\n", 200),
    "charset-param": (URLENC + "; charset=UTF-8", "List-Unsubscribe=One-Click", 200),
    "ctype-case": ("Application/X-WWW-Form-URLencoded", "List-Unsubscribe=One-Click", 200),
    "percent-encoded": (URLENC, "List%2DUnsubscribe=One%2dClick", 200),
    "other-fields": (URLENC, "a=b&List-Unsubscribe=One-Click&c=", 200),
    "value-case": (URLENC, "list-unsubscribe=one-click", 200),
    "empty": (URLENC, "", 400),
    "wrong-value": (URLENC, "List-Unsubscribe=Yes", 400),
    "no-value": (URLENC, "List-Unsubscribe", 400),
    "prefix-only": (URLENC, "List-Unsubscribe=One-Click-Not", 400),
    "nul-escape": (URLENC, "List-Unsubscribe=One-Click%00", 400),
    "long-field": (URLENC, "x" * 3000 + "=One-Click", 400),
    # multipart/form-data (curl -F, browsers)
    "multipart": (mp("XyZ"), "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
                  "One-Click\r\n--XyZ--\r\n", 200),
    "multipart-second-part": (mp("qq"), "--qq\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n--rr\r\n-qq\r\n"
                              "--qq\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n"
                              "Content-Type: text/plain\r\n\r\nOne-Click\r\n--qq--\r\n", 200),
    "multipart-wrong-value": (mp("qq"), "--qq\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\""
                              "\r\n\r\nNo\r\n--qq--\r\n", 400),
    "multipart-wrong-name": (mp("qq"), "--qq\r\nContent-Disposition: form-data; name=\"List-Unsubscribe-Post\""
                             "\r\n\r\nOne-Click\r\n--qq--\r\n", 400),
    "multipart-no-boundary-param": ("multipart/form-data", "--qq\r\nContent-Disposition: form-data; "
                                    "name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--qq--\r\n", 400),
    "multipart-other-boundary": (mp("rr"), "--qq\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\""
                                 "\r\n\r\nOne-Click\r\n--qq--\r\n", 400),
    "multipart-urlencoded-inside": (mp("qq"), "List-Unsubscribe=One-Click", 400),
    # other media types
    "no-ctype": (None, "List-Unsubscribe=One-Click", 400),
    "text-plain": ("text/plain", "List-Unsubscribe=One-Click", 400),
    "json": ("application/json", "{\"List-Unsubscribe\":\"One-Click\"}", 400),
}


@pytest.mark.parametrize("case", sorted(BODIES))
def test_one_click_bodies(unsubd, case):
    ctype, body, want = BODIES[case]
    u = unsubd()
    status, headers, text = get(u, "/u/" + u.token(), [("Content-Type", ctype)] if ctype else [],
                                method="POST", body=body.encode())
    assert status == want, (case, status, text)
    assert u.rows() == ([(RCPT, STREAM, "http")] if want == 200 else [])
    if want == 400:
        assert "result=bad-body" in u.logtext()


# --- every answer carries the headers, a Content-Type, Connection: close, and a log line ---

def raw(u, data, source="127.0.0.1", wait=10):
    """raw - send data as it is, read the answer until the server closes (bounded)"""
    s = socket.create_connection(("127.0.0.1", u.port), timeout=wait, source_address=(source, 0))
    try:
        s.sendall(data)
        reply = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            reply += chunk
        return reply
    finally:
        s.close()


def parse(reply):
    """parse - (status, headers lower-cased, body) of a raw answer, after any 100 Continue"""
    while reply.startswith(b"HTTP/1.1 100"):
        reply = reply.split(b"\r\n\r\n", 1)[1]
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    assert lines[0].startswith("HTTP/1."), reply[:200]
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def assert_full_headers(headers, what):
    assert headers.get("content-type", "").startswith("text/"), (what, headers)
    assert headers.get("cache-control") == "no-store", (what, headers)
    assert headers.get("x-content-type-options") == "nosniff", (what, headers)
    assert headers.get("referrer-policy") == "no-referrer", (what, headers)
    assert headers.get("x-frame-options") == "DENY", (what, headers)
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), (what, headers)
    assert headers.get("connection", "").lower() == "close", (what, headers)


MALFORMED = {
    "garbage": (b"GARBAGE\r\n\r\n", 400),
    "no-version": (b"GET /u/x\r\n\r\n", 400),
    "http2-version": (b"GET /u/x HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    "http-0.9-ish": (b"GET /u/x HTTP/0.9\r\nHost: x\r\n\r\n", 505),
    "long-uri": (b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "long-headers": (b"GET /u/x HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"z" * 1000)
                                                                 for i in range(40)) + b"\r\n", 431),
    "many-headers": (b"GET /u/x HTTP/1.1\r\nHost: x\r\n" + b"".join(b"A%d: b\r\n" % i for i in range(3000))
                     + b"\r\n", 431),
    "bad-content-length": (b"POST /u/x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
    "two-content-lengths": (b"POST /u/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n"
                            b"\r\nabcd", 400),
    "huge-content-length": (b"POST /u/x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
                            413),
    "no-host": (b"GET /u/x HTTP/1.1\r\n\r\n", 400),
    "two-hosts": (b"GET /u/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    "space-before-colon": (b"GET /u/x HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    "folded-header": (b"GET /u/x HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", 400),
    "nul-in-header": (b"GET /u/x HTTP/1.1\r\nHost: x\r\nX-A: b\x00c\r\n\r\n", 400),
    "absolute-form": (b"GET http://x/u/x HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    "chunked": (b"POST /u/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                411),
    "expect-other": (b"POST /u/x HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417),
    "pipelined": (b"GET /u/x HTTP/1.1\r\nHost: x\r\n\r\nGET /u/y HTTP/1.1\r\nHost: x\r\n\r\n", 400),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_requests_get_our_full_answer_and_a_log_line(unsubd, case):
    data, want = MALFORMED[case]
    u = unsubd()
    status, headers, _ = parse(raw(u, data))
    assert status == want, (case, status, headers)
    assert_full_headers(headers, case)
    assert re.search(r"client=127\.0\.0\.1 method=\S+ path=\S+ status=%d result=\S+" % want,
                     u.logtext()), u.logtext()[-2000:]


def test_every_answer_closes_the_connection(unsubd):
    u = unsubd()
    tok = u.token()
    answers = {
        "page": b"GET /u/%s HTTP/1.1\r\nHost: x\r\n\r\n" % tok.encode(),
        "head": b"HEAD /u/%s HTTP/1.1\r\nHost: x\r\n\r\n" % tok.encode(),
        "404": b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n",
        "405": b"PUT /u/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" % tok.encode(),
        "bad-token": b"GET /u/AAAA HTTP/1.1\r\nHost: x\r\n\r\n",
        "one-click": b"POST /u/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 26\r\n\r\nList-Unsubscribe=One-Click" % tok.encode(),
        "expect-100": b"POST /u/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                      b"Expect: 100-continue\r\nContent-Length: 26\r\n\r\nList-Unsubscribe=One-Click"
                      % tok.encode(),
    }
    for what, data in answers.items():
        status, headers, _ = parse(raw(u, data))        # raw() reads until the server closes
        assert status in (200, 404, 405, 400), (what, status)
        assert_full_headers(headers, what)
    assert u.rows() == [(RCPT, STREAM, "http")]


# --- slowloris: one address cannot take the slots, and a request has a deadline ---------

SLOW = "127.0.0.2"          # the attacker; not the trusted proxy (127.0.0.1)
LEGIT = "127.0.0.3"


def slow_connections(u, n):
    """slow_connections - n connections from SLOW, each having sent the start of a request"""
    conns = []
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", u.port), timeout=5, source_address=(SLOW, 0))
            s.sendall(b"GET /u/")
            conns.append(s)
        except OSError:
            break
    return conns


def trickle(conns):
    """trickle - one more byte on each connection still open; those still open"""
    alive = []
    for s in conns:
        try:
            s.sendall(b"A")
            alive.append(s)
        except OSError:
            s.close()
    return alive


def test_slowloris_from_one_address_leaves_room_for_others(unsubd):
    u = unsubd()
    tok = u.token()
    conns = slow_connections(u, 300)                    # more than all of libmicrohttpd's 256 slots
    assert len(conns) > 256
    try:
        conns = trickle(conns)
        # a person from another address is answered while the attacker trickles on
        status, headers, page = parse(raw(u, b"GET /u/%s HTTP/1.1\r\nHost: unsub.example.com\r\n\r\n"
                                          % tok.encode(), source=LEGIT, wait=15))
        assert status == 200
        conns = trickle(conns)
        refused = 0
        for s in conns:                                 # those over the limit were told so
            s.settimeout(0.2)
            try:
                got = s.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                got = b""
            if got.startswith(b"HTTP/1.1 429") or not got:
                refused += 1
        assert refused >= len(conns) - 16, refused
        assert "client=%s method=- path=- status=429 result=too-many-connections" % SLOW in u.logtext()
    finally:
        for s in conns:
            s.close()


PER_CLIENT = 16                 # UNSUBD_GATE_PER_CLIENT (unsubd/unsubd_gate.h)


def one_click_raw(u, tok, source, results):
    """one_click_raw - a whole RFC 8058 POST from source; its status into results"""
    body = b"List-Unsubscribe=One-Click"
    reply = raw(u, b"POST /u/%s HTTP/1.1\r\nHost: unsub.example.com\r\n"
                   b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n"
                   b"Connection: close\r\n\r\n%s" % (tok.encode(), len(body), body),
                source=source, wait=30)
    results.append(parse(reply)[0] if reply else None)


def test_whole_requests_waiting_for_a_busy_worker_still_count_for_their_address(unsubd):
    """the store stalls (a test holds its SQLite lock), so every worker thread waits: the
    whole requests handed to libmicrohttpd meanwhile are still open and still count
    against their address, so the 17th from one address gets 429 at once (it got in
    before: a handed-over request was counted only once a worker started it); another
    address is not refused, and all are answered once the store is back"""
    u = unsubd("UnsubscribeRateLimit 1000/1m\nStoreTimeout 10000\n")
    n, extra = PER_CLIENT, 6
    toks = [u.token(rcpt="r%d@receiver.example" % i) for i in range(n + extra)]
    legit = u.token(rcpt="legit@receiver.example")
    lock = sqlite3.connect(os.path.join(u.datadir, "suppress.db"), timeout=5, isolation_level=None)
    results, mine, threads = [], [], []
    try:
        lock.execute("BEGIN EXCLUSIVE")             # every one-click write waits
        for tok in toks[:n]:
            threads.append(threading.Thread(target=one_click_raw, args=(u, tok, SLOW, results)))
            threads[-1].start()
        wait_until(lambda: u.logtext().count("client=%s" % SLOW) == 0 and
                   established_to(u.port) >= n, 20, what="%d requests open" % n)
        for tok in toks[n:]:                        # over the limit: refused while the others wait
            one_click_raw(u, tok, SLOW, results)
        assert results == [429] * extra, results
        threads.append(threading.Thread(target=one_click_raw, args=(u, legit, LEGIT, mine)))
        threads[-1].start()
        wait_until(lambda: established_to(u.port) >= n + 1, 20, what="the other address's request open")
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    for t in threads:
        t.join(60)
    assert sorted(results) == [200] * n + [429] * extra, results
    assert mine == [200], mine
    log = u.logtext()
    assert log.count("client=%s method=- path=- status=429 result=too-many-connections" % SLOW) == extra, log[-3000:]
    assert "client=%s method=POST" % LEGIT in log
    assert len(u.rows()) == n + 1


def established_to(port):
    """established_to - TCP connections established to 127.0.0.1:port now (/proc/net/tcp)"""
    local = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        return sum(1 for line in f.readlines()[1:]
                   if line.split()[1] == local and line.split()[3] == "01")


def test_a_request_trickling_in_gets_408_at_its_deadline(unsubd):
    u = unsubd()
    s = socket.create_connection(("127.0.0.1", u.port), timeout=5, source_address=(SLOW, 0))
    try:
        s.sendall(b"GET /u/")
        reply = b""
        deadline = time.monotonic() + 40                # the request's deadline is 20 s
        s.settimeout(1)
        while time.monotonic() < deadline and not reply:
            try:
                s.sendall(b"A")                         # never idle long enough for an idle timeout
            except OSError:
                break
            try:
                reply = s.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
        status, headers, _ = parse(reply)
        assert status == 408
        assert_full_headers(headers, "408")
        assert "client=%s method=GET path=/u/AAAAAAAA... status=408 result=request-timeout" % SLOW \
            in u.logtext()
    finally:
        s.close()


def test_the_gates_own_answers_are_counted(unsubd):
    from mailrig.util import free_port
    from test_metrics import http_get, samples
    mport = free_port()
    u = unsubd("UnsubscribeMetricsListen 127.0.0.1:%d\n" % mport)
    for data, _ in (MALFORMED["garbage"], MALFORMED["http2-version"], MALFORMED["chunked"]):
        parse(raw(u, data))
    status, _, text = http_get("http://127.0.0.1:%d/metrics" % mport)
    assert status == 200
    got = samples(text)
    for code in ("400", "505", "411"):
        assert got.get('txmilter_unsubd_requests_total{code="%s"}' % code) == 1, (code, text)

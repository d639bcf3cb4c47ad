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
import time

import pytest

from mailrig.util import run
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

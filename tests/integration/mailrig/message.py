# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.message - messages for the tests: made from parts, read for assertions.

  make_message(subject, from_addr, to_addr, body, ...)
                                    a CRLF message; (bytes, message_id)
  Message(raw)                      header access with the exact bytes kept: .headers,
                                    .names(), .fields(name), .values(name), .dkim_signatures()
  parse_tags(value)                 a DKIM tag=value list as a dict
"""

import re


HDR_SPLIT = re.compile(rb"\r\n(?![ \t])")


class Message:
    """A raw message (bytes, CRLF) with helpers for header assertions.

    headers: list of (name, field) where field is the exact bytes of the whole field
    (name, colon, value, folds), without the final CRLF."""

    def __init__(self, raw):
        self.raw = raw
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep and raw.endswith(b"\r\n"):
            head = raw[:-2]
        self.head = head
        self.body = body
        self.headers = []
        for field in HDR_SPLIT.split(head) if head else []:
            name = field.split(b":", 1)[0]
            self.headers.append((name.decode("latin-1"), field))

    def names(self):
        return [n for n, _ in self.headers]

    def fields(self, name):
        return [f for n, f in self.headers if n.lower() == name.lower()]

    def values(self, name):
        return [f.split(b":", 1)[1] for f in self.fields(name)]

    def dkim_signatures(self):
        """the DKIM-Signature tag dicts, topmost first (values unfolded, WSP removed)"""
        out = []
        for v in self.values("DKIM-Signature"):
            out.append(parse_tags(v))
        return out


def parse_tags(value):
    """parse_tags - DKIM tag=value list (bytes) to a dict of str, whitespace removed"""
    tags = {}
    for part in value.decode("latin-1").split(";"):
        if "=" not in part:
            continue
        k, v = part.split("=", 1)
        tags[k.strip()] = re.sub(r"\s+", "", v)
    return tags


def make_message(subject="txmilter test", from_addr="sender@example.com",
                 to_addr="rcpt@receiver.example", body=None, extra_headers=(),
                 message_id=None, headers=None):
    """make_message - a CRLF message; returns (bytes, message_id)"""
    import email.utils
    import uuid
    mid = message_id or "%s@txtest.example" % uuid.uuid4().hex
    if headers is None:
        headers = [
            ("From", from_addr),
            ("To", to_addr),
            ("Subject", subject),
            ("Date", email.utils.formatdate(localtime=False)),
            ("Message-ID", "<%s>" % mid),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
        ]
    lines = []
    for h in list(headers) + list(extra_headers):
        if isinstance(h, bytes):
            lines.append(h)
        else:
            n, v = h
            lines.append(("%s: %s" % (n, v)).encode("utf-8") if isinstance(v, str)
                         else n.encode() + b": " + v)
    if body is None:
        body = b"Hello,\r\n\r\nthis is a test message from the txmilter integration suite.\r\n"
    return b"\r\n".join(lines) + b"\r\n\r\n" + body, mid


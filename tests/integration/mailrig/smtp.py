# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.smtp - the one SMTP client of the tests, and what the server answered.

  smtp_send(port, mail_from, rcpts, msg, mid, ...)
                                    one transaction with smtplib; returns SmtpResult.
                                    raw: MAIL FROM / RCPT TO arguments sent exactly as
                                    given; rset_after_rcpt: RSET instead of DATA
  SmtpResult                        .connect, .mail, .data: (code, text) or None;
                                    .rcpts: [RcptReply(addr, code, text, t_sent, t_reply)];
                                    .rcpt(addr), .accepted (250 to DATA), .accepted_rcpts,
                                    .refusal, .all_refused, .queue_id, .error, .mid, .port
  smtp_raw(port, lines, data, ...)  SMTP over a bare socket (data unmodified, e.g. with a
                                    NUL byte smtplib would refuse): every reply received
"""

import collections
import re
import smtplib
import socket
import time

RcptReply = collections.namedtuple("RcptReply", "addr code text t_sent t_reply")


class SmtpResult:
    """What the SMTP server answered at each step of one transaction."""

    def __init__(self, mid=None, port=None):
        self.mid = mid                    # the message's Message-ID, if the caller said
        self.port = port
        self.connect = None
        self.mail = None
        self.rcpts = []                   # [RcptReply], in the order sent
        self.data = None                  # (code, text) or None when DATA was not reached
        self.error = None                 # exception text if the session broke
        self.t_start = time.time()

    def rcpt(self, addr):
        """rcpt - (code, text) of the reply to RCPT TO addr, or None"""
        for r in self.rcpts:
            if r.addr == addr:
                return r.code, r.text
        return None

    @property
    def accepted_rcpts(self):
        return [r.addr for r in self.rcpts if r.code in (250, 251)]

    @property
    def accepted(self):
        """the server took responsibility (250 to DATA)"""
        return self.data is not None and self.data[0] == 250

    @property
    def refusal(self):
        """(stage, code, text) of the first 4xx/5xx reply, or None"""
        for stage, rep in [("connect", self.connect), ("mail", self.mail)] + \
                [("rcpt " + r.addr, (r.code, r.text)) for r in self.rcpts] + \
                [("data", self.data)]:
            if rep is not None and rep[0] >= 400:
                return (stage, rep[0], rep[1])
        return None

    @property
    def all_refused(self):
        """did the server refuse the message as a whole (4xx/5xx at MAIL, every RCPT, or DATA)?"""
        if self.mail and self.mail[0] >= 400:
            return True
        if self.rcpts and all(r.code >= 400 for r in self.rcpts):
            return True
        return self.data is not None and self.data[0] >= 400

    @property
    def queue_id(self):
        if self.data:
            m = re.search(r"queued as ([0-9A-Za-z]+)", self.data[1])
            if m:
                return m.group(1)
        return None

    def __repr__(self):
        return "<SmtpResult %smail=%r rcpts=%r data=%r error=%r>" % (
            "%s " % self.mid if self.mid else "", self.mail,
            [(r.addr, r.code, r.text) for r in self.rcpts], self.data, self.error)


def _reply(code_text):
    code, text = code_text
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return (code, text)


def smtp_send(port, mail_from, rcpts, msg, mid=None, host="127.0.0.1", timeout=60, raw=False,
              rset_after_rcpt=False, source_address=None, helo="client.txtest.example"):
    """smtp_send - one transaction; returns SmtpResult.  With rset_after_rcpt the client
    sends RSET instead of DATA (an aborted transaction).  With raw the MAIL FROM and RCPT TO
    arguments go out exactly as given (smtplib would rewrite "<a(x)@b>").  DATA is sent
    only when some recipient was accepted."""
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    r = SmtpResult(mid, port)
    try:
        s = smtplib.SMTP(timeout=timeout,
                         source_address=(source_address, 0) if source_address else None)
        try:
            r.connect = _reply(s.connect(host, port))
            if r.connect[0] != 220:
                r.error = "SMTPConnectError: %d %s" % r.connect
                return r
            s.ehlo(helo)
            r.mail = _reply(s.docmd("MAIL", "FROM:" + mail_from) if raw else s.mail(mail_from))
            if r.mail[0] != 250:
                return r
            for a in rcpts:
                t0 = time.time()
                code, text = _reply(s.docmd("RCPT", "TO:" + a) if raw else s.rcpt(a))
                r.rcpts.append(RcptReply(a, code, text, t0, time.time()))
            if rset_after_rcpt:
                s.rset()
                return r
            if not r.accepted_rcpts:
                return r
            try:
                r.data = _reply(s.data(msg))
            except smtplib.SMTPDataError as e:
                r.data = _reply((e.smtp_code, e.smtp_error))
        finally:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                s.close()
    except (smtplib.SMTPException, OSError) as e:
        r.error = "%s: %s" % (type(e).__name__, e)
    return r


def smtp_raw(port, transcript_lines, data, host="127.0.0.1", timeout=60):
    """smtp_raw - speak SMTP over a bare socket (data sent unmodified, must end in
    CRLF.CRLF); returns the list of reply lines received"""
    s = socket.create_connection((host, port), timeout)
    f = s.makefile("rb")
    replies = []

    def read_reply():
        lines = []
        while True:
            line = f.readline()
            if not line:
                break
            lines.append(line.decode(errors="replace").rstrip("\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                break
        replies.append("\n".join(lines))
        return lines[-1] if lines else ""

    read_reply()
    for cmd in transcript_lines:
        s.sendall(cmd.encode() + b"\r\n")
        read_reply()
    s.sendall(data)
    read_reply()
    try:
        s.sendall(b"QUIT\r\n")
        read_reply()
    except OSError:
        pass
    s.close()
    return replies

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""smtpcapture - a minimal SMTP server that keeps the exact bytes it receives.

Postfix's smtp-sink rewrites what it dumps (LF line ends, its own Received: and
X-* envelope lines), so signature tests cannot use its files.  This server stores
each DATA transaction unchanged (CRLF line ends, dot-unstuffed, nothing added):

    DIR/NNNNNN.eml   the message exactly as the client sent it
    DIR/NNNNNN.json  {"mail_from": ..., "rcpts": [...], "helo": ..., "client": ..., "size": N}

The .eml file is written under a temporary name and renamed when complete, and the
.json is renamed after it, so a reader that sees NNNNNN.json sees a whole message.

Usage: smtpcapture.py --listen 127.0.0.1:PORT --dir DIR [--pidfile FILE]
       [--reply-data "451 4.3.0 try later"]   (answer every DATA with this, for fault tests)
       [--refuse-file FILE]                   (refuse chosen recipients at RCPT TO)

Refusing recipients.  With --refuse-file, each RCPT TO reads FILE, a JSON object that maps
an address (compared without case) to the reply line for it:

    {"dead@receiver.example": "550 5.1.1 <dead@receiver.example>: no such user",
     "full@receiver.example": "452 4.2.2 <full@receiver.example>: mailbox full"}

A listed recipient gets exactly that reply (a 4xx or 5xx code, a space, then the text);
every other one gets 250.  The file is read afresh at each RCPT, so a test can change it
while the server runs (write it whole and rename it into place); no file means no
refusals.  A file that is not such an object, or a reply that is not "4xx/5xx text",
answers every RCPT "451 4.3.5 smtpcapture: bad refuse file" (and says why on stderr),
so that a broken test setup shows instead of delivering.  Each refusal is appended to
DIR/refused.jsonl as {"rcpt": ..., "reply": ..., "mail_from": ..., "client": ...}.

It announces PIPELINING, 8BITMIME, SMTPUTF8, SIZE and ENHANCEDSTATUSCODES, so Postfix
never converts 8-bit content before delivering it.  SIGTERM stops it.
"""

import argparse
import json
import os
import re
import signal
import socket
import socketserver
import sys
import threading

MAX_LINE = 1 << 20          # SMTP command lines are short; message lines are not limited
REPLY_RX = re.compile(r"[45][0-9][0-9] [^\r\n]*")
BAD_REFUSE_FILE = "451 4.3.5 smtpcapture: bad refuse file"


def read_refusals(path):
    """read_refusals - {lowercased address: reply} from the refuse file ({} if none);
    raises ValueError when the file is not a valid one"""
    try:
        with open(path) as f:
            rules = json.load(f)
    except FileNotFoundError:
        return {}
    if not isinstance(rules, dict):
        raise ValueError("%s: not a JSON object" % path)
    out = {}
    for addr, reply in rules.items():
        if not isinstance(addr, str) or not isinstance(reply, str) \
                or not REPLY_RX.fullmatch(reply):
            raise ValueError("%s: %r: the reply must be a 4xx or 5xx code, a space and text, "
                             "got %r" % (path, addr, reply))
        out[addr.lower()] = reply
    return out


def bare_address(arg):
    """bare_address - the address of a RCPT TO argument (the part inside <>)"""
    m = re.match(r"\s*<([^>]*)>", arg)
    return (m.group(1) if m else arg.split()[0] if arg.split() else "").lower()


class CaptureServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, family, outdir, reply_data=None, refuse_file=None):
        self.address_family = family
        self.outdir = outdir
        self.reply_data = reply_data
        self.refuse_file = refuse_file
        self.refused_log = os.path.join(outdir, "refused.jsonl")
        self.seq_lock = threading.Lock()
        # continue after messages already in the directory (a restarted server)
        self.seq = max([int(f[:6]) for f in os.listdir(outdir)
                        if f[:6].isdigit() and f.endswith(".json")] or [0])
        super().__init__(addr, CaptureHandler)

    def refusal(self, rcpt_arg):
        """refusal - the reply for this RCPT TO argument when it is refused, else None"""
        if not self.refuse_file:
            return None
        try:
            rules = read_refusals(self.refuse_file)
        except (ValueError, OSError) as e:
            sys.stderr.write("smtpcapture: %s\n" % e)
            sys.stderr.flush()
            return BAD_REFUSE_FILE
        return rules.get(bare_address(rcpt_arg))

    def note_refusal(self, entry):
        with self.seq_lock, open(self.refused_log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def next_name(self):
        with self.seq_lock:
            self.seq += 1
            return os.path.join(self.outdir, "%06d" % self.seq)


class CaptureHandler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        srv = self.server
        helo = None
        mail_from = None
        rcpts = []
        self.reply("220 capture.test ESMTP smtpcapture")
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line:
                return
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = cmd[:4].upper()
            if verb == "EHLO":
                helo = cmd[5:]
                self.wfile.write(b"250-capture.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                                 b"250-SMTPUTF8\r\n250-SIZE 0\r\n250 ENHANCEDSTATUSCODES\r\n")
                self.wfile.flush()
            elif verb == "HELO":
                helo = cmd[5:]
                self.reply("250 capture.test")
            elif verb == "MAIL":
                mail_from = cmd[10:].strip()
                rcpts = []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                arg = cmd[8:].strip()
                refused = srv.refusal(arg)
                if refused:
                    if refused != BAD_REFUSE_FILE:
                        srv.note_refusal({"rcpt": bare_address(arg), "reply": refused,
                                          "mail_from": mail_from,
                                          "client": self.client_address[0]})
                    self.reply(refused)
                    continue
                rcpts.append(arg)
                self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if mail_from is None or not rcpts:
                    self.reply("503 5.5.1 Error: need MAIL and RCPT")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while True:
                    data = self.rfile.readline()
                    if not data:
                        return
                    if data == b".\r\n" or data == b".\n":
                        break
                    if data.startswith(b"."):
                        data = data[1:]
                    chunks.append(data)
                body = b"".join(chunks)
                if srv.reply_data:
                    self.reply(srv.reply_data)
                else:
                    base = srv.next_name()
                    with open(base + ".eml.tmp", "wb") as f:
                        f.write(body)
                    os.rename(base + ".eml.tmp", base + ".eml")
                    meta = {"mail_from": mail_from, "rcpts": rcpts, "helo": helo,
                            "client": self.client_address[0], "size": len(body)}
                    with open(base + ".json.tmp", "w") as f:
                        json.dump(meta, f)
                    os.rename(base + ".json.tmp", base + ".json")
                    self.reply("250 2.0.0 Ok: captured as %s" % os.path.basename(base))
                mail_from = None
                rcpts = []
            elif verb == "RSET":
                mail_from = None
                rcpts = []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="HOST:PORT or [v6]:PORT")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--pidfile")
    ap.add_argument("--reply-data")
    ap.add_argument("--refuse-file")
    a = ap.parse_args()
    host, _, port = a.listen.rpartition(":")
    family = socket.AF_INET
    if host.startswith("["):
        host = host[1:-1]
        family = socket.AF_INET6
    os.makedirs(a.dir, exist_ok=True)
    srv = CaptureServer((host, int(port)), family, a.dir, a.reply_data, a.refuse_file)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    sys.stdout.write("listening %s\n" % a.listen)
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        if a.pidfile:
            try:
                os.unlink(a.pidfile)
            except OSError:
                pass


if __name__ == "__main__":
    main()

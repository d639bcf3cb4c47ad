# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.capture - the SMTP capture server: what Postfix delivers, byte for byte.

  Capture(workdir, port, host)      smtpcapture.py on host:port writing into its own dir;
                                    .files(), .messages(), .clear(), .find(message_id),
                                    .wait_messages(n), .wait_for(message_id)
                                    refusing recipients at RCPT TO, as a receiver does:
                                    .refuse(rcpt, reply), .refuse(rcpt, None) to lift it,
                                    .refuse_none(), .refused(rcpt), .wait_refused(rcpt, n)
  Delivered(path)                   one delivered message: .raw, .meta (envelope), .msg

Refusals: capture.refuse("dead@receiver.example", "550 5.1.1 <dead@receiver.example>: no
such user") makes the server answer every later RCPT TO of that address (any case) with
that reply, until capture.refuse(rcpt, None) or refuse_none(); a 452 4.2.2 refusal is
answered at every delivery attempt, so Postfix defers and tries again.  The reply must be
a 4xx or 5xx code, a space and text (RigError otherwise).  refused(rcpt) lists what the
server refused ({"rcpt", "reply", "mail_from", "client"}, oldest first); clear() empties
that list too.  The rules live in DIR/refuse.json (smtpcapture.py --refuse-file), read at
each RCPT, so they apply at once, also to a server that is already running.
"""

import json
import os
import re
import socket
import subprocess
import threading

from .message import Message
from .util import HERE, PYTHON, RigError, free_port, make_dir, stop_process, tail, wait_until


class Delivered:
    """One message as Postfix delivered it to the capture server."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.raw = f.read()
        with open(path[:-4] + ".json") as f:
            self.meta = json.load(f)
        self.msg = Message(self.raw)

    def __repr__(self):
        return "<Delivered %s %d bytes>" % (self.path, len(self.raw))


class Capture:
    """smtpcapture.py on 127.0.0.1:port, writing into dir."""

    def __init__(self, workdir, port=None, host="127.0.0.1", name="capture"):
        self.dir = make_dir(os.path.join(workdir, name))
        self.maildir = make_dir(os.path.join(self.dir, "mail"))
        self.host = host
        self.port = port or free_port(host)
        self.proc = None
        self.logfile = os.path.join(self.dir, "capture.log")
        self.pidfile = os.path.join(self.dir, "capture.pid")
        self.refuse_file = os.path.join(self.dir, "refuse.json")
        self.refused_log = os.path.join(self.maildir, "refused.jsonl")
        self.rules_lock = threading.Lock()

    @property
    def listen(self):
        return ("[%s]:%d" if ":" in self.host else "%s:%d") % (self.host, self.port)

    def start(self, timeout=10, daemon=False):
        log = open(self.logfile, "ab")
        cmd = [PYTHON, os.path.join(HERE, "smtpcapture.py"), "--listen", self.listen,
               "--dir", self.maildir, "--pidfile", self.pidfile,
               "--refuse-file", self.refuse_file]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=daemon)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise RigError("capture server exited:\n" + tail(self.logfile))
            try:
                socket.create_connection((self.host, self.port), 0.5).close()
                return True
            except OSError:
                return False
        wait_until(ready, timeout, what="capture server")
        return self

    def stop(self):
        stop_process(self.proc)
        self.proc = None

    def _rules(self):
        try:
            with open(self.refuse_file) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def _write_rules(self, rules):
        tmp = self.refuse_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(rules, f)
        os.rename(tmp, self.refuse_file)          # the server never reads half a file

    def refuse(self, rcpt, reply):
        """refuse - answer RCPT TO:<rcpt> with reply (e.g. "550 5.1.1 <x>: no such user")
        from now on; reply None lifts the refusal"""
        if reply is not None and not re.fullmatch(r"[45][0-9][0-9] [^\r\n]*", reply):
            raise RigError("capture.refuse(%r): the reply must be a 4xx or 5xx code, a space "
                           "and text, not %r" % (rcpt, reply))
        with self.rules_lock:
            rules = self._rules()
            if reply is None:
                rules.pop(rcpt.lower(), None)
            else:
                rules[rcpt.lower()] = reply
            self._write_rules(rules)

    def refuse_none(self):
        """refuse_none - lift every refusal"""
        with self.rules_lock:
            self._write_rules({})

    def refused(self, rcpt=None):
        """refused - the RCPT TOs the server refused (of rcpt only, if given), oldest first"""
        try:
            with open(self.refused_log) as f:
                entries = [json.loads(l) for l in f if l.endswith("\n")]
        except FileNotFoundError:
            return []
        return [e for e in entries if rcpt is None or e["rcpt"] == rcpt.lower()]

    def wait_refused(self, rcpt, n=1, timeout=30):
        """wait_refused - wait until rcpt was refused at least n times; those refusals"""
        def enough():
            got = self.refused(rcpt)
            return got if len(got) >= n else None
        return wait_until(enough, timeout, what="%d refusal(s) of RCPT TO:<%s>" % (n, rcpt))

    def files(self):
        return sorted(os.path.join(self.maildir, f[:-5] + ".eml")
                      for f in os.listdir(self.maildir) if f.endswith(".json"))

    def messages(self):
        return [Delivered(p) for p in self.files()]

    def clear(self):
        for f in os.listdir(self.maildir):
            os.unlink(os.path.join(self.maildir, f))

    def wait_messages(self, n, timeout=30):
        """wait_messages - wait until at least n messages arrived; return them all"""
        wait_until(lambda: len(self.files()) >= n, timeout,
                   what="%d delivered message(s) in %s" % (n, self.maildir))
        return self.messages()

    def find(self, message_id):
        """find - delivered messages whose Message-ID is message_id (<...> optional)"""
        mid = message_id.strip("<>").encode()
        out = []
        for p in self.files():
            with open(p, "rb") as f:
                head = f.read(200000).split(b"\r\n\r\n", 1)[0]
            if re.search(rb"(?im)^message-id:\s*<" + re.escape(mid) + rb">", head):
                out.append(Delivered(p))
        return out

    def wait_for(self, message_id, timeout=30):
        """wait_for - wait until the message with message_id was delivered; return it"""
        found = wait_until(lambda: self.find(message_id), timeout,
                           what="delivery of <%s>" % message_id.strip("<>"))
        return found[0]


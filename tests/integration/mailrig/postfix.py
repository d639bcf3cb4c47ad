# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.postfix - a private Postfix instance (own configuration, queue and maillog).

  Postfix(workdir, relay, milter_spec, ...)
                                    smtpd on 127.0.0.1:PORT relaying everything to relay;
                                    .start(), .stop(force), .reload(), .set_milter(spec),
                                    .submit(...) (mailrig.smtp), .submit_raw(...),
                                    .sendmail(...) (the non_smtpd_milters path),
                                    .log_for(mid), .fate(mid), .wait_log(rx),
                                    .wait_log_for(mid, rx), .queue_count(), .flush()
"""

import os
import re
import signal
import socket
import subprocess
import time

from .maincf import MainCfRegistration
from .smtp import smtp_raw, smtp_send
from .util import RigError, free_port, make_dir, make_traversable, pid_alive, run, tail, wait_until


MASTER_CF = """\
# master.cf of a private test instance (written by mailrig.postfix)
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""



class Postfix:
    """A private Postfix instance: smtpd on 127.0.0.1:smtpd_port, relaying everything to
    relay (host, port), with smtpd_milters and non_smtpd_milters = milter_spec."""

    def __init__(self, workdir, relay, milter_spec, smtpd_port=None, name="postfix",
                 ipv6=False, extra=None):
        self.dir = make_dir(os.path.join(workdir, name))
        make_traversable(self.dir)
        self.confdir = make_dir(os.path.join(self.dir, "etc"))
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.maillog = os.path.join(self.dir, "maillog")
        self.smtpd_port = smtpd_port or free_port()
        self.relay = relay
        self.milter_spec = milter_spec
        self.ipv6 = ipv6
        self.extra = dict(extra or {})
        self.reg = MainCfRegistration(self.confdir)
        self.started = False
        self.syslog_name = "postfix-txtest"

    def main_cf(self):
        host, port = self.relay
        p = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "meta_directory": "/etc/postfix",
            "shlib_directory": "/usr/lib/postfix",
            "command_directory": "/usr/sbin",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "syslog_name": self.syslog_name,
            "myhostname": "relay.txtest.example",
            "mydomain": "txtest.example",
            "myorigin": "$myhostname",
            "inet_interfaces": "127.0.0.1, [::1]" if self.ipv6 else "127.0.0.1",
            "inet_protocols": "all" if self.ipv6 else "ipv4",
            "mydestination": "",
            "local_transport": "error:local delivery is disabled",
            "alias_maps": "",
            "alias_database": "",
            "mynetworks": "127.0.0.0/8" + (" [::1]/128" if self.ipv6 else ""),
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            # Pass client headers through untouched (no From:/Date: added, no address
            # rewriting), so the milter sees exactly what the client sent.
            "local_header_rewrite_clients": "",
            "relayhost": ("[%s]:%d" % (host, port)),
            "smtp_dns_support_level": "disabled",
            "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.dir,
            "smtpd_milters": self.milter_spec,
            "non_smtpd_milters": self.milter_spec,
            "milter_default_action": "tempfail",
            "milter_protocol": "6",
            "message_size_limit": "120000000",
            "mailbox_size_limit": "0",
            "biff": "no",
            "smtputf8_enable": "yes",
            "queue_run_delay": "5s",
            "minimal_backoff_time": "5s",
            "maximal_backoff_time": "10s",
            "smtpd_error_sleep_time": "0",
            "smtpd_soft_error_limit": "100",
            "smtpd_hard_error_limit": "200",
            "smtpd_client_connection_rate_limit": "0",
            "anvil_rate_time_unit": "60s",
            "default_process_limit": "20",
            "notify_classes": "",
            "bounce_notice_recipient": "postmaster",
        }
        p.update(self.extra)
        return "".join("%s = %s\n" % kv for kv in p.items())

    def postfix(self, *args, check=True):
        """postfix - run postfix(1) on this instance (it reports errors only on a tty or
        in the maillog, so a failure carries the maillog's tail)"""
        try:
            return run(["postfix", "-c", self.confdir] + list(args), check=check, timeout=60)
        except RigError as e:
            raise RigError("%s\nmaillog:\n%s" % (e, tail(self.maillog, 3000)))

    def postconf(self, *args):
        return run(["postconf", "-c", self.confdir] + list(args)).stdout.decode()

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, timeout=30):
        for d in (self.queue, self.data):
            make_dir(d)
        with open(os.path.join(self.confdir, "main.cf"), "w") as f:
            f.write(self.main_cf())
        listen = "127.0.0.1:%d" % self.smtpd_port
        if self.ipv6:
            listen = "127.0.0.1:%d inet n - n - - smtpd\n[::1]:%d" % (
                self.smtpd_port, self.smtpd_port)
        with open(os.path.join(self.confdir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen=listen))
        open(self.maillog, "ab").close()
        self.reg.register()
        try:
            self.postfix("set-permissions")
            self.postfix("check")
            self.postfix("start")
            self.started = True
            wait_until(lambda: self._smtpd_ready(), timeout, what="postfix smtpd")
        except Exception:
            self.stop()
            raise
        return self

    def _smtpd_ready(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.smtpd_port), 1)
            s.settimeout(5)
            banner = s.recv(512)
            s.sendall(b"QUIT\r\n")
            s.close()
            return banner.startswith(b"220")
        except OSError:
            return False

    def _our_pids(self):
        """processes whose environment says they belong to this instance"""
        pids = []
        key = ("MAIL_CONFIG=" + self.confdir).encode()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if key in env:
                pids.append(int(d))
        return pids

    def stop(self, force=False):
        """stop - stop the instance (force: also one that another process started) and
        take its directory out of /etc/postfix/main.cf again"""
        if force and not self.started:
            pid = self.master_pid()
            self.started = pid is not None and pid_alive(pid) or bool(self._our_pids())
            if os.path.exists(os.path.join(self.confdir, "main.cf")):
                self.reg.register()       # postfix -c DIR needs it, even to stop
        try:
            if self.started:
                self.postfix("stop", check=False)
                try:
                    wait_until(lambda: not self._our_pids(), 20, interval=0.2,
                               what="postfix processes to exit")
                except RigError:
                    for pid in self._our_pids():
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
                self.started = False
        finally:
            self.reg.unregister()

    def reload(self):
        self.postfix("reload")

    def set_milter(self, spec):
        """set_milter - point smtpd_milters and non_smtpd_milters at spec and reload"""
        self.milter_spec = spec
        self.postconf("-e", "smtpd_milters=" + spec, "non_smtpd_milters=" + spec)
        if self.started:
            self.reload()
            time.sleep(1.0)

    # -- submitting

    def submit(self, mail_from, rcpts, msg, source_address=None, host="127.0.0.1",
               port=None, timeout=120, helo="client.txtest.example", **kw):
        """submit - send msg (bytes) to this instance with smtp_send(); its SmtpResult"""
        return smtp_send(port or self.smtpd_port, mail_from, rcpts, msg, host=host,
                         timeout=timeout, source_address=source_address, helo=helo, **kw)

    def submit_raw(self, transcript_lines, data, host="127.0.0.1", port=None, timeout=60):
        """submit_raw - smtp_raw() to this instance: the list of reply lines"""
        return smtp_raw(port or self.smtpd_port, transcript_lines, data, host, timeout)

    def sendmail(self, mail_from, rcpts, msg, timeout=60):
        """sendmail - submit through sendmail(1) (pickup -> non_smtpd_milters)"""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        p = subprocess.run(["sendmail", "-C", self.confdir, "-i", "-f", mail_from, "--"]
                           + rcpts, input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")

    # -- the log

    def log_text(self):
        with open(self.maillog, "rb") as f:
            return f.read().decode(errors="replace")

    def queue_id_of(self, message_id):
        """queue_id_of - the queue id cleanup logged for message_id, or None"""
        mid = re.escape(message_id.strip("<>"))
        m = re.search(r"\]: ([0-9A-Za-z]+): message-id=<" + mid + ">", self.log_text())
        return m.group(1) if m else None

    def log_for(self, message_id):
        """log_for - every maillog line about the message with this Message-ID"""
        qid = self.queue_id_of(message_id)
        if not qid:
            return []
        return [l for l in self.log_text().splitlines() if (" %s: " % qid) in l]

    def fate(self, message_id, timeout=10):
        """fate - what Postfix did with a message, from the maillog:
        {"queue_id", "status" ("sent", "deferred", "bounced", "milter-reject",
        "milter-tempfail", "milter-discard", "queued", None), "reply", "lines"}.
        The maillog is written after the client has its reply, so this waits
        (up to timeout seconds) for a line that says how it ended."""
        deadline = time.time() + timeout
        while True:
            out = self._fate_now(message_id)
            if out["status"] not in (None, "queued") or time.time() >= deadline:
                return out
            time.sleep(0.05)

    def _fate_now(self, message_id):
        """_fate_now - fate() from the maillog as it is now"""
        lines = self.log_for(message_id)
        out = {"queue_id": self.queue_id_of(message_id), "status": None, "reply": None,
               "lines": lines}
        for l in lines:
            m = re.search(r"milter-(reject|discard|hold): \S+ from \S+: (.*?);", l)
            if m:
                code = m.group(2)[:1]
                out["status"] = "milter-%s" % ("tempfail" if code == "4" else m.group(1))
                out["reply"] = m.group(2)
            m = re.search(r"status=(sent|deferred|bounced|expired) \((.*)\)", l)
            if m:
                out["status"], out["reply"] = m.group(1), m.group(2)
            if out["status"] is None and "(queue active)" in l:
                out["status"] = "queued"
        return out

    def wait_log(self, pattern, timeout=20):
        rx = re.compile(pattern, re.M)
        return wait_until(lambda: rx.search(self.log_text()), timeout,
                          what="maillog line /%s/" % pattern)

    def wait_log_for(self, message_id, pattern, timeout=20):
        """wait_log_for - wait until a maillog line about message_id matches pattern"""
        rx = re.compile(pattern)

        def found():
            for l in self.log_for(message_id):
                if rx.search(l):
                    return l
            return None
        return wait_until(found, timeout,
                          what="maillog line /%s/ for <%s>" % (pattern, message_id))

    def queue_count(self):
        n = 0
        for sub in ("incoming", "active", "deferred", "hold", "maildrop"):
            for _, _, files in os.walk(os.path.join(self.queue, sub)):
                n += len(files)
        return n

    def flush(self):
        run(["postqueue", "-c", self.confdir, "-f"], check=False)


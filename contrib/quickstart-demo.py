#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""quickstart-demo.py - the demo half of contrib/quickstart.sh (uses the tests/integration/mailrig package)

  keys  --keydir DIR --domain D --selector S [--ed25519] [--owner USER]
        generate the signing key(s) unless present (RSA-2048, optional Ed25519 with
        selector S-ed; PKCS#8 PEM, mode 0600, owned by USER) and print the DNS records
  start --state DIR --milter SPEC --port 2525 --sink-port 2526
        (re)start the demo: a capture server on 127.0.0.1:SINK-PORT and a private Postfix
        instance on 127.0.0.1:PORT with smtpd_milters/non_smtpd_milters = SPEC,
        relaying everything to the capture server; both keep running
  send  --state DIR --keydir DIR --domain D --selector S [--ed25519]
        send one message through the demo, wait for its delivery, print its
        DKIM-Signature field(s) and dkimpy's verdict on each (the public key comes from
        the generated key, standing in for DNS)
  stop  --state DIR
        stop the demo Postfix and capture server and undo the main.cf change
"""

import argparse
import json
import os
import pwd
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))

import mailrig  # noqa: E402


def key_pairs(a):
    keys = [mailrig.KeyPair.rsa(a.keydir, a.domain, a.selector)]
    if a.ed25519:
        keys.append(mailrig.KeyPair.ed25519(a.keydir, a.domain, a.selector + "-ed"))
    return keys


def cmd_keys(a):
    old = os.umask(0o077)
    os.makedirs(a.keydir, mode=0o700, exist_ok=True)
    os.umask(old)
    keys = key_pairs(a)
    if a.owner:
        pw = pwd.getpwnam(a.owner)
        os.chown(a.keydir, pw.pw_uid, pw.pw_gid)
        for k in keys:
            os.chown(k.path, pw.pw_uid, pw.pw_gid)
    for k in keys:
        os.chmod(k.path, 0o600)
        print("  key %s (%s)" % (k.path, k.algo))
    print("\nPublish these DNS records (TXT) before signing real mail:")
    for k in keys:
        print('  %s. IN TXT %s' % (k.dns_name, mailrig.txt_rdata(k.dns_txt)))


def demo_parts(a):
    state = a.state
    os.makedirs(state, exist_ok=True)
    os.chmod(state, 0o755)
    mailrig.make_traversable(state)
    cap = mailrig.Capture(state, port=a.sink_port)
    pf = mailrig.Postfix(state, ("127.0.0.1", a.sink_port), a.milter, smtpd_port=a.port,
                         name="postfix")
    return cap, pf


def stop_capture(cap):
    try:
        with open(cap.pidfile) as f:
            pid = int(f.read())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
    except OSError:
        pass


def cmd_stop(a):
    a.milter = a.milter or "unix:/nonexistent"
    cap, pf = demo_parts(a)
    pf.stop(force=True)
    stop_capture(cap)
    print("demo Postfix and capture server stopped")


def cmd_start(a):
    cap, pf = demo_parts(a)
    pf.stop(force=True)                   # a demo left from an earlier run
    stop_capture(cap)
    cap.start(daemon=True)
    try:
        pf.start()
    except Exception:
        stop_capture(cap)
        raise
    # The registration in /etc/postfix/main.cf lives as long as the demo's master
    pf.reg.set_owner(pf.master_pid())
    with open(os.path.join(a.state, "demo.json"), "w") as f:
        json.dump({"port": a.port, "sink_port": a.sink_port, "milter": a.milter,
                   "maildir": cap.maildir, "maillog": pf.maillog, "confdir": pf.confdir}, f)
    print("demo Postfix: smtpd on 127.0.0.1:%d, smtpd_milters = %s" % (a.port, a.milter))
    print("              config %s, log %s" % (pf.confdir, pf.maillog))
    print("capture:      127.0.0.1:%d, delivered mail in %s" % (a.sink_port, cap.maildir))


def cmd_send(a):
    with open(os.path.join(a.state, "demo.json")) as f:
        st = json.load(f)
    a.sink_port, a.port, a.milter = st["sink_port"], st["port"], st["milter"]
    cap, pf = demo_parts(a)
    keys = key_pairs(a)
    records = {k.dns_name: k.dns_txt.encode() for k in keys}
    msg, mid = mailrig.make_message(
        from_addr="Quickstart <noreply@%s>" % a.domain, to_addr="someone@receiver.example",
        subject="txmilter quickstart test")
    r = pf.submit("bounce@%s" % a.domain, ["someone@receiver.example"], msg)
    if not r.accepted:
        print("the demo Postfix did not accept the message: %r" % r)
        print("\n".join(pf.log_text().splitlines()[-10:]))
        return 1
    try:
        d = cap.wait_for(mid, timeout=60)
    except mailrig.RigError as e:
        print("%s\n%s" % (e, "\n".join(pf.log_text().splitlines()[-10:])))
        return 1
    print("delivered: %s (queue id %s)" % (d.path, r.queue_id))
    fields = d.msg.fields("DKIM-Signature")
    if not fields:
        print("NO DKIM-Signature in the delivered message: check the txmilter log")
        return 1
    for fld in fields:
        print(fld.decode(errors="replace"))

    import dkim

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return records.get(name.rstrip("."))

    ok_all = True
    for i, t in enumerate(d.msg.dkim_signatures()):
        try:
            ok = dkim.DKIM(d.raw).verify(idx=i, dnsfunc=dnsfunc)
            why = ""
        except dkim.DKIMException as e:
            ok, why = False, " (%s)" % e
        ok_all = ok_all and ok
        print("dkimpy: signature %d d=%s s=%s a=%s: %s%s" % (
            i, t.get("d"), t.get("s"), t.get("a"), "pass" if ok else "FAIL", why))
    return 0 if ok_all else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["keys", "start", "send", "stop"])
    ap.add_argument("--keydir", default="/etc/txmilter/keys")
    ap.add_argument("--domain", default="example.com")
    ap.add_argument("--selector", default="txm1")
    ap.add_argument("--ed25519", action="store_true")
    ap.add_argument("--owner")
    ap.add_argument("--state", default="/var/lib/txmilter-demo")
    ap.add_argument("--milter")
    ap.add_argument("--port", type=int, default=2525)
    ap.add_argument("--sink-port", type=int, default=2526)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("quickstart-demo: run as root")
    rc = {"keys": cmd_keys, "start": cmd_start, "send": cmd_send, "stop": cmd_stop}[a.command](a)
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()

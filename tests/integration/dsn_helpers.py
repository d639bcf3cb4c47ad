# SPDX-License-Identifier: BSD-2-Clause
"""dsn_helpers.py - bounces to the return path for the integration tests: a message from
NEWS through Postfix and the return path it was given, and delivery-status reports built
as Postfix's bounce daemon writes them, sent back from outside InternalHosts; what the
suppression list holds (`txmilterctl suppress list`) and whether Postfix dropped a report
on the milter's word (test_bounces.py, test_complaints.py)."""

import re
import uuid

from mailrig.message import make_message
from ratelimit_helpers import ctl

NEWS = "news@example.com"
RP = "bounces+%{token}@bounce.%{domain}"
RP_RX = re.compile(r"^bounces\+([a-z2-7]+)@bounce\.example\.com$")     # group 1: the token
LIST_FIELDS = ("rcpt", "stream", "created", "source", "reason", "expires", "evidence")


def rcpt(name):
    """a recipient of its own for each use"""
    return "%s.%s@receiver.example" % (name, uuid.uuid4().hex[:6])


def outbound(rig, to):
    """a message from NEWS to `to` through Postfix: its SmtpResult and Message-ID"""
    msg, mid = make_message(subject="your order", from_addr=NEWS, to_addr=to)
    return rig.postfix.submit(NEWS, [to], msg), mid


def return_path_of(rig, to):
    """send one message to `to`; the envelope sender it was delivered with"""
    r, mid = outbound(rig, to)
    assert r.accepted, (r, rig.postfix.log_for(mid))
    d = rig.capture.wait_for(mid)
    rp = d.meta["mail_from"].split()[0].strip("<>")
    assert RP_RX.match(rp), d.meta
    return rp, mid


def postfix_dsn(rp, to, orig_mid, status, action="failed", reply=None):
    """a delivery-status report as Postfix's bounce daemon writes it, for `to`, to rp"""
    reply = reply or "%s %s <%s>: Recipient address rejected" % (
        "452" if status.startswith("4") else "550", status, to)
    boundary = "7F1A2B3C4D.1733300000/mx.receiver.example"
    mid = "%s@mx.receiver.example" % uuid.uuid4().hex
    body = "\r\n".join([
        "This is a MIME-encapsulated message.",
        "",
        "--" + boundary,
        "Content-Description: Notification",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "This is the mail system at host mx.receiver.example.",
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients. It's attached below.",
        "",
        "<%s>: host mx2.receiver.example[192.0.2.25] said: %s" % (to, reply),
        "",
        "--" + boundary,
        "Content-Description: Delivery report",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.receiver.example",
        "X-Postfix-Queue-ID: 7F1A2B3C4D",
        "X-Postfix-Sender: rfc822; %s" % rp,
        "Arrival-Date: Wed,  4 Dec 2026 10:00:00 +0000 (UTC)",
        "",
        "Final-Recipient: rfc822; %s" % to,
        "Original-Recipient: rfc822;%s" % to,
        "Action: %s" % action,
        "Status: %s" % status,
        "Remote-MTA: dns; mx2.receiver.example",
        "Diagnostic-Code: smtp; %s" % reply,
        "",
        "--" + boundary,
        "Content-Description: Undelivered Message Headers",
        "Content-Type: text/rfc822-headers",
        "",
        "From: %s" % NEWS,
        "To: %s" % to,
        "Subject: your order",
        "Message-ID: <%s>" % orig_mid,
        "",
        "--" + boundary + "--",
        ""]).encode()
    headers = [
        ("From", "MAILER-DAEMON@mx.receiver.example (Mail Delivery System)"),
        ("Subject", "Undelivered Mail Returned to Sender"),
        ("To", rp),
        ("Auto-Submitted", "auto-replied"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'multipart/report; report-type=delivery-status;\r\n\tboundary="%s"'
         % boundary),
        ("Message-ID", "<%s>" % mid),
    ]
    return make_message(headers=headers, body=body, message_id=mid)


def out_of_office(rp, to):
    """an auto-reply to the return path: no report"""
    return make_message(subject="Out of office", from_addr=to, to_addr=rp,
                        extra_headers=[("Auto-Submitted", "auto-replied")],
                        body=b"I am away until Monday.\r\n")


def send_dsn(rig, m, rp, to, orig_mid, status, log, action="failed"):
    """the receiver's MTA sends the report (null sender, from outside InternalHosts);
    Postfix accepts it, txmilter discards it and logs the line matching log"""
    msg, mid = postfix_dsn(rp, to, orig_mid, status, action)
    return send_back(rig, m, rp, msg, mid, log)


def send_back(rig, m, rp, msg, mid, log):
    """msg (Message-ID mid) to rp with the null sender from outside InternalHosts:
    accepted by Postfix, discarded by txmilter, which logs a line matching log"""
    r = rig.postfix.submit("", [rp], msg, source_address="127.0.0.2", helo="mx.receiver.example")
    assert r.accepted, (r, rig.postfix.log_for(mid))
    rig.postfix.wait_log_for(mid, r"milter-discard")
    assert not rig.capture.find(mid), "the bounce was delivered"
    return m.wait_log(log)


def listed(m, reason):
    """`txmilterctl suppress list --reason R` of the milter m (tab-separated) as a list of
    dicts by LIST_FIELDS"""
    rc, out, err = ctl(m, "suppress", "list", "--reason", reason)
    assert rc == 0, (rc, out, err)
    return [dict(zip(LIST_FIELDS, l.split("\t", len(LIST_FIELDS) - 1)))
            for l in out.splitlines() if l]


def discarded_by_milter(pf, qid):
    """Postfix pf's cleanup dropped qid on the milter's word: it never reached a queue"""
    assert pf.wait_log(r"%s: milter-discard: END-OF-MESSAGE" % qid, timeout=30)
    assert not [l for l in pf.log_text().splitlines()
                if " %s: " % qid in l and "status=" in l], "%s was queued" % qid

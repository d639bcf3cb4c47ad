# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.unbound - the test DNS: unbound serving static local zones on loopback.

  DnsServer(workdir, port)          unbound -d on 127.0.0.1@PORT (UDP and TCP), the zones'
                                    TLDs static zones too (NXDOMAIN below them);
                                    .add_zone(z), .add_rr(line), .add_txt(name, text),
                                    .add_servfail(name) (SERVFAIL for that name and below),
                                    .add_key(KeyPair), .remove(name), .restart(),
                                    .query(name, type), .txt(name)
  txt_rdata(text)                   zone-file TXT rdata (strings of at most 255 bytes)
  dns_txt(port, name)               the first TXT record of name, strings joined, or None
"""

import os
import subprocess

from .util import RigError, free_port, make_dir, run, stop_process, tail, wait_until


def txt_rdata(text):
    """txt_rdata - zone-file TXT rdata: quoted strings of at most 255 bytes each"""
    raw = text.encode()
    parts = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
    out = []
    for p in parts:
        s = p.decode("latin-1").replace("\\", "\\\\").replace('"', '\\"')
        out.append('"%s"' % s)
    return " ".join(out)


class DnsServer:
    """unbound -d serving static local zones on 127.0.0.1@port (UDP and TCP)."""

    def __init__(self, workdir, port=None):
        self.dir = make_dir(os.path.join(workdir, "dns"))
        self.port = port or free_port()
        self.zones = []
        self.records = []                 # zone-file lines "name ttl IN TYPE rdata"
        self.servfail = []                # names answered SERVFAIL
        self.proc = None
        self.conf = os.path.join(self.dir, "unbound.conf")
        self.logfile = os.path.join(self.dir, "unbound.log")

    def add_zone(self, zone):
        zone = zone.rstrip(".").lower() + "."
        if zone not in self.zones:
            self.zones.append(zone)

    def add_rr(self, line):
        """add_rr - add a zone-file record line; its last two labels become a static zone"""
        name = line.split()[0].rstrip(".")
        labels = name.split(".")
        if not any((name + ".").lower().endswith("." + z) or (name + ".").lower() == z
                   for z in self.zones):
            self.add_zone(".".join(labels[-2:]))
        self.records.append(line)

    def add_txt(self, name, text, ttl=300):
        self.add_rr("%s. %d IN TXT %s" % (name.rstrip("."), ttl, txt_rdata(text)))

    def add_key(self, key):
        self.add_txt(key.dns_name, key.dns_txt)

    def add_servfail(self, name):
        """add_servfail - answer SERVFAIL, at once, for name and the names below it: they are
        forwarded to this server itself, which refuses its own outgoing address (127.0.0.3),
        and unbound turns the REFUSED into SERVFAIL"""
        n = name.rstrip(".").lower() + "."
        if n not in self.servfail:
            self.servfail.append(n)

    def remove(self, name):
        """remove - drop every record of name (takes effect on restart())"""
        n = name.rstrip(".").lower() + "."
        self.records = [r for r in self.records if r.split()[0].lower().rstrip(".") + "." != n]

    def write_conf(self):
        lines = [
            "server:",
            "    interface: 127.0.0.1@%d" % self.port,
            "    port: %d" % self.port,
            "    do-daemonize: no",
            '    username: ""',
            '    chroot: ""',
            '    directory: "%s"' % self.dir,
            '    pidfile: ""',
            "    use-syslog: no",
            '    logfile: ""',
            "    verbosity: 1",
            "    access-control: 127.0.0.0/8 allow",
            "    access-control: 127.0.0.3/32 refuse",     # our own forwarded queries (add_servfail)
            "    do-ip6: no",
            '    module-config: "iterator"',
            "    num-threads: 1",
        ]
        if self.servfail:
            lines += ["    do-not-query-localhost: no", "    outgoing-interface: 127.0.0.3"]
        # The TLDs of the zones answer too (NXDOMAIN, or their own records):
        # the RFC 9989 DMARC tree walk asks _dmarc.<tld>, which a receiver
        # gets an answer for, not the SERVFAIL of an unreachable root.
        tlds = [z.split(".")[-2] + "." for z in self.zones]
        for z in self.zones + sorted(set(t for t in tlds if t not in self.zones)):
            lines.append('    local-zone: "%s" static' % z)
        for n in self.servfail:
            lines.append('    local-zone: "%s" transparent' % n)
        for r in self.records:
            if "'" in r:
                raise RigError("record may not contain a single quote: %r" % r)
            lines.append("    local-data: '%s'" % r)
        for n in self.servfail:
            lines += ["forward-zone:", '    name: "%s"' % n, "    forward-addr: 127.0.0.1@%d" % self.port]
        lines += ["remote-control:", "    control-enable: no", ""]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))

    def start(self, timeout=15):
        self.write_conf()
        run(["unbound-checkconf", self.conf])
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(["unbound", "-d", "-c", self.conf],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        probe = (self.records[0].split()[0] if self.records else self.zones[0]
                 if self.zones else "localhost.")

        def ready():
            if self.proc.poll() is not None:
                raise RigError("unbound exited %s:\n%s" % (self.proc.returncode,
                                                           tail(self.logfile)))
            try:
                self.query(probe, "SOA", timeout=0.5)
                return True
            except Exception:
                return False
        wait_until(ready, timeout, what="unbound on port %d" % self.port)
        return self

    def stop(self):
        stop_process(self.proc)
        self.proc = None

    def restart(self):
        """restart - apply added or removed records (same port)"""
        self.stop()
        return self.start()

    def resolver(self):
        import dns.resolver
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = ["127.0.0.1"]
        r.port = self.port
        r.lifetime = 5
        return r

    def query(self, name, rdtype="TXT", timeout=5):
        r = self.resolver()
        r.lifetime = timeout
        return r.resolve(name, rdtype, raise_on_no_answer=False)

    def txt(self, name):
        """txt - the TXT record of name as one string (strings concatenated), or None"""
        return dns_txt(self.port, name)


def dns_txt(port, name, timeout=5):
    """dns_txt - first TXT record of name from 127.0.0.1:port, strings joined (bytes), or None"""
    import dns.resolver
    import dns.rdatatype
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = port
    r.lifetime = timeout
    if isinstance(name, bytes):
        name = name.decode()
    try:
        ans = r.resolve(name, "TXT", raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
        return None
    for rrset in ans.response.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            return b"".join(list(rrset.items)[0].strings)
    return None


# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.keys - DKIM key pairs made with openssl, and the records that publish them.

  KeyPair.rsa(dir, domain, sel)     RSA-2048 PKCS#8 PEM key (0600), made once per path
  KeyPair.ed25519(dir, domain, sel) Ed25519 PKCS#8 PEM key (0600)
                                    .path, .dns_name, .dns_txt (the DKIM record), .name
                                    (the KeyTable entry), .a_tag
"""

import base64
import os

from .util import run


class KeyPair:
    """A DKIM private key file and the TXT record that publishes its public half."""

    def __init__(self, path, domain, selector, algo, dns_txt):
        self.path = path
        self.domain = domain
        self.selector = selector
        self.algo = algo                  # "rsa" or "ed25519"
        self.dns_txt = dns_txt
        self.dns_name = "%s._domainkey.%s" % (selector, domain)
        self.name = "%s-%s-%s" % (algo, selector, domain)   # KeyTable entry name

    @property
    def a_tag(self):
        return "rsa-sha256" if self.algo == "rsa" else "ed25519-sha256"

    @classmethod
    def rsa(cls, keydir, domain, selector, bits=2048):
        path = os.path.join(keydir, "%s.%s.rsa.pem" % (selector, domain))
        if not os.path.exists(path):
            old = os.umask(0o077)
            try:
                run(["openssl", "genpkey", "-algorithm", "rsa", "-pkeyopt",
                     "rsa_keygen_bits:%d" % bits, "-out", path + ".tmp"])
                os.rename(path + ".tmp", path)
            finally:
                os.umask(old)
        os.chmod(path, 0o600)
        der = run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"]).stdout
        txt = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
        return cls(path, domain, selector, "rsa", txt)

    @classmethod
    def ed25519(cls, keydir, domain, selector):
        path = os.path.join(keydir, "%s.%s.ed25519.pem" % (selector, domain))
        if not os.path.exists(path):
            old = os.umask(0o077)
            try:
                run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path + ".tmp"])
                os.rename(path + ".tmp", path)
            finally:
                os.umask(old)
        os.chmod(path, 0o600)
        der = run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"]).stdout
        txt = "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()
        return cls(path, domain, selector, "ed25519", txt)


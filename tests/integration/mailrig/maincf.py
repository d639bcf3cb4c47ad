# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.maincf - list a private Postfix's config dir in /etc/postfix/main.cf.

  MainCfRegistration(confdir, owner_pid)
                                    .register(), .unregister(), .set_owner(pid):
                                    alternate_config_directories under a lock, shared by
                                    concurrent runs; the file restored byte for byte after
"""

import fcntl
import json
import os

from .util import atomic_write, make_dir, pid_alive, run

MAIN_CF = "/etc/postfix/main.cf"


class MainCfRegistration:
    """List a private config dir in the default main.cf while it is in use.

    Several test runs may share the machine, so the file is changed under a lock and a
    state file records the original content and every registered directory with its
    owner's pid.  When the last registration goes, the original file is restored byte
    for byte (or removed, if there was none)."""

    LOCK = "/run/lock/txmilter-tests-main.cf.lock"
    STATE = "/run/txmilter-tests-main.cf.json"
    BEGIN = ("# BEGIN txmilter-tests: temporary, for private test/demo Postfix instances;"
             " removed when they stop\n")
    END = "# END txmilter-tests\n"

    def __init__(self, confdir, owner_pid=None):
        self.confdir = os.path.abspath(confdir)
        self.owner_pid = owner_pid        # whose life the registration lasts (default: ours)
        self.registered = False

    def _locked(self, fn):
        make_dir(os.path.dirname(self.LOCK), 0o1777) if not os.path.isdir(
            os.path.dirname(self.LOCK)) else None
        with open(self.LOCK, "a") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            try:
                return fn()
            finally:
                fcntl.flock(lk, fcntl.LOCK_UN)

    def _load_state(self):
        try:
            with open(self.STATE) as f:
                st = json.load(f)
        except (OSError, ValueError):
            st = None
        if st is not None:
            # forget registrations of dead runs
            st["dirs"] = {d: pid for d, pid in st["dirs"].items() if pid_alive(pid)}
        return st

    def _write(self, st):
        if not st["dirs"]:
            if st["original"] is None:
                if os.path.exists(MAIN_CF):
                    os.unlink(MAIN_CF)
            else:
                atomic_write(MAIN_CF, st["original"].encode("latin-1"), st["mode"])
            os.unlink(self.STATE)
            return
        orig = st["original"] or ""
        prior = st.get("prior_alternates", "")
        text = orig
        if text and not text.endswith("\n"):
            text += "\n"
        text += self.BEGIN
        text += "alternate_config_directories = %s\n" % " ".join(
            ([prior] if prior else []) + sorted(st["dirs"]))
        text += self.END
        atomic_write(MAIN_CF, text.encode("latin-1"), st["mode"] or 0o644)
        atomic_write(self.STATE, json.dumps(st).encode(), 0o600)

    def register(self):
        def do():
            st = self._load_state()
            if st is None:
                original, mode, prior = None, None, ""
                if os.path.exists(MAIN_CF):
                    with open(MAIN_CF, "rb") as f:
                        original = f.read().decode("latin-1")
                    # a block left by a run whose state vanished (/run is cleared at boot)
                    i = original.find(self.BEGIN)
                    j = original.find(self.END, i)
                    if i >= 0 and j > i:
                        original = original[:i] + original[j + len(self.END):]
                        atomic_write(MAIN_CF, original.encode("latin-1"),
                                      os.stat(MAIN_CF).st_mode & 0o7777)
                    mode = os.stat(MAIN_CF).st_mode & 0o7777
                    p = run(["postconf", "-h", "-c", "/etc/postfix",
                             "alternate_config_directories"], check=False)
                    prior = p.stdout.decode().strip() if p.returncode == 0 else ""
                st = {"original": original, "mode": mode, "prior_alternates": prior, "dirs": {}}
            st["dirs"][self.confdir] = self.owner_pid or os.getpid()
            self._write(st)
        self._locked(do)
        self.registered = True

    def set_owner(self, pid):
        """set_owner - tie the registration to another process (e.g. a Postfix master that
        outlives this script); a later register() drops it once that process is gone"""
        self.owner_pid = pid
        if self.registered:
            self.register()

    def unregister(self, force=False):
        if not self.registered and not force:
            return

        def do():
            st = self._load_state()
            if st is None:
                return
            st["dirs"].pop(self.confdir, None)
            self._write(st)
        self._locked(do)
        self.registered = False



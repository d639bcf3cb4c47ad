# SPDX-License-Identifier: BSD-2-Clause
"""mailrig.chromium - Debian's chromium, headless, driven over the DevTools protocol.

No Python package beyond the standard library: chromium is started with
--remote-debugging-pipe, which reads DevTools commands on its fd 3 and writes answers
and events on its fd 4, each message one JSON text ended by a NUL byte.  One page
(a target attached in flat mode) per Chromium; every call waits for its own answer
with a deadline, keeping the events that arrive meanwhile.

  Chromium(workdir, lang="fr", width=390, height=844, mobile=True)
      .start()                  the browser (its own profile in workdir); the language
                                goes both to the UI (--lang) and to Accept-Language
                                (--accept-lang): --lang alone does not change the header
      .navigate(url)            open url and wait until its load event
      .click(selector)          a real mouse click (press and release) in the middle of
                                the element, then wait for the page it loads
      .evaluate(js)             the value of a JavaScript expression in the page (the
                                page's own CSP does not apply to DevTools)
      .html(), .text()          the document's markup, its visible text
      .screenshot(path)         a PNG of the viewport, written to path
      .console()                what the page logged (CSP violations among them):
                                [(level, text)]
      .stop()                   close it (SIGTERM, then SIGKILL), safe to call twice

Errors raise RigError with the end of chromium's own log.
"""

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time

from .util import RigError, make_dir, stop_process, tail

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CALL_TIMEOUT = 30           # seconds for one DevTools call (a page load included)


class Chromium:
    """Chromium - one headless browser with one page."""

    def __init__(self, workdir, lang="en", width=390, height=844, mobile=True, name="chromium"):
        self.dir = make_dir(os.path.join(workdir, name), 0o700)
        self.log = os.path.join(self.dir, "chromium.log")
        self.lang, self.width, self.height, self.mobile = lang, width, height, mobile
        self.proc = None
        self.next_id = 0
        self.session = None
        self.events = []
        self.buf = b""

    def start(self):
        cmd_r, cmd_w = os.pipe()        # we write commands, chromium reads fd 3
        ans_r, ans_w = os.pipe()        # chromium writes fd 4, we read
        args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-default-apps", "--mute-audio",
                "--password-store=basic", "--use-mock-keychain", "--hide-scrollbars",
                "--user-data-dir=" + os.path.join(self.dir, "profile"),
                "--lang=" + self.lang, "--accept-lang=" + self.lang,
                "--remote-debugging-pipe", "about:blank"]

        def child():
            # fds 3 and 4 as chromium expects them: moved out of the way first (either
            # could be 3 or 4 already), then dup2'd, which makes them inheritable;
            # every other fd of ours is close-on-exec (PEP 446)
            a, b = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(ans_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.close(a)
            os.close(b)
        with open(self.log, "ab") as logf:
            env = dict(os.environ, LANGUAGE=self.lang, HOME=self.dir)
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                         preexec_fn=child, close_fds=False, env=env)
        os.close(cmd_r)
        os.close(ans_w)
        self.wfd, self.rfd = cmd_w, ans_r
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for m in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.call(m)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 2 if self.mobile else 1,
                   "mobile": self.mobile})
        return self

    def _fail(self, why):
        raise RigError("chromium: %s\n%s" % (why, tail(self.log, 3000)))

    def _read(self, deadline):
        """_read - the next message from chromium, or a failure at the deadline"""
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail("no answer in time")
            ready, _, _ = select.select([self.rfd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                self._fail("exited (rc %s)" % self.proc.poll())
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, params=None, session=True, timeout=CALL_TIMEOUT):
        """call - one DevTools command; its result (events that came meanwhile are kept)"""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self.wfd, data):]
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    self._fail("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, timeout=CALL_TIMEOUT):
        """wait_event - the first event named method not yet waited for"""
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def _drop(self, method):
        self.events = [e for e in self.events if e.get("method") != method]

    def navigate(self, url):
        self._drop("Page.loadEventFired")
        r = self.call("Page.navigate", {"url": url})
        if r.get("errorText"):
            self._fail("navigate %s: %s" % (url, r["errorText"]))
        self.wait_event("Page.loadEventFired")

    def evaluate(self, js):
        r = self.call("Runtime.evaluate", {"expression": js, "returnByValue": True})
        if "exceptionDetails" in r:
            self._fail("evaluate %r: %s" % (js, r["exceptionDetails"]))
        return r["result"].get("value")

    def click(self, selector):
        """click - press and release the mouse in the middle of selector; wait for the load"""
        box = self.evaluate("(() => { const r = document.querySelector(%s).getBoundingClientRect();"
                            " return [r.x + r.width / 2, r.y + r.height / 2]; })()" % json.dumps(selector))
        self._drop("Page.loadEventFired")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left" if kind != "mouseMoved" else "none",
                                                   "clickCount": 1})
        self.wait_event("Page.loadEventFired")

    def html(self):
        return self.evaluate("document.documentElement.outerHTML")

    def text(self):
        return self.evaluate("document.body.innerText")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def console(self):
        out = []
        for e in self.events:
            if e.get("method") == "Log.entryAdded":
                out.append((e["params"]["entry"]["level"], e["params"]["entry"]["text"]))
            elif e.get("method") == "Runtime.consoleAPICalled":
                out.append((e["params"]["type"], " ".join(str(a.get("value")) for a in e["params"]["args"])))
        return out

    def stop(self):
        if self.proc is not None:
            try:
                if self.proc.poll() is None:
                    self.call("Browser.close", session=False, timeout=5)
                    self.proc.wait(10)
            except (RigError, OSError, subprocess.TimeoutExpired):
                pass
            stop_process(self.proc)
            self.proc = None
        for fd in ("wfd", "rfd"):
            if getattr(self, fd, None) is not None:
                os.close(getattr(self, fd))
                setattr(self, fd, None)

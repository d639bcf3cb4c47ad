# SPDX-License-Identifier: BSD-2-Clause
"""The unsubscribe page as a person sees it (issue 12): a real headless chromium.

A message goes through the session's Postfix and txmilter; the link in the
List-Unsubscribe header it was delivered with is opened in Debian's chromium
(mailrig.chromium: the DevTools protocol over a pipe), with the browser's language set
as a person's would be (French: UI and Accept-Language).  What the person sees is
checked in the rendered page (language, the sender's stream, the style really applied,
so the CSP hash matched; nothing wider than a phone; no CSP complaint in the console),
a screenshot is kept, the button is pressed with a real mouse click, the result page is
read, and the store is checked: the recipient is suppressed for that stream.

Screenshots: <workdir>/browser/<test name>/*.png (kept with MAILRIG_KEEP=1), and copied
to $MAILRIG_ARTIFACTS when it is set.
"""

import os
import re
import shutil
import uuid

import pytest

from mailrig.chromium import Chromium
from mailrig.message import make_message
from mailrig.util import REPO, make_dir
from unsub_helpers import local_url, sqlite_entries, unsub_setup, unsub_targets

pytestmark = pytest.mark.txmilter_only

NEWS = "news@example.com"
PNG = b"\x89PNG\r\n\x1a\n"
BUTTON_BLUE = "rgb(23, 71, 184)"        # the built-in style's button (#1747b8)


@pytest.fixture
def shots(workdir, request):
    """shots - the test's screenshot directory; copied to $MAILRIG_ARTIFACTS afterwards"""
    d = make_dir(os.path.join(workdir, "browser", request.node.name), 0o755)
    yield d
    art = os.environ.get("MAILRIG_ARTIFACTS")
    if art:
        for f in os.listdir(d):
            if f.endswith(".png"):
                shutil.copy(os.path.join(d, f), os.path.join(art, "%s-%s" % (request.node.name, f)))


@pytest.fixture
def browsers(shots):
    """browsers(lang, **kw) - a started Chromium; all stopped afterwards"""
    made = []

    def make(lang, **kw):
        b = Chromium(shots, lang=lang, name="chromium-%s-%d" % (lang, len(made)), **kw)
        made.append(b)
        return b.start()
    yield make
    for b in made:
        b.stop()


def deliver(rig, to):
    msg, mid = make_message(subject="Your weekly news", from_addr=NEWS, to_addr=to)
    r = rig.postfix.submit(NEWS, [to], msg)
    assert r.accepted, "not accepted: %r\n%s" % (r, rig.postfix.log_for(mid))
    return rig.capture.wait_for(mid)


def screenshot(b, shots, name):
    path = b.screenshot(os.path.join(shots, name))
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(PNG) and len(data) > 5000, "not a real screenshot: %s" % path
    return path


def assert_fits_and_styled(b, status=200):
    """the style was applied (its CSP hash matched), the page fits the viewport, and the
    browser complained about nothing (a blocked style or resource shows up here) but the
    page's own status"""
    assert b.evaluate("getComputedStyle(document.body).marginTop") == "0px"
    assert b.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "wider than the screen"
    own = "Failed to load resource: the server responded with a status of %d" % status
    complaints = [c for c in b.console() if c[0] in ("error", "warning") and not c[1].startswith(own)]
    assert not complaints, complaints
    if status != 200:
        assert any(c[1].startswith(own) for c in b.console()), b.console()


def test_a_person_unsubscribes_in_french_from_the_link_of_a_delivered_message(rig, workdir, shots,
                                                                            browsers, unsubds):
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    u = unsubds(m)
    to = "amelie.%s@receiver.example" % uuid.uuid4().hex[:6]
    url, _ = unsub_targets(deliver(rig, to).msg)        # https://unsub.example.com/u/TOKEN
    b = browsers("fr")                                  # a phone, in French
    b.navigate(local_url(url, u.port))                  # what the TLS proxy passes on
    assert b.evaluate("navigator.language") == "fr"
    assert b.evaluate("document.documentElement.lang") == "fr"
    text = b.text()
    assert "Vous désabonner de ces e-mails" in text, text
    assert NEWS in text and "%s***@receiver.example" % to[0] in text and to not in text, text
    assert b.evaluate("document.title") == "Se désabonner"
    assert b.evaluate("document.querySelector('button').textContent") == "Me désabonner"
    assert b.evaluate("getComputedStyle(document.querySelector('button')).backgroundColor") == BUTTON_BLUE
    assert b.evaluate("document.querySelector('button').getBoundingClientRect().width") > 300
    assert_fits_and_styled(b)
    screenshot(b, shots, "confirm-fr.png")
    assert sqlite_entries(setup.unsub.datadir) == [], "opening the page unsubscribed"
    u.wait_log(r"method=GET .*status=200 result=confirm-page")

    b.click("button")
    text = b.text()
    assert "Vous êtes désabonné" in text and NEWS in text, text
    assert b.evaluate("document.documentElement.lang") == "fr"
    assert b.evaluate("document.querySelector('form')") is None
    assert_fits_and_styled(b)
    screenshot(b, shots, "done-fr.png")
    assert sqlite_entries(setup.unsub.datadir) == [(to, NEWS, "http")]
    u.wait_log(r"method=POST .*status=200 result=unsubscribed stream=%s" % re.escape(NEWS))

    # the next mail of that stream to that recipient is refused
    msg, mid = make_message(subject="more news", from_addr=NEWS, to_addr=to)
    r = rig.postfix.submit(NEWS, [to], msg)
    assert r.data is not None and r.data[0] == 550, r


def test_a_tampered_link_shows_the_error_page_on_a_desktop_in_english(rig, workdir, shots, browsers,
                                                                     unsubds):
    setup = unsub_setup(rig.keys, workdir)
    m = rig.start_milter(setup)
    u = unsubds(m)
    to = "bert.%s@receiver.example" % uuid.uuid4().hex[:6]
    url, _ = unsub_targets(deliver(rig, to).msg)
    tok = url.rsplit("/", 1)[1]
    bad = url[:-len(tok)] + tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB")
    b = browsers("en-GB", width=1280, height=800, mobile=False)
    b.navigate(local_url(bad, u.port))
    assert b.evaluate("document.documentElement.lang") == "en"
    text = b.text()
    assert "This link does not work" in text and "not valid or has expired" in text, text
    assert b.evaluate("document.querySelector('form')") is None
    assert_fits_and_styled(b, status=400)
    screenshot(b, shots, "invalid-en.png")
    u.wait_log(r"status=400 result=bad-token")
    assert sqlite_entries(setup.unsub.datadir) == []


def test_the_shipped_example_templates_brand_the_page_in_a_browser(rig, workdir, shots, browsers,
                                                                   unsubds):
    tdir = os.path.join(REPO, "contrib", "unsubscribe-templates")
    setup = unsub_setup(rig.keys, workdir, extra=[("UnsubscribeTemplateDirectory", tdir)])
    m = rig.start_milter(setup)
    u = unsubds(m)
    to = "chloe.%s@receiver.example" % uuid.uuid4().hex[:6]
    url, _ = unsub_targets(deliver(rig, to).msg)
    b = browsers("fr")
    b.navigate(local_url(url, u.port))
    assert b.evaluate("document.title") == "Se désabonner · Example Shop"
    assert "1 rue du Marché" in b.text()                # confirm.fr.html, not confirm.html
    assert b.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(43, 33, 24)"
    assert b.evaluate("document.querySelector('header img').naturalWidth") > 0, "the data: logo was blocked"
    assert b.evaluate("document.querySelector('button').textContent") == "Me désabonner"
    assert_fits_and_styled(b)
    screenshot(b, shots, "confirm-brand-fr.png")
    b.click("button")
    assert "Vous êtes désabonné" in b.text() and "Example Shop" in b.text()
    assert_fits_and_styled(b)
    screenshot(b, shots, "done-brand-fr.png")
    assert sqlite_entries(setup.unsub.datadir) == [(to, NEWS, "http")]

"""A visitor runs a journey in Chromium inside an agency's page (tests/browser/embed/embed.html,
served from a second local port, an origin the journey allows) on a 360 px phone: the welcome
form, the PIN from the mail, a date, a choice and a long text, a photo for an upload slot, the
disclosure, a signature drawn with a finger, the review, "Email me another copy", and Continue,
which leaves the frame for the agency's page. A journey the page is not allowed to frame is refused.
Every visitor page, opened on its own at 360 px and at 1280 px, fits without sideways scrolling
and without console errors (a Content-Security-Policy refusal is one)."""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from playwright.sync_api import Browser, Frame, Page, expect
from sqlalchemy import select

from app.services.journeys import visitors
from models import JourneySession, SessionStatus, db
from tests.browser.test_admin_browser import watch_console
from tests.conftest import Mailbox
from tests.views.test_journey_visitor import JPEG, latest_pin, make_journey

pytestmark = pytest.mark.browser

EMBED = Path(__file__).parent / "embed"
LONG_EMAIL = "maximilian.worthington-smythe.household@long-family-name.example"
VIEWPORTS = {"phone": (360, 740), "desktop": (1280, 800)}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def agency_site() -> Iterator[str]:
    """The agency's website: the embedding page, on a port of its own (another origin)."""
    handler = functools.partial(_Quiet, directory=str(EMBED))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def embedded(app: Flask, agency_site: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setitem(app.config, "PORTICO_JOURNEY_REDIRECT_HOSTS", ["127.0.0.1"])
    with app.app_context():
        return make_journey(
            embed_origins=agency_site,
            redirect_url=f"{agency_site}/embed.html?thanks=1",
            pin_attempts=5,
        )


def fits(target: Page | Frame, problems: list[str], name: str) -> None:
    """No sideways scroll (with ``PORTICO_SCREENSHOTS=/some/dir``, a screenshot too)."""
    overflow = target.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        problems.append(f"{name}: scrolls sideways by {overflow}px")
    shots = os.environ.get("PORTICO_SCREENSHOTS")
    if shots and isinstance(target, Page):
        width = target.viewport_size["width"] if target.viewport_size else 0
        Path(shots).mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(Path(shots) / f"journey-{width}-{name}.png"), full_page=True)


def expected_only(problems: list[str], *statuses: int) -> list[str]:
    """The console's errors less the answers expected: a form sent back to fix (422), and
    ``statuses``."""
    expected = [f"status of {code}" for code in (422, *statuses)]
    return [p for p in problems if not any(e in p for e in expected)]


def draw(page: Page, canvas: Any) -> None:
    expect(canvas).to_be_visible()  # the dialog is open
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for step in range(1, 13):
        page.mouse.move(x + w * (0.1 + 0.065 * step), y + h * (0.3 if step % 2 else 0.7), steps=3)
    page.mouse.up()


def _journey_frame(page: Page) -> Frame:
    for frame in page.frames:
        if "/f/" in frame.url:
            return frame
    raise AssertionError(f"no journey frame in {[f.url for f in page.frames]}")


def run_journey(
    page: Page,
    target: Any,
    app: Flask,
    mailbox: Mailbox,
    check: Callable[[str], None],
    *,
    email: str,
    typed: bool = False,
) -> None:
    """Every step through its widgets; ``target`` is the page or the journey's frame."""
    expect(target.get_by_role("heading", name="Renew your policy")).to_be_visible()
    check("welcome")
    target.get_by_label("Your name").fill("Vera Visitor")
    target.get_by_label("Your email address").fill(email)
    target.get_by_role("button", name="Email me a PIN").click()

    expect(target.get_by_role("heading", name="Enter your PIN")).to_be_visible()
    check("pin")
    target.get_by_label("PIN").fill(
        "000000" if latest_pin(app, mailbox, email) != "000000" else "1"
    )
    target.get_by_role("button", name="Continue").click()
    expect(target.get_by_text("That PIN is not right")).to_be_visible()
    check("pin-wrong")
    target.get_by_role("button", name="send a new PIN").click()
    expect(target.get_by_text("We sent you a new PIN")).to_be_visible()
    target.get_by_label("PIN").fill(latest_pin(app, mailbox, email))
    target.get_by_role("button", name="Continue").click()

    expect(target.get_by_role("heading", name="About you")).to_be_visible()
    expect(target.get_by_text("Step 1 of 4")).to_be_visible()
    target.get_by_role("button", name="Continue").click()  # nothing filled: errors shown
    expect(target.get_by_text("Check the answers marked below.")).to_be_visible()
    check("form-errors")
    target.get_by_label("Date of birth").fill("1980-02-29")
    target.get_by_label("Vehicle").select_option("Motorcycle")
    target.get_by_label("Anything else?").fill("Garaged at night, " + "very " * 30 + "safe.")
    target.get_by_role("button", name="Continue").click()

    expect(target.get_by_role("heading", name="Your licence")).to_be_visible()
    check("upload")
    target.get_by_label("Front of driver's licence").set_input_files(
        {"name": "licence-front.jpg", "mimeType": "image/jpeg", "buffer": JPEG}
    )
    target.get_by_role("button", name="Continue").click()

    expect(
        target.get_by_role("heading", name="Electronic Record and Signature Disclosure")
    ).to_be_visible()
    # The upload went up with its progress bar, then the next step loaded as a page of its
    # own, with its own style sheet.
    expect(target.locator(".pt-disclosure")).to_have_css("overflow-y", "auto")
    check("sign-consent")
    target.get_by_label("I confirm that I have read and understood").check()
    target.get_by_role("button", name="Agree and continue").click()
    expect(target.get_by_role("button", name="Finish", exact=True)).to_be_visible()
    expect(target.locator(".pt-sign-page img").first).to_be_visible()
    # The page's own style sheet has applied (a busy machine may answer the page before it):
    # until then the page images are as wide as they are drawn.
    expect(target.locator(".pt-sign-page > img").first).to_have_css("display", "block")
    # The fields sit over their page, where the layout put them, not in rows under it.
    expect(target.locator(".pt-sign-field").first).to_have_css("position", "absolute")
    check("sign")
    target.get_by_role("button", name="Sign here").click()
    dialog = target.get_by_role("dialog")
    if typed:
        dialog.get_by_role("tab", name="Type").click()
        dialog.get_by_label("Type your name").fill("Vera Visitor")
    else:
        draw(page, target.locator("#pt-sign-canvas"))
    check("sign-dialog")
    dialog.get_by_role("button", name="Use this signature").click()
    expect(dialog).to_be_hidden()
    expect(target.get_by_text("Your progress is saved.")).to_be_visible()
    target.get_by_role("button", name="Finish", exact=True).click()

    expect(target.get_by_role("heading", name="Check and send")).to_be_visible()
    expect(target.get_by_text("Motorcycle")).to_be_visible()
    expect(target.get_by_text(re.compile("licence-front.jpg"))).to_be_visible()
    check("review")
    target.get_by_role("button", name="Confirm and send").click()

    expect(target.get_by_role("heading", name="Well done!")).to_be_visible()
    check("done")
    target.get_by_role("button", name="Email me another copy").click()
    expect(target.get_by_text("We emailed you a copy.")).to_be_visible()
    check("done-copy")


def test_a_visitor_runs_the_journey_inside_the_agencys_page_on_a_phone(
    browser: Browser,
    base_url: str,
    app: Flask,
    agency_site: str,
    embedded: dict[str, Any],
    mailbox: Mailbox,
) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    problems = watch_console(page)
    sent_by_script: list[str] = []
    page.on(
        "request",
        lambda r: sent_by_script.append(r.url) if r.resource_type == "xhr" else None,
    )
    address = f"{base_url}/f/{embedded['slug']}"
    page.goto(f"{agency_site}/embed.html?journey={quote(address, safe='')}", wait_until="load")
    frame = page.frame_locator("#journey")
    layout: list[str] = []

    def check(name: str) -> None:
        fits(_journey_frame(page), layout, name)
        fits(page, layout, f"agency page at {name}")

    run_journey(page, frame, app, mailbox, check, email="vera.visitor@example.com")
    assert layout == []
    assert any(url.endswith("/step/1") for url in sent_by_script)  # the upload, with progress

    frame.get_by_role("link", name="Continue").click()  # target="_top": the agency's page
    expect(page).to_have_url(f"{agency_site}/embed.html?thanks=1")
    with app.app_context():
        session = db.session.scalars(select(JourneySession)).one()
        assert session.status == SessionStatus.COMPLETED
        assert session.sign_request.signers[0].signature_image.startswith(b"\x89PNG")
    context.close()
    assert expected_only(problems) == []


def test_a_page_the_journey_does_not_allow_cannot_frame_it(
    browser: Browser, base_url: str, app: Flask, agency_site: str
) -> None:
    with app.app_context():
        make_journey(slug="not-for-framing", embed_origins="https://agency.example")
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    problems = watch_console(page)
    address = quote(f"{base_url}/f/not-for-framing", safe="")
    page.goto(f"{agency_site}/embed.html?journey={address}", wait_until="load")
    page.wait_for_timeout(300)
    expect(page.get_by_role("heading", name="Renew your policy online")).to_be_visible()
    expect(page.frame_locator("#journey").get_by_label("Your name")).to_have_count(0)
    assert any("frame-ancestors" in message for message in problems), problems
    context.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_visitor_page_fits_a_phone_and_a_desktop(
    browser: Browser,
    base_url: str,
    app: Flask,
    embedded: dict[str, Any],
    mailbox: Mailbox,
    viewport: str,
) -> None:
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems = watch_console(page)
    layout: list[str] = []
    slug = embedded["slug"]

    def check(name: str) -> None:
        fits(page, layout, f"{viewport}-{name}")

    page.goto(f"{base_url}/f/{slug}", wait_until="load")
    run_journey(page, page, app, mailbox, check, email=LONG_EMAIL, typed=viewport == "desktop")

    # The pages around the journey: not found, an expired link back, a closed journey.
    for path, status, name in (
        (f"/f/{slug}/s/someone-else/done", 404, "not-found"),
        ("/f/no-such-journey", 404, "no-journey"),
        (f"/f/{slug}/resume/expired-token", 404, "resume-invalid"),
    ):
        response = page.goto(f"{base_url}{path}", wait_until="load")
        assert response is not None and response.status == status, path
        check(name)
    with app.app_context():
        session = db.session.scalars(select(JourneySession)).one()
        with app.test_request_context():
            session.status = SessionStatus.IN_PROGRESS  # a link back to a session not done
            link = visitors.resume_link(session)
        db.session.commit()
    page.goto(link.replace("http://portico.test", base_url), wait_until="load")
    expect(page.get_by_role("heading", name="Welcome back, Vera Visitor")).to_be_visible()
    check("resume")
    with app.app_context():
        session = db.session.scalars(select(JourneySession)).one()
        session.journey.active = False
        db.session.commit()
    page.goto(f"{base_url}/f/{slug}", wait_until="load")
    expect(page.get_by_text("This form is closed")).to_be_visible()
    check("closed")
    context.close()
    assert layout == []
    assert expected_only(problems, 404) == []

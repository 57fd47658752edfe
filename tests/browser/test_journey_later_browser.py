"""A visitor on a phone (and on a desktop) halfway through a journey presses "Finish later",
reads where the link went, finds it in their mail, and carries on now instead."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from tests.browser.test_admin_browser import watch_console
from tests.browser.test_journey_browser import (
    VIEWPORTS,
    agency_site,
    embedded,
    expected_only,
    fits,
)
from tests.conftest import Mailbox, body_of, run_jobs
from tests.views.test_journey_visitor import latest_pin

pytestmark = pytest.mark.browser
__all__ = ["agency_site", "embedded"]  # the fixtures, used by name


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_finish_later_from_a_step(
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
    email = f"later.{viewport}@example.com"
    page.goto(f"{base_url}/f/{embedded['slug']}", wait_until="load")
    page.get_by_label("Your name").fill("Lee Later")
    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Email me a PIN").click()
    page.get_by_label("PIN").fill(latest_pin(app, mailbox, email))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="About you")).to_be_visible()

    mailbox.clear()
    page.get_by_role("button", name="Finish later: email me a link").click()
    expect(page.get_by_role("heading", name="Finish later")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"We emailed a link to l\*\*\*@example\.com"))
    ).to_be_visible()
    fits(page, layout, f"{viewport}-later")
    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert f"/f/{embedded['slug']}/resume/" in body_of(mail)

    page.get_by_role("link", name="Carry on now").click()
    expect(page.get_by_role("heading", name="About you")).to_be_visible()
    context.close()
    assert layout == []
    assert expected_only(problems) == []

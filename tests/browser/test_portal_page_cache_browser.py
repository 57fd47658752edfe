"""A client's home page is kept per sign-in, and what staff change is on it at the next reload.

The client reads home in one browser; in another, an admin saves a new banner in the portal
settings and then a new phone number on the client's record. The client's very next reload
shows each change (no waiting for the kept page to expire), and the banner fits a phone and a
desktop without scrolling sideways.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from app.services import portal_accounts
from models import ProductStatus, db
from portal.page_cache import HEADER
from tests import factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console
from tests.browser.test_portal_layout import VIEWPORTS, _sign_in
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser

BANNER = "Our office is closed on Friday for the holiday; call us Monday."


@pytest.fixture
def client_with_portal(app: Flask, admin_user: Any) -> dict[str, Any]:
    with app.app_context():
        record = factories.record(
            first_name="Hollis",
            last_name="Homebody",
            email="hollis@example.com",
            phone="+16145550111",
        )
        factories.product(
            record,
            carrier="Humana",
            plan_name="Silver Saver PPO",
            status=ProductStatus.ACTIVE,
            client_access=True,
        )
        portal_accounts.enable_self_service(record, admin_user)
        db.session.commit()
        return {**_credentials(record.id), "record_id": record.id}


def reload_home(page: Page) -> str:
    """Reload home as the client does; the answer's page-cache header (hit or miss)."""
    response = page.reload(wait_until="load")
    assert response is not None and response.status == 200
    return response.headers.get(HEADER.lower(), "")


def fits_sideways(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_kept_home_shows_the_admins_banner_and_record_change_on_the_next_reload(
    browser: Browser, base_url, client_with_portal, admin_user
):
    # The client signs in and reads home; the second view is the kept page.
    client = browser.new_context(viewport={"width": 1280, "height": 800})
    home = client.new_page()
    client_problems = watch_console(home)
    _sign_in(home, base_url, client_with_portal)
    expect(home.get_by_role("heading", name="Hello, Hollis", exact=True)).to_be_visible()
    expect(home.get_by_text("(614) 555-0111", exact=True)).to_be_visible()
    expect(home.locator(".pt-banner")).to_have_count(0)
    assert reload_home(home) == "hit"
    expect(home.get_by_role("heading", name="Hello, Hollis", exact=True)).to_be_visible()

    # In another browser, an admin writes a banner in the portal settings and saves it.
    staff = browser.new_context()
    panel = staff.new_page()
    staff_problems = watch_console(panel)
    sign_in(panel, base_url, admin_user.email)
    panel.goto(f"{base_url}/admin/portal_settings/", wait_until="load")
    panel.get_by_label("Banner message", exact=True).fill(BANNER)
    panel.get_by_role("button", name="Save", exact=True).click()
    panel.wait_for_load_state("load")
    expect(panel.locator(".alert-success")).to_be_visible()
    expect(panel.get_by_label("Banner message", exact=True)).to_have_value(BANNER)

    # The client's next reload shows it, rendered anew; the one after is kept again.
    assert reload_home(home) == "miss"
    expect(home.locator(".pt-banner")).to_have_text(BANNER)
    assert reload_home(home) == "hit"
    expect(home.locator(".pt-banner")).to_have_text(BANNER)

    # The admin changes the client's phone number on the record's edit form.
    panel.goto(
        f"{base_url}/admin/record/details/?id={client_with_portal['record_id']}",
        wait_until="load",
    )
    panel.get_by_role("link", name="Edit", exact=True).click()
    panel.wait_for_load_state("load")
    phone = panel.locator("input#phone")
    expect(phone).to_be_visible()
    phone.fill("(614) 555-0199")
    panel.get_by_role("button", name="Save", exact=True).click()
    panel.wait_for_load_state("load")
    expect(panel.locator(".alert-success")).to_be_visible()

    assert reload_home(home) == "miss"
    expect(home.get_by_text("(614) 555-0199", exact=True)).to_be_visible()
    expect(home.get_by_text("(614) 555-0111", exact=True)).to_have_count(0)
    expect(home.locator(".pt-banner")).to_have_text(BANNER)

    # The banner on a phone and on a desktop: shown, and no sideways scrolling.
    for viewport in ("phone", "desktop"):
        width, height = VIEWPORTS[viewport]
        home.set_viewport_size({"width": width, "height": height})
        reload_home(home)
        expect(home.locator(".pt-banner")).to_be_visible()
        expect(home.locator(".pt-banner")).to_have_text(BANNER)
        assert fits_sideways(home), f"home scrolls sideways at {width} px"

    staff.close()
    client.close()
    assert blocked_scripts(client_problems) == [] and blocked_scripts(staff_problems) == []

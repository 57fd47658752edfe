"""In a browser: ZIP and state refuse template syntax with a message under the field, and
take what people type for real ones; notes keep their lines."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_admin_browser import watch_console
from tests.browser.test_details_browser import cora  # noqa: F401  (fixture)
from tests.views.test_portal_details import record_value

pytestmark = pytest.mark.browser


def test_zip_and_state_in_the_address_form(page: Page, base_url, cora, app):  # noqa: F811
    problems = watch_console(page)
    page.goto(f"{base_url}/portal/a/{cora['token']}", wait_until="load")
    page.get_by_label("Password").fill(cora["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="My details").click()

    address = page.locator("#section-address")
    address.get_by_label("Street address").fill("1 Main St")
    address.get_by_label("State").fill("{%")
    address.get_by_label("ZIP code").fill("{{7*7}}")
    address.get_by_role("button", name="Save address").click()
    address = page.locator("#section-address")
    expect(address.get_by_text("Enter a ZIP code of 5 digits")).to_be_visible()
    expect(address.get_by_text("Enter a US state or territory")).to_be_visible()
    assert record_value(app, cora["record_id"], "postal_code") is None

    address.get_by_label("State").fill("ca")
    address.get_by_label("ZIP code").fill("20500-0003")
    address.get_by_role("button", name="Save address").click()
    expect(page.get_by_text("Address saved")).to_be_visible()
    expect(page.locator("#section-address").get_by_label("State")).to_have_value("CA")
    assert record_value(app, cora["record_id"], "postal_code") == "20500-0003"
    assert record_value(app, cora["record_id"], "state") == "CA"
    assert problems == []

"""A page of the record list is kept per staff sign-in, and what a colleague changes is on it at
the next reload.

An agent searches the record list in one browser; in another, an admin renames one of the
matching records through its edit form. The agent's very next reload shows the change (no
waiting for the kept page to expire), and the kept page's own forms still work: the agent
bulk-tags two rows from it.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from admin_views.list_cache import HEADER
from tests.browser.test_admin_browser import (
    blocked_scripts,
    bulk_add_tag,
    office,
    sign_in,
    watch_console,
)

pytestmark = pytest.mark.browser

__all__ = ["office"]  # the fixture, shared with the list's other browser tests


def reload_list(page: Page) -> str:
    """Reload the list as the agent does; the answer's page-cache header (hit or miss)."""
    response = page.reload(wait_until="load")
    assert response is not None and response.status == 200
    return response.headers.get(HEADER.lower(), "")


def test_a_kept_list_shows_a_colleagues_change_on_the_next_reload(
    browser: Browser, base_url: str, office: dict[str, Any], agent_user: Any
) -> None:
    agent = browser.new_context(viewport={"width": 1280, "height": 800})
    listing = agent.new_page()
    agent_problems = watch_console(listing)
    sign_in(listing, base_url, agent_user.email)
    listing.get_by_role("link", name="Records", exact=True).click()
    search = listing.get_by_role("textbox", name="Name, company, email or phone")
    search.fill("person")
    search.press("Enter")
    names = listing.locator("td.col-last_name")
    expect(names).to_have_text([f"Other Person{n}" for n in range(5)])
    assert reload_list(listing) == "hit"
    expect(names).to_have_text([f"Other Person{n}" for n in range(5)])

    # In another browser, an admin opens Other Person2 from the list and renames them
    # (and makes them a lead).
    staff = browser.new_context()
    panel = staff.new_page()
    admin_problems = watch_console(panel)
    sign_in(panel, base_url, office["email"])
    panel.goto(f"{base_url}/admin/record/?search=Person2", wait_until="load")
    panel.get_by_role("link", name="Other Person2", exact=True).click()
    panel.get_by_role("link", name="Edit", exact=True).click()
    panel.wait_for_load_state("load")
    panel.locator("input#last_name").fill("Persona")
    panel.locator("#s2id_kind").click()  # Select2, as a person uses it
    panel.locator(".select2-drop-active .select2-result-label", has_text="Lead").first.click()
    panel.get_by_role("button", name="Save", exact=True).click()
    panel.wait_for_load_state("load")
    expect(panel.locator(".alert-success")).to_be_visible()

    # The agent's next reload is rendered anew and shows it; the one after is kept again.
    assert reload_list(listing) == "miss"
    expect(names).to_have_text(
        ["Other Person0", "Other Person1", "Other Person3", "Other Person4", "Other Persona"]
    )
    assert reload_list(listing) == "hit"
    row = listing.locator("tr", has_text="Other Persona")
    expect(row.locator("td.col-kind")).to_have_text("Lead")

    # The kept page's bulk action carries this browser's form token: it works.
    bulk_add_tag(listing, "Gold", rows=2)
    expect(listing.locator("td.col-tags", has_text="Gold")).to_have_count(2)
    expect(search).to_have_value("person")

    staff.close()
    agent.close()
    assert blocked_scripts(agent_problems) == [] and blocked_scripts(admin_problems) == []

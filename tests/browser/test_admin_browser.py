"""A staff member in Chromium: sign in, open the record list, filter by tag, open a record."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from models import ProductStatus, RecordKind, Tag, db
from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def office(app):
    with app.app_context():
        admin = factories.staff(
            role="admin", email="owner@example.com", first_name="Olga", last_name="Owner"
        )
        gold = factories.tag("Gold")
        winner = factories.record(
            first_name="Winifred",
            last_name="Tagged",
            tags=[gold],
            kind=RecordKind.CLIENT,
            assigned_agent_id=admin.id,
        )
        factories.product(
            winner, carrier="Humana", plan_name="Gold Plus HMO", status=ProductStatus.ACTIVE
        )
        for n in range(5):
            factories.record(first_name="Other", last_name=f"Person{n}")
        return {"email": admin.email}


def watch_console(page: Page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_sign_in_filter_by_tag_and_open_a_record(page: Page, base_url, office):
    problems = watch_console(page)
    page.goto(f"{base_url}/admin/")
    expect(page).to_have_url(re.compile(r"/staff/login"))
    page.get_by_label("Email Address").fill(office["email"])
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Good to see you, Olga")).to_be_visible()

    page.get_by_role("link", name="Records", exact=True).click()
    expect(page.locator("td.col-last_name")).to_have_count(6)
    page.wait_for_load_state("load")  # the filter menu works once its scripts have run

    page.get_by_role("link", name="Add Filter").click()
    page.locator("a.filter", has_text="Tag").first.click()
    row = page.locator("#filter_form table.filters tr").last
    expect(row.locator(".select2-container.filter-op")).to_contain_text("is")
    row.locator(".select2-container.filter-val").click()  # Select2, as a person uses it
    page.locator(".select2-drop-active .select2-result-label", has_text="Gold").click()
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("td.col-last_name")).to_have_count(1)
    expect(page.locator("td.col-last_name")).to_have_text("Winifred Tagged")

    page.get_by_role("link", name="Winifred Tagged").click()
    page.wait_for_load_state("load")  # tabs switch once Bootstrap's script has run
    expect(page.get_by_role("heading", name=re.compile("Winifred Tagged"))).to_be_visible()
    page.get_by_role("tab", name=re.compile("Products")).click()
    expect(page.get_by_text("Gold Plus HMO")).to_be_visible()
    assert blocked_scripts(problems) == []


def blocked_scripts(problems: list[str]) -> list[str]:
    """CSP refusals of inline code. Flask-Admin's `href="javascript:void(0)"` anchors are
    refused too, harmlessly (they do nothing by design), so they are not counted."""
    return [
        p
        for p in problems
        if "Content Security Policy" in p and "Running the JavaScript URL" not in p
    ]


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/staff/login")
    page.get_by_label("Email Address").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Records", exact=True)).to_be_visible()


def bulk_add_tag(page: Page, tag: str, rows: int) -> None:
    """Tick the list's first ``rows`` boxes, then With selected → Add tag…, as a person does."""
    checkboxes = page.locator("input.action-checkbox")
    for row in range(rows):
        checkboxes.nth(row).check()
    page.get_by_role("button", name="With selected").or_(
        page.get_by_role("link", name="With selected")
    ).click()
    page.get_by_role("link", name="Add tag…").click()
    expect(page.get_by_role("heading", name=f"Add a tag to {rows} records")).to_be_visible()
    page.get_by_label("Tag").select_option(label=tag)
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_text(f"Tagged {rows} records with {tag}.")).to_be_visible()


def test_bulk_tag_selected_records_from_the_list(page: Page, base_url, office):
    problems = watch_console(page)
    sign_in(page, base_url, office["email"])
    page.goto(f"{base_url}/admin/record/?search=Other", wait_until="load")
    expect(page.locator("td.col-last_name")).to_have_count(5)
    bulk_add_tag(page, "Gold", rows=2)
    expect(page.locator("td.col-tags", has_text="Gold")).to_have_count(2)
    assert blocked_scripts(problems) == []


def test_deleting_from_a_list_asks_first(page: Page, base_url, office, app):
    with app.app_context():
        factories.tag("Obsolete")
    problems = watch_console(page)
    sign_in(page, base_url, office["email"])
    page.goto(f"{base_url}/admin/tag/?search=Obsolete", wait_until="load")
    delete = page.get_by_role("button", name="Delete Record")
    expect(delete).to_have_count(1)

    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.click()
    page.wait_for_load_state("networkidle")  # a submitted form would have gone out by now
    with app.app_context():
        assert db.session.scalar(select(Tag.id).where(Tag.name == "Obsolete")) is not None
    expect(page.get_by_role("cell", name="Obsolete")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    expect(page.get_by_text("Tag deleted.")).to_be_visible()
    expect(page.get_by_role("cell", name="Obsolete")).to_have_count(0)
    assert blocked_scripts(problems) == []


def test_search_the_list_then_sort_the_matches(page: Page, base_url, office):
    """Typing in the list's search box narrows it to the matches in name order; the column's
    header turns the order round, and the search stays (issue 18: on PostgreSQL the search
    reads trigram indexes and sorts only the matches)."""
    problems = watch_console(page)
    sign_in(page, base_url, office["email"])
    page.get_by_role("link", name="Records", exact=True).click()
    expect(page.locator("td.col-last_name")).to_have_count(6)
    search = page.get_by_role("textbox", name="Name, company, email or phone")
    search.fill("person")
    search.press("Enter")
    names = page.locator("td.col-last_name")
    expect(names).to_have_text([f"Other Person{n}" for n in range(5)])
    expect(search).to_have_value("person")

    header = page.locator("th.column-header a", has_text="Name")
    header.click()  # sorted by name, as it was by default
    expect(page).to_have_url(re.compile(r"sort=0"))
    expect(names).to_have_text([f"Other Person{n}" for n in range(5)])
    header.click()  # the other way round
    expect(page).to_have_url(re.compile(r"desc=1"))
    expect(names).to_have_text([f"Other Person{n}" for n in range(4, -1, -1)])
    expect(search).to_have_value("person")
    assert blocked_scripts(problems) == []

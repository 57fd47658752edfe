"""Every staff form, as a person uses it in Chromium, on demo data.

The views come from the app's Admin object, so a view added later is swept without touching
this file. For each model view: its edit form (first row) and its create form are opened, the
edit form is saved unchanged, and the create form is filled through its widgets (date pickers,
Select2 boxes, checkboxes) and saved. For each other settings page: its form is saved
unchanged. Every save must end with a success message and no field error.

What the HTTP view tests cannot see is what this catches: fields a browser does not send
(disabled selects), values a widget writes in a format the server does not read, scripts that
fail on the page. The file takes about a minute and a half on a 2-core machine.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import url_for
from flask_admin.contrib.sqla import ModelView
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from app.services import custom_fields
from models import CustomField, CustomFieldType, Task, Team, db
from seeds.demo import DEMO_LOGINS, seed_demo
from tests.browser.test_admin_browser import blocked_scripts, watch_console

pytestmark = pytest.mark.browser

ADMIN = next(login for login in DEMO_LOGINS if login.role == "admin")
_unique = itertools.count(1)

#: Values a person would type, by field name, where a made-up text is not valid. Names not
#: listed get a plain text; ``None`` leaves the field as the form shows it.
TYPED: dict[str, Any] = {
    "email": lambda: f"sweep{next(_unique)}@example.com",
    "office_email": lambda: f"office{next(_unique)}@example.com",
    "phone": "(202) 555-0143",
    "mobile": "(202) 555-0144",
    "office_phone": "(202) 555-0145",
    "key": lambda: f"sweep_{next(_unique)}",
    "name": lambda: f"Sweep {next(_unique)}",
    "colour": None,
    "brand_colour": None,
    "state": "OH",
    "postal_code": "43004",
    "country": "US",
    "premium": "1200.50",
    "new_password": "Sweep-pass-phrase-2027",
    "body": "Hello {{ record.first_name }}, this is a test.",
    "subject": "Hello {{ record.first_name }}",
    "pattern": None,
    "pattern_message": None,
    "min": None,
    "max": None,
    "max_length": None,
    "options": None,
    "task_title": "Call {{ record.full_name }}",
    "banner_html": None,
    "date_of_birth": None,  # a picker of its own, below
    "slug": lambda: f"sweep-{next(_unique)}",
    # A journey's address after completion and its embedding sites: empty is valid, made-up
    # text is not (the view tests check what is refused).
    "redirect_url": None,
    "embed_origins": None,
}

#: Checkboxes left as they are: ticking them changes what the form means (an archived custom
#: field, an active workflow with no trigger, a removed logo).
UNTICKED = {"archived", "active", "remove_logo", "apply_to_running", "on_record_created"}

SKIPPED_CREATE: dict[str, set[str]] = {
    # A workflow needs one trigger: the tag box is filled, the other triggers stay empty.
    "workflow": {"product_status", "coverage_type", "on_record_created"},
    # A new field's type decides which settings apply: text, with none of them.
    "custom_field": set(),
    # The first email template of the list is a system one, kept for its own message.
    "team": {"completion_template_key"},
}


@pytest.fixture
def demo(app):
    with app.app_context():
        seed_demo(records=6, seed=7)
        # Custom fields show on every record form: one of each kind a picker serves.
        for key, kind, settings in (
            ("renewal_date", CustomFieldType.DATE, {"min": "2000-01-01"}),
            ("pet_name", CustomFieldType.TEXT, {}),
            ("smoker", CustomFieldType.YES_NO, {}),
            ("plan_tier", CustomFieldType.CHOICE, {"options": ["Bronze", "Gold"]}),
        ):
            field = CustomField(
                key=key,
                label=key.replace("_", " ").capitalize(),
                field_type=kind,
                settings=settings,
            )
            custom_fields.check_custom_field(field, is_new=True)
            db.session.add(field)
            db.session.flush()
            custom_fields.add_portal_row(field)
        # Teams are not in the demo data; one to edit.
        db.session.add(Team(name="Sweep team"))
        db.session.commit()


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/staff/login")
    page.get_by_label("Email Address").fill(ADMIN.email)
    page.get_by_label("Password").fill(ADMIN.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Records", exact=True)).to_be_visible()


def staff_pages(app) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    """(edit forms, create forms, other pages) of every view the Admin object holds."""
    edits, creates, others = [], [], []
    with app.test_request_context():
        for admin in app.extensions["admin"]:
            for view in admin._views:
                if isinstance(view, ModelView):
                    if view.can_edit:
                        first = db.session.scalar(select(view.model).limit(1))
                        assert first is not None, f"no {view.name} in the demo data to edit"
                        pk = view.get_pk_value(first)
                        edits.append((view.endpoint, url_for(f"{view.endpoint}.edit_view", id=pk)))
                    if view.can_create:
                        creates.append((view.endpoint, url_for(f"{view.endpoint}.create_view")))
                elif view is not admin.index_view:
                    others.append(url_for(f"{view.endpoint}.index"))
    return edits, creates, others


def main_form(page: Page) -> Locator:
    """The page's form that saves: the one with the most fields."""
    forms = page.locator("form[method=POST], form[method=post]")
    counts = [forms.nth(n).locator("input, select, textarea").count() for n in range(forms.count())]
    assert counts, f"no form on {page.url}"
    return forms.nth(counts.index(max(counts)))


def save(page: Page, form: Locator) -> None:
    form.locator("input[type=submit], button[type=submit], button:not([type])").first.click()
    page.wait_for_load_state("load")


def save_problem(page: Page, where: str) -> str | None:
    """What went wrong with the save just made, or None when it succeeded."""
    errors = page.locator(".invalid-feedback, .help-block.error, .alert-danger, .alert-error")
    # A message's close button is a multiplication sign; it is not part of the message.
    texts = [" ".join(t.replace("\u00d7", "").split()) for t in errors.all_inner_texts()]
    if any(texts):
        return f"{where}: {[t for t in texts if t]}"
    if not page.locator(".alert-success, .alert-info").count():
        return f"{where}: no success message after saving ({page.url})"
    return None


def test_every_edit_and_settings_form_saves_unchanged(page: Page, base_url, app, demo):
    problems = watch_console(page)
    sign_in(page, base_url)
    edits, creates, others = staff_pages(app)
    assert len(edits) >= 8 and len(others) >= 2  # the panel's views were found
    failed, saved = [], []
    for endpoint, path in edits:
        page.goto(base_url + path, wait_until="load")
        save(page, main_form(page))
        failed.append(save_problem(page, f"{endpoint} edit form"))
    for path in others:
        page.goto(base_url + path, wait_until="load")
        # The page's own form, and the first page of the view it links to that has one
        # (the notification matrix's per-event forms, say).
        inner = [
            href
            for href in page.locator(f'a[href^="{path}"]').evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
            if href.rstrip("/") != path.rstrip("/")
        ]
        for target in [path, *inner]:
            page.goto(base_url + target, wait_until="load")
            fields = "input:not([type=hidden]), select, textarea"
            if page.locator("form[method=POST], form[method=post]").locator(fields).count() < 3:
                continue  # a page to read, or only buttons (restore, preview)
            save(page, main_form(page))
            failed.append(save_problem(page, target))
            saved.append(target)
            if target != path:
                break
    for endpoint, path in creates:  # every create form opens without an error
        response = page.goto(base_url + path, wait_until="load")
        if response is None or response.status != 200:
            failed.append(f"{endpoint} create form: {response and response.status}")
    broken = [f for f in failed if f]
    assert not broken, "\n".join(broken)
    # Signing's pages save nothing unchanged by design: Verify reads one file, saved layouts
    # are a list (empty in the demo), and the disclosure refuses to publish unchanged text.
    assert len(saved) >= len([p for p in others if not p.startswith("/admin/sign_")])
    assert blocked_scripts(problems) == []
    assert [p for p in problems if "Content Security Policy" not in p] == []


# -- filling a create form through its widgets ---------------------------------------------


def pick_date(page: Page, field: Locator, day: int) -> None:
    """Open the picker and choose a day of the month it shows (then Apply, if it asks)."""
    field.click()
    picker = page.locator(".daterangepicker:visible").last
    picker.locator("td.available:not(.off)", has_text=re.compile(rf"^{day}$")).first.click()
    apply = picker.locator("button.applyBtn")
    if apply.count() and apply.is_visible():
        apply.click()
    expect(field).not_to_have_value("")


def pick_time(page: Page, field: Locator, hour: int) -> None:
    field.click()
    picker = page.locator(".daterangepicker:visible").last
    picker.locator("select.hourselect").first.select_option(str(hour))
    picker.locator("button.applyBtn").click()
    expect(field).not_to_have_value("")


def choose_first(page: Page, box: Locator, typed: str | None = None) -> None:
    """A Select2 box, as a person uses it: open it, (type,) click the first answer."""
    box.click()
    drop = page.locator(".select2-drop-active:visible")
    if typed is not None:
        drop.locator("input.select2-input").fill(typed)
    result = drop.locator(".select2-result-selectable .select2-result-label")
    result.first.wait_for()
    labels = result.all_inner_texts()
    index = next((n for n, label in enumerate(labels) if label.strip() not in ("", "—")), 0)
    result.nth(index).click()


def fill_through_widgets(page: Page, form: Locator, skip: set[str]) -> list[str]:
    filled = []
    # Read the fields first: pickers and Select2 add inputs of their own as they open.
    fields = form.locator("input, select, textarea").evaluate_all(
        """els => els.filter(e => e.name && e.type !== 'submit'
                    && e.type !== 'file' && e.name !== 'csrf_token'
                    && (e.type !== 'hidden' || e.getAttribute('data-role') === 'select2-ajax'))
                .map(e => [e.name, e.tagName.toLowerCase(), (e.type || '').toLowerCase(),
                           e.getAttribute('data-role') || ''])"""
    )
    for name, tag, kind, role in fields:
        short = name.rsplit("-", 1)[-1]
        if short in skip:
            continue
        control = form.locator(f'[name="{name}"]').first
        if kind == "checkbox":
            if short not in UNTICKED and not control.is_checked():
                control.check(force=True)  # custom checkboxes hide the input under a label
                filled.append(name)
            continue
        if role in ("datepicker", "datetimepicker"):
            pick_date(page, control, 1 if "birth" in short else 15)  # no births to come
        elif role == "timepicker":
            pick_time(page, control, 17 if short.endswith("end") else 9)
        elif role == "select2-ajax":
            choose_first(page, page.locator(f"#s2id_{control.get_attribute('id')}"), "a")
        elif tag == "select" and (role == "select2" or control.is_hidden()):
            box = page.locator(f"#s2id_{control.get_attribute('id')}")
            if box.count() == 0 or not box.is_visible():
                continue
            choose_first(page, box)
        elif tag == "select":
            if not control.is_visible():
                continue
            values = [
                v for v in control.locator("option").evaluate_all("os => os.map(o => o.value)") if v
            ]
            if values:
                control.select_option(values[0])
        elif not control.is_visible() or control.get_attribute("readonly") is not None:
            continue
        elif kind == "date":  # the browser's own date picker takes typed ISO dates
            control.fill("2027-06-15")
        elif kind == "number":
            control.fill("1")
        else:
            value = TYPED.get(short, f"Sweep {short.replace('_', ' ')}")
            if value is None:
                continue
            control.fill(value() if callable(value) else value)
        filled.append(name)
    return filled


def test_every_create_form_filled_through_its_widgets_saves(page: Page, base_url, app, demo):
    problems = watch_console(page)
    sign_in(page, base_url)
    _, creates, _ = staff_pages(app)
    assert len(creates) >= 8
    failed = []
    for endpoint, path in creates:
        page.goto(base_url + path, wait_until="load")
        form = main_form(page)
        filled = fill_through_widgets(page, form, SKIPPED_CREATE.get(endpoint, set()))
        assert filled, f"{endpoint}: nothing to fill"
        save(page, form)
        failed.append(save_problem(page, f"{endpoint} create form (filled: {', '.join(filled)})"))
    broken = [f for f in failed if f]
    assert not broken, "\n".join(broken)
    assert blocked_scripts(problems) == []


def test_a_due_time_typed_into_the_picker_is_kept_in_office_time(page: Page, base_url, app, demo):
    sign_in(page, base_url)
    page.goto(f"{base_url}/admin/task/new/", wait_until="load")
    page.get_by_label("Title").fill("Bulk-tag AEP clients")
    due = page.get_by_label("Due")
    due.click()
    due.press("Control+a")
    due.press_sequentially("2027-09-01 08:00", delay=20)  # key by key, as a person types
    page.keyboard.press("Tab")
    expect(due).to_have_value("2027-09-01 08:00")
    choose_first(page, page.locator("#s2id_record"), "a")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Task created.")
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.title == "Bulk-tag AEP clients"))
        # The office is in New York: 08:00 on September 1 is 12:00 UTC (summer time).
        assert task.due_at.astimezone(UTC) == datetime(2027, 9, 1, 12, 0, tzinfo=UTC)
        task_id = task.id
    page.goto(f"{base_url}/admin/task/edit/?id={task_id}", wait_until="load")
    expect(page.get_by_label("Due")).to_have_value("2027-09-01 08:00")


@pytest.mark.browser_context_args(timezone_id="Asia/Tokyo")
def test_an_empty_due_field_opens_at_the_office_time_not_the_browser_time(
    page: Page, base_url, app, demo
):
    sign_in(page, base_url)
    page.goto(f"{base_url}/admin/task/new/", wait_until="load")
    due = page.get_by_label("Due")
    due.click()
    page.locator(".daterangepicker:visible button.applyBtn").click()
    office_now = datetime.now(ZoneInfo("America/New_York")).replace(tzinfo=None)
    shown = datetime.strptime(due.input_value(), "%Y-%m-%d %H:%M")
    assert abs(shown - office_now) < timedelta(minutes=2), (shown, office_now)

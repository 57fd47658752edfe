"""A client in Chromium refers a friend: from home, on a phone and on a desktop, a mistake
first (no email address nor phone number), then the thank-you; the friend is a lead."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from app.services import portal_accounts
from models import Record, RecordKind, User, db
from tests import factories
from tests.browser.test_admin_browser import watch_console
from tests.browser.test_portal_documents_browser import overflow, sign_in
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser


@pytest.fixture
def referrer(app: Flask) -> dict[str, Any]:
    with app.app_context():
        staff = factories.staff(email="rhea.adviser@example.com")
        record = factories.record(
            first_name="Reginald",
            last_name="Referrer-Worthington",
            email="reginald@example.com",
            assigned_agent_id=staff.id,
        )
        portal_accounts.enable_self_service(record, db.session.get(User, staff.id))
        db.session.commit()
        return {"record_id": record.id, "staff_id": staff.id, **_credentials(record.id)}


@pytest.mark.parametrize("width", [360, 1280])
def test_a_client_refers_a_friend(
    browser: Browser, base_url: str, app: Flask, referrer: dict[str, Any], width: int
):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems = watch_console(page)
    sign_in(page, base_url, referrer)

    page.get_by_role("link", name="Know someone we could help? Refer a friend").click()
    expect(page).to_have_url(re.compile("/portal/referral$"))
    expect(page.get_by_role("heading", name="Refer a friend", level=1)).to_be_visible()
    assert overflow(page) <= 0, "the referral page scrolls sideways"

    page.get_by_label("Their first name").fill("Francesca")
    page.get_by_label("Their last name").fill("Friendly-Montgomery")
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_text("Give an email address or a phone number.")).to_be_visible()
    expect(page.get_by_label("Their first name")).to_have_value("Francesca")
    assert overflow(page) <= 0

    page.get_by_label("Their phone number").fill("(614) 555-0142")
    page.get_by_label("Anything we should know?").fill("Retiring next spring.")
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you for your referral")
    expect(page.get_by_label("Their first name")).to_have_value("")
    assert overflow(page) <= 0
    context.close()
    assert problems == []

    with app.app_context():
        lead = db.session.scalar(select(Record).where(Record.kind == RecordKind.LEAD))
        assert lead is not None and lead.full_name == "Francesca Friendly-Montgomery"
        assert lead.phone == "+16145550142" and lead.source == "Referral"
        assert lead.assigned_agent_id == referrer["staff_id"]

"""In Chromium: after repeated wrong passwords from this browser's address, the staff sign-in
form answers the right password exactly as it answers a wrong one, and the owner gets one
email saying sign-in from that address was paused."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from models import OutboxMessage, db
from tests import factories

pytestmark = pytest.mark.browser


def _try(page: Page, base_url: str, email: str, password: str) -> str:
    page.goto(f"{base_url}/staff/login")
    page.get_by_label("Email Address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    return page.locator("main").inner_text()


def test_a_paused_sign_in_tells_the_right_password_nothing(app, page: Page, base_url):
    with app.app_context():
        factories.staff(role="admin", email="ada@example.com", first_name="Ada")
        db.session.commit()
    for _ in range(app.config["PORTICO_STAFF_LOCKOUT_FAILURES"]):
        _try(page, base_url, "ada@example.com", "a wrong guess")
    wrong = _try(page, base_url, "ada@example.com", "a wrong guess")
    right = _try(page, base_url, "ada@example.com", factories.PASSWORD)
    assert right == wrong and "paused" not in right
    expect(page).to_have_url(re.compile(r"/staff/login"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    with app.app_context():
        mail = db.session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in mail] == ["ada@example.com"]
    assert "from the address 127.0.0.1" in mail[0].body_text

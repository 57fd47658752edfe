"""A staff member in Chromium (1280 px) sets up certificates of insurance for a client: a
policy's limits through the Limits page's widgets (rows typed, one added, one removed), a new
certificate ticking two policies, then *Client Center* enabled with the "I understand" tick;
the Certificates tab says Enabled and no script was refused."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from models import CertificateMaster, Product, RecordKind, db
from tests import cert_factories, factories
from tests.browser.test_admin_browser import blocked_scripts, sign_in, watch_console

pytestmark = pytest.mark.browser


@pytest.fixture
def office(app, mailbox):
    with app.app_context():
        agent = factories.staff(
            role="agent", email="cora.agent@example.com", first_name="Cal", last_name="Cert"
        )
        record = factories.record(
            first_name="Bea",
            last_name="Builder",
            company_name="Bea Builds LLC",
            email="bea@example.com",
            kind=RecordKind.CLIENT,
            assigned_agent_id=agent.id,
        )
        gl = cert_factories.policy(record, carrier="Acme Mutual", number="GL-7001", limits=[])
        auto = cert_factories.policy(
            record,
            carrier="Harbour Casualty",
            number="CA-7002",
            coverage="Commercial auto",
            limits=cert_factories.AUTO,
        )
        ids = {"record": record.id, "gl": gl.id, "auto": auto.id}
    mailbox.clear()
    return ids


def test_staff_add_limits_create_a_certificate_and_enable_client_center(
    app, page: Page, base_url, office
):
    page.set_viewport_size({"width": 1280, "height": 900})
    problems = watch_console(page)
    sign_in(page, base_url, "cora.agent@example.com")
    page.goto(f"{base_url}/admin/record/details/?id={office['record']}", wait_until="load")
    page.get_by_role("tab", name=re.compile("Products")).click()
    page.locator("#pane-products tr", has_text="GL-7001").get_by_role("link", name="Limits").click()

    expect(page.get_by_role("heading", name=re.compile("Limits"))).to_be_visible()
    labels = page.get_by_label("Coverage line")
    amounts = page.get_by_label("Amount")
    expect(labels).to_have_count(3)
    labels.nth(0).fill("Each occurrence")
    amounts.nth(0).fill("1,000,000")
    labels.nth(1).fill("To be removed")
    amounts.nth(1).fill("5")
    labels.nth(2).fill("General aggregate")
    amounts.nth(2).fill("2000000")
    page.get_by_role("button", name="Add a row").click()
    expect(labels).to_have_count(4)
    labels.nth(3).fill("Personal and advertising injury")
    amounts.nth(3).fill("1,000,000")
    page.get_by_role("button", name="Remove this row").nth(1).click()
    expect(labels).to_have_count(3)
    page.get_by_role("button", name="Save limits").click()
    expect(page.get_by_text(re.compile("Limits saved"))).to_be_visible()
    expect(page.get_by_label("Coverage line").nth(0)).to_have_value("Each occurrence")
    with app.app_context():
        saved = db.session.get(Product, office["gl"])
        assert [(x.label, x.amount) for x in saved.limits] == [
            ("Each occurrence", Decimal("1000000")),
            ("General aggregate", Decimal("2000000")),
            ("Personal and advertising injury", Decimal("1000000")),
        ]

    page.locator(".breadcrumb a").first.click()
    page.get_by_role("tab", name=re.compile("Certificates")).click()
    expect(page.get_by_text("No certificates yet.")).to_be_visible()
    page.get_by_role("link", name="New certificate").click()
    page.get_by_label("Name").fill("Liability and auto for landlords")
    page.get_by_label(re.compile("GL-7001")).check()
    page.get_by_label(re.compile("CA-7002")).check()
    page.get_by_label("Description of operations").fill("Residential building\nand repairs.")
    page.get_by_role("button", name="Save").click()

    master = page.locator(".pt-cert-master", has_text="Liability and auto for landlords")
    expect(master).to_be_visible()
    expect(master.locator(".pt-cert-state")).to_have_text("Disabled")
    expect(master).to_contain_text("Each occurrence 1,000,000")
    expect(master).to_contain_text("Combined single limit 1,000,000")
    master.get_by_label(re.compile("I understand that the client")).check()
    master.get_by_role("button", name="Enable Client Center").click()

    master = page.locator(".pt-cert-master", has_text="Liability and auto for landlords")
    expect(master.locator(".pt-cert-state")).to_have_text("Enabled")
    expect(master.get_by_role("button", name="Disable Client Center")).to_be_visible()
    assert blocked_scripts(problems) == []
    with app.app_context():
        [created] = db.session.query(CertificateMaster).all()
        assert created.shared and sorted(p.policy_number for p in created.policies) == [
            "CA-7002",
            "GL-7001",
        ]

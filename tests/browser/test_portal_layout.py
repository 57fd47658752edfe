"""Every portal page, as a client opens it, on a small phone (360 px) and on a desktop.

The pages are not listed by hand: every GET route of the portal blueprint is opened, so a new
page is covered the day it is added (a page with URL arguments needs its example in
``EXAMPLES``, and the test says so). A page fails when it scrolls sideways, logs a console error
or a Content-Security-Policy refusal, or loads an asset that fails. The client has long data (a
60-character email address, a long carrier name, a long street) so wrapping is tried too.

Set ``PORTICO_SCREENSHOTS=/some/dir`` to keep a full-page screenshot of each page.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.services import conversations, invitations, password_resets, portal_accounts, reviews
from app.services.portal_settings import get_settings
from models import (
    Contact,
    ContactRole,
    OutboxMessage,
    Prescription,
    ProductStatus,
    Provider,
    SignInSession,
    db,
)
from tests import cert_factories, factories
from tests.browser.test_admin_browser import sign_in, watch_console
from tests.conftest import Mailbox, run_jobs
from tests.views.test_portal_signin import _credentials

pytestmark = pytest.mark.browser

LONG_EMAIL = "maximilian.worthington-smythe.household@long-family-name.example"
assert len(LONG_EMAIL) >= 60
LONG_CARRIER = "Blue Cross and Blue Shield of Northeastern Pennsylvania Incorporated"
VIEWPORTS = {"phone": (360, 740), "desktop": (1280, 800)}

#: Portal routes that are not pages a person opens.
#: Answers that are not pages: assets, the API document, and a document's file or its link.
NOT_PAGES = {
    "portal.static",
    "portal.branding_css",
    "portal.logo",
    "portal.openapi",
    "portal.document_download",
    "portal.document_view",
    "portal.document_link",
    "portal.request_file",
    "portal.sign_page_image",
    "portal.sign_download",
    "portal.certificate_download",
}
#: Pages a signed-out visitor sees; every other page is opened signed in.
SIGNED_OUT = {
    "portal.signin",
    "portal.password_sign_in",
    "portal.code_request",
    "portal.code_verify",
    "portal.choose_account",
    "portal.reset_request",
    "portal.reset_password",
    "portal.accept_invitation",
    "portal.link_sign_in",
}
#: Pages only reached by a step before them (they need what that step keeps in the session).
REACHED_BY_FLOW = {"portal.code_verify", "portal.choose_account"}


def _entries(data: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    return [
        ({"list_key": list_key, "entry_id": entry_id}, 200)
        for list_key, entry_id in data["entries"].items()
    ]


#: Example URL arguments of each page that has some, as (arguments, expected status) pairs.
EXAMPLES: dict[str, Callable[[dict[str, Any]], list[tuple[dict[str, Any], int]]]] = {
    "portal.code_request": lambda d: [({"channel": "email"}, 200), ({"channel": "sms"}, 200)],
    "portal.link_sign_in": lambda d: [({"token": d["token"]}, 200), ({"token": "gone"}, 404)],
    "portal.accept_invitation": lambda d: [
        ({"token": d["invitation"]}, 200),
        ({"token": "gone"}, 404),
    ],
    "portal.reset_password": lambda d: [({"token": d["reset"]}, 200), ({"token": "x.y"}, 404)],
    "portal.edit_care_entry": _entries,
    "portal.delete_care_entry": _entries,
    "portal.request_thread": lambda d: [
        ({"conversation_id": d["request"]}, 200),
        ({"conversation_id": 10**6}, 404),
    ],
    "portal.request_new_type": lambda d: [({"key": "personal-change"}, 200), ({"key": "x"}, 404)],
    # The signing page itself is swept in test_portal_signing_browser (a request to sign).
    "portal.sign_page": lambda d: [({"signer_id": 10**6}, 404)],
    "portal.sign_link": lambda d: [({"token": "gone"}, 404)],
    "portal.certificate_holder": lambda d: [
        ({"master_id": d["certificate_master"]}, 200),
        ({"master_id": 10**6}, 404),
    ],
    # A certificate's page is swept in test_portal_certificates_browser (one issued).
    "portal.certificate_ready": lambda d: [({"certificate_id": 10**6}, 404)],
}


@pytest.fixture
def household(app: Flask) -> dict[str, Any]:
    """A client whose every value is long, a partner sharing the mailbox (so signing in by code
    asks whose portal), an invited contact person and a password reset on its way."""
    with app.app_context():
        staff = factories.staff(
            email="bartholomew.adviser-longname@insurance-office.example",
            first_name="Bartholomew",
            last_name="Adviser-Longname",
        )
        record = factories.record(
            first_name="Maximilian",
            last_name="Worthington-Smythe",
            email=LONG_EMAIL,
            mobile="+16145550101",
            address_line1="12345 North Extraordinarilylongstreetname Boulevard",
            address_line2="Apartment 1234, Building Seventeen",
            city="Chillicothe",
            state="OH",
            postal_code="45601-1234",
            date_of_birth=date(1951, 4, 2),
            assigned_agent_id=staff.id,
        )
        factories.product(
            record,
            carrier=LONG_CARRIER,
            plan_name="Medicare Advantage Prestige Preferred Provider Organization Plus",
            policy_number="H1234-567-89012345678901234",
            status=ProductStatus.ACTIVE,
            effective_date=date(2026, 1, 1),
            client_access=True,
        )
        factories.product(record, carrier="Humana", status=ProductStatus.ACTIVE, client_access=True)
        get_settings().module_certificates = True  # the certificates pages, a master shared
        certificate_master = cert_factories.master(record, list(record.products))
        co_applicant = Contact(
            record_id=record.id,
            role=ContactRole.CO_APPLICANT,
            first_name="Wilhelmina",
            last_name="Worthington-Smythe",
            relationship_to_record="Spouse",
            email=LONG_EMAIL,
        )
        helper = Contact(
            record_id=record.id,
            role=ContactRole.CONTACT_PERSON,
            first_name="Cornelius",
            last_name="Trustworthy-Neighbour",
            relationship_to_record="Neighbour",
            email="cornelius.trustworthy-neighbour@another-long-domain.example",
        )
        db.session.add_all([co_applicant, helper])
        prescription = Prescription(
            record_id=record.id,
            drug_name="Hydrochlorothiazide-Lisinopril-Extended-Release",
            strength="12.5 mg / 20 mg",
            frequency="once a day",
            notes="Pharmacy: https://pharmacy.example/prescriptions/refill/1234567890abcdef",
        )
        provider = Provider(
            record_id=record.id,
            name="Dr Alexandria Konstantinopoulou-Richardson",
            specialty="Cardiothoracic surgery",
            phone="+16145550199",
            address="Ohio State University Wexner Medical Center, 410 West 10th Avenue",
        )
        db.session.add_all([prescription, provider])
        db.session.flush()
        portal_accounts.enable_self_service(record, staff)
        partner = factories.record(first_name="Pat", last_name="Partner", email=LONG_EMAIL)
        portal_accounts.enable_self_service(partner, staff)
        invitations.invite(record, staff, contact=helper)
        get_settings().module_reviews = True  # the review page, and home's banner asking for one
        reviews.request_review(record, staff)
        asked = conversations.send_request(  # a thread with a long address and a file
            record,
            staff,
            "Please send the declarations page of your homeowners policy for the renewal",
            "See https://carrier.example/very/long/path/to/the/declarations-page-instructions"
            "-for-homeowners-renewals-2026?reference=H1234-567-89012345678901234",
            [conversations.Upload(BytesIO(b"%PDF-1.4\n%%EOF\n"), "a-" + "long-" * 12 + ".pdf")],
        )
        db.session.commit()
        credentials = _credentials(record.id)
        password_resets.request_password_reset(LONG_EMAIL)
        db.session.commit()
        invitation = reset = None
        for message in db.session.scalars(select(OutboxMessage)):
            if found := re.search(r"/portal/invite/([\w-]+)", message.body_text):
                invitation = found.group(1)
            if found := re.search(r"/portal/reset/([\w.-]+)", message.body_text):
                reset = found.group(1)
        return {
            **credentials,
            "record_id": record.id,
            "staff_email": staff.email,
            "invitation": invitation,
            "reset": reset,
            "entries": {"prescriptions": prescription.id, "providers": provider.id},
            "request": asked.id,
            "certificate_master": certificate_master.id,
        }


def latest_code(app: Flask, mailbox: Mailbox) -> str:
    """The code as the client reads it in their mail (codes go out from a job)."""
    run_jobs(app)
    codes = [
        str(message["Subject"]).rsplit(" ", 1)[-1]
        for message in mailbox.to(LONG_EMAIL)
        if str(message["Subject"]).startswith("Your sign-in code")
    ]
    assert codes, "no sign-in code arrived"
    return codes[-1]


def page_rules(app: Flask) -> dict[str, Any]:
    """The portal's GET routes that are pages, by endpoint."""
    return {
        rule.endpoint: rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("portal.")
        and "GET" in (rule.methods or ())
        and rule.endpoint not in NOT_PAGES
        and not rule.rule.startswith("/portal/api/")
    }


def example_urls(app: Flask, data: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    urls: dict[str, list[tuple[str, int]]] = {}
    with app.test_request_context():
        from flask import url_for

        for endpoint, rule in sorted(page_rules(app).items()):
            if endpoint in REACHED_BY_FLOW:
                continue
            if rule.arguments:
                assert endpoint in EXAMPLES, (
                    f"{endpoint} ({rule.rule}) needs example arguments in EXAMPLES"
                )
                urls[endpoint] = [
                    (url_for(endpoint, **args), status) for args, status in EXAMPLES[endpoint](data)
                ]
            else:
                urls[endpoint] = [(url_for(endpoint), 200)]
    return urls


class Sweep:
    """Opens pages in one browser page and collects what is wrong with each."""

    def __init__(self, page: Page, base_url: str, viewport: str) -> None:
        self.page = page
        self.base_url = base_url
        self.viewport = viewport
        self.console = watch_console(page)
        self.failed: list[str] = []
        page.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        self.problems: list[str] = []
        self.seen: list[str] = []
        self.shots = os.environ.get("PORTICO_SCREENSHOTS")

    def open(self, endpoint: str, path: str, status: int = 200) -> None:
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None
        if response.status != status:
            self.problems.append(f"{path}: status {response.status}, expected {status}")
        landed = self.page.url.removeprefix(self.base_url).split("?")[0]
        if landed != path:
            self.problems.append(f"{path}: redirected to {landed}")
        self.check(endpoint, path, expected_status=status)

    def check(self, endpoint: str, path: str, expected_status: int = 200) -> None:
        """A page answered with an error status on purpose (a 404 page, the 403 that asks a
        client to confirm it's them) logs that status in the console: that one is expected."""
        page = self.page
        page.wait_for_load_state("load")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wide = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                    .slice(-3).map(e => e.tagName + '.' + e.className + ': '
                    + (e.textContent || '').trim().slice(0, 40))"""
            )
            self.problems.append(f"{path}: scrolls sideways by {overflow}px ({wide})")
        if expected_status >= 400:
            self.console[:] = [m for m in self.console if f"status of {expected_status}" not in m]
            self.failed[:] = [f for f in self.failed if not f.startswith(f"{expected_status} ")]
        for message in self.console:
            self.problems.append(f"{path}: console: {message}")
        for failure in self.failed:
            self.problems.append(f"{path}: request failed: {failure}")
        self.console.clear()
        self.failed.clear()
        self.seen.append(endpoint)
        if self.shots:
            directory = Path(self.shots)
            directory.mkdir(parents=True, exist_ok=True)
            name = f"{self.viewport}-{endpoint.split('.')[-1]}-{self.seen.count(endpoint)}.png"
            page.screenshot(path=str(directory / name), full_page=True)


def sweep(
    browser: Browser,
    base_url: str,
    app: Flask,
    data: dict[str, Any],
    viewport: str,
    mailbox: Mailbox,
) -> Sweep:
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    visit = Sweep(page, base_url, viewport)
    urls = example_urls(app, data)
    for endpoint in sorted(urls):
        if endpoint in SIGNED_OUT:
            for path, status in urls[endpoint]:
                visit.open(endpoint, path, status)

    # One-time code by email: the mailbox is shared, so the portal asks whose portal to open.
    visit.open("portal.code_request", "/portal/code/email")
    page.get_by_label("Email address").fill(LONG_EMAIL)
    page.get_by_role("button", name="Send me a code").click()
    expect(page).to_have_url(re.compile("/portal/code/verify$"))
    visit.check("portal.code_verify", "/portal/code/verify")
    page.get_by_label("6-digit code").fill(latest_code(app, mailbox))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile("/portal/code/choose$"))
    visit.check("portal.choose_account", "/portal/code/choose")
    page.get_by_label("Maximilian Worthington-Smythe").check()
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile("/portal/home$"))

    for endpoint in sorted(urls):
        if endpoint not in SIGNED_OUT:
            for path, status in urls[endpoint]:
                visit.open(endpoint, path, status)

    # My details with what a save adds to it: field errors, and a new mobile waiting for its code.
    visit.open("portal.details", "/portal/details")
    contact = page.locator("#section-contact")
    contact.get_by_label("Phone", exact=True).fill("12")
    contact.get_by_role("button", name="Save phone and email").click()
    expect(contact.locator(".pt-field-error")).to_be_visible()
    expect(contact.get_by_label("Mobile phone")).to_have_value("(614) 555-0101")
    visit.check("portal.details", "/portal/details")
    contact.get_by_label("Phone", exact=True).fill("")
    contact.get_by_label("Mobile phone").fill("(614) 555-0177")
    contact.get_by_role("button", name="Save phone and email").click()
    expect(page.get_by_role("button", name="Confirm mobile phone")).to_be_visible()
    visit.check("portal.details", "/portal/details")

    # ...and the "Confirm it's you" step, once the sign-in is older than a change allows.
    with app.app_context():
        for row in db.session.scalars(select(SignInSession)):
            row.created_at -= timedelta(hours=1)
        db.session.commit()
    contact.get_by_label("Mobile phone").fill("(614) 555-0178")
    contact.get_by_role("button", name="Save phone and email").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    expect(contact.get_by_label("Mobile phone")).to_have_value("(614) 555-0178")  # as typed
    visit.check("portal.details", "/portal/details", expected_status=403)
    context.close()
    return visit


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_portal_page_fits_without_errors(
    browser: Browser, base_url, app, household, viewport, mailbox
):
    visit = sweep(browser, base_url, app, household, viewport, mailbox)
    assert visit.problems == [], "\n".join(visit.problems)
    assert set(visit.seen) == set(page_rules(app))


def _sign_in(page: Page, base_url: str, data: dict[str, Any]) -> None:
    page.goto(f"{base_url}/portal/a/{data['token']}", wait_until="load")
    page.get_by_label("Password").fill(data["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile("/portal/home$"))


def test_the_menu_button_on_a_phone_works_by_touch_and_keyboard(
    browser: Browser, base_url, household
):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    problems = watch_console(page)
    _sign_in(page, base_url, household)
    menu = page.get_by_role("button", name="Menu")
    details = page.get_by_role("link", name="My details")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_have_attribute("aria-controls", "pt-menu")
    expect(details).to_be_hidden()

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(details).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.keyboard.press("Escape")  # closes, and focus goes back to the button
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(details).to_be_hidden()

    page.keyboard.press("Enter")
    expect(details).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # Home, then My details
    expect(details).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/portal/details$"))
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("heading", name="My details").click()  # a tap elsewhere closes it
    expect(page.get_by_role("link", name="Home")).to_be_hidden()
    context.close()
    assert problems == []


def test_on_a_desktop_the_navigation_is_one_row_without_a_menu_button(
    browser: Browser, base_url, household
):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _sign_in(page, base_url, household)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    links = [page.get_by_role("link", name=name, exact=True) for name in ("Home", "Providers")]
    sign_out = page.get_by_role("button", name="Sign out")
    tops = {round(item.bounding_box()["y"]) for item in (*links, sign_out)}
    assert len(tops) == 1, tops  # Sign out on the same line as the rest
    context.close()


def test_without_scripts_the_navigation_stays_open_and_the_page_fits(
    browser: Browser, base_url, household
):
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, base_url, household)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("link", name="My details")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name="Prescriptions").click()
    page.get_by_role("link", name=re.compile("^Remove Hydrochlorothiazide")).click()
    page.get_by_role("button", name="Yes, remove it").click()
    expect(
        page.get_by_text("Removed Hydrochlorothiazide-Lisinopril-Extended-Release.")
    ).to_be_visible()
    context.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_the_staff_preview_of_every_screen_fits_too(
    browser: Browser, base_url, app, household, viewport
):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, base_url, household["staff_email"])  # the staff panel's own layout
    width, height = VIEWPORTS[viewport]
    page.set_viewport_size({"width": width, "height": height})
    visit = Sweep(page, base_url, f"{viewport}-preview")
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("portal_preview.") and "GET" in (rule.methods or ())
    ]
    assert rules
    with app.test_request_context():
        from flask import url_for

        urls = []
        for rule in rules:
            # A page with arguments in the path: its first example that opens (a thread).
            name = "portal." + rule.endpoint.split(".", 1)[1]
            args = EXAMPLES[name](household)[0][0] if name in EXAMPLES else {}
            urls.append(
                (rule.endpoint, url_for(rule.endpoint, record_id=household["record_id"], **args))
            )
    for endpoint, path in sorted(urls):
        visit.open(endpoint, path)
    context.close()
    assert visit.problems == [], "\n".join(visit.problems)

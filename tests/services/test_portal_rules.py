"""Rules the portal, its JSON API, jobs and journeys share, written once in the services:
which modules are on, which ways of signing in are open, which products a client sees."""

from datetime import date

import pytest

from app.services import contacts, portal_settings, portal_sign_in, products
from app.services.errors import ValidationError
from app.services.portal_settings import get_settings
from app.services.portal_sign_in import SignInFailed, SignInMethodOff
from models import Channel, Contact, ContactRole, db
from tests import factories


def test_module_enabled_follows_the_switch_and_knows_only_built_modules(ctx):
    settings = get_settings()
    settings.module_rx, settings.module_providers = True, False
    settings.module_certificates = True
    assert portal_settings.module_enabled("prescriptions")
    assert not portal_settings.module_enabled("providers")
    assert portal_settings.module_enabled("certificates")
    assert not portal_settings.module_enabled("no such module")


def test_sign_in_methods_read_the_switches(ctx):
    settings = get_settings()
    settings.allow_password_sign_in = False
    assert portal_settings.sign_in_methods() == {
        "link": True,
        "password": False,
        "email_code": True,
        "sms_code": True,
    }


def test_a_way_of_signing_in_that_is_off_is_refused_before_any_work(ctx):
    settings = get_settings()
    settings.allow_link_sign_in = settings.allow_password_sign_in = False
    settings.allow_email_code_sign_in = settings.allow_sms_code_sign_in = False
    calls = [
        lambda: portal_sign_in.sign_in_with_link("token", "password"),
        lambda: portal_sign_in.sign_in_with_password("cleo@example.com", "password"),
        lambda: portal_sign_in.ask_for_code(Channel.EMAIL, "cleo@example.com"),
        lambda: portal_sign_in.verify_code(Channel.SMS, "+12025550143", "123456"),
    ]
    for call in calls:
        with pytest.raises(SignInMethodOff) as caught:
            call()
        assert isinstance(caught.value, SignInFailed)  # callers that catch it show it
    portal_sign_in.request_code(Channel.EMAIL, "cleo@example.com")  # the job: silent


def test_office_contact_is_tidied_with_the_settings(ctx):
    settings = get_settings()
    settings.office_email, settings.office_phone = " Office@Example.com ", "(202) 555-0100"
    portal_settings.save_settings(settings)
    assert settings.office_email == "Office@example.com"
    assert settings.office_phone == "+12025550100"
    settings.office_phone = "12"
    with pytest.raises(ValidationError) as caught:
        portal_settings.save_settings(settings)
    assert caught.value.field == "office_phone"
    db.session.rollback()


def test_a_client_sees_the_shared_products_newest_first(ctx):
    record = factories.record(first_name="Cleo", last_name="Client")
    other = factories.record(first_name="Otto", last_name="Other")
    old = factories.product(record, client_access=True, effective_date=date(2024, 1, 1))
    new = factories.product(record, client_access=True, effective_date=date(2026, 1, 1))
    undated = factories.product(record, client_access=True)
    factories.product(record, client_access=False)
    factories.product(other, client_access=True)
    shown = products.visible_to_client(record)
    assert shown == [new, old, undated]
    assert shown[0].coverage_type.name  # loaded with the product


def test_the_people_on_a_record_co_applicant_first(ctx):
    record = factories.record(first_name="Cleo", last_name="Client")
    record.contacts = []
    db.session.flush()
    helper = Contact(
        record_id=record.id, role=ContactRole.CONTACT_PERSON, first_name="Hal", last_name="P"
    )
    partner = Contact(
        record_id=record.id, role=ContactRole.CO_APPLICANT, first_name="Pat", last_name="C"
    )
    db.session.add_all([helper, partner])
    db.session.flush()
    assert contacts.of_record(record) == [partner, helper]

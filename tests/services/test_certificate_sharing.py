"""The client's side of certificates: the shared masters each account of a record sees, adding
a holder (Yes: a sealed certificate at once; No: a request to the agent with the reason),
downloads, *Request new certificate*, and everything another client's account is refused."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app import pdf
from app.services import conversation_access, documents
from app.services.certificates import client_certificates as client
from app.services.errors import NotFound, ValidationError
from models import (
    AccessAction,
    AccountStatus,
    ActivityEntry,
    ConversationKind,
    ConversationStatus,
    DocumentAccess,
    PortalAccount,
    ProductStatus,
    RecordKind,
    Task,
    db,
)
from tests import cert_factories, sign_factories
from tests.conftest import body_of, run_jobs


def _events(key: str) -> list[ActivityEntry]:
    return list(db.session.scalars(select(ActivityEntry).where(ActivityEntry.event_key == key)))


@pytest.fixture
def client_setup(ctx):
    record = cert_factories.client_with_certificates()
    [master] = cert_factories.masters_of(record)
    return record, cert_factories.account_of(record), master


def _add(master, account, **values):
    values.setdefault("name", "Harbour Landlords LLC")
    values.setdefault("address", "1 Quay Street\r\nPortland ME 04101")
    values.setdefault("email", None)
    values.setdefault("meets", True)
    values.setdefault("understood", True)
    return client.add_holder(master, account, **values)


def test_yes_issues_a_sealed_certificate_with_the_holder_and_each_policy_number(client_setup):
    _record, account, master = client_setup
    holder = _add(master, account, email="Leases@Harbour.example.com")
    db.session.commit()
    [certificate] = holder.certificates
    assert holder.meets_requirements and holder.conversation is None
    assert holder.address == "1 Quay Street\nPortland ME 04101"
    assert holder.added_by_account_id == account.id
    data = client.download(certificate, account)
    db.session.commit()
    assert pdf.verify(data).ok
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Harbour Landlords LLC" in text and certificate.number in text
    for policy in master.policies:
        assert policy.policy_number in text
    assert client.certificates_for_account(account) == [certificate]
    assert client.certificate_for_account(account, certificate.id) is certificate
    [added] = _events("portal.certificate_holder.added")
    assert added.details["certificate"] == certificate.number
    assert added.actor_account_id == account.id
    [downloaded] = _events("portal.certificate.downloaded")
    assert downloaded.details["certificate"] == certificate.number
    access = db.session.scalar(
        select(DocumentAccess).where(DocumentAccess.document_id == certificate.document_id)
    )
    assert access.action == AccessAction.DOWNLOADED and access.account_id == account.id
    # Not one of the client's shared documents: it is reached through the certificate pages.
    assert not certificate.document.shared


def test_yes_needs_the_tick_and_no_needs_a_reason(client_setup):
    _record, account, master = client_setup
    with pytest.raises(ValidationError, match="understand") as refused:
        _add(master, account, understood=False)
    assert refused.value.field == "understood"
    with pytest.raises(ValidationError, match="why") as refused:
        _add(master, account, meets=False, understood=False, reason="  ")
    assert refused.value.field == "reason"
    with pytest.raises(ValidationError, match="2,000") as refused:
        _add(master, account, meets=False, reason="x" * 2001)
    assert master.holders == []


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": "  "}, "name", "name"),
        ({"name": "x" * 161}, "name", "160"),
        ({"name": "Two\nlines"}, "name", "one line"),
        ({"name": "Bell\x07"}, "name", "control character"),
        ({"address": "\n".join(["line"] * 6)}, "address", "5 lines"),
        ({"address": "y" * 61}, "address", "60"),
        ({"address": "\n".join(["z" * 60] * 5) + "zz"}, "address", "60"),
        ({"address": "Nul \x00 byte"}, "address", "control character"),
        ({"email": "not-an-email"}, "email", "valid email"),
    ],
)
def test_bad_holder_fields_are_refused_by_field(client_setup, values, field, message):
    _record, account, master = client_setup
    with pytest.raises(ValidationError, match=message) as refused:
        _add(master, account, **values)
    assert refused.value.field == field


def test_markup_in_a_name_is_kept_as_typed_and_printed_as_text(client_setup):
    _record, account, master = client_setup
    holder = _add(master, account, name="<script>alert(1)</script>", address="Rue de l'Église 5")
    db.session.commit()
    assert holder.name == "<script>alert(1)</script>"
    data = client.download(holder.certificates[0], account)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "<script>alert(1)</script>" in text and "Église" in text


def test_no_becomes_a_request_the_agent_is_emailed_about_with_a_task(app, mailbox, client_setup):
    record, account, master = client_setup
    db.session.commit()
    run_jobs(app)  # the portal link and password of the set-up
    mailbox.clear()
    holder = _add(
        master,
        account,
        name="Granite Builders Inc",
        meets=False,
        understood=False,
        reason="They need $5,000,000 umbrella cover.\nAnd waiver of subrogation.",
    )
    db.session.commit()
    assert holder.certificates == [] and not holder.meets_requirements
    conversation = holder.conversation
    assert conversation.kind == ConversationKind.CLIENT_REQUEST
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.subject == "Certificate request: Granite Builders Inc"
    assert conversation.account_id == account.id
    assert conversation.assignee_id == record.assigned_agent_id
    [message] = conversation.messages
    assert message.side == "client" and "umbrella" in message.body
    assert conversation in conversation_access.of_record(record)  # the record's Requests tab
    task = db.session.scalar(select(Task).where(Task.record_id == record.id))
    assert task is not None and task.assignee_id == record.assigned_agent_id
    [requested] = _events("portal.certificate.requested")
    assert requested.details["holder"] == "Granite Builders Inc"
    run_jobs(app)
    agent_email = record.assigned_agent.email
    mailbox.wait_for(2)  # the request, and (per the matrix) the holder added
    [mail] = [m for m in mailbox.to(agent_email) if "request" in str(m["Subject"])]
    assert "New certificate request" in str(mail["Subject"])
    assert "Granite Builders Inc" in str(mail["Subject"])
    body = body_of(mail)
    assert "Granite Builders Inc" in body and "umbrella cover" in body
    assert "waiver of subrogation" in body
    assert len(_events("portal.certificate_holder.added")) == 1


def test_every_holder_is_on_the_master_with_who_added_it(client_setup):
    record, account, master = client_setup
    contact = sign_factories.contact_person(record)
    other = PortalAccount(
        record_id=record.id,
        contact_id=contact.id,
        status=AccountStatus.ENABLED,
        email=contact.email,
    )
    db.session.add(other)
    db.session.flush()
    assert client.visible_masters(other) == [master]
    first = _add(master, account, name="First Holder")
    second = _add(master, other, name="Second Holder", meets=False, reason="Needs more.")
    db.session.commit()
    db.session.refresh(master)
    assert {(h.name, h.added_by_account_id) for h in master.holders} == {
        ("First Holder", account.id),
        ("Second Holder", other.id),
    }
    assert all(h.created_at is not None for h in master.holders)
    assert first.added_by_account.person_name == record.full_name
    assert second.added_by_account.person_name == contact.full_name
    # The household shares its certificates.
    assert client.certificates_for_account(other) == first.certificates


def test_another_clients_master_and_certificate_are_not_found(client_setup):
    _record, account, master = client_setup
    certificate = _add(master, account).certificates[0]
    other = cert_factories.client_with_certificates()
    stranger = cert_factories.account_of(other)
    for attempt in (
        lambda: client.master_for_account(stranger, master.id),
        lambda: client.master_for_account(stranger, "nope"),
        lambda: client.certificate_for_account(stranger, certificate.id),
        lambda: client.download(certificate, stranger),
        lambda: _add(master, stranger),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert master not in client.visible_masters(stranger)
    assert client.certificates_for_account(stranger) == []


def test_a_master_never_shared_is_not_found_and_a_lead_sees_none(client_setup):
    record, account, _master = client_setup
    draft = cert_factories.master(
        record, cert_factories.masters_of(record)[0].policies, shared=False
    )
    with pytest.raises(NotFound):
        client.master_for_account(account, draft.id)
    record.kind = RecordKind.LEAD
    db.session.flush()
    assert client.visible_masters(account) == []
    with pytest.raises(NotFound):
        client.request_new(account, message="Hello")


def test_a_lapsed_master_refuses_holders_and_downloads_from_an_open_page(client_setup):
    _record, account, master = client_setup
    certificate = _add(master, account).certificates[0]
    opened = client.master_for_account(account, master.id)  # the page the client has open
    yesterday = documents.office_today() - timedelta(days=1)
    for policy in master.policies:
        policy.end_date = yesterday
        policy.effective_date = yesterday - timedelta(days=30)
    master.policies[0].status = ProductStatus.CANCELLED
    db.session.commit()
    with pytest.raises(ValidationError, match=r"can no longer be issued.*contact your agent"):
        _add(opened, account, name="Too Late LLC")
    assert not master.shared
    assert client.master_for_account(account, master.id) is master  # a sentence, not a 404
    ok, message = client.usable(master)
    assert not ok and "contact your agent" in message
    with pytest.raises(ValidationError, match="can no longer be issued"):
        client.download(certificate, account)
    assert client.certificates_for_account(account) == []
    assert len(_events("certificate.share_ended")) == 1
    assert [h.name for h in master.holders] == ["Harbour Landlords LLC"]


def test_request_new_is_a_request_the_agent_hears_of(client_setup):
    record, account, _master = client_setup
    with pytest.raises(ValidationError, match="Write your message"):
        client.request_new(account, message="  ")
    conversation = client.request_new(
        account, message="A certificate naming our landlord as additional insured, please."
    )
    db.session.commit()
    assert conversation.subject == "Certificate request"
    assert conversation.kind == ConversationKind.CLIENT_REQUEST
    assert "additional insured" in conversation.messages[0].body
    [requested] = _events("portal.certificate.requested")
    assert requested.record_id == record.id and requested.details["holder"] is None
    assert db.session.scalar(select(Task).where(Task.record_id == record.id)) is not None

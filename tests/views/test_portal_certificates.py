"""Certificates in the portal, as a client uses them: the shared masters with their policies
and limits, adding a holder (Yes: a sealed certificate to download at once; No: a request the
agent is emailed about), *Your certificates*, *Request new certificate*, and the bad input:
the tick or the reason missing, a master whose policies left force, another client's master
or certificate, a holder named like a script."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app import pdf
from app.services import documents
from app.services.actors import Actor
from app.services.certificates import masters
from app.services.portal_settings import get_settings
from models import (
    CertificateHolder,
    CertificateMaster,
    Conversation,
    Product,
    Record,
    RecordKind,
    db,
)
from tests import cert_factories, factories
from tests.conftest import body_of, run_jobs
from tests.views.test_portal_signin import _credentials

SCRIPT = "<script>alert(1)</script>"


# -- fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def certificates_on(app: Any) -> None:
    with app.app_context():
        get_settings().module_certificates = True
        db.session.commit()


def make_client(app: Any, **kwargs: Any) -> dict[str, Any]:
    """A commercial client with a shared master over two policies: ids, the agent's email,
    the policy numbers and the client's credentials."""
    with app.app_context():
        record = cert_factories.client_with_certificates(**kwargs)
        [master] = cert_factories.masters_of(record)
        return {
            "record_id": record.id,
            "master_id": master.id,
            "agent": record.assigned_agent.email,
            "numbers": [p.policy_number for p in master.policies],
            "policy_ids": [p.id for p in master.policies],
            **_credentials(record.id),
        }


@pytest.fixture
def cleo(app: Any, certificates_on: None) -> dict[str, Any]:
    return make_client(app)


@pytest.fixture
def signed_in(client: Any, cleo: dict[str, Any]) -> Any:
    response = client.submit(f"/portal/a/{cleo['token']}", {"password": cleo["password"]})
    assert response.status_code == 302
    return client


def holder_url(master_id: int) -> str:
    return f"/portal/certificates/{master_id}/holder"


def add_holder(client: Any, master_id: int, **values: Any) -> Any:
    form = {"name": "Harbour Properties LLC", "address": "1 Quay Street\nPortland, ME 04101"}
    form.update(values)
    form = {key: value for key, value in form.items() if value is not None}
    return client.submit(holder_url(master_id), form)


def yes(client: Any, master_id: int, **values: Any) -> Any:
    return add_holder(client, master_id, meets="yes", understood="y", **values)


def holders(app: Any, master_id: int) -> list[CertificateHolder]:
    with app.app_context():
        found = list(
            db.session.scalars(
                select(CertificateHolder).where(CertificateHolder.master_id == master_id)
            )
        )
        for holder in found:
            _ = holder.added_by_account, holder.conversation
        db.session.expunge_all()
        return found


def issued_certificate(client: Any, master_id: int, **values: Any) -> str:
    """Adds a holder with a Yes: the address of its *Your certificate is ready* page."""
    response = yes(client, master_id, **values)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].startswith("/portal/certificates/issued/")
    return response.headers["Location"]


def agent_mail(mailbox: Any, address: str, subject: str, timeout: float = 10.0) -> list[Any]:
    """The mail to ``address`` whose subject has ``subject``, once it arrived (the agent's
    notices are delivered by jobs, in any order)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in mailbox.to(address) if subject in str(m["Subject"])]
        if found or time.monotonic() > deadline:
            assert found, [str(m["Subject"]) for m in mailbox.to(address)]
            return found
        time.sleep(0.05)


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# -- the page -----------------------------------------------------------------------------------


def test_the_page_lists_the_shared_masters_only_with_policies_and_limits(app, signed_in, cleo):
    with app.app_context():
        record = db.session.get(Record, cleo["record_id"])
        hidden_policy = cert_factories.policy(record, carrier="Quiet Mutual", number="UM-77")
        cert_factories.master(record, [hidden_policy], shared=False, name="Umbrella (not shared)")
    page = signed_in.get("/portal/certificates").get_data(as_text=True)
    assert "General liability and auto" in page
    assert "Umbrella (not shared)" not in page and "UM-77" not in page
    for number in cleo["numbers"]:
        assert number in page
    assert "Acme Mutual" in page and "Harbour Casualty" in page
    assert "Each occurrence" in page and "1,000,000" in page and "2,000,000" in page
    assert "Commercial cleaning of office buildings." in page
    assert holder_url(cleo["master_id"]) in page
    assert ">Certificates<" in page  # the navigation's entry


def test_module_off_leaves_no_page_and_no_entry(app, signed_in, cleo):
    with app.app_context():
        get_settings().module_certificates = False
        db.session.commit()
    for path in (
        "/portal/certificates",
        holder_url(cleo["master_id"]),
        "/portal/certificates/request",
        "/portal/certificates/thank-you",
    ):
        assert signed_in.get(path).status_code == 404, path
    assert ">Certificates<" not in signed_in.get("/portal/home").get_data(as_text=True)


def test_no_entry_for_a_client_without_certificates_but_the_page_answers(app, client):
    with app.app_context():
        get_settings().module_certificates = True
        staff = factories.staff(email="plain.agent@example.com")
        record = factories.record(
            kind=RecordKind.CLIENT, email="plain@example.com", assigned_agent_id=staff.id
        )
        from app.services import portal_accounts

        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        person = _credentials(record.id)
    client.submit(f"/portal/a/{person['token']}", {"password": person["password"]})
    assert ">Certificates<" not in client.get("/portal/home").get_data(as_text=True)
    page = client.get("/portal/certificates").get_data(as_text=True)
    assert "has not shared a certificate" in page and "Request new certificate" in page


def test_a_lead_has_no_certificates(app, client):
    with app.app_context():
        get_settings().module_certificates = True
        staff = factories.staff(email="lead.agent@example.com")
        record = factories.record(
            kind=RecordKind.LEAD, email="lee.lead@example.com", assigned_agent_id=staff.id
        )
        from app.services import portal_accounts

        portal_accounts.enable_self_service(record, staff)
        db.session.commit()
        person = _credentials(record.id)
    client.submit(f"/portal/a/{person['token']}", {"password": person["password"]})
    assert client.get("/portal/certificates").status_code == 404
    assert client.get("/portal/certificates/request").status_code == 404
    assert ">Certificates<" not in client.get("/portal/home").get_data(as_text=True)


# -- Yes ----------------------------------------------------------------------------------------


def test_yes_issues_a_sealed_certificate_to_download_at_once(app, signed_in, cleo):
    form_page = signed_in.get(holder_url(cleo["master_id"])).get_data(as_text=True)
    assert 'name="meets"' in form_page and 'name="understood"' in form_page
    assert 'name="reason"' in form_page and "certificates.js" in form_page
    ready = issued_certificate(signed_in, cleo["master_id"], name="Harbour Properties LLC")
    page = signed_in.get(ready).get_data(as_text=True)
    assert "Your certificate is ready" in page and "Harbour Properties LLC" in page
    assert "Download certificate" in page
    download = ready + "/download"
    assert download in page
    response = signed_in.get(download)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "private, no-store"
    text = text_of(response.data)
    assert "Harbour Properties LLC" in text
    for number in cleo["numbers"]:
        assert number in text
    with app.app_context():
        assert pdf.verify(response.data).ok
    [holder] = holders(app, cleo["master_id"])
    assert holder.meets_requirements and holder.added_by_account is not None
    listed = signed_in.get("/portal/certificates").get_data(as_text=True)
    assert "Your certificates" in listed and download in listed
    assert "Harbour Properties LLC" in listed


def test_yes_without_the_tick_is_refused(app, signed_in, cleo):
    response = add_holder(signed_in, cleo["master_id"], meets="yes")
    assert response.status_code == 422
    assert "pt-field-error" in response.get_data(as_text=True) or "pt-alert-error" in (
        response.get_data(as_text=True)
    )
    assert holders(app, cleo["master_id"]) == []


def test_no_answer_at_all_is_refused(app, signed_in, cleo):
    response = add_holder(signed_in, cleo["master_id"])
    assert response.status_code == 422
    assert "Answer yes or no." in response.get_data(as_text=True)
    assert holders(app, cleo["master_id"]) == []


def test_a_post_without_its_csrf_token_is_refused(app, signed_in, cleo):
    response = signed_in.post(
        holder_url(cleo["master_id"]),
        data={"name": "Harbour", "meets": "yes", "understood": "y"},
    )
    assert response.status_code == 400
    assert holders(app, cleo["master_id"]) == []


# -- No -----------------------------------------------------------------------------------------


def test_no_without_a_reason_is_refused(app, signed_in, cleo):
    response = add_holder(signed_in, cleo["master_id"], meets="no", reason="")
    assert response.status_code == 422
    assert holders(app, cleo["master_id"]) == []


def test_no_becomes_a_request_and_the_agent_is_emailed(app, signed_in, cleo, mailbox):
    response = add_holder(
        signed_in,
        cleo["master_id"],
        name="Granite Builders Inc",
        meets="no",
        reason="They need 5,000,000 per occurrence and a waiver of subrogation.",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/certificates/thank-you"
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "your agent will be in touch" in page
    [holder] = holders(app, cleo["master_id"])
    assert not holder.meets_requirements and holder.conversation is not None
    run_jobs(app)
    mails = agent_mail(mailbox, cleo["agent"], "New certificate request")
    body = "\n".join(body_of(m) for m in mails)
    assert "Granite Builders Inc" in body and "waiver of subrogation" in body


# -- a master no longer in force ----------------------------------------------------------------


def test_a_master_whose_policies_left_force_refuses_the_open_page(app, signed_in, cleo):
    assert signed_in.get(holder_url(cleo["master_id"])).status_code == 200
    token = signed_in.csrf_token(holder_url(cleo["master_id"]))
    with app.app_context():
        yesterday = documents.office_today() - timedelta(days=1)
        for policy_id in cleo["policy_ids"]:
            db.session.get(Product, policy_id).end_date = yesterday
        db.session.commit()
    response = signed_in.post(
        holder_url(cleo["master_id"]),
        data={
            "csrf_token": token,
            "name": "Late Landlord",
            "meets": "yes",
            "understood": "y",
        },
    )
    assert response.status_code in (404, 422)
    assert "can no longer be issued" in response.get_data(as_text=True)
    assert holders(app, cleo["master_id"]) == []
    with app.app_context():
        assert not db.session.get(CertificateMaster, cleo["master_id"]).shared


def test_the_entry_goes_once_the_only_shared_master_has_no_policy_in_force(app, signed_in, cleo):
    """The navigation asks first whether a master is shared (one query with its other
    numbers), then whether one is still in force: shared but lapsed shows no entry."""
    assert ">Certificates<" in signed_in.get("/portal/home").get_data(as_text=True)
    with app.app_context():
        yesterday = documents.office_today() - timedelta(days=1)
        for policy_id in cleo["policy_ids"]:
            db.session.get(Product, policy_id).end_date = yesterday
        db.session.commit()
    assert ">Certificates<" not in signed_in.get("/portal/home").get_data(as_text=True)


# -- other clients ------------------------------------------------------------------------------


def test_another_clients_master_and_certificate_are_404_on_every_route(app, client, cleo):
    other = make_client(app, company="Other Co")
    client.submit(f"/portal/a/{other['token']}", {"password": other["password"]})
    theirs = issued_certificate(client, other["master_id"])
    client.post("/portal/signout", data={"csrf_token": client.csrf_token("/portal/home")})
    client.submit(f"/portal/a/{cleo['token']}", {"password": cleo["password"]})
    assert client.get(holder_url(other["master_id"])).status_code == 404
    assert yes(client, cleo["master_id"]).status_code == 302  # the form is Cleo's own
    token = client.csrf_token(holder_url(cleo["master_id"]))
    refused = client.post(
        holder_url(other["master_id"]),
        data={"csrf_token": token, "name": "Sneaky", "meets": "yes", "understood": "y"},
    )
    assert refused.status_code == 404
    assert client.get(theirs).status_code == 404
    assert client.get(theirs + "/download").status_code == 404
    assert client.get("/portal/certificates/issued/999999").status_code == 404
    assert [h.name for h in holders(app, other["master_id"])] == ["Harbour Properties LLC"]
    page = client.get("/portal/certificates").get_data(as_text=True)
    assert theirs not in page


# -- bad input ----------------------------------------------------------------------------------


def test_a_holder_named_like_a_script_shows_as_text(app, signed_in, cleo):
    ready = issued_certificate(signed_in, cleo["master_id"], name=SCRIPT)
    for path in (ready, "/portal/certificates"):
        page = signed_in.get(path).get_data(as_text=True)
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    download = signed_in.get(ready + "/download")
    assert SCRIPT in text_of(download.data)


def test_a_download_from_another_site_opens_nothing(app, signed_in, cleo):
    ready = issued_certificate(signed_in, cleo["master_id"])
    response = signed_in.get(ready + "/download", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/certificates"


# -- request new certificate --------------------------------------------------------------------


def test_request_new_certificate_needs_a_message_and_reaches_the_agent(
    app, signed_in, cleo, mailbox
):
    page = signed_in.get("/portal/certificates/request").get_data(as_text=True)
    assert 'name="message"' in page
    empty = signed_in.submit("/portal/certificates/request", {"message": ""})
    assert empty.status_code == 422
    response = signed_in.submit(
        "/portal/certificates/request",
        {"message": "Please add Granite Builders as additional insured."},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/certificates/thank-you"
    with app.app_context():
        [conversation] = db.session.scalars(
            select(Conversation).where(Conversation.record_id == cleo["record_id"])
        )
        assert "additional insured" in conversation.messages[0].body


def test_a_master_no_longer_shared_shows_nothing_of_itself(app, signed_in, cleo):
    """Staff stop sharing and then change the master: the client's old links show the
    reason, never what staff changed since (a new policy, an internal description)."""
    certificate_url = issued_certificate(signed_in, cleo["master_id"])
    with app.app_context():
        master = db.session.get(CertificateMaster, cleo["master_id"])
        masters.unshare(master, actor=Actor.system())
        master.description_of_operations = "Internal: client not told yet"
        db.session.commit()
    for url in (holder_url(cleo["master_id"]), certificate_url):
        response = signed_in.get(url)
        assert (
            response.status_code == 302 and response.headers["Location"] == "/portal/certificates"
        )
        page = signed_in.get("/portal/certificates").get_data(as_text=True)
        assert "can no longer be issued" in page and "Internal: client not told yet" not in page

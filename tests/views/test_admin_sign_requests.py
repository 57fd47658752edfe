"""Sign requests in the staff panel: the record's Signing tab, step 1 (a real form with its
CSRF token, an uploaded PDF, signers, order, expiry, reminders), step 2 (fields posted as the
placer keeps them; one off the page refused, nothing lost), send (the signer's email at the
SMTP server), the request page (remind, cancel, the original and the signed PDF) and the ids
that lead nowhere."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from app.services import documents
from app.services.actors import Actor
from app.services.signing import disclosures, signing
from app.services.signing.signing_checks import SignatureInput
from models import (
    AccessAction,
    Document,
    DocumentAccess,
    RecordKind,
    SignerStatus,
    SignRequest,
    SignRequestStatus,
    db,
)
from tests import factories, sign_factories
from tests.conftest import body_of, run_jobs


def page_of(record_id: int) -> str:
    return f"/admin/record/details/?id={record_id}"


def new_url(record_id: int) -> str:
    return f"/admin/sign_requests/record/{record_id}/new/"


def placer_url(record_id: int, request_id: int) -> str:
    return f"/admin/sign_requests/record/{record_id}/{request_id}/fields/"


@pytest.fixture
def people(app, agent_user, mailbox) -> dict:
    """A client (email), a co-applicant (email) and a contact person without one."""
    with app.app_context():
        sign_factories.link_route()
        record = factories.record(
            first_name="Cleo",
            last_name="Client",
            email="cleo@example.com",
            kind=RecordKind.CLIENT,
            assigned_agent_id=agent_user.id,
        )
        co = sign_factories.co_applicant(record)
        nomail = sign_factories.contact_person(record, email="", first_name="Nora")
        db.session.commit()
        ids = {"record": record.id, "co": co.id, "nomail": nomail.id}
        ids["today"] = documents.office_today()
    mailbox.clear()
    return ids


def start(client, people: dict, *, pdf: bytes | None = None, **fields):
    record_id = people["record"]
    data = {
        "title": "Broker of record letter",
        "signers": ["primary", str(fields.pop("co"))] if "co" in fields else ["primary"],
        "in_order": "1",
        "message": "Please sign where marked.",
        "expires_on": (people["today"] + timedelta(days=20)).isoformat(),
        "remind_every_days": "3",
        **fields,
    }
    if pdf is not None:
        data["file"] = (io.BytesIO(pdf), "letter.pdf")
    return client.submit(
        new_url(record_id), data, page=new_url(record_id), content_type="multipart/form-data"
    )


def the_request(app) -> SignRequest:
    with app.app_context():
        found = db.session.scalar(select(SignRequest).order_by(SignRequest.id.desc()))
        assert found is not None
        db.session.expunge(found)
        return found


def field(page: int, kind: str, signer: int, x: float = 0.1, y: float = 0.7, **more) -> dict:
    return {"page": page, "x": x, "y": y, "width": 0.3, "height": 0.05, "kind": kind,
            "signer": signer, "required": True, "label": "", **more}  # fmt: skip


def post_fields(client, record_id, request_id, fields, operation="save", **extra):
    url = placer_url(record_id, request_id)
    data = {"fields": json.dumps(fields), "operation": operation, **extra}
    return client.submit(url, data, page=url)


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sign_factories.pdf_bytes(1))))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_staff_member_starts_places_fields_and_sends(app, agent_client, people, mailbox):
    record_id = people["record"]
    tab = agent_client.get(page_of(record_id)).get_data(as_text=True)
    assert 'id="tab-signing"' in tab and "No sign requests yet." in tab
    assert new_url(record_id) in tab

    form = agent_client.get(new_url(record_id)).get_data(as_text=True)
    assert 'name="csrf_token"' in form and 'type="date"' in form
    default = (people["today"] + timedelta(days=30)).isoformat()
    assert f'value="{default}"' in form
    # A person without an email cannot be chosen, and the page says why.
    nomail = re.search(rf'<input[^>]*value="{people["nomail"]}"[^>]*>', form)
    assert nomail and "disabled" in nomail.group(0) and "no email" in form

    response = start(agent_client, people, pdf=sign_factories.pdf_bytes(2), co=people["co"])
    problems = re.findall(r"(?:feedback|alert)[^>]*>([^<]*)", response.get_data(as_text=True))
    assert response.status_code == 302, problems
    sr = the_request(app)
    assert response.headers["Location"].endswith(placer_url(record_id, sr.id))
    assert sr.status == SignRequestStatus.DRAFT and sr.remind_every_days == 3 and sr.in_order
    with app.app_context():
        sr_db = db.session.get(SignRequest, sr.id)
        assert [s.email for s in sr_db.signers] == ["cleo@example.com", "cody.co@example.com"]
        assert sr_db.document is not None and not sr_db.document.shared

    placer = agent_client.get(placer_url(record_id, sr.id)).get_data(as_text=True)
    assert placer.count('class="pt-page"') == 2 and "sign-placer.js" in placer
    image = agent_client.get(f"/admin/sign_requests/{sr.id}/page/1.png?v=1")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG") and "private" in image.headers["Cache-Control"]
    assert agent_client.get(f"/admin/sign_requests/{sr.id}/page/2.png").status_code == 404

    # A field off the page: refused with a sentence; the fields stay placed on the page.
    off = [field(1, "signature", 0), field(0, "signature", 1, x=0.9)]
    html = post_fields(agent_client, record_id, sr.id, off).get_data(as_text=True)
    assert "A field on page 1 lies off the page." in html
    assert "&#34;x&#34;: 0.9" in html or "&quot;x&quot;: 0.9" in html
    # The second signer without a signature field: Send refuses and sends nothing.
    html = post_fields(agent_client, record_id, sr.id, [field(1, "signature", 0)], "send").get_data(
        as_text=True
    )
    assert "Signer 2 has no signature field" in html
    assert the_request(app).status == SignRequestStatus.DRAFT

    fields = [
        field(1, "signature", 0),
        field(1, "date_signed", 0, x=0.6),
        field(1, "signature", 1, y=0.8),
        field(0, "text", 1, label="Policy number", required=False),
    ]
    response = post_fields(agent_client, record_id, sr.id, fields, "save")
    assert response.status_code == 302
    with app.app_context():
        sr_db = db.session.get(SignRequest, sr.id)
        assert len(sr_db.fields) == 4
        assert {f.label for f in sr_db.fields} == {"", "Policy number"}
    response = post_fields(agent_client, record_id, sr.id, fields, "send")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/sign_requests/{sr.id}/")
    page = agent_client.get(f"/admin/sign_requests/{sr.id}/").get_data(as_text=True)
    assert "Sent" in page and "cody.co@example.com" in page and "Remind now" in page
    assert "Waiting for an earlier signer" in page
    # The placer of a sent request leads to its page.
    assert agent_client.get(placer_url(record_id, sr.id)).status_code == 302

    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert "cleo@example.com" in mail["To"]
    assert "/portal/sign/link/" in body_of(mail)
    assert mailbox.to("cody.co@example.com") == []  # in order: told when Cleo has signed
    tab = agent_client.get(page_of(record_id)).get_data(as_text=True)
    assert "Broker of record letter" in tab and f"/admin/sign_requests/{sr.id}/" in tab


def test_a_broken_or_encrypted_pdf_is_refused_and_what_was_typed_stays(app, agent_client, people):
    for data in (b"%PDF-1.7\nnot really a pdf\n", encrypted_pdf()):
        response = start(agent_client, people, pdf=data, message="Kept for next time")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'id="file-error"' in html and "choose the PDF again" in html
        assert "Kept for next time" in html and 'value="Broker of record letter"' in html
    with app.app_context():
        assert db.session.scalar(select(SignRequest)) is None
        assert db.session.scalar(select(Document)) is None
    # No signer chosen: said on the signers.
    html = start(agent_client, people, signers=[]).get_data(as_text=True)
    assert "Choose at least one signer." in html


def test_a_signature_page_at_the_end_and_discard(app, agent_client, people):
    record_id = people["record"]
    start(agent_client, people, pdf=sign_factories.pdf_bytes(1))
    sr = the_request(app)
    response = post_fields(agent_client, record_id, sr.id, [], "signature_page")
    assert response.status_code == 302
    with app.app_context():
        sr_db = db.session.get(SignRequest, sr.id)
        assert len(sr_db.pages) == 2
        assert {f.kind.value for f in sr_db.fields} >= {"signature", "date_signed"}
    placer = agent_client.get(placer_url(record_id, sr.id)).get_data(as_text=True)
    assert placer.count('class="pt-page"') == 2
    response = post_fields(agent_client, record_id, sr.id, [], "discard")
    assert response.status_code == 302 and response.headers["Location"].endswith("#signing")
    with app.app_context():
        assert db.session.get(SignRequest, sr.id) is None


def test_ids_that_lead_nowhere_are_not_found(app, agent_client, people):
    record_id = people["record"]
    start(agent_client, people, pdf=sign_factories.pdf_bytes(1))
    sr = the_request(app)
    with app.app_context():
        other = factories.record(first_name="Otto", last_name="Other", email="otto@example.com")
        db.session.commit()
        other_id = other.id
    # A draft is reached through its own record only.
    assert agent_client.get(placer_url(other_id, sr.id)).status_code == 404
    wrong = agent_client.submit(
        placer_url(other_id, sr.id), {"operation": "discard"}, page=placer_url(record_id, sr.id)
    )
    assert wrong.status_code == 404 and the_request(app).id == sr.id
    for url in (
        "/admin/sign_requests/999999/",
        "/admin/sign_requests/999999/page/0.png",
        "/admin/sign_requests/999999/original.pdf",
        f"/admin/sign_requests/{sr.id}/signed.pdf",  # not signed yet
        new_url(999999),
        placer_url(record_id, 999999),
    ):
        assert agent_client.get(url).status_code == 404, url
    # Not signed in: the sign-in page, not the draft.
    app.test_client_class = type(agent_client)
    anonymous = app.test_client()
    response = anonymous.get(f"/admin/sign_requests/{sr.id}/page/0.png")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _sent(app, people) -> int:
    with app.app_context():
        record = db.session.get(factories.Record, people["record"])
        sr = sign_factories.sign_request(record)
        db.session.commit()
        return sr.id


def test_remind_and_cancel_from_the_request_page(app, agent_client, people, mailbox):
    request_id = _sent(app, people)
    run_jobs(app)
    mailbox.wait_for(1)
    mailbox.clear()
    url = f"/admin/sign_requests/{request_id}/"
    html = agent_client.submit(f"{url}remind/", {}, page=url, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Reminded 1 signer by email." in html
    run_jobs(app)
    [mail] = mailbox.wait_for(1)
    assert "cleo@example.com" in mail["To"]
    html = agent_client.submit(f"{url}cancel/", {}, page=url, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Cancelled" in html and "Remind now" not in html
    with app.app_context():
        sr = db.session.get(SignRequest, request_id)
        assert sr.status == SignRequestStatus.CANCELLED
        assert [s.status for s in sr.signers] == [SignerStatus.CANCELLED]
    # Without the CSRF token nothing happens.
    assert agent_client.post(f"{url}remind/").status_code == 400


def test_download_the_original_and_the_signed_pdf(app, agent_client, people):
    request_id = _sent(app, people)
    url = f"/admin/sign_requests/{request_id}/"
    original = agent_client.get(f"{url}original.pdf")
    assert original.status_code == 200 and original.data.startswith(b"%PDF-")
    original.close()
    assert "letter.pdf" in original.headers["Content-Disposition"]  # the uploaded file's name
    with app.app_context():  # logged in the document's history, as every staff download
        document_id = db.session.get(SignRequest, request_id).document_id
        actions = db.session.scalars(
            select(DocumentAccess.action).where(DocumentAccess.document_id == document_id)
        ).all()
        assert AccessAction.DOWNLOADED in actions
    assert "Download signed PDF" not in agent_client.get(url).get_data(as_text=True)
    with app.app_context():
        sr = db.session.get(SignRequest, request_id)
        [signer] = sr.signers
        actor = signing.signer_actor(signer)
        version = disclosures.current().version
        signing.consent(signer, agreed=True, disclosure_version=version, actor=actor,
                        ip="203.0.113.9", user_agent="Test")  # fmt: skip
        signing.finish(signer, values={}, signature=SignatureInput("typed", text="Cleo Client"),
                       actor=actor, ip="203.0.113.9", user_agent="Test")  # fmt: skip
        db.session.commit()
        assert sr.status == SignRequestStatus.SIGNED
    page = agent_client.get(url).get_data(as_text=True)
    assert "Download signed PDF" in page and "203.0.113.9" in page
    assert "disclosure version 1" in page
    signed = agent_client.get(f"{url}signed.pdf")
    assert signed.status_code == 200 and signed.data.startswith(b"%PDF-")
    signed.close()
    assert "signed" in signed.headers["Content-Disposition"]
    assert "Audit" in PdfReader(io.BytesIO(signed.data)).pages[-1].extract_text()


def test_the_list_filters_by_status_and_links_the_request_page(app, agent_client, people):
    request_id = _sent(app, people)
    html = agent_client.get("/admin/sign_requests/?flt0_status_is=sent").get_data(as_text=True)
    assert f"/admin/sign_requests/{request_id}/" in html and "Cleo Client" in html
    html = agent_client.get("/admin/sign_requests/?flt0_status_is=signed").get_data(as_text=True)
    assert f"/admin/sign_requests/{request_id}/" not in html


def test_send_an_existing_pdf_of_the_record_for_signature(app, agent_client, people):
    record_id = people["record"]
    with app.app_context():
        record = db.session.get(factories.Record, record_id)
        [document] = documents.add_files(
            record,
            [sign_factories.upload(sign_factories.pdf_bytes(3), "application.pdf")],
            actor=Actor.staff(factories.staff()),
        )
        db.session.commit()
        document_id = document.id
    link = f"{new_url(record_id)}?document_id={document_id}"
    tab = agent_client.get(page_of(record_id)).get_data(as_text=True)
    assert "Send for signature" in tab and link in tab.replace("&amp;", "&")
    form = agent_client.get(link).get_data(as_text=True)
    assert f'<option selected value="{document_id}">' in form
    response = start(agent_client, people, document_id=str(document_id))
    assert response.status_code == 302
    sr = the_request(app)
    assert sr.document_id == document_id and len(sr.pages) == 3

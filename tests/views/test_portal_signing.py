"""Signing in the portal, as a signed-in client does it: the request under *Incoming
requests*, the disclosure to agree to first (a POST of the signing step without it is
refused), a drawn signature sent as a data URL, Finish once only, Decline with a reason, the
draft kept and restored, and the requests of other people answering 404."""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from app.services.actors import Actor
from app.services.signing import requests as sign_requests
from models import (
    Contact,
    Record,
    SignerStatus,
    SignRequest,
    SignRequestSigner,
    SignRequestStatus,
    db,
    utcnow,
)
from tests import factories, sign_factories
from tests.views import test_portal_details as details

cora = details.cora
signed_in = details.signed_in


# -- helpers ------------------------------------------------------------------------------------


def drawn_png(width: int = 300, height: int = 90) -> str:
    """A drawn signature as the page's script sends it: a PNG data URL with some ink."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 60), (90, 20), (170, 70), (280, 30)], fill="navy", width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


FIELDS = [
    {"page": 1, "x": 0.1, "y": 0.6, "width": 0.4, "height": 0.06, "kind": "signature", "signer": 0},
    {
        "page": 1,
        "x": 0.6,
        "y": 0.6,
        "width": 0.3,
        "height": 0.04,
        "kind": "date_signed",
        "signer": 0,
    },
    {
        "page": 0,
        "x": 0.1,
        "y": 0.3,
        "width": 0.5,
        "height": 0.04,
        "kind": "text",
        "signer": 0,
        "required": True,
        "label": "Policy number",
    },
    {
        "page": 0,
        "x": 0.1,
        "y": 0.4,
        "width": 0.04,
        "height": 0.03,
        "kind": "checkbox",
        "signer": 0,
        "required": False,
        "label": "Send me paper copies",
    },
]


def send_request(
    app: Any,
    record_id: int,
    *,
    signers: list[Any] | None = None,
    fields: list[dict[str, Any]] | None = None,
    title: str = "Broker of record letter",
) -> dict[str, Any]:
    """A sign request to the record's people (default: the primary applicant), with a text
    field and a checkbox besides the signature and date, sent by staff."""
    with app.app_context():
        record = db.session.get(Record, record_id)
        actor = Actor.staff(factories.staff())
        request = sign_factories.sign_request(
            record, signers=signers, send=False, actor=actor, title=title
        )
        if fields is not None or signers is None:
            sign_requests.place_fields(request, fields if fields is not None else FIELDS)
        sign_requests.send(request, actor=actor)
        db.session.commit()
        ids = [s.id for s in request.signers]
        fields_by_kind = {f.kind.value: f.id for f in request.fields if f.signer_id == ids[0]}
        return {"id": request.id, "signers": ids, "fields": fields_by_kind}


def signer(app: Any, signer_id: int) -> SignRequestSigner:
    with app.app_context():
        found = db.session.get(SignRequestSigner, signer_id)
        db.session.expunge(found)
        return found


def request_status(app: Any, request_id: int) -> SignRequestStatus:
    with app.app_context():
        return db.session.get(SignRequest, request_id).status


def page(client: Any, signer_id: int) -> str:
    return client.get(f"/portal/sign/{signer_id}").get_data(as_text=True)


def consent(client: Any, signer_id: int, agreed: bool = True) -> Any:
    url = f"/portal/sign/{signer_id}"
    text = page(client, signer_id)
    version = re.search(r'name="disclosure_version"[^>]*value="(\d+)"', text)
    data = {"disclosure_version": version.group(1) if version else "1"}
    if agreed:
        data["agreed"] = "y"
    return client.submit(f"{url}/consent", data, page=url)


def finish(client: Any, sent: dict[str, Any], **extra: str) -> Any:
    signer_id = sent["signers"][0]
    data = {
        "signature_style": "drawn",
        "signature_image": drawn_png(),
        f"field-{sent['fields']['text']}": "POL-12345",
        f"field-{sent['fields']['checkbox']}": "1",
        **extra,
    }
    return client.submit(f"/portal/sign/{signer_id}/finish", data, page=f"/portal/sign/{signer_id}")


@pytest.fixture
def sent(app, cora):
    return send_request(app, cora["record_id"])


# -- the list -----------------------------------------------------------------------------------


def test_incoming_sign_request_is_listed_on_home_and_requests(signed_in, sent):
    home = signed_in.get("/portal/home").get_data(as_text=True)
    assert "Incoming requests" in home
    assert "Sign: Broker of record letter" in home and "Expires on" in home
    assert f'href="/portal/sign/{sent["signers"][0]}"' in home
    requests = signed_in.get("/portal/requests").get_data(as_text=True)
    assert "Sign: Broker of record letter" in requests and "Waiting for your signature" in requests
    # The Requests entry of the navigation counts it.
    assert re.search(r"Requests\s*<span class=\"pt-badge\">1", requests)


# -- consent ------------------------------------------------------------------------------------


def test_the_disclosure_comes_first_and_cannot_be_skipped(app, signed_in, sent):
    signer_id = sent["signers"][0]
    text = page(signed_in, signer_id)
    assert "Electronic Record and Signature Disclosure" in text
    assert "I confirm that I have read and understood" in text and "Agree and continue" in text
    assert 'name="agreed"' in text and "csrf_token" in text
    assert signer(app, signer_id).status == SignerStatus.VIEWED  # opening it is a view

    # A Finish posted straight away is refused by the service, with its sentence.
    response = finish(signed_in, sent)
    assert response.status_code == 200
    assert "Agree to the Electronic Record and Signature Disclosure first." in response.get_data(
        as_text=True
    )
    assert signer(app, signer_id).status == SignerStatus.VIEWED

    # The box left unticked: refused, still on the disclosure.
    response = consent(signed_in, signer_id, agreed=False)
    assert response.status_code == 200
    assert "Tick the box to confirm" in response.get_data(as_text=True)
    assert signer(app, signer_id).consented_at is None

    response = consent(signed_in, signer_id)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/portal/sign/{signer_id}"
    found = signer(app, signer_id)
    assert found.consented_at is not None and found.disclosure_id is not None
    text = page(signed_in, signer_id)
    assert "Finish" in text and "Sign here" in text and "Decline to sign" in text
    assert f"/portal/sign/{signer_id}/pages/0.png" in text


def test_consent_needs_its_csrf_token(app, signed_in, sent):
    signer_id = sent["signers"][0]
    response = signed_in.post(
        f"/portal/sign/{signer_id}/consent", data={"agreed": "y", "disclosure_version": "1"}
    )
    assert response.status_code == 400
    assert signer(app, signer_id).consented_at is None


# -- finish -------------------------------------------------------------------------------------


def test_finish_with_a_drawn_signature_then_download_the_signed_pdf(app, signed_in, sent):
    signer_id = sent["signers"][0]
    consent(signed_in, signer_id)
    response = finish(signed_in, sent)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    done = page(signed_in, signer_id)
    assert "Signed. You will receive the signed document by email." in done
    found = signer(app, signer_id)
    assert found.status == SignerStatus.SIGNED
    assert found.signature_image and found.signature_image.startswith(b"\x89PNG")
    assert request_status(app, sent["id"]) == SignRequestStatus.SIGNED
    assert f"/portal/sign/{signer_id}/signed.pdf" in done
    download = signed_in.get(f"/portal/sign/{signer_id}/signed.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "attachment" in download.headers["Content-Disposition"]
    # Done: no more page images, and the list says so.
    assert signed_in.get(f"/portal/sign/{signer_id}/pages/0.png").status_code == 404
    assert "Signed by everyone" in signed_in.get("/portal/requests").get_data(as_text=True)


def test_finish_is_refused_the_second_time(app, signed_in, sent):
    signer_id = sent["signers"][0]
    consent(signed_in, signer_id)
    assert finish(signed_in, sent).status_code == 302
    first = signer(app, signer_id).signed_at
    token = signed_in.csrf_token("/portal/requests")
    again = signed_in.post(
        f"/portal/sign/{signer_id}/finish",
        data={"csrf_token": token, "signature_style": "typed", "signature_text": "Someone Else"},
    )
    assert again.status_code == 200
    assert "You have already signed this document." in again.get_data(as_text=True)
    found = signer(app, signer_id)
    assert found.signed_at == first and found.signature_text is None


def test_finish_with_a_typed_signature_and_a_required_field_left_empty(app, signed_in, sent):
    signer_id = sent["signers"][0]
    consent(signed_in, signer_id)
    response = finish(
        signed_in,
        sent,
        signature_style="typed",
        signature_text="Cora Client",
        signature_image="",
        **{f"field-{sent['fields']['text']}": ""},
    )
    assert response.status_code == 200
    assert "Fill in Policy number." in response.get_data(as_text=True)
    assert signer(app, signer_id).status == SignerStatus.VIEWED
    response = finish(signed_in, sent, signature_style="typed", signature_text="Cora Client")
    assert response.status_code == 302
    found = signer(app, signer_id)
    assert found.signature_text == "Cora Client" and found.signature_image is None


def test_a_signature_picture_too_large_is_refused_before_it_is_decoded(app, signed_in, sent):
    signer_id = sent["signers"][0]
    consent(signed_in, signer_id)
    huge = "data:image/png;base64," + "A" * 800_000
    response = finish(signed_in, sent, signature_image=huge)
    assert response.status_code == 200
    assert "The signature picture is too large" in response.get_data(as_text=True)
    not_an_image = "data:image/png;base64," + base64.b64encode(b"GIF89a" + b"0" * 200).decode()
    response = finish(signed_in, sent, signature_image=not_an_image)
    assert "must be a PNG or JPEG picture" in response.get_data(as_text=True)
    assert signer(app, signer_id).status == SignerStatus.VIEWED


# -- decline ------------------------------------------------------------------------------------


def test_decline_needs_a_reason_then_ends_the_request(app, signed_in, sent):
    signer_id = sent["signers"][0]
    url = f"/portal/sign/{signer_id}"
    response = signed_in.submit(f"{url}/decline", {"reason": "  "}, page=url)
    assert response.status_code == 200
    assert "Say why you decline to sign." in response.get_data(as_text=True)
    response = signed_in.submit(f"{url}/decline", {"reason": "Wrong address."}, page=url)
    assert response.status_code == 302
    text = page(signed_in, signer_id)
    assert "You declined to sign this document." in text and "Wrong address." in text
    assert signer(app, signer_id).status == SignerStatus.DECLINED
    assert request_status(app, sent["id"]) == SignRequestStatus.DECLINED
    # Nothing can be signed after: the page is the done page, Finish is refused.
    assert "Agree and continue" not in text
    assert "You declined to sign" in finish(signed_in, sent).get_data(as_text=True)


# -- the draft ----------------------------------------------------------------------------------


def test_the_draft_is_kept_and_restored(app, signed_in, sent):
    signer_id = sent["signers"][0]
    consent(signed_in, signer_id)
    url = f"/portal/sign/{signer_id}/draft"
    token = signed_in.csrf_token(f"/portal/sign/{signer_id}")
    body = {
        "fields": {str(sent["fields"]["text"]): "POL-777", str(sent["fields"]["checkbox"]): "1"},
        "signature": {"style": "typed", "text": "Cora C."},
    }
    response = signed_in.post(url, json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["saved"] is True
    text = page(signed_in, signer_id)
    assert 'value="POL-777"' in text
    assert re.search(rf'name="field-{sent["fields"]["checkbox"]}" value="1" checked', text)
    assert "Cora C." in text  # the signature so far, for the page's script to show
    # Without the token nothing is kept.
    response = signed_in.post(url, json={"fields": {}})
    assert response.status_code == 400
    assert signer(app, signer_id).draft["fields"][str(sent["fields"]["text"])] == "POL-777"
    # Not an object: refused.
    response = signed_in.post(url, json=["x"], headers={"X-CSRFToken": token})
    assert response.status_code == 400


# -- other people's signers ---------------------------------------------------------------------


def test_another_clients_signer_is_not_found(app, signed_in, sent):
    with app.app_context():
        other = factories.record(first_name="Olga", email="olga@example.com")
        other_id = other.id
    theirs = send_request(app, other_id)["signers"][0]
    assert signed_in.get(f"/portal/sign/{theirs}").status_code == 404
    assert signed_in.get(f"/portal/sign/{theirs}/pages/0.png").status_code == 404
    token = signed_in.csrf_token("/portal/requests")
    for action in ("consent", "finish", "decline"):
        response = signed_in.post(
            f"/portal/sign/{theirs}/{action}",
            data={"csrf_token": token, "agreed": "y", "reason": "x"},
        )
        assert response.status_code == 404, action
    response = signed_in.post(
        f"/portal/sign/{theirs}/draft", json={"fields": {}}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 404
    assert "Olga" not in signed_in.get("/portal/requests").get_data(as_text=True)
    assert signer(app, theirs).status == SignerStatus.SENT


def test_not_signed_in_the_signing_page_is_not_found(client, sent):
    assert client.get(f"/portal/sign/{sent['signers'][0]}").status_code == 404


def test_the_co_applicants_account_cannot_open_the_primarys_signer(app, client, cora, mailbox):
    details.sign_in_co_applicant(app, client, cora, mailbox)
    sent = send_request(app, cora["record_id"])
    primary = sent["signers"][0]
    assert client.get(f"/portal/sign/{primary}").status_code == 404
    assert "Sign: Broker of record letter" not in client.get("/portal/requests").get_data(
        as_text=True
    )
    # A request to Carl himself is his to open.
    with app.app_context():
        carl_id = db.session.scalar(select(Contact.id).where(Contact.email == "carl@example.com"))
    his = send_request(app, cora["record_id"], signers=[carl_id], title="Co-applicant form")
    assert client.get(f"/portal/sign/{his['signers'][0]}").status_code == 200
    assert "Sign: Co-applicant form" in client.get("/portal/requests").get_data(as_text=True)


def test_the_staff_preview_lists_it_without_signing(app, admin_client, cora, sent):
    text = admin_client.get(f"/portal/preview/{cora['record_id']}/requests").get_data(as_text=True)
    assert "Sign: Broker of record letter" in text
    assert f"/portal/sign/{sent['signers'][0]}" not in text
    assert signer(app, sent["signers"][0]).status == SignerStatus.SENT


def test_an_expired_request_cannot_be_signed_from_an_open_page(app, signed_in, sent):
    signer_id = sent["signers"][0]
    consent(signed_in, signer_id)
    assert "Finish" in page(signed_in, signer_id)
    with app.app_context():
        request = db.session.get(SignRequest, sent["id"])
        request.expires_at = utcnow() - timedelta(minutes=1)  # before the sweeper marks it
        db.session.commit()
    text = page(signed_in, signer_id)
    assert "This document can no longer be signed." in text and "Expired" in text
    assert signed_in.get(f"/portal/sign/{signer_id}/pages/0.png").status_code == 404
    response = finish(signed_in, sent)
    assert "This sign request has expired." in response.get_data(as_text=True)
    assert signer(app, signer_id).status == SignerStatus.VIEWED
    home = signed_in.get("/portal/home").get_data(as_text=True)
    assert "Sign: Broker of record letter" not in home  # nothing left to sign


def test_a_refused_field_is_marked(signed_in, sent):
    consent(signed_in, sent["signers"][0])
    response = finish(signed_in, sent, **{f"field-{sent['fields']['text']}": ""})
    text = response.get_data(as_text=True)
    field = re.search(rf'<input[^>]*name="field-{sent["fields"]["text"]}"[^>]*>', text).group(0)
    assert 'aria-invalid="true"' in field and "pt-sign-invalid" in text


def test_page_images_are_private_pngs_and_initials_are_kept(app, cora, signed_in):
    initials = {
        "page": 0,
        "x": 0.8,
        "y": 0.9,
        "width": 0.1,
        "height": 0.04,
        "kind": "initials",
        "signer": 0,
        "required": True,
    }
    sent = send_request(app, cora["record_id"], fields=[*FIELDS, initials])
    signer_id = sent["signers"][0]
    consent(signed_in, signer_id)
    text = page(signed_in, signer_id)
    assert 'data-mark="initials"' in text and 'id="initials_style"' in text
    image = signed_in.get(f"/portal/sign/{signer_id}/pages/1.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert image.headers["Cache-Control"] == "private, no-store"
    assert signed_in.get(f"/portal/sign/{signer_id}/pages/2.png").status_code == 404
    response = finish(signed_in, sent)
    assert "Add your initials." in response.get_data(as_text=True)
    response = finish(signed_in, sent, initials_style="typed", initials_text="CC")
    assert response.status_code == 302
    assert signer(app, signer_id).initials_text == "CC"

"""The emailed signing link, as a contact person without a portal account uses it: the code
at the SMTP server, a wrong code counted, the right one opening that signer's page and
nothing else of the portal, and the links that no longer work."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.services.actors import Actor
from app.services.signing import requests as sign_requests
from models import LoginCode, SignerStatus, SignRequest, db
from tests import factories, sign_factories
from tests.conftest import body_of, run_jobs
from tests.views import test_portal_details as details
from tests.views.test_portal_signing import consent, drawn_png, page, send_request, signer

CONNIE = "connie.link@example.com"
cora = details.cora
signed_in = details.signed_in


@pytest.fixture
def connie_request(app: Any, mailbox: Any) -> dict[str, Any]:
    """A request to Connie, a contact person of a client record, and the token of her link
    (from the email at the SMTP server)."""
    with app.app_context():
        record = factories.record(first_name="Rita", email="rita@example.com")
        connie = sign_factories.contact_person(record, email=CONNIE, first_name="Connie")
        record_id, connie_id = record.id, connie.id
    sent = send_request(app, record_id, signers=[connie_id])
    run_jobs(app)
    mailbox.wait_for(1)
    [mail] = mailbox.to(CONNIE)
    token = re.search(r"/portal/sign/link/([\w-]+)", body_of(mail)).group(1)
    mailbox.clear()
    return {"id": sent["id"], "signer": sent["signers"][0], "token": token}


def ask_code(client: Any, url: str) -> Any:
    """Open the emailed link and press *Email me a code*, as the signer does."""
    page_ = client.get(url)
    assert page_.status_code == 200 and "Email me a code" in page_.get_data(as_text=True)
    return client.submit(url, {"resend": "1"})


def code_from(app: Any, mailbox: Any) -> str:
    run_jobs(app)
    mailbox.wait_for(1)
    [mail] = mailbox.to(CONNIE)
    return re.search(r"\b(\d{6})\b", body_of(mail)).group(1)


def test_the_link_sends_a_code_and_the_right_code_opens_the_signing_page(
    app, client, mailbox, connie_request
):
    url = f"/portal/sign/link/{connie_request['token']}"
    # Fetching the link sends nothing (a mail scanner opening it spends no code).
    response = client.get(url)
    assert response.status_code == 200
    assert "we email a code to c***@example.com" in response.get_data(as_text=True)
    run_jobs(app)
    assert mailbox.to(CONNIE) == []
    response = ask_code(client, url)
    text = response.get_data(as_text=True)
    assert "We sent a code to c***@example.com" in text and 'name="code"' in text
    # "Send a new code" is a link-button that sign.css colours (the header's are white).
    assert "Send a new code" in text and "sign.css" in text
    code = code_from(app, mailbox)

    # Opening the link again in the same browser sends no second code.
    mailbox.clear()
    client.get(url)
    run_jobs(app)
    assert mailbox.to(CONNIE) == []

    wrong = "000000" if code != "000000" else "111111"
    response = client.submit(url, {"code": wrong})
    assert response.status_code == 200
    assert "That code did not work." in response.get_data(as_text=True)
    with app.app_context():
        live = db.session.query(LoginCode).filter(LoginCode.used_at.is_(None)).one()
        assert live.attempts == 1  # the wrong code was counted

    response = client.submit(url, {"code": code})
    assert response.status_code == 302
    signer_id = connie_request["signer"]
    assert response.headers["Location"] == f"/portal/sign/{signer_id}"
    text = page(client, signer_id)
    assert "Electronic Record and Signature Disclosure" in text
    assert signer(app, signer_id).status == SignerStatus.VIEWED

    # The link session is not a portal sign-in: other pages still ask to sign in.
    home = client.get("/portal/home")
    assert home.status_code == 302 and home.headers["Location"] == "/portal/"  # sign in
    assert client.get("/portal/requests").status_code == 302

    # It signs, as the signer.
    assert consent(client, signer_id).status_code == 302
    finish = client.submit(
        f"/portal/sign/{signer_id}/finish",
        {"signature_style": "drawn", "signature_image": drawn_png()},
        page=f"/portal/sign/{signer_id}",
    )
    assert finish.status_code == 302
    assert "Signed. You will receive the signed document by email." in page(client, signer_id)
    # The link is spent: a clear page, not the code form.
    again = client.get(url)
    assert again.status_code == 404
    assert "This signing link no longer works" in again.get_data(as_text=True)


def test_the_link_session_opens_only_its_own_signer(app, client, mailbox, connie_request):
    url = f"/portal/sign/link/{connie_request['token']}"
    ask_code(client, url)
    assert client.submit(url, {"code": code_from(app, mailbox)}).status_code == 302
    with app.app_context():
        other = factories.record(first_name="Otto", email="otto@example.com")
        other_id = other.id
    theirs = send_request(app, other_id)["signers"][0]
    assert client.get(f"/portal/sign/{theirs}").status_code == 404
    assert client.get(f"/portal/sign/{theirs}/pages/0.png").status_code == 404


def test_a_reminder_with_a_new_link_ends_the_old_binding(app, client, mailbox, connie_request):
    url = f"/portal/sign/link/{connie_request['token']}"
    ask_code(client, url)
    client.submit(url, {"code": code_from(app, mailbox)})
    signer_id = connie_request["signer"]
    assert client.get(f"/portal/sign/{signer_id}").status_code == 200
    with app.app_context():
        request = db.session.get(SignRequest, connie_request["id"])
        sign_requests.remind_now(request, actor=Actor.staff(factories.staff()))
        db.session.commit()
    assert client.get(f"/portal/sign/{signer_id}").status_code == 404
    assert client.get(url).status_code == 404


def test_unknown_and_odd_links_show_a_clear_page(client):
    for token in ("nope", "x" * 300, "\u00e9t\u00e9"):
        response = client.get(f"/portal/sign/link/{token}")
        assert response.status_code == 404
        assert "This signing link no longer works" in response.get_data(as_text=True)


def test_a_code_post_needs_its_csrf_token(app, client, mailbox, connie_request):
    url = f"/portal/sign/link/{connie_request['token']}"
    ask_code(client, url)
    code = code_from(app, mailbox)
    assert client.post(url, data={"code": code}).status_code == 400
    assert client.get(f"/portal/sign/{connie_request['signer']}").status_code == 404


def test_code_entry_is_limited(app, client, mailbox, connie_request, fresh_minute):
    url = f"/portal/sign/link/{connie_request['token']}"
    ask_code(client, url)
    limit = int(str(app.config["PORTICO_PORTAL_LOGIN_LIMIT"]).split()[0])
    token = client.csrf_token(url)
    statuses = [
        client.post(url, data={"code": "999999", "csrf_token": token}).status_code
        for _ in range(limit + 1)
    ]
    assert statuses[-1] == 429, statuses


def test_new_codes_are_limited(app, client, mailbox, connie_request):
    url = f"/portal/sign/link/{connie_request['token']}"
    client.get(url)
    token = client.csrf_token(url)
    texts = [
        client.post(url, data={"resend": "1", "csrf_token": token}).get_data(as_text=True)
        for _ in range(6)
    ]
    assert "We sent a code to" in texts[0] and "A new code is sent." in texts[1]
    assert any("as many codes" in text for text in texts[3:]), texts[-1][:3000]


def test_a_signed_in_client_opening_their_own_link_needs_no_code(app, signed_in, cora, mailbox):
    sent = send_request(app, cora["record_id"])
    run_jobs(app)
    mailbox.wait_for(1)
    [token] = [
        found.group(1)
        for mail in mailbox.to("cora@example.com")
        if (found := re.search(r"/portal/sign/link/([\w-]+)", body_of(mail)))
    ]
    mailbox.clear()
    response = signed_in.get(f"/portal/sign/link/{token}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/portal/sign/{sent['signers'][0]}"
    run_jobs(app)
    assert mailbox.to("cora@example.com") == []  # no code sent


def test_signing_out_ends_the_link_session_too(app, client, mailbox, connie_request):
    """The next person at a shared computer cannot go on signing after a sign-out."""
    url = f"/portal/sign/link/{connie_request['token']}"
    ask_code(client, url)
    client.submit(url, {"code": code_from(app, mailbox)})
    signer_id = connie_request["signer"]
    assert client.get(f"/portal/sign/{signer_id}").status_code == 200
    token = client.csrf_token(f"/portal/sign/{signer_id}")
    assert client.post("/portal/signout", data={"csrf_token": token}).status_code == 302
    assert client.get(f"/portal/sign/{signer_id}").status_code == 404

"""An outbox email may carry a document's file (the signed PDF each signer receives): it
arrives at the SMTP server as a MIME part; when the document or its file is gone, or too large,
the email goes without it and says where the file is."""

import io
from pathlib import Path

from sqlalchemy import select

from app.services import documents, mail, outbox
from app.services.actors import Actor
from app.storage import storage
from jobs.delivery import deliver
from models import Channel, OutboxMessage, OutboxStatus, db
from tests import factories
from tests.conftest import body_of, run_jobs

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + bytes(300)
MISSING = "is not attached to this email: you can download it from the portal"


def signed_document(title="Disclosure (signed)"):
    record = factories.record(first_name="Cleo", last_name="Client", email="cleo@example.com")
    [document] = documents.add_files(
        record,
        [documents.Upload(io.BytesIO(PDF), "disclosure-signed.pdf")],
        actor=Actor.system("test"),
        title=title,
    )
    return document


def put_with(document_id, key="att-1", to="cleo@example.com"):
    return outbox.put(
        key=key,
        channel=Channel.EMAIL,
        to=to,
        subject="Signed: Disclosure",
        text="Everyone has signed.",
        html="<html><body><p>Everyone has signed.</p></body></html>",
        attachment_document_id=document_id,
    )


def attachments_of(received):
    return [
        (part.get_filename(), part.get_content_type(), part.get_content())
        for part in received.iter_attachments()
    ]


def test_the_file_arrives_as_a_part_with_its_name_and_bytes(app, mailbox):
    with app.app_context():
        document = signed_document()
        message = put_with(document.id)
        assert message.attachment_title == "Disclosure (signed)"
        db.session.commit()
    run_jobs(app)
    [received] = mailbox.wait_for(1)
    [(name, content_type, data)] = attachments_of(received)
    assert (name, content_type, data) == ("disclosure-signed.pdf", "application/pdf", PDF)
    assert body_of(received).strip() == "Everyone has signed."
    assert "Everyone has signed." in received.get_body(preferencelist=("html",)).get_content()
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)).status == OutboxStatus.SENT


def test_a_deleted_document_is_sent_without_saying_where_the_file_is(app, mailbox):
    with app.app_context():
        document = signed_document()
        message_id = put_with(document.id).id
        documents.remove(document)
        db.session.commit()
        message = db.session.get(OutboxMessage, message_id)
        assert message.attachment_document_id is None  # the database let go of it
        assert message.attachment_title == "Disclosure (signed)"
    run_jobs(app)
    [received] = mailbox.wait_for(1)
    assert attachments_of(received) == []
    text = body_of(received)
    assert text.startswith("Everyone has signed.")
    assert f"The file “Disclosure (signed)” {MISSING}" in text
    html = received.get_body(preferencelist=("html",)).get_content()
    assert MISSING in html and html.index(MISSING) < html.index("</body>")


def test_a_file_gone_from_storage_or_too_large_is_not_attached(app, mailbox, monkeypatch):
    with app.app_context():
        gone = signed_document("Gone")
        storage().delete(str(gone.storage_key))
        put_with(gone.id, key="gone")
        large = signed_document("Large")
        put_with(large.id, key="large", to="other@example.com")
        db.session.commit()
    monkeypatch.setattr(mail, "MAX_ATTACHMENT", len(PDF) - 1)
    run_jobs(app)
    received = mailbox.wait_for(2)
    assert len(received) == 2
    for message, title in ((mailbox.to("cleo@")[0], "Gone"), (mailbox.to("other@")[0], "Large")):
        assert attachments_of(message) == []
        assert f"The file “{title}” {MISSING}" in body_of(message)


def test_without_an_attachment_nothing_is_added(ctx):
    message = put_with(None)
    assert message.attachment_title is None
    email = mail.build(message)
    assert email.attachments == [] and email.body == "Everyone has signed."


def test_the_same_key_adds_nothing_and_sends_once(app, mailbox):
    with app.app_context():
        document = signed_document()
        first = put_with(document.id)
        second = put_with(None)  # asked again under the same key: the first stands
        assert first.id == second.id and second.attachment_document_id == document.id
        db.session.commit()
        message_id = first.id
    run_jobs(app)
    assert len(mailbox.wait_for(1)) == 1
    with app.app_context():
        deliver(message_id)  # a replay finds it sent
        db.session.commit()
    assert len(mailbox.wait_for(2, timeout=0.5)) == 1


def test_eml_files_carry_the_attachment(make_app):
    app = make_app(MAIL_SERVER=None)
    with app.app_context():
        document = signed_document()
        message_id = put_with(document.id, to="eml@example.com").id
        db.session.commit()
        deliver(message_id)
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == OutboxStatus.SENT
        path = Path(app.config["PORTICO_INSTANCE_PATH"]) / "mail" / message.provider_id
    from email import message_from_bytes, policy

    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    [(name, _, data)] = attachments_of(parsed)
    assert (name, data) == ("disclosure-signed.pdf", PDF)


def test_staff_see_the_attachment_on_the_message(app, admin_client):
    with app.app_context():
        kept = put_with(signed_document("Kept (signed)").id, key="kept").id
        document = signed_document("Dropped (signed)")
        dropped = put_with(document.id, key="dropped").id
        documents.remove(document)
        db.session.commit()
    page = admin_client.get(f"/admin/outbox/details/?id={kept}").get_data(as_text=True)
    assert "Attachment" in page and "Kept (signed)" in page
    page = admin_client.get(f"/admin/outbox/details/?id={dropped}").get_data(as_text=True)
    assert "Dropped (signed) (document deleted: sent without it)" in page

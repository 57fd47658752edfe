"""Email transport: SMTP through Flask-Mailman, or .eml files under instance/mail when no SMTP
server is configured (development, demos)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, g
from flask_babel import gettext as _
from flask_mailman import EmailMultiAlternatives
from markupsafe import escape

from app.services.errors import NotFound
from app.services.validation import header_safe
from app.storage import storage
from models import Document, OutboxMessage, db

#: Files larger than this are not attached (many mail servers refuse messages over 20-25 MB,
#: and base64 makes a file a third larger): the email says where to find it instead.
MAX_ATTACHMENT = 15 * 1024 * 1024


class PermanentDeliveryError(Exception):
    """The message can never be delivered as it is (bad address, refused); do not retry."""


def _message_id(message: OutboxMessage) -> str:
    """Stable across retries, so a receiving server can tell a repeat from a new message."""
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:24]
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    domain = sender.rsplit("@", 1)[-1].rstrip(">").strip() or "portico.local"
    return f"<portico.{message.id}.{digest}@{domain}>"


def build(message: OutboxMessage, connection: object | None = None) -> EmailMultiAlternatives:
    """The email of an outbox row. Display name and subject are made header-safe here, at the
    last step: a name saved with a line break (before such values were refused) or a subject
    a template rendered with one would otherwise fail every send to that client, codes and
    links included."""
    name = header_safe(message.recipient_name)
    address = header_safe(message.recipient)
    to = formataddr((name, address)) if name else address
    email = EmailMultiAlternatives(
        subject=header_safe(message.subject),
        body=message.body_text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[to],
        reply_to=[header_safe(message.reply_to)] if message.reply_to else None,
        headers={"Message-ID": _message_id(message), "Auto-Submitted": "auto-generated"},
        connection=connection,
    )
    html = message.body_html
    wanted = message.attachment_document_id or message.attachment_title
    if wanted and not _attach(email, message.attachment_document_id):
        line = _(
            "The file “%(title)s” is not attached to this email: you can download it "
            "from the portal, or ask us for it.",
            title=message.attachment_title or _("document"),
        )
        email.body = f"{email.body.rstrip()}\n\n{line}\n"
        if html:
            html = _with_paragraph(html, str(escape(line)))
    if html:
        email.attach_alternative(html, "text/html")
    return email


def attachment_title(document_id: int | None) -> str | None:
    """The title an attachment is known by in the outbox (kept when the document goes)."""
    document = db.session.get(Document, document_id) if document_id else None
    return document.title[:200] if document is not None else None


def _attach(email: EmailMultiAlternatives, document_id: int | None) -> bool:
    """Attach the document's file; False when the document or its file is gone, or the file
    is too large to send by email."""
    document = db.session.get(Document, document_id) if document_id else None
    if document is None or not document.storage_key:
        return False
    files = storage()
    try:
        if files.size(document.storage_key) > MAX_ATTACHMENT:
            return False
        with files.open(document.storage_key) as stream:
            data = stream.read(MAX_ATTACHMENT + 1)
    except (NotFound, OSError):
        return False
    if len(data) > MAX_ATTACHMENT:
        return False
    name = header_safe(document.filename or document.title) or "document"
    email.attach(name, data, document.content_type or "application/octet-stream")
    return True


def _with_paragraph(html: str, text: str) -> str:
    paragraph = f"<p>{text}</p>"
    at = html.lower().rfind("</body>")
    return f"{html[:at]}{paragraph}{html[at:]}" if at >= 0 else f"{html}{paragraph}"


def send(message: OutboxMessage) -> str:
    """Deliver one email; returns the provider id (Message-ID or file name)."""
    if not current_app.config.get("MAIL_SERVER"):
        return _write_eml(message)
    import smtplib

    mail = current_app.extensions["mailman"]
    if g.get(_REUSE):
        return _send_reusing(message, mail, smtplib)
    with mail.get_connection(fail_silently=False) as connection:
        email = build(message, connection)
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentDeliveryError(f"recipient refused: {exc.recipients}") from None
    return str(email.extra_headers["Message-ID"])


_REUSE = "portico_smtp_reuse"
_CONNECTION = "portico_smtp_connection"


@contextmanager
def one_connection() -> Iterator[None]:
    """Within this block (a delivery job's burst of mail) emails share one SMTP connection:
    no connect and greeting per message."""
    setattr(g, _REUSE, True)
    try:
        yield
    finally:
        g.pop(_REUSE, None)
        connection = g.pop(_CONNECTION, None)
        if connection is not None:
            with suppress(Exception):
                connection.close()


def _send_reusing(message: OutboxMessage, mail: Any, smtplib: Any) -> str:
    for fresh in (False, True):
        connection = None if fresh else g.get(_CONNECTION)
        if connection is None:
            connection = mail.get_connection(fail_silently=False)
            connection.open()
            setattr(g, _CONNECTION, connection)
            fresh = True
        email = build(message, connection)
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentDeliveryError(f"recipient refused: {exc.recipients}") from None
        except (smtplib.SMTPServerDisconnected, OSError):
            g.pop(_CONNECTION, None)
            with suppress(Exception):
                connection.close()
            if fresh:
                raise
            continue  # the kept connection had gone stale: once more on a new one
        return str(email.extra_headers["Message-ID"])
    raise AssertionError("unreachable")


def _write_eml(message: OutboxMessage) -> str:
    folder = Path(current_app.config["PORTICO_INSTANCE_PATH"]) / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", (message.subject or "").lower()).strip("-")[:40] or "message"
    path = folder / f"{message.id:06d}-{slug}.eml"
    email = build(message)
    email.extra_headers.setdefault("Message-ID", make_msgid())
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(email.message().as_bytes())
    tmp.replace(path)
    return path.name

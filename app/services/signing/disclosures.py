"""The Electronic Record and Signature Disclosure: versions that admins publish and never
edit, so each signer's consent names the text they read (:attr:`SignRequestSigner.disclosure`).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.services.actors import Actor
from app.services.errors import ValidationError
from models import Disclosure, db

#: The longest disclosure text, in characters.
MAX_TEXT = 20_000

DEFAULT_TEXT = """\
Please read this disclosure before you sign electronically.

Electronic records and signatures. By ticking the box and continuing, you agree that the
documents we send you for signature may be given to you electronically, and that your
electronic signature on them has the same effect as your signature on paper.

Paper copies. You may ask us for a paper copy of any document you sign electronically, at no
charge, by contacting our office.

Withdrawing your consent. You may withdraw your consent to sign electronically at any time
before you sign, by declining to sign and contacting our office. Withdrawing does not affect
documents you have already signed.

What you need. A device with a current web browser, an email address you can read, and a way
to view and keep PDF files.

Keeping us up to date. Tell our office if your email address changes, so that we can keep
reaching you.
"""


def current() -> Disclosure:
    """The version signers read now; version 1 (the default text) is made the first time."""
    found = db.session.scalar(select(Disclosure).order_by(Disclosure.version.desc()).limit(1))
    if found is not None:
        return found
    first = Disclosure(version=1, text=DEFAULT_TEXT)
    db.session.add(first)
    db.session.flush()
    return first


def publish(text: str, *, actor: Actor) -> Disclosure:
    """A new version with ``text``; signers from now on read and consent to it. Empty text, or
    text the same as the current version's, is refused."""
    cleaned = (text or "").replace("\r\n", "\n").strip()
    if not cleaned:
        raise ValidationError(_("Write the disclosure's text."), field="text")
    if len(cleaned) > MAX_TEXT:
        raise ValidationError(
            _("Keep the disclosure under %(count)s characters.", count=f"{MAX_TEXT:,}"),
            field="text",
        )
    if cleaned == current().text.strip():
        raise ValidationError(
            _("The text is the same as the current version: change it to publish."),
            field="text",
        )
    highest = db.session.scalar(select(func.max(Disclosure.version))) or 0
    version = Disclosure(version=highest + 1, text=cleaned, created_by_id=actor.user_id)
    db.session.add(version)
    db.session.flush()
    return version


def history() -> list[Disclosure]:
    """Every version, newest first."""
    current()
    return list(db.session.scalars(select(Disclosure).order_by(Disclosure.version.desc())))

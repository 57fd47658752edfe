"""Sign-in work queued by the portal's forms, so that the request takes the same time whether
or not an account answers to the address typed (see ``portal_accounts.ask_for_code``)."""

from __future__ import annotations

from app.services import portal_accounts
from models import Channel, db


def send_sign_in_code(channel: str, value: str) -> str:
    portal_accounts.request_code(Channel(channel), value)
    db.session.commit()
    return "done"


def send_password_reset(email: str) -> str:
    portal_accounts.request_password_reset(email)
    db.session.commit()
    return "done"

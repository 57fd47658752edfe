"""Sign-in work queued by the portal's forms, so that the request takes the same time whether
or not an account answers to the address typed (see ``portal_sign_in.ask_for_code``)."""

from __future__ import annotations

from app.services import password_resets, portal_sign_in
from models import Channel, db


def send_sign_in_code(channel: str, value: str) -> str:
    portal_sign_in.request_code(Channel(channel), value)
    db.session.commit()
    return "done"


def send_password_reset(email: str) -> str:
    password_resets.request_password_reset(email)
    db.session.commit()
    return "done"

"""Deliver one outbox message: claim (committed), send, record the outcome (committed)."""

from __future__ import annotations

from app.services import outbox
from models import db


def deliver(message_id: int) -> str:
    message = outbox.claim(message_id)
    if message is None:
        db.session.rollback()
        return "skipped: already sent, being sent, or not due yet"
    db.session.commit()  # the claim is durable before anything leaves
    outcome = outbox.transmit(message)
    outbox.record_outcome(message, outcome)
    db.session.commit()
    return message.status.value

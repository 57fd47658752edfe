"""Referrals: a client names a friend in the portal, and the friend becomes a lead.

:func:`refer` is the one call. The friend becomes a lead with the source "Referral", assigned
to the referring client's agent, with who referred them and the client's note in its notes,
and tagged "Referral" when the office has that tag: it is saved like any new lead
(:func:`app.services.records.save`), so the workflows that start on that tag or on a record
created start for it too. The referring client's record logs ``portal.referral`` (its rule
tells the agent and makes a task; a co-applicant's referral tells the primary applicant), and
the lead logs ``portal.referral.received``.

The friend is never written to: the portal must not be a way to send mail to any address
typed into it. The lead is saved without consent to email or texts (they gave none), so a
workflow's email or text to it is skipped until staff, having spoken to them, record it.

Someone the office already knows (the email address or phone number of a record or of a
person on one) is not added again; the client is thanked the same way, so the answer never
tells them who the office's clients are, and the referring client's record logs it for staff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.services import events, records
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.validation import (
    check_multi_line,
    check_single_line,
    normalise_email,
    normalise_phone,
)
from models import Contact, ContactMethod, PortalAccount, Record, RecordKind, Tag, db

#: The source a referred lead is saved with, and the tag it gets when the office has it.
SOURCE = "Referral"
TAG = "Referral"
#: How long each value may be (the record's columns, and a note a person reads).
NAME_MAX = 80
NOTE_MAX = 2000


@dataclass(frozen=True)
class Friend:
    """The person a client refers, as checked: names trimmed, the email address and phone
    number normalised (at least one of them), the note without control characters."""

    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    note: str | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Referred:
    """What a referral did: ``lead`` is the new lead, or None when the friend was known
    already. Only staff may learn which: the client is thanked the same way for both."""

    friend: Friend
    lead: Record | None


def check_friend(
    *,
    first_name: str | None,
    last_name: str | None,
    email: str | None,
    phone: str | None,
    note: str | None,
    region: str | None = "US",
) -> Friend:
    """The friend's details checked and normalised, or :class:`ValidationError` naming the
    field. ``region`` reads a phone number without its country code (the client's country)."""
    names = {}
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        cleaned = " ".join((_checked(check_single_line, value, field) or "").split())
        if not cleaned:
            raise ValidationError(_("Enter a name."), field=field)
        if len(cleaned) > NAME_MAX:
            raise ValidationError(
                _("Keep it to %(most)d characters or fewer.", most=NAME_MAX), field=field
            )
        names[field] = cleaned
    found_email = _checked(normalise_email, email, "email")
    found_phone = _checked(lambda value: normalise_phone(value, region), phone, "phone")
    if not found_email and not found_phone:
        raise ValidationError(_("Give an email address or a phone number."), field="email")
    text = (note or "").replace("\r\n", "\n").replace("\r", "\n").strip() or None
    if text and len(text) > NOTE_MAX:
        raise ValidationError(
            _("Keep the note to %(most)d characters or fewer.", most=NOTE_MAX), field="note"
        )
    return Friend(
        str(names["first_name"]),
        str(names["last_name"]),
        found_email,
        found_phone,
        _checked(check_multi_line, text, "note"),
    )


def refer(account: PortalAccount, friend: Friend) -> Referred:
    """The client of ``account`` refers ``friend`` (flushed; the request commits). Raises
    :class:`NotFound` unless the account's record is a client's."""
    client = account.record
    if client.kind != RecordKind.CLIENT:
        raise NotFound(_("Only clients can refer someone."))
    actor = Actor.client(account)
    known = known_person(friend)
    details: dict[str, Any] = {
        "subject": friend.full_name,
        "name": friend.full_name,
        "email": friend.email,
        "phone": friend.phone,
        "message": friend.note,
    }
    if known is not None:
        # Staff only: the client's answer (and the notices the household gets, which carry
        # the label and the note, not the summary) must not tell who the office knows.
        details.update(subject=f"{friend.full_name} (already known: {known})", known=True)
        events.emit("portal.referral", actor=actor, record=client, details=details)
        return Referred(friend, None)
    lead = _new_lead(client, friend, actor)
    events.emit("portal.referral", actor=actor, record=client, details=details)
    events.emit(
        "portal.referral.received",
        # The household rule is the referring client's household, not the lead's: with the
        # actor taken as primary, no switch of this event can write to the friend.
        actor=replace(actor, is_primary=True),
        record=lead,
        details={"referred_by": referred_by(actor, client), "client_record_id": client.id},
    )
    return Referred(friend, lead)


def referred_by(actor: Actor, client: Record) -> str:
    """ "Referred by Cora Client" (a co-applicant: "Referred by Carl Partner, for Cora
    Client")."""
    if actor.is_primary or actor.label == client.display_name:
        return f"Referred by {client.display_name}"
    return f"Referred by {actor.label}, for {client.display_name}"


def known_person(friend: Friend) -> str | None:
    """How staff would find a record whose (or whose people's) email address or phone number
    is the friend's ("lead Bea Known", "client Cora Client"), or None."""
    record_match = []
    contact_match = []
    if friend.email:
        record_match.append(func.lower(Record.email) == friend.email.lower())
        contact_match.append(func.lower(Contact.email) == friend.email.lower())
    if friend.phone:
        record_match += [Record.phone == friend.phone, Record.mobile == friend.phone]
        contact_match.append(Contact.phone == friend.phone)
    found = db.session.scalar(select(Record).where(or_(*record_match)).order_by(Record.id))
    if found is None:
        found = db.session.scalar(
            select(Record)
            .join(Contact, Contact.record_id == Record.id)
            .where(or_(*contact_match))
            .order_by(Record.id)
        )
    return None if found is None else f"{found.kind.label.lower()} {found.display_name}"


def _new_lead(client: Record, friend: Friend, actor: Actor) -> Record:
    notes = referred_by(actor, client) + "."
    if friend.note:
        notes += "\n\n" + friend.note
    lead = Record(
        kind=RecordKind.LEAD,
        first_name=friend.first_name,
        last_name=friend.last_name,
        email=friend.email,
        phone=friend.phone,
        country=client.country,
        source=SOURCE,
        notes=notes,
        assigned_agent_id=client.assigned_agent_id,
        preferred_contact=ContactMethod.EMAIL if friend.email else ContactMethod.PHONE,
        # They never agreed to our mail: a workflow's email waits until staff record consent.
        email_opt_in=False,
        sms_opt_in=False,
    )
    tag = db.session.scalar(select(Tag).where(func.lower(Tag.name) == TAG.lower()))
    if tag is not None:
        lead.tags = [tag]  # on it from the start: its workflows start with "record created"
    db.session.add(lead)
    records.save(lead, created=True, actor=actor)
    return lead


def _checked(
    check: Callable[[str | None], str | None], value: str | None, field: str
) -> str | None:
    try:
        return check(value)
    except ValidationError as exc:
        raise ValidationError(exc.message, field=field) from None

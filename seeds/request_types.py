"""The request types every office starts with, and their first fields. Admins change them
afterwards: seeding adds a type whose key is missing and never touches one that exists
(its fields included), so an admin's edits, archived fields and switched-off types stay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models import RequestEvent, RequestField, RequestType, db

#: (key, name, description, event, asks policy, fields); each field (label, type, settings,
#: required).
REQUEST_TYPES: tuple[tuple[str, str, str, RequestEvent, bool, tuple[Any, ...]], ...] = (
    (
        "personal-change",
        "Personal change request",
        "A change to one of your personal policies: an address, a car, a person covered.",
        RequestEvent.PERSONAL,
        True,
        (
            ("What would you like to change?", "long_text", {}, True),
            ("Date the change should start", "date", {}, False),
            ("Supporting documents", "file", {}, False),
        ),
    ),
    (
        "commercial-change",
        "Commercial change request",
        "A change to one of your business policies.",
        RequestEvent.COMMERCIAL,
        True,
        (
            ("Business name", "text", {}, False),
            ("What would you like to change?", "long_text", {}, True),
            ("Effective date", "date", {}, False),
            ("Documents", "file", {}, False),
        ),
    ),
    (
        "general",
        "General request",
        "Anything else you need from us.",
        RequestEvent.GENERAL,
        False,
        (
            ("How can we help?", "long_text", {}, True),
            ("Files", "file", {}, False),
        ),
    ),
    (
        "add-driver",
        "Add a driver",
        "Someone new drives one of your cars.",
        RequestEvent.PERSONAL,
        False,
        (
            ("Full name", "text", {}, True),
            ("Date of birth", "date", {"max": "today"}, True),
            ("Licence number", "text", {}, False),
            ("Relationship to you", "choice", {"options": ["Spouse", "Child", "Other"]}, False),
        ),
    ),
    (
        "add-vehicle",
        "Add a vehicle",
        "A car or another vehicle to add to your policy.",
        RequestEvent.PERSONAL,
        False,
        (
            ("Year", "number", {"min": "1900", "max": "2100"}, False),
            ("Make", "text", {}, True),
            ("Model", "text", {}, True),
            ("VIN", "text", {"max_length": 17}, False),
        ),
    ),
)


def ensure_request_types() -> int:
    """Add the request types whose key is missing; returns how many were added."""
    existing = set(db.session.scalars(select(RequestType.key)))
    added = 0
    for position, (key, name, description, event, asks_policy, fields) in enumerate(REQUEST_TYPES):
        if key in existing:
            continue
        request_type = RequestType(
            key=key,
            name=name,
            description=description,
            event=event,
            asks_policy=asks_policy,
            active=True,
            position=position,
        )
        for index, (label, field_type, settings, required) in enumerate(fields):
            request_type.fields.append(
                RequestField(
                    label=label,
                    field_type=field_type,
                    settings=settings,
                    required=required,
                    position=index,
                )
            )
        db.session.add(request_type)
        added += 1
    db.session.flush()
    return added

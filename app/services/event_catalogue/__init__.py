"""The catalogue of events: every action of a client, a staff member or the system, by key.

The keys are the contract between the services that emit events and the notification rules
that decide who hears about them. Each :class:`EventType` says who causes it, how it reads in
the activity log, what it tells a client and the switches a new office starts with. Events of
features not built yet are ``planned``: the matrix offers no switches for them and emitting
one is an error.
"""

from __future__ import annotations

from app.services.event_catalogue.base import CLIENT, STAFF, SYSTEM, Defaults, EventType
from app.services.event_catalogue.client import CLIENT_EVENTS
from app.services.event_catalogue.staff import STAFF_EVENTS, SYSTEM_EVENTS

__all__ = ["CATALOGUE", "CLIENT", "EMITTED", "STAFF", "SYSTEM", "Defaults", "EventType"]

CATALOGUE: dict[str, EventType] = {
    e.key: e for e in (*CLIENT_EVENTS, *STAFF_EVENTS, *SYSTEM_EVENTS)
}

#: The events something in the code emits: the ones the notification matrix offers switches for.
EMITTED: dict[str, EventType] = {key: e for key, e in CATALOGUE.items() if not e.planned}


def emittable(key: str) -> EventType:
    """The event type of ``key``, refusing keys the catalogue lacks or only plans."""
    spec = CATALOGUE.get(key)
    if spec is None:
        raise ValueError(f"unknown event key {key!r}; add it to the catalogue first")
    if spec.planned:
        raise ValueError(
            f"{key} is marked planned in the catalogue: drop the flag now that it is emitted, "
            "so the notification matrix shows its switches"
        )
    return spec

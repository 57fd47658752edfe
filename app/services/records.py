"""Records (leads and clients): saving one from the staff form and what follows from it,
tagging and converting one from its page, and giving many self service at once.

A save decides its own follow-ups: tags put on or taken off are logged, and workflows follow
a record that was created, changed kind or had its tags changed (no other field of a record is
a workflow condition). What that did to the record's runs comes back to the caller to show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import InstanceState, selectinload

from app.services import contacts, custom_fields, portal_accounts, tags, workflows
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.record_checks import (
    EARLIEST_BIRTH_DATE,
    check_birth_date,
    check_contact_preference,
    clean_record,
)
from models import AccountStatus, Record, RecordKind, Tag, User, db

__all__ = [
    "EARLIEST_BIRTH_DATE",
    "BulkPreview",
    "RunsChanged",
    "change_tag",
    "check_birth_date",
    "check_contact_preference",
    "clean_record",
    "convert_to_client",
    "enable_self_service_for",
    "running_runs",
    "save",
    "self_service_preview",
]


@dataclass(frozen=True)
class RunsChanged:
    """How the number of a record's running workflow runs moved with a change."""

    started: int = 0
    stopped: int = 0

    @classmethod
    def between(cls, before: int, after: int) -> RunsChanged:
        return cls(started=max(after - before, 0), stopped=max(before - after, 0))


def running_runs(record: Record) -> int:
    """The record's workflow runs under way (unsaved changes are not flushed to count them)."""
    with db.session.no_autoflush:
        return len(workflows.runs_of(record, running=True))


def save(
    record: Record,
    *,
    created: bool,
    custom_values: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> RunsChanged:
    """Check a record a staff member (``actor``) filled in, save it (flushed) with its
    ``custom_values`` (custom field form names to values), and let what depends on it follow.

    Call it with the form's changes still unsaved: what changed (kind, tags) is read from the
    record's history. Raises :class:`ValidationError`, naming the field, before anything is
    written. Returns what happened to an existing record's running workflows (a new record's
    runs all start with it: nothing to compare).
    """
    state: InstanceState[Record] = sa_inspect(record)
    kind_changed = state.attrs.kind.history.has_changes()
    tag_history = state.attrs.tags.history
    added: list[Tag] = list(tag_history.added or ())
    removed: list[Tag] = list(tag_history.deleted or ())
    before = 0 if created else running_runs(record)
    clean_record(record)
    contacts.clean_contacts(record)
    portal_accounts.sync_login_email(record)
    db.session.flush()  # a new record needs its id
    if custom_values:
        custom_fields.set_values(record, custom_values)
    if created:
        workflows.evaluate([record.id], created=True)
        return RunsChanged()
    tags.log_changes(record.id, added=added, removed=removed, actor=actor)
    if kind_changed:
        workflows.evaluate([record.id])
    elif added or removed:
        workflows.evaluate([record.id], tag_ids={tag.id for tag in (*added, *removed)})
    return RunsChanged.between(before, running_runs(record))


def convert_to_client(record: Record) -> bool:
    """Make a lead a client (its workflows follow); returns False if it already was one."""
    if record.kind == RecordKind.CLIENT:
        return False
    record.kind = RecordKind.CLIENT
    db.session.flush()
    workflows.evaluate([record.id])
    return True


def change_tag(record: Record, tag: Tag, *, add: bool, actor: Actor) -> tuple[bool, RunsChanged]:
    """Put ``tag`` on the record (or take it off): whether that changed anything, and what it
    did to the record's running workflows."""
    before = running_runs(record)
    if add:
        changed = tags.add_tag([record.id], tag, actor=actor)
    else:
        changed = tags.remove_tag([record.id], tag, actor=actor)
    return bool(changed), RunsChanged.between(before, running_runs(record))


@dataclass
class BulkPreview:
    """Records chosen for self service, and those it would not work for as asked."""

    records: list[Record]
    #: No email address: the password always goes by email, so these will be refused.
    without_email: list[Record] = field(default_factory=list)
    #: Enabled already: they get a new link and password, the old ones stop working.
    already: list[Record] = field(default_factory=list)


def self_service_preview(record_ids: Iterable[int]) -> BulkPreview:
    """What enabling self service for these records would do, before anyone confirms."""
    records = list(
        db.session.scalars(
            select(Record)
            .where(Record.id.in_(sorted(set(record_ids))))
            .options(selectinload(Record.portal_account))
        )
    )
    return BulkPreview(
        records=records,
        without_email=[r for r in records if not r.email],
        already=[
            r
            for r in records
            if r.portal_account and r.portal_account.status == AccountStatus.ENABLED
        ],
    )


def enable_self_service_for(record_ids: Iterable[int], by: User) -> tuple[int, list[str]]:
    """Enable self service for each record, each with its own link and password. A record
    that cannot have it is left as it was; returns how many were enabled, and why the others
    were refused (one line per record)."""
    records = db.session.scalars(select(Record).where(Record.id.in_(sorted(set(record_ids)))))
    done, refused = 0, []
    for record in records:
        try:
            with db.session.begin_nested():
                portal_accounts.enable_self_service(record, by)
        except ValidationError as exc:
            refused.append(f"{record.display_name}: {exc.message}")
        else:
            done += 1
    return done, refused

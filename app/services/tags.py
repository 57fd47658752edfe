"""Tags: the admin-managed list, and a staff member putting tags on records one by one or in
bulk. Such a change decides what follows: each record that gained or lost the tag logs it
(with an actor) and the workflows the tag starts or stops follow at once. The rows themselves
are written by :mod:`app.services.tagging`, which workflow actions use too."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, select

from app.services import events, tagging, workflows
from app.services.errors import ValidationError
from app.services.events import Actor
from app.services.validation import check_colour, check_unique_name
from models import Record, Tag, Workflow, WorkflowAction, db


def check_tag_name(name: str | None, *, exclude_tag_id: int | None = None) -> str:
    """A trimmed, unused tag name (compared without regard to case)."""
    return check_unique_name(name, Tag.name, what="tag", max_length=64, exclude_id=exclude_tag_id)


def check_removable(tag: Tag) -> None:
    """A tag a workflow starts on, or that a workflow's action adds or removes, cannot be
    deleted: the trigger would be refused by the database, and an action would lose its tag
    and do nothing. The refusal names the workflows to change first."""
    triggers = db.session.scalars(
        select(Workflow.name).where(Workflow.tag_id == tag.id).order_by(Workflow.name)
    ).all()
    acting = db.session.scalars(
        select(Workflow.name)
        .join(WorkflowAction, WorkflowAction.workflow_id == Workflow.id)
        .where(WorkflowAction.tag_id == tag.id)
        .distinct()
        .order_by(Workflow.name)
    ).all()
    uses = [f"{name} (starts on it)" for name in triggers]
    uses += [f"{name} (an action adds or removes it)" for name in acting if name not in triggers]
    if uses:
        raise ValidationError(
            f"{tag.name} is used by the workflows {', '.join(uses)}; change them first, "
            "then delete the tag."
        )


def create_tag(name: str, colour: str = "#6c757d", description: str | None = None) -> Tag:
    tag = Tag(name=check_tag_name(name), colour=check_colour(colour), description=description)
    db.session.add(tag)
    db.session.flush()
    return tag


def add_tag(
    records: Iterable[int] | Select,
    tag: Tag,
    *,
    evaluate: bool = True,
    actor: Actor | None = None,
) -> list[int]:
    """Put ``tag`` on the records (ids, or a select of ids); returns the ids that gained it.
    Workflows that start or stop on the tag follow at once (``evaluate``). With an ``actor``
    (a staff member's change), each record that gained the tag logs it."""
    gained = tagging.put(records, tag)
    _log(gained, tag, "added", actor)
    if evaluate and gained:
        workflows.evaluate(gained, tag_ids={tag.id})
    return gained


def remove_tag(
    records: Iterable[int] | Select,
    tag: Tag,
    *,
    evaluate: bool = True,
    actor: Actor | None = None,
) -> list[int]:
    """Take ``tag`` off the records; returns the ids that lost it (logged as for add_tag)."""
    lost = tagging.take_off(records, tag)
    _log(lost, tag, "removed", actor)
    if evaluate and lost:
        workflows.evaluate(lost, tag_ids={tag.id})
    return lost


def log_changes(
    record_id: int, *, added: Sequence[Tag], removed: Sequence[Tag], actor: Actor | None
) -> None:
    """Tags already put on or taken off one record (through its form): log each change."""
    for tag in added:
        _log([record_id], tag, "added", actor)
    for tag in removed:
        _log([record_id], tag, "removed", actor)


def _log(record_ids: list[int], tag: Tag, change: str, actor: Actor | None) -> None:
    if actor is None or not record_ids:
        return
    details = {"tag": tag.name, "change": change, "subject": f"{change} {tag.name}"}
    for chunk in tagging.chunks(record_ids):
        events.emit_many(
            "staff.tags.changed",
            actor=actor,
            records=db.session.scalars(
                select(Record).where(Record.id.in_(chunk)).order_by(Record.id)
            ),
            details_for=lambda record: details,
        )

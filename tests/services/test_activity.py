"""The activity log is append-only and its hash chain shows any tampering."""

from datetime import date

import pytest
from sqlalchemy import delete, text, update

from app.services import activity
from models import ActivityChainHead, ActivityEntry, AppendOnlyError, db


def write(n, record_id=7):
    for i in range(n):
        activity.append(
            event_key="staff.self_service.viewed",
            actor_kind="staff",
            actor_label="Sam",
            summary=f"entry {i}",
            record_id=record_id,
            record_label="Rita",
            details={"i": i},
        )
    db.session.commit()


def test_a_fresh_chain_verifies(ctx):
    write(5)
    result = activity.verify()
    assert result.ok and result.checked == 5


def one(summary):
    activity.append(
        event_key="staff.self_service.viewed",
        actor_kind="staff",
        actor_label="Sam",
        summary=summary,
    )


def test_entries_rolled_back_with_a_savepoint_leave_the_chain_whole(ctx):
    one("kept 1")
    with pytest.raises(RuntimeError), db.session.begin_nested():
        one("undone")
        db.session.flush()
        raise RuntimeError("the action failed")
    one("kept 2")
    with db.session.begin_nested():
        one("kept 3")
    one("kept 4")
    db.session.commit()
    summaries = db.session.scalars(db.select(ActivityEntry.summary).order_by(ActivityEntry.id))
    assert list(summaries) == ["kept 1", "kept 2", "kept 3", "kept 4"]
    assert activity.verify().ok


def test_each_entry_points_at_the_one_before(ctx):
    write(3)
    entries = db.session.scalars(db.select(ActivityEntry).order_by(ActivityEntry.id)).all()
    assert entries[0].prev_hash == activity.GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]


def test_the_orm_refuses_to_change_or_delete_entries(ctx):
    write(1)
    entry = db.session.scalar(db.select(ActivityEntry))
    entry.summary = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    entry = db.session.scalar(db.select(ActivityEntry))
    db.session.delete(entry)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(AppendOnlyError):
        db.session.execute(update(ActivityEntry).values(summary="x"))
    with pytest.raises(AppendOnlyError):
        db.session.execute(delete(ActivityEntry))


def test_a_changed_row_is_found(ctx):
    write(4)
    second = db.session.scalars(db.select(ActivityEntry.id).order_by(ActivityEntry.id)).all()[1]
    # Tampering below the ORM, as someone with database access would.
    db.session.execute(
        text("UPDATE activity_entries SET summary = 'nothing happened' WHERE id = :id"),
        {"id": second},
    )
    db.session.commit()
    result = activity.verify()
    assert not result.ok and result.bad_entry_id == second
    assert "content was changed" in result.problem


def test_a_removed_row_is_found(ctx):
    write(4)
    ids = db.session.scalars(db.select(ActivityEntry.id).order_by(ActivityEntry.id)).all()
    db.session.execute(text("DELETE FROM activity_entries WHERE id = :id"), {"id": ids[1]})
    db.session.commit()
    result = activity.verify()
    assert not result.ok and result.bad_entry_id == ids[2]


def test_removing_the_newest_rows_is_found(ctx):
    write(3)
    last = db.session.scalars(db.select(ActivityEntry.id).order_by(ActivityEntry.id)).all()[-1]
    db.session.execute(text("DELETE FROM activity_entries WHERE id = :id"), {"id": last})
    db.session.commit()
    result = activity.verify()
    assert not result.ok and "newest entries were removed" in result.problem


def test_the_cli_says_whether_the_log_is_intact(app):
    with app.app_context():
        write(2)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["activity", "verify"])
    assert result.exit_code == 0 and "intact: 2 entries checked" in result.output
    with app.app_context():
        db.session.execute(text("UPDATE activity_entries SET actor_label = 'Mallory'"))
        db.session.commit()
    result = runner.invoke(args=["activity", "verify"])
    assert result.exit_code == 1 and "tampered with at entry" in result.output


def test_entries_added_in_bulk_join_the_chain_between_single_ones(ctx):
    one("before")
    added = activity.append_many(
        [
            {
                "event_key": "staff.tags.changed",
                "actor_kind": "staff",
                "actor_label": "Sam",
                "record_id": i,
                "record_label": f"Record {i}",
                "summary": f"bulk {i}",
                "details": {"tag": "VIP", "when": date(2026, 1, i + 1)},
            }
            for i in range(3)
        ]
    )
    one("after")
    db.session.commit()
    assert added == 3
    entries = db.session.scalars(db.select(ActivityEntry).order_by(ActivityEntry.id)).all()
    assert [e.summary for e in entries] == ["before", "bulk 0", "bulk 1", "bulk 2", "after"]
    assert entries[2].details == {"tag": "VIP", "when": "2026-01-02"}
    assert activity.verify().ok
    head = db.session.get(ActivityChainHead, 1)
    assert (head.last_entry_id, head.last_hash) == (entries[-1].id, entries[-1].hash)


def test_a_bulk_add_that_ends_the_chain_leaves_the_head_on_its_last_entry(ctx):
    one("first")
    activity.append_many(
        [
            {
                "event_key": "staff.tags.changed",
                "actor_kind": "staff",
                "actor_label": "Sam",
                "summary": f"bulk {i}",
            }
            for i in range(2)
        ]
    )
    db.session.commit()
    assert activity.append_many([]) == 0
    newest = db.session.scalars(db.select(ActivityEntry).order_by(ActivityEntry.id.desc())).first()
    head = db.session.get(ActivityChainHead, 1)
    assert newest.summary == "bulk 1" and head.last_entry_id == newest.id
    assert activity.verify().ok

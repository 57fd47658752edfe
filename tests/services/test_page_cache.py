"""Which commits give a record's pages, every list of records, or every page, a new version:
what the page cache relies on to never serve a page older than what it shows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from app.redis import get_redis
from app.services import activity
from app.services import page_cache as cache
from app.services.sessions import start
from models import (
    Conversation,
    ConversationKind,
    ConversationMessage,
    ConversationStatus,
    CoverageType,
    Product,
    Record,
    SignInSession,
    db,
)
from tests import factories


@pytest.fixture
def two(app: Any) -> Any:
    with app.app_context():
        first, second = factories.record(), factories.record()
        yield db.session.get(Record, first.id), db.session.get(Record, second.id)


def versions(*records: Record) -> tuple[Any, ...]:
    """The office's version and each record's, as a page would be looked up now."""
    keys = [cache.OFFICE_KEY, *(cache.record_key(r.id) for r in records)]
    client = get_redis()
    for key in keys:
        client.set(key, "before", nx=True)
    return tuple(client.mget(keys))


def look(sid: str, record_id: int, locale: str, address: str) -> Any:
    """A portal page's lookup: the office's version and its record's."""
    return cache.lookup(sid, (cache.OFFICE, record_id), locale, address, seconds=60)


def test_a_rows_change_renews_its_record_only(two):
    mine, other = two
    office, before, untouched = versions(mine, other)
    factories.product(mine, carrier="Aetna")
    assert versions(mine, other) == (office, versions(mine)[1], untouched)
    assert versions(mine)[1] != before


def test_the_record_itself_and_a_deleted_row_renew_it(two):
    mine, _ = two
    before = versions(mine)
    mine.phone = "+12025550100"
    db.session.commit()
    after = versions(mine)
    assert after[1] != before[1] and after[0] == before[0]
    product = factories.product(mine)
    before = versions(mine)
    db.session.delete(db.session.get(Product, product.id))
    db.session.commit()
    assert versions(mine)[1] != before[1]


def test_a_row_moved_to_another_record_renews_both(two):
    mine, other = two
    product = factories.product(mine)
    before = versions(mine, other)
    db.session.get(Product, product.id).record_id = other.id
    db.session.commit()
    after = versions(mine, other)
    assert after[1] != before[1] and after[2] != before[2] and after[0] == before[0]


def test_a_row_that_names_its_record_through_a_parent_renews_that_record(two):
    mine, other = two
    conversation = Conversation(
        record_id=mine.id,
        kind=ConversationKind.STAFF_REQUEST,
        status=ConversationStatus.WAITING,
        subject="Renewal",
    )
    db.session.add(conversation)
    db.session.commit()
    before = versions(mine, other)
    db.session.add(
        ConversationMessage(
            conversation_id=conversation.id, side="staff", author_name="Sam Staff", body="Hi"
        )
    )
    db.session.commit()
    after = versions(mine, other)
    assert after[1] != before[1]
    assert after[0] == before[0] and after[2] == before[2]


def test_what_belongs_to_no_record_renews_every_page(two):
    mine, _ = two
    before = versions(mine)
    db.session.add(CoverageType(name="Dental"))
    db.session.commit()
    assert versions(mine)[0] != before[0]


@pytest.mark.parametrize(
    "statement",
    [
        lambda: update(Product).values(carrier="Humana"),
        lambda: db.text("UPDATE products SET carrier = 'Humana'"),
    ],
    ids=["update statement", "plain SQL"],
)
def test_a_statement_that_writes_many_rows_renews_every_page(two, statement):
    mine, _ = two
    factories.product(mine)
    before = versions(mine)
    db.session.execute(statement())
    db.session.commit()
    assert versions(mine)[0] != before[0]


def test_what_no_page_shows_renews_nothing(two):
    mine, _ = two
    staff = factories.staff()
    before = versions(mine)
    activity.append(
        event_key="portal.document.downloaded",
        actor_kind="system",
        actor_label="Portico",
        summary="Looked at",
        record_id=mine.id,
    )
    sid = start(user=staff)
    db.session.commit()
    db.session.execute(
        update(SignInSession).where(SignInSession.ended_at.is_(None)).values(ip="127.0.0.1")
    )
    db.session.commit()
    assert sid and versions(mine) == before


def test_a_rolled_back_change_renews_nothing(two):
    mine, _ = two
    before = versions(mine)
    mine.phone = "+12025550111"
    db.session.flush()
    db.session.rollback()
    assert versions(mine) == before


def test_a_kept_page_is_found_only_at_the_versions_it_was_kept_at(two):
    mine, _ = two
    found = look("sid-1", mine.id, "en", "/portal/home?")
    assert found is not None and found.body is None
    cache.keep(found, b'<script nonce="abc123">x</script>', "abc123")
    again = look("sid-1", mine.id, "en", "/portal/home?")
    assert again is not None and again.body is not None
    assert cache.serve(again, "new456") == b'<script nonce="new456">x</script>'
    for other in (("sid-2", "en", "/portal/home?"), ("sid-1", "es", "/portal/home?")):
        miss = look(other[0], mine.id, other[1], other[2])
        assert miss is not None and miss.body is None
    cache.changed([mine.id])
    stale = look("sid-1", mine.id, "en", "/portal/home?")
    assert stale is not None and stale.body is None


def test_a_lost_version_matches_no_kept_page(two):
    mine, _ = two
    found = look("sid-1", mine.id, "en", "/portal/home?")
    cache.keep(found, b"page", "")
    get_redis().delete(cache.record_key(mine.id))  # expired, or Redis lost it
    found = look("sid-1", mine.id, "en", "/portal/home?")
    assert found is not None and found.body is None


def test_any_records_change_renews_the_records_version_and_not_the_offices(two):
    mine, other = two
    client = get_redis()
    client.set(cache.RECORDS_KEY, "before")
    office = versions()[0]
    factories.product(other, carrier="Humana")
    assert client.get(cache.RECORDS_KEY) != b"before"
    assert versions()[0] == office
    # A list of records kept at the old version is not served again.
    found = cache.lookup(
        "sid-1", (cache.OFFICE, cache.RECORDS), "en", "/admin/record/?page=1", seconds=60
    )
    cache.keep(found, b"list", "")
    assert look_list().body == b"list"
    mine.phone = "+12025550199"
    db.session.commit()
    assert look_list().body is None


def look_list() -> Any:
    return cache.lookup(
        "sid-1", (cache.OFFICE, cache.RECORDS), "en", "/admin/record/?page=1", seconds=60
    )


def test_a_session_keeps_at_most_so_many_pages_at_once(two):
    kept = []
    for page in range(5):
        found = cache.lookup(
            "sid-9", (cache.OFFICE, cache.RECORDS), "en", f"/list?page={page}", seconds=60
        )
        kept.append(cache.keep(found, b"list", "", at_most=3))
    assert kept == [True, True, True, False, False]
    # Another session has its own allowance.
    found = cache.lookup("sid-8", (cache.OFFICE, cache.RECORDS), "en", "/list?page=9", seconds=60)
    assert cache.keep(found, b"list", "", at_most=3)


def test_the_cache_off_looks_nothing_up(two):
    assert cache.lookup("sid-1", (cache.OFFICE,), "en", "/portal/home", seconds=0) is None

import pytest
from sqlalchemy import insert, select

from app.services import activity
from models import ActivityEntry, db


def test_the_log_is_read_only_in_the_admin(app, admin_client):
    with app.app_context():
        activity.append(
            event_key="staff.self_service.viewed",
            actor_kind="staff",
            actor_label="Sam",
            summary="Sam viewed the client's portal.",
            record_id=1,
            record_label="Rita",
        )
        db.session.commit()
        entry_id = db.session.scalar(select(ActivityEntry.id))
    listing = admin_client.get("/admin/activity/").get_data(as_text=True)
    assert (
        "Sam viewed the client&#39;s portal." in listing
        or "Sam viewed the client's portal." in listing
    )
    assert "/admin/activity/edit/" not in listing and "/admin/activity/delete/" not in listing
    assert admin_client.get(f"/admin/activity/edit/?id={entry_id}").status_code in (302, 404)
    response = admin_client.submit(
        "/admin/activity/delete/", {"id": entry_id}, page="/admin/activity/"
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(ActivityEntry, entry_id) is not None


def test_filters_by_event_and_record(app, agent_client):
    with app.app_context():
        for key, record in (("staff.self_service.viewed", 1), ("staff.self_service.enabled", 2)):
            activity.append(
                event_key=key,
                actor_kind="staff",
                actor_label="Sam",
                summary=f"{key} on {record}",
                record_id=record,
                record_label="R",
            )
        db.session.commit()
    html = agent_client.get("/admin/activity/?flt0_event_is=staff.self_service.enabled").get_data(
        as_text=True
    )
    assert "staff.self_service.enabled on 2" in html and "viewed on 1" not in html
    html = agent_client.get("/admin/activity/?flt0_record_is=1").get_data(as_text=True)
    assert "viewed on 1" in html and "enabled on 2" not in html


@pytest.fixture
def hundred_thousand_entries(app):
    with app.app_context():
        rows = [
            {
                "occurred_at": activity.utcnow(),
                "event_key": "portal.login.password",
                "actor_kind": "client",
                "actor_label": f"Client {n}",
                "record_id": n % 500,
                "record_label": f"Record {n % 500}",
                "summary": f"Client {n} signed in.",
                "details": {},
                "prev_hash": "0" * 64,
                "hash": "0" * 64,
            }
            for n in range(100_000)
        ]
        db.session.execute(insert(ActivityEntry), rows)
        db.session.commit()


@pytest.mark.usefixtures("hundred_thousand_entries")
def test_the_global_log_with_100000_entries_pages_in_few_queries(agent_client, count_queries):
    counts = []
    for page in (0, 10, 1999):
        with count_queries() as counter:
            response = agent_client.get(f"/admin/activity/?page={page}")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('class="col-summary"') == 50
        counts.append(counter.count)
    assert len(set(counts)) == 1 and counts[0] <= 10, counts


def test_the_event_filter_offers_only_events_that_happen(app, admin_client, monkeypatch):
    from app.services.event_catalogue import CATALOGUE
    from tests.services.test_events import PLANNED

    monkeypatch.setitem(CATALOGUE, PLANNED.key, PLANNED)
    planned = [spec for spec in CATALOGUE.values() if spec.planned]
    assert planned, "nothing planned: this test has nothing left to guard"
    listing = admin_client.get("/admin/activity/").get_data(as_text=True)
    assert "(staff.self_service.enabled)" in listing  # the filter's options are on the page
    for spec in planned:
        assert f"({spec.key})" not in listing, spec.key

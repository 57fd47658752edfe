"""Reviews through the screens: staff's Request review emails the client a link, the portal's
home shows a banner until they answer, the client's form and JSON API, a low rating's task,
another client's request out of reach, the module switch, and the staff's Reviews list."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from app.services import portal_accounts
from app.services.portal_settings import get_settings
from models import Review, ReviewRequest, Task, db
from tests import factories
from tests.conftest import body_of, run_jobs
from tests.views import test_portal_details as details
from tests.views.test_portal_signin import _credentials, sign_in

cora = details.cora
signed_in = details.signed_in
api_token = details.api_token

BANNER = 'id="review-banner"'


@pytest.fixture
def reviews_on(app: Any) -> None:
    with app.app_context():
        get_settings().module_reviews = True
        db.session.commit()


def request_review(admin_client: Any, record_id: int, **kwargs: Any) -> Any:
    return admin_client.submit(
        f"/admin/reviews/request/{record_id}/",
        {},
        page=f"/admin/record/details/?id={record_id}",
        **kwargs,
    )


def pending_id(app: Any, record_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(ReviewRequest.id).where(
                ReviewRequest.record_id == record_id, ReviewRequest.answered_at.is_(None)
            )
        )


def reviews_of(app: Any, record_id: int) -> list[tuple[int, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(Review).where(Review.record_id == record_id))
        return [(r.rating, r.comment) for r in rows]


def test_module_off_means_no_page_no_api_no_banner(app, signed_in, cora):
    assert signed_in.get("/portal/review").status_code == 404
    assert signed_in.get("/portal/api/review").status_code == 404
    token = api_token(signed_in)
    response = signed_in.post(
        "/portal/api/review", json={"rating": 5}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 404
    assert "Leave a review" not in signed_in.get("/portal/home").get_data(as_text=True)
    assert reviews_of(app, cora["record_id"]) == []


def test_request_review_emails_the_client_and_the_banner_stays_until_answered(
    app, admin_client, signed_in, cora, reviews_on, mailbox
):
    page = admin_client.get(f"/admin/record/details/?id={cora['record_id']}")
    assert "Request review" in page.get_data(as_text=True)
    response = request_review(admin_client, cora["record_id"], follow_redirects=True)
    assert "Review requested" in response.get_data(as_text=True)
    mailbox.clear()
    run_jobs(app)
    [message] = [m for m in mailbox.wait_for(3) if m["Subject"].startswith("How did we do?")]
    assert "cora@example.com" in message["To"]
    body = body_of(message)
    assert "Click to rate: http://portico.test/portal/review" in body

    home = signed_in.get("/portal/home").get_data(as_text=True)
    assert BANNER in home and 'href="/portal/review"' in home
    form_page = signed_in.get("/portal/review").get_data(as_text=True)
    request_id = pending_id(app, cora["record_id"])
    assert f'name="review_request_id" value="{request_id}"' in form_page
    response = signed_in.submit(
        "/portal/review",
        {"rating": "5", "comment": "Very helpful.", "review_request_id": str(request_id)},
        follow_redirects=True,
    )
    assert "Thank you for your review." in response.get_data(as_text=True)
    assert BANNER not in signed_in.get("/portal/home").get_data(as_text=True)
    assert reviews_of(app, cora["record_id"]) == [(5, "Very helpful.")]

    # A second answer to the same request is refused with a message.
    response = signed_in.submit(
        "/portal/review",
        {"rating": "1", "review_request_id": str(request_id)},
        follow_redirects=True,
    )
    assert "already answered" in response.get_data(as_text=True)
    assert reviews_of(app, cora["record_id"]) == [(5, "Very helpful.")]

    # Staff see it in the Reviews list and in the record's activity.
    listing = admin_client.get("/admin/reviews/").get_data(as_text=True)
    assert "Very helpful." in listing and "Average rating" in listing and "5.00" in listing
    activity = admin_client.get(f"/admin/activity/?flt0_record_is={cora['record_id']}")
    assert "left a review: 5 out of 5" in activity.get_data(as_text=True)


def test_request_review_is_a_post_with_the_csrf_token(app, admin_client, cora, reviews_on):
    url = f"/admin/reviews/request/{cora['record_id']}/"
    assert admin_client.post(url, data={}).status_code == 400
    assert admin_client.get(url).status_code == 405
    assert pending_id(app, cora["record_id"]) is None


def test_request_review_needs_a_client_with_portal_access(app, admin_client, reviews_on):
    with app.app_context():
        lead = factories.record(first_name="Lee", last_name="Lead", email="lee@example.com")
        db.session.commit()
        lead_id = lead.id
    response = request_review(admin_client, lead_id, follow_redirects=True)
    assert "Only a client with portal access" in response.get_data(as_text=True)
    assert pending_id(app, lead_id) is None
    response = admin_client.submit(
        "/admin/reviews/request/2147483646/", {}, page=f"/admin/record/details/?id={lead_id}"
    )
    assert response.status_code == 404


def test_out_of_range_ratings_are_refused(app, signed_in, cora, reviews_on):
    for rating in ("0", "6", "", "five"):
        response = signed_in.submit("/portal/review", {"rating": rating, "comment": "x"})
        assert response.status_code == 422
        assert "Choose from 1 to 5 stars." in response.get_data(as_text=True)
    response = signed_in.submit("/portal/review", {"rating": "4", "comment": "x" * 2001})
    assert response.status_code == 422
    assert reviews_of(app, cora["record_id"]) == []


def test_a_low_rating_makes_a_task_for_the_agent(app, signed_in, cora, reviews_on):
    signed_in.submit("/portal/review", {"rating": "2", "comment": "Slow to answer."})
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.record_id == cora["record_id"]))
        assert task.assignee_id == cora["staff_id"] and task.notes == "Slow to answer."


def test_another_client_cannot_answer_someone_elses_request(
    app, admin_client, client, cora, reviews_on
):
    request_review(admin_client, cora["record_id"])
    request_id = pending_id(app, cora["record_id"])
    with app.app_context():
        staff = factories.staff(email="other.staff@example.com")
        other = factories.record(first_name="Olga", last_name="Other", email="olga@example.com")
        portal_accounts.enable_self_service(other, staff)
        db.session.commit()
        olga = _credentials(other.id)
    sign_in(client, olga)
    assert BANNER not in client.get("/portal/home").get_data(as_text=True)
    response = client.submit(
        "/portal/review",
        {"rating": "1", "review_request_id": str(request_id)},
        page="/portal/review",
    )
    assert response.status_code == 404
    token = api_token(client)
    response = client.post(
        "/portal/api/review",
        json={"rating": 1, "review_request_id": request_id},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 404
    assert pending_id(app, cora["record_id"]) == request_id
    assert reviews_of(app, cora["record_id"]) == []


def test_api(app, admin_client, signed_in, cora, reviews_on):
    assert signed_in.get("/portal/api/review").get_json() == {"pending_request": None}
    request_review(admin_client, cora["record_id"])
    request_id = pending_id(app, cora["record_id"])
    pending = signed_in.get("/portal/api/review").get_json()["pending_request"]
    assert pending["id"] == request_id
    token = api_token(signed_in)
    headers = {"X-CSRFToken": token}

    for body, field in (
        ({"rating": 9}, "rating"),
        ({"rating": 0}, "rating"),
        ({"comment": "no rating"}, "rating"),
        ({"rating": 4, "comment": "x" * 2001}, "comment"),
        ({"rating": 4, "colour": "red"}, "colour"),
        ({"rating": "four"}, "rating"),
    ):
        response = signed_in.post("/portal/api/review", json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in response.get_json()["error"]["fields"], body
    assert signed_in.post("/portal/api/review", json={"rating": 4}).status_code == 400  # CSRF

    response = signed_in.post(
        "/portal/api/review", json={"rating": 4, "comment": "Good."}, headers=headers
    )
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["rating"] == 4 and answer["review_request_id"] == request_id
    assert signed_in.get("/portal/api/review").get_json() == {"pending_request": None}

    response = signed_in.post(
        "/portal/api/review", json={"rating": 3, "review_request_id": request_id}, headers=headers
    )
    assert response.status_code == 422
    assert "already answered" in response.get_json()["error"]["message"]
    assert reviews_of(app, cora["record_id"]) == [(4, "Good.")]


def test_reviews_list_filters_and_trend(app, admin_client, signed_in, cora, reviews_on):
    signed_in.submit("/portal/review", {"rating": "5", "comment": "Top marks."})
    signed_in.submit("/portal/review", {"rating": "3", "comment": "Middling."})
    listing = admin_client.get("/admin/reviews/").get_data(as_text=True)
    assert "4.00" in listing and "2 reviews" in listing
    assert "average per month" in listing
    assert len(re.findall(r"<tr><td>\w{3} \d{4}</td>", listing)) == 6
    filtered = admin_client.get("/admin/reviews/?flt0_rating_is=3").get_data(as_text=True)
    assert "Middling." in filtered and "Top marks." not in filtered
    by_record = admin_client.get(f"/admin/reviews/?flt0_record_is={cora['record_id']}")
    assert "Top marks." in by_record.get_data(as_text=True)
    nobody = admin_client.get(f"/admin/reviews/?flt0_record_is={cora['record_id'] + 1}")
    assert "Top marks." not in nobody.get_data(as_text=True)
    day = admin_client.get("/admin/reviews/?flt0_date_between=2020-01-01+to+2020-01-31")
    assert day.status_code == 200 and "Top marks." not in day.get_data(as_text=True)
    export = admin_client.get("/admin/reviews/export/csv/")
    assert export.status_code == 200
    csv = export.get_data(as_text=True)
    assert "Top marks." in csv and "Cora Client" in csv and "Unasked" in csv


def test_the_reviews_list_costs_the_same_with_one_review_or_many(app, admin_client, count_queries):
    from app.services import reviews as review_service
    from models import PortalAccount

    def add_reviews(count: int, start: int) -> None:
        with app.app_context():
            staff = factories.staff(email=f"staff.{start}@example.com")
            for n in range(start, start + count):
                record = factories.record(
                    first_name=f"R{n}", last_name="Many", email=f"r{n}@example.com"
                )
                portal_accounts.enable_self_service(record, staff)
                db.session.flush()
                account = db.session.scalar(
                    select(PortalAccount).where(PortalAccount.record_id == record.id)
                )
                review_service.submit(account, 1 + n % 5, f"Comment {n}")
            db.session.commit()

    def cost() -> int:
        admin_client.get("/admin/reviews/")  # warm caches (settings, roles)
        with count_queries() as counter:
            assert admin_client.get("/admin/reviews/").status_code == 200
        return counter.count

    add_reviews(1, 0)
    one = cost()
    add_reviews(12, 1)
    assert cost() == one

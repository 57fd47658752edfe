"""Reviews and referrals as an attacker or a careless click would try them: the module
switched off, one count for the page and the API, the preview's links, hostile text in the
staff's list, and months that end at midnight in the office's time zone, not in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.services import reviews as review_service
from app.services.errors import ValidationError
from models import PortalAccount, Record, RecordKind, Review, Task, db
from tests.conftest import run_jobs
from tests.views import test_portal_details as details
from tests.views.test_referral import leads, refer
from tests.views.test_reviews import pending_id, request_review, reviews_of, reviews_on

cora = details.cora
signed_in = details.signed_in
api_token = details.api_token
reviews_on = reviews_on  # a fixture, used by name

THANKS = "Thank you for your review."


# -- Request review ------------------------------------------------------------------------------


def test_no_review_is_requested_while_the_module_is_off(app, admin_client, cora, mailbox):
    # The email's link would lead to a page that does not exist (404) and no banner shows.
    page = admin_client.get(f"/admin/record/details/?id={cora['record_id']}")
    assert "Request review" not in page.get_data(as_text=True)
    response = request_review(admin_client, cora["record_id"], follow_redirects=True)
    assert "Switch the Reviews module on" in response.get_data(as_text=True)
    assert pending_id(app, cora["record_id"]) is None
    mailbox.clear()
    run_jobs(app)
    assert not [m for m in mailbox.to("cora@example.com") if "How did we do" in m["Subject"]]


# -- limits --------------------------------------------------------------------------------------


def test_reviews_are_limited_per_account_page_and_api_together(
    app, fresh_minute, signed_in, cora, reviews_on, monkeypatch
):
    # Each review tells the agent (and a low one makes a task): a script must not flood them.
    from portal import limits

    monkeypatch.setattr(limits, "REVIEW_LIMIT", "2 per minute")
    assert signed_in.submit("/portal/review", {"rating": "0"}).status_code == 422  # not taken
    assert signed_in.submit("/portal/review", {"rating": "1"}).status_code == 302
    token = api_token(signed_in)
    headers = {"X-CSRFToken": token}
    response = signed_in.post("/portal/api/review", json={"rating": 1}, headers=headers)
    assert response.status_code == 201
    assert signed_in.submit("/portal/review", {"rating": "1"}).status_code == 429
    response = signed_in.post("/portal/api/review", json={"rating": 1}, headers=headers)
    assert response.status_code == 429 and response.get_json()["error"]["code"] == 429
    assert len(reviews_of(app, cora["record_id"])) == 2


# -- the preview ---------------------------------------------------------------------------------


def test_the_previews_banner_stays_in_the_preview(
    app, admin_client, agent_client, cora, reviews_on
):
    request_review(admin_client, cora["record_id"])
    home = agent_client.get(f"/portal/preview/{cora['record_id']}/home").get_data(as_text=True)
    banner = re.search(r'id="review-banner".*?</p>', home)
    assert banner and f'href="/portal/preview/{cora["record_id"]}/review"' in banner.group(0)
    page = agent_client.get(f"/portal/preview/{cora['record_id']}/review")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Send my review" not in html
    response = agent_client.post(
        f"/portal/preview/{cora['record_id']}/review", data={"rating": "1"}
    )
    assert response.status_code in (403, 405)
    # Staff signed in to the panel are not a signed-in client of the portal itself.
    assert agent_client.post("/portal/review", data={"rating": "1"}).status_code in (302, 400)
    assert agent_client.post("/portal/api/review", json={"rating": 1}).status_code in (400, 401)
    assert reviews_of(app, cora["record_id"]) == []


# -- hostile text --------------------------------------------------------------------------------


def test_hostile_comments_and_names_are_text_in_the_staff_list(
    app, admin_client, signed_in, cora, reviews_on
):
    with app.app_context():
        db.session.get(Record, cora["record_id"]).first_name = "<img src=x onerror=alert(1)>"
        db.session.commit()
    comment = "<script>alert('x')</script>"
    assert (
        signed_in.submit("/portal/review", {"rating": "1", "comment": comment}).status_code == 302
    )
    listing = admin_client.get("/admin/reviews/").get_data(as_text=True)
    assert "<script>alert" not in listing and "<img src=x" not in listing
    assert "&lt;script&gt;" in listing


# -- the trend -----------------------------------------------------------------------------------


def add_review(app: Any, record_id: int, rating: int, at: datetime) -> None:
    with app.app_context():
        account = db.session.scalar(
            select(PortalAccount).where(PortalAccount.record_id == record_id)
        )
        db.session.add(
            Review(record_id=record_id, account_id=account.id, rating=rating, created_at=at)
        )
        db.session.commit()


def test_the_trend_counts_months_in_the_office_time_zone(app, cora):
    app.config["PORTICO_TIMEZONE"] = "America/New_York"
    # 31 Dec, 23:30 in New York is already 1 January in UTC; 1 Dec 00:30 there is 05:30 UTC.
    add_review(app, cora["record_id"], 1, datetime(2027, 1, 1, 4, 30, tzinfo=UTC))
    add_review(app, cora["record_id"], 5, datetime(2026, 12, 1, 5, 30, tzinfo=UTC))
    add_review(app, cora["record_id"], 3, datetime(2026, 12, 1, 4, 30, tzinfo=UTC))  # 30 Nov
    with app.app_context():
        months = review_service.trend(6, now=datetime(2027, 1, 1, 4, 45, tzinfo=UTC))
        assert [m.start.isoformat() for m in months][-3:] == [
            "2026-10-01",
            "2026-11-01",
            "2026-12-01",
        ]
        assert [(m.average, m.count) for m in months[-2:]] == [(3.0, 1), (3.0, 2)]
        after = review_service.trend(2, now=datetime(2027, 1, 1, 5, 0, tzinfo=UTC))
        assert [(m.start.month, m.average, m.count) for m in after] == [(12, 3.0, 2), (1, None, 0)]


# -- referral ------------------------------------------------------------------------------------


def test_a_known_address_in_other_letters_or_formatting_is_not_added_again(app, signed_in, cora):
    assert refer(signed_in, email="  FRAN@Example.COM ", phone="").status_code == 200
    assert refer(signed_in, email="fran@example.com", phone="").status_code == 200
    assert refer(signed_in, email="", phone="202.555.0143").status_code == 200  # Cora's phone
    assert refer(signed_in, email="", phone="+1 (202) 555 0143").status_code == 200
    assert [lead[1] for lead in leads(app)] == ["FRAN@example.com"]


def test_the_lead_is_nowhere_in_the_referring_clients_portal(app, signed_in, cora):
    refer(signed_in)
    with app.app_context():
        lead = db.session.scalar(select(Record).where(Record.kind == RecordKind.LEAD))
        assert lead.email_opt_in is False and lead.sms_opt_in is False
    for path in ("/portal/home", "/portal/details", "/portal/documents", "/portal/referral"):
        page = signed_in.get(path).get_data(as_text=True)
        assert "Fran" not in page and "fran@example.com" not in page, path


# -- the client's language -----------------------------------------------------------------------


def marked(text: str, **values: Any) -> str:
    """A stand-in catalogue: what went through gettext shows it."""
    return "[fr] " + (text % values if values else text)


def test_what_the_service_tells_the_client_goes_through_gettext(
    app, admin_client, signed_in, cora, reviews_on, monkeypatch
):
    monkeypatch.setattr(review_service, "_", marked)
    request_review(admin_client, cora["record_id"])
    request_id = pending_id(app, cora["record_id"])
    answer = {"rating": "5", "review_request_id": str(request_id)}
    assert signed_in.submit("/portal/review", answer).status_code == 302
    again = signed_in.submit("/portal/review", answer, follow_redirects=True)
    assert "[fr] You have already answered this review request." in again.get_data(as_text=True)
    response = signed_in.post(
        "/portal/api/review",
        json={"rating": 5, "review_request_id": request_id + 1000},
        headers={"X-CSRFToken": api_token(signed_in)},
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "[fr] There is no such review request."


def test_what_the_referral_service_tells_the_client_goes_through_gettext(monkeypatch):
    from app.services import referrals

    monkeypatch.setattr(referrals, "_", marked)
    with pytest.raises(ValidationError, match=r"^\[fr\] Give an email"):
        referrals.check_friend(first_name="F", last_name="F", email="", phone="", note=None)
    with pytest.raises(ValidationError, match=r"^\[fr\] Keep it to 80"):
        referrals.check_friend(first_name="F" * 81, last_name="F", email=None, phone="", note="")


# -- one answer per request, even at the same moment -----------------------------------------


def test_an_answer_that_lands_while_another_is_sent_is_refused_not_a_server_error(
    app, admin_client, signed_in, cora, reviews_on
):
    request_review(admin_client, cora["record_id"])
    request_id = pending_id(app, cora["record_id"])
    # Another tab's (or script's) answer committed after this one read the request open.
    with app.app_context():
        db.session.add(Review(record_id=cora["record_id"], rating=5, review_request_id=request_id))
        db.session.commit()
    response = signed_in.post(
        "/portal/api/review",
        json={"rating": 1, "review_request_id": request_id},
        headers={"X-CSRFToken": api_token(signed_in)},
    )
    assert response.status_code == 422
    assert "already answered" in response.get_json()["error"]["message"]
    page = signed_in.submit(
        "/portal/review",
        {"rating": "1", "review_request_id": str(request_id)},
        follow_redirects=True,
    )
    assert page.status_code == 200 and "already answered" in page.get_data(as_text=True)
    assert reviews_of(app, cora["record_id"]) == [(5, None)]
    with app.app_context():
        assert db.session.scalar(select(Task).where(Task.record_id == cora["record_id"])) is None


@pytest.mark.parametrize("rating", [4.5, True, "4", None, 1e3, -1, [4], {"value": 4}])
def test_the_api_keeps_no_rating_that_is_not_a_whole_number_from_1_to_5(
    app, signed_in, cora, reviews_on, rating
):
    response = signed_in.post(
        "/portal/api/review",
        json={"rating": rating},
        headers={"X-CSRFToken": api_token(signed_in)},
    )
    assert response.status_code == 422, response.get_json()
    assert "rating" in response.get_json()["error"]["fields"]
    assert reviews_of(app, cora["record_id"]) == []


@pytest.mark.parametrize("rating", ["4.5", "3 stars", "1e1", "99999999999", "-3"])
def test_the_form_keeps_no_rating_that_is_not_a_whole_number_from_1_to_5(
    app, signed_in, cora, reviews_on, rating
):
    response = signed_in.submit("/portal/review", {"rating": rating})
    assert response.status_code == 422
    assert "Choose from 1 to 5 stars." in response.get_data(as_text=True)
    assert reviews_of(app, cora["record_id"]) == []

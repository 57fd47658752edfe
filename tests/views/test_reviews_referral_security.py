"""Reviews and referrals as an attacker or a careless click would try them: the module
switched off, one count for the page and the API, the preview's links, hostile text in the
staff's list, and months that end at midnight in the office's time zone, not in UTC."""

from __future__ import annotations

from tests.conftest import run_jobs
from tests.views import test_portal_details as details
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
    assert (
        signed_in.post("/portal/api/review", json={"rating": 1}, headers=headers).status_code == 201
    )
    assert signed_in.submit("/portal/review", {"rating": "1"}).status_code == 429
    response = signed_in.post("/portal/api/review", json={"rating": 1}, headers=headers)
    assert response.status_code == 429 and response.get_json()["error"]["code"] == 429
    assert len(reviews_of(app, cora["record_id"])) == 2

"""Reviews and referrals as an attacker or a careless click would try them: the module
switched off, one count for the page and the API, the preview's links, hostile text in the
staff's list, and months that end at midnight in the office's time zone, not in UTC."""

from __future__ import annotations

from tests.conftest import run_jobs
from tests.views import test_portal_details as details
from tests.views.test_reviews import pending_id, request_review, reviews_on

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

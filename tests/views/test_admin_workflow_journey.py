"""The workflow form's "when the record completes the journey" trigger: offered, saved,
described, and refused together with "when the record is created"."""

from sqlalchemy import select

from models import Workflow, db
from tests import factories
from tests.services.test_journey_completion import journey
from tests.views.test_admin_workflows import _workflow_form


def test_an_admin_starts_a_workflow_when_a_journey_is_completed(app, admin_client):
    with app.app_context():
        item = journey(factories.staff())
        db.session.commit()
        journey_id = item.id
    page = admin_client.get("/admin/workflow/new/").get_data(as_text=True)
    assert "Trigger: when the record completes the journey" in page
    assert f'value="{journey_id}"' in page and "Renew your policy" in page

    form = _workflow_form(0, journey=str(journey_id))
    for name in ("product_status", "coverage_type"):
        form.pop(name)
    response = admin_client.submit("/admin/workflow/new/", form, page="/admin/workflow/new/")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        flow = db.session.scalar(select(Workflow))
        assert flow.journey_id == journey_id and not flow.on_record_created
        flow_id = flow.id
    details = admin_client.get(f"/admin/workflow/details/?id={flow_id}").get_data(as_text=True)
    assert "when they complete the journey Renew your policy" in details

    both = _workflow_form(0, journey=str(journey_id), on_record_created="y", name="Both")
    for name in ("product_status", "coverage_type"):
        both.pop(name)
    response = admin_client.submit("/admin/workflow/new/", both, page="/admin/workflow/new/")
    assert response.status_code == 200
    assert "not both" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Workflow.name).where(Workflow.name == "Both")) is None

"""The workflow form offers the saved sign requests for the action "Send sign request"."""

from sqlalchemy import select

from app.services.actors import Actor
from app.services.signing import saved_layouts
from models import ActionKind, Workflow, db
from tests import factories, sign_factories


def _layout(app, name="Annual disclosure"):
    with app.app_context():
        record = factories.record(email="source@example.com")
        request = sign_factories.sign_request(record, title=name)
        template = saved_layouts.save_from_request(request, name, actor=Actor.system("test"))
        db.session.commit()
        return template.id


def _form(tag_id, **action):
    return {
        "name": "Annual disclosure campaign",
        "active": "y",
        "for_leads": "y",
        "for_clients": "y",
        "tag": str(tag_id),
        "stop_when_unmatched": "y",
        "actions-0-position": "0",
        "actions-0-delay_amount": "0",
        "actions-0-delay_unit": "minutes",
        "actions-0-kind": "send_sign_request",
        "actions-0-target": "record",
        **{f"actions-0-{name}": value for name, value in action.items()},
    }


def test_an_admin_chooses_the_saved_sign_request_for_the_action(app, admin_client):
    template_id = _layout(app)
    with app.app_context():
        tag_id = factories.tag("Disclosure 2027").id
    page = admin_client.get("/admin/workflow/new/").get_data(as_text=True)
    assert "Send sign request" in page and "Saved sign request" in page
    assert "For send sign request: the saved sign request to send" in page

    refused = admin_client.submit(
        "/admin/workflow/new/", _form(tag_id), page="/admin/workflow/new/"
    )
    assert refused.status_code == 200
    assert "Send sign request: choose the saved sign request." in refused.get_data(as_text=True)

    response = admin_client.submit(
        "/admin/workflow/new/",
        _form(tag_id, sign_template=str(template_id)),
        page="/admin/workflow/new/",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        flow = db.session.scalar(select(Workflow))
        [action] = flow.actions
        assert (action.kind, action.sign_template_id) == (
            ActionKind.SEND_SIGN_REQUEST,
            template_id,
        )
        flow_id = flow.id
    details = admin_client.get(f"/admin/workflow/details/?id={flow_id}").get_data(as_text=True)
    assert "Send sign request" in details and "“Annual disclosure”" in details
    edit = admin_client.get(f"/admin/workflow/edit/?id={flow_id}").get_data(as_text=True)
    assert f'value="{template_id}" selected' in edit or f'selected value="{template_id}"' in edit

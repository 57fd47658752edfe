from sqlalchemy import select

from models import Tag, db


def test_admin_creates_a_tag(app, admin_client):
    response = admin_client.submit(
        "/admin/tag/new/", {"name": " Quote  follow-up ", "colour": "#123ABC", "description": ""}
    )
    assert response.status_code == 302
    with app.app_context():
        tag = db.session.scalar(select(Tag).where(Tag.name == "Quote follow-up"))
        assert tag.colour == "#123abc"


def test_duplicate_tag_name_is_a_field_error(admin_client):
    response = admin_client.submit("/admin/tag/new/", {"name": "vip", "colour": "#000000"})
    assert response.status_code == 200
    assert "There is already a tag called" in response.get_data(as_text=True)


def test_tag_names_with_markup_are_escaped(app, admin_client):
    admin_client.submit(
        "/admin/tag/new/", {"name": "<script>alert(1)</script>", "colour": "#000000"}
    )
    html = admin_client.get("/admin/tag/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_tag_a_workflow_uses_cannot_be_deleted_and_the_refusal_names_it(app, admin_client):
    from models import ActionKind, ActionTarget, DelayUnit, Workflow, WorkflowAction

    with app.app_context():
        vip, referral, spare = (
            db.session.scalar(select(Tag).where(Tag.name == name))
            for name in ("VIP", "Referral", "Birthday Month")
        )
        db.session.add(Workflow(name="VIP welcome", tag_id=vip.id))
        tagging = Workflow(name="Thank referrers")
        tagging.actions = [
            WorkflowAction(
                position=0,
                delay_amount=1,
                delay_unit=DelayUnit.DAYS,
                kind=ActionKind.ADD_TAG,
                target=ActionTarget.RECORD,
                tag_id=referral.id,
            )
        ]
        db.session.add(tagging)
        db.session.commit()
        ids = {"vip": vip.id, "referral": referral.id, "spare": spare.id}
    for key, workflow in (("vip", "VIP welcome (starts on it)"), ("referral", "Thank referrers")):
        response = admin_client.submit(
            "/admin/tag/delete/", {"id": ids[key]}, page="/admin/tag/", follow_redirects=True
        )
        page = response.get_data(as_text=True)
        assert workflow in page and "change them first" in page
    response = admin_client.submit(
        "/admin/tag/delete/", {"id": ids["spare"]}, page="/admin/tag/", follow_redirects=True
    )
    with app.app_context():
        assert db.session.get(Tag, ids["vip"]) and db.session.get(Tag, ids["referral"])
        assert db.session.get(Tag, ids["spare"]) is None  # an unused tag still goes

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

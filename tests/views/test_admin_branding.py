import io

from app.services.portal_settings import get_settings
from models import db
from tests.views.test_admin_portal_settings import settings_form

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def settings_url(admin_client):
    return admin_client.get("/admin/portal_settings/").headers["Location"]


def base_form(**values):
    return settings_form(
        **{
            "module_rx": "y",
            "module_providers": "y",
            "brand_colour": "#aa3300",
            "portal_name": "Acme portal",
            **values,
        }
    )


def test_brand_colour_reaches_the_portal_stylesheet(app, admin_client, client):
    url = settings_url(admin_client)
    assert admin_client.submit(url, base_form()).status_code == 302
    css = client.get("/portal/branding.css").get_data(as_text=True)
    assert css == ":root { --pt-brand: #aa3300; }\n"
    for bad in ("red; } body { display:none", "#12345z"):
        response = admin_client.submit(url, base_form(brand_colour=bad))
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "#rrggbb" in html or "longer than 7" in html
    assert client.get("/portal/branding.css").get_data(as_text=True) == css


def test_logo_upload_checks_what_the_file_really_is(app, admin_client, client, monkeypatch):
    from app.services import portal_settings

    monkeypatch.setattr(portal_settings, "LOGO_MAX_BYTES", 200)  # small uploads, same rule
    url = settings_url(admin_client)
    data = base_form(logo_upload=(io.BytesIO(SVG), "logo.png"))
    response = admin_client.submit(url, data, content_type="multipart/form-data")
    assert "PNG, JPEG, WebP or GIF" in response.get_data(as_text=True)
    big = base_form(logo_upload=(io.BytesIO(PNG + b"\0" * 300), "big.png"))
    response = admin_client.submit(url, big, content_type="multipart/form-data")
    assert "larger than 200 bytes" in response.get_data(as_text=True)
    ok = base_form(logo_upload=(io.BytesIO(PNG), "logo.png"))
    assert admin_client.submit(url, ok, content_type="multipart/form-data").status_code == 302
    with client.get("/portal/branding/logo") as logo:
        assert logo.status_code == 200 and logo.mimetype == "image/png"
        assert logo.headers["X-Content-Type-Options"] == "nosniff"
    assert "/portal/branding/logo?v=" in client.get("/portal/").get_data(as_text=True)
    admin_client.submit(url, base_form(remove_logo="y"))
    assert client.get("/portal/branding/logo").status_code == 404
    with app.app_context():
        assert get_settings().logo_file is None
        db.session.rollback()

from app.services.portal_settings import get_settings
from models import db


def settings_form(**values):
    form = {
        "portal_name": "Acme Insurance portal",
        "banner_html": "",
        "office_email": "",
        "office_phone": "",
        "allow_link_sign_in": "y",
        "allow_password_sign_in": "y",
        "allow_email_code_sign_in": "y",
        "allow_sms_code_sign_in": "y",
        "link_by_sms_when_preferred": "y",
        "code_valid_minutes": "10",
        "code_max_attempts": "5",
        "lockout_failures": "5",
        "lockout_minutes": "15",
        "session_idle_minutes": "30",
        "invitation_valid_days": "7",
        "review_task_threshold": "2",
    }
    form.update(values)
    return form


def test_settings_page_opens_the_single_row(admin_client):
    response = admin_client.get("/admin/portal_settings/")
    assert (
        response.status_code == 302
        and "/admin/portal_settings/edit/" in response.headers["Location"]
    )


def test_banner_is_sanitized_and_shown_in_the_portal(app, admin_client, client):
    url = admin_client.get("/admin/portal_settings/").headers["Location"]
    response = admin_client.submit(
        url,
        settings_form(
            banner_html="<p>Open <b>late</b> on Thursdays <script>alert(1)</script>"
            '<a href="javascript:alert(1)" onclick="x()">x</a>'
            '<a href="https://acme.example/hours">hours</a></p>',
            office_email="Office@Acme.example",
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        settings = get_settings()
        assert "<script" not in settings.banner_html and "onclick" not in settings.banner_html
        assert "javascript:" not in settings.banner_html
        assert "<b>late</b>" in settings.banner_html
        assert settings.office_email == "Office@acme.example"
    page = client.get("/portal/").get_data(as_text=True)
    assert "Acme Insurance portal" in page and "<b>late</b>" in page and "<script>" not in page


def test_bad_settings_say_what_to_fix(app, admin_client):
    url = admin_client.get("/admin/portal_settings/").headers["Location"]
    response = admin_client.submit(url, settings_form(code_valid_minutes="0"))
    assert "Code validity must be between 1 and 60." in response.get_data(as_text=True)
    off = {
        k: ""
        for k in (
            "allow_link_sign_in",
            "allow_password_sign_in",
            "allow_email_code_sign_in",
            "allow_sms_code_sign_in",
        )
    }
    response = admin_client.submit(url, settings_form(**off))
    assert "Keep at least one way for clients to sign in." in response.get_data(as_text=True)
    response = admin_client.submit(url, settings_form(office_phone="12"))
    assert "wrong number of digits" in response.get_data(as_text=True)
    with app.app_context():
        settings = get_settings()  # none of the refused forms was saved, even in part
        assert (settings.code_valid_minutes, settings.office_phone) == (10, None)
        assert settings.allow_link_sign_in
        db.session.rollback()


def test_only_modules_the_portal_has_are_offered(app, admin_client):
    url = admin_client.get("/admin/portal_settings/").headers["Location"]
    html = admin_client.get(url).get_data(as_text=True)
    assert 'name="module_rx"' in html and 'name="module_providers"' in html
    assert 'name="module_uploads"' in html and "Allow clients to share documents" in html
    assert 'name="module_reviews"' in html and "Reviews module" in html
    assert 'name="module_certificates"' in html and "Certificates module" in html
    response = admin_client.submit(url, settings_form(module_rx="y", module_reviews="y"))
    assert response.status_code == 302
    with app.app_context():
        settings = get_settings()
        assert settings.module_rx and settings.module_reviews and not settings.module_providers
        assert not settings.module_certificates  # not ticked
        db.session.rollback()


def test_every_module_offered_is_read_by_the_portal():
    """A switch for a module the portal does not have does nothing: the feature that lands
    marks its module built, and this test finds the portal reading it."""
    from pathlib import Path

    from app.services import care_lists
    from app.services.portal_settings import BUILT_MODULES, MODULES

    root = Path(__file__).resolve().parents[2]
    portal = "\n".join(p.read_text(encoding="utf-8") for p in (root / "portal").rglob("*.py"))
    for module in MODULES:
        # The portal asks portal_settings.module_enabled(key): the care lists by their keys.
        asked = f'"{module.key}"' in portal or module.key in care_lists.LISTS
        read = f".{module.field}" in portal or ("module_enabled" in portal and asked)
        assert read == (module.field in BUILT_MODULES), module.field

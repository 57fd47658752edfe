import re

import pytest


@pytest.mark.parametrize("url", ["/portal/", "/staff/login", "/healthz"])
def test_every_response_has_security_headers(client, url):
    headers = client.get(url).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in headers["Cache-Control"]


def test_portal_allows_no_inline_styles_or_scripts(client):
    csp = client.get("/portal/").headers["Content-Security-Policy"]
    assert "style-src 'self';" in csp
    assert "unsafe-hashes" not in csp


def test_admin_scripts_carry_the_nonce_of_the_policy(admin_client):
    response = admin_client.get("/admin/record/")
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    scripts = re.findall(r"<script[^>]*>", response.get_data(as_text=True))
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)


def test_static_files_can_be_cached(client):
    with client.get("/portal/assets/portal.css") as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_errors_are_pages_for_people_and_json_for_programs(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "does not exist" in response.get_data(as_text=True)
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.get_json() == {
        "error": {
            "code": 404,
            "message": "This page does not exist, or you do not have access to it.",
        }
    }

"""The Certificates tab says when the portal's Certificates module is off: sharing a master
then emails the client that certificates are ready, but their Certificates page is a 404."""

from __future__ import annotations

from admin_views.certificate_tab import MODULE_OFF
from app.services.portal_settings import get_settings
from models import db
from tests import cert_factories


def _tab(agent_client, record_id: int) -> str:
    return agent_client.get(f"/admin/record/details/?id={record_id}").get_data(as_text=True)


def test_the_tab_warns_while_the_module_is_off(app, agent_client):
    with app.app_context():
        record_id = cert_factories.client_with_certificates(email="mod@example.com").id
        get_settings().module_certificates = False
        db.session.commit()
    assert 'id="pt-cert-module-off"' in _tab(agent_client, record_id)
    assert "Certificates module is off" in MODULE_OFF

    with app.app_context():
        get_settings().module_certificates = True
        db.session.commit()
    assert 'id="pt-cert-module-off"' not in _tab(agent_client, record_id)

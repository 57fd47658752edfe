"""Certificates of insurance in the staff panel: the record's Certificates tab, a master's
forms (real posts with their CSRF token), Client Center enabled only with the tick and only
while a covered policy is in force (the customer's email at the SMTP server), the limits page
of a policy, the holders clients added (who, when, the certificate or the request), the
download of an issued certificate, the list in the menu and the ids that lead nowhere."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from admin_views.certificate_tab import UNDERSTOOD
from app.services import document_access, documents
from app.services.actors import Actor
from models import (
    AccessAction,
    Certificate,
    CertificateHolder,
    CertificateMaster,
    Product,
    ProductStatus,
    Record,
    RecordKind,
    db,
)
from tests import cert_factories, factories
from tests.conftest import body_of, run_jobs


def page_of(record_id: int) -> str:
    return f"/admin/record/details/?id={record_id}"


def new_url(record_id: int) -> str:
    return f"/admin/certificates/record/{record_id}/new/"


def master_url(record_id: int, master_id: int, what: str) -> str:
    return f"/admin/certificates/record/{record_id}/{master_id}/{what}/"


def limits_url(product_id: int) -> str:
    return f"/admin/certificates/limits/{product_id}/"


@pytest.fixture
def client_ids(app, mailbox) -> dict:
    """A commercial client with a portal account, two active policies and one shared master;
    another client's policy; a lapsed policy of the first."""
    with app.app_context():
        record = cert_factories.client_with_certificates(email="cora@example.com")
        [master] = cert_factories.masters_of(record)
        gl, auto = master.policies
        lapsed = cert_factories.policy(
            record,
            carrier="Old Mutual",
            number="GL-OLD",
            effective=documents.office_today() - timedelta(days=400),
            end=documents.office_today() - timedelta(days=1),
        )
        other = cert_factories.client_with_certificates(company="Elsewhere Inc")
        [other_master] = cert_factories.masters_of(other)
        ids = {
            "record": record.id,
            "master": master.id,
            "gl": gl.id,
            "auto": auto.id,
            "lapsed": lapsed.id,
            "other": other.id,
            "other_master": other_master.id,
            "other_policy": other_master.policies[0].id,
        }
    run_jobs(app)
    mailbox.clear()
    return ids


def shared(app, master_id: int) -> bool:
    with app.app_context():
        return db.session.get(CertificateMaster, master_id).shared


def masters(app, record_id: int) -> list[CertificateMaster]:
    with app.app_context():
        found = cert_factories.masters_of(db.session.get(Record, record_id))
        for master in found:
            _ = [p.id for p in master.policies]
            db.session.expunge(master)
        return found


def test_a_master_with_two_policies_is_created_and_shown(app, agent_client, client_ids):
    record_id = client_ids["record"]
    form = agent_client.get(new_url(record_id)).get_data(as_text=True)
    assert 'name="csrf_token"' in form and "GL-OLD" in form and "Acme Mutual" in form
    response = agent_client.submit(
        new_url(record_id),
        {
            "name": "Liability for the landlord",
            "policies": [str(client_ids["gl"]), str(client_ids["auto"])],
            "description": "Floor care <b>at</b> 12 Harbour Road.",
        },
    )
    assert response.status_code == 302 and response.location.endswith("#certificates")
    created = masters(app, record_id)[-1]
    assert created.name == "Liability for the landlord" and not created.shared
    assert sorted(p.id for p in created.policies) == sorted([client_ids["gl"], client_ids["auto"]])

    tab = agent_client.get(page_of(record_id)).get_data(as_text=True)
    assert 'id="tab-certificates"' in tab and "Liability for the landlord" in tab
    assert "Floor care &lt;b&gt;at&lt;/b&gt; 12 Harbour Road." in tab
    assert "Each occurrence 1,000,000" in tab and "Combined single limit 1,000,000" in tab
    assert UNDERSTOOD in tab


def test_a_policy_of_another_record_is_refused_and_the_input_kept(app, agent_client, client_ids):
    record_id = client_ids["record"]
    before = len(masters(app, record_id))
    response = agent_client.submit(
        new_url(record_id),
        {
            "name": "Borrowed policy",
            "policies": [str(client_ids["gl"]), str(client_ids["other_policy"])],
            "description": "Kept as typed",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Choose policies of this record only." in html
    assert 'value="Borrowed policy"' in html and "Kept as typed" in html
    assert len(masters(app, record_id)) == before

    empty = agent_client.submit(new_url(record_id), {"name": "", "policies": []})
    assert empty.status_code == 200 and "Give the certificate a name." in empty.get_data(
        as_text=True
    )
    assert len(masters(app, record_id)) == before


def test_edit_changes_the_policies_and_delete_asks_first(
    app, agent_client, admin_client, client_ids
):
    record_id, master_id = client_ids["record"], client_ids["master"]
    edit = master_url(record_id, master_id, "edit")
    page = agent_client.get(edit).get_data(as_text=True)
    assert 'value="General liability and auto"' in page
    response = agent_client.submit(
        edit, {"name": "Liability only", "policies": [str(client_ids["gl"])], "description": ""}
    )
    assert response.status_code == 302
    [master] = masters(app, record_id)
    assert master.name == "Liability only" and [p.id for p in master.policies] == [client_ids["gl"]]
    # Deleting is for admins, as everywhere in the panel: an agent has no button and a 403.
    tab = agent_client.get(page_of(record_id)).get_data(as_text=True)
    assert "Delete the certificate" not in tab
    token = agent_client.csrf_token(page_of(record_id))
    refused = agent_client.post(
        master_url(record_id, master_id, "delete"), data={"csrf_token": token}
    )
    assert refused.status_code == 403 and len(masters(app, record_id)) == 1
    tab = admin_client.get(page_of(record_id)).get_data(as_text=True)
    assert 'data-pt-confirm="Delete the certificate “Liability only”?' in tab
    deleted = admin_client.submit(
        master_url(record_id, master_id, "delete"), {}, page=page_of(record_id)
    )
    assert deleted.status_code == 302 and masters(app, record_id) == []


def test_client_center_needs_the_tick_then_emails_the_client(
    app, agent_client, client_ids, mailbox
):
    record_id = client_ids["record"]
    with app.app_context():
        record = db.session.get(Record, record_id)
        gl = db.session.get(Product, client_ids["gl"])
        master_id = cert_factories.master(record, [gl], shared=False, name="To share").id
    share = master_url(record_id, master_id, "share")
    refused = agent_client.submit(share, {}, page=page_of(record_id))
    assert refused.status_code == 302
    assert not shared(app, master_id)
    follow = agent_client.get(page_of(record_id)).get_data(as_text=True)
    assert "Tick the box to confirm you understand" in follow  # the refusal, flashed

    agent_client.submit(share, {"understood": "1"}, page=page_of(record_id))
    assert shared(app, master_id)
    tab = agent_client.get(page_of(record_id)).get_data(as_text=True)
    assert "Disable Client Center" in tab
    run_jobs(app)
    received = mailbox.wait_for(1)
    assert any("cora@example.com" in str(m["To"]) for m in received), [
        (m["To"], m["Subject"]) for m in received
    ]
    assert any("ertificate" in body_of(m) or "ertificate" in str(m["Subject"]) for m in received)

    agent_client.submit(master_url(record_id, master_id, "unshare"), {}, page=page_of(record_id))
    assert not shared(app, master_id)


def test_not_offered_while_no_policy_is_in_force_with_the_reason(app, agent_client, client_ids):
    record_id = client_ids["record"]
    with app.app_context():
        record = db.session.get(Record, record_id)
        lapsed = db.session.get(Product, client_ids["lapsed"])
        master_id = cert_factories.master(record, [lapsed], shared=False, name="Lapsed").id
    tab = agent_client.get(page_of(record_id)).get_data(as_text=True)
    section = tab.split(f'data-master-id="{master_id}"', 1)[1].split("</section>", 1)[0]
    assert "Client Center cannot be enabled:" in section and "Enable Client Center" not in section
    assert "None of its policies is in force any more" in section
    with app.app_context():
        record = db.session.get(Record, record_id)
        lapsed = db.session.get(Product, client_ids["lapsed"])
        still = cert_factories.master(record, [lapsed], shared=True, name="Still shared").id
    tab = agent_client.get(page_of(record_id)).get_data(as_text=True)
    section = tab.split(f'data-master-id="{still}"', 1)[1].split("</section>", 1)[0]
    assert "Disable Client Center" in section and "Sharing ends at the client" in section
    agent_client.submit(
        master_url(record_id, master_id, "share"), {"understood": "1"}, page=page_of(record_id)
    )
    assert not shared(app, master_id)


def test_limits_are_saved_and_shown(app, agent_client, client_ids):
    product_id = client_ids["auto"]
    page = agent_client.get(limits_url(product_id)).get_data(as_text=True)
    assert 'value="Combined single limit"' in page and 'value="1,000,000"' in page
    response = agent_client.submit(
        limits_url(product_id),
        {
            "label": ["Combined single limit", "Medical payments", "", "Uninsured motorist"],
            "amount": ["2,000,000", "5000", "", "1000000"],
        },
    )
    assert response.status_code == 302
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert [(x.label, x.amount) for x in product.limits] == [
            ("Combined single limit", Decimal("2000000")),
            ("Medical payments", Decimal("5000")),
            ("Uninsured motorist", Decimal("1000000")),
        ]
    tab = agent_client.get(page_of(client_ids["record"])).get_data(as_text=True)
    assert "Medical payments 5,000" in tab and limits_url(product_id) in tab

    bad = agent_client.submit(
        limits_url(product_id), {"label": ["Each accident", ""], "amount": ["lots", "7"]}
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200 and 'value="lots"' in html and "Type an amount" in html
    assert "Give this amount a label." in html
    with app.app_context():
        assert len(db.session.get(Product, product_id).limits) == 3


def test_holders_are_listed_with_who_added_them_and_the_certificate_downloads(
    app, agent_client, client_ids
):
    from app.services.certificates import client_certificates

    record_id = client_ids["record"]
    with app.app_context():
        master = db.session.get(CertificateMaster, client_ids["master"])
        account = cert_factories.account_of(master.record)
        actor = Actor.client(account)
        yes = client_certificates.add_holder(
            master, account, name="Harbour <Landlord>", address="1 Quay\nPortland",
            email="", meets=True, understood=True, reason=None, actor=actor,
        )  # fmt: skip
        no = client_certificates.add_holder(
            master, account, name="Big GC", address="2 Main St", email="gc@example.com",
            meets=False, understood=False, reason="They need 5,000,000 aggregate.", actor=actor,
        )  # fmt: skip
        db.session.commit()
        [certificate] = yes.certificates
        number, certificate_id, person = certificate.number, certificate.id, account.person_name
        conversation_id = no.conversation_id
    tab = agent_client.get(page_of(record_id)).get_data(as_text=True)
    assert "Harbour &lt;Landlord&gt;" in tab and "Big GC" in tab
    assert "They need 5,000,000 aggregate." in tab and f"{person} (client)" in tab
    assert number in tab and f"/admin/certificates/issued/{certificate_id}/download/" in tab
    assert f"/admin/requests/{conversation_id}/" in tab
    with agent_client.get(f"/admin/certificates/issued/{certificate_id}/download/") as download:
        assert download.status_code == 200 and download.data.startswith(b"%PDF")
    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        [entry] = [
            e
            for e in document_access.history(certificate.document)
            if e.action == AccessAction.DOWNLOADED
        ]
        assert entry.user_id is not None
    assert agent_client.get("/admin/certificates/issued/999999/download/").status_code == 404


def test_the_list_filters_by_shared_and_record(app, agent_client, client_ids):
    listing = agent_client.get("/admin/certificates/").get_data(as_text=True)
    mine, theirs = (f"/admin/record/details/?id={client_ids[k]}" for k in ("record", "other"))
    assert "General liability and auto" in listing and mine in listing and theirs in listing
    assert "Enabled" in listing
    filtered = agent_client.get(
        f"/admin/certificates/?flt0_record_is={client_ids['record']}"
    ).get_data(as_text=True)
    assert mine in filtered and theirs not in filtered
    with app.app_context():
        db.session.get(CertificateMaster, client_ids["master"]).shared = False
        db.session.commit()
    off = agent_client.get("/admin/certificates/?flt0_shared_equals=0").get_data(as_text=True)
    assert mine in off and theirs not in off


def test_wrong_ids_and_a_lead_lead_nowhere(app, agent_client, client_ids):
    record_id, other = client_ids["record"], client_ids["other"]
    foreign = client_ids["other_master"]
    assert agent_client.get(master_url(record_id, foreign, "edit")).status_code == 404
    assert agent_client.get(master_url(record_id, 999999, "edit")).status_code == 404
    assert agent_client.get(new_url(999999)).status_code == 404
    assert agent_client.get(limits_url(999999)).status_code == 404
    token = agent_client.csrf_token(page_of(record_id))
    for what in ("share", "unshare", "delete"):
        response = agent_client.post(
            master_url(record_id, foreign, what), data={"csrf_token": token, "understood": "1"}
        )
        assert response.status_code == (403 if what == "delete" else 404)  # deleting: admins
    # Without the token nothing happens.
    agent_client.post(master_url(other, foreign, "delete"))
    assert masters(app, other)
    with app.app_context():
        lead = factories.record(kind=RecordKind.LEAD, first_name="Lee", last_name="Lead").id
    tab = agent_client.get(page_of(lead)).get_data(as_text=True)
    assert "Certificates of insurance are for clients" in tab


def test_staff_only(app, client, client_ids):
    assert client.get(new_url(client_ids["record"])).status_code == 302
    assert client.get("/admin/certificates/").status_code == 302
    assert client.get(limits_url(client_ids["gl"])).status_code == 302


def test_a_lapsed_policy_shows_its_status_on_the_form(app, agent_client, client_ids):
    with app.app_context():
        product = db.session.get(Product, client_ids["auto"])
        product.status = ProductStatus.CANCELLED
        db.session.commit()
    form = agent_client.get(new_url(client_ids["record"])).get_data(as_text=True)
    assert "CA-" in form and "Cancelled" in form


def _holders(master: CertificateMaster, count: int, by_user_id: int | None) -> None:
    for n in range(count):
        holder = CertificateHolder(
            master_id=master.id,
            name=f"Holder {n}",
            address="1 Quay",
            meets_requirements=n % 2 == 0,
            reason=None if n % 2 == 0 else "More cover",
            added_by_user_id=by_user_id,
        )
        db.session.add(holder)
        db.session.flush()
        if holder.meets_requirements:
            db.session.add(
                Certificate(
                    number=f"2026-{master.id:03d}{n:03d}",
                    master_id=master.id,
                    holder_id=holder.id,
                    snapshot={},
                )
            )
    db.session.commit()


def test_the_tab_costs_the_same_with_one_or_many_masters_and_holders(
    app, agent_client, count_queries
):
    with app.app_context():
        small = cert_factories.client_with_certificates(company="Small Co")
        _holders(cert_factories.masters_of(small)[0], 1, None)
        big = cert_factories.client_with_certificates(company="Big Co")
        policies = cert_factories.masters_of(big)[0].policies
        for n in range(3):
            cert_factories.master(big, policies, name=f"Extra {n}")
        staff = [factories.staff(email=f"cert.adder{n}@example.com") for n in range(3)]
        for n, master in enumerate(cert_factories.masters_of(big)):
            _holders(master, 4, staff[n % 3].id)
        ids = (small.id, big.id)
    counts = []
    for record_id in ids:
        with count_queries() as counter:
            page = agent_client.get(page_of(record_id))
            assert page.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert "Holder 3" in page.get_data(as_text=True)

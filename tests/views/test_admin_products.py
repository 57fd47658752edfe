from decimal import Decimal

from sqlalchemy import select

from models import CoverageType, Product, ProductStatus, db
from tests import factories


def product_form(record_id, coverage_id, **values):
    form = {
        "record": str(record_id),
        "carrier": "Aetna",
        "plan_name": "Eagle PPO",
        "coverage_type": str(coverage_id),
        "status": "quoted",
        "policy_number": "",
        "effective_date": "2026-01-01",
        "end_date": "",
        "premium": "1200.50",
        "notes": "",
    }
    form.update(values)
    return form


def test_add_a_product_from_the_record_page(app, agent_client):
    with app.app_context():
        record = factories.record(first_name="Pat", last_name="Policy").id
        coverage = factories.coverage("Medicare Advantage").id
    new_page = f"/admin/product/new/?record_id={record}"
    html = agent_client.get(new_page).get_data(as_text=True)
    assert "Pat Policy" in html  # the record is already chosen
    response = agent_client.submit(
        "/admin/product/new/", product_form(record, coverage), page=new_page
    )
    assert response.status_code == 302
    with app.app_context():
        product = db.session.scalar(select(Product))
        assert (product.record_id, product.status, product.premium) == (
            record,
            ProductStatus.QUOTED,
            Decimal("1200.50"),
        )


def test_product_dates_out_of_order_are_a_field_error(app, agent_client):
    with app.app_context():
        record = factories.record().id
        coverage = factories.coverage().id
    response = agent_client.submit(
        "/admin/product/new/",
        product_form(record, coverage, effective_date="2026-05-01", end_date="2026-04-01"),
    )
    assert response.status_code == 200
    assert "end date must be on or after" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Product)) is None


def test_product_list_filters_by_status(app, agent_client):
    with app.app_context():
        record = factories.record()
        factories.product(record, carrier="QuotedCo", status=ProductStatus.QUOTED)
        factories.product(record, carrier="ActiveCo", status=ProductStatus.ACTIVE)
    html = agent_client.get("/admin/product/?flt0_status_is=active").get_data(as_text=True)
    assert "ActiveCo" in html and "QuotedCo" not in html


def test_record_lookup_for_the_product_form(app, agent_client):
    with app.app_context():
        factories.record(first_name="Findable", last_name="Person")
    response = agent_client.get("/admin/product/ajax/lookup/?name=record&query=Findab")
    assert response.status_code == 200
    assert "Findable Person" in response.get_data(as_text=True)


def test_coverage_type_in_use_cannot_be_deleted(app, admin_client):
    with app.app_context():
        coverage = factories.coverage("Pet")
        factories.product(factories.record(), coverage_type=coverage)
        coverage_id = coverage.id
    response = admin_client.submit(
        "/admin/coverage_type/delete/",
        {"id": coverage_id},
        page="/admin/coverage_type/",
        follow_redirects=True,
    )
    assert "untick Active instead" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CoverageType, coverage_id) is not None


def test_duplicate_coverage_type_is_refused(admin_client):
    response = admin_client.submit("/admin/coverage_type/new/", {"name": "auto", "active": "y"})
    assert response.status_code == 200
    assert "already a coverage type" in response.get_data(as_text=True)


def test_adding_changing_and_removing_a_product_is_on_the_records_activity(
    app, agent_client, admin_client
):
    from models import ActivityEntry

    with app.app_context():
        record = factories.record(first_name="Pat", last_name="Policy").id
        coverage = factories.coverage("Medicare Advantage").id
    agent_client.submit("/admin/product/new/", product_form(record, coverage))
    with app.app_context():
        product_id = db.session.scalar(select(Product.id))
    edit = f"/admin/product/edit/?id={product_id}"
    agent_client.submit(edit, product_form(record, coverage, status="declined"))
    agent_client.submit(edit, product_form(record, coverage, status="declined"))  # no change
    page = agent_client.get(f"/admin/record/details/?id={record}").get_data(as_text=True)
    assert "changed Aetna Eagle PPO (Declined by client)" in page
    denied = agent_client.submit("/admin/product/delete/", {"id": product_id}, page=edit)
    assert denied.status_code == 403
    admin_client.submit("/admin/product/delete/", {"id": product_id}, page="/admin/product/")
    with app.app_context():
        entries = db.session.scalars(
            select(ActivityEntry)
            .where(ActivityEntry.event_key == "staff.product.changed")
            .order_by(ActivityEntry.id)
        ).all()
    assert [e.record_id for e in entries] == [record] * 3
    assert [e.details["change"] for e in entries] == ["added", "changed", "removed"]
    assert entries[1].details["changes"] == {"Status": ["Quoted", "Declined by client"]}
    assert entries[0].summary.endswith("added Aetna Eagle PPO (Quoted).")


def test_saving_a_product_says_product_not_record(app, agent_client, admin_client):
    with app.app_context():
        record = factories.record().id
        coverage = factories.coverage("Medicare Advantage").id
    html = agent_client.submit(
        "/admin/product/new/", product_form(record, coverage), follow_redirects=True
    ).get_data(as_text=True)
    assert "Product created." in html and "Record was successfully" not in html
    with app.app_context():
        product_id = db.session.scalar(select(Product.id))
    html = agent_client.submit(
        f"/admin/product/edit/?id={product_id}",
        product_form(record, coverage),
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Product saved." in html
    html = admin_client.submit(
        "/admin/product/action/",
        {"action": "delete", "rowid": [str(product_id)]},
        page="/admin/product/",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Product deleted." in html


def test_deleting_products_from_the_list_stops_their_records_workflows(app, admin_client):
    from app.services import workflows
    from models import ActivityEntry, RunStatus, WorkflowRun
    from tests.views.test_admin_workflows import _quoted_workflow

    _, coverage_id = _quoted_workflow(app)
    with app.app_context():
        record = factories.record()
        products = [factories.product(record, coverage_type_id=coverage_id) for _ in range(2)]
        workflows.evaluate([record.id], products=True)
        db.session.commit()
        ids = [str(p.id) for p in products]
    response = admin_client.submit(
        "/admin/product/action/",
        {"action": "delete", "rowid": ids},
        page="/admin/product/",
        follow_redirects=True,
    )
    assert "2 products deleted." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Product.id)) is None
        assert set(db.session.scalars(select(WorkflowRun.status))) == {RunStatus.CANCELLED}
        removed = db.session.scalars(
            select(ActivityEntry.details).where(ActivityEntry.event_key == "staff.product.changed")
        ).all()
        assert [d["change"] for d in removed] == ["removed", "removed"]

"""The record list and record page, driven through real form posts."""

import csv
import io
import re

from sqlalchemy import select

from models import Contact, ContactRole, ProductStatus, Record, RecordKind, db
from tests import factories


def rows(html: str) -> list[str]:
    """Names shown in the record list, in order."""
    return re.findall(r'<td class="col-last_name">\s*<a href="[^"]+">([^<]+)</a>', html)


def record_form(**values):
    form = {
        "kind": "lead",
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "phone": "",
        "mobile": "",
        "country": "US",
        "preferred_contact": "email",
        "email_opt_in": "y",
        "notes": "",
    }
    form.update(values)
    return form


def test_staff_create_a_record_and_see_it_normalised(app, agent_client, agent_user):
    response = agent_client.submit("/admin/record/new/", record_form(phone="(202) 555-0143"))
    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalar(select(Record).where(Record.last_name == "Hopper"))
        assert record.phone == "+12025550143"
        assert record.kind == RecordKind.LEAD
    page = agent_client.get(f"/admin/record/details/?id={record.id}").get_data(as_text=True)
    assert "Grace Hopper" in page and "(202) 555-0143" in page


def test_new_records_default_to_the_signed_in_agent(agent_client, agent_user):
    html = agent_client.get("/admin/record/new/").get_data(as_text=True)
    selected = re.search(r'<option selected value="(\d+)">', html) or re.search(
        r'<option value="(\d+)" selected', html
    )
    assert selected and int(selected.group(1)) == agent_user.id


def test_bad_input_shows_the_form_again_with_the_field_error(app, agent_client):
    response = agent_client.submit(
        "/admin/record/new/", record_form(email="grace@"), page="/admin/record/new/"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter a valid email address" in html
    assert 'value="Hopper"' in html  # nothing typed is lost
    with app.app_context():
        assert db.session.scalar(select(Record).where(Record.last_name == "Hopper")) is None


def test_service_errors_attach_to_their_field(agent_client):
    response = agent_client.submit(
        "/admin/record/new/",
        record_form(preferred_contact="sms", mobile=""),
        page="/admin/record/new/",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Add a mobile number to prefer text messages." in html


def test_contacts_are_edited_inline_with_one_co_applicant(app, agent_client):
    with app.app_context():
        record = factories.record(first_name="Ben", last_name="Ocean")
    form = record_form(first_name="Ben", last_name="Ocean", email="ben@example.com")
    form.update(
        {
            "contacts-0-role": "co_applicant",
            "contacts-0-first_name": "Bea",
            "contacts-0-last_name": "Ocean",
            "contacts-0-relationship_to_record": "Spouse",
            "contacts-1-role": "contact_person",
            "contacts-1-first_name": "Cal",
            "contacts-1-last_name": "Ocean",
            "contacts-1-email": "CAL@EXAMPLE.COM",
        }
    )
    url = f"/admin/record/edit/?id={record.id}"
    assert agent_client.submit(url, form).status_code == 302
    with app.app_context():
        contacts = db.session.scalars(select(Contact).order_by(Contact.id)).all()
        assert [(c.first_name, c.role) for c in contacts] == [
            ("Bea", ContactRole.CO_APPLICANT),
            ("Cal", ContactRole.CONTACT_PERSON),
        ]
        assert contacts[1].email == "CAL@example.com"

    form["contacts-1-role"] = "co_applicant"
    for n, contact in enumerate(contacts):
        form[f"contacts-{n}-id"] = str(contact.id)
    response = agent_client.submit(url, form)
    assert response.status_code == 200
    assert "one co-applicant" in response.get_data(as_text=True)


def test_record_page_shows_products_contacts_tags_and_tasks(app, agent_client, agent_user):
    with app.app_context():
        gold = factories.tag("Gold")
        record = factories.record(
            first_name="Mae", last_name="Jemison", tags=[gold], assigned_agent_id=agent_user.id
        )
        factories.product(
            record,
            carrier="Aetna",
            plan_name="Eagle PPO",
            status=ProductStatus.ACTIVE,
            policy_number="AET-1",
        )
        db.session.add(
            Contact(
                record_id=record.id,
                role=ContactRole.CO_APPLICANT,
                first_name="Jo",
                last_name="Jemison",
            )
        )
        db.session.commit()
        factories.task("Call about renewal", agent_user, record)
        record_id = record.id
    html = agent_client.get(f"/admin/record/details/?id={record_id}").get_data(as_text=True)
    for text in (
        "Mae Jemison",
        "Gold",
        "Aetna",
        "Eagle PPO",
        "AET-1",
        "Active",
        "Jo Jemison",
        "Co-applicant",
        "Primary applicant",
        "Call about renewal",
    ):
        assert text in html, text
    # The signed-in staff member's name is on every page: look at the record's own line.
    assert '<dt class="col-sm-3">Assigned agent</dt><dd class="col-sm-9">Ari Agent</dd>' in html
    for tab in ("Overview", "Products", "Contacts", "Tasks"):
        assert f">{tab}" in html


def test_unknown_or_malformed_record_ids_are_not_errors(agent_client):
    for query in ("id=999999", "id=abc", ""):
        response = agent_client.get(f"/admin/record/details/?{query}")
        assert response.status_code == 302
    assert agent_client.get("/admin/record/edit/?id=abc").status_code == 302


def test_tag_and_untag_from_the_record_page(app, agent_client):
    with app.app_context():
        review = factories.tag("Review").id
        record = factories.record().id
    url = f"/admin/record/{record}/tags/"
    page = f"/admin/record/details/?id={record}"
    response = agent_client.submit(url, {"tag_id": review, "operation": "add"}, page=page)
    assert response.status_code == 302
    assert "Tagged with Review" in agent_client.get(page).get_data(as_text=True)
    agent_client.submit(url, {"tag_id": review, "operation": "remove"}, page=page)
    html = agent_client.get(page).get_data(as_text=True)
    assert "Removed the tag Review" in html
    assert 'aria-label="Remove tag Review"' not in html


def test_bulk_tag_from_the_list(app, agent_client):
    with app.app_context():
        review_tag = factories.tag("Review")
        review = review_tag.id
        ids = [factories.record().id for _ in range(3)]
        already = factories.record(tags=[review_tag]).id
    # The list's action form posts the chosen rows; the action answers with a confirm form.
    response = agent_client.submit(
        "/admin/record/action/",
        {"action": "add_tag", "rowid": [*map(str, ids), str(already)]},
        page="/admin/record/",
    )
    html = response.get_data(as_text=True)
    assert "Add a tag to 4 records" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = agent_client.post(
        "/admin/record/bulk-tag/",
        data={
            "csrf_token": token,
            "operation": "add",
            "tag_id": review,
            "record_id": [*map(str, ids), str(already)],
            "url": "/admin/record/",
        },
    )
    assert response.status_code == 302
    assert "Tagged 3 records with Review; 1 did not change." in agent_client.get(
        "/admin/record/"
    ).get_data(as_text=True)

    response = agent_client.submit(
        "/admin/record/bulk-tag/",
        {"operation": "remove", "tag_id": review, "record_id": [str(ids[0])]},
        page="/admin/record/",
    )
    assert "Removed Review from 1 record." in agent_client.get("/admin/record/").get_data(
        as_text=True
    )


def test_bulk_tag_without_a_tag_is_a_message_not_an_error(agent_client):
    response = agent_client.submit(
        "/admin/record/bulk-tag/",
        {"operation": "add", "record_id": ["1"]},
        page="/admin/record/",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Choose records and a tag." in response.get_data(as_text=True)


def test_convert_a_lead_to_a_client(app, agent_client):
    with app.app_context():
        record = factories.record(kind=RecordKind.LEAD)
    page = f"/admin/record/details/?id={record.id}"
    agent_client.submit(f"/admin/record/{record.id}/convert/", page=page)
    assert "is now a client" in agent_client.get(page).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Record, record.id).kind == RecordKind.CLIENT


def _seed_list(app, agent_user):
    with app.app_context():
        other = factories.staff(first_name="Olive", last_name="Other")
        vip = factories.tag("Gold")
        med = factories.coverage("Medicare Supplement")
        ada = factories.record(
            first_name="Ada",
            last_name="Alpha",
            kind=RecordKind.LEAD,
            assigned_agent_id=agent_user.id,
            tags=[vip],
        )
        bob = factories.record(
            first_name="Bob",
            last_name="Bravo",
            kind=RecordKind.CLIENT,
            assigned_agent_id=other.id,
            email="bob.b@example.com",
        )
        cy = factories.record(first_name="Cy", last_name="Charlie", kind=RecordKind.CLIENT)
        factories.product(ada, status=ProductStatus.QUOTED)
        factories.product(ada, status=ProductStatus.QUOTED)  # twice: must not list Ada twice
        factories.product(bob, status=ProductStatus.ACTIVE, coverage_type=med)
        factories.product(cy, status=ProductStatus.DECLINED, coverage_type=med)
        return {"vip": vip.id, "other": other.id, "med": med.id}


def test_list_filters(app, agent_client, agent_user):
    ids = _seed_list(app, agent_user)
    cases = {
        "flt0_kind_is=lead": ["Ada Alpha"],
        "flt0_kind_is=client": ["Bob Bravo", "Cy Charlie"],
        f"flt0_assigned_agent_is={agent_user.id}": ["Ada Alpha"],
        "flt0_assigned_agent_none=1": ["Cy Charlie"],
        f"flt0_tag_is={ids['vip']}": ["Ada Alpha"],
        f"flt0_tag_is_not={ids['vip']}": ["Bob Bravo", "Cy Charlie"],
        "flt0_product_status_any_product_is=quoted": ["Ada Alpha"],
        f"flt0_coverage_type_any_product_is={ids['med']}": ["Bob Bravo", "Cy Charlie"],
        f"flt0_kind_is=client&flt1_coverage_type_any_product_is={ids['med']}"
        "&flt2_product_status_any_product_is=active": ["Bob Bravo"],
    }
    for query, expected in cases.items():
        html = agent_client.get(f"/admin/record/?{query}").get_data(as_text=True)
        assert rows(html) == expected, query


def test_bad_filter_values_are_explained_not_errors(agent_client):
    for query in (
        "flt0_kind_is=alien",
        "flt0_tag_is=abc",
        "flt0_product_status_any_product_is=nope",
    ):
        response = agent_client.get(f"/admin/record/?{query}")
        assert response.status_code == 200
        assert "Invalid Filter Value" in response.get_data(
            as_text=True
        ) or "Invalid" in response.get_data(as_text=True)


def test_search_sort_and_pages(app, agent_client, agent_user):
    _seed_list(app, agent_user)
    assert rows(agent_client.get("/admin/record/?search=bob.b@").get_data(as_text=True)) == [
        "Bob Bravo"
    ]
    html = agent_client.get("/admin/record/?sort=0&desc=1").get_data(as_text=True)
    assert rows(html) == ["Cy Charlie", "Bob Bravo", "Ada Alpha"]
    with app.app_context():
        for n in range(25):
            factories.record(first_name="Zed", last_name=f"Zulu{n:02d}")
    page1 = rows(agent_client.get("/admin/record/?page_size=25").get_data(as_text=True))
    page2 = rows(agent_client.get("/admin/record/?page_size=25&page=1").get_data(as_text=True))
    assert len(page1) == 25 and page1[:3] == ["Ada Alpha", "Bob Bravo", "Cy Charlie"]
    assert page2 == ["Zed Zulu22", "Zed Zulu23", "Zed Zulu24"]
    # A search keeps the order asked for and pages through it (on PostgreSQL the search reads
    # the trigram indexes and sorts what matched, by name or by the column chosen).
    zulus = rows(agent_client.get("/admin/record/?search=zulu&page_size=25").get_data(as_text=True))
    assert zulus == [f"Zed Zulu{n:02d}" for n in range(25)]
    with app.app_context():
        factories.record(first_name="Zed", last_name="Zulu25")
    backwards = agent_client.get("/admin/record/?search=zulu&sort=0&desc=1&page_size=25&page=1")
    assert rows(backwards.get_data(as_text=True)) == ["Zed Zulu00"]


def test_export_csv_follows_the_filters(app, agent_client, agent_user):
    ids = _seed_list(app, agent_user)
    response = agent_client.get(f"/admin/record/export/csv/?flt0_tag_is={ids['vip']}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["First Name"] for row in table] == ["Ada"]
    assert table[0]["Tags"] == "Gold"
    assert table[0]["Agent"] == "Ari Agent"
    assert table[0]["Email"].endswith("@example.com")


def test_the_record_form_names_each_part_of_the_name(admin_client):
    page = admin_client.get("/admin/record/new/").get_data(as_text=True)
    assert ">First name" in page and ">Last name" in page
    listing = admin_client.get("/admin/record/").get_data(as_text=True)
    assert 'placeholder="Name, company, email or phone"' in listing


def _fifty_records(app, agent_user):
    with app.app_context():
        gold, review = factories.tag("Gold", "#b8860b"), factories.tag("Review", "#1565c0")
        for n in range(50):
            factories.record(
                first_name="Maximiliana",
                last_name=f"Worthington-Smythe{n:02d}",
                company_name="Worthington Insurance Brokers" if n % 3 == 0 else None,
                email=f"maximiliana.worthington.{n}@example.com",
                phone="+15125550100",
                assigned_agent_id=agent_user.id,
                tags=[gold, review],
            )


def test_a_page_of_50_records_stays_under_80_kb(app, admin_client, agent_user):
    _fifty_records(app, agent_user)
    html = admin_client.get("/admin/record/?page_size=50").get_data(as_text=True)
    assert len(rows(html)) == 50
    # Long names, a company on every third, two tags each, an admin's delete buttons: the
    # menu (Journeys, Teams) is about 24 KB of it, PostgreSQL's ids a few hundred bytes more.
    assert len(html.encode()) < 80_000, len(html.encode())


def test_the_list_has_one_form_for_its_rows_not_one_per_row(app, admin_client, agent_user):
    _fifty_records(app, agent_user)
    html = admin_client.get("/admin/record/?flt0_kind_is=client").get_data(as_text=True)
    assert len(rows(html)) == 50
    # The page's own forms (search, sign-out, bulk actions, the delete buttons'), none per row.
    assert html.count("<form") < 10
    assert html.count('name="csrf_token"') < 5
    delete_form = re.search(r'<form id="pt-row-delete" method="POST" action="([^"]+)"', html)
    assert delete_form and delete_form.group(1) == "/admin/record/delete/"
    buttons = re.findall(r'<button form="pt-row-delete" name="id" value="(\d+)"', html)
    assert len(buttons) == 50
    # Each row's edit link brings the person back to the list as they left it.
    edit = re.search(r'href="(/admin/record/edit/\?url=[^"]+&amp;id=)(\d+)"', html)
    assert edit and "flt0_kind_is%3Dclient" in edit.group(1)
    # The name opens the record; no second "view" link per row.
    assert "fa-eye" not in html

    doomed = int(buttons[0])
    response = admin_client.submit(
        "/admin/record/delete/",
        {"id": doomed, "url": "/admin/record/?flt0_kind_is=client"},
        page="/admin/record/",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/record/?flt0_kind_is=client")
    with app.app_context():
        assert db.session.get(Record, doomed) is None


def test_the_list_shows_what_the_formatters_show(app, agent_client, agent_user):
    with app.app_context():
        vip = factories.tag("VIP <b>", "#123456")
        record = factories.record(
            first_name="Ada",
            last_name="<Lovelace>",
            company_name="Engines & Co",
            phone="+15125550100",
            assigned_agent_id=agent_user.id,
            tags=[vip],
        )
        record_id = record.id
    html = agent_client.get("/admin/record/").get_data(as_text=True)
    row = html[html.index(f'<a href="/admin/record/details/?id={record_id}">') :]
    row = row[: row.index("</tr>")]
    assert "Engines &amp; Co (Ada &lt;Lovelace&gt;)</a>" in row
    assert "(512) 555-0100" in row
    assert 'style="background-color:#123456">VIP &lt;b&gt;</span>' in row
    assert '<td class="col-assigned_agent">Ari Agent</td>' in row
    assert '<span class="text-muted">Not enabled</span>' in row
    assert '<td class="col-kind">Client</td>' in row


def test_an_agent_gets_no_delete_buttons_nor_form(app, agent_client, agent_user):
    _fifty_records(app, agent_user)
    html = agent_client.get("/admin/record/").get_data(as_text=True)
    assert len(rows(html)) == 50
    assert "pt-row-delete" not in html and "/admin/record/delete/" not in html
    assert html.count('class="action-checkbox"') == 50


def test_bulk_delete_from_the_list_with_its_csrf_token(app, admin_client, agent_user):
    _fifty_records(app, agent_user)
    html = admin_client.get("/admin/record/").get_data(as_text=True)
    ids = re.findall(r'class="action-checkbox" value="(\d+)"', html)[:3]
    response = admin_client.submit(
        "/admin/record/action/",
        {"action": "delete", "rowid": ids, "url": "/admin/record/"},
        page="/admin/record/",
    )
    assert response.status_code == 302
    with app.app_context():
        assert all(db.session.get(Record, int(rid)) is None for rid in ids)
    assert len(rows(admin_client.get("/admin/record/").get_data(as_text=True))) == 47


def test_a_large_unfiltered_list_shows_an_estimate_on_postgresql_only(
    app, agent_client, agent_user, monkeypatch
):
    """PostgreSQL's planner estimates a large unfiltered list's count; SQLite has no such
    estimate, so its list always counts exactly."""
    from sqlalchemy import text as sql_text

    from admin_views.record import RecordView

    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
        for n in range(30):
            factories.record(first_name="Est", last_name=f"Imate{n:02d}")
        if postgresql:
            db.session.execute(sql_text("ANALYZE records"))
        db.session.commit()
    monkeypatch.setattr(RecordView, "estimate_count_above", 10)
    # The view's setting changes below without a commit: each page rendered, never kept.
    monkeypatch.setitem(app.config, "PORTICO_STAFF_LIST_CACHE_SECONDS", 0)
    html = agent_client.get("/admin/record/").get_data(as_text=True)
    assert len(rows(html)) == 30
    if not postgresql:
        assert "an estimate" not in html and "Tag or untag all about " not in html
        return
    assert "an estimate, as the list is large and not filtered" in html
    assert "Tag or untag all about " in html
    narrowed = agent_client.get("/admin/record/?search=Imate0").get_data(as_text=True)
    assert "an estimate" not in narrowed and len(rows(narrowed)) == 10
    monkeypatch.setattr(RecordView, "estimate_count_above", 1000)
    assert "an estimate" not in agent_client.get("/admin/record/").get_data(as_text=True)

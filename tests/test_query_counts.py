"""List views stay at a fixed number of SQL queries, whatever the page size (no N+1)."""

import pytest
from sqlalchemy import func, insert, select

from models import (
    Contact,
    ContactRole,
    Document,
    DocumentKind,
    Product,
    ProductStatus,
    Record,
    Tag,
    Task,
    db,
    record_tags,
)
from tests import factories


@pytest.fixture(autouse=True)
def _lists_rendered(app, monkeypatch):
    """The lists as rendered every time: a page kept by the staff list cache costs two queries
    (tests/views/test_staff_list_cache.py)."""
    monkeypatch.setitem(app.config, "PORTICO_STAFF_LIST_CACHE_SECONDS", 0)


@pytest.fixture
def five_hundred_records(app, agent_user):
    with app.app_context():
        coverage = factories.coverage().id
        tags = list(db.session.scalars(select(Tag.id)))
        rows = [
            {
                "kind": "client" if n % 2 else "lead",
                "first_name": f"F{n}",
                "last_name": f"L{n:03d}",
                "country": "US",
                "preferred_contact": "email",
                "email": f"r{n}@example.com",
                "email_opt_in": True,
                "sms_opt_in": False,
                "assigned_agent_id": agent_user.id,
            }
            for n in range(500)
        ]
        ids = list(db.session.scalars(insert(Record).returning(Record.id), rows))
        db.session.execute(
            insert(Product),
            [
                {
                    "record_id": rid,
                    "carrier": "C",
                    "coverage_type_id": coverage,
                    "status": ProductStatus.ACTIVE,
                    "client_access": False,
                }
                for rid in ids
            ],
        )
        db.session.execute(
            insert(Contact),
            [
                {
                    "record_id": rid,
                    "role": ContactRole.CONTACT_PERSON,
                    "first_name": "K",
                    "last_name": "P",
                }
                for rid in ids
            ],
        )
        db.session.execute(
            insert(record_tags),
            [{"record_id": rid, "tag_id": tags[n % len(tags)]} for n, rid in enumerate(ids)],
        )
        db.session.execute(
            insert(Task),
            [
                {
                    "title": "t",
                    "kind": "todo",
                    "assignee_id": agent_user.id,
                    "record_id": rid,
                    "done": False,
                }
                for rid in ids
            ],
        )
        db.session.commit()


@pytest.mark.usefixtures("five_hundred_records")
@pytest.mark.parametrize(
    "url", ["/admin/record/", "/admin/product/", "/admin/task/", "/admin/my_tasks/"]
)
def test_list_queries_do_not_grow_with_page_size(agent_client, count_queries, url):
    counts = {}
    for size in (25, 100, 500):
        with count_queries() as counter:
            response = agent_client.get(f"{url}?page_size={size}")
        assert response.status_code == 200
        counts[size] = counter.count
    assert counts[25] == counts[100] == counts[500], counts
    assert counts[500] <= 12, counts


@pytest.mark.usefixtures("five_hundred_records")
def test_record_list_with_filters_stays_flat(agent_client, count_queries):
    with count_queries() as counter:
        response = agent_client.get(
            "/admin/record/?page_size=500&flt0_kind_is=client"
            "&flt1_product_status_any_product_is=active"
        )
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('class="col-last_name"') == 250
    assert counter.count <= 12


def _add_records(agent_id: int, count: int) -> None:
    """``count`` records, each with a product and a tag, half of them the agent's."""
    coverage = factories.coverage().id
    tags = list(db.session.scalars(select(Tag.id))) or [factories.tag("Gold").id]
    start = db.session.scalar(select(func.count()).select_from(Record))
    rows = [
        {
            "kind": "client" if n % 2 else "lead",
            "first_name": f"Amy{n}",
            "last_name": f"Adams{n:04d}",
            "country": "US",
            "preferred_contact": "email",
            "email": f"amy{n}@example.com",
            "phone": "+15125550100",
            "email_opt_in": True,
            "sms_opt_in": False,
            "assigned_agent_id": agent_id if n % 2 else None,
        }
        for n in range(start, start + count)
    ]
    ids = list(db.session.scalars(insert(Record).returning(Record.id), rows))
    db.session.execute(
        insert(Product),
        [
            {
                "record_id": rid,
                "carrier": "C",
                "coverage_type_id": coverage,
                "status": ProductStatus.ACTIVE,
                "client_access": False,
            }
            for rid in ids
        ],
    )
    db.session.execute(
        insert(record_tags),
        [{"record_id": rid, "tag_id": tags[n % len(tags)]} for n, rid in enumerate(ids)],
    )
    db.session.commit()


def test_record_list_costs_at_most_8_queries_with_10_or_200_records(
    app, agent_client, agent_user, count_queries
):
    """The list staff work from most: signed-in user and session, count, rows, their tags, and
    the filters' choices (agents, tags, coverage types), whatever the rows, filters, search."""
    pages = [
        "/admin/record/",
        "/admin/record/?page_size=200",
        "/admin/record/?page_size=200&flt0_kind_is=client&search=amy",
        "/admin/record/?page_size=200&flt0_kind_is=client&flt1_tag_is_not=1"
        f"&flt2_assigned_agent_is={agent_user.id}&flt3_product_status_any_product_is=active"
        "&flt4_coverage_type_any_product_is=1&search=Adams&sort=0&desc=1",
    ]
    counts = {}
    for total, added in ((10, 10), (200, 190)):
        with app.app_context():
            _add_records(agent_user.id, added)
        for url in pages:
            with count_queries() as counter:
                response = agent_client.get(url)
            assert response.status_code == 200
            counts[total, url] = counter.count
    listed = agent_client.get(pages[1]).get_data(as_text=True)
    assert listed.count('class="col-last_name"') == 200
    assert max(counts.values()) <= 8, counts
    assert len(set(counts.values())) == 1, counts


@pytest.mark.usefixtures("five_hundred_records")
def test_record_page_costs_the_same_however_much_a_record_holds(
    app, agent_client, count_queries, agent_user
):
    with app.app_context():
        sparse = db.session.scalar(select(Record.id).limit(1))
        rich = factories.record(first_name="Rich", assigned_agent_id=agent_user.id)
        for n in range(15):
            factories.product(rich, carrier=f"Carrier {n}")
            factories.task(f"Task {n}", agent_user, rich)
        staff = [factories.staff(email=f"added{n}@example.com") for n in range(3)]
        for n in range(15):  # links and files, added by different staff members
            db.session.add(
                Document(
                    record_id=rich.id,
                    kind=DocumentKind.LINK,
                    url=f"https://example.com/{n}",
                    title=f"Link {n}",
                    added_by_id=staff[n % 3].id,
                )
            )
        db.session.commit()
        rich_id = rich.id
    counts = []
    for record_id in (sparse, rich_id):
        with count_queries() as counter:
            assert agent_client.get(f"/admin/record/details/?id={record_id}").status_code == 200
        counts.append(counter.count)
    # 20: the Requests tab reads its list and the staff a new request may be assigned to;
    # 21: the Signing tab reads its sign requests (their signers in one more, when any);
    # 22: the Certificates tab reads the record's certificate masters;
    # 23: and the portal settings, to warn while the Certificates module is off;
    # 24: the Journeys tab reads the record's journey sessions (with their journeys).
    assert counts[0] == counts[1] and counts[0] <= 24, counts


def test_portal_documents_page_costs_the_same_with_1_or_50_documents(app, client, count_queries):
    """The client's Documents page (and home, with its ID cards): categories, policies and
    the client's own uploads come with the list, not one query per document."""
    from app.services import portal_accounts
    from app.services.portal_settings import get_settings
    from models import DocumentCategory, DocumentSource, User, utcnow
    from tests.views.test_portal_signin import _credentials

    with app.app_context():
        staff = factories.staff(email="docs.staff@example.com")
        record = factories.record(first_name="Dot", email="dot@example.com")
        products = [factories.product(record, carrier=f"Carrier {n}") for n in range(3)]
        portal_accounts.enable_self_service(record, db.session.get(User, staff.id))
        get_settings().module_uploads = True
        db.session.commit()
        ids = {
            "record": record.id,
            "products": [p.id for p in products],
            "categories": list(db.session.scalars(select(DocumentCategory.id))),
            "account": portal_accounts.primary_account(record).id,
        }
        person = _credentials(record.id)
    client.submit(f"/portal/a/{person['token']}", {"password": person["password"]})

    def add(count: int, start: int) -> None:
        with app.app_context():
            rows = []
            for n in range(start, start + count):
                shared = {"shared": True, "shared_at": utcnow()}
                rows.append(
                    {
                        "record_id": ids["record"],
                        "kind": DocumentKind.FILE,
                        "title": f"Document {n}",
                        "storage_key": f"{n:032x}",
                        "filename": f"document-{n}.pdf",
                        "content_type": "application/pdf",
                        "size": 1000 + n,
                        "category_id": ids["categories"][n % len(ids["categories"])],
                        "product_id": ids["products"][n % 3],
                        "source": DocumentSource.STAFF,
                        **shared,
                    }
                )
                rows.append(
                    {
                        "record_id": ids["record"],
                        "kind": DocumentKind.FILE,
                        "title": f"Sent {n}",
                        "storage_key": f"{n + 10**6:032x}",
                        "filename": f"sent-{n}.pdf",
                        "content_type": "application/pdf",
                        "size": 500,
                        "source": DocumentSource.CLIENT,
                        "client_note": "For the claim",
                        "uploaded_by_account_id": ids["account"],
                        "shared": False,
                    }
                )
            db.session.execute(insert(Document), rows)
            db.session.commit()

    counts: dict[str, list[int]] = {"/portal/documents": [], "/portal/home": []}
    for count, start in ((1, 0), (49, 1)):
        add(count, start)
        for url, found in counts.items():
            with count_queries() as counter:
                response = client.get(url)
            assert response.status_code == 200
            found.append(counter.count)
    page = client.get("/portal/documents").get_data(as_text=True)
    assert "Document 49" in page and "sent-49.pdf" in page
    for url, (one, fifty) in counts.items():
        assert one == fifty, (url, one, fifty)
    assert counts["/portal/documents"][1] <= 8, counts


def test_portal_pages_cost_the_same_with_1_or_200_of_everything(
    app, client, count_queries, monkeypatch
):
    """Home, My details and the JSON details: the same number of queries for a client with one
    activity entry, document and request as for one with 200 of each (issue 18)."""
    # The pages as rendered: home kept by the portal page cache costs one query
    # (tests/views/test_portal_page_cache.py).
    monkeypatch.setitem(app.config, "PORTICO_PORTAL_PAGE_CACHE_SECONDS", 0)
    from app.services import portal_accounts
    from models import (
        ActivityEntry,
        Conversation,
        ConversationKind,
        ConversationStatus,
        DocumentSource,
        User,
        utcnow,
    )
    from tests.views.test_portal_signin import _credentials

    with app.app_context():
        staff = factories.staff(email="busy.staff@example.com")
        record = factories.record(first_name="Bo", email="bo@example.com")
        factories.product(record, carrier="Carrier", client_access=True)
        portal_accounts.enable_self_service(record, db.session.get(User, staff.id))
        db.session.commit()
        record_id = record.id
        person = _credentials(record.id)
    client.submit(f"/portal/a/{person['token']}", {"password": person["password"]})

    def add(count: int, start: int) -> None:
        with app.app_context():
            now = utcnow()
            db.session.execute(
                insert(ActivityEntry),
                [
                    {
                        "occurred_at": now,
                        "event_key": "record.updated",
                        "actor_kind": "staff",
                        "actor_label": "Staff",
                        "record_id": record_id,
                        "summary": f"Change {n}",
                        "details": {},
                        "prev_hash": "0" * 64,
                        "hash": f"{n:064x}",
                    }
                    for n in range(start, start + count)
                ],
            )
            db.session.execute(
                insert(Document),
                [
                    {
                        "record_id": record_id,
                        "kind": DocumentKind.LINK,
                        "url": f"https://example.com/{n}",
                        "title": f"Document {n}",
                        "source": DocumentSource.STAFF,
                        "shared": True,
                        "shared_at": now,
                    }
                    for n in range(start, start + count)
                ],
            )
            db.session.execute(
                insert(Conversation),
                [
                    {
                        "record_id": record_id,
                        "kind": ConversationKind.STAFF_REQUEST,
                        "status": ConversationStatus.WAITING,
                        "subject": f"Request {n}",
                        "answers": {},
                    }
                    for n in range(start, start + count)
                ],
            )
            db.session.commit()

    pages = ("/portal/home", "/portal/details", "/portal/api/details")
    counts: dict[str, list[int]] = {page: [] for page in pages}
    for count, start in ((1, 0), (199, 1)):
        add(count, start)
        for page, found in counts.items():
            client.get(page)  # the first look may refresh the session's row
            with count_queries() as counter:
                response = client.get(page)
            assert response.status_code == 200
            found.append(counter.count)
    for page, (one, many) in counts.items():
        assert one == many, (page, one, many)
    # Home: the session with the account and its record (one query); the sign requests,
    # products, contacts, ID cards and surveys; the navigation's numbers (one query). Not the
    # portal settings. My details and the JSON details: the session with the account too.
    assert counts["/portal/home"][1] <= 7, counts
    assert counts["/portal/details"][1] <= 9, counts
    assert counts["/portal/api/details"][1] <= 6, counts

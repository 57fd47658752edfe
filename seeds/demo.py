"""Demo data: two staff users, the demo campaigns, and as many realistic leads and clients as
asked for.

Rows go in with bulk INSERTs in batches (ids come back through RETURNING), so 100,000 records
with their products, contacts, tags and tasks take well under two minutes on SQLite or
PostgreSQL. Everything is made up: names from short lists, ``@example.com`` addresses and
phone numbers in the 555-01xx range reserved for fiction.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select

from app.services.portal_settings import get_settings
from app.services.users import create_staff_user
from models import (
    Contact,
    CoverageType,
    PortalSettings,
    Product,
    Record,
    Tag,
    Task,
    User,
    db,
    record_tags,
)
from seeds.campaigns import seed_campaigns
from seeds.defaults import seed_defaults
from seeds.demo_certificates import seed_demo_certificates
from seeds.demo_documents import seed_demo_documents
from seeds.demo_journeys import seed_demo_journeys
from seeds.demo_rows import contact_rows, product_rows, record_row, task_row


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    first_name: str
    last_name: str


DEMO_LOGINS = (
    DemoLogin("admin@example.com", "portico-admin-demo", "admin", "Alex", "Morgan"),
    DemoLogin("agent@example.com", "portico-agent-demo", "agent", "Jordan", "Lee"),
)

BATCH = 2000


def ensure_demo_staff() -> list[User]:
    users = []
    for login in DEMO_LOGINS:
        user = db.session.scalar(select(User).where(User.email == login.email))
        if user is None:
            user = create_staff_user(
                login.email, login.password, login.role, login.first_name, login.last_name
            )
        users.append(user)
    return users


#: The demo agency, so that what the demo sends reads as a real office's mail.
DEMO_OFFICE = {
    "portal_name": "Harbor Point Insurance",
    "office_email": "office@example.com",
    "office_phone": "+12025550100",
}


def _demo_office() -> None:
    """Name the demo agency, unless an admin has already named theirs."""
    settings = get_settings()
    if settings.portal_name == PortalSettings.portal_name.default.arg:
        settings.portal_name = DEMO_OFFICE["portal_name"]
    settings.office_email = settings.office_email or DEMO_OFFICE["office_email"]
    settings.office_phone = settings.office_phone or DEMO_OFFICE["office_phone"]


def seed_demo(
    records: int = 40,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
    commit: bool = True,
) -> dict[str, int]:
    """Add ``records`` demo records; returns counts of what was inserted.

    ``progress`` is called with the number of records just written, batch by batch. With
    ``commit`` (the default) each batch is committed, which keeps memory flat for big runs.
    """
    seed_defaults()
    seed_campaigns()
    _demo_office()
    staff = ensure_demo_staff()
    db.session.flush()
    rng = random.Random(seed)
    coverage = {ct.name: ct.id for ct in db.session.scalars(select(CoverageType))}
    tag_ids = list(db.session.scalars(select(Tag.id)))
    staff_ids = [user.id for user in staff]
    if commit:
        db.session.commit()

    totals = {"records": 0, "products": 0, "contacts": 0, "tags": 0, "tasks": 0, "documents": 0}
    today = date.today()
    remaining = records
    while remaining > 0:
        size = min(BATCH, remaining)
        rows = [record_row(rng, staff_ids) for _ in range(size)]
        ids = list(
            db.session.scalars(
                insert(Record).returning(Record.id, sort_by_parameter_order=True), rows
            )
        )
        products, contacts, tags, tasks = [], [], [], []
        for record_id, row in zip(ids, rows, strict=True):
            products.extend(product_rows(rng, record_id, row["kind"], coverage, today))
            contacts.extend(contact_rows(rng, record_id, row["last_name"]))
            if tag_ids and rng.random() < 0.25:
                for tag_id in rng.sample(tag_ids, k=rng.choice((1, 1, 2))):
                    tags.append({"record_id": record_id, "tag_id": tag_id})
            if rng.random() < 0.33:
                tasks.append(task_row(rng, record_id, row["assigned_agent_id"], today))
        for model, batch in ((Product, products), (Contact, contacts), (Task, tasks)):
            if batch:
                db.session.execute(insert(model), batch)
        if tags:
            db.session.execute(insert(record_tags), tags)
        if commit:
            db.session.commit()
        totals["records"] += size
        totals["products"] += len(products)
        totals["contacts"] += len(contacts)
        totals["tags"] += len(tags)
        totals["tasks"] += len(tasks)
        remaining -= size
        if progress:
            progress(size)
    admin = next((user for user in staff if user.has_role("admin")), staff[0])
    totals["documents"] = seed_demo_documents(admin)
    totals["certificates"] = seed_demo_certificates(admin)
    totals["journeys"] = seed_demo_journeys(admin)
    if commit:
        db.session.commit()
    return totals

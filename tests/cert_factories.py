"""Small factory functions for certificate tests, built with the models (so a test can also
make what the services would refuse: a master over a lapsed policy, say). Each commits, as a
request would. Call them inside an app context.

    record = cert_factories.client_with_certificates()     # a commercial client, signed up
    account = cert_factories.account_of(record)            # its primary portal account
    [master] = cert_factories.masters_of(record)           # shared, over two active policies

    gl = cert_factories.policy(record, carrier="Acme Mutual", number="GL-1001")
    master = cert_factories.master(record, [gl], shared=False)
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.services import documents, portal_accounts
from models import (
    CertificateMaster,
    PortalAccount,
    Product,
    ProductLimit,
    ProductStatus,
    Record,
    RecordKind,
    User,
    db,
    utcnow,
)
from tests import factories

_counter = itertools.count(1)

GENERAL_LIABILITY = [
    ("Each occurrence", 1_000_000),
    ("Damage to rented premises", 100_000),
    ("General aggregate", 2_000_000),
]
AUTO = [("Combined single limit", 1_000_000)]

_KEEP = object()


def policy(
    record: Record,
    *,
    carrier: str,
    number: str,
    status: ProductStatus = ProductStatus.ACTIVE,
    effective: date | object | None = _KEEP,
    end: date | object | None = _KEEP,
    limits: list[tuple[str, int | Decimal]] | None = None,
    coverage: str = "Commercial general liability",
) -> Product:
    """A policy of ``record`` with coverage lines: by default active, in force from a year
    ago (office time) to a year from now, with general liability limits."""
    today = documents.office_today()
    item = Product(
        record_id=record.id,
        carrier=carrier,
        plan_name=coverage,
        coverage_type=factories.coverage(coverage),
        status=status,
        policy_number=number,
        effective_date=today - timedelta(days=365) if effective is _KEEP else effective,
        end_date=today + timedelta(days=365) if end is _KEEP else end,
    )
    db.session.add(item)
    db.session.flush()
    rows = GENERAL_LIABILITY if limits is None else limits
    for position, (label, amount) in enumerate(rows):
        db.session.add(
            ProductLimit(product_id=item.id, label=label, amount=Decimal(amount), position=position)
        )
    return factories.saved(item)


def master(
    record: Record,
    policies: list[Product],
    *,
    shared: bool = True,
    name: str = "General liability and auto",
    description: str = "Commercial cleaning of office buildings.",
    by: User | None = None,
) -> CertificateMaster:
    """A certificate master over ``policies`` (shared with the client unless ``shared`` is
    False), made by ``by`` (the record's agent by default)."""
    user = by or record.assigned_agent
    item = CertificateMaster(
        record_id=record.id,
        name=name,
        description_of_operations=description,
        policies=list(policies),
        created_by_id=user.id if user else None,
    )
    if shared:
        item.shared = True
        item.shared_at = utcnow()
        item.shared_by_id = user.id if user else None
    db.session.add(item)
    return factories.saved(item)


def client_with_certificates(
    *,
    email: str | None = None,
    shared: bool = True,
    company: str = "Bright Floors LLC",
) -> Record:
    """A commercial client with an assigned agent, a primary portal account, two active
    policies (general liability with three limits, auto with one) and a certificate master
    over both (shared unless ``shared`` is False)."""
    n = next(_counter)
    agent = factories.staff(email=f"cert.agent{n}@example.com")
    record = factories.record(
        kind=RecordKind.CLIENT,
        first_name="Cora",
        last_name=f"Commercial{n}",
        company_name=company,
        email=email or f"cora{n}@example.com",
        address_line1="12 Harbour Road",
        city="Portland",
        state="ME",
        postal_code="04101",
        assigned_agent_id=agent.id,
    )
    portal_accounts.enable_self_service(record, agent)
    db.session.commit()
    gl = policy(record, carrier="Acme Mutual", number=f"GL-{1000 + n}")
    auto = policy(
        record,
        carrier="Harbour Casualty",
        number=f"CA-{2000 + n}",
        limits=AUTO,
        coverage="Commercial auto",
    )
    master(record, [gl, auto], shared=shared)
    return factories.saved(record)


def account_of(record: Record) -> PortalAccount:
    """The record's primary portal account."""
    return db.session.scalar(
        select(PortalAccount).where(
            PortalAccount.record_id == record.id, PortalAccount.contact_id.is_(None)
        )
    )


def masters_of(record: Record) -> list[CertificateMaster]:
    return list(
        db.session.scalars(
            select(CertificateMaster)
            .where(CertificateMaster.record_id == record.id)
            .order_by(CertificateMaster.id)
        )
    )

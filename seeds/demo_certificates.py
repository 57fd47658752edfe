"""Demo certificates: the first client with a commercial policy in force (one with a company
name first) gets coverage lines on those policies and a certificate master over them, shared
with the client, and the portal's Certificates module is switched on, so the Certificates tab
and the client's Certificates page show something on a first run."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from app.services import documents
from app.services.actors import Actor
from app.services.certificates import limits, masters
from app.services.portal_settings import get_settings
from models import CertificateMaster, Product, Record, RecordKind, User, db

#: The coverage lines a demo policy gets.
DEMO_LIMITS = (
    ("Each occurrence", 1_000_000),
    ("Damage to rented premises", 100_000),
    ("Medical expense (any one person)", 5_000),
    ("General aggregate", 2_000_000),
)


def seed_demo_certificates(staff: User) -> int:
    """One shared master for the first commercial client with a policy in force and no
    master yet; returns how many masters were added (0 or 1)."""
    today = documents.office_today()
    candidates = db.session.scalars(
        select(Record)
        .where(
            Record.kind == RecordKind.CLIENT,
            ~exists().where(CertificateMaster.record_id == Record.id),
        )
        .options(
            selectinload(Record.products).selectinload(Product.limits),
            selectinload(Record.products).selectinload(Product.coverage_type),
        )
        .order_by(Record.company_name.is_(None), Record.id)
    )
    for record in candidates:
        policies = [
            p
            for p in record.products
            if masters.in_force(p, today) and p.coverage_type.name == "Commercial"
        ][:3]
        if not policies:
            continue
        for policy in policies:
            if not policy.limits:
                limits.save_limits(policy, list(DEMO_LIMITS))
        actor = Actor.staff(staff)
        master = masters.create(
            record,
            actor=actor,
            name="Certificate of insurance",
            policies=policies,
            description=f"All operations of {record.company_name}.",
        )
        masters.share(master, actor=actor, understood=True)
        # The demo shows the client's side too: the portal's Certificates module is on.
        get_settings().module_certificates = True
        return 1
    return 0

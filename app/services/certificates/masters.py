"""What staff do with certificate masters: create, edit and delete them, share them with the
client (*Client Center: Enabled*) and stop sharing; and the share rule that ends a share by
itself when no covered policy is in force any more.

A master is shareable while at least one of its policies is *active* and in force today
(office time): started (no effective date, or on or before today) and not ended (no end
date, or today or later). :func:`end_lapsed_shares` runs once a day from housekeeping, and
:func:`check_still_shared` at every client request, so a lapsed master is never used, even
from a page opened before it lapsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from app.services import documents, events
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.validation import check_multi_line, check_single_line, visible
from models import (
    Certificate,
    CertificateHolder,
    CertificateMaster,
    Product,
    ProductStatus,
    Record,
    RecordKind,
    db,
    utcnow,
)

#: The insurers a certificate names (A-F).
MAX_CARRIERS = 6
MAX_NAME = 160
MAX_DESCRIPTION = 4000


def in_force(policy: Product, today: date) -> bool:
    """Active, and today within its dates."""
    return (
        policy.status == ProductStatus.ACTIVE
        and (policy.effective_date is None or policy.effective_date <= today)
        and (policy.end_date is None or policy.end_date >= today)
    )


def shareable(master: CertificateMaster, today: date | None = None) -> tuple[bool, str]:
    """Whether the master can be shared (and used) today, and if not the sentence why."""
    today = today or documents.office_today()
    policies = list(master.policies)
    if not policies:
        return False, _("It covers no policy.")
    if any(in_force(policy, today) for policy in policies):
        return True, ""
    active = [p for p in policies if p.status == ProductStatus.ACTIVE]
    if not active:
        return False, _("None of its policies is active.")
    starts = [p.effective_date for p in active if p.effective_date and p.effective_date > today]
    if len(starts) == len(active):
        return False, _(
            "None of its policies is in force yet (the first starts on %(day)s).",
            day=min(starts).isoformat(),
        )
    ends = [p.end_date for p in active if p.end_date is not None]
    return False, _(
        "None of its policies is in force any more (the last ended on %(day)s).",
        day=max(ends).isoformat() if ends else "?",
    )


# -- reading ------------------------------------------------------------------------------------


def _loaded() -> tuple[LoaderOption, ...]:
    return (
        selectinload(CertificateMaster.policies).selectinload(Product.limits),
        selectinload(CertificateMaster.policies).selectinload(Product.coverage_type),
        selectinload(CertificateMaster.holders).selectinload(CertificateHolder.added_by_account),
    )


def for_record(record: Record) -> list[CertificateMaster]:
    """The record's masters, newest first, with their policies, limits and holders."""
    return list(
        db.session.scalars(
            select(CertificateMaster)
            .where(CertificateMaster.record_id == record.id)
            .options(*_loaded())
            .order_by(CertificateMaster.created_at.desc(), CertificateMaster.id.desc())
        )
    )


def get_for_staff(master_id: object) -> CertificateMaster:
    """The master with this id (NotFound otherwise)."""
    try:
        key = int(str(master_id))
    except ValueError:
        raise NotFound(_("This page does not exist.")) from None
    master = db.session.get(CertificateMaster, key)
    if master is None:
        raise NotFound(_("This page does not exist."))
    return master


# -- input --------------------------------------------------------------------------------------


def _clean_name(name: str | None) -> str:
    try:
        check_single_line(name)
    except ValidationError as error:
        raise ValidationError(error.message, "name") from None
    text = " ".join(visible(name).split())
    if not text:
        raise ValidationError(_("Give the certificate a name."), "name")
    if len(text) > MAX_NAME:
        raise ValidationError(
            _("Keep the name under %(count)s characters.", count=MAX_NAME), "name"
        )
    return text


def _clean_description(text: str | None) -> str:
    value = (text or "").replace("\r\n", "\n").strip()
    try:
        check_multi_line(value)
    except ValidationError as error:
        raise ValidationError(error.message, "description") from None
    if len(value) > MAX_DESCRIPTION:
        raise ValidationError(
            _("Keep the description under %(count)s characters.", count=f"{MAX_DESCRIPTION:,}"),
            "description",
        )
    return value


def _clean_policies(record: Record, policies: Sequence[Product]) -> list[Product]:
    chosen = list({policy.id: policy for policy in policies}.values())
    if not chosen:
        raise ValidationError(_("Choose at least one policy."), "policies")
    if any(policy.record_id != record.id for policy in chosen):
        raise ValidationError(_("Choose policies of this record only."), "policies")
    carriers = {" ".join(policy.carrier.split()).casefold() for policy in chosen}
    if len(carriers) > MAX_CARRIERS:
        raise ValidationError(
            _(
                "A certificate names at most %(count)s insurers: choose policies of "
                "%(count)s carriers or fewer.",
                count=MAX_CARRIERS,
            ),
            "policies",
        )
    return sorted(chosen, key=lambda policy: policy.id)


# -- staff intents ------------------------------------------------------------------------------


def create(
    record: Record,
    *,
    actor: Actor,
    name: str | None,
    policies: Sequence[Product],
    description: str | None = "",
) -> CertificateMaster:
    """A new master on a client record over ``policies`` (of this record, six carriers at
    most); not shared until staff share it."""
    if record.kind != RecordKind.CLIENT:
        raise ValidationError(_("Certificates are for clients: convert the lead first."))
    master = CertificateMaster(
        record_id=record.id,
        record=record,
        name=_clean_name(name),
        description_of_operations=_clean_description(description),
        policies=_clean_policies(record, policies),
        created_by_id=actor.user_id,
    )
    db.session.add(master)
    db.session.flush()
    return master


def edit(
    master: CertificateMaster,
    *,
    actor: Actor,
    name: str | None,
    policies: Sequence[Product],
    description: str | None = "",
) -> CertificateMaster:
    """Change what the master certifies; certificates already issued keep what they
    printed. A shared master left with no policy in force stops being shared at once."""
    master.name = _clean_name(name)
    master.description_of_operations = _clean_description(description)
    master.policies = _clean_policies(master.record, policies)
    db.session.flush()
    check_still_shared(master)
    return master


def delete(master: CertificateMaster) -> None:
    """Delete a master and the holders added to it, while no certificate was issued from it.
    Once one was, the master is the record of what was certified to whom: it is refused, and
    disabling Client Center is the way to stop its use."""
    issued = db.session.scalar(
        select(func.count(Certificate.id)).where(Certificate.master_id == master.id)
    )
    if issued:
        raise ValidationError(
            _(
                "Certificates were issued from “%(name)s”, so it is kept as the record of what "
                "was certified: disable Client Center to stop its use.",
                name=master.name,
            )
        )
    db.session.delete(master)
    db.session.flush()


def share(master: CertificateMaster, *, actor: Actor, understood: bool) -> None:
    """*Client Center: Enabled*: the client sees the master and adds holders themselves.
    Needs the "I understand" tick and a policy in force today; emits
    ``staff.certificate.shared`` (the client is told per the matrix). Sharing a shared
    master changes nothing."""
    if master.shared:
        return
    if not understood:
        raise ValidationError(
            _("Tick the box to confirm you understand the client will issue certificates."),
            "understood",
        )
    ok, why = shareable(master)
    if not ok:
        raise ValidationError(_("This certificate cannot be shared: %(why)s", why=why), "shared")
    master.shared = True
    master.shared_at = utcnow()
    master.shared_by_id = actor.user_id
    master.unshared_at = None
    master.unshared_reason = None
    db.session.flush()
    events.emit(
        "staff.certificate.shared",
        actor=actor,
        record=master.record,
        details={"subject": master.name, "master": master.id},
    )


def unshare(master: CertificateMaster, *, actor: Actor) -> None:
    """*Client Center: Disabled*: the client no longer sees it (certificates issued stay on
    the record). Unsharing a master not shared changes nothing."""
    if not master.shared:
        return
    reason = _("Sharing stopped by %(name)s.", name=actor.label)[:200]
    if _end(master, reason):
        events.emit(
            "staff.certificate.unshared",
            actor=actor,
            record=master.record,
            details={"subject": master.name, "master": master.id},
        )


def _end(master: CertificateMaster, reason: str) -> bool:
    """Stop sharing, once: the row is updated only while still shared, so two requests (or
    a request and the daily sweep) ending it together log it once. True when this call
    ended it."""
    now = utcnow()
    ended = db.session.execute(
        update(CertificateMaster)
        .where(CertificateMaster.id == master.id, CertificateMaster.shared.is_(True))
        .values(shared=False, unshared_at=now, unshared_reason=reason[:200])
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(master, ["shared", "unshared_at", "unshared_reason"])
    return bool(ended.rowcount)  # type: ignore[attr-defined]


def check_still_shared(master: CertificateMaster, today: date | None = None) -> bool:
    """Whether the master is shared and still may be; a shared master with no policy in force
    stops being shared here and now (logged as ``certificate.share_ended``)."""
    if not master.shared:
        return False
    ok, why = shareable(master, today)
    if ok:
        return True
    if _end(master, why):
        events.emit(
            "certificate.share_ended",
            actor=Actor.system(),
            record=master.record,
            details={"subject": master.name, "master": master.id, "reason": why},
        )
    return False


def end_lapsed_shares(today: date | None = None) -> int:
    """End the share of every shared master with no policy in force ``today`` (office time);
    how many were ended. Run daily by housekeeping; the caller commits."""
    today = today or documents.office_today()
    shared = db.session.scalars(
        select(CertificateMaster)
        .where(CertificateMaster.shared.is_(True))
        .options(selectinload(CertificateMaster.policies), selectinload(CertificateMaster.record))
        .order_by(CertificateMaster.id)
    ).all()
    return sum(1 for master in shared if master.shared and not check_still_shared(master, today))

"""What a client does with the certificates shared with them: see the shared masters, add a
certificate holder (a certificate at once when the coverage meets the holder's
requirements, a request to the office with the reason when it does not), list and download
the certificates issued, and ask for a certificate the form does not cover.

Every account of a client record (the primary applicant, a co-applicant, a contact person)
sees the record's shared masters and certificates; a lead sees none. Another record's master
or certificate is :class:`NotFound`. Each call first ends the share of a master with no
policy in force any more (:func:`~.masters.check_still_shared`), so a page opened before a
policy lapsed cannot be used after.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Exists, exists, select
from sqlalchemy.orm import selectinload

from app import pdf
from app.services import conversations, document_access, events
from app.services.actors import Actor
from app.services.certificates import issuing, masters
from app.services.errors import NotFound, ValidationError
from app.services.validation import (
    check_multi_line,
    check_single_line,
    normalise_email,
    visible,
)
from models import (
    AccessAction,
    Certificate,
    CertificateHolder,
    CertificateMaster,
    Conversation,
    PortalAccount,
    Product,
    RecordKind,
    db,
)

MAX_NAME = 160
MAX_ADDRESS_LINES = 5
MAX_ADDRESS_LINE = 60
MAX_ADDRESS = 300
MAX_EMAIL = 255
MAX_REASON = 2000
_MISSING = "This page does not exist."


def _is_client(account: PortalAccount) -> bool:
    return account.record is not None and account.record.kind == RecordKind.CLIENT


# -- reading ------------------------------------------------------------------------------------


def visible_masters(account: PortalAccount) -> list[CertificateMaster]:
    """The masters shared with the account's record, with their policies and limits (a
    lead's account sees none); a master whose last policy left force is unshared first."""
    if not _is_client(account):
        return []
    shared = db.session.scalars(
        select(CertificateMaster)
        .where(
            CertificateMaster.record_id == account.record_id,
            CertificateMaster.shared.is_(True),
        )
        .options(
            selectinload(CertificateMaster.policies).selectinload(Product.limits),
            selectinload(CertificateMaster.policies).selectinload(Product.coverage_type),
        )
        .order_by(CertificateMaster.name, CertificateMaster.id)
    ).all()
    return [master for master in shared if masters.check_still_shared(master)]


def shared_query(account: PortalAccount) -> Exists:
    """Whether the account's record has a master shared (its policies in force or not), as
    a statement: the cheap first question before :func:`any_visible`, which a lead's account
    never gets to (:func:`offered_to`)."""
    return exists().where(
        CertificateMaster.record_id == account.record_id,
        CertificateMaster.shared.is_(True),
    )


def offered_to(account: PortalAccount) -> bool:
    """Whether certificates are for this account's record at all (clients, not leads)."""
    return _is_client(account)


def any_visible(account: PortalAccount) -> bool:
    """Whether the account sees any master (the navigation's Certificates entry): as
    :func:`visible_masters`, without loading limits and coverage for a yes or no. Every
    certificate belongs to a visible master, so none shows when this is False."""
    if not _is_client(account):
        return False
    shared = db.session.scalars(
        select(CertificateMaster)
        .where(
            CertificateMaster.record_id == account.record_id,
            CertificateMaster.shared.is_(True),
        )
        .options(selectinload(CertificateMaster.policies))
    ).all()
    return any(masters.check_still_shared(master) for master in shared)


def master_for_account(account: PortalAccount, master_id: object) -> CertificateMaster:
    """A master of the account's record that is or was shared with the client (one that
    stopped being shared is still found, so a form posted from an open page gets a sentence,
    not a 404); NotFound otherwise. Whether it may be used: :func:`usable`."""
    try:
        key = int(str(master_id))
    except ValueError:
        raise NotFound(_(_MISSING)) from None
    master = db.session.get(CertificateMaster, key)
    if (
        master is None
        or not _is_client(account)
        or master.record_id != account.record_id
        or master.shared_at is None
    ):
        raise NotFound(_(_MISSING))
    return master


def usable(master: CertificateMaster) -> tuple[bool, str]:
    """Whether the client may use the master now, and if not the sentence to show."""
    if masters.check_still_shared(master):
        return True, ""
    why = master.unshared_reason or masters.shareable(master)[1]
    return False, _(
        "This certificate can no longer be issued: %(why)s Please contact your agent.",
        why=why if why.endswith(".") else f"{why}.",
    )


def _check_usable(master: CertificateMaster) -> None:
    ok, message = usable(master)
    if not ok:
        raise ValidationError(message)


# -- holders ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HolderInput:
    name: str
    address: str
    email: str | None


def _field(error: ValidationError, field: str) -> ValidationError:
    return ValidationError(error.message, field)


def clean_holder(name: str | None, address: str | None, email: str | None) -> HolderInput:
    """The holder as typed: a one-line name (required, at most 160 characters), an address
    of at most 5 lines of 60 characters (300 in all), an optional valid email. Markup is
    kept as typed: it is text wherever it is shown or printed."""
    try:
        check_single_line(name)
    except ValidationError as error:
        raise _field(error, "name") from None
    clean_name = " ".join(visible(name).split())
    if not clean_name:
        raise ValidationError(_("Give the certificate holder's name."), "name")
    if len(clean_name) > MAX_NAME:
        raise ValidationError(
            _("Keep the name under %(count)s characters.", count=MAX_NAME), "name"
        )
    text = (address or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    try:
        check_multi_line(text)
    except ValidationError as error:
        raise _field(error, "address") from None
    lines = [" ".join(visible(line).split()) for line in text.split("\n")]
    lines = [line for line in lines if line]
    if len(lines) > MAX_ADDRESS_LINES:
        raise ValidationError(
            _("Keep the address to %(count)s lines.", count=MAX_ADDRESS_LINES), "address"
        )
    if any(len(line) > MAX_ADDRESS_LINE for line in lines):
        raise ValidationError(
            _("Keep each address line under %(count)s characters.", count=MAX_ADDRESS_LINE),
            "address",
        )
    missing = pdf.unprintable(clean_name + "".join(lines))
    if missing:
        raise ValidationError(
            _(
                "The certificate cannot print these characters: %(chars)s. Type the name "
                "and address in Latin, Greek or Cyrillic letters.",
                chars=" ".join(missing[:10]),
            ),
            "address" if not pdf.unprintable(clean_name) else "name",
        )
    clean_address = "\n".join(lines)
    if len(clean_address) > MAX_ADDRESS:
        raise ValidationError(
            _("Keep the address under %(count)s characters.", count=MAX_ADDRESS), "address"
        )
    try:
        clean_email = normalise_email(email)
        check_single_line(clean_email)
    except ValidationError as error:
        raise _field(error, "email") from None
    if clean_email and len(clean_email) > MAX_EMAIL:
        raise ValidationError(_("This email address is too long."), "email")
    return HolderInput(clean_name, clean_address, clean_email)


def _clean_reason(reason: str | None) -> str:
    text = visible(reason).replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError(
            _("Tell us why the coverage does not meet the holder's requirements."), "reason"
        )
    if len(text) > MAX_REASON:
        raise ValidationError(
            _("Keep the reason under %(count)s characters.", count=f"{MAX_REASON:,}"), "reason"
        )
    try:
        check_multi_line(text)
    except ValidationError as error:
        raise _field(error, "reason") from None
    return text


def add_holder(
    master: CertificateMaster,
    account: PortalAccount,
    *,
    name: str | None,
    address: str | None,
    email: str | None,
    meets: bool,
    understood: bool,
    reason: str | None = None,
    actor: Actor | None = None,
) -> CertificateHolder:
    """The client adds a certificate holder to a shared master. ``meets`` (the coverage
    meets the holder's requirements) needs ``understood`` (the coverages shown are accurate)
    and issues a certificate at once (``holder.certificates``); otherwise ``reason`` is
    required and becomes a request to the office (``holder.conversation``), emitting
    ``portal.certificate.requested``. Both emit ``portal.certificate_holder.added``."""
    if master.record_id != account.record_id or not _is_client(account):
        raise NotFound(_(_MISSING))
    _check_usable(master)
    given = clean_holder(name, address, email)
    if meets and not understood:
        raise ValidationError(
            _("Tick the box to confirm you understand the coverages shown are accurate."),
            "understood",
        )
    why = None if meets else _clean_reason(reason)
    actor = actor or Actor.client(account)
    holder = CertificateHolder(
        master=master,
        name=given.name,
        address=given.address,
        email=given.email,
        meets_requirements=bool(meets),
        reason=why,
        added_by_account_id=account.id,
        added_by_user_id=actor.user_id,
    )
    db.session.add(holder)
    db.session.flush()
    certificate = None
    if meets:
        certificate = issuing.issue(master, holder, account=account)
    else:
        holder.conversation = _request(account, actor, holder.name, str(why))
    events.emit(
        "portal.certificate_holder.added",
        actor=actor,
        record=account.record,
        details={
            "subject": holder.name,
            "holder": holder.name,
            "master": master.name,
            "meets_requirements": bool(meets),
            "certificate": certificate.number if certificate else None,
        },
    )
    db.session.flush()
    return holder


def _request(
    account: PortalAccount, actor: Actor, holder: str | None, message: str
) -> Conversation:
    subject = (
        _("Certificate request: %(holder)s", holder=holder) if holder else _("Certificate request")
    )
    conversation = conversations.open_for_client(account, subject, message)
    events.emit(
        "portal.certificate.requested",
        actor=actor,
        record=account.record,
        details={
            "subject": holder or "",
            "holder": holder,
            "message": message,
            "conversation": conversation.id,
        },
    )
    return conversation


def request_new(
    account: PortalAccount, *, message: str | None, actor: Actor | None = None
) -> Conversation:
    """*Request new certificate*: what the holder form does not cover, as a request to the
    office with the client's message (emits ``portal.certificate.requested``)."""
    if not _is_client(account):
        raise NotFound(_(_MISSING))
    text = conversations.clean_body(message)
    return _request(account, actor or Actor.client(account), None, text)


# -- certificates -------------------------------------------------------------------------------


def certificates_for_account(account: PortalAccount) -> list[Certificate]:
    """*Your certificates*: the certificates of the record's masters still shared, newest
    first (whoever of the record's people asked for them)."""
    shared = {master.id for master in visible_masters(account)}
    if not shared:
        return []
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.master_id.in_(shared))
            .options(
                selectinload(Certificate.holder),
                selectinload(Certificate.master),
                selectinload(Certificate.document),
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def certificate_for_account(account: PortalAccount, certificate_id: object) -> Certificate:
    """A certificate of the account's record (NotFound otherwise)."""
    try:
        key = int(str(certificate_id))
    except ValueError:
        raise NotFound(_(_MISSING)) from None
    certificate = db.session.get(Certificate, key)
    if (
        certificate is None
        or not _is_client(account)
        or certificate.master.record_id != account.record_id
    ):
        raise NotFound(_(_MISSING))
    return certificate


def download(certificate: Certificate, account: PortalAccount, actor: Actor | None = None) -> bytes:
    """The sealed PDF for the client (emits ``portal.certificate.downloaded`` and logs the
    download on the document); refused once its master is no longer shared."""
    if certificate.master.record_id != account.record_id or not _is_client(account):
        raise NotFound(_(_MISSING))
    _check_usable(certificate.master)
    data = issuing.pdf_bytes(certificate)
    actor = actor or Actor.client(account)
    if certificate.document is not None:
        document_access.log(certificate.document, AccessAction.DOWNLOADED, actor)
    events.emit(
        "portal.certificate.downloaded",
        actor=actor,
        record=account.record,
        details={
            "subject": certificate.number,
            "certificate": certificate.number,
            "holder": certificate.holder.name,
        },
    )
    return data

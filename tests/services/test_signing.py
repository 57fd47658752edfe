"""The signer's side of a sign request: who may act on which signer (404 otherwise), the
consent step, drafts, signatures checked, finish and decline once each, expiry and the
emailed link's one-time code."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from datetime import timedelta

import pytest
from fpdf import FPDF
from PIL import Image
from sqlalchemy import select

from app.services import portal_accounts, portal_badges
from app.services.errors import NotFound, ValidationError
from app.services.signing import access, disclosures, signing
from app.services.signing.signing_checks import MAX_DRAFT_BYTES, SignatureInput
from app.storage import DOCUMENTS, storage
from models import (
    AccountStatus,
    ActivityEntry,
    Contact,
    ContactRole,
    Document,
    DocumentKind,
    OutboxMessage,
    PortalAccount,
    RecordKind,
    SignerStatus,
    SignField,
    SignFieldKind,
    SignRequest,
    SignRequestSigner,
    SignRequestStatus,
    db,
    utcnow,
)
from tests import factories

IP, UA = "203.0.113.7", "Mozilla/5.0 (test)"

# -- building a sent request with the models ---------------------------------------------------


def pdf_bytes(pages: int = 2) -> bytes:
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_font("Helvetica", size=14)
    for number in range(pages):
        pdf.add_page()
        pdf.text(72, 72, f"Application form, page {number + 1}")
    return bytes(pdf.output())


def png(width: int = 300, height: int = 100, *, ink: bool = True, fmt: str = "PNG") -> bytes:
    mode = "RGBA" if fmt == "PNG" else "RGB"
    background = (255, 255, 255, 0) if fmt == "PNG" else (255, 255, 255)
    image = Image.new(mode, (width, height), background)
    if ink:
        for x in range(10, width - 10):
            for dy in range(-2, 3):
                image.putpixel((x, height // 2 + dy), (0, 0, 0, 255)[: len(mode)])
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def drawn(data: bytes | None = None) -> SignatureInput:
    return SignatureInput("drawn", image=data if data is not None else png())


def typed(text: str = "Cleo Client") -> SignatureInput:
    return SignatureInput("typed", text=text)


def client_record(email: str = "cleo@example.com", **values):
    agent = factories.staff(email=f"agent.{email}")
    values.setdefault("kind", RecordKind.CLIENT)
    return factories.record(
        first_name="Cleo", last_name="Client", email=email, assigned_agent_id=agent.id, **values
    )


def primary_account(record) -> PortalAccount:
    portal_accounts.enable_self_service(record, record.assigned_agent)
    db.session.flush()
    return db.session.scalar(
        select(PortalAccount).where(
            PortalAccount.record_id == record.id, PortalAccount.contact_id.is_(None)
        )
    )


def co_applicant(record, *, account: bool = True) -> tuple[Contact, PortalAccount | None]:
    contact = Contact(
        record_id=record.id,
        role=ContactRole.CO_APPLICANT,
        first_name="Carl",
        last_name="Client",
        email=f"carl.{record.id}@example.com",
    )
    db.session.add(contact)
    db.session.flush()
    if not account:
        return contact, None
    found = PortalAccount(
        record_id=record.id,
        contact_id=contact.id,
        status=AccountStatus.ENABLED,
        email=contact.email,
    )
    db.session.add(found)
    db.session.flush()
    return contact, found


def stored_pdf(record, data: bytes) -> Document:
    stored = storage().put(io.BytesIO(data), DOCUMENTS, field=None)
    document = Document(
        record_id=record.id,
        kind=DocumentKind.FILE,
        title="Application",
        storage_key=stored.key,
        filename="application.pdf",
        content_type=stored.content_type,
        size=stored.size,
    )
    db.session.add(document)
    db.session.flush()
    return document


def sent_request(record, people, *, in_order: bool = True, fields=None, pages: int = 2):
    """A SENT request on ``record`` for ``people`` ([(contact or None), ...]); each signer gets
    a signature field on page 0 (and ``fields``: [(signer index, kind, required, label)]).
    Returns the request and each signer's link token."""
    data = pdf_bytes(pages)
    request = SignRequest(
        record_id=record.id,
        title="Broker of record letter",
        message="Please sign.",
        status=SignRequestStatus.SENT,
        document=stored_pdf(record, data),
        original_sha256=hashlib.sha256(data).hexdigest(),
        pages=[[612.0, 792.0]] * pages,
        in_order=in_order,
        expires_at=utcnow() + timedelta(days=10),
    )
    db.session.add(request)
    tokens = []
    for position, contact in enumerate(people):
        token = secrets.token_urlsafe(32)
        tokens.append(token)
        turn = position == 0 or not in_order
        request.signers.append(
            SignRequestSigner(
                position=position,
                contact_id=contact.id if contact else None,
                name=contact.full_name if contact else record.full_name,
                email=contact.email if contact else record.email,
                status=SignerStatus.SENT if turn else SignerStatus.WAITING,
                token_hash=access.token_hash(token) if turn else None,
                notified_at=utcnow() if turn else None,
            )
        )
    db.session.flush()
    for index, signer in enumerate(request.signers):
        db.session.add(
            SignField(
                request=request,
                signer=signer,
                page=0,
                x=0.1,
                y=0.5 + 0.2 * index,
                width=0.4,
                height=0.1,
                kind=SignFieldKind.SIGNATURE,
            )
        )
    for index, kind, required, label in fields or ():
        db.session.add(
            SignField(
                request=request,
                signer=request.signers[index],
                page=1,
                x=0.1,
                y=0.1 + 0.1 * len(request.fields),
                width=0.3,
                height=0.05,
                kind=kind,
                required=required,
                label=label,
            )
        )
    db.session.commit()
    db.session.refresh(request)
    return request, tokens


def agree(signer, actor=None) -> None:
    signing.consent(
        signer,
        agreed=True,
        disclosure_version=disclosures.current().version,
        actor=actor or signing.signer_actor(signer),
        ip=IP,
        user_agent=UA,
    )


def sign(signer, *, values=None, signature=None, initials=None, consent: bool = True) -> None:
    actor = signing.signer_actor(signer)
    if consent and signer.consented_at is None:
        agree(signer, actor)
    signing.finish(
        signer,
        values=values or {},
        signature=signature or drawn(),
        initials=initials,
        actor=actor,
        ip=IP,
        user_agent=UA,
    )


def entries(key: str) -> list[ActivityEntry]:
    return list(db.session.scalars(select(ActivityEntry).where(ActivityEntry.event_key == key)))


@pytest.fixture
def pair(ctx):
    """A client record with a co-applicant, both with portal accounts; a request both sign,
    in order (the primary applicant first)."""
    record = client_record()
    primary = primary_account(record)
    contact, co = co_applicant(record)
    request, tokens = sent_request(record, [None, contact])
    return request, primary, co, tokens


# -- who sees what -----------------------------------------------------------------------------


def test_each_account_sees_only_its_own_signers_and_none_in_draft_or_before_its_turn(pair):
    request, primary, co, _tokens = pair
    first, second = request.signers
    assert access.signers_for_account(primary) == [first]
    assert access.signers_for_account(co) == []  # waiting: never told yet
    assert access.pending_count(primary) == 1 and access.pending_count(co) == 0
    # The navigation asks the same rule in its one query.
    assert portal_badges.of_account(primary).to_sign == 1
    assert portal_badges.of_account(co).to_sign == 0
    with pytest.raises(NotFound):
        access.signer_for_account(co, second.id)
    with pytest.raises(NotFound):
        access.signer_for_account(co, first.id)  # cross-signer: the primary's signer
    second.status = SignerStatus.SENT
    draft, _ = sent_request(request.record, [None])
    draft.status = SignRequestStatus.DRAFT
    db.session.flush()
    assert access.signer_for_account(co, second.id) == second
    assert access.signers_for_account(primary) == [first]
    with pytest.raises(NotFound):
        access.signer_for_account(primary, draft.signers[0].id)


def test_another_records_account_gets_not_found(pair):
    request, _primary, _co, _tokens = pair
    stranger = primary_account(client_record("otto@example.com"))
    for signer in request.signers:
        with pytest.raises(NotFound):
            access.signer_for_account(stranger, signer.id)
    assert access.signers_for_account(stranger) == []


def test_the_emailed_link_finds_its_signer_only_while_it_can_sign(pair):
    request, _primary, _co, tokens = pair
    first = request.signers[0]
    assert access.signer_by_token(tokens[0]) == first
    assert access.signer_by_token(tokens[1]) is None  # not issued: waiting
    assert access.signer_by_token("nonsense") is None and access.signer_by_token("") is None
    request.expires_at = utcnow() - timedelta(seconds=1)  # the sweeper has not run yet
    assert access.signer_by_token(tokens[0]) is None
    assert not access.can_sign(first)


# -- viewing and consent -----------------------------------------------------------------------


def test_the_first_view_is_kept_once(pair):
    request, primary, _co, _tokens = pair
    first = request.signers[0]
    for _ in range(2):
        signing.view(first, actor=signing.signer_actor(first), ip=IP, user_agent=UA)
    assert first.status == SignerStatus.VIEWED and first.viewed_at is not None
    assert request.status == SignRequestStatus.VIEWED
    [entry] = entries("portal.sign_request.viewed")
    assert entry.actor_account_id == primary.id and entry.record_id == request.record_id


def test_consent_cannot_be_skipped(pair):
    request, *_ = pair
    first = request.signers[0]
    with pytest.raises(ValidationError, match="Disclosure first") as refused:
        sign(first, consent=False)
    assert refused.value.field == "consent"
    actor = signing.signer_actor(first)
    current = disclosures.current().version
    with pytest.raises(ValidationError, match="Tick the box"):
        signing.consent(
            first, agreed=False, disclosure_version=current, actor=actor, ip=IP, user_agent=UA
        )
    with pytest.raises(ValidationError, match="disclosure changed"):
        signing.consent(
            first, agreed=True, disclosure_version=current + 1, actor=actor, ip=IP, user_agent=UA
        )
    assert first.consented_at is None and first.status == SignerStatus.SENT
    agree(first)
    assert first.consented_at is not None and first.disclosure.version == current
    assert (first.consent_ip, first.consent_user_agent) == (IP, UA)
    assert first.viewed_at is not None  # consenting means it was opened


# -- finishing ---------------------------------------------------------------------------------


def test_signing_keeps_the_signature_ends_the_link_and_tells_the_next_signer(pair):
    request, _primary, co, tokens = pair
    first, second = request.signers
    signing.save_draft(first, {"fields": {}, "signature": {"style": "typed", "text": "C"}})
    sign(first)
    db.session.commit()
    assert first.status == SignerStatus.SIGNED and first.signed_at is not None
    assert first.token_hash is None and first.draft == {}
    assert (first.ip, first.user_agent) == (IP, UA)
    assert Image.open(io.BytesIO(first.signature_image)).format == "PNG"
    assert access.signer_by_token(tokens[0]) is None
    [entry] = entries("portal.sign_request.signed")
    assert entry.details["sign_request"] == request.id
    # In order: the co-applicant's turn has come, with an email holding a fresh link.
    assert second.status == SignerStatus.SENT and second.token_hash is not None
    assert access.signers_for_account(co) == [second]
    assert db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.recipient == second.email,
            OutboxMessage.template_key == "sign.requested",
        )
    )
    assert request.status != SignRequestStatus.SIGNED


def test_a_signer_signs_only_once_and_only_in_turn(pair):
    request, *_ = pair
    first, second = request.signers
    with pytest.raises(ValidationError, match="not your turn"):
        sign(second)
    sign(first)
    with pytest.raises(ValidationError, match="already signed"):
        sign(first)
    with pytest.raises(ValidationError, match="already signed"):
        signing.decline(
            first, reason="Changed my mind", actor=signing.signer_actor(first), ip=IP, user_agent=UA
        )
    assert len(entries("portal.sign_request.signed")) == 1


def test_required_fields_are_needed_and_other_signers_fields_stay_untouched(ctx):
    record = client_record()
    contact, _co = co_applicant(record)
    request, _ = sent_request(
        record,
        [None, contact],
        in_order=False,
        fields=[
            (0, SignFieldKind.TEXT, True, "Policy number"),
            (0, SignFieldKind.CHECKBOX, True, "I agree"),
            (0, SignFieldKind.TEXT, False, "Note"),
            (1, SignFieldKind.TEXT, True, "Co-applicant's note"),
        ],
    )
    first = request.signers[0]
    number, box, note, theirs = [f for f in request.fields if f.kind != SignFieldKind.SIGNATURE]
    with pytest.raises(ValidationError, match="Policy number") as refused:
        sign(first, values={str(box.id): "1"})
    assert refused.value.field == f"field-{number.id}"
    with pytest.raises(ValidationError, match="I agree"):
        sign(first, values={str(number.id): "H123"})
    with pytest.raises(ValidationError, match="under 501"):
        sign(first, values={number.id: "x" * 501, box.id: "on"})
    sign(first, values={number.id: " H123\u202e ", box.id: "on", theirs.id: "forged"})
    assert (number.value, box.value, note.value) == ("H123", "1", "")
    assert theirs.value is None and first.status == SignerStatus.SIGNED
    assert request.status == SignRequestStatus.VIEWED  # all at once: the other has not signed


def test_required_initials_are_needed(ctx):
    record = client_record()
    request, _ = sent_request(record, [None], fields=[(0, SignFieldKind.INITIALS, True, "")])
    signer = request.signers[0]
    with pytest.raises(ValidationError, match="initials"):
        sign(signer)
    with pytest.raises(ValidationError, match="under 21"):
        sign(signer, initials=typed("C" * 21))


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (SignatureInput("drawn", image=b"GIF89a" + b"\0" * 100), "PNG or JPEG"),
        (SignatureInput("drawn", image=b"%PDF-1.4 not an image"), "PNG or JPEG"),
        (SignatureInput("drawn", image=b"\x89PNG\r\n\x1a\n" + b"\0" * 64), "cannot be read"),
        (SignatureInput("drawn", image=b""), "Draw your signature"),
        (SignatureInput("scribbled", image=b"x"), "Draw or type"),
        (SignatureInput("typed", text="   "), "Type your name"),
        (SignatureInput("typed", text="C" * 121), "under 121"),
    ],
)
def test_signatures_that_are_not_acceptable_are_refused(pair, signature, message):
    request, *_ = pair
    first = request.signers[0]
    with pytest.raises(ValidationError, match=message):
        sign(first, signature=signature)
    assert first.signed_at is None and first.signature_image is None


def test_signature_pictures_are_size_limited_and_kept_as_pixels_only(pair):
    request, *_ = pair
    first = request.signers[0]
    with pytest.raises(ValidationError, match="too large"):
        sign(first, signature=drawn(png(2001, 20)))
    noise = Image.frombytes("RGB", (600, 600), secrets.token_bytes(600 * 600 * 3))
    big = io.BytesIO()
    noise.save(big, format="PNG")
    assert len(big.getvalue()) > 512 * 1024
    with pytest.raises(ValidationError, match="too large"):
        sign(first, signature=drawn(big.getvalue()))
    with pytest.raises(ValidationError, match="Draw your signature in the box"):
        sign(first, signature=drawn(png(ink=False)))
    photo = io.BytesIO()
    Image.open(io.BytesIO(png(fmt="JPEG"))).save(
        photo, format="JPEG", comment=b"secret camera notes"
    )
    sign(first, signature=drawn(photo.getvalue() + b"trailing bytes"))
    kept = first.signature_image
    assert kept.startswith(b"\x89PNG") and b"secret" not in kept and b"trailing" not in kept


def test_only_the_ink_of_a_signature_is_kept(pair):
    """A big canvas with a small mark is stored as the mark (and a little paper round it), so
    it fills its place on the page and costs no more than the ink."""
    request, *_ = pair
    canvas = Image.new("RGBA", (1800, 1800), (255, 255, 255, 0))
    for x in range(900, 1000):
        for y in range(700, 706):
            canvas.putpixel((x, y), (0, 0, 0, 255))
    data = io.BytesIO()
    canvas.save(data, format="PNG")
    first = request.signers[0]
    sign(first, signature=drawn(data.getvalue()))
    kept = Image.open(io.BytesIO(first.signature_image))
    assert kept.size == (108, 14)


def test_a_typed_signature_is_kept_as_text(pair):
    request, *_ = pair
    first = request.signers[0]
    sign(first, signature=typed("  Cleo   Client "))
    assert (first.signature_style.value, first.signature_text) == ("typed", "Cleo Client")
    assert first.signature_image is None


# -- drafts ------------------------------------------------------------------------------------


def test_a_draft_keeps_only_the_signers_own_fields_until_they_finish(app, ctx):
    record = client_record()
    contact, _co = co_applicant(record)
    request, _ = sent_request(
        record,
        [None, contact],
        in_order=False,
        fields=[(0, SignFieldKind.TEXT, True, "Mine"), (1, SignFieldKind.TEXT, True, "Theirs")],
    )
    first = request.signers[0]
    mine, theirs = [f for f in request.fields if f.kind == SignFieldKind.TEXT]
    data_url = "data:image/png;base64,iVBORw0KGgo="
    kept = signing.save_draft(
        first,
        {
            "fields": {str(mine.id): "H123", str(theirs.id): "forged", "999": "x", "a": "b"},
            "signature": {"style": "drawn", "image": data_url, "evil": "<script>"},
            "other": "dropped",
        },
    )
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(SignRequestSigner, first.id).draft
    assert (
        stored
        == kept
        == {
            "fields": {str(mine.id): "H123"},
            "signature": {"style": "drawn", "image": data_url},
        }
    )
    with pytest.raises(ValidationError, match="Too much"):
        signing.save_draft(
            first, {"signature": {"style": "drawn", "image": data_url + "A" * MAX_DRAFT_BYTES}}
        )
    assert db.session.get(SignRequestSigner, first.id).draft == stored
    assert len(json.dumps(stored)) < MAX_DRAFT_BYTES


def test_no_draft_once_the_request_is_closed(pair):
    request, *_ = pair
    request.status = SignRequestStatus.CANCELLED
    with pytest.raises(ValidationError, match="cancelled"):
        signing.save_draft(request.signers[0], {"fields": {}})


# -- declining, expiry, cancellation -----------------------------------------------------------


def test_declining_needs_a_reason_and_closes_the_request_for_everyone(pair):
    request, primary, _co, tokens = pair
    first, second = request.signers
    actor = signing.signer_actor(first)
    with pytest.raises(ValidationError, match="Say why") as refused:
        signing.decline(first, reason="  ", actor=actor, ip=IP, user_agent=UA)
    assert refused.value.field == "reason"
    with pytest.raises(ValidationError, match="under 2,001"):
        signing.decline(first, reason="x" * 2001, actor=actor, ip=IP, user_agent=UA)
    signing.decline(first, reason="Wrong address", actor=actor, ip=IP, user_agent=UA)
    db.session.commit()
    assert request.status == SignRequestStatus.DECLINED and request.next_reminder_at is None
    assert (first.status, first.decline_reason) == (SignerStatus.DECLINED, "Wrong address")
    assert second.status == SignerStatus.CANCELLED
    assert all(signer.token_hash is None for signer in request.signers)
    assert access.signer_by_token(tokens[0]) is None
    [entry] = entries("portal.sign_request.declined")
    assert entry.details["reason"] == "Wrong address" and entry.actor_account_id == primary.id
    with pytest.raises(ValidationError, match="declined"):
        sign(first)
    with pytest.raises(ValidationError, match="declined"):
        signing.decline(first, reason="Again", actor=actor, ip=IP, user_agent=UA)


@pytest.mark.parametrize("marked", [False, True])
def test_an_expired_request_cannot_be_signed(pair, marked):
    request, *_ = pair
    first = request.signers[0]
    agree(first)
    request.expires_at = utcnow() - timedelta(minutes=1)
    if marked:  # the sweeper has run
        request.status = SignRequestStatus.EXPIRED
        first.status = SignerStatus.EXPIRED
    with pytest.raises(ValidationError, match="expired"):
        sign(first)
    with pytest.raises(ValidationError, match="expired"):
        signing.decline(first, reason="x", actor=signing.signer_actor(first), ip=IP, user_agent=UA)
    assert first.signed_at is None


def test_a_cancelled_request_cannot_be_signed(pair):
    request, *_ = pair
    first = request.signers[0]
    agree(first)
    request.status = SignRequestStatus.CANCELLED
    first.status = SignerStatus.CANCELLED
    with pytest.raises(ValidationError, match="cancelled"):
        sign(first)


# -- who acts, and the emailed link's code -----------------------------------------------------


def test_a_signer_without_a_portal_account_acts_under_their_own_name(ctx):
    record = client_record()
    contact, _none = co_applicant(record, account=False)
    request, _ = sent_request(record, [None, contact], in_order=False)
    first, second = request.signers
    assert signing.signer_actor(first).account_id is None  # no portal access enabled
    actor = signing.signer_actor(second)
    assert (actor.kind, actor.label, actor.email) == ("client", "Carl Client", contact.email)
    assert actor.account_id is None and not actor.is_primary


def test_the_one_time_code_opens_the_link_once(pair):
    request, *_ = pair
    first = request.signers[0]
    signing.send_code(first)
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.template_key == "sign.code")
    )
    assert message.recipient == first.email and message.sensitive
    code = next(word for word in message.body_text.split() if word.isdigit() and len(word) == 6)
    assert not signing.check_code(first, "000000" if code != "000000" else "111111")
    assert signing.check_code(first, code)
    assert not signing.check_code(first, code)  # single use


def test_no_code_for_a_signer_who_cannot_sign(pair):
    request, *_ = pair
    with pytest.raises(ValidationError, match="not your turn"):
        signing.send_code(request.signers[1])
    assert not signing.check_code(request.signers[1], "123456")

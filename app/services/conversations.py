"""Conversations between a client and the office: *Contact us*, requests staff send a client,
and the client's own requests (their fields are in :mod:`app.services.request_types`).

Each intent is one function: :func:`contact_us`, :func:`send_request` (staff),
:func:`start_client_request`, :func:`reply_as_client`, :func:`reply_as_staff`, :func:`close`,
:func:`reopen`, :func:`assign`. Each keeps the message and its files (documents on the
record, linked to the message, checked by the document rules), moves the status and emits
the event the notification matrix answers. The caller commits.

Who sees what, and reading threads, is :mod:`app.services.conversation_access`.

Status: a client's new conversation is *open*; when the office writes it is *waiting on
client*; when the client writes it is *answered*; *closed* takes no replies until reopened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import gettext as _

from app.services import document_access, documents, events
from app.services.actors import Actor
from app.services.conversation_access import for_client
from app.services.errors import NotFound, ValidationError
from app.services.validation import check_multi_line
from models import (
    AccessAction,
    Conversation,
    ConversationKind,
    ConversationMessage,
    ConversationStatus,
    DocumentSource,
    PortalAccount,
    Product,
    Record,
    RequestType,
    User,
    db,
    utcnow,
)

Upload = documents.Upload

#: The longest message, in characters.
MAX_BODY = 10_000
CLIENT_SIDE, STAFF_SIDE = "client", "staff"
#: Statuses in which the office has to act.
OFFICE_TURN = (ConversationStatus.OPEN, ConversationStatus.ANSWERED)


# -- input ------------------------------------------------------------------------------------


def clean_subject(text: str | None) -> str:
    """A subject as typed: one line, spaces collapsed, 1 to 200 characters."""
    subject = documents.clean_title(text)
    if not subject:
        raise ValidationError(_("Give the subject."), field="subject")
    if len(" ".join((text or "").split())) > 200:
        raise ValidationError(_("Keep the subject under 200 characters."), field="subject")
    return subject


def clean_body(text: str | None, *, required: bool = True) -> str:
    """A message as typed (plain text), without control characters, at most
    :data:`MAX_BODY` characters; empty is refused when ``required``."""
    body = (text or "").replace("\r\n", "\n").strip()
    if required and not body:
        raise ValidationError(_("Write your message."), field="message")
    if len(body) > MAX_BODY:
        raise ValidationError(
            _("Keep the message under %(count)s characters.", count=f"{MAX_BODY:,}"),
            field="message",
        )
    try:
        check_multi_line(body)
    except ValidationError as error:
        raise ValidationError(error.message, field="message") from error
    return body


# -- writing ----------------------------------------------------------------------------------


def _add_message(
    conversation: Conversation,
    actor: Actor,
    body: str,
    uploads: Sequence[Upload],
    *,
    account: PortalAccount | None = None,
    user: User | None = None,
) -> ConversationMessage:
    """Keep a message and its files; move the thread's clocks (not its status)."""
    now = utcnow()
    side = STAFF_SIDE if user is not None else CLIENT_SIDE
    message = ConversationMessage(
        conversation=conversation,
        author_user_id=user.id if user is not None else None,
        author_account_id=account.id if account is not None else None,
        side=side,
        author_name=actor.label[:200],
        body=body,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    if uploads:
        kept = documents.store_all(conversation.record, uploads, field="files")
        for document in kept:
            document.message_id = message.id
            document.client_note = None
            if side == CLIENT_SIDE:
                document.source = DocumentSource.CLIENT
                document.uploaded_by_account_id = account.id if account else None
                # Staff meet it in its thread, not a second time in the documents inbox.
                document.staff_seen_at = now
            else:
                document.added_by_id = user.id if user else None
        db.session.flush()
        for document in kept:
            document_access.log(document, AccessAction.UPLOADED, actor)
    conversation.last_message_at = now
    if side == CLIENT_SIDE:
        conversation.last_client_message_at = now
        conversation.client_read_at = now
    else:
        conversation.last_staff_message_at = now
        conversation.staff_read_at = now
    return message


def _file_names(message: ConversationMessage) -> list[str]:
    return [str(document.filename or document.title) for document in message.attachments]


def _details(
    conversation: Conversation, posted: ConversationMessage, **more: object
) -> dict[str, object]:
    db.session.refresh(posted, ["attachments"])
    return {
        "subject": conversation.subject,
        "conversation": conversation.id,
        "documents": _file_names(posted),
        **more,
    }


def _start(
    account: PortalAccount,
    kind: ConversationKind,
    subject: str,
    *,
    request_type: RequestType | None = None,
    product: Product | None = None,
    answers: dict[str, object] | None = None,
) -> Conversation:
    record = account.record
    conversation = Conversation(
        record_id=record.id,
        record=record,
        kind=kind,
        status=ConversationStatus.OPEN,
        subject=subject,
        request_type_id=request_type.id if request_type else None,
        product_id=product.id if product else None,
        answers=dict(answers or {}),
        account_id=account.id,
        assignee_id=record.assigned_agent_id,
    )
    db.session.add(conversation)
    return conversation


def contact_us(
    account: PortalAccount, subject: str | None, body: str | None, uploads: Sequence[Upload] = ()
) -> Conversation:
    """The client writes to the office: kept as a conversation on their record, and the
    agent (the office when there is none) is emailed with the client as Reply-To."""
    subject_line = clean_subject(subject)
    text = clean_body(body)
    conversation = _start(account, ConversationKind.CONTACT_US, subject_line)
    actor = Actor.client(account)
    message = _add_message(conversation, actor, text, uploads, account=account)
    events.emit(
        "portal.contact_us",
        actor=actor,
        record=account.record,
        details=_details(conversation, message, message=text),
    )
    return conversation


def open_for_client(account: PortalAccount, subject: str | None, body: str | None) -> Conversation:
    """A client request another feature opens (a certificate request): kept with the client's
    first message, where staff see requests; the caller emits its own event, with
    ``conversation`` in its details."""
    conversation = _start(account, ConversationKind.CLIENT_REQUEST, clean_subject(subject))
    _add_message(conversation, Actor.client(account), clean_body(body), (), account=account)
    return conversation


def start_client_request(
    account: PortalAccount,
    request_type: RequestType,
    body: str,
    uploads: Sequence[Upload] = (),
    *,
    answers: dict[str, object] | None = None,
    product: Product | None = None,
) -> Conversation:
    """The client sends a request of ``request_type``: ``body`` is their answers as lines
    (what staff read), ``answers`` the same by field id. Emits the type's event."""
    if product is not None and product.record_id != account.record_id:
        raise NotFound(_("This page does not exist."))
    conversation = _start(
        account,
        ConversationKind.CLIENT_REQUEST,
        request_type.name[:200],
        request_type=request_type,
        product=product,
        answers=answers,
    )
    actor = Actor.client(account)
    message = _add_message(conversation, actor, body, uploads, account=account)
    events.emit(
        request_type.event.value,
        actor=actor,
        record=account.record,
        details=_details(
            conversation,
            message,
            message=body,
            product=str(product) if product else None,
        ),
    )
    return conversation


def send_request(
    record: Record,
    user: User,
    subject: str | None,
    body: str | None,
    uploads: Sequence[Upload] = (),
    *,
    due_on: date | None = None,
    assignee: User | None = None,
    today: date | None = None,
) -> Conversation:
    """Staff ask the client for something: every account of the record sees it under
    *Incoming requests*, and the client is told per the matrix."""
    subject_line = clean_subject(subject)
    text = clean_body(body)
    today = today or documents.office_today()
    if due_on is not None and due_on < today:
        raise ValidationError(_("Choose a due date from today on."), field="due_on")
    conversation = Conversation(
        record_id=record.id,
        record=record,
        kind=ConversationKind.STAFF_REQUEST,
        status=ConversationStatus.WAITING,
        subject=subject_line,
        created_by_id=user.id,
        assignee_id=(assignee or record.assigned_agent or user).id,
        due_on=due_on,
    )
    db.session.add(conversation)
    actor = Actor.staff(user)
    message = _add_message(conversation, actor, text, uploads, user=user)
    events.emit(
        "staff.request.created",
        actor=actor,
        record=record,
        details=_details(conversation, message, due=due_on.isoformat() if due_on else None),
    )
    return conversation


def reply_as_client(
    account: PortalAccount,
    conversation_id: int,
    body: str | None,
    uploads: Sequence[Upload] = (),
) -> ConversationMessage:
    """The client answers in a thread they see; a closed one takes no reply."""
    conversation = for_client(account, conversation_id)
    if conversation.status == ConversationStatus.CLOSED:
        raise ValidationError(
            _("This request is closed. Send a new request if you need anything else.")
        )
    text = clean_body(body, required=not uploads)
    actor = Actor.client(account)
    message = _add_message(conversation, actor, text, uploads, account=account)
    if conversation.status == ConversationStatus.WAITING:
        conversation.status = ConversationStatus.ANSWERED
    events.emit(
        "portal.request.replied",
        actor=actor,
        record=account.record,
        details=_details(conversation, message, message=text),
    )
    return message


def reply_as_staff(
    conversation: Conversation, user: User, body: str | None, uploads: Sequence[Upload] = ()
) -> ConversationMessage:
    """Staff answer in a thread: it waits on the client again (a closed one is reopened)."""
    text = clean_body(body, required=not uploads)
    actor = Actor.staff(user)
    if conversation.status == ConversationStatus.CLOSED:
        reopen(conversation, user)
    message = _add_message(conversation, actor, text, uploads, user=user)
    conversation.status = ConversationStatus.WAITING
    events.emit(
        "staff.request.replied",
        actor=actor,
        record=conversation.record,
        details=_details(conversation, message),
        customer_to=_client_address(conversation),
    )
    return message


def _client_address(conversation: Conversation) -> tuple[str, str] | None:
    """Who hears of the office's answer: the person who started the conversation (a contact
    person with an account of their own included); None: the record's client."""
    account = conversation.account
    if account is None:
        return None
    actor = Actor.client(account)
    return (actor.email, actor.label) if actor.email else None


def close(conversation: Conversation, user: User) -> None:
    """Staff close a conversation (logged); closing a closed one changes nothing."""
    if conversation.status == ConversationStatus.CLOSED:
        return
    conversation.status = ConversationStatus.CLOSED
    conversation.closed_at = utcnow()
    events.emit(
        "staff.request.closed",
        actor=Actor.staff(user),
        record=conversation.record,
        details={"subject": conversation.subject, "conversation": conversation.id},
    )


def reopen(conversation: Conversation, user: User) -> None:
    """Staff reopen a closed conversation (logged): the office's turn again."""
    if conversation.status != ConversationStatus.CLOSED:
        return
    conversation.status = ConversationStatus.ANSWERED
    conversation.closed_at = None
    events.emit(
        "staff.request.reopened",
        actor=Actor.staff(user),
        record=conversation.record,
        details={"subject": conversation.subject, "conversation": conversation.id},
    )


def assign(conversation: Conversation, assignee: User | None) -> None:
    """Hand a conversation to a staff member (None: nobody)."""
    if assignee is not None and not assignee.active:
        raise ValidationError("Choose an active staff member.", field="assignee")
    conversation.assignee_id = assignee.id if assignee is not None else None

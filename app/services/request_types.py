"""Request types: the kinds of request a client sends from the portal (*Personal change
request*, *Commercial change request*, *General request*, and any an admin adds, such as
*Add a driver*), each with fields admins define without code.

:func:`form_class` builds a type's WTForms form per request from its active fields (through
:mod:`app.services.question_forms`, as surveys do; files are a kind of their own,
:class:`FileKind`), with a required choice of the client's policies first when the type asks
for one. The form is the only validator, for the page and the JSON API alike. :func:`submit`
turns a valid form into a conversation (:func:`app.services.conversations.start_client_request`):
the answers as the lines staff read, the answers by field id, and the files through the
document rules (size, type by content); a refused file keeps nothing.

Only clients send requests: a lead's account finds no request type (NotFound), as files on a
lead's record are not the client's to add.
"""

from __future__ import annotations

import re
from typing import Any, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from wtforms import MultipleFileField, SelectField, validators
from wtforms.fields.core import UnboundField

from app.services import conversations, documents, field_types, products, question_forms
from app.services.errors import NotFound, ValidationError
from models import (
    Conversation,
    ConversationMessage,
    Document,
    PortalAccount,
    Product,
    RecordKind,
    RequestField,
    RequestType,
    db,
)

#: The kinds of field a request type may have: the survey question types, ways to reach
#: someone (read in the client's country), and files.
FIELD_TYPES = (*question_forms.QUESTION_TYPES, "email", "phone", "file")
#: The letter before a field's id in the form and in API bodies (``f12``).
PREFIX = "f"
#: The policy choice's name in the form and in API bodies.
POLICY = "policy"
KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


def field_name(field: RequestField) -> str:
    """A field's name in the form and in API bodies."""
    return f"{PREFIX}{field.id}"


# -- files: a kind of field of its own ----------------------------------------------------------


def _files(data: Any) -> list[FileStorage]:
    """The files a file field received (an empty file input still sends a part with no name)."""
    items = data if isinstance(data, list) else [data]
    return [item for item in items if isinstance(item, FileStorage) and item.filename]


def _files_required(form: Any, field: Any) -> None:
    if not _files(field.data):
        raise validators.StopValidation(_("Choose at least one file."))


def _at_most(form: Any, field: Any) -> None:
    if len(_files(field.data)) > documents.MAX_FILES:
        raise validators.StopValidation(
            _("Upload at most %(count)s files at a time.", count=documents.MAX_FILES)
        )


class FileKind:
    """Attachments: any number of files (the whole request at most
    :data:`documents.MAX_FILES`), each kept as a document on the record if the document
    rules accept it. The answer is the documents' ids."""

    name = "file"
    label = "Files"
    settings_doc: dict[str, str] = {}

    def field(self, question: Any) -> UnboundField:
        checks = [_files_required if question.required else validators.Optional(), _at_most]
        return MultipleFileField(question.label, description=question.help_text, validators=checks)

    def json_schema(self, question: Any, *, required: bool) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"type": "string", "contentMediaType": "application/octet-stream"},
            "minItems": 1 if required else 0,
            "maxItems": documents.MAX_FILES,
        }

    def display(self, value: Any) -> str:
        return ", ".join(str(item) for item in value) if isinstance(value, list) else ""

    def check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {}


FILE = FileKind()
EXTRA_KINDS: dict[str, question_forms.ExtraKind] = {FILE.name: FILE}


def type_label(field_type: str) -> str:
    """A field type's name as admins read it."""
    return FILE.label if field_type == FILE.name else field_types.get(field_type).label


# -- the types the portal offers ----------------------------------------------------------------


def offered() -> list[RequestType]:
    """The request types clients may send now (switched on), in the admins' order."""
    return list(
        db.session.scalars(
            select(RequestType)
            .where(RequestType.active.is_(True))
            .order_by(RequestType.position, RequestType.name, RequestType.id)
        )
    )


def get(key: str) -> RequestType:
    """An active request type; another key, or one switched off, is NotFound."""
    request_type = db.session.scalar(select(RequestType).where(RequestType.key == key))
    if request_type is None or not request_type.active:
        raise NotFound(_("This page does not exist."))
    return request_type


def for_client(account: PortalAccount, key: str) -> RequestType:
    """The type ``key`` for this account to send: NotFound for a lead's account."""
    if account.record.kind != RecordKind.CLIENT:
        raise NotFound(_("This page does not exist."))
    return get(key)


def active_fields(request_type: RequestType) -> list[RequestField]:
    """The fields asked now, in order."""
    return list(
        db.session.scalars(
            select(RequestField)
            .where(
                RequestField.request_type_id == request_type.id, RequestField.archived.is_(False)
            )
            .order_by(RequestField.position, RequestField.id)
        )
    )


def policy_label(product: Product) -> str:
    """A policy as the client knows it: carrier, plan, number."""
    name = " ".join(part for part in (product.carrier, product.plan_name) if part)
    return f"{name} ({product.policy_number})" if product.policy_number else name


def policies(account: PortalAccount) -> list[Product]:
    """The policies the client may name: those they see in the portal."""
    return products.visible_to_client(account.record)


class RequestForm(question_forms.QuestionForm):
    """Base of every generated request form."""

    request_type: RequestType
    asks_policy: bool = False

    def file_fields(self) -> list[tuple[RequestField, list[FileStorage]]]:
        return [
            (question, _files(self.field_for(question).data))
            for question in self.questions
            if question.field_type == FILE.name
        ]


def form_class(
    request_type: RequestType,
    account: PortalAccount | None,
    fields: list[RequestField] | None = None,
) -> type[RequestForm]:
    """The type's form, built now from its active fields; a required choice of the client's
    policies first when the type asks for one and the client has any (staff's preview,
    without an account, sees the type's fields alone)."""
    asked = active_fields(request_type) if fields is None else fields
    more: dict[str, Any] = {"request_type": request_type, "asks_policy": False}
    if request_type.asks_policy and account is not None:
        choices = [(str(p.id), policy_label(p)) for p in policies(account)]
        if choices:
            more["asks_policy"] = True
            more[POLICY] = SelectField(
                _l("Which policy is it about?"),
                choices=[("", _("Choose…")), *choices],
                validators=[validators.InputRequired()],
                validate_choice=True,
            )
    country = account.record.country if account is not None else None
    built = question_forms.form_class(
        f"{request_type.key.title().replace('-', '')}RequestForm",
        asked,
        base=RequestForm,
        prefix=PREFIX,
        extra_kinds=EXTRA_KINDS,
        context={"country": country or "US"},
        more=more,
    )
    return cast(type[RequestForm], built)


def value_schema(field: RequestField) -> dict[str, Any]:
    """A field's value as JSON Schema."""
    return question_forms.value_schema(field, required=field.required, extra_kinds=EXTRA_KINDS)


def describe(field: RequestField) -> dict[str, Any]:
    """A field for the JSON API."""
    return question_forms.describe(field, field_name(field), extra_kinds=EXTRA_KINDS)


def display(field: RequestField, value: Any) -> str:
    """An answer as staff read it (a file field's answer: its document ids)."""
    return question_forms.display(field, value)


# -- sending ------------------------------------------------------------------------------------


def _shown(field: RequestField, data: Any) -> str:
    if field.field_type == "yes_no":
        return _("Yes") if data else _("No")
    return field_types.get(field.field_type).display(data)


def submit(account: PortalAccount, key: str, form: RequestForm) -> Conversation:
    """Send the client's request of type ``key`` from its validated form: a conversation with
    the answers as readable lines ("Label: value") and by field id (files: their document
    ids), the files kept as documents through the document rules, and the type's event
    emitted. A refused file raises ValidationError (naming its field) and keeps nothing."""
    request_type = for_client(account, key)
    product = None
    if form.asks_policy:
        product = db.session.get(Product, int(form[POLICY].data))
        if product is None or product not in policies(account):
            raise NotFound(_("This page does not exist."))
    answers = form.answers()
    lines = [_("Policy: %(policy)s", policy=policy_label(product))] if product else []
    by_id = {str(question.id): question for question in form.questions}
    for question_id, question in by_id.items():
        if question_id in answers:
            lines.append(f"{question.label}: {_shown(question, form.field_for(question).data)}")
    uploads: list[documents.Upload] = []
    file_counts: list[tuple[RequestField, int]] = []
    for question, files in form.file_fields():
        if files:
            names = [documents.clean_filename(part.filename) for part in files]
            lines.append(f"{question.label}: {', '.join(names)}")
            uploads.extend(documents.Upload(part.stream, part.filename) for part in files)
            file_counts.append((question, len(files)))
    if not answers and not uploads:
        raise ValidationError(_("Fill in at least one field."))
    try:
        conversation = conversations.start_client_request(
            account, request_type, "\n".join(lines), uploads, answers=answers, product=product
        )
    except ValidationError as refused:
        raise ValidationError(refused.message, field=_refused_field(form, refused)) from refused
    if file_counts:
        kept = list(
            db.session.scalars(
                select(Document.id)
                .join(ConversationMessage, ConversationMessage.id == Document.message_id)
                .where(ConversationMessage.conversation_id == conversation.id)
                .order_by(Document.id)
            )
        )
        for question, count in file_counts:
            answers[str(question.id)], kept = kept[:count], kept[count:]
        conversation.answers = dict(answers)
    return conversation


def _refused_field(form: RequestForm, refused: ValidationError) -> str | None:
    """The file field a refused file came from (the document rules name the file)."""
    with_files = [(q, files) for q, files in form.file_fields() if files]
    for question, files in with_files:
        for part in files:
            if refused.message.startswith(f"{documents.clean_filename(part.filename)}:"):
                return field_name(question)
    return field_name(with_files[0][0]) if with_files else refused.field


# -- admins -------------------------------------------------------------------------------------


def check_field(field: RequestField, settings: dict[str, Any]) -> None:
    """Tidy a field an admin saves: a known type, a label, its settings checked by the type."""
    question_forms.check_row(
        field,
        settings,
        FIELD_TYPES,
        wrong_type="Choose one of the field types offered.",
        missing_label="Give the field's label.",
        check_extra=FILE.check_settings,
    )


def check_type(request_type: RequestType) -> None:
    """Tidy a request type an admin saves: a name, and a key of lower-case letters, digits,
    hyphens and underscores (like the surveys' keys) that no other type has: it is in the
    portal's addresses."""
    request_type.name = " ".join((request_type.name or "").split())
    if not request_type.name:
        raise ValidationError("Give the request type a name.", field="name")
    request_type.key = (request_type.key or "").strip().lower()
    if not KEY_PATTERN.match(request_type.key) or len(request_type.key) > 60:
        raise ValidationError(
            "The key takes lower-case letters, digits, hyphens and underscores "
            "(for example add-a-driver).",
            field="key",
        )
    with db.session.no_autoflush:  # the type itself is not in the database yet
        taken = db.session.scalar(
            select(func.count())
            .select_from(RequestType)
            .where(RequestType.key == request_type.key, RequestType.id != (request_type.id or 0))
        )
    if taken:
        raise ValidationError("Another request type has this key.", field="key")
    request_type.description = (request_type.description or "").strip()


def requests_sent(request_type: RequestType) -> int:
    """How many requests of this type clients have sent (a type with any is not deleted)."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.request_type_id == request_type.id)
        )
        or 0
    )


def before_delete(request_type: RequestType) -> None:
    """An admin deletes a type: refused when clients have sent requests of it (switch it off
    instead); otherwise its fields go with it."""
    sent = requests_sent(request_type)
    if sent:
        raise ValidationError(
            f"{request_type.name} cannot be deleted: clients have sent {sent} request"
            f"{'' if sent == 1 else 's'} of this type. Switch it off (Active) instead."
        )
    for field in list(request_type.fields):
        db.session.delete(field)

"""Forms built from questions admins define without code: a survey's questions and a request
type's fields are rows alike (label, help text, field type, settings, required, position,
archived), and this module turns such rows into a WTForms form, a JSON Schema and a
description for the JSON API, through the field types registry (:mod:`app.services.field_types`).

The generated form is the only validator, for a portal page and the JSON API alike. A row
kind the registry does not know (a request type's ``file``) is given by the caller as an
:class:`ExtraKind`: one class per kind, its field and its schema together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from app.services import field_types
from app.services.errors import ValidationError
from app.services.field_types import check_form_text

#: The field types a question may take (those that need no record, such as a ZIP code or a
#: US state read in the record's country, are left out).
QUESTION_TYPES = ("text", "long_text", "number", "date", "yes_no", "choice")


class Question(Protocol):
    """What a row needs to become a form field (a survey question, a request field)."""

    id: int
    label: str
    help_text: str
    field_type: str
    settings: dict[str, Any]
    required: bool


class ExtraKind(Protocol):
    """A kind of row outside the field types registry (a request type's files)."""

    name: str
    label: str

    def field(self, question: Any) -> UnboundField: ...

    def json_schema(self, question: Any, *, required: bool) -> dict[str, Any]: ...

    def display(self, value: Any) -> str: ...


class QuestionForm(FlaskForm):
    """Base of every generated form: its rows, and the name each field has."""

    questions: Sequence[Any] = []
    #: The letter before a row's id in the field's name (``q12``, ``f12``).
    prefix: str = "q"
    #: Row kinds the registry does not know, by name.
    extra_kinds: dict[str, ExtraKind] = {}

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        return check_form_text(self) and valid

    def field_for(self, question: Any) -> Any:
        return self[f"{self.prefix}{question.id}"]

    def answers(self) -> dict[str, Any]:
        """The validated answers, ``{row id: JSON value}``; unanswered ones left out, and the
        extra kinds (files) too: their values are the caller's to keep."""
        result = {}
        for question in self.questions:
            if question.field_type in self.extra_kinds:
                continue
            kind = field_types.get(question.field_type)
            value = kind.json_value(self.field_for(question).data)
            if value is not None and value != "":
                result[str(question.id)] = value
        return result


def unbound_field(question: Question, context: dict[str, Any] | None = None) -> UnboundField:
    """A row's WTForms field, from its field type."""
    kind = field_types.get(question.field_type)
    unbound = kind.field(
        question.label,
        question.help_text,
        question.required,
        question.settings or {},
        context or {},
    )
    if question.field_type == "choice" and question.required:
        # No answer picked for the client: a required choice starts blank, and stays
        # refused until they choose (the details' choices start from the saved value).
        unbound.kwargs["choices"] = [("", _("Choose…")), *unbound.kwargs["choices"]]
    return unbound


def form_class(
    name: str,
    questions: Sequence[Any],
    *,
    base: type[QuestionForm] = QuestionForm,
    prefix: str = "q",
    extra_kinds: dict[str, ExtraKind] | None = None,
    context: dict[str, Any] | None = None,
    more: dict[str, Any] | None = None,
) -> type[QuestionForm]:
    """A form class named ``name`` with a field per row, in the order given (after the
    fields of ``more``)."""
    extras = extra_kinds or {}
    attributes: dict[str, Any] = {
        "questions": list(questions),
        "prefix": prefix,
        "extra_kinds": extras,
        **(more or {}),
    }
    for question in questions:
        extra = extras.get(question.field_type)
        attributes[f"{prefix}{question.id}"] = (
            extra.field(question) if extra is not None else unbound_field(question, context)
        )
    return type(name, (base,), attributes)


def value_schema(
    question: Question, *, required: bool, extra_kinds: dict[str, ExtraKind] | None = None
) -> dict[str, Any]:
    """A row's value as JSON Schema, from its field type."""
    extra = (extra_kinds or {}).get(question.field_type)
    if extra is not None:
        schema = extra.json_schema(question, required=required)
    else:
        schema = field_types.get(question.field_type).json_schema(question.settings or {})
    schema["title"] = question.label
    if question.help_text:
        schema["description"] = question.help_text
    if required and isinstance(schema.get("type"), list):
        kept = [kind for kind in schema["type"] if kind != "null"]
        schema["type"] = kept[0] if len(kept) == 1 else kept
        if "enum" in schema:
            schema["enum"] = [value for value in schema["enum"] if value is not None]
    return schema


def describe(
    question: Question, name: str, *, extra_kinds: dict[str, ExtraKind] | None = None
) -> dict[str, Any]:
    """A row for the JSON API: its name in bodies, label, help, type, required, schema (and a
    choice's options)."""
    described: dict[str, Any] = {
        "name": name,
        "label": question.label,
        "help": question.help_text,
        "type": question.field_type,
        "required": question.required,
        "schema": value_schema(question, required=question.required, extra_kinds=extra_kinds),
    }
    if question.field_type == "choice":
        described["options"] = [
            {"value": value, "label": label}
            for value, label in field_types.choice_options(question.settings or {})
        ]
    return described


def display(question: Question, value: Any) -> str:
    """An answer as staff read it."""
    if question.field_type == "yes_no":
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def check_row(
    question: Any,
    settings: dict[str, Any],
    types: Sequence[str],
    *,
    wrong_type: str,
    missing_label: str,
    check_extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """Tidy a row an admin saves: a type of ``types`` (else ``wrong_type``), a label
    (``missing_label`` when there is none), its settings checked by the type (by
    ``check_extra`` for a kind outside the registry)."""
    if question.field_type not in types:
        raise ValidationError(wrong_type, field="field_type")
    question.label = " ".join((question.label or "").split())
    if not question.label:
        raise ValidationError(missing_label, field="label")
    if question.field_type in field_types.REGISTRY:
        question.settings = field_types.get(question.field_type).check_settings(settings)
    else:
        question.settings = check_extra(settings) if check_extra is not None else {}

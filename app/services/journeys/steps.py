"""The kinds of journey step: one class per :class:`~models.StepKind`, found by kind
(:func:`get`). Each knows the form its page posts (None when the page has no form of its
own), whether a session has done what it asks, and how that reads on the review page and in
the completion PDF.

Every method reads the session's copy of the journey (``step_def``, one item of
``session.definition["steps"]``), never the journey as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, cast
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import validators

from app.services import field_types, question_forms
from models import JourneySession, SignerStatus, StepKind


@dataclass
class Question:
    """A question or slot as the session's copy has it (what question_forms reads)."""

    id: int
    label: str
    help_text: str = ""
    field_type: str = "text"
    settings: dict[str, Any] = field(default_factory=dict)
    required: bool = False


def questions(step_def: dict[str, Any]) -> list[Question]:
    return [
        Question(
            id=int(item["id"]),
            label=str(item["label"]),
            help_text=str(item.get("help_text") or ""),
            field_type=str(item["field_type"]),
            settings=dict(item.get("settings") or {}),
            required=bool(item.get("required")),
        )
        for item in step_def.get("fields") or []
    ]


def slot_name(slot_id: int) -> str:
    """An upload slot's field name in its step's form."""
    return f"slot{slot_id}"


class JourneyForm(question_forms.QuestionForm):
    """Base of every generated form step's form."""


class UploadForm(FlaskForm):
    """Base of every generated upload step's form: one file field per slot."""

    slots: ClassVar[list[Question]] = []


class StepType:
    """Base: a step whose page has no form and which is done once its page is passed."""

    kind: ClassVar[StepKind]

    def form_class(
        self, step_def: dict[str, Any], session: JourneySession
    ) -> type[FlaskForm] | None:
        return None

    def initial(self, step_def: dict[str, Any], session: JourneySession) -> dict[str, Any]:
        """What the step's form shows when the visitor comes back to it (form field data)."""
        return {}

    def is_done_ok(self, session: JourneySession, step_def: dict[str, Any]) -> bool:
        return True

    def summary(self, session: JourneySession, step_def: dict[str, Any]) -> list[tuple[str, str]]:
        """``(label, value as text)`` lines for the review page and the completion PDF."""
        return []


class FormStep(StepType):
    """Questions of the custom field types, asked and checked as the portal's surveys are."""

    kind = StepKind.FORM

    def form_class(
        self, step_def: dict[str, Any], session: JourneySession
    ) -> type[FlaskForm] | None:
        built = question_forms.form_class(
            f"JourneyStep{int(step_def['index'])}Form",
            questions(step_def),
            base=JourneyForm,
            prefix="q",
            context={"country": "US"},
        )
        return cast(type[FlaskForm], built)

    def initial(self, step_def: dict[str, Any], session: JourneySession) -> dict[str, Any]:
        answers = (session.answers or {}).get(str(step_def["index"])) or {}
        data = {}
        for question in questions(step_def):
            value = answers.get(str(question.id))
            if value is None:
                continue
            if question.field_type == "date":
                value = date.fromisoformat(str(value))
            elif question.field_type == "number":
                value = Decimal(str(value))
            data[f"q{question.id}"] = value
        return data

    def is_done_ok(self, session: JourneySession, step_def: dict[str, Any]) -> bool:
        answers = (session.answers or {}).get(str(step_def["index"])) or {}
        return all(
            answers.get(str(question.id)) not in (None, "")
            for question in questions(step_def)
            if question.required and question.field_type != "yes_no"
        )

    def summary(self, session: JourneySession, step_def: dict[str, Any]) -> list[tuple[str, str]]:
        answers = (session.answers or {}).get(str(step_def["index"])) or {}
        lines = []
        for question in questions(step_def):
            value = answers.get(str(question.id))
            lines.append((question.label, display(question, value)))
        return lines


def display(question: Question, value: Any) -> str:
    """An answer as a person reads it (a date in words, Yes or No)."""
    if value is None or value == "":
        return "—"
    if question.field_type == "date":
        try:
            return field_types.get("date").display(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    return question_forms.display(question, value)


class UploadStep(StepType):
    """Labelled file slots ("Front of driver's licence"), required or not; each file is kept
    as a document of the session's record. A slot filled before need not be filled again."""

    kind = StepKind.UPLOAD

    def form_class(
        self, step_def: dict[str, Any], session: JourneySession
    ) -> type[FlaskForm] | None:
        filled = {u.slot_id for u in session.uploads if u.step_index == step_def["index"]}
        slots = questions(step_def)
        attributes: dict[str, Any] = {"slots": slots}
        for slot in slots:
            required = slot.required and slot.id not in filled
            attributes[slot_name(slot.id)] = FileField(
                slot.label,
                description=slot.help_text,
                validators=[
                    FileRequired(_("Choose a file.")) if required else validators.Optional()
                ],
            )
        return type(f"JourneyUpload{int(step_def['index'])}Form", (UploadForm,), attributes)

    def is_done_ok(self, session: JourneySession, step_def: dict[str, Any]) -> bool:
        filled = {u.slot_id for u in session.uploads if u.step_index == step_def["index"]}
        return all(slot.id in filled for slot in questions(step_def) if slot.required)

    def summary(self, session: JourneySession, step_def: dict[str, Any]) -> list[tuple[str, str]]:
        kept = {u.slot_id: u for u in session.uploads if u.step_index == step_def["index"]}
        lines = []
        for slot in questions(step_def):
            upload = kept.get(slot.id)
            lines.append(
                (
                    slot.label,
                    f"{upload.filename} (SHA-256 {upload.sha256})"
                    if upload is not None
                    else _("Not uploaded"),
                )
            )
        return lines


class SignStep(StepType):
    """A saved e-sign layout the visitor signs (its one signer, the primary applicant)."""

    kind = StepKind.SIGN

    def is_done_ok(self, session: JourneySession, step_def: dict[str, Any]) -> bool:
        request = session.sign_request
        return request is not None and all(
            signer.status == SignerStatus.SIGNED for signer in request.signers
        )

    def summary(self, session: JourneySession, step_def: dict[str, Any]) -> list[tuple[str, str]]:
        request = session.sign_request
        title = request.title if request is not None else str(step_def.get("sign_template_name"))
        if not self.is_done_ok(session, step_def) or request is None:
            return [(title, _("Not signed yet"))]
        signed = max(
            (s.signed_at for s in request.signers if s.signed_at is not None), default=None
        )
        zone = current_app.config["PORTICO_TIMEZONE"]
        when = (
            f"{signed.astimezone(ZoneInfo(zone)).strftime('%Y-%m-%d %H:%M')} ({zone})"
            if signed
            else ""
        )
        return [(title, _("Signed %(when)s", when=when).strip())]


class ReviewStep(StepType):
    """The visitor reads what they gave before going on."""

    kind = StepKind.REVIEW


#: Every step kind's class, by kind.
STEPS: dict[StepKind, StepType] = {
    step.kind: step for step in (FormStep(), UploadStep(), SignStep(), ReviewStep())
}


def get(kind: StepKind | str) -> StepType:
    return STEPS[StepKind(kind)]

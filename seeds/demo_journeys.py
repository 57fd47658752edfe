"""Demo journeys: "Update your driver list" (a form, two upload slots, a signed declaration
and a review) and "Report a claim" (a form, photos, a review), assigned to the demo admin, so
/f/update-your-driver-list works on a first run and the admin's Journeys page shows its
address, snippets and funnel. The declaration is a saved e-sign layout made here: a one-page
PDF with a signature page after it, signed by the visitor alone."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from app import pdf
from app.services import documents
from app.services.journeys import definitions
from app.services.signing import pdf_files
from app.storage import storage
from app.storage.lifecycle import keep_if_committed
from models import (
    Journey,
    JourneyField,
    JourneyStep,
    SignerRole,
    SignTemplate,
    StepKind,
    User,
    db,
)

LAYOUT_NAME = "Driver declaration"

DECLARATION = (
    "I declare that the drivers listed in this journey are everyone who drives the insured "
    "vehicles regularly, that their details and licences are true and complete to the best of "
    "my knowledge, and that I will tell the agency within 30 days when a driver is added, "
    "leaves the household or loses their licence."
)

#: (slug, name, opening screen, steps: (kind, title, intro, fields)), fields as
#: (label, field type, settings, required).
JOURNEYS: tuple[tuple[str, str, str, tuple[Any, ...]], ...] = (
    (
        "update-your-driver-list",
        "Update your driver list",
        "<p><strong>Add or change a driver</strong> on your auto policy in a few minutes: "
        "the driver's details, a photo of their licence and your signature.</p>",
        (
            (
                StepKind.FORM,
                "The driver",
                "Tell us about the driver to add or change.",
                (
                    ("Driver's full name", "text", {}, True),
                    ("Date of birth", "date", {}, True),
                    ("Licence number", "text", {}, True),
                    (
                        "Relationship to you",
                        "choice",
                        {"options": ["Myself", "Spouse or partner", "Child", "Other"]},
                        True,
                    ),
                    ("Anything we should know", "long_text", {}, False),
                ),
            ),
            (
                StepKind.UPLOAD,
                "Driver's licence",
                "A clear photo or scan of each side.",
                (
                    ("Front of driver's licence", "file", {}, True),
                    ("Back of driver's licence", "file", {}, False),
                ),
            ),
            (StepKind.SIGN, "Declaration", "Read the declaration and sign it.", ()),
            (StepKind.REVIEW, "Check and send", "", ()),
        ),
    ),
    (
        "report-a-claim",
        "Report a claim",
        "<p>Tell us what happened: we will call you back within one working day.</p>",
        (
            (
                StepKind.FORM,
                "What happened",
                "",
                (
                    ("Date of the loss", "date", {}, True),
                    (
                        "What kind of loss",
                        "choice",
                        {"options": ["Car accident", "Theft", "Water damage", "Fire", "Other"]},
                        True,
                    ),
                    ("What happened", "long_text", {}, True),
                    ("Was anyone hurt?", "yes_no", {}, True),
                ),
            ),
            (
                StepKind.UPLOAD,
                "Photos",
                "Photos of the damage help us move faster.",
                (
                    ("Photo of the damage", "file", {}, False),
                    ("Police or incident report", "file", {}, False),
                ),
            ),
            (StepKind.REVIEW, "Check and send", "", ()),
        ),
    ),
)


def _declaration_layout(staff: User) -> SignTemplate:
    """The saved e-sign layout the driver list journey signs (made once)."""
    found = db.session.scalar(select(SignTemplate).where(SignTemplate.name == LAYOUT_NAME))
    if found is not None:
        return found
    doc = pdf.Document(LAYOUT_NAME, branding=pdf.office_branding(), footer_label=LAYOUT_NAME)
    doc.heading("Driver declaration").paragraph(DECLARATION)
    declaration = doc.output()
    extra, places = pdf_files.signature_page(LAYOUT_NAME, ["Policyholder"])
    data = pdf_files.append_page(declaration, extra)
    # The places count pages within the signature page's own PDF: theirs come after the
    # declaration's, where the lines are drawn.
    before = len(pdf_files.inspect(declaration).pages)
    info = pdf_files.inspect(data)
    stored = storage().put(io.BytesIO(data), documents.upload_rule(), field="file")
    keep_if_committed(stored.key)
    template = SignTemplate(
        name=LAYOUT_NAME,
        title=LAYOUT_NAME,
        message="",
        storage_key=stored.key,
        filename="driver-declaration.pdf",
        sha256=info.sha256,
        pages=[list(size) for size in info.pages],
        signer_roles=[SignerRole.PRIMARY.value],
        fields=[
            {
                "page": before + place.page,
                "x": place.x,
                "y": place.y,
                "width": place.width,
                "height": place.height,
                "kind": place.kind.value,
                "signer": 0,
                "required": True,
                "label": "",
            }
            for place in places
        ],
        in_order=True,
        expires_in_days=30,
        created_by_id=staff.id,
    )
    db.session.add(template)
    db.session.flush()
    return template


def seed_demo_journeys(staff: User) -> int:
    """Add the demo journeys that are not there yet (by address); returns how many."""
    added = 0
    for slug, name, opening, steps in JOURNEYS:
        if db.session.scalar(select(Journey.id).where(Journey.slug == slug)) is not None:
            continue
        journey = Journey(
            name=name,
            slug=slug,
            assigned_user=staff,
            opening_html=opening,
            closing_html="",
            send_copy=True,
            resume_days=7,
        )
        definitions.clean_journey(journey)
        db.session.add(journey)
        for position, (kind, title, intro, fields) in enumerate(steps):
            step = JourneyStep(journey=journey, position=position, kind=kind, title=title)
            db.session.add(step)
            step.intro = intro
            if kind == StepKind.SIGN:
                step.sign_template = _declaration_layout(staff)
            definitions.clean_step(step)
            for order, (label, field_type, settings, required) in enumerate(fields):
                field = JourneyField(
                    step=step,
                    label=label,
                    field_type=field_type,
                    settings=settings,
                    required=required,
                    position=order,
                )
                db.session.add(field)
                definitions.clean_field(field)
        journey.version = 1  # a new journey: its steps are part of its first version
        db.session.flush()
        added += 1
    return added

"""The configuration every office starts with: staff roles, coverage types, common tags and
document categories.

Seeding is idempotent: running it again adds what is missing and never changes what an admin
has edited.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.services import notification_rules, portal_fields, templates
from app.services.portal_settings import get_settings
from app.services.users import ensure_roles
from models import CoverageType, DocumentCategory, Role, Survey, SurveyQuestion, Tag, db
from seeds.request_types import ensure_request_types

COVERAGE_TYPES = (
    "Medicare Advantage",
    "Medicare Supplement",
    "Prescription Drug Plan (PDP)",
    "Dental / Vision",
    "Life",
    "Health (under 65)",
    "Auto",
    "Home",
    "Renters",
    "Umbrella",
    "Commercial",
)

TAGS = (
    ("AEP Review Needed", "#c0392b", "Clients to review during the Annual Enrollment Period."),
    ("Birthday Month", "#8e44ad", None),
    ("Referral", "#27ae60", "Came to us through a referral."),
    ("VIP", "#d35400", None),
    ("Do Not Call", "#2c3e50", "Contact by email or post only."),
)

#: (name, is the client's ID cards)
DOCUMENT_CATEGORIES = (
    ("Policy documents", False),
    ("ID cards", True),
    ("Applications", False),
    ("Correspondence", False),
    ("Other", False),
)

#: The portal's surveys and their first questions: (key, title, intro, questions), each
#: question (label, field type, settings, required). Admins change them afterwards.
SURVEYS = (
    (
        "feedback",
        "Feedback",
        "Tell us how we are doing: every answer reaches your adviser.",
        (
            (
                "How easy is it to work with us?",
                "choice",
                {"options": ["Very easy", "Easy", "Neither easy nor hard", "Hard", "Very hard"]},
                True,
            ),
            ("What could we do better?", "long_text", {}, False),
        ),
    ),
    (
        "claim_survey",
        "Claim experience survey",
        "Had a claim with us lately? Tell us how it went.",
        (
            ("Which claim was it about?", "text", {}, False),
            (
                "How satisfied were you with how your claim was handled?",
                "choice",
                {"options": ["1", "2", "3", "4", "5"]},
                True,
            ),
            ("Would you recommend us?", "yes_no", {}, False),
            ("Anything else?", "long_text", {}, False),
        ),
    ),
)


def seed_defaults() -> dict[str, int]:
    """Create missing defaults; returns how many of each were added."""
    added = {
        "roles": 0,
        "coverage_types": 0,
        "tags": 0,
        "templates": 0,
        "notification_rules": 0,
        "portal_fields": 0,
        "document_categories": 0,
        "surveys": 0,
        "request_types": 0,
    }
    get_settings()
    added["templates"] = len(templates.ensure_defaults())
    added["notification_rules"] = len(notification_rules.ensure_rules())
    added["portal_fields"] = len(portal_fields.ensure_defaults())
    roles_before = _count_roles()
    ensure_roles()
    added["roles"] = _count_roles() - roles_before

    existing = {name.lower() for name in db.session.scalars(select(CoverageType.name))}
    for name in COVERAGE_TYPES:
        if name.lower() not in existing:
            db.session.add(CoverageType(name=name, active=True))
            added["coverage_types"] += 1

    existing_tags = {name.lower() for name in db.session.scalars(select(Tag.name))}
    for name, colour, description in TAGS:
        if name.lower() not in existing_tags:
            db.session.add(Tag(name=name, colour=colour, description=description))
            added["tags"] += 1

    existing_categories = {
        name.lower() for name in db.session.scalars(select(DocumentCategory.name))
    }
    for position, (name, is_id_card) in enumerate(DOCUMENT_CATEGORIES):
        if name.lower() not in existing_categories:
            db.session.add(DocumentCategory(name=name, is_id_card=is_id_card, position=position))
            added["document_categories"] += 1

    existing_surveys = set(db.session.scalars(select(Survey.key)))
    for key, title, intro, questions in SURVEYS:
        if key in existing_surveys:
            continue
        survey = Survey(key=key, title=title, intro=intro, active=True)
        for position, (label, field_type, settings, required) in enumerate(questions):
            survey.questions.append(
                SurveyQuestion(
                    label=label,
                    field_type=field_type,
                    settings=settings,
                    required=required,
                    position=position,
                )
            )
        db.session.add(survey)
        added["surveys"] += 1
    added["request_types"] = ensure_request_types()
    db.session.flush()
    return added


def _count_roles() -> int:
    return db.session.scalar(select(func.count()).select_from(Role)) or 0

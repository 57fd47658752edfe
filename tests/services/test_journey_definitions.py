"""What admins save about a journey, checked: its address, numbers, screens, redirect and
embedding sites; its steps and their questions and slots; the version that goes up with every
change; and the copy of it a visitor's session keeps. ``journey()`` here builds journeys for
the other journey tests too."""

from __future__ import annotations

import itertools

import pytest
from flask import current_app

from app.services.actors import Actor
from app.services.errors import NotFound, ValidationError
from app.services.journeys import definitions
from app.services.signing import saved_layouts
from models import Journey, JourneyField, JourneyStep, SignTemplate, StepKind, User, db
from tests import factories, sign_factories

_counter = itertools.count(1)


def saved_layout(name: str | None = None, *, with_co_applicant: bool = False) -> SignTemplate:
    """A saved e-sign layout signed by the primary applicant (and the co-applicant)."""
    name = name or f"Journey consent {next(_counter)}"
    source = factories.record(first_name="Sam", last_name="Source")
    signers: list = [None]
    if with_co_applicant:
        signers.append(sign_factories.co_applicant(source, email=f"co{next(_counter)}@example.com"))
    request = sign_factories.sign_request(source, signers=signers, title=name)
    template = saved_layouts.save_from_request(request, name, actor=Actor.system("test"))
    db.session.commit()
    return template


def journey(
    kinds: tuple[str, ...] = ("form", "upload", "sign", "review"),
    *,
    assigned: User | None = None,
    template: SignTemplate | None = None,
    **values,
) -> Journey:
    """An active journey with one step of each kind in ``kinds``: a form (a required text, a
    date, a yes/no, a choice), an upload (a required slot and an optional one), a signature
    (a saved layout), a review. Checked and committed as an admin's save would be."""
    n = next(_counter)
    values.setdefault("name", f"Renew your policy {n}")
    values.setdefault("slug", f"renew-{n}")
    layout = template or (saved_layout() if "sign" in kinds else None)
    item = Journey(assigned_user=assigned or factories.staff(), **values)
    db.session.add(item)
    definitions.clean_journey(item)
    for position, kind in enumerate(kinds):
        step = JourneyStep(
            journey=item, position=position, kind=StepKind(kind), title=f"{kind.title()} step"
        )
        db.session.add(step)
        if kind == "sign":
            step.sign_template = layout
        elif kind == "form":
            step.fields = [
                JourneyField(label="Policy number", field_type="text", required=True),
                JourneyField(label="Renewal date", field_type="date", position=1),
                JourneyField(label="Any claims?", field_type="yes_no", position=2),
                JourneyField(
                    label="Payment",
                    field_type="choice",
                    settings={"options": "Monthly\nYearly"},
                    position=3,
                ),
            ]
        elif kind == "upload":
            step.fields = [
                JourneyField(label="Front of driver's licence", field_type="file", required=True),
                JourneyField(label="Proof of address", field_type="file", position=1),
            ]
        definitions.clean_step(step)
        for field in step.fields:
            definitions.clean_field(field)
    db.session.commit()
    db.session.refresh(item)
    return item


# -- the journey ----------------------------------------------------------------------------


def test_a_journey_is_tidied_and_its_screens_sanitized(ctx):
    item = Journey(
        name="  Renew   your policy ",
        slug="Renew-Policy",
        assigned_user=factories.staff(),
        opening_html='<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:x">a</a>'
        '<a href="https://example.com">b</a></p>',
        closing_html="<h2>Well done</h2><img src=x onerror=alert(1)>",
        embed_origins="https://Agency.example:443/\nhttp://localhost:8000, https://agency.example",
    )
    definitions.clean_journey(item)
    assert item.name == "Renew your policy" and item.slug == "renew-policy"
    assert "script" not in item.opening_html and "onclick" not in item.opening_html
    assert "javascript" not in item.opening_html
    assert 'href="https://example.com"' in item.opening_html
    assert 'rel="noopener noreferrer"' in item.opening_html
    assert item.closing_html == "<h2>Well done</h2>"
    assert item.embed_origins == "https://agency.example\nhttp://localhost:8000"
    assert definitions.origins(item) == ["https://agency.example", "http://localhost:8000"]


@pytest.mark.parametrize(
    ("slug", "why"),
    [
        ("ab", "3 to 60"),
        ("a" * 61, "3 to 60"),
        ("renew_policy", "3 to 60"),
        ("renew--policy", "3 to 60"),
        ("-renew", "3 to 60"),
        ("assets", "kept"),
        ("resume", "kept"),
    ],
)
def test_a_slug_that_cannot_be_an_address_is_refused(ctx, slug, why):
    item = Journey(name="Renew", slug=slug, assigned_user=factories.staff())
    with pytest.raises(ValidationError, match=why) as refused:
        definitions.clean_journey(item)
    assert refused.value.field == "slug"


def test_the_assigned_user_must_be_an_active_staff_member(ctx):
    gone = factories.staff()
    gone.active = False
    with pytest.raises(ValidationError) as refused:
        definitions.clean_journey(Journey(name="Renew", slug="renew", assigned_user=gone))
    assert refused.value.field == "assigned_user"
    definitions.clean_journey(
        Journey(name="Renew", slug="renew", assigned_user_id=factories.staff().id)
    )


def test_two_journeys_cannot_share_an_address(ctx):
    journey((), slug="claims")
    with pytest.raises(ValidationError) as refused:
        definitions.clean_journey(Journey(name="X", slug="Claims", assigned_user=factories.staff()))
    assert refused.value.field == "slug"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", " "),
        ("name", "two\nlines"),
        ("assigned_user", None),
        ("pin_minutes", 0),
        ("pin_minutes", 1441),
        ("pin_attempts", 21),
        ("resume_days", 91),
        ("resume_days", -1),
    ],
)
def test_a_journey_missing_or_out_of_range_is_refused_naming_the_field(ctx, field, value):
    values = {"name": "Renew", "slug": "renew", "assigned_user": factories.staff(), field: value}
    with pytest.raises(ValidationError) as refused:
        definitions.clean_journey(Journey(**values))
    assert refused.value.field == field


# -- redirects and embedding ----------------------------------------------------------------


@pytest.fixture
def allowed_hosts(ctx, monkeypatch):
    monkeypatch.setitem(current_app.config, "PORTICO_JOURNEY_REDIRECT_HOSTS", ["agency.example"])


def test_a_redirect_goes_only_to_the_office_or_an_allowed_host(allowed_hosts):
    own = current_app.config["PORTICO_BASE_URL"].rstrip("/") + "/thanks"
    assert definitions.check_redirect(own) == own
    assert definitions.check_redirect(" https://AGENCY.example/done?x=1 ") == (
        "https://AGENCY.example/done?x=1"
    )
    assert definitions.check_redirect("") is None and definitions.check_redirect(None) is None
    for refused in (
        "https://evil.example/",
        "javascript:alert(1)",
        "//evil.example/",
        "https://agency.example@evil.example/",
        "https://evil.example\\@agency.example/",
        "https://agency.example.evil.example/",
        "ftp://agency.example/",
        "https://agency.example/a b",
        "https://agency.example:99999/",
    ):
        with pytest.raises(ValidationError) as error:
            definitions.check_redirect(refused)
        assert error.value.field == "redirect_url", refused
        assert definitions.allowed_redirect(refused) is None


def test_a_redirect_saved_then_taken_off_the_allow_list_is_ignored_at_run_time(
    allowed_hosts, monkeypatch
):
    item = Journey(
        name="Renew",
        slug="renew",
        assigned_user=factories.staff(),
        redirect_url="https://agency.example/thanks",
    )
    definitions.clean_journey(item)
    assert definitions.allowed_redirect(item.redirect_url) == "https://agency.example/thanks"
    monkeypatch.setitem(current_app.config, "PORTICO_JOURNEY_REDIRECT_HOSTS", [])
    assert definitions.allowed_redirect(item.redirect_url) is None
    with pytest.raises(ValidationError):
        definitions.clean_journey(item)


@pytest.mark.parametrize(
    "origin",
    [
        "http://agency.example",
        "https://agency.example/page",
        "https://*.agency.example",
        "https://agency.example?x=1",
        "agency.example",
        "javascript:alert(1)",
        "https://user@agency.example",
    ],
)
def test_an_embedding_site_must_be_an_https_origin(ctx, origin):
    with pytest.raises(ValidationError) as refused:
        definitions.parse_origins(origin)
    assert refused.value.field == "embed_origins"


def test_the_embedding_sites_are_the_journeys_own_now(ctx):
    item = journey(("review",), embed_origins="https://one.example\nhttps://two.example")
    assert definitions.origins(item) == ["https://one.example", "https://two.example"]
    item.embed_origins = "https://two.example"
    definitions.clean_journey(item)
    assert definitions.origins(item) == ["https://two.example"]
    item.embed_origins = "https://two.example\nnot a site"  # written around the checks
    assert definitions.origins(item) == ["https://two.example"]


# -- versions -------------------------------------------------------------------------------


def test_the_version_goes_up_once_per_change_of_the_journey_or_its_steps(ctx):
    item = journey(("form",))
    assert item.version == 1
    definitions.clean_journey(item)
    assert item.version == 1  # nothing changed
    item.name = "Renew your car policy"
    definitions.clean_journey(item)
    definitions.clean_journey(item)  # saved twice before the flush: one change
    assert item.version == 2
    db.session.commit()
    step = item.steps[0]
    step.title = "About your policy"
    definitions.clean_step(step)
    assert item.version == 3
    db.session.commit()
    step.fields[0].label = "Your policy number"
    definitions.clean_field(step.fields[0])
    assert item.version == 4
    db.session.commit()
    added = JourneyStep(journey=item, position=5, kind=StepKind.REVIEW, title="Check")
    db.session.add(added)
    definitions.clean_step(added)
    assert item.version == 5


# -- steps and fields -----------------------------------------------------------------------


def test_a_signature_step_needs_a_layout_the_visitor_signs_alone(ctx):
    two_signers, one_signer = saved_layout(with_co_applicant=True), saved_layout()
    item = journey(("form",))
    step = JourneyStep(journey=item, position=1, kind=StepKind.SIGN, title="Sign")
    db.session.add(step)
    with pytest.raises(ValidationError) as refused:
        definitions.clean_step(step)
    assert refused.value.field == "sign_template"
    step.sign_template = two_signers
    with pytest.raises(ValidationError, match="more than one signer"):
        definitions.clean_step(step)
    step.sign_template = one_signer
    definitions.clean_step(step)
    db.session.commit()
    second = JourneyStep(journey=item, position=2, kind=StepKind.SIGN, title="Sign again")
    db.session.add(second)
    second.sign_template = one_signer
    with pytest.raises(ValidationError, match="one signature step"):
        definitions.clean_step(second)


def test_a_form_step_asks_survey_question_types_and_an_upload_step_has_file_slots(ctx):
    item = journey(("form", "upload", "review"))
    form, upload, review = item.steps
    with pytest.raises(ValidationError) as refused:
        definitions.clean_field(JourneyField(step=form, label="Email", field_type="email"))
    assert refused.value.field == "field_type"
    with pytest.raises(ValidationError) as refused:
        definitions.clean_field(JourneyField(step=form, label=" ", field_type="text"))
    assert refused.value.field == "label"
    with pytest.raises(ValidationError):
        definitions.clean_field(JourneyField(step=upload, label="Licence", field_type="text"))
    slot = JourneyField(step=upload, label="  Back of licence ", field_type="", required=True)
    definitions.clean_field(slot)
    assert (slot.field_type, slot.label, slot.settings) == ("file", "Back of licence", {})
    with pytest.raises(ValidationError):
        definitions.clean_field(JourneyField(step=review, label="Q", field_type="text"))


def test_a_choice_question_keeps_its_settings_checked(ctx):
    item = journey(("form",))
    field = JourneyField(step=item.steps[0], label="Colour", field_type="choice", settings={})
    with pytest.raises(ValidationError):
        definitions.clean_field(field)


# -- the copy a session keeps ---------------------------------------------------------------


def test_the_snapshot_is_the_journey_in_plain_json(ctx):
    template = saved_layout("Renewal consent")
    item = journey(template=template, redirect_url=None, resume_days=3, pin_minutes=15)
    item.steps[0].fields[3].archived = True
    db.session.commit()
    copy = definitions.snapshot(item)
    assert {key: copy[key] for key in ("name", "slug", "version", "redirect_url")} == {
        "name": item.name,
        "slug": item.slug,
        "version": item.version,
        "redirect_url": None,
    }
    assert (copy["resume_days"], copy["pin_minutes"], copy["pin_attempts"]) == (3, 15, 5)
    assert copy["assigned_user_id"] == item.assigned_user_id and copy["send_copy"] is True
    assert [(s["index"], s["kind"]) for s in copy["steps"]] == [
        (0, "form"),
        (1, "upload"),
        (2, "sign"),
        (3, "review"),
    ]
    form = copy["steps"][0]
    assert [f["label"] for f in form["fields"]] == ["Policy number", "Renewal date", "Any claims?"]
    assert form["fields"][0] == {
        "id": item.steps[0].fields[0].id,
        "label": "Policy number",
        "help_text": "",
        "field_type": "text",
        "settings": {},
        "required": True,
    }
    sign = copy["steps"][2]
    assert (sign["sign_template_id"], sign["sign_template_name"]) == (
        template.id,
        "Renewal consent",
    )


def test_a_journey_without_steps_has_no_snapshot(ctx):
    with pytest.raises(ValidationError):
        definitions.snapshot(journey(()))


def test_a_journey_is_found_by_its_address_active_or_not(ctx):
    item = journey(("review",), slug="claims", active=False)
    assert definitions.get_active("claims").id == item.id
    assert definitions.get_active("CLAIMS").id == item.id
    with pytest.raises(NotFound):
        definitions.get_active("no-such-journey")

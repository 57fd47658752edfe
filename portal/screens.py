"""Client screens. Each is registered on the portal and on the staff preview, so staff see
exactly what the client sees. Screens read ``g.portal_record`` and ``g.portal_account``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.services import care_lists, portal_accounts, portal_fields, sessions
from app.services.errors import NotFound, ValidationError
from app.services.events import Actor
from app.services.portal_accounts import FreshSignInNeeded, SignInFailed, TooManyCodes
from app.services.portal_settings import get_settings
from app.services.validation import format_phone
from models import Contact, PortalSettings, Product, db
from portal import bp, preview_bp
from portal.forms import (
    CARE_FORMS,
    CodeVerifyForm,
    IdentityCodeRequestForm,
    IdentityPasswordForm,
    phone_for_form,
)
from portal.session import start_session
from portal.views import per_account, per_ip


@dataclass(frozen=True)
class Section:
    """An entry of the portal's navigation; later features append theirs."""

    endpoint: str
    label: Any  # a lazy translation
    #: Shown only when this returns True for the portal settings.
    enabled: Callable[[PortalSettings], bool] = lambda settings: True


#: The portal's navigation, in order.
SECTIONS: list[Section] = [
    Section("home", _l("Home")),
    Section("details", _l("My details")),
    Section("care_list_prescriptions", _l("Prescriptions"), lambda s: s.module_rx),
    Section("care_list_providers", _l("Providers"), lambda s: s.module_providers),
]


def navigation() -> list[Section]:
    settings = get_settings()
    return [section for section in SECTIONS if section.enabled(settings)]


def client_screen(rule: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a screen on the portal (signed-in clients) and on the preview (staff)."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.get("portal_record") is None:
                return redirect(url_for("portal.signin"))
            return view(*args, **kwargs)

        bp.add_url_rule(rule, view.__name__, guarded, **options)
        preview_bp.add_url_rule(rule, view.__name__, guarded, **options)
        return guarded

    return register


@client_screen("/home")
def home() -> Any:
    record = g.portal_record
    products = db.session.scalars(
        select(Product)
        .where(Product.record_id == record.id, Product.client_access.is_(True))
        .options(joinedload(Product.coverage_type))
        .order_by(Product.effective_date.desc().nulls_last(), Product.id)
    ).all()
    contacts = db.session.scalars(
        select(Contact).where(Contact.record_id == record.id).order_by(Contact.role, Contact.id)
    ).all()
    return render_template(
        "portal/home.html",
        record=record,
        products=products,
        contacts=contacts,
    )


def _actor() -> Actor:
    return Actor.client(g.portal_account)


# -- my details -------------------------------------------------------------------------------


def details_page(
    forms: dict[str, Any] | None = None,
    problems: dict[str, str] | None = None,
    status: int = 200,
    code_forms: dict[int, Any] | None = None,
    identity: dict[str, Any] | None = None,
) -> Any:
    record = g.portal_record
    layout = portal_fields.layout()
    values = portal_fields.values_for(record)
    forms = dict(forms or {})
    sections = []
    for section in portal_fields.SECTIONS:
        visible = [item for item in layout[section.key] if item.visible]
        if not visible:
            continue
        if section.key not in forms and any(item.editable for item in visible):
            form_class = portal_fields.section_form(section.key, layout[section.key], record)
            forms[section.key] = form_class(
                formdata=None, data=portal_fields.form_data(layout[section.key], values)
            )
        form = forms.get(section.key)
        if form is not None:
            _readable_phones(form, layout[section.key], record.country)
        sections.append((section, visible, form))
    decisions = []
    if not g.get("portal_preview"):
        decisions = portal_fields.decisions_to_show(record)
        portal_fields.acknowledge(decisions)
        db.session.commit()
    contact_changes = _contact_changes()
    code_forms = {
        change.id: (code_forms or {}).get(change.id) or _code_form(change.id, formdata=None)
        for change in contact_changes
    }
    return render_template(
        "portal/details.html",
        sections=sections,
        values=values,
        decisions=decisions,
        problems=problems or {},
        display=portal_fields.display_value,
        contact_changes=contact_changes,
        code_forms=code_forms,
        identity=_identity(identity),
    ), status


def _readable_phones(form: Any, fields_of_section: list[Any], region: str | None) -> None:
    """Phone numbers as every other page shows them, "(614) 555-0101", not as stored or as
    the validator left them (E.164) when another field sent the form back. A number with an
    error stays as typed. Any format is accepted back."""
    for item in fields_of_section:
        if item.type.name != "phone" or item.key not in form:
            continue
        field = form[item.key]
        if not field.errors:
            field.data = phone_for_form(field.data, region)
        elif field.raw_data:
            field.data = field.raw_data[0]  # as typed, even where the validator normalised it


def _contact_changes() -> list[Any]:
    """Sign-in email or mobile changes of the signed-in person waiting for their code."""
    if g.get("portal_preview") or g.get("portal_account") is None:
        return []
    return portal_accounts.open_contact_changes(g.portal_account)


def _code_form(change_id: int, **kwargs: Any) -> CodeVerifyForm:
    return CodeVerifyForm(prefix=f"change-{change_id}", **kwargs)


@client_screen("/details")
def details() -> Any:
    return details_page()


@bp.post("/details/<section_key>")
def save_details(section_key: str) -> Any:
    if g.get("portal_record") is None:
        return redirect(url_for("portal.signin"))
    if section_key not in portal_fields.SECTION_BY_KEY:
        abort(404)
    record = g.portal_record
    fields_of_section = portal_fields.layout()[section_key]
    form_class = portal_fields.section_form(section_key, fields_of_section, record)
    form = form_class()
    submitted = {key for key in request.form if key != "csrf_token"}
    problems = portal_fields.forbidden_keys(submitted, fields_of_section)
    if problems:
        return details_page({section_key: form}, problems, status=400)
    if not form.validate_on_submit():
        return details_page({section_key: form})
    try:
        result = portal_fields.save_section(
            record, section_key, form, _actor(), signed_in_at=_signed_in_at()
        )
    except (FreshSignInNeeded, TooManyCodes) as exc:
        db.session.rollback()  # nothing of the section is saved
        saved = portal_fields.form_data(fields_of_section, portal_fields.values_for(record))
        for key in portal_fields.SIGN_IN_FIELDS:
            if key in form and form[key].data not in (None, "", saved.get(key)):
                form[key].errors = [*form[key].errors, exc.message]
        if isinstance(exc, TooManyCodes):
            flash(exc.message, "error")
            return details_page({section_key: form}, status=429)
        return details_page({section_key: form}, status=403, identity={"asked": True})
    db.session.commit()
    if result.refused:  # a sign-in field this person may not change: nothing saved, logged
        for key, message in result.refused.items():
            form[key].errors = [*form[key].errors, message]
        return details_page({section_key: form}, status=403)
    for change in result.verifying:
        flash(
            _(
                "We sent a code to %(to)s. Enter it below to confirm the new %(field)s; until "
                "then the old one stays.",
                to=change.new_display,
                field=change.field_label.lower(),
            ),
            "info",
        )
    # Each message names its section: "First name" alone reads as the client's own name when
    # it was the co-applicant's that changed.
    # They are shown inside the section ("info section-address"), where the page lands, so
    # a client on a phone sees them without scrolling back to the top.
    section = portal_fields.SECTION_BY_KEY[section_key].title
    in_section = f" section-{section_key}"
    if not result.changed:
        flash(_("%(section)s: nothing changed.", section=section), "info" + in_section)
    if result.saved:
        flash(
            _("%(section)s saved: %(fields)s.", section=section, fields=", ".join(result.saved)),
            "success" + in_section,
        )
    if result.pending:
        flash(
            _(
                "%(section)s sent for approval: %(fields)s. We will let you know when your "
                "adviser has checked it.",
                section=section,
                fields=", ".join(result.pending),
            ),
            "info" + in_section,
        )
    anchor = "verify-contact" if result.verifying else f"section-{section_key}"
    return redirect(url_for("portal.details") + f"#{anchor}")


# -- confirm it's you: a fresh sign-in before the sign-in email or mobile changes --------------


IDENTITY_CODE_SECONDS = 15 * 60


def _signed_in_at() -> Any:
    return sessions.signed_in_at(session.get("portal_sid"))


def _identity(asked: dict[str, Any] | None) -> dict[str, Any] | None:
    """The "confirm it's you" card: shown when a change needed it, and while a code sent for
    it is waiting."""
    account = g.get("portal_account")
    if account is None or g.get("portal_preview"):
        return None
    pending = session.get("portal_identity") or {}
    code_sent = bool(pending) and pending.get("until", 0) > time.time()
    if not asked and not code_sent:
        return None
    asked = asked or {}
    return {
        "masked": portal_accounts.mask_address(account.email),
        "has_password": account.password_hash is not None,
        "password_form": asked.get("password_form") or IdentityPasswordForm(prefix="identity"),
        "send_form": IdentityCodeRequestForm(prefix="identity-send"),
        "code_form": asked.get("code_form") or CodeVerifyForm(prefix="identity-code"),
        "code_sent": code_sent,
        "error": asked.get("error"),
    }


def _identity_key() -> str:
    return f"account:{session.get('portal_account')}"


def _confirmed() -> Any:
    """Signed in afresh: a new session row (the old one ends, and any copy of its cookie)."""
    session.pop("portal_identity", None)
    start_session(g.portal_account, "confirm-identity")
    db.session.commit()
    flash(
        _(
            "Thank you, that's you. For the next 15 minutes you can change the email or "
            "mobile you sign in with: save your change again."
        ),
        "success",
    )
    return redirect(url_for("portal.details") + "#section-contact")


@bp.post("/details/confirm-identity")
@per_ip("confirm-identity")
@per_account("confirm-identity", _identity_key)
def confirm_identity() -> Any:
    """Confirm it's you with the current password."""
    if g.get("portal_record") is None:
        return redirect(url_for("portal.signin"))
    form = IdentityPasswordForm(prefix="identity")
    if not form.validate_on_submit():
        return details_page(status=422, identity={"asked": True, "password_form": form})
    try:
        portal_accounts.confirm_identity_with_password(g.portal_account, form.password.data or "")
    except SignInFailed:
        db.session.commit()  # the failure counts toward the pause
        form.password.errors = [_("That is not your current password, or it is paused.")]
        return details_page(status=422, identity={"asked": True, "password_form": form})
    return _confirmed()


@bp.post("/details/confirm-identity/code")
@per_ip("confirm-identity-code")
@per_account("confirm-identity-code", _identity_key)
def send_identity_code() -> Any:
    """Email a code to the current address, for a client without their password at hand."""
    if g.get("portal_record") is None:
        return redirect(url_for("portal.signin"))
    if not IdentityCodeRequestForm(prefix="identity-send").validate_on_submit():
        abort(400)
    try:
        portal_accounts.send_identity_code(g.portal_account)
    except (TooManyCodes, ValidationError) as exc:
        db.session.rollback()
        status = 429 if isinstance(exc, TooManyCodes) else 422
        return details_page(status=status, identity={"asked": True, "error": exc.message})
    db.session.commit()
    session["portal_identity"] = {"until": int(time.time()) + IDENTITY_CODE_SECONDS}
    flash(
        _(
            "We sent a code to %(email)s. Enter it below.",
            email=portal_accounts.mask_address(g.portal_account.email),
        ),
        "info",
    )
    return redirect(url_for("portal.details") + "#confirm-identity")


@bp.post("/details/confirm-identity/verify")
@per_ip("confirm-identity-verify")
@per_account("confirm-identity-verify", _identity_key)
def verify_identity_code() -> Any:
    if g.get("portal_record") is None:
        return redirect(url_for("portal.signin"))
    form = CodeVerifyForm(prefix="identity-code")
    if not form.validate_on_submit():
        return details_page(status=422, identity={"asked": True, "code_form": form})
    try:
        portal_accounts.confirm_identity_with_code(g.portal_account, form.code.data or "")
    except SignInFailed:
        db.session.commit()  # the attempt counts
        form.code.errors = [
            _("That code did not work. Check the newest email, or ask for a new code.")
        ]
        return details_page(status=422, identity={"asked": True, "code_form": form})
    return _confirmed()


@bp.post("/details/confirm/<int:change_id>")
def confirm_contact_change(change_id: int) -> Any:
    """The code sent to a new sign-in email or mobile: right, and the change applies."""
    if g.get("portal_record") is None:
        return redirect(url_for("portal.signin"))
    form = _code_form(change_id)
    if not form.validate_on_submit():
        return details_page(code_forms={change_id: form})
    try:
        result = portal_fields.confirm_contact_change(
            g.portal_record, g.portal_account, change_id, form.code.data or ""
        )
    except NotFound:
        abort(404)
    except ValidationError as exc:
        db.session.commit()  # the attempt counts, right or wrong
        if change_id not in {change.id for change in _contact_changes()}:
            flash(exc.message, "error")  # used up or expired: its form is gone from the page
        form.code.errors = [*form.code.errors, exc.message]
        return details_page(code_forms={change_id: form}, status=422)
    db.session.commit()
    if result.saved:
        flash(_("Confirmed and saved: %(fields)s.", fields=", ".join(result.saved)), "success")
    elif result.pending:
        flash(
            _(
                "Confirmed and sent for approval: %(fields)s. We will let you know when your "
                "adviser has checked it.",
                fields=", ".join(result.pending),
            ),
            "info",
        )
    else:
        flash(_("Confirmed: nothing needed changing."), "info")
    return redirect(url_for("portal.details"))


@bp.post("/details/confirm/<int:change_id>/cancel")
def cancel_contact_change(change_id: int) -> Any:
    if g.get("portal_record") is None:
        return redirect(url_for("portal.signin"))
    form = _code_form(change_id)
    if not form.validate_on_submit() and form.errors.keys() - {"code"}:
        abort(400)
    try:
        change = portal_accounts.cancel_contact_change(g.portal_account, change_id)
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_("The change of %(field)s is cancelled.", field=change.field_label.lower()), "info")
    return redirect(url_for("portal.details"))


# -- prescriptions and providers ---------------------------------------------------------------


def _care(list_key: str) -> care_lists.CareList:
    care = care_lists.LISTS.get(list_key)
    settings = get_settings()
    enabled = {"prescriptions": settings.module_rx, "providers": settings.module_providers}
    if care is None or not enabled.get(list_key):
        abort(404)
    return care


def describe(care: care_lists.CareList, entry: Any) -> str:
    """The entry's details after its name (not its notes), phones as people read them."""
    parts = []
    for name, _label in care.columns[1:-1]:
        value = getattr(entry, name)
        if value:
            parts.append(format_phone(value) if name == "phone" else str(value))
    return ", ".join(parts)


def _care_list_page(care: care_lists.CareList, form: Any) -> Any:
    return render_template(
        "portal/care_list.html",
        care=care,
        form=form,
        entries=care_lists.entries(care, g.portal_record),
        describe=describe,
    )


def _care_list_view(list_key: str) -> Any:
    care = _care(list_key)
    return _care_list_page(care, CARE_FORMS[list_key](formdata=None))


for _list_key in care_lists.LISTS:

    def _view(list_key: str = _list_key) -> Any:
        return _care_list_view(list_key)

    _view.__name__ = f"care_list_{_list_key}"
    client_screen(f"/{_list_key}")(_view)


@bp.post("/<any(prescriptions, providers):list_key>")
def add_care_entry(list_key: str) -> Any:
    if g.get("portal_record") is None:
        return redirect(url_for("portal.signin"))
    care = _care(list_key)
    form = CARE_FORMS[list_key]()
    if not form.validate_on_submit():
        return _care_list_page(care, form), 200
    care_lists.add(care, g.portal_record, form.data, _actor())
    db.session.commit()
    flash(_("Added %(entry)s.", entry=form.data[care.columns[0][0]]), "success")
    return redirect(url_for(f"portal.care_list_{list_key}"))


def _entry_or_404(list_key: str, entry_id: int) -> tuple[care_lists.CareList, Any]:
    """The signed-in client's entry; another client's is as missing as one that never was."""
    care = _care(list_key)
    try:
        return care, care_lists.get_entry(care, g.portal_record, entry_id)
    except NotFound:
        abort(404)


@bp.route("/<any(prescriptions, providers):list_key>/<int:entry_id>", methods=["GET", "POST"])
def edit_care_entry(list_key: str, entry_id: int) -> Any:
    if g.get("portal_record") is None:
        return redirect(url_for("portal.signin"))
    care, entry = _entry_or_404(list_key, entry_id)
    form = CARE_FORMS[list_key](obj=entry)
    if form.validate_on_submit():
        if care_lists.update(care, g.portal_record, entry, form.data, _actor()):
            db.session.commit()
            flash(_("Saved %(entry)s.", entry=entry), "success")
        return redirect(url_for(f"portal.care_list_{list_key}"))
    return render_template("portal/care_entry.html", care=care, form=form, entry=entry)


@bp.route(
    "/<any(prescriptions, providers):list_key>/<int:entry_id>/delete", methods=["GET", "POST"]
)
def delete_care_entry(list_key: str, entry_id: int) -> Any:
    """GET asks first (a page, so it works without scripts); POST from that page removes."""
    if g.get("portal_record") is None:
        return redirect(url_for("portal.signin"))
    care, entry = _entry_or_404(list_key, entry_id)
    if request.method == "GET":
        return render_template("portal/care_remove.html", care=care, entry=entry, describe=describe)
    name = str(entry)  # the CSRF token was checked before the view ran
    care_lists.remove(care, g.portal_record, entry, _actor())
    db.session.commit()
    flash(_("Removed %(entry)s.", entry=name), "success")
    return redirect(url_for(f"portal.care_list_{list_key}"))

"""Who is looking at the portal: a signed-in client, or staff in the read-only preview."""

from __future__ import annotations

import time
from typing import Any

from flask import abort, flash, g, request, session
from flask_security import current_user

from app.services import portal_accounts
from app.services.portal_settings import get_settings
from models import AccountStatus, PortalAccount, Record, StaffRole, db
from portal import bp, preview_bp

SESSION_KEYS = ("portal_account", "portal_generation", "portal_seen", "portal_method")


def start_session(account: PortalAccount, method: str) -> None:
    for key in (*SESSION_KEYS, "portal_code", "portal_choose"):
        session.pop(key, None)
    session["portal_account"] = account.id
    session["portal_generation"] = account.generation
    session["portal_seen"] = int(time.time())
    session["portal_method"] = method


def end_session() -> None:
    for key in SESSION_KEYS:
        session.pop(key, None)


@bp.before_request
def load_client() -> Any:
    g.portal_preview = False
    g.portal_account = None
    g.portal_record = None
    account_id = session.get("portal_account")
    if account_id is None:
        return None
    account = portal_accounts.account_for_session(account_id, session.get("portal_generation"))
    if account is None:
        end_session()
        flash("Your portal access has changed: please sign in again.", "info")
        return None
    idle = get_settings().session_idle_minutes * 60
    now = int(time.time())
    if now - int(session.get("portal_seen", 0)) > idle:
        end_session()
        flash(f"You were signed out after {idle // 60} minutes without activity.", "info")
        return None
    if now - int(session.get("portal_seen", 0)) > 30:
        session["portal_seen"] = now  # refresh at most every 30 s: fewer cookie rewrites
    g.portal_account = account
    g.portal_record = account.record
    return None


@preview_bp.url_value_preprocessor
def pull_record_id(endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.preview_record_id = (values or {}).pop("record_id", None)


@preview_bp.url_defaults
def add_record_id(endpoint: str, values: dict[str, Any]) -> None:
    if "record_id" not in values and g.get("preview_record_id") is not None:
        values["record_id"] = g.preview_record_id


@preview_bp.before_request
def load_preview() -> Any:
    if not (
        current_user.is_authenticated
        and current_user.active
        and any(current_user.has_role(r) for r in (StaffRole.ADMIN, StaffRole.AGENT))
    ):
        abort(404)  # the preview does not exist for anyone but signed-in staff
    if request.method != "GET":
        abort(403, description="The preview is read-only: staff cannot act as the client.")
    record = db.session.get(Record, g.preview_record_id)
    if record is None:
        abort(404)
    g.portal_preview = True
    g.portal_record = record
    account = portal_accounts.primary_account(record)
    g.portal_account = account if account and account.status == AccountStatus.ENABLED else None
    return None


def _context() -> dict[str, Any]:
    from portal.screens import navigation

    return {
        "portal_nav": navigation() if g.get("portal_record") is not None else [],
        "portal_settings": get_settings(),
        "portal_account": g.get("portal_account"),
        "portal_record": g.get("portal_record"),
        "portal_preview": g.get("portal_preview", False),
    }


bp.context_processor(_context)
preview_bp.context_processor(_context)

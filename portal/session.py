"""Who is looking at the portal: a signed-in client, or staff in the read-only preview.

A client's session cookie names the account, its generation and a session id whose row in
``sign_in_sessions`` must still be open (:mod:`app.services.sessions`): signing out ends the
row, so a copy of the cookie stops working too, and the portal's idle time-out is measured on
the server.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, current_app, flash, g, request, session
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_security import current_user

from app.services import portal_accounts, portal_credentials, sessions
from app.services.events import Actor
from app.services.portal_settings import get_settings, read_settings
from models import AccountStatus, PortalAccount, Record, StaffRole, db
from portal import bp, page_cache, preview_bp
from portal.navigation import navigation

SESSION_KEYS = (
    "portal_account",
    "portal_record",
    "portal_generation",
    "portal_sid",
    "portal_method",
)


def start_session(account: PortalAccount, method: str) -> None:
    """Sign this browser in."""
    end_session()
    for key in ("portal_code", "portal_choose"):
        session.pop(key, None)
    session["portal_account"] = account.id
    session["portal_record"] = account.record_id
    session["portal_generation"] = account.generation
    session["portal_sid"] = sessions.start(
        account=account, ip=get_remote_address(), user_agent=request.user_agent.string
    )
    session["portal_method"] = method


#: What an emailed signing link binds in this browser (portal.signing.binding): signing out
#: ends it too, so the next person at the computer cannot go on signing.
SIGN_LINK_KEYS = ("sign_signer", "sign_code_sent")


def end_session(reason: str = sessions.SIGNED_OUT) -> None:
    """Sign this browser out: its session row ends, so every copy of the cookie ends with it"""
    sid = session.get("portal_sid")
    if sid:
        sessions.end(sid, reason)
    for key in (*SESSION_KEYS, "portal_seen", *SIGN_LINK_KEYS):
        session.pop(key, None)


@bp.before_request
def load_client() -> Any:
    g.portal_preview = False
    g.portal_account = None
    g.portal_record = None
    account_id = session.get("portal_account")
    if account_id is None:
        return None
    kept = page_cache.lookup()  # first: before anything is read from the database
    idle_minutes = read_settings().session_idle_minutes
    idle = timedelta(minutes=idle_minutes)
    lifetime = timedelta(hours=int(current_app.config["PORTICO_SESSION_MAX_HOURS"]))
    if kept is not None and kept.body is not None:
        # A kept page needs no more than the sign-in holding: no objects loaded.
        verdict, facts = sessions.check_portal(
            session.get("portal_sid"), idle=idle, lifetime=lifetime
        )
        if (
            verdict.valid
            and facts is not None
            and verdict.account_id == account_id
            and facts.record_id == session.get("portal_record")
            and portal_accounts.still_signed_in(
                facts.status, facts.generation, session.get("portal_generation")
            )
        ):
            if verdict.wrote:
                db.session.commit()  # the one early commit, as below (noqa: request-commit)
            return page_cache.respond(kept)
        # Otherwise judged again below, with the objects, as any page (a session this check
        # ended reads as ended there, for the same reason, and the request commits it).
    verdict = sessions.check(
        session.get("portal_sid"),
        idle=idle,
        lifetime=lifetime,
        options=portal_accounts.SESSION_LOAD,
    )
    if verdict.wrote:
        # Committed now, not with the request: the write locks the session's row (on SQLite,
        # the whole database) and the client's other requests (a page and its API calls, two
        # tabs) would each wait for this one to finish; and a request that fails must not
        # take back the time of its own activity.
        db.session.commit()  # the one early commit (noqa: request-commit)
    if not verdict.valid or verdict.account_id != account_id:
        end_session()
        if verdict.reason == sessions.IDLE:
            flash(
                _(
                    "You were signed out after %(minutes)s minutes without activity.",
                    minutes=idle_minutes,
                ),
                "info",
            )
        elif verdict.reason == sessions.EXPIRED:
            flash(_("Please sign in again: your sign-in has expired."), "info")
        elif verdict.reason != sessions.SIGNED_OUT:
            flash(_("Your portal access has changed: please sign in again."), "info")
        return None
    account = portal_accounts.account_for_session(account_id, session.get("portal_generation"))
    if account is None:
        end_session(sessions.ACCESS_ENDED)
        flash(_("Your portal access has changed: please sign in again."), "info")
        return None
    g.portal_account = account
    if kept is not None and account.record_id == session.get("portal_record"):
        g.portal_page = kept
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
    account = portal_credentials.primary_account(record)
    g.portal_account = account if account and account.status == AccountStatus.ENABLED else None
    return None


def client_actor() -> Actor:
    """The signed-in client, as the services' events name who acted."""
    return Actor.client(g.portal_account)


def _context() -> dict[str, Any]:
    return {
        "portal_nav": navigation() if g.get("portal_record") is not None else [],
        "portal_settings": get_settings(),
        "portal_account": g.get("portal_account"),
        "portal_record": g.get("portal_record"),
        "portal_preview": g.get("portal_preview", False),
    }


bp.context_processor(_context)
preview_bp.context_processor(_context)

"""The portal's navigation, and how a client screen is registered: on the portal (signed-in
clients) and on the staff preview, so staff see exactly what the client sees."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g
from flask_babel import lazy_gettext as _l

from app.services import portal_badges
from app.services.certificates import client_certificates
from models import RecordKind
from portal import bp, preview_bp
from portal.guards import client_required, is_module_enabled


@dataclass(frozen=True)
class Section:
    """An entry of the portal's navigation; later features append theirs."""

    endpoint: str
    label: Any  # a lazy translation
    #: The portal module that must be on for it to show (None: always shown).
    module: str | None = None
    #: Shown to clients only (a lead's portal has no such page).
    clients_only: bool = False
    #: In the "More" menu: the navigation keeps its row for the screens used most.
    more: bool = False
    #: A number shown beside the label when not zero (unread requests).
    badge: Callable[[], int] | None = None
    #: Shown only when this says so too (asked last: after the module and the kind).
    when: Callable[[], bool] | None = None

    def enabled(self) -> bool:
        if self.clients_only and getattr(g.get("portal_record"), "kind", None) != RecordKind.CLIENT:
            return False
        if self.module is not None and not is_module_enabled(self.module):
            return False
        return self.when is None or self.when()


#: The portal's navigation, in order.
SECTIONS: list[Section] = [
    Section("home", _l("Home")),
    Section("details", _l("My details")),
    Section("care_list_prescriptions", _l("Prescriptions"), "prescriptions"),
    Section("care_list_providers", _l("Providers"), "providers"),
    Section("documents", _l("Documents")),
    Section("requests", _l("Requests"), badge=lambda: unread_requests() + pending_signatures()),
    Section(
        "certificates",
        _l("Certificates"),
        "certificates",
        clients_only=True,
        when=lambda: has_certificates(),
    ),
    Section("contact", _l("Contact us"), more=True),
    Section("referral", _l("Refer a friend"), clients_only=True, more=True),
    Section("review", _l("Leave a review"), "reviews", more=True),
]


def badges() -> portal_badges.Badges:
    """The navigation's numbers, in one query, once a request however often a page asks."""
    if "portal_badges" not in g:
        account = g.get("portal_account")
        g.portal_badges = (
            portal_badges.of_account(account) if account is not None else portal_badges.Badges()
        )
    found: portal_badges.Badges = g.portal_badges
    return found


def unread_requests() -> int:
    """Conversations the office wrote in since the client last read them: the Requests badge
    and home's box."""
    return badges().unread


def pending_signatures() -> int:
    """Sign requests waiting for this client's signature: counted in the Requests badge."""
    return badges().to_sign


def has_certificates() -> bool:
    """A client with a certificate master shared with them (a certificate issued to a holder
    of theirs belongs to one): the Certificates entry. Once a request, only while the module
    is on, and a query of its own only for a record with a master shared."""
    if "portal_has_certificates" not in g:
        account = g.get("portal_account")
        g.portal_has_certificates = (
            account is not None
            and badges().shared_masters
            and client_certificates.any_visible(account)
        )
    return bool(g.portal_has_certificates)


def navigation() -> list[Section]:
    return [section for section in SECTIONS if section.enabled()]


def client_screen(rule: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a screen on the portal (signed-in clients) and on the preview (staff)."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        guarded = client_required(view)
        bp.add_url_rule(rule, view.__name__, guarded, **options)
        preview_bp.add_url_rule(rule, view.__name__, guarded, **options)
        return guarded

    return register


def _badges() -> dict[str, Any]:
    return {"unread_requests": unread_requests}


bp.context_processor(_badges)
preview_bp.context_processor(_badges)

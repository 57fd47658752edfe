"""The numbers every portal page shows in its navigation, asked in one query.

Each number's rule stays with its feature (:func:`conversation_access.unread_query`,
:func:`signing.access.pending_query`, :func:`client_certificates.shared_query`); this module
only puts them in one SELECT, so a page pays one round trip for its navigation, not three.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, select

from app.services import conversation_access
from app.services.certificates import client_certificates
from app.services.signing import access
from models import PortalAccount, db


@dataclass(frozen=True)
class Badges:
    #: Conversations the office wrote in since the client last read them.
    unread: int = 0
    #: Sign requests waiting for this person's signature.
    to_sign: int = 0
    #: A certificate master is shared with the record (whether one is still in force is
    #: :func:`client_certificates.any_visible`'s question, asked only when this is True).
    shared_masters: bool = False


def of_account(account: PortalAccount) -> Badges:
    """The navigation's numbers for a signed-in account."""
    shared = (
        client_certificates.shared_query(account)
        if client_certificates.offered_to(account)
        else false()
    )
    row = db.session.execute(
        select(
            conversation_access.unread_query(account).scalar_subquery(),
            access.pending_query(account).scalar_subquery(),
            shared,
        )
    ).one()
    return Badges(unread=int(row[0] or 0), to_sign=int(row[1] or 0), shared_masters=bool(row[2]))

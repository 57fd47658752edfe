"""Who signs in this browser: a signed-in client acting as one of their own signers, or
someone who opened an emailed link and typed its code.

The link binds the browser's session to that one signer (its id and the hash of the link's
token, for a few hours): it is not a portal sign-in, so every other portal page still asks to
sign in. A new link (a reminder) or a cancelled request ends the binding, because the token
it names is gone; once the signer finished, the binding still shows them their done page.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import abort, g, request, session
from flask_limiter.util import get_remote_address

from app.services.actors import Actor
from app.services.errors import NotFound
from app.services.signing import access, signing
from models import SignRequestSigner, db
from portal.session import SIGN_LINK_KEYS

#: The session key of a link's binding.
LINK_KEY = SIGN_LINK_KEYS[0]
#: How long a typed code keeps the browser bound to its signer.
LINK_SECONDS = 3 * 60 * 60


@dataclass(frozen=True)
class Signing:
    """The signer this browser acts as, and how the services' events name who acted."""

    signer: SignRequestSigner
    actor: Actor
    by_link: bool

    @property
    def ip(self) -> str:
        return get_remote_address()

    @property
    def user_agent(self) -> str:
        return request.user_agent.string[:400]


def bind(signer: SignRequestSigner) -> None:
    """Bind this browser to ``signer`` (its code was right)."""
    session[LINK_KEY] = {
        "id": signer.id,
        "token": signer.token_hash,
        "until": int(time.time()) + LINK_SECONDS,
    }


def _bound(signer_id: int) -> SignRequestSigner | None:
    bound = session.get(LINK_KEY)
    if not isinstance(bound, dict) or bound.get("id") != signer_id:
        return None
    if int(bound.get("until", 0)) < time.time():
        session.pop(LINK_KEY, None)
        return None
    signer = db.session.get(SignRequestSigner, signer_id)
    if signer is None:
        return None
    if signer.token_hash is not None and signer.token_hash == bound.get("token"):
        return signer
    if signer.is_done and bound.get("token"):
        return signer  # they finished here: the done page (and the signed PDF) stay theirs
    return None


def signing_or_404(signer_id: int) -> Signing:
    """The signer ``signer_id`` if this browser acts as them; 404 for anyone else. Never the
    staff preview: signing writes."""
    if g.get("portal_preview"):
        abort(404)
    account = g.get("portal_account")
    if account is not None:
        try:
            signer = access.signer_for_account(account, signer_id)
        except NotFound:
            pass
        else:
            return Signing(signer, Actor.client(account), by_link=False)
    bound = _bound(signer_id)
    if bound is None:
        abort(404)
    return Signing(bound, signing.signer_actor(bound), by_link=True)


def signer_key() -> str:
    """A rate limit's key: the signer in the path."""
    return f"signer:{(request.view_args or {}).get('signer_id', '-')}"

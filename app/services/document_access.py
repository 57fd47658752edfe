"""Who opened, downloaded, uploaded, shared or was told about each document, when and from
which address; and the receipt staff read ("seen by the client on 3 Dec 10:12").

The log is append-only. A client's first view or download sets the document's
``first_opened_at``, so lists show the receipt without reading the log.
"""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import select

from app.services.actors import CLIENT, Actor
from models import AccessAction, Document, DocumentAccess, db, utcnow

#: What counts as the client having seen a document.
SEEING = frozenset({AccessAction.VIEWED, AccessAction.DOWNLOADED})


def log(
    document: Document, action: AccessAction, actor: Actor, detail: str | None = None
) -> DocumentAccess:
    """Append one entry (the caller commits); a client's first look sets the receipt."""
    ip = request.remote_addr if has_request_context() else None
    agent = (request.user_agent.string or None) if has_request_context() else None
    entry = DocumentAccess(
        document_id=document.id,
        action=action,
        actor_kind=actor.kind,
        actor_label=actor.label[:200],
        user_id=actor.user_id,
        account_id=actor.account_id,
        ip=ip,
        user_agent=agent[:300] if agent else None,
        detail=detail,
        at=utcnow(),
    )
    db.session.add(entry)
    if actor.kind == CLIENT and action in SEEING and document.first_opened_at is None:
        document.first_opened_at = entry.at
    return entry


def history(document: Document) -> list[DocumentAccess]:
    """The document's whole access history, newest first."""
    return list(
        db.session.scalars(
            select(DocumentAccess)
            .where(DocumentAccess.document_id == document.id)
            .order_by(DocumentAccess.at.desc(), DocumentAccess.id.desc())
        )
    )

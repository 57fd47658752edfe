"""Housekeeping jobs."""

from __future__ import annotations

from sqlalchemy import text

from models import db


def ping(value: str = "pong") -> dict[str, str]:
    """Round trip through a worker and the database; used by tests and by operators."""
    db.session.execute(text("SELECT 1"))
    return {"value": value}

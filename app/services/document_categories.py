"""The admin-kept list of document categories (policy documents, ID cards, ...)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.services.errors import ValidationError
from app.services.validation import check_unique_name
from models import Document, DocumentCategory, db


def check_name(category: DocumentCategory) -> None:
    """A category's name, trimmed, unique without regard to case; or ValidationError."""
    category.name = check_unique_name(
        category.name,
        DocumentCategory.name,
        what="category",
        max_length=80,
        exclude_id=category.id,
    )


def documents_in(category: DocumentCategory) -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(Document).where(Document.category_id == category.id)
        )
        or 0
    )


def check_removable(category: DocumentCategory) -> None:
    """A category documents use cannot be deleted (it would leave them uncategorised)."""
    used = documents_in(category)
    if used:
        noun = "document" if used == 1 else "documents"
        raise ValidationError(
            f"{category.name} is used by {used} {noun}; untick Active instead of deleting it."
        )

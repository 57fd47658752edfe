"""Portico's models. This module only re-exports; each concept lives in its own module."""

from models.base import Base, LabelledEnum, TimestampMixin, UTCDateTime, db, utcnow
from models.contact import Contact, ContactRole
from models.product import CoverageType, Product, ProductStatus
from models.record import ContactMethod, Record, RecordKind
from models.tag import Tag, record_tags
from models.task import Task, TaskKind
from models.user import Role, StaffRole, User, WebAuthn

__all__ = [
    "Base",
    "Contact",
    "ContactMethod",
    "ContactRole",
    "CoverageType",
    "LabelledEnum",
    "Product",
    "ProductStatus",
    "Record",
    "RecordKind",
    "Role",
    "StaffRole",
    "Tag",
    "Task",
    "TaskKind",
    "TimestampMixin",
    "UTCDateTime",
    "User",
    "WebAuthn",
    "db",
    "record_tags",
    "utcnow",
]

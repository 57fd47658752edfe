"""List filters: through relationships with EXISTS (so no row is listed twice), and dates
on the office's clock."""

from __future__ import annotations

import typing as t
from datetime import datetime, time, timedelta

from flask_admin.contrib.sqla.filters import (
    BaseSQLAFilter,
    DateBetweenFilter,
    DateTimeBetweenFilter,
)
from sqlalchemy import select

from admin_views.forms import LazyOptions, office_zone
from app.services.users import agents_query
from models import (
    AccountStatus,
    CoverageType,
    PortalAccount,
    Product,
    ProductStatus,
    Record,
    Tag,
    db,
)


class OfficeTimeBetween(DateTimeBetweenFilter):
    """Between two times on the office's clock, on a column that keeps UTC (Flask-Admin's
    filter hands the database naive times, which such a column refuses)."""

    def clean(self, value: str) -> list[datetime]:
        return [moment.replace(tzinfo=office_zone()) for moment in super().clean(value)]


class OfficeDayBetween(DateBetweenFilter):
    """From the first to the last day given, both whole days of the office's calendar, on a
    timestamp column that keeps UTC."""

    def apply(self, query: t.Any, value: t.Any, alias: t.Any = None) -> t.Any:
        first, last = value
        zone = office_zone()
        column = self.get_column(alias)
        return query.filter(
            column >= datetime.combine(first, time(), zone),
            column < datetime.combine(last + timedelta(days=1), time(), zone),
        )


def _int(value: t.Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _ExistsFilter(BaseSQLAFilter):
    """Base: ``apply`` adds one EXISTS condition built by ``condition(value)``."""

    op = "is"

    def __init__(self, name: str, options: t.Any = None) -> None:
        super().__init__(Record.id, name, options=options)

    def condition(self, value: t.Any) -> t.Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def clean(self, value: t.Any) -> t.Any:
        return value

    def validate(self, value: t.Any) -> bool:
        return self.clean(value) is not None

    def apply(self, query: t.Any, value: t.Any, alias: t.Any = None) -> t.Any:
        return query.filter(self.condition(value))

    def operation(self) -> str:
        return self.op


def tag_options() -> t.Iterable[tuple[int, str]]:
    return db.session.execute(select(Tag.id, Tag.name).order_by(Tag.name))


class HasTag(_ExistsFilter):
    def __init__(self) -> None:
        super().__init__("Tag", LazyOptions(tag_options))

    def clean(self, value: t.Any) -> int | None:
        return _int(value)

    def condition(self, value: t.Any) -> t.Any:
        return Record.tags.any(Tag.id == self.clean(value))


class LacksTag(HasTag):
    op = "is not"

    def condition(self, value: t.Any) -> t.Any:
        return ~Record.tags.any(Tag.id == self.clean(value))


class ProductStatusIs(_ExistsFilter):
    op = "any product is"

    def __init__(self) -> None:
        super().__init__("Product status", ProductStatus.choices())

    def clean(self, value: t.Any) -> str | None:
        return value if value in {status.value for status in ProductStatus} else None

    def condition(self, value: t.Any) -> t.Any:
        return Record.products.any(Product.status == ProductStatus(value))


class CoverageTypeIs(_ExistsFilter):
    op = "any product is"

    def __init__(self) -> None:
        super().__init__(
            "Coverage type",
            LazyOptions(coverage_type_options),
        )

    def clean(self, value: t.Any) -> int | None:
        return _int(value)

    def condition(self, value: t.Any) -> t.Any:
        return Record.products.any(Product.coverage_type_id == self.clean(value))


def agent_options() -> list[tuple[int, str]]:
    return [(int(user.id), user.full_name) for user in db.session.scalars(agents_query())]


class AssignedAgentIs(_ExistsFilter):
    def __init__(self) -> None:
        super().__init__("Assigned agent", LazyOptions(agent_options))

    def clean(self, value: t.Any) -> int | None:
        return _int(value)

    def condition(self, value: t.Any) -> t.Any:
        return Record.assigned_agent_id == self.clean(value)


class Unassigned(_ExistsFilter):
    op = "none"

    def __init__(self) -> None:
        super().__init__("Assigned agent", [("1", "no agent")])

    def condition(self, value: t.Any) -> t.Any:
        return Record.assigned_agent_id.is_(None)


class IntChoice(BaseSQLAFilter):
    """A foreign-key column equal to one of the options (options read per request)."""

    def __init__(
        self, column: t.Any, name: str, load: t.Callable[[], t.Iterable[tuple[t.Any, str]]]
    ) -> None:
        super().__init__(column, name, options=LazyOptions(load))

    def clean(self, value: t.Any) -> int | None:
        return _int(value)

    def validate(self, value: t.Any) -> bool:
        return self.clean(value) is not None

    def apply(self, query: t.Any, value: t.Any, alias: t.Any = None) -> t.Any:
        return query.filter(self.column == self.clean(value))

    def operation(self) -> str:
        return "is"


class IntIs(BaseSQLAFilter):
    """A column equal to a number typed in the URL (e.g. a record id)."""

    def validate(self, value: t.Any) -> bool:
        return _int(value) is not None

    def apply(self, query: t.Any, value: t.Any, alias: t.Any = None) -> t.Any:
        return query.filter(self.column == _int(value))

    def operation(self) -> str:
        return "is"


class EnumChoice(BaseSQLAFilter):
    """An enum column equal to one member; unknown values are refused, not sent to SQL."""

    def __init__(self, column: t.Any, name: str, enum_class: t.Any) -> None:
        super().__init__(column, name, options=enum_class.choices())
        self.enum_class = enum_class

    def validate(self, value: t.Any) -> bool:
        return value in {member.value for member in self.enum_class}

    def apply(self, query: t.Any, value: t.Any, alias: t.Any = None) -> t.Any:
        return query.filter(self.column == self.enum_class(value))

    def operation(self) -> str:
        return "is"


def coverage_type_options() -> t.Iterable[tuple[int, str]]:
    return db.session.execute(
        select(CoverageType.id, CoverageType.name).order_by(CoverageType.name)
    )


class PortalStatusIs(_ExistsFilter):
    """The primary applicant's portal access: not enabled, invited, enabled or disabled."""

    NOT_ENABLED = "none"

    def __init__(self) -> None:
        super().__init__("Portal", [(self.NOT_ENABLED, "Not enabled"), *AccountStatus.choices()])

    def clean(self, value: t.Any) -> str | None:
        valid = {self.NOT_ENABLED} | {status.value for status in AccountStatus}
        return value if value in valid else None

    def condition(self, value: t.Any) -> t.Any:
        primary = (PortalAccount.record_id == Record.id) & PortalAccount.contact_id.is_(None)
        exists = select(PortalAccount.id).where(primary)
        if value == self.NOT_ENABLED:
            return ~exists.exists()
        return exists.where(PortalAccount.status == AccountStatus(value)).exists()


__all__ = [
    "AssignedAgentIs",
    "CoverageTypeIs",
    "EnumChoice",
    "HasTag",
    "IntChoice",
    "IntIs",
    "LacksTag",
    "PortalStatusIs",
    "ProductStatusIs",
    "Unassigned",
    "agent_options",
    "coverage_type_options",
]

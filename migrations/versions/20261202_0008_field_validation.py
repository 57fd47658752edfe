"""Field validation: control characters

Forms now refuse control characters (a line break in a name broke every mail header to that
client). This cleans the rows saved before: in one-line columns every control character or
line separator becomes a space (runs of spaces one, ends trimmed); in notes and other
multi-line columns only tab and line breaks stay. No schema change.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")

#: table: (one-line columns, multi-line columns, one-line columns that are unique)
COLUMNS = {
    "records": (
        (
            "first_name", "last_name", "company_name", "email", "phone", "mobile",
            "address_line1", "address_line2", "city", "state", "postal_code", "source",
        ),
        ("notes",),
        (),
    ),
    "contacts": (
        ("first_name", "last_name", "relationship_to_record", "email", "phone"),
        ("notes",),
        (),
    ),
    "prescriptions": (("drug_name", "strength", "dosage", "frequency"), ("notes",), ()),
    "providers": (("name", "specialty", "phone", "address"), ("notes",), ()),
    "products": (("carrier", "plan_name", "policy_number"), ("notes",), ()),
    "coverage_types": (("name",), (), ("name",)),
    "tags": (("name",), ("description",), ("name",)),
    "tasks": (("title",), ("notes",), ()),
    "message_templates": (("name", "subject"), (), ()),
    "users": (("first_name", "last_name", "phone"), (), ()),
    "custom_fields": (("label",), ("help_text",), ()),
    "portal_fields": (("label",), ("help_text",), ()),
}  # fmt: skip


def _one_line(value):
    return " ".join(SINGLE_LINE.sub(" ", value).split())


def upgrade():
    connection = op.get_bind()
    for name, (single, multi, unique) in COLUMNS.items():
        table = sa.table(name, sa.column("id"), *(sa.column(c) for c in (*single, *multi)))
        taken = {
            column: {
                value
                for (value,) in connection.execute(sa.select(table.c[column]))
                if value is not None
            }
            for column in unique
        }
        rows = connection.execute(sa.select(table)).mappings().all()
        for row in rows:
            changes = {}
            for column in single:
                value = row[column]
                if isinstance(value, str) and SINGLE_LINE.search(value):
                    cleaned = _one_line(value)
                    if column in unique:
                        if cleaned in taken[column] or not cleaned:
                            cleaned = f"{cleaned} ({row['id']})".strip()
                        taken[column].add(cleaned)
                    changes[column] = cleaned
            for column in multi:
                value = row[column]
                if isinstance(value, str) and MULTI_LINE.search(value):
                    changes[column] = MULTI_LINE.sub("", value)
            if changes:
                connection.execute(
                    sa.update(table).where(table.c.id == row["id"]).values(**changes)
                )


def downgrade():
    # The characters removed were what broke mail and pages; nothing to put back.
    pass

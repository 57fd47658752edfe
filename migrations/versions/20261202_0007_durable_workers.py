"""Workers: delivery outcomes and queue health

Who claimed a scheduled action or an outbox message (so a dead worker's claims are handed back
at once), and the outbox status for a send whose outcome is unknown.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD_STATUSES = ("queued", "sending", "sent", "failed")
NEW_STATUSES = (*OLD_STATUSES, "unknown")


def _status(values):
    return sa.Enum(
        *values, name="outboxstatus", native_enum=False, create_constraint=True, length=16
    )


def _swap_status_check(values):
    """SQLite rebuilds the table (batch mode) with the new CHECK; PostgreSQL swaps it."""
    if op.get_bind().dialect.name == "sqlite":
        return
    op.drop_constraint(op.f("ck_outbox_messages_outboxstatus"), "outbox_messages", type_="check")
    quoted = ", ".join(f"'{value}'" for value in values)
    op.create_check_constraint(
        op.f("ck_outbox_messages_outboxstatus"), "outbox_messages", sa.text(f"status IN ({quoted})")
    )


def upgrade():
    with op.batch_alter_table("scheduled_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))
        if op.get_bind().dialect.name == "sqlite":
            batch_op.alter_column(
                "status",
                existing_type=_status(OLD_STATUSES),
                type_=_status(NEW_STATUSES),
                existing_nullable=False,
            )
    _swap_status_check(NEW_STATUSES)


def downgrade():
    # A send of unknown outcome goes back to what it was before: failed, for a person to see.
    op.execute("UPDATE outbox_messages SET status = 'failed' WHERE status = 'unknown'")
    _swap_status_check(OLD_STATUSES)
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        if op.get_bind().dialect.name == "sqlite":
            batch_op.alter_column(
                "status",
                existing_type=_status(NEW_STATUSES),
                type_=_status(OLD_STATUSES),
                existing_nullable=False,
            )
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("scheduled_actions", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")

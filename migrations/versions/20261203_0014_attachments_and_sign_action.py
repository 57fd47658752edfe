"""Attachments in the outbox; the workflow action "Send sign request"

An outbox email may carry a document's file (the signed PDF that each signer receives), with
the document's title as queued; the document going away leaves the message, which is then sent
without the file, saying so. Workflow actions gain the kind "send_sign_request" (the CHECK of
the kind, on actions and on scheduled actions) and the saved sign request it sends.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "enable_self_service",
    "send_email",
    "send_sms",
    "create_task",
    "create_call",
    "add_tag",
    "remove_tag",
)
NEW_KINDS = (*OLD_KINDS, "send_sign_request")
KIND_TABLES = ("workflow_actions", "scheduled_actions")


def _kind(values):
    return sa.Enum(*values, name="actionkind", native_enum=False, create_constraint=True, length=24)


def _sqlite():
    return op.get_bind().dialect.name == "sqlite"


def _swap_kind_checks(values):
    """PostgreSQL swaps the CHECK of the kind; SQLite rebuilds the tables instead (batch mode,
    :func:`_alter_kind_sqlite`)."""
    if _sqlite():
        return
    quoted = ", ".join(f"'{value}'" for value in values)
    for table in KIND_TABLES:
        op.drop_constraint(op.f(f"ck_{table}_actionkind"), table, type_="check")
        op.create_check_constraint(
            op.f(f"ck_{table}_actionkind"), table, sa.text(f"kind IN ({quoted})")
        )


def _links_of_scheduled_actions():
    """SQLite drops a table it rebuilds, and with foreign keys on, dropping workflow_actions
    sets every scheduled action's link to its action to NULL: kept here to put back."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT id, workflow_action_id FROM scheduled_actions "
            "WHERE workflow_action_id IS NOT NULL"
        )
    )
    return [{"id": row[0], "action": row[1]} for row in rows]


def _restore_links(links):
    if links:
        op.get_bind().execute(
            sa.text("UPDATE scheduled_actions SET workflow_action_id = :action WHERE id = :id"),
            links,
        )


def _alter_kind_sqlite(batch_op, old, new):
    """SQLite: the batch rebuilds its table with the CHECK of the ``new`` kinds."""
    if _sqlite():
        batch_op.alter_column(
            "kind", existing_type=_kind(old), type_=_kind(new), existing_nullable=False
        )


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_document_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("attachment_title", sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_attachment_document_id_documents"),
            "documents",
            ["attachment_document_id"],
            ["id"],
            ondelete="SET NULL",
        )
    links = _links_of_scheduled_actions() if _sqlite() else []
    with op.batch_alter_table("workflow_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sign_template_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_workflow_actions_sign_template_id_sign_templates"),
            "sign_templates",
            ["sign_template_id"],
            ["id"],
            ondelete="SET NULL",
        )
        _alter_kind_sqlite(batch_op, OLD_KINDS, NEW_KINDS)
    _restore_links(links)
    with op.batch_alter_table("scheduled_actions", schema=None) as batch_op:
        _alter_kind_sqlite(batch_op, OLD_KINDS, NEW_KINDS)
    _swap_kind_checks(NEW_KINDS)


def downgrade():
    # The old schema has no such kind: its actions, and their scheduled rows, go.
    op.execute("DELETE FROM scheduled_actions WHERE kind = 'send_sign_request'")
    op.execute("DELETE FROM workflow_actions WHERE kind = 'send_sign_request'")
    _swap_kind_checks(OLD_KINDS)
    with op.batch_alter_table("scheduled_actions", schema=None) as batch_op:
        _alter_kind_sqlite(batch_op, NEW_KINDS, OLD_KINDS)
    links = _links_of_scheduled_actions() if _sqlite() else []
    with op.batch_alter_table("workflow_actions", schema=None) as batch_op:
        _alter_kind_sqlite(batch_op, NEW_KINDS, OLD_KINDS)
        batch_op.drop_constraint(
            batch_op.f("fk_workflow_actions_sign_template_id_sign_templates"), type_="foreignkey"
        )
        batch_op.drop_column("sign_template_id")
    _restore_links(links)
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_messages_attachment_document_id_documents"), type_="foreignkey"
        )
        batch_op.drop_column("attachment_title")
        batch_op.drop_column("attachment_document_id")

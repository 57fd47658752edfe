"""An index on records.updated_at: the staff record list sorted by "Updated" (newest first)
read and sorted every record for each page; with the index it reads one page of it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index("ix_records_updated_at", ["updated_at"], unique=False)


def downgrade():
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_updated_at")

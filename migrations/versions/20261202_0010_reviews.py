"""Reviews: a client's rating (1 to 5) and comment, and staff's requests for one

Review requests (the record, who asked, when; answered once), reviews (the record, the
account that answered, the rating, the comment, the request answered: one answer each) and
the portal setting for the rating at or below which a follow-up task is made.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "review_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_review_requests_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_review_requests_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_requests")),
    )
    with op.batch_alter_table("review_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_requests_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_request_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating_1_to_5")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["portal_accounts.id"],
            name=op.f("fk_reviews_account_id_portal_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_reviews_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_request_id"],
            ["review_requests.id"],
            name=op.f("fk_reviews_review_request_id_review_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("review_request_id", name=op.f("uq_reviews_review_request_id")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_record_id"), ["record_id"], unique=False)

    # Step one: the existing settings row gets the default threshold.
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "review_task_threshold", sa.Integer(), nullable=False, server_default=sa.text("2")
            )
        )
    # Step two: the application fills it from now on.
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.alter_column("review_task_threshold", server_default=None)


def downgrade():
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.drop_column("review_task_threshold")

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_record_id"))
        batch_op.drop_index(batch_op.f("ix_reviews_created_at"))
    op.drop_table("reviews")

    with op.batch_alter_table("review_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_requests_record_id"))
    op.drop_table("review_requests")

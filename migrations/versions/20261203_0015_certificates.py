"""Certificates of insurance: policy limits, certificate masters, holders, certificates

Products gain their coverage lines and limits (label, amount, order). Certificate masters
(record, name, description of operations, shared with the client: when, by whom, when and why
it ended) and the policies each covers; the holders clients add (name, address, email, whether
the coverage meets their requirements and why not, the request a "No" became, who added them)
and the certificates issued (number, holder, the sealed PDF's document, what it certified), numbered by a counter per year.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificate_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_certificate_counters")),
    )
    op.create_table(
        "certificate_masters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("description_of_operations", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shared_by_id", sa.Integer(), nullable=True),
        sa.Column("unshared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unshared_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_certificate_masters_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_certificate_masters_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shared_by_id"],
            ["users.id"],
            name=op.f("fk_certificate_masters_shared_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_masters")),
    )
    with op.batch_alter_table("certificate_masters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_masters_record_id"), ["record_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_certificate_masters_shared"), ["shared"], unique=False)

    op.create_table(
        "certificate_master_products",
        sa.Column("master_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["master_id"],
            ["certificate_masters.id"],
            name=op.f("fk_certificate_master_products_master_id_certificate_masters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_certificate_master_products_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "master_id", "product_id", name=op.f("pk_certificate_master_products")
        ),
    )
    with op.batch_alter_table("certificate_master_products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_certificate_master_products_product_id", ["product_id"], unique=False
        )

    op.create_table(
        "product_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_product_limits_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_limits_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_limits")),
    )
    with op.batch_alter_table("product_limits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_limits_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "certificate_holders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("master_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("meets_requirements", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("added_by_account_id", sa.Integer(), nullable=True),
        sa.Column("added_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_account_id"],
            ["portal_accounts.id"],
            name=op.f("fk_certificate_holders_added_by_account_id_portal_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["added_by_user_id"],
            ["users.id"],
            name=op.f("fk_certificate_holders_added_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_certificate_holders_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["master_id"],
            ["certificate_masters.id"],
            name=op.f("fk_certificate_holders_master_id_certificate_masters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_holders")),
    )
    with op.batch_alter_table("certificate_holders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_holders_added_by_account_id"),
            ["added_by_account_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_certificate_holders_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_certificate_holders_master_id"), ["master_id"], unique=False
        )

    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("master_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_certificates_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["certificate_holders.id"],
            name=op.f("fk_certificates_holder_id_certificate_holders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_account_id"],
            ["portal_accounts.id"],
            name=op.f("fk_certificates_issued_by_account_id_portal_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["master_id"],
            ["certificate_masters.id"],
            name=op.f("fk_certificates_master_id_certificate_masters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_certificates_number")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificates_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_certificates_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_certificates_issued_by_account_id"),
            ["issued_by_account_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_certificates_master_id"), ["master_id"], unique=False)


def downgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_master_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_issued_by_account_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_holder_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_document_id"))

    op.drop_table("certificates")
    with op.batch_alter_table("certificate_holders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_holders_master_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_holders_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_holders_added_by_account_id"))

    op.drop_table("certificate_holders")
    with op.batch_alter_table("product_limits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_limits_product_id"))

    op.drop_table("product_limits")
    with op.batch_alter_table("certificate_master_products", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_master_products_product_id")

    op.drop_table("certificate_master_products")
    with op.batch_alter_table("certificate_masters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_masters_shared"))
        batch_op.drop_index(batch_op.f("ix_certificate_masters_record_id"))

    op.drop_table("certificate_masters")
    op.drop_table("certificate_counters")

"""Documents: files and website links on a record, shared with the client or not

Document categories (an admin list; one may be the ID cards), documents (a file in storage or
a link; who added it, the client's uploads and their note; sharing, its expiry day and the
client's first opening) and the access log of each document (views, downloads, uploads,
shares, notices: who, when, from which address).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "document_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("is_id_card", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_document_categories_name")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "file",
                "link",
                name="documentkind",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=False,
        ),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("storage_key", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=160), nullable=True),
        sa.Column("content_type", sa.String(length=120), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "staff",
                "client",
                name="documentsource",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=False,
        ),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_account_id", sa.Integer(), nullable=True),
        sa.Column("client_note", sa.Text(), nullable=True),
        sa.Column("staff_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shared_by_id", sa.Integer(), nullable=True),
        sa.Column("share_expires_on", sa.Date(), nullable=True),
        sa.Column("first_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'file' AND storage_key IS NOT NULL AND url IS NULL) OR (kind = 'link' AND url IS NOT NULL AND storage_key IS NULL)",
            name=op.f("ck_documents_file_or_link"),
        ),
        sa.CheckConstraint(
            "size IS NULL OR size >= 0", name=op.f("ck_documents_size_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["users.id"],
            name=op.f("fk_documents_added_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["document_categories.id"],
            name=op.f("fk_documents_category_id_document_categories"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_documents_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_documents_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shared_by_id"],
            ["users.id"],
            name=op.f("fk_documents_shared_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_account_id"],
            ["portal_accounts.id"],
            name=op.f("fk_documents_uploaded_by_account_id_portal_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_documents_storage_key")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_shared"), ["shared"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_source"), ["source"], unique=False)

    op.create_table(
        "document_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "viewed",
                "downloaded",
                "uploaded",
                "shared",
                "unshared",
                "notified",
                name="accessaction",
                native_enum=False,
                create_constraint=True,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("actor_kind", sa.String(length=8), nullable=False),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["portal_accounts.id"],
            name=op.f("fk_document_access_account_id_portal_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_access_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_document_access_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_access")),
    )
    with op.batch_alter_table("document_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_access_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_document_access_document_id"), ["document_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("document_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_access_document_id"))
        batch_op.drop_index(batch_op.f("ix_document_access_at"))

    op.drop_table("document_access")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_source"))
        batch_op.drop_index(batch_op.f("ix_documents_shared"))
        batch_op.drop_index(batch_op.f("ix_documents_record_id"))
        batch_op.drop_index(batch_op.f("ix_documents_product_id"))
        batch_op.drop_index(batch_op.f("ix_documents_category_id"))

    op.drop_table("documents")
    op.drop_table("document_categories")

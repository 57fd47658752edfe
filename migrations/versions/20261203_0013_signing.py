"""Signing: sign requests, their signers and fields, saved layouts, the disclosure

The Electronic Record and Signature Disclosure (versions, never edited in place); saved sign
templates (a PDF in storage, its pages, signer parts and field layout); sign requests (record,
title, message, status, the document to sign and its SHA-256, pages, the signed document,
order, expiry and reminders); their signers (position, contact, name and email as sent, status,
link token hash, when told, reminded, viewed, consented (disclosure, address, browser), signed
or declined, the signature and initials, the draft kept while signing) and fields (page, place
as fractions of the page, kind, required, label, value).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_disclosures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_sign_disclosures_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_disclosures")),
        sa.UniqueConstraint("version", name=op.f("uq_sign_disclosures_version")),
    )
    op.create_table(
        "sign_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=160), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=False),
        sa.Column("signer_roles", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("in_order", sa.Boolean(), nullable=False),
        sa.Column("expires_in_days", sa.Integer(), nullable=False),
        sa.Column("remind_every_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_sign_templates_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_sign_templates_name")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_sign_templates_storage_key")),
    )
    op.create_table(
        "sign_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "sent",
                "viewed",
                "signed",
                "declined",
                "expired",
                "cancelled",
                name="signrequeststatus",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("original_sha256", sa.String(length=64), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=False),
        sa.Column("signed_document_id", sa.Integer(), nullable=True),
        sa.Column("in_order", sa.Boolean(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_every_days", sa.Integer(), nullable=True),
        sa.Column("next_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "remind_every_days IS NULL OR remind_every_days > 0",
            name=op.f("ck_sign_requests_remind_every_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_sign_requests_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_sign_requests_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_sign_requests_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signed_document_id"],
            ["documents.id"],
            name=op.f("fk_sign_requests_signed_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["sign_templates.id"],
            name=op.f("fk_sign_requests_template_id_sign_templates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_requests")),
    )
    with op.batch_alter_table("sign_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sign_requests_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sign_requests_record_id"), ["record_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sign_requests_signed_document_id"), ["signed_document_id"], unique=False
        )
        batch_op.create_index(
            "ix_sign_requests_status_expires", ["status", "expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_sign_requests_status_remind", ["status", "next_reminder_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sign_requests_template_id"), ["template_id"], unique=False
        )

    op.create_table(
        "sign_request_signers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sign_request_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "sent",
                "viewed",
                "signed",
                "declined",
                "expired",
                "cancelled",
                name="signerstatus",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disclosure_id", sa.Integer(), nullable=True),
        sa.Column("consent_ip", sa.String(length=45), nullable=True),
        sa.Column("consent_user_agent", sa.String(length=400), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=400), nullable=True),
        sa.Column(
            "signature_style",
            sa.Enum(
                "drawn",
                "typed",
                name="signaturestyle",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=True,
        ),
        sa.Column("signature_image", sa.LargeBinary(), nullable=True),
        sa.Column("signature_text", sa.String(length=120), nullable=True),
        sa.Column("initials_image", sa.LargeBinary(), nullable=True),
        sa.Column("initials_text", sa.String(length=20), nullable=True),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_sign_request_signers_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["disclosure_id"],
            ["sign_disclosures.id"],
            name=op.f("fk_sign_request_signers_disclosure_id_sign_disclosures"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sign_request_id"],
            ["sign_requests.id"],
            name=op.f("fk_sign_request_signers_sign_request_id_sign_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_request_signers")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sign_request_signers_token_hash")),
    )
    with op.batch_alter_table("sign_request_signers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sign_request_signers_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sign_request_signers_sign_request_id"), ["sign_request_id"], unique=False
        )
        batch_op.create_index(
            "uq_sign_request_signers_position", ["sign_request_id", "position"], unique=True
        )

    op.create_table(
        "sign_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sign_request_id", sa.Integer(), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("width", sa.Float(), nullable=False),
        sa.Column("height", sa.Float(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "signature",
                "initials",
                "date_signed",
                "text",
                "checkbox",
                name="signfieldkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.CheckConstraint("page >= 0", name=op.f("ck_sign_fields_page_not_negative")),
        sa.CheckConstraint(
            "x >= 0 AND y >= 0 AND width > 0 AND height > 0 AND x + width <= 1.0001 "
            "AND y + height <= 1.0001",
            name=op.f("ck_sign_fields_on_the_page"),
        ),
        sa.ForeignKeyConstraint(
            ["sign_request_id"],
            ["sign_requests.id"],
            name=op.f("fk_sign_fields_sign_request_id_sign_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signer_id"],
            ["sign_request_signers.id"],
            name=op.f("fk_sign_fields_signer_id_sign_request_signers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_fields")),
    )
    with op.batch_alter_table("sign_fields", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sign_fields_sign_request_id"), ["sign_request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sign_fields_signer_id"), ["signer_id"], unique=False)


def downgrade():
    with op.batch_alter_table("sign_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_fields_signer_id"))
        batch_op.drop_index(batch_op.f("ix_sign_fields_sign_request_id"))

    op.drop_table("sign_fields")
    with op.batch_alter_table("sign_request_signers", schema=None) as batch_op:
        batch_op.drop_index("uq_sign_request_signers_position")
        batch_op.drop_index(batch_op.f("ix_sign_request_signers_sign_request_id"))
        batch_op.drop_index(batch_op.f("ix_sign_request_signers_contact_id"))

    op.drop_table("sign_request_signers")
    with op.batch_alter_table("sign_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_requests_template_id"))
        batch_op.drop_index("ix_sign_requests_status_remind")
        batch_op.drop_index("ix_sign_requests_status_expires")
        batch_op.drop_index(batch_op.f("ix_sign_requests_signed_document_id"))
        batch_op.drop_index(batch_op.f("ix_sign_requests_record_id"))
        batch_op.drop_index(batch_op.f("ix_sign_requests_document_id"))

    op.drop_table("sign_requests")
    op.drop_table("sign_templates")
    op.drop_table("sign_disclosures")

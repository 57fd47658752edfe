"""Self-service journeys: journeys, their steps and fields, visitors' sessions, uploads and
funnel milestones; teams of staff users (their journey completion email), and the workflow
trigger "completed journey X"

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("completion_template_key", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "journeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("assigned_user_id", sa.Integer(), nullable=True),
        sa.Column("pin_minutes", sa.Integer(), nullable=False),
        sa.Column("pin_attempts", sa.Integer(), nullable=False),
        sa.Column("opening_html", sa.Text(), nullable=False),
        sa.Column("closing_html", sa.Text(), nullable=False),
        sa.Column("send_copy", sa.Boolean(), nullable=False),
        sa.Column("redirect_url", sa.String(length=2000), nullable=True),
        sa.Column("embed_origins", sa.Text(), nullable=False),
        sa.Column("resume_days", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "pin_attempts BETWEEN 1 AND 20", name=op.f("ck_journeys_pin_attempts_range")
        ),
        sa.CheckConstraint(
            "pin_minutes BETWEEN 1 AND 1440", name=op.f("ck_journeys_pin_minutes_range")
        ),
        sa.CheckConstraint(
            "resume_days BETWEEN 0 AND 90", name=op.f("ck_journeys_resume_days_range")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_user_id"],
            ["users.id"],
            name=op.f("fk_journeys_assigned_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journeys")),
        sa.UniqueConstraint("slug", name=op.f("uq_journeys_slug")),
    )
    with op.batch_alter_table("journeys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journeys_assigned_user_id"), ["assigned_user_id"], unique=False
        )

    op.create_table(
        "journey_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "form",
                "upload",
                "sign",
                "review",
                name="stepkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("sign_template_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journeys.id"],
            name=op.f("fk_journey_steps_journey_id_journeys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sign_template_id"],
            ["sign_templates.id"],
            name=op.f("fk_journey_steps_sign_template_id_sign_templates"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_steps")),
    )
    with op.batch_alter_table("journey_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journey_steps_journey_id"), ["journey_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_journey_steps_sign_template_id"), ["sign_template_id"], unique=False
        )

    op.create_table(
        "journey_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("help_text", sa.Text(), nullable=False),
        sa.Column("field_type", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["journey_steps.id"],
            name=op.f("fk_journey_fields_step_id_journey_steps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_fields")),
    )
    with op.batch_alter_table("journey_fields", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journey_fields_step_id"), ["step_id"], unique=False)

    op.create_table(
        "journey_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "started",
                "in_progress",
                "completed",
                "abandoned",
                name="sessionstatus",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("sign_request_id", sa.Integer(), nullable=True),
        sa.Column("completion_document_id", sa.Integer(), nullable=True),
        sa.Column("resume_token_hash", sa.String(length=64), nullable=True),
        sa.Column("resume_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resume_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("abandoned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("copy_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=400), nullable=True),
        sa.Column("trail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["completion_document_id"],
            ["documents.id"],
            name=op.f("fk_journey_sessions_completion_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journeys.id"],
            name=op.f("fk_journey_sessions_journey_id_journeys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_journey_sessions_record_id_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sign_request_id"],
            ["sign_requests.id"],
            name=op.f("fk_journey_sessions_sign_request_id_sign_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_sessions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_journey_sessions_public_id")),
        sa.UniqueConstraint(
            "resume_token_hash", name=op.f("uq_journey_sessions_resume_token_hash")
        ),
    )
    with op.batch_alter_table("journey_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journey_sessions_email"), ["email"], unique=False)
        batch_op.create_index(
            "ix_journey_sessions_journey_started", ["journey_id", "started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_journey_sessions_record_id"), ["record_id"], unique=False
        )
        batch_op.create_index(
            "ix_journey_sessions_status_seen", ["status", "last_seen_at"], unique=False
        )

    op.create_table(
        "journey_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journeys.id"],
            name=op.f("fk_journey_milestones_journey_id_journeys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["journey_sessions.id"],
            name=op.f("fk_journey_milestones_session_id_journey_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_milestones")),
    )
    with op.batch_alter_table("journey_milestones", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journey_milestones_journey_at", ["journey_id", "at"], unique=False
        )
        batch_op.create_index(
            "uq_journey_milestones_session_stage", ["session_id", "stage"], unique=True
        )

    op.create_table(
        "journey_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=160), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_journey_uploads_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["journey_sessions.id"],
            name=op.f("fk_journey_uploads_session_id_journey_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_uploads")),
    )
    with op.batch_alter_table("journey_uploads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journey_uploads_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_journey_uploads_session_id"), ["session_id"], unique=False
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_team_id"), ["team_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_users_team_id_teams"), "teams", ["team_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("journey_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_workflows_journey_id"), ["journey_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_workflows_journey_id_journeys"),
            "journeys",
            ["journey_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_workflows_journey_id_journeys"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_workflows_journey_id"))
        batch_op.drop_column("journey_id")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_team_id_teams"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_team_id"))
        batch_op.drop_column("team_id")

    with op.batch_alter_table("journey_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journey_uploads_session_id"))
        batch_op.drop_index(batch_op.f("ix_journey_uploads_document_id"))

    op.drop_table("journey_uploads")
    with op.batch_alter_table("journey_milestones", schema=None) as batch_op:
        batch_op.drop_index("uq_journey_milestones_session_stage")
        batch_op.drop_index("ix_journey_milestones_journey_at")

    op.drop_table("journey_milestones")
    with op.batch_alter_table("journey_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_sessions_status_seen")
        batch_op.drop_index(batch_op.f("ix_journey_sessions_record_id"))
        batch_op.drop_index("ix_journey_sessions_journey_started")
        batch_op.drop_index(batch_op.f("ix_journey_sessions_email"))

    op.drop_table("journey_sessions")
    with op.batch_alter_table("journey_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journey_fields_step_id"))

    op.drop_table("journey_fields")
    with op.batch_alter_table("journey_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journey_steps_sign_template_id"))
        batch_op.drop_index(batch_op.f("ix_journey_steps_journey_id"))

    op.drop_table("journey_steps")
    with op.batch_alter_table("journeys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journeys_assigned_user_id"))

    op.drop_table("journeys")
    op.drop_table("teams")

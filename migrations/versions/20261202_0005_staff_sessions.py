"""Staff sign-in: server-side sessions, lockout, idle time-out

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa
import flask_security


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('portal_account_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.CheckConstraint('(portal_account_id IS NULL) <> (user_id IS NULL)', name=op.f('ck_sign_in_sessions_one_owner')),
    sa.ForeignKeyConstraint(['portal_account_id'], ['portal_accounts.id'], name=op.f('fk_sign_in_sessions_portal_account_id_portal_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_sessions_token_hash'))
    )
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_portal_account_id'), ['portal_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_portal_account_id'))

    op.drop_table('sign_in_sessions')

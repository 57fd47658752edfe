"""Portal accounts: verified sign-in contact changes, atomic code attempts

A change of the email address or mobile number a client signs in with waits in
portal_contact_changes until the code sent to the new address or number is entered.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa
import flask_security


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'portal_contact_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('field_key', sa.String(length=80), nullable=False),
        sa.Column('field_label', sa.String(length=120), nullable=False),
        sa.Column('section', sa.String(length=40), nullable=False),
        sa.Column('channel', sa.Enum('email', 'sms', name='channel', native_enum=False, create_constraint=True, length=8), nullable=False),
        sa.Column('new_value', sa.String(length=255), nullable=False),
        sa.Column('new_display', sa.Text(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['portal_accounts.id'], name=op.f('fk_portal_contact_changes_account_id_portal_accounts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_portal_contact_changes_record_id_records'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_contact_changes')),
    )
    with op.batch_alter_table('portal_contact_changes', schema=None) as batch_op:
        batch_op.create_index('ix_portal_contact_changes_open', ['account_id', 'confirmed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_contact_changes_record_id'), ['record_id'], unique=False)


def downgrade():
    with op.batch_alter_table('portal_contact_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_contact_changes_record_id'))
        batch_op.drop_index('ix_portal_contact_changes_open')
    op.drop_table('portal_contact_changes')

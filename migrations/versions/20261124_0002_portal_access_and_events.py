"""Portal accounts, templates, outbox, activity log and notification rules.

The activity chain starts with one head row holding the genesis hash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 15:41:05.813972

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    head = op.create_table('activity_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_entry_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_chain_head'))
    )
    # The chain starts from the genesis hash; writers lock this row.
    op.bulk_insert(head, [{"id": 1, "last_entry_id": None, "last_hash": "0" * 64}])
    op.create_table('activity_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_key', sa.String(length=80), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('record_label', sa.String(length=200), nullable=True),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_entries'))
    )
    with op.batch_alter_table('activity_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_entries_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_index('ix_activity_entries_event', ['event_key', 'id'], unique=False)
        batch_op.create_index('ix_activity_entries_occurred', ['occurred_at'], unique=False)
        batch_op.create_index('ix_activity_entries_record', ['record_id', 'id'], unique=False)

    op.create_table('notification_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=80), nullable=False),
    sa.Column('agent_email', sa.Boolean(), nullable=False),
    sa.Column('customer_email', sa.Boolean(), nullable=False),
    sa.Column('primary_applicant_email', sa.Boolean(), nullable=False),
    sa.Column('create_task', sa.Boolean(), nullable=False),
    sa.Column('log_activity', sa.Boolean(), nullable=False),
    sa.Column('agent_template_key', sa.String(length=80), nullable=False),
    sa.Column('customer_template_key', sa.String(length=80), nullable=False),
    sa.Column('customer_sms_template_key', sa.String(length=80), nullable=False),
    sa.Column('primary_template_key', sa.String(length=80), nullable=False),
    sa.Column('task_due_hours', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_rules')),
    sa.UniqueConstraint('event_key', name=op.f('uq_notification_rules_event_key'))
    )
    op.create_table('portal_login_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('email', 'sms', name='channel', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('identifier', sa.String(length=255), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_login_codes'))
    )
    with op.batch_alter_table('portal_login_codes', schema=None) as batch_op:
        batch_op.create_index('ix_portal_login_codes_lookup', ['channel', 'identifier', 'id'], unique=False)

    op.create_table('portal_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('portal_name', sa.String(length=120), nullable=False),
    sa.Column('banner_html', sa.Text(), nullable=False),
    sa.Column('office_email', sa.String(length=255), nullable=True),
    sa.Column('office_phone', sa.String(length=32), nullable=True),
    sa.Column('allow_link_sign_in', sa.Boolean(), nullable=False),
    sa.Column('allow_password_sign_in', sa.Boolean(), nullable=False),
    sa.Column('allow_email_code_sign_in', sa.Boolean(), nullable=False),
    sa.Column('allow_sms_code_sign_in', sa.Boolean(), nullable=False),
    sa.Column('link_by_sms_when_preferred', sa.Boolean(), nullable=False),
    sa.Column('code_valid_minutes', sa.Integer(), nullable=False),
    sa.Column('code_max_attempts', sa.Integer(), nullable=False),
    sa.Column('lockout_failures', sa.Integer(), nullable=False),
    sa.Column('lockout_minutes', sa.Integer(), nullable=False),
    sa.Column('session_idle_minutes', sa.Integer(), nullable=False),
    sa.Column('invitation_valid_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_settings'))
    )
    op.create_table('message_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.Enum('email', 'sms', name='channel', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_message_templates_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('key', name=op.f('uq_message_templates_key'))
    )
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.Enum('email', 'sms', name='channel', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('recipient', sa.String(length=255), nullable=False),
    sa.Column('recipient_name', sa.String(length=160), nullable=True),
    sa.Column('reply_to', sa.String(length=255), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('template_key', sa.String(length=80), nullable=True),
    sa.Column('event_key', sa.String(length=80), nullable=True),
    sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'failed', name='outboxstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_id', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_outbox_messages_record_id_records'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_messages_idempotency_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_record_id'), ['record_id'], unique=False)

    op.create_table('portal_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('invited', 'enabled', 'disabled', name='accountstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('link_token_hash', sa.String(length=64), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('password_set_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('invitation_token_hash', sa.String(length=64), nullable=True),
    sa.Column('invitation_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_portal_accounts_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_portal_accounts_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_accounts')),
    sa.UniqueConstraint('contact_id', name=op.f('uq_portal_accounts_contact_id')),
    sa.UniqueConstraint('invitation_token_hash', name=op.f('uq_portal_accounts_invitation_token_hash')),
    sa.UniqueConstraint('link_token_hash', name=op.f('uq_portal_accounts_link_token_hash'))
    )
    with op.batch_alter_table('portal_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_portal_accounts_email', ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_accounts_record_id'), ['record_id'], unique=False)
        batch_op.create_index('uq_portal_accounts_primary', ['record_id'], unique=True, sqlite_where=sa.text('contact_id IS NULL'), postgresql_where=sa.text('contact_id IS NULL'))



def downgrade():
    with op.batch_alter_table('portal_accounts', schema=None) as batch_op:
        batch_op.drop_index('uq_portal_accounts_primary', sqlite_where=sa.text('contact_id IS NULL'), postgresql_where=sa.text('contact_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_portal_accounts_record_id'))
        batch_op.drop_index('ix_portal_accounts_email')

    op.drop_table('portal_accounts')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_record_id'))
        batch_op.drop_index('ix_outbox_messages_due')

    op.drop_table('outbox_messages')
    op.drop_table('message_templates')
    op.drop_table('portal_settings')
    with op.batch_alter_table('portal_login_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_portal_login_codes_lookup')

    op.drop_table('portal_login_codes')
    op.drop_table('notification_rules')
    with op.batch_alter_table('activity_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_entries_record')
        batch_op.drop_index('ix_activity_entries_occurred')
        batch_op.drop_index('ix_activity_entries_event')
        batch_op.drop_index(batch_op.f('ix_activity_entries_actor_user_id'))

    op.drop_table('activity_entries')
    op.drop_table('activity_chain_head')

"""Configurable portal fields, custom fields, approvals, Rx and providers.

The new NOT NULL settings columns are added with a default for the existing row, then the
default is dropped (the application sets them).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 16:08:13.566651

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('custom_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('field_type', sa.Enum('text', 'long_text', 'number', 'date', 'yes_no', 'choice', 'email', 'phone', name='customfieldtype', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('help_text', sa.Text(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_fields')),
    sa.UniqueConstraint('key', name=op.f('uq_custom_fields_key'))
    )
    op.create_table('portal_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('section', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('help_text', sa.Text(), nullable=False),
    sa.Column('mode', sa.Enum('optional', 'mandatory', 'read_only', 'hidden', 'approval', name='fieldmode', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('custom_field_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['custom_field_id'], ['custom_fields.id'], name=op.f('fk_portal_fields_custom_field_id_custom_fields'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_fields')),
    sa.UniqueConstraint('custom_field_id', name=op.f('uq_portal_fields_custom_field_id')),
    sa.UniqueConstraint('key', name=op.f('uq_portal_fields_key'))
    )
    op.create_table('custom_field_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('custom_field_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['custom_field_id'], ['custom_fields.id'], name=op.f('fk_custom_field_values_custom_field_id_custom_fields'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_custom_field_values_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_field_values')),
    sa.UniqueConstraint('record_id', 'custom_field_id', name=op.f('uq_custom_field_values_record_id'))
    )
    with op.batch_alter_table('custom_field_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_field_values_custom_field_id'), ['custom_field_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custom_field_values_record_id'), ['record_id'], unique=False)

    op.create_table('pending_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('field_key', sa.String(length=80), nullable=False),
    sa.Column('field_label', sa.String(length=120), nullable=False),
    sa.Column('old_display', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('new_display', sa.Text(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('proposed_by_account_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by_label', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', 'superseded', name='changestatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('acknowledged', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_pending_changes_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_pending_changes_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_changes'))
    )
    with op.batch_alter_table('pending_changes', schema=None) as batch_op:
        batch_op.create_index('ix_pending_changes_open', ['status', 'record_id'], unique=False)

    op.create_table('prescriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('drug_name', sa.String(length=160), nullable=False),
    sa.Column('strength', sa.String(length=80), nullable=True),
    sa.Column('dosage', sa.String(length=80), nullable=True),
    sa.Column('frequency', sa.String(length=80), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_prescriptions_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescriptions'))
    )
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescriptions_record_id'), ['record_id'], unique=False)

    op.create_table('providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('specialty', sa.String(length=120), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_providers_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_providers'))
    )
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_providers_record_id'), ['record_id'], unique=False)

    with op.batch_alter_table('portal_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('module_rx', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('module_providers', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('module_reviews', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('module_uploads', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('module_certificates', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('brand_colour', sa.String(length=7), nullable=False, server_default=sa.text("'#1a5d96'")))
        batch_op.add_column(sa.Column('logo_file', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('logo_updated_at', sa.DateTime(timezone=True), nullable=True))

    # Step two: the application fills these from now on.
    with op.batch_alter_table('portal_settings', schema=None) as batch_op:
        for column in ('module_rx', 'module_providers', 'module_reviews', 'module_uploads', 'module_certificates', 'brand_colour'):
            batch_op.alter_column(column, server_default=None)



def downgrade():
    with op.batch_alter_table('portal_settings', schema=None) as batch_op:
        batch_op.drop_column('logo_updated_at')
        batch_op.drop_column('logo_file')
        batch_op.drop_column('brand_colour')
        batch_op.drop_column('module_certificates')
        batch_op.drop_column('module_uploads')
        batch_op.drop_column('module_reviews')
        batch_op.drop_column('module_providers')
        batch_op.drop_column('module_rx')

    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_providers_record_id'))

    op.drop_table('providers')
    with op.batch_alter_table('prescriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescriptions_record_id'))

    op.drop_table('prescriptions')
    with op.batch_alter_table('pending_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_changes_open')

    op.drop_table('pending_changes')
    with op.batch_alter_table('custom_field_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_field_values_record_id'))
        batch_op.drop_index(batch_op.f('ix_custom_field_values_custom_field_id'))

    op.drop_table('custom_field_values')
    op.drop_table('portal_fields')
    op.drop_table('custom_fields')

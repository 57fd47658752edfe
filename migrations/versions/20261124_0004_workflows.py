"""Workflows, runs and scheduled actions; task reminders.

A run is unique per workflow and record while it is running (a partial index).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 16:26:59.009308

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workflows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('for_leads', sa.Boolean(), nullable=False),
    sa.Column('for_clients', sa.Boolean(), nullable=False),
    sa.Column('product_status', sa.Enum('quoted', 'submitted', 'active', 'declined', 'cancelled', name='productstatus', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('coverage_type_id', sa.Integer(), nullable=True),
    sa.Column('tag_id', sa.Integer(), nullable=True),
    sa.Column('on_record_created', sa.Boolean(), nullable=False),
    sa.Column('stop_when_unmatched', sa.Boolean(), nullable=False),
    sa.Column('window_days', sa.String(length=7), nullable=True),
    sa.Column('window_start', sa.Time(), nullable=True),
    sa.Column('window_end', sa.Time(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coverage_type_id'], ['coverage_types.id'], name=op.f('fk_workflows_coverage_type_id_coverage_types'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_workflows_tag_id_tags'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflows'))
    )
    op.create_table('workflow_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('delay_amount', sa.Integer(), nullable=False),
    sa.Column('delay_unit', sa.Enum('minutes', 'hours', 'days', 'weeks', 'months', 'years', name='delayunit', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('kind', sa.Enum('enable_self_service', 'send_email', 'send_sms', 'create_task', 'create_call', 'add_tag', 'remove_tag', name='actionkind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('target', sa.Enum('record', 'agent', 'staff', name='actiontarget', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('template_key', sa.String(length=80), nullable=True),
    sa.Column('tag_id', sa.Integer(), nullable=True),
    sa.Column('task_title', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['users.id'], name=op.f('fk_workflow_actions_staff_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_workflow_actions_tag_id_tags'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name=op.f('fk_workflow_actions_workflow_id_workflows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_actions'))
    )
    with op.batch_alter_table('workflow_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_actions_workflow_id'), ['workflow_id'], unique=False)

    op.create_table('workflow_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('running', 'completed', 'cancelled', name='runstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unmatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=200), nullable=True),
    sa.Column('workflow_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_workflow_runs_record_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name=op.f('fk_workflow_runs_workflow_id_workflows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_runs'))
    )
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_runs_record', ['record_id', 'workflow_id'], unique=False)
        batch_op.create_index('uq_workflow_runs_running', ['workflow_id', 'record_id'], unique=True, sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))

    op.create_table('scheduled_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('workflow_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('workflow_action_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('enable_self_service', 'send_email', 'send_sms', 'create_task', 'create_call', 'add_tag', 'remove_tag', name='actionkind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'claimed', 'done', 'skipped', 'failed', 'cancelled', name='actionstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['workflow_runs.id'], name=op.f('fk_scheduled_actions_run_id_workflow_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workflow_action_id'], ['workflow_actions.id'], name=op.f('fk_scheduled_actions_workflow_action_id_workflow_actions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_actions'))
    )
    with op.batch_alter_table('scheduled_actions', schema=None) as batch_op:
        batch_op.create_index('ix_scheduled_actions_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_actions_record_id'), ['record_id'], unique=False)
        batch_op.create_index('ix_scheduled_actions_run', ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_actions_workflow_id'), ['workflow_id'], unique=False)

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')

    with op.batch_alter_table('scheduled_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_actions_workflow_id'))
        batch_op.drop_index('ix_scheduled_actions_run')
        batch_op.drop_index(batch_op.f('ix_scheduled_actions_record_id'))
        batch_op.drop_index('ix_scheduled_actions_due')

    op.drop_table('scheduled_actions')
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_workflow_runs_running', sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))
        batch_op.drop_index('ix_workflow_runs_record')

    op.drop_table('workflow_runs')
    with op.batch_alter_table('workflow_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_actions_workflow_id'))

    op.drop_table('workflow_actions')
    op.drop_table('workflows')

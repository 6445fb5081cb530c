"""Directives, tasks, assignments, reports and the event outbox; audit entries learn their owning unit.

Revision ID: fe912b28d384
Revises: d3b4d6ad610f
Create Date: 2026-11-23 11:14:00.341246
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'fe912b28d384'
down_revision: str | None = 'd3b4d6ad610f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('txid', sa.BigInteger(), server_default=sa.text('pg_current_xact_id()::text::bigint'), nullable=False),
    sa.Column('type', sa.String(length=48), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('scope', postgresql.ARRAY(sa.UUID()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    op.create_index('ix_events_scope', 'events', ['scope'], unique=False, postgresql_using='gin')
    op.create_index('ix_events_txid_id', 'events', ['txid', 'id'], unique=False)
    op.create_table('directives',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('issuer_id', sa.UUID(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=True),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('notation', sa.String(length=96), nullable=False),
    sa.Column('notation_key', sa.String(length=96), nullable=False),
    sa.Column('doc_type', sa.String(length=32), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('place', sa.String(length=120), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('signer_name', sa.String(length=120), nullable=True),
    sa.Column('signer_title', sa.String(length=120), nullable=True),
    sa.Column('recipients', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('urgency', sa.String(length=16), server_default='normal', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('search_key', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_by_key_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issuer_id'], ['units.id'], name=op.f('fk_directives_issuer_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directives'))
    )
    op.create_index('ix_directives_issuer_created', 'directives', ['issuer_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_directives_notation_key', 'directives', ['notation_key', 'year'], unique=False)
    op.create_index('ix_directives_search_trgm', 'directives', ['search_key'], unique=False, postgresql_using='gin', postgresql_ops={'search_key': 'gin_trgm_ops'})
    op.create_index(op.f('ix_directives_status'), 'directives', ['status'], unique=False)
    op.create_index('uq_directives_issuer_notation_year', 'directives', ['issuer_id', 'notation_key', 'year'], unique=True, postgresql_where=sa.text('number IS NOT NULL AND year IS NOT NULL'))
    op.create_table('directive_references',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('directive_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('notation', sa.String(length=96), nullable=False),
    sa.Column('notation_key', sa.String(length=96), nullable=False),
    sa.Column('doc_type', sa.String(length=32), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['directive_id'], ['directives.id'], name=op.f('fk_directive_references_directive_id_directives'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directive_references'))
    )
    op.create_index(op.f('ix_directive_references_directive_id'), 'directive_references', ['directive_id'], unique=False)
    op.create_index('ix_directive_references_notation_key', 'directive_references', ['notation_key', 'year'], unique=False)
    op.create_table('tasks',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('directive_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('ordinal', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('report_to_id', sa.UUID(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('due_kind', sa.String(length=8), nullable=True),
    sa.Column('due_in_working_days', sa.Integer(), nullable=True),
    sa.Column('deadline_phrase', sa.Text(), nullable=True),
    sa.Column('recurrence', sa.String(length=16), nullable=True),
    sa.Column('report_days_after_period', sa.Integer(), nullable=True),
    sa.Column('recurrence_until', sa.Date(), nullable=True),
    sa.Column('selector', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.ForeignKeyConstraint(['directive_id'], ['directives.id'], name=op.f('fk_tasks_directive_id_directives'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_to_id'], ['units.id'], name=op.f('fk_tasks_report_to_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    op.create_index(op.f('ix_tasks_directive_id'), 'tasks', ['directive_id'], unique=False)
    op.create_index(op.f('ix_tasks_report_to_id'), 'tasks', ['report_to_id'], unique=False)
    op.create_table('assignments',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('directive_id', sa.UUID(), nullable=False),
    sa.Column('unit_id', sa.UUID(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('original_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['directive_id'], ['directives.id'], name=op.f('fk_assignments_directive_id_directives')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_assignments_task_id_tasks')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_assignments_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    sa.UniqueConstraint('task_id', 'unit_id', 'period_start', name='uq_assignments_task_unit_period', postgresql_nulls_not_distinct=True)
    )
    op.create_index('ix_assignments_directive', 'assignments', ['directive_id', 'unit_id'], unique=False)
    op.create_index('ix_assignments_open_due', 'assignments', ['due_at'], unique=False, postgresql_where=sa.text("status IN ('pending','in_progress','submitted','blocked')"))
    op.create_index(op.f('ix_assignments_task_id'), 'assignments', ['task_id'], unique=False)
    op.create_index('ix_assignments_unit_due', 'assignments', ['unit_id', 'due_at', 'id'], unique=False)
    op.create_table('task_units',
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('unit_id', sa.UUID(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_units_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_task_units_unit_id_units')),
    sa.PrimaryKeyConstraint('task_id', 'unit_id', name='pk_task_units')
    )
    op.create_index(op.f('ix_task_units_unit_id'), 'task_units', ['unit_id'], unique=False)
    op.create_table('reports',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('assignment_id', sa.UUID(), nullable=False),
    sa.Column('unit_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('figures', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('attachments', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('requested_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_key_id', sa.UUID(), nullable=True),
    sa.Column('submitted_by_key_id', sa.UUID(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_reports_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_reports_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    op.create_index('ix_reports_assignment_created', 'reports', ['assignment_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_reports_status'), 'reports', ['status'], unique=False)
    op.create_index(op.f('ix_reports_unit_id'), 'reports', ['unit_id'], unique=False)
    op.add_column('audit_log', sa.Column('unit_id', sa.UUID(), nullable=True))
    op.create_index(op.f('ix_audit_log_unit_id'), 'audit_log', ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_log_unit_id'), table_name='audit_log')
    op.drop_column('audit_log', 'unit_id')
    op.drop_index(op.f('ix_reports_unit_id'), table_name='reports')
    op.drop_index(op.f('ix_reports_status'), table_name='reports')
    op.drop_index('ix_reports_assignment_created', table_name='reports')
    op.drop_table('reports')
    op.drop_index(op.f('ix_task_units_unit_id'), table_name='task_units')
    op.drop_table('task_units')
    op.drop_index('ix_assignments_unit_due', table_name='assignments')
    op.drop_index(op.f('ix_assignments_task_id'), table_name='assignments')
    op.drop_index('ix_assignments_open_due', table_name='assignments', postgresql_where=sa.text("status IN ('pending','in_progress','submitted','blocked')"))
    op.drop_index('ix_assignments_directive', table_name='assignments')
    op.drop_table('assignments')
    op.drop_index(op.f('ix_tasks_report_to_id'), table_name='tasks')
    op.drop_index(op.f('ix_tasks_directive_id'), table_name='tasks')
    op.drop_table('tasks')
    op.drop_index('ix_directive_references_notation_key', table_name='directive_references')
    op.drop_index(op.f('ix_directive_references_directive_id'), table_name='directive_references')
    op.drop_table('directive_references')
    op.drop_index('uq_directives_issuer_notation_year', table_name='directives', postgresql_where=sa.text('number IS NOT NULL AND year IS NOT NULL'))
    op.drop_index(op.f('ix_directives_status'), table_name='directives')
    op.drop_index('ix_directives_search_trgm', table_name='directives', postgresql_using='gin', postgresql_ops={'search_key': 'gin_trgm_ops'})
    op.drop_index('ix_directives_notation_key', table_name='directives')
    op.drop_index('ix_directives_issuer_created', table_name='directives')
    op.drop_table('directives')
    op.drop_index('ix_events_txid_id', table_name='events')
    op.drop_index('ix_events_scope', table_name='events', postgresql_using='gin')
    op.drop_table('events')

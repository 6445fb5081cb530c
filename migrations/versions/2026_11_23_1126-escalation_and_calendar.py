"""Escalation policies and armed steps, daily digest claims, and province-declared calendar days.

Revision ID: c3e8a1f09b21
Revises: fe912b28d384
Create Date: 2026-11-23 11:26:03.207059
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'c3e8a1f09b21'
down_revision: str | None = 'fe912b28d384'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('digest_runs',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('ran_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_digest_runs'))
    )
    op.create_table('escalation_policies',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('directive_id', sa.UUID(), nullable=True),
    sa.Column('steps', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['directive_id'], ['directives.id'], name=op.f('fk_escalation_policies_directive_id_directives'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_policies')),
    sa.UniqueConstraint('directive_id', name=op.f('uq_escalation_policies_directive_id'))
    )
    op.create_index('uq_escalation_policies_default', 'escalation_policies', [sa.literal_column('(directive_id IS NULL)')], unique=True, postgresql_where=sa.text('directive_id IS NULL'))
    op.create_table('escalation_steps',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('assignment_id', sa.UUID(), nullable=False),
    sa.Column('step_key', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('notify', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fire_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), server_default='pending', nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_escalation_steps_assignment_id_assignments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_steps')),
    sa.UniqueConstraint('assignment_id', 'step_key', 'due_at', name='uq_escalation_steps_assignment_step_due')
    )
    op.create_index('ix_escalation_steps_assignment', 'escalation_steps', ['assignment_id', 'fire_at'], unique=False)
    op.create_index('ix_escalation_steps_pending_fire_at', 'escalation_steps', ['fire_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index('ix_escalation_steps_pending_fire_at', table_name='escalation_steps', postgresql_where=sa.text("status = 'pending'"))
    op.drop_index('ix_escalation_steps_assignment', table_name='escalation_steps')
    op.drop_table('escalation_steps')
    op.drop_index('uq_escalation_policies_default', table_name='escalation_policies', postgresql_where=sa.text('directive_id IS NULL'))
    op.drop_table('escalation_policies')
    op.drop_table('digest_runs')
    op.drop_table('calendar_days')

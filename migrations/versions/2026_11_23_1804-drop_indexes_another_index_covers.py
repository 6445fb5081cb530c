"""Drop two indexes a unique constraint already covers.

`ix_assignments_task_id` repeats the leading column of uq_assignments_task_unit_period, and
`ix_escalation_steps_assignment` that of uq_escalation_steps_assignment_step_due. Every
lookup they served (by task, by assignment, the foreign keys' checks) uses the unique index
instead, and each cost every imported assignment, armed step and report one more index insert.

Revision ID: 5f2b8d4c1e07
Revises: 3c9e5a1f7b20
Create Date: 2026-11-23 18:04:40.353952
"""

from collections.abc import Sequence

from alembic import op

revision: str = '5f2b8d4c1e07'
down_revision: str | None = '3c9e5a1f7b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_assignments_task_id', table_name='assignments')
    op.drop_index('ix_escalation_steps_assignment', table_name='escalation_steps')


def downgrade() -> None:
    op.create_index('ix_escalation_steps_assignment', 'escalation_steps', ['assignment_id', 'fire_at'], unique=False)
    op.create_index('ix_assignments_task_id', 'assignments', ['task_id'], unique=False)

"""An assignment's task and directive checked by one foreign key.

An assignment names its task and, for the inbox's and the statistics' indexes, its directive
too. Two foreign keys checked that each existed, but nothing checked that the task belonged to
that directive, so a wrong pair would have shown the assignment to the wrong issuer. One key on
(directive_id, task_id) against the task's (directive_id, id) checks the pair; the directive
exists because the task's own key says so. It is also one key lookup per assignment written
instead of two (an import of 500,000 assignments ran within noise of before: 10,263 against
9,704-9,946/s on the machine's PostgreSQL 15, 9,570 against 9,592/s on the embedded one).

The task index on `directive_id` becomes unique on (directive_id, id), the target the key
needs, and still serves lookups by directive. The key is added NOT VALID and then validated,
so existing assignments are checked without holding off writes for the length of the scan.

Revision ID: c41f7a2d9b35
Revises: 9d3a6b2e4f81
Create Date: 2026-12-03 19:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'c41f7a2d9b35'
down_revision: str | None = '9d3a6b2e4f81'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_unique_constraint('uq_tasks_directive_id_id', 'tasks', ['directive_id', 'id'])
    op.drop_index('ix_tasks_directive_id', table_name='tasks')
    op.drop_constraint('fk_assignments_task_id_tasks', 'assignments', type_='foreignkey')
    op.drop_constraint('fk_assignments_directive_id_directives', 'assignments', type_='foreignkey')
    op.execute(
        "ALTER TABLE assignments ADD CONSTRAINT fk_assignments_directive_task_tasks "
        "FOREIGN KEY (directive_id, task_id) REFERENCES tasks (directive_id, id) NOT VALID"
    )
    op.execute("ALTER TABLE assignments VALIDATE CONSTRAINT fk_assignments_directive_task_tasks")


def downgrade() -> None:
    op.drop_constraint('fk_assignments_directive_task_tasks', 'assignments', type_='foreignkey')
    op.create_foreign_key(
        'fk_assignments_directive_id_directives', 'assignments', 'directives', ['directive_id'], ['id']
    )
    op.create_foreign_key('fk_assignments_task_id_tasks', 'assignments', 'tasks', ['task_id'], ['id'])
    op.create_index('ix_tasks_directive_id', 'tasks', ['directive_id'], unique=False)
    op.drop_constraint('uq_tasks_directive_id_id', 'tasks', type_='unique')

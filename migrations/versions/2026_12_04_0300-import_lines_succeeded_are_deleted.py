"""A staged import line that succeeded is deleted in the transaction that applied it.

Marking it `succeeded` wrote a new copy of every staged line (and its primary-key entry): a
fifth of a unit import's database time, for rows nothing reads. What became of those lines
is in the job's counters (`succeeded`, `counts`), and each row they wrote has its own audit
entry. Failed lines stay, with their errors, for GET /v1/imports/{id}/errors; pending and
deferred ones are still to do. `outcome` and `entity_id` were only ever set on succeeded
lines, so they go, and so do the staged copies of lines already applied.

Downgrade puts the columns and the status back; the deleted lines are not restored.

Revision ID: e5b1c7d93a42
Revises: c41f7a2d9b35
Create Date: 2026-12-04 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e5b1c7d93a42'
down_revision: str | None = 'c41f7a2d9b35'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM import_lines WHERE status = 'succeeded'")
    op.drop_constraint(op.f('ck_import_lines_status_known'), 'import_lines', type_='check')
    op.create_check_constraint(op.f('ck_import_lines_status_known'), 'import_lines', "status IN ('pending', 'deferred', 'failed')")
    op.drop_column('import_lines', 'entity_id')
    op.drop_column('import_lines', 'outcome')


def downgrade() -> None:
    op.add_column('import_lines', sa.Column('outcome', sa.String(length=16), nullable=True))
    op.add_column('import_lines', sa.Column('entity_id', sa.UUID(), nullable=True))
    op.drop_constraint(op.f('ck_import_lines_status_known'), 'import_lines', type_='check')
    op.create_check_constraint(
        op.f('ck_import_lines_status_known'), 'import_lines', "status IN ('pending', 'deferred', 'succeeded', 'failed')"
    )

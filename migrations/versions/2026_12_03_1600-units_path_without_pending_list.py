"""Subtree lookups on `ix_units_path` without GIN's pending list.

With `fastupdate` on (GIN's default), new units' path entries wait in a pending list that
every lookup scans in full until vacuum, or the list's size limit, merges it into the index.
After a bulk unit import that made each `path @> ARRAY[unit]` lookup (visibility, assignee
selectors) take ~8 ms instead of ~0.1 ms, and a directive import that resolves selectors
right after a unit import ran at half its speed. Inserting straight into the index costs a
unit import ~3 µs a row. The pending list already there is merged now.

Revision ID: 9d3a6b2e4f81
Revises: 5f2b8d4c1e07
Create Date: 2026-12-03 16:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '9d3a6b2e4f81'
down_revision: str | None = '5f2b8d4c1e07'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER INDEX ix_units_path SET (fastupdate = off)")
    op.execute("SELECT gin_clean_pending_list('ix_units_path'::regclass)")


def downgrade() -> None:
    op.execute("ALTER INDEX ix_units_path RESET (fastupdate)")

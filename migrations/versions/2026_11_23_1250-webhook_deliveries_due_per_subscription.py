"""An index for the per-endpoint batch claim: one subscription's pending deliveries in due order.

Revision ID: a7d3b1c9e2f0
Revises: b7c1e0a5d2f4
Create Date: 2026-11-23 12:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a7d3b1c9e2f0'
down_revision: str | None = 'b7c1e0a5d2f4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_webhook_deliveries_subscription_due', 'webhook_deliveries', ['subscription_id', 'next_attempt_at'],
        unique=False, postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index(
        'ix_webhook_deliveries_subscription_due', table_name='webhook_deliveries',
        postgresql_where=sa.text("status = 'pending'"),
    )

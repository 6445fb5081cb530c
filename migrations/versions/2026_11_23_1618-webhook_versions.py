"""A version per webhook subscription: its ETag, so PATCH and DELETE take If-Match like other updates.

Existing subscriptions start at 1 (a constant default: no table rewrite).

Revision ID: 3c9e5a1f7b20
Revises: 8b41d0c7e5a3
Create Date: 2026-11-23 16:18:27.892186
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3c9e5a1f7b20'
down_revision: str | None = '8b41d0c7e5a3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('webhook_subscriptions', sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    op.drop_column('webhook_subscriptions', 'version')

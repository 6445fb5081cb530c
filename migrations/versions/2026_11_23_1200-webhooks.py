"""Webhook subscriptions, deliveries and attempts, and the relay cursor that makes the event outbox deliver exactly what committed.

Revision ID: b7c1e0a5d2f4
Revises: c3e8a1f09b21
Create Date: 2026-11-23 11:29:11.794450
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'b7c1e0a5d2f4'
down_revision: str | None = 'c3e8a1f09b21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_relay_cursor',
    sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('txid', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('event_id', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_webhook_relay_cursor_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_relay_cursor'))
    )
    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('unit_id', sa.UUID(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('event_types', postgresql.ARRAY(sa.String(length=48)), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('previous_secret', sa.String(length=64), nullable=True),
    sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sa.String(length=32), nullable=True),
    sa.Column('created_by_key_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_webhook_subscriptions_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_index('ix_webhook_subscriptions_active_unit', 'webhook_subscriptions', ['unit_id'], unique=False, postgresql_where=sa.text('active'))
    op.create_index('ix_webhook_subscriptions_created', 'webhook_subscriptions', ['created_at', 'id'], unique=False)
    op.create_index('ix_webhook_subscriptions_unit_created', 'webhook_subscriptions', ['unit_id', 'created_at', 'id'], unique=False)
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('subscription_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.Column('event_type', sa.String(length=48), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempt_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=64), nullable=True),
    sa.Column('redelivery_of', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('event','redelivery','ping')", name=op.f('ck_webhook_deliveries_kind')),
    sa.CheckConstraint("status IN ('pending','in_flight','delivered','failed')", name=op.f('ck_webhook_deliveries_status')),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_webhook_deliveries_leased', 'webhook_deliveries', ['locked_until'], unique=False, postgresql_where=sa.text("status = 'in_flight'"))
    op.create_index('ix_webhook_deliveries_subscription_created', 'webhook_deliveries', ['subscription_id', 'created_at', 'id'], unique=False)
    op.create_index('uq_webhook_deliveries_event', 'webhook_deliveries', ['subscription_id', 'event_id'], unique=True, postgresql_where=sa.text("kind = 'event'"))
    op.create_table('webhook_attempts',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('delivery_id', sa.UUID(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=32), nullable=True),
    sa.Column('response_excerpt', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'], name=op.f('fk_webhook_attempts_delivery_id_webhook_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts')),
    sa.UniqueConstraint('delivery_id', 'number', name='uq_webhook_attempts_delivery_number')
    )

    # The relay starts after the events already recorded: new subscriptions receive what happens from now on.
    op.execute(
        "INSERT INTO webhook_relay_cursor (id, txid, event_id) "
        "SELECT 1, COALESCE(max_txid, 0), COALESCE(max_id, 0) FROM "
        "(SELECT txid AS max_txid, id AS max_id FROM events ORDER BY txid DESC, id DESC LIMIT 1) last "
        "RIGHT JOIN (SELECT 1) one ON true"
    )


def downgrade() -> None:
    op.drop_table('webhook_attempts')
    op.drop_index('uq_webhook_deliveries_event', table_name='webhook_deliveries', postgresql_where=sa.text("kind = 'event'"))
    op.drop_index('ix_webhook_deliveries_subscription_created', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_leased', table_name='webhook_deliveries', postgresql_where=sa.text("status = 'in_flight'"))
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('webhook_deliveries')
    op.drop_index('ix_webhook_subscriptions_unit_created', table_name='webhook_subscriptions')
    op.drop_index('ix_webhook_subscriptions_created', table_name='webhook_subscriptions')
    op.drop_index('ix_webhook_subscriptions_active_unit', table_name='webhook_subscriptions', postgresql_where=sa.text('active'))
    op.drop_table('webhook_subscriptions')
    op.drop_table('webhook_relay_cursor')

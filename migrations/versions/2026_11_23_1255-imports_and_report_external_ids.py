"""Bulk import jobs with their staged NDJSON lines, and the client's external_id on reports (unique per unit).

Revision ID: 5e0b7d2c9a14
Revises: a7d3b1c9e2f0
Create Date: 2026-11-23 12:55:31.149283
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5e0b7d2c9a14'
down_revision: str | None = 'a7d3b1c9e2f0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_jobs',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('key_id', sa.UUID(), nullable=True),
    sa.Column('unit_id', sa.UUID(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('processed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('succeeded', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('bytes_received', sa.Integer(), server_default='0', nullable=False),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('lease_token', sa.UUID(), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('units', 'directives', 'reports')", name=op.f('ck_import_jobs_kind_known')),
    sa.CheckConstraint("status IN ('receiving', 'queued', 'running', 'completed', 'failed')", name=op.f('ck_import_jobs_status_known')),
    sa.ForeignKeyConstraint(['key_id'], ['api_keys.id'], name=op.f('fk_import_jobs_key_id_api_keys')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_import_jobs_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    op.create_index('ix_import_jobs_key_idempotency', 'import_jobs', ['key_id', 'idempotency_key'], unique=True, postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.create_index('ix_import_jobs_unfinished', 'import_jobs', ['status'], unique=False, postgresql_where=sa.text("status IN ('receiving', 'queued', 'running')"))
    op.create_index('ix_import_jobs_unit_created', 'import_jobs', ['unit_id', 'created_at', 'id'], unique=False)
    op.create_table('import_lines',
    sa.Column('job_id', sa.UUID(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('entity_id', sa.UUID(), nullable=True),
    sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'deferred', 'succeeded', 'failed')", name=op.f('ck_import_lines_status_known')),
    sa.ForeignKeyConstraint(['job_id'], ['import_jobs.id'], name=op.f('fk_import_lines_job_id_import_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'line_no', name=op.f('pk_import_lines'))
    )
    op.create_index('ix_import_lines_failed', 'import_lines', ['job_id', 'line_no'], unique=False, postgresql_where=sa.text("status = 'failed'"))
    op.create_index('ix_import_lines_waiting', 'import_lines', ['job_id', 'line_no'], unique=False, postgresql_where=sa.text("status IN ('pending', 'deferred')"))
    op.add_column('reports', sa.Column('external_id', sa.String(length=128), nullable=True))
    op.create_index('ix_reports_unit_external_id', 'reports', ['unit_id', 'external_id'], unique=True, postgresql_where=sa.text('external_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_reports_unit_external_id', table_name='reports', postgresql_where=sa.text('external_id IS NOT NULL'))
    op.drop_column('reports', 'external_id')
    op.drop_index('ix_import_lines_waiting', table_name='import_lines', postgresql_where=sa.text("status IN ('pending', 'deferred')"))
    op.drop_index('ix_import_lines_failed', table_name='import_lines', postgresql_where=sa.text("status = 'failed'"))
    op.drop_table('import_lines')
    op.drop_index('ix_import_jobs_unit_created', table_name='import_jobs')
    op.drop_index('ix_import_jobs_unfinished', table_name='import_jobs', postgresql_where=sa.text("status IN ('receiving', 'queued', 'running')"))
    op.drop_index('ix_import_jobs_key_idempotency', table_name='import_jobs', postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.drop_table('import_jobs')

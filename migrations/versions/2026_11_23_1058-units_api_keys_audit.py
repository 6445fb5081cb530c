"""Units, unit kinds, API keys and the audit log: the foundation.

Revision ID: 42eea2574a7f
Revises: 
Create Date: 2026-11-23 10:58:03.835417
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '42eea2574a7f'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SEEDED_KINDS = [
    ("department", "Sở / cơ quan quản lý (department)"),
    ("office", "Phòng, ban (office)"),
    ("hospital", "Bệnh viện (hospital)"),
    ("health_centre", "Trung tâm Y tế (health centre)"),
    ("affiliated_unit", "Đơn vị trực thuộc (affiliated unit)"),
    ("clinical_department", "Khoa (clinical department)"),
    ("commune_health_station", "Trạm Y tế xã (commune health station)"),
    ("external", "Đơn vị ngoài ngành (external)"),
]


def upgrade() -> None:
    # pg_trgm serves accent-insensitive substring search (`q`) from a GIN index.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_key_id', sa.UUID(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.UUID(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_entity', 'audit_log', ['entity_type', 'entity_id', 'id'], unique=False)
    op.create_table('unit_kinds',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_unit_kinds'))
    )
    op.create_table('units',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('short_name', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.UUID(), nullable=True),
    sa.Column('path', postgresql.ARRAY(sa.UUID()), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('aliases', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('search_key', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['kind'], ['unit_kinds.code'], name=op.f('fk_units_kind_unit_kinds')),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code'))
    )
    unit_kinds = sa.table('unit_kinds', sa.column('code', sa.String), sa.column('name', sa.String))
    op.bulk_insert(unit_kinds, [{'code': c, 'name': n} for c, n in SEEDED_KINDS])
    op.create_index(op.f('ix_units_kind'), 'units', ['kind'], unique=False)
    op.create_index(op.f('ix_units_parent_id'), 'units', ['parent_id'], unique=False)
    op.create_index('ix_units_path', 'units', ['path'], unique=False, postgresql_using='gin')
    op.create_index('ix_units_search_key_trgm', 'units', ['search_key'], unique=False, postgresql_using='gin', postgresql_ops={'search_key': 'gin_trgm_ops'})
    op.create_table('api_keys',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('unit_id', sa.UUID(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_key_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin','issuer','member','reader')", name=op.f('ck_api_keys_role')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_api_keys_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_api_keys_secret_hash'))
    )
    op.create_index(op.f('ix_api_keys_unit_id'), 'api_keys', ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_api_keys_unit_id'), table_name='api_keys')
    op.drop_table('api_keys')
    op.drop_index('ix_units_search_key_trgm', table_name='units', postgresql_using='gin', postgresql_ops={'search_key': 'gin_trgm_ops'})
    op.drop_index('ix_units_path', table_name='units', postgresql_using='gin')
    op.drop_index(op.f('ix_units_parent_id'), table_name='units')
    op.drop_index(op.f('ix_units_kind'), table_name='units')
    op.drop_table('units')
    op.drop_table('unit_kinds')
    op.drop_index('ix_audit_log_entity', table_name='audit_log')
    op.drop_table('audit_log')

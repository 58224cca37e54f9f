"""Initial schema: grids, incidents with their timeline, the outbox, idempotency keys.

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa
import dispatcher.store.columns


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgis = op.get_bind().dialect.name == "postgresql"
    if postgis:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('grid',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('properties', sa.JSON(), nullable=False),
    sa.Column('geometry', dispatcher.store.columns.Geometry(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_grid'))
    )
    with op.batch_alter_table('grid', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_parent_code'), ['parent_code'], unique=False)

    op.create_table('grid_import',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('imported_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('grid_count', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_grid_import'))
    )
    op.create_table('idempotency_key',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_idempotency_key'))
    )
    op.create_table('incident',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('category_code', sa.String(length=16), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('reporter_name', sa.String(length=64), nullable=True),
    sa.Column('reporter_phone', sa.String(length=32), nullable=True),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('urgency', sa.Integer(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('location', dispatcher.store.columns.Geometry('POINT'), nullable=True),
    sa.Column('grid_unit', sa.String(length=32), nullable=True),
    sa.Column('grid_community', sa.String(length=32), nullable=True),
    sa.Column('grid_street', sa.String(length=32), nullable=True),
    sa.Column('grid_district', sa.String(length=32), nullable=True),
    sa.Column('grid_version', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('department_code', sa.String(length=32), nullable=True),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('routing_rule', sa.String(length=128), nullable=True),
    sa.Column('routing_reason', sa.Text(), nullable=True),
    sa.Column('triage_reason', sa.String(length=32), nullable=True),
    sa.Column('triage_detail', sa.Text(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=True),
    sa.Column('stage_started_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('stage_deadline', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('suspended_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('overdue_flagged_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('rework_count', sa.Integer(), nullable=False),
    sa.Column('return_count', sa.Integer(), nullable=False),
    sa.Column('escalation_count', sa.Integer(), nullable=False),
    sa.Column('created_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('updated_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('closed_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_category_code'), ['category_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_department_code'), ['department_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_grid_community'), ['grid_community'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_grid_street'), ['grid_street'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_grid_unit'), ['grid_unit'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_stage_deadline'), ['stage_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_status'), ['status'], unique=False)
        batch_op.create_index('ix_incident_status_deadline', ['status', 'stage_deadline'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('published_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['published_at', 'id'], unique=False)

    op.create_table('timeline',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_timeline_incident_id_incident'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline')),
    sa.UniqueConstraint('incident_id', 'seq', name='uq_timeline_incident_seq')
    )
    if postgis:
        op.create_index("ix_grid_geometry", "grid", ["geometry"], postgresql_using="gist")
        op.create_index("ix_incident_location", "incident", ["location"], postgresql_using="gist")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_incident_location", "incident")
        op.drop_index("ix_grid_geometry", "grid")
    op.drop_table('timeline')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')

    op.drop_table('outbox')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_status_deadline')
        batch_op.drop_index(batch_op.f('ix_incident_status'))
        batch_op.drop_index(batch_op.f('ix_incident_stage_deadline'))
        batch_op.drop_index(batch_op.f('ix_incident_grid_unit'))
        batch_op.drop_index(batch_op.f('ix_incident_grid_street'))
        batch_op.drop_index(batch_op.f('ix_incident_grid_community'))
        batch_op.drop_index(batch_op.f('ix_incident_department_code'))
        batch_op.drop_index(batch_op.f('ix_incident_created_at'))
        batch_op.drop_index(batch_op.f('ix_incident_category_code'))

    op.drop_table('incident')
    op.drop_table('idempotency_key')
    op.drop_table('grid_import')
    with op.batch_alter_table('grid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_parent_code'))
        batch_op.drop_index(batch_op.f('ix_grid_level'))

    op.drop_table('grid')

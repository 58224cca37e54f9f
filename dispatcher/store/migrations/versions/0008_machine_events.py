"""Machine-detected events from cameras and IoT sensors (deduplicated per source and place).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('machine_source',
    sa.Column('source_id', sa.String(length=32), nullable=False),
    sa.Column('event_type', sa.String(length=31), nullable=False),
    sa.Column('source_kind', sa.String(length=8), nullable=False),
    sa.Column('first_seen_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('source_id', 'event_type', name=op.f('pk_machine_source')),
    )
    op.create_table('machine_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source_id', sa.String(length=32), nullable=False),
    sa.Column('source_kind', sa.String(length=8), nullable=False),
    sa.Column('event_type', sa.String(length=31), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('first_detected_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('last_detected_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('max_confidence', sa.Float(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('snapshot_url', sa.String(length=1000), nullable=True),
    sa.Column('snapshot', sa.LargeBinary(), nullable=True),
    sa.Column('snapshot_sha256', sa.String(length=64), nullable=True),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('created_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_machine_event_incident_id_incident'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine_event')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_machine_event_incident_id')),
    )
    op.create_index('ix_machine_event_source_type', 'machine_event', ['source_id', 'event_type'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_machine_event_source_type', table_name='machine_event')
    op.drop_table('machine_event')
    op.drop_table('machine_source')

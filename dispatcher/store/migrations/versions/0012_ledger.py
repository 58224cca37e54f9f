"""The ledger (台账) of archived cases, and the step of the case each evidence file documents (media.stage).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('category_code', sa.String(length=16), nullable=True),
    sa.Column('department_code', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('grid_street', sa.String(length=32), nullable=True),
    sa.Column('grid_community', sa.String(length=32), nullable=True),
    sa.Column('grid_unit', sa.String(length=32), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('created_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('closed_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('archived_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('archiver', sa.String(length=64), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('satisfaction', sa.String(length=16), nullable=True),
    sa.Column('return_count', sa.Integer(), nullable=False),
    sa.Column('rework_count', sa.Integer(), nullable=False),
    sa.Column('escalation_count', sa.Integer(), nullable=False),
    sa.Column('process', sa.JSON(), nullable=False),
    sa.Column('duration_hours', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_ledger_entry_incident_id_incident'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_ledger_entry_incident_id')),
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_archived_at', ['archived_at'], unique=False)
        batch_op.create_index('ix_ledger_entry_department_code', ['department_code'], unique=False)
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=16), nullable=True))
    op.execute("UPDATE media SET stage = 'intake' WHERE stage IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_column('stage')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entry_department_code')
        batch_op.drop_index('ix_ledger_entry_archived_at')
    op.drop_table('ledger_entry')

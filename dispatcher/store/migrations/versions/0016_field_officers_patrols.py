"""The field app: an account's officer (who it is in the field) and grid workers' patrols (巡查) with their reports.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('account') as batch:
        batch.add_column(sa.Column('officer_id', sa.String(length=32), nullable=True))
        batch.create_unique_constraint(batch.f('uq_account_officer_id'), ['officer_id'])
    op.create_table('patrol',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('officer_id', sa.String(length=32), nullable=False),
    sa.Column('started_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('ended_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('grid_units', sa.JSON(), nullable=False),
    sa.Column('length_m', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_patrol_officer_id_officer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol')),
    )
    with op.batch_alter_table('patrol') as batch:
        batch.create_index('ix_patrol_officer_started', ['officer_id', 'started_at'], unique=False)
        batch.create_index('ix_patrol_started_at', ['started_at'], unique=False)
    op.create_table('patrol_report',
    sa.Column('patrol_id', sa.String(length=32), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_patrol_report_incident_id_incident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrol.id'], name=op.f('fk_patrol_report_patrol_id_patrol'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patrol_id', 'incident_id', name=op.f('pk_patrol_report')),
    )


def downgrade() -> None:
    op.drop_table('patrol_report')
    with op.batch_alter_table('patrol') as batch:
        batch.drop_index('ix_patrol_started_at')
        batch.drop_index('ix_patrol_officer_started')
    op.drop_table('patrol')
    with op.batch_alter_table('account') as batch:
        batch.drop_constraint(batch.f('uq_account_officer_id'), type_='unique')
        batch.drop_column('officer_id')

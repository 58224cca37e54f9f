"""The indicator engine's store of finished periods (evaluation_frozen), and indexes on the stage deadlines so the
period still running is read through the anchor indexes (a bitmap OR over every anchor) instead of a full scan.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

UTC = dispatcher.store.columns.UTCDateTime
DEADLINES = ('file_due_at', 'dispatch_due_at', 'handle_due_at', 'verify_due_at', 'total_deadline')


def upgrade() -> None:
    op.create_table(
        'evaluation_frozen',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('period_start', UTC(), nullable=False),
        sa.Column('period_end', UTC(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('computed_at', UTC(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_frozen')),
        sa.UniqueConstraint('key', 'period_start', 'period_end', name='uq_evaluation_frozen'),
    )
    with op.batch_alter_table('incident') as batch:
        for column in DEADLINES:
            batch.create_index(batch.f(f'ix_incident_{column}'), [column], unique=False)


def downgrade() -> None:
    for column in DEADLINES:
        op.drop_index(op.f(f'ix_incident_{column}'), table_name='incident')
    op.drop_table('evaluation_frozen')

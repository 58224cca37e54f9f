"""Officers with their tracker devices, and their position history.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import dispatcher.store.columns


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('officer',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=True),
    sa.Column('grid_community', sa.String(length=32), nullable=True),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('on_duty', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer')),
    sa.UniqueConstraint('device_id', name=op.f('uq_officer_device_id'))
    )
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_grid_community'), ['grid_community'], unique=False)

    op.create_table('officer_position',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('officer_id', sa.String(length=32), nullable=False),
    sa.Column('at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('speed_mps', sa.Float(), nullable=True),
    sa.Column('heading', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('grid_unit', sa.String(length=32), nullable=True),
    sa.Column('event', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_officer_position_officer_id_officer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_position'))
    )
    with op.batch_alter_table('officer_position', schema=None) as batch_op:
        batch_op.create_index('ix_officer_position_at', ['at'], unique=False)
        batch_op.create_index('ix_officer_position_officer_at', ['officer_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('officer_position', schema=None) as batch_op:
        batch_op.drop_index('ix_officer_position_officer_at')
        batch_op.drop_index('ix_officer_position_at')

    op.drop_table('officer_position')
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_grid_community'))

    op.drop_table('officer')

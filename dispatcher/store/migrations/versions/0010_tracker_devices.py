"""Enrolled tracker devices (random identifier stored hashed, revocable) and API tokens bound to one device.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('officer_id', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=True),
    sa.Column('created_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('last_seen_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_device_officer_id_officer'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_device_secret_hash')),
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_officer_id'), ['officer_id'], unique=False)
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_api_token_device_id'), ['device_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_device_id'))
        batch_op.drop_column('device_id')
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_officer_id'))
    op.drop_table('device')

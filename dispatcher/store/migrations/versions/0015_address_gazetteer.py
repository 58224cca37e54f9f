"""The address gazetteer: roads (with house-number ranges) and landmarks, replaced all at once on import.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('address',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=128), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('number_first', sa.Integer(), nullable=True),
    sa.Column('number_last', sa.Integer(), nullable=True),
    sa.Column('geometry', dispatcher.store.columns.Geometry(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address')),
    )
    with op.batch_alter_table('address') as batch:
        batch.create_index(batch.f('ix_address_name'), ['name'], unique=False)
    op.create_table('address_import',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('imported_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_address_import')),
    )


def downgrade() -> None:
    op.drop_table('address_import')
    with op.batch_alter_table('address') as batch:
        batch.drop_index(batch.f('ix_address_name'))
    op.drop_table('address')

"""Media attached to reports: photos, voice, video with SHA-256 and EXIF.

Revision ID: 0007
Revises: 0006
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import dispatcher.store.columns  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('media',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('declared_type', sa.String(length=128), nullable=True),
    sa.Column('original_name', sa.String(length=255), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=128), nullable=False),
    sa.Column('exif_taken_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('exif_lon', sa.Float(), nullable=True),
    sa.Column('exif_lat', sa.Float(), nullable=True),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_media_incident_id_incident'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media')),
    )
    op.create_index('ix_media_incident_id', 'media', ['incident_id'], unique=False)
    op.create_index('ix_media_sha256', 'media', ['sha256'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_media_sha256', table_name='media')
    op.drop_index('ix_media_incident_id', table_name='media')
    op.drop_table('media')

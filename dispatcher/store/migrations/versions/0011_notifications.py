"""Notifications: one row per recipient, channel (in-app, SMS) and message, kept with the case it is about.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('read_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_notification_incident_id_incident'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_notification_recipient_read_at', ['recipient', 'read_at'], unique=False)
        batch_op.create_index('ix_notification_channel_status', ['channel', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_channel_status')
        batch_op.drop_index('ix_notification_recipient_read_at')
        batch_op.drop_index(batch_op.f('ix_notification_incident_id'))
    op.drop_table('notification')

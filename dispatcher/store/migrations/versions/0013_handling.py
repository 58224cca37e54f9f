"""After dispatch: joint handling partners, approval requests, and the case's overall limit, verifier, callback,
supervision, timer and down-dispatch columns.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

UTC = dispatcher.store.columns.UTCDateTime


def upgrade() -> None:
    op.create_table('case_partner',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.Column('added_at', UTC(), nullable=False),
    sa.Column('done_at', UTC(), nullable=True),
    sa.Column('done_by', sa.String(length=64), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_case_partner_incident_id_incident'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_partner')),
    sa.UniqueConstraint('incident_id', 'department_code', name='uq_case_partner_department'),
    )
    op.create_index(op.f('ix_case_partner_incident_id'), 'case_partner', ['incident_id'], unique=False)
    op.create_index(op.f('ix_case_partner_department_code'), 'case_partner', ['department_code'], unique=False)
    op.create_table('approval',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', UTC(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('until', UTC(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', UTC(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_approval_incident_id_incident'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval')),
    )
    op.create_index(op.f('ix_approval_incident_id'), 'approval', ['incident_id'], unique=False)
    op.create_index(op.f('ix_approval_status'), 'approval', ['status'], unique=False)
    with op.batch_alter_table('incident') as batch:
        batch.add_column(sa.Column('total_deadline', UTC(), nullable=True))
        batch.add_column(sa.Column('verifier', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('callback_required', sa.Boolean(), server_default='0', nullable=False))
        batch.add_column(sa.Column('callback_reason', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('callback_outcome', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('supervised_at', UTC(), nullable=True))
        batch.add_column(sa.Column('supervised_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('warned', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('timer_due_at', UTC(), nullable=True))
        batch.add_column(sa.Column('down_dispatch_street', sa.String(length=32), nullable=True))
        batch.create_index(batch.f('ix_incident_timer_due_at'), ['timer_due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident') as batch:
        batch.drop_index(batch.f('ix_incident_timer_due_at'))
        for column in ('down_dispatch_street', 'timer_due_at', 'warned', 'supervised_by', 'supervised_at',
                       'callback_outcome', 'callback_reason', 'callback_required', 'verifier', 'total_deadline'):
            batch.drop_column(column)
    op.drop_index(op.f('ix_approval_status'), table_name='approval')
    op.drop_index(op.f('ix_approval_incident_id'), table_name='approval')
    op.drop_table('approval')
    op.drop_index(op.f('ix_case_partner_department_code'), table_name='case_partner')
    op.drop_index(op.f('ix_case_partner_incident_id'), table_name='case_partner')
    op.drop_table('case_partner')

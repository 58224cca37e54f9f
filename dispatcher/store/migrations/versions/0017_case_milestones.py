"""Case milestones on the case row (issue 14): who reported it, when and by whom it was filed, dispatched, handled
and verified, each stage's deadline then, and the approved extensions, for the indicator engine's set-based counts.

Existing rows are backfilled from the timeline in one set-based UPDATE (correlated subqueries on the timeline's
(incident_id, seq) key; ~42 s for 200k cases / 2M timeline rows on PostgreSQL here, scripts/bench_milestone_backfill.py).
Past deadlines are unknown: the *_due_at columns stay NULL, which means "no limit known" (counted as on time).
The downgrade drops the columns in place (not in batch mode; see there).

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

UTC = dispatcher.store.columns.UTCDateTime
INDEXED = ('filed_at', 'dispatched_at', 'handled_at', 'closed_at')


def _pick(column: str, action: str, order: str) -> str:
    """A correlated subquery: `column` of the incident's first (ASC) or last (DESC) timeline row of `action`."""
    return (f"(SELECT t.{column} FROM timeline t WHERE t.incident_id = incident.id AND t.action = '{action}' "
            f"ORDER BY t.seq {order} LIMIT 1)")


BACKFILL = f"""
UPDATE incident SET
    reported_by = (SELECT t.actor FROM timeline t WHERE t.incident_id = incident.id ORDER BY t.seq LIMIT 1),
    filed_at = {_pick('at', 'file', 'DESC')},
    filed_by = {_pick('actor', 'file', 'DESC')},
    dispatched_at = {_pick('at', 'dispatch', 'ASC')},
    dispatched_by = {_pick('actor', 'dispatch', 'ASC')},
    handled_at = {_pick('at', 'handle', 'DESC')},
    verified_at = {_pick('at', 'verify', 'DESC')},
    extension_count = (SELECT count(*) FROM timeline t WHERE t.incident_id = incident.id AND t.action = 'extend')
"""


def upgrade() -> None:
    with op.batch_alter_table('incident') as batch:
        batch.add_column(sa.Column('reported_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('filed_at', UTC(), nullable=True))
        batch.add_column(sa.Column('filed_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('file_due_at', UTC(), nullable=True))
        batch.add_column(sa.Column('dispatched_at', UTC(), nullable=True))
        batch.add_column(sa.Column('dispatched_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('dispatch_due_at', UTC(), nullable=True))
        batch.add_column(sa.Column('handled_at', UTC(), nullable=True))
        batch.add_column(sa.Column('handle_due_at', UTC(), nullable=True))
        batch.add_column(sa.Column('verified_at', UTC(), nullable=True))
        batch.add_column(sa.Column('verify_due_at', UTC(), nullable=True))
        batch.add_column(sa.Column('extension_count', sa.Integer(), server_default='0', nullable=False))
    op.execute(sa.text(BACKFILL))
    with op.batch_alter_table('incident') as batch:
        for column in INDEXED:
            batch.create_index(batch.f(f'ix_incident_{column}'), [column], unique=False)


def downgrade() -> None:
    # Not in batch mode: on SQLite that copies and drops the incident table, which the foreign keys of timeline
    # rows refuse (and case_partner's would cascade); SQLite >= 3.35 drops an unindexed column in place.
    for column in INDEXED:
        op.drop_index(op.f(f'ix_incident_{column}'), table_name='incident')
    for column in ('extension_count', 'verify_due_at', 'verified_at', 'handle_due_at', 'handled_at',
                   'dispatch_due_at', 'dispatched_by', 'dispatched_at', 'file_due_at', 'filed_by', 'filed_at',
                   'reported_by'):
        op.drop_column('incident', column)

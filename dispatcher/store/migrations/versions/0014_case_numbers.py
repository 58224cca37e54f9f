"""Case numbers (案件编号): a short YYYY-MMDD-NNNN number per district and local day on every incident, and
the counter table that hands them out; archived ledger entries copy it. Existing incidents are numbered in the order they were created.

Revision ID: 0014
Revises: 0013
"""
from collections import defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from dispatcher.settings import get_settings

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

NO_DISTRICT = '000000'  # as dispatcher/intake/numbers.py


def upgrade() -> None:
    op.create_table('case_number_counter',
    sa.Column('district', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('district', 'day', name=op.f('pk_case_number_counter')),
    )
    with op.batch_alter_table('incident') as batch:
        batch.add_column(sa.Column('case_number', sa.String(length=20), nullable=True))
        batch.create_index(batch.f('ix_incident_case_number'), ['case_number'], unique=True)
    with op.batch_alter_table('ledger_entry') as batch:
        batch.add_column(sa.Column('case_number', sa.String(length=20), nullable=True))
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """Number the existing incidents per district and local day, oldest first, and set the counters to match."""
    tz = ZoneInfo(get_settings().timezone)
    districts = [r[0] for r in conn.execute(sa.text("SELECT code FROM grid WHERE level = 'district'"))]
    fallback = districts[0] if len(districts) == 1 else NO_DISTRICT
    rows = conn.execute(sa.text(
        'SELECT id, grid_district, created_at FROM incident WHERE case_number IS NULL ORDER BY created_at, id'
    )).all()
    # several districts (in the grids or on old rows): numbers carry the district's last two digits to stay unique
    tagged = len(set(districts) | {r.grid_district or fallback for r in rows}) > 1
    last: dict[tuple[str, object], int] = defaultdict(int)
    for incident_id, district, created_at in rows:
        if isinstance(created_at, str):  # SQLite hands back the stored text
            created_at = datetime.fromisoformat(created_at)
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        district = district or fallback
        day = created_at.astimezone(tz).date()
        last[(district, day)] += 1
        number = f"{day:%Y}-{day:%m%d}-{last[(district, day)]:04d}"
        if tagged:
            number = f"{district[-2:]}-{number}"
        conn.execute(sa.text('UPDATE incident SET case_number = :n WHERE id = :i'), {'n': number, 'i': incident_id})
    conn.execute(sa.text(
        'UPDATE ledger_entry SET case_number = '
        '(SELECT case_number FROM incident WHERE incident.id = ledger_entry.incident_id)'
    ))
    for (district, day), value in last.items():
        conn.execute(
            sa.text('INSERT INTO case_number_counter (district, day, last) VALUES (:d, :day, :v)'),
            {'d': district, 'day': day, 'v': value},
        )


def downgrade() -> None:
    with op.batch_alter_table('ledger_entry') as batch:
        batch.drop_column('case_number')
    with op.batch_alter_table('incident') as batch:
        batch.drop_index(batch.f('ix_incident_case_number'))
        batch.drop_column('case_number')
    op.drop_table('case_number_counter')

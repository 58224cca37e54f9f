"""Callers' names and phone numbers encrypted at rest (PIPL): both columns become Text holding "v1:<base64>".

Existing rows are encrypted in place with the key of GRIDCOMMAND_PII_KEY (the same settings object the
application uses); the downgrade decrypts them again.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

from dispatcher.store import cipher as privacy

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COLUMNS = ("reporter_name", "reporter_phone")
incident = sa.table("incident", sa.column("id", sa.String), *(sa.column(c, sa.Text) for c in COLUMNS))


def _rewrite(convert, wanted) -> None:
    """Apply `convert` to every non-null value for which `wanted(value)` holds, row by row (in batches)."""
    conn = op.get_bind()
    rows = conn.execute(sa.select(incident.c.id, *(incident.c[c] for c in COLUMNS))
                        .where(sa.or_(*(incident.c[c].isnot(None) for c in COLUMNS)))).all()
    updates = []
    for row in rows:
        values = {c: convert(getattr(row, c)) for c in COLUMNS if getattr(row, c) is not None and wanted(getattr(row, c))}
        if values:
            updates.append({"b_id": row.id, **values})
    for c in COLUMNS:
        batch = [{"b_id": u["b_id"], c: u[c]} for u in updates if c in u]
        if batch:
            conn.execute(incident.update().where(incident.c.id == sa.bindparam("b_id")), batch)


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.alter_column('reporter_name', existing_type=sa.String(length=64), type_=sa.Text(),
                              existing_nullable=True)
        batch_op.alter_column('reporter_phone', existing_type=sa.String(length=32), type_=sa.Text(),
                              existing_nullable=True)
    _rewrite(privacy.encrypt, lambda v: not privacy.is_encrypted(v))


def downgrade() -> None:
    _rewrite(privacy.decrypt, privacy.is_encrypted)
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.alter_column('reporter_phone', existing_type=sa.Text(), type_=sa.String(length=32),
                              existing_nullable=True)
        batch_op.alter_column('reporter_name', existing_type=sa.Text(), type_=sa.String(length=64),
                              existing_nullable=True)

"""Duplicates (parent/child merge), caller phone lookup index, call nature and callbacks.

Adds to `incident`: reporter_phone_hash (HMAC of the normalised number, indexed; existing rows are
hashed from their decrypted number), call_nature, callback_name / callback_phone (encrypted like the
reporter's), parent_id (the case a merged duplicate belongs to, indexed) and merged_count.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

incident = sa.table("incident", sa.column("id", sa.String), sa.column("reporter_phone", sa.Text),
                    sa.column("reporter_phone_hash", sa.String))


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_phone_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('call_nature', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('callback_name', dispatcher.store.columns.EncryptedText(), nullable=True))
        batch_op.add_column(sa.Column('callback_phone', dispatcher.store.columns.EncryptedText(), nullable=True))
        batch_op.add_column(sa.Column('parent_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('merged_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_incident_reporter_phone_hash'), ['reporter_phone_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_incident_parent_id_incident'), 'incident', ['parent_id'], ['id'])
    _hash_existing_numbers()


def _hash_existing_numbers() -> None:
    """Rows reported before 0006 get the lookup hash of their (decrypted) number."""
    from dispatcher.intake import callers
    from dispatcher.store import cipher as privacy

    conn = op.get_bind()
    rows = conn.execute(sa.select(incident.c.id, incident.c.reporter_phone)
                        .where(incident.c.reporter_phone.isnot(None))).all()
    batch = [{"b_id": row.id, "reporter_phone_hash": callers.phone_hash(privacy.decrypt(row.reporter_phone))}
             for row in rows]
    batch = [b for b in batch if b["reporter_phone_hash"] is not None]
    if batch:
        conn.execute(incident.update().where(incident.c.id == sa.bindparam("b_id")), batch)


def downgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incident_parent_id_incident'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_incident_parent_id'))
        batch_op.drop_index(batch_op.f('ix_incident_reporter_phone_hash'))
        batch_op.drop_column('merged_count')
        batch_op.drop_column('parent_id')
        batch_op.drop_column('callback_phone')
        batch_op.drop_column('callback_name')
        batch_op.drop_column('call_nature')
        batch_op.drop_column('reporter_phone_hash')

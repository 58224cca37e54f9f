"""The audit trail: audit_log (append-only, hash-chained) and audit_head (the newest record's id and hash).

On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE of audit_log for every role, the table's
owner included, and PUBLIC holds no UPDATE/DELETE/TRUNCATE grant; on SQLite triggers refuse UPDATE
and DELETE. audit_head stays updatable (one row, rewritten with every append).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import dispatcher.store.columns


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

GENESIS = "0" * 64

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC",
    "REVOKE DELETE, TRUNCATE ON audit_head FROM PUBLIC",
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=True),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_log_actor_at', ['actor', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_action_at', ['action', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_target', ['target'], unique=False)

    head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.bulk_insert(head, [{"id": 1, "last_id": 0, "last_hash": GENESIS}])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_target')
        batch_op.drop_index('ix_audit_log_action_at')
        batch_op.drop_index('ix_audit_log_actor_at')
        batch_op.drop_index('ix_audit_log_at')

    op.drop_table('audit_log')

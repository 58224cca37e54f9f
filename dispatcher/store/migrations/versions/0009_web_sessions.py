"""Sessions held on the server (web_session: the SHA-256 of the cookie's random id, ended on sign-out, disable or
a new password); TOTP secrets encrypted at rest and each code accepted once (totp_last_step); the hard per-account
lockout (failed_logins, locked_until) and the session epoch are gone.

Existing TOTP secrets are encrypted in place with the key of GRIDCOMMAND_PII_KEY (the same settings object the
application uses), as 0005 does for callers; the downgrade decrypts them again. On SQLite the column keeps its
declared VARCHAR(64) (SQLite does not enforce lengths, and rebuilding the account table would cascade-delete its
tokens); PostgreSQL gets TEXT.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

import dispatcher.store.columns
from dispatcher.store import cipher

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

account = sa.table("account", sa.column("id", sa.String), sa.column("totp_secret", sa.Text))


def _rewrite_secrets(convert, wanted) -> None:
    """Apply `convert` to every TOTP secret for which `wanted(value)` holds."""
    conn = op.get_bind()
    rows = conn.execute(sa.select(account.c.id, account.c.totp_secret).where(account.c.totp_secret.isnot(None))).all()
    updates = [{"b_id": r.id, "totp_secret": convert(r.totp_secret)} for r in rows if wanted(r.totp_secret)]
    if updates:
        conn.execute(account.update().where(account.c.id == sa.bindparam("b_id")), updates)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table('web_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', dispatcher.store.columns.UTCDateTime(), nullable=False),
    sa.Column('ended_at', dispatcher.store.columns.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_web_session_account_id_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_web_session')),
    )
    op.create_index(op.f('ix_web_session_account_id'), 'web_session', ['account_id'], unique=False)
    op.add_column('account', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    for column in ('failed_logins', 'locked_until', 'session_epoch'):
        op.execute(f'ALTER TABLE account DROP COLUMN {column}')  # native on PostgreSQL and SQLite >= 3.35
    if _postgres():
        op.alter_column('account', 'totp_secret', existing_type=sa.String(length=64), type_=sa.Text(),
                        existing_nullable=True)
    _rewrite_secrets(cipher.encrypt, lambda v: not cipher.is_encrypted(v))


def downgrade() -> None:
    _rewrite_secrets(cipher.decrypt, cipher.is_encrypted)
    if _postgres():
        op.alter_column('account', 'totp_secret', existing_type=sa.Text(), type_=sa.String(length=64),
                        existing_nullable=True)
    op.add_column('account', sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('account', sa.Column('locked_until', dispatcher.store.columns.UTCDateTime(), nullable=True))
    op.add_column('account', sa.Column('session_epoch', sa.Integer(), nullable=False, server_default='0'))
    op.execute('ALTER TABLE account DROP COLUMN totp_last_step')
    op.drop_index(op.f('ix_web_session_account_id'), table_name='web_session')
    op.drop_table('web_session')

"""hash exchanges: exchanges and their sync state, the bank change feed, partners and feedback

Revision ID: 0010_exchanges
Revises: 0008_video
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_exchanges"
down_revision = "0009_protect"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bank_changes",
        sa.Column("seq", _ID, primary_key=True, autoincrement=True),
        sa.Column("bank_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("op", sa.String(10), nullable=False),
        sa.Column("signal_type", sa.String(40), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("opinion", sa.String(20), nullable=True),
    )
    op.create_index("ix_bank_changes_bank_seq", "bank_changes", ["bank_id", "seq"])
    # What the banks hold today is the feed's start (partners pulling from cursor 0 get it all).
    op.execute(
        "INSERT INTO bank_changes (bank_id, entry_id, op, signal_type, value, opinion) "
        "SELECT bank_id, id, 'add', signal_type, value, opinion FROM bank_entries WHERE enabled ORDER BY id"
        if op.get_bind().dialect.name != "sqlite"
        else "INSERT INTO bank_changes (bank_id, entry_id, op, signal_type, value, opinion) "
        "SELECT bank_id, id, 'add', signal_type, value, opinion FROM bank_entries WHERE enabled = 1 ORDER BY id"
    )
    op.create_table(
        "exchanges",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("bank", sa.String(100), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "exchange_state",
        sa.Column("exchange_id", _ID, sa.ForeignKey("exchanges.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("last_run_at", _TS, nullable=True),
        sa.Column("last_success_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("fetched", sa.BigInteger(), nullable=False),
        sa.Column("added", sa.BigInteger(), nullable=False),
        sa.Column("removed", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.BigInteger(), nullable=False),
        sa.Column("skipped_samples", sa.JSON(), nullable=False),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
    )
    op.create_table(
        "exchange_partners",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("banks", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
    )
    op.create_table(
        "exchange_feedback",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("bank", sa.String(100), nullable=False),
        sa.Column("signal_type", sa.String(40), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index("ix_exchange_feedback_partner_id", "exchange_feedback", ["partner_id"])


def downgrade() -> None:
    op.drop_table("exchange_feedback")
    op.drop_table("exchange_partners")
    op.drop_table("exchange_state")
    op.drop_table("exchanges")
    op.drop_table("bank_changes")

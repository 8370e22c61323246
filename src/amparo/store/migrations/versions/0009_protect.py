"""protect: self-submission cases of the /protect page and the bank entries they placed

Revision ID: 0009_protect
Revises: 0008_video
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_protect"
down_revision = "0008_video"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "protect_cases",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("case_number", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("bank", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("pow_nonce", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("case_number", name="uq_protect_cases_case_number"),
        sa.UniqueConstraint("pow_nonce", name="uq_protect_cases_pow_nonce"),
    )
    op.create_table(
        "protect_case_entries",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("case_id", _ID, sa.ForeignKey("protect_cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("signal_type", sa.String(40), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("case_id", "signal_type", "value", name="uq_protect_case_value"),
    )
    op.create_index("ix_protect_case_entries_entry", "protect_case_entries", ["entry_id"])
    op.create_index("ix_protect_case_entries_value", "protect_case_entries", ["signal_type", "value"])


def downgrade() -> None:
    op.drop_table("protect_case_entries")
    op.drop_table("protect_cases")

"""security: shared rate-limit counters; SQLite bank entry ids never reused after a delete

Revision ID: 0004_security
Revises: 0003_generation
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_security"
down_revision = "0003_generation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket"),
    )
    if op.get_bind().dialect.name == "sqlite":
        # Without AUTOINCREMENT SQLite hands the largest deleted id out again; the table is rebuilt
        # with it (rows keep their ids, and sqlite_sequence starts from the largest of them).
        with op.batch_alter_table(
            "bank_entries", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            batch.alter_column("id", existing_type=sa.Integer(), autoincrement=True)


def downgrade() -> None:
    op.drop_table("rate_limits")

"""integrity: per-row MACs and table heads; PDQ origin of stored hashes; checkpoints covered

Revision ID: 0005_integrity
Revises: 0003_generation
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_integrity"
down_revision = "0004_bank_enabled_ratio"
branch_labels = None
depends_on = None

# Tables whose rows carry a MAC (amparo/store/integrity_repo.py COVERED).
COVERED = (
    "generations",
    "generation_outputs",
    "events",
    "banks",
    "bank_entries",
    "index_changes",
    "cases",
    "case_items",
    "case_decisions",
    "appeals",
    "evidence_items",
    "evidence_tombstones",
    "legal_holds",
    "legal_reports",
    "api_keys",
    "users",
    "audit_checkpoints",
)


def upgrade() -> None:
    for table in COVERED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("row_mac", sa.String(length=64), nullable=True))
    op.create_table(
        "integrity_heads",
        sa.Column("table_name", sa.String(length=60), primary_key=True),
        sa.Column("row_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("presence_xor", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
    )
    # PDQ values stored before this revision came from the reduced-scale fast decode, not the
    # reference: mark them. Evidence items keep their bytes and are re-hashed by
    # `amparo verify --repair-pdq` (it needs the vault's master key, which a migration has not).
    with op.batch_alter_table("bank_entries") as batch:
        batch.add_column(sa.Column("pdq_origin", sa.String(length=20), nullable=True))
    with op.batch_alter_table("evidence_items") as batch:
        batch.add_column(sa.Column("pdq_origin", sa.String(length=20), nullable=True))
    # Bank entries keep no bytes: a pre-0005 PDQ was either imported as given or hashed here by
    # the fast decode (2-8 bits from the reference); re-add from the source image to fix it.
    op.execute("UPDATE bank_entries SET pdq_origin = 'legacy' WHERE signal_type = 'pdq'")
    op.execute("UPDATE evidence_items SET pdq_origin = 'legacy_fast' WHERE pdq IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("evidence_items") as batch:
        batch.drop_column("pdq_origin")
    with op.batch_alter_table("bank_entries") as batch:
        batch.drop_column("pdq_origin")
    op.drop_table("integrity_heads")
    for table in COVERED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("row_mac")

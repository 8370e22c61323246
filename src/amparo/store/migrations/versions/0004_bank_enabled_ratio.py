"""banks: HMA's matching ratio (per-request sampling of a bank)

Revision ID: 0004_bank_enabled_ratio
Revises: 0003_generation
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_bank_enabled_ratio"
down_revision = "0004_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL = the bank's on/off flag alone decides (ratio 1.0 when enabled), as before this column.
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("enabled_ratio", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("enabled_ratio")

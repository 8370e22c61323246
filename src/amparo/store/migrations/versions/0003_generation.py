"""generation ledger: crop-tolerant PDQ of each returned output

Revision ID: 0003_generation
Revises: 0002_review_evidence
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_generation"
down_revision = "0002_review_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PDQ of the central 80 % of the output: a cropped copy still matches it (provenance/trace.py)
    with op.batch_alter_table("generation_outputs") as batch:
        batch.add_column(sa.Column("pdq_centre", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generation_outputs") as batch:
        batch.drop_column("pdq_centre")

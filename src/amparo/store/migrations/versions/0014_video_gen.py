"""video generation guard: asynchronous video jobs and the vPDQ frames of released videos

Revision ID: 0014_video_gen
Revises: 0008_video
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_video_gen"
down_revision = "0010_exchanges"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "generation_video_jobs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.String(64), nullable=False, unique=True),
        sa.Column("generation_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("account", sa.String(200), nullable=True),
        sa.Column("upstream_id", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("seconds", sa.String(10), nullable=True),
        sa.Column("size", sa.String(20), nullable=True),
        sa.Column("remixed_from", sa.String(64), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("row_mac", sa.String(64), nullable=True),
    )
    op.create_index("ix_generation_video_jobs_generation_id", "generation_video_jobs", ["generation_id"])
    op.create_index("ix_generation_video_jobs_owner", "generation_video_jobs", ["owner"])
    op.create_index("ix_generation_video_jobs_created_at", "generation_video_jobs", ["created_at"])
    op.create_table(
        "generation_video_frames",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "generation_id",
            sa.String(64),
            sa.ForeignKey("generations.generation_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("output_index", sa.Integer(), nullable=False),
        sa.Column("frame_number", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("row_mac", sa.String(64), nullable=True),
    )
    op.create_index("ix_generation_video_frames_gen", "generation_video_frames", ["generation_id", "output_index"])


def downgrade() -> None:
    op.drop_table("generation_video_frames")
    op.drop_table("generation_video_jobs")

"""video banks: banked videos and their frames' PDQ hashes

Revision ID: 0008_video
Revises: 0003_generation
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_video"
down_revision = "0005_integrity"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bank_videos",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("bank_id", _ID, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("md5", sa.String(32), nullable=True),
        sa.Column("opinion", sa.String(20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("sampling", sa.JSON(), nullable=False),
        sa.Column("video", sa.JSON(), nullable=False),
        sa.Column("frame_count", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_mac", sa.String(64), nullable=True),
        sa.UniqueConstraint("bank_id", "digest", name="uq_bank_video_digest"),
    )
    op.create_index("ix_bank_videos_bank_id", "bank_videos", ["bank_id"])
    op.create_index("ix_bank_videos_sha256", "bank_videos", ["sha256"])
    op.create_table(
        "bank_video_frames",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("video_id", _ID, sa.ForeignKey("bank_videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("frame_number", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("row_mac", sa.String(64), nullable=True),
    )
    op.create_index("ix_bank_video_frames_video", "bank_video_frames", ["video_id", "frame_number"])


def downgrade() -> None:
    op.drop_table("bank_video_frames")
    op.drop_table("bank_videos")

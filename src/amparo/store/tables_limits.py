"""Rate-limit counters, kept in the database so that every replica and worker shares them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from amparo.store.tables import Base


class RateLimitRow(Base):
    """One fixed-window counter: `bucket` names who is counted (e.g. "key:<prefix>", "ip:<addr>")."""

    __tablename__ = "rate_limits"
    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger)  # unix seconds
    count: Mapped[int] = mapped_column(Integer)

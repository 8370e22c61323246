"""Fixed-window rate-limit counters in the database: one atomic upsert per check, so concurrent
requests on any replica count exactly (no read-then-write race)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from amparo.store.tables_limits import RateLimitRow


@dataclass(frozen=True)
class Hit:
    count: int  # requests in this window, this one included
    retry_after: int  # seconds until the window ends


def hit(session: Session, *, bucket: str, window_seconds: int, now: float | None = None, n: int = 1) -> Hit:
    """Count `n` requests (default one) in `bucket`'s current window and return the new count."""
    t = int(now if now is not None else time.time())
    start = t - t % window_seconds
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RateLimitRow)
    same_window = RateLimitRow.window_start == start
    stmt = ins.values(bucket=bucket[:200], window_start=start, count=n).on_conflict_do_update(
        index_elements=[RateLimitRow.bucket],
        set_={
            "count": case((same_window, RateLimitRow.count + n), else_=n),
            "window_start": start,
        },
    ).returning(RateLimitRow.count)
    count = int(session.execute(stmt).scalar_one())
    return Hit(count=count, retry_after=max(1, start + window_seconds - t))


def clear(session: Session, *, bucket: str) -> None:
    session.execute(delete(RateLimitRow).where(RateLimitRow.bucket == bucket[:200]))


def refund(session: Session, *, bucket: str) -> None:
    """Give one counted request back (a sign-in that succeeded is not a failure)."""
    session.execute(
        update(RateLimitRow)
        .where(RateLimitRow.bucket == bucket[:200], RateLimitRow.count > 0)
        .values(count=RateLimitRow.count - 1)
    )


def peek(session: Session, *, bucket: str, window_seconds: int, now: float | None = None) -> int:
    """The count in the current window, without counting."""
    t = int(now if now is not None else time.time())
    start = t - t % window_seconds
    row = session.scalar(select(RateLimitRow).where(RateLimitRow.bucket == bucket[:200]))
    return row.count if row is not None and row.window_start == start else 0


def purge(session: Session, *, older_than: int) -> int:
    """Drop counters whose window started before `older_than` (unix seconds)."""
    res = session.execute(delete(RateLimitRow).where(RateLimitRow.window_start < older_than))
    return int(getattr(res, "rowcount", 0) or 0)

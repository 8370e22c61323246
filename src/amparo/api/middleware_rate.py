"""Rate limits per API key and per client address on the API and the proxy (pure ASGI).

Counters live in the database (store/rate_limits_repo.py): every replica and worker shares them, and
one atomic upsert per bucket counts concurrent requests exactly. Over the limit: 429 with Retry-After.
If the database cannot count (e.g. a full disk, or SQLite's single writer held by a bulk import for
over COUNT_WAIT_S), the request is let through: the limiter must not become the outage, and the
request's own writes fail with their own error.

A process does not write once per request (that write was most of a hash lookup's cost): it reserves
a block of requests in one upsert and admits them from memory. A block is at most BLOCK_MAX and at most
1/BLOCK_SHARE of what it believes is left of the limit, so the database's count is never below the
requests admitted and the limit is never exceeded, by any number of processes. Near the limit blocks
shrink to one request (a write per request, as before); a process that stops receiving a client's
requests holds at most its unused block, so that client may be refused that many requests early."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from amparo.api.auth import key_from
from amparo.api.middleware_body import ASGIApp, Receive, Scope, Send
from amparo.store import rate_limits_repo, sqlite_turns

log = logging.getLogger("amparo.api")

# Liveness, readiness and the API's own documentation are never limited.
EXEMPT_PREFIXES = ("/health", "/ready", "/docs", "/redoc", "/openapi.json", "/static/docs")
PURGE_EVERY = 1000  # reservations per process between purges of old windows
BLOCK_MAX = 64  # requests reserved by one write, at most
BLOCK_SHARE = 8  # a block is at most 1/BLOCK_SHARE of the limit's remainder
# A reservation waits at most this long for SQLite's writer (a bulk import holds it for minutes), then
# the request is let through as when the database cannot count.
COUNT_WAIT_S = 0.5
BUSY_LOG_EVERY_S = 60.0
MAX_BUCKETS = 100_000  # buckets remembered per process (then they are reserved one request at a time)


@dataclass
class _Block:
    window_start: int
    tokens: int = 0  # reserved in the database, not yet used
    count: int = 0  # the bucket's count in the database after this process's last reservation


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, db: Any, per_key: int, per_address: int, window_seconds: int) -> None:
        self.app = app
        self.db = db
        self.per_key = per_key
        self.per_address = per_address
        self.window = max(1, window_seconds)
        self._hits = 0
        self._blocks: dict[str, _Block] = {}
        self._lock = threading.Lock()
        self._busy = 0  # requests let through uncounted since the last busy warning
        self._busy_logged = -BUSY_LOG_EVERY_S

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.per_key or self.per_address):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        buckets: list[tuple[str, int]] = []
        if self.per_address:
            client = scope.get("client")
            buckets.append((f"ip:{client[0] if client else 'unknown'}", self.per_address))
        prefix = _key_prefix(key_from(Request(scope)))
        if self.per_key and prefix:
            buckets.append((f"key:{prefix}", self.per_key))
        if self._take_reserved(buckets):
            await self.app(scope, receive, send)
            return
        retry_after = await run_in_threadpool(self._count, buckets)
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        await _too_many(send, retry_after, path)

    def _window_start(self) -> int:
        t = int(time.time())
        return t - t % self.window

    def _take_reserved(self, buckets: list[tuple[str, int]]) -> bool:
        """Admit from reserved blocks when every bucket has one request left in its block."""
        start = self._window_start()
        with self._lock:
            blocks = [self._blocks.get(b) for b, _ in buckets]
            if not all(bl is not None and bl.window_start == start and bl.tokens > 0 for bl in blocks):
                return False
            for bl in blocks:
                bl.tokens -= 1  # type: ignore[union-attr]
            return True

    def _count(self, buckets: list[tuple[str, int]]) -> int | None:
        """Count the request in each bucket, from its block or by reserving a new block; the seconds
        to wait when any bucket is over its limit."""
        start = self._window_start()
        try:
            over: int | None = None
            with sqlite_turns.waiting_at_most(COUNT_WAIT_S), self.db.session() as s:
                for bucket, limit in buckets:
                    with self._lock:
                        bl = self._blocks.get(bucket)
                        if bl is None or bl.window_start != start:
                            bl = _Block(start)
                            if bucket in self._blocks or len(self._blocks) < MAX_BUCKETS:
                                self._blocks[bucket] = bl
                        if bl.tokens > 0:
                            bl.tokens -= 1
                            continue
                        size = max(1, min(BLOCK_MAX, (limit - bl.count) // BLOCK_SHARE))
                    hit = rate_limits_repo.hit(s, bucket=bucket, window_seconds=self.window, n=size)
                    granted = max(0, min(size, limit - (hit.count - size)))  # of this block, within the limit
                    with self._lock:
                        if bl.window_start == start:
                            bl.count = max(bl.count, hit.count)
                            bl.tokens += max(0, granted - 1)  # one is this request's
                    if granted == 0:
                        over = max(over or 0, hit.retry_after)
                self._hits += 1
                if self._hits % PURGE_EVERY == 0:
                    rate_limits_repo.purge(s, older_than=int(time.time()) - 2 * self.window)
            return over
        except sqlite_turns.TurnBusy:  # fail open, as below; a bulk import holds the writer
            self._busy_let_through()
            return None
        except Exception:  # fail open: see the module docstring
            log.warning("rate limiter could not count; request let through", exc_info=True)
            return None

    def _busy_let_through(self) -> None:
        """One warning a minute, with a count, not one per request: an import can last minutes."""
        now = time.monotonic()
        with self._lock:
            self._busy += 1
            if now - self._busy_logged < BUSY_LOG_EVERY_S:
                return
            n, self._busy, self._busy_logged = self._busy, 0, now
        log.warning("rate limiter could not count %d request(s): database writer busy; let through", n)


def _key_prefix(key: str | None) -> str | None:
    """The public part of an `amp_<prefix>_<secret>` key (the secret never reaches the counter)."""
    if not key:
        return None
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "amp" or not parts[1] or len(parts[1]) > 32:
        return None
    return parts[1]


async def _too_many(send: Send, retry_after: int, path: str) -> None:
    message = f"too many requests; retry after {retry_after} s"
    error: dict[str, Any] = {"code": "rate_limited", "message": message}
    if path.startswith("/v1/images"):  # the proxy answers in OpenAI's error shape
        error = {"message": message, "type": "rate_limit_exceeded", "param": None, "code": "rate_limited"}
    body = json.dumps({"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

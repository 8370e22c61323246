"""Rate limits per API key and per client address on the API and the proxy (pure ASGI).

Counters live in the database (store/rate_limits_repo.py): every replica and worker shares them, and
one atomic upsert per bucket counts concurrent requests exactly. Over the limit: 429 with Retry-After.
If the database cannot count (e.g. a full disk), the request is let through: the limiter must not
become the outage, and the request's own writes fail with their own error."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from amparo.api.auth import key_from
from amparo.api.middleware_body import ASGIApp, Receive, Scope, Send
from amparo.store import rate_limits_repo

log = logging.getLogger("amparo.api")

# Liveness, readiness and the API's own documentation are never limited.
EXEMPT_PREFIXES = ("/health", "/ready", "/docs", "/redoc", "/openapi.json", "/static/docs")
PURGE_EVERY = 1000  # hits per process between purges of old windows


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, db: Any, per_key: int, per_address: int, window_seconds: int) -> None:
        self.app = app
        self.db = db
        self.per_key = per_key
        self.per_address = per_address
        self.window = max(1, window_seconds)
        self._hits = 0

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
        retry_after = await run_in_threadpool(self._count, buckets)
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        await _too_many(send, retry_after, path)

    def _count(self, buckets: list[tuple[str, int]]) -> int | None:
        """Count the request in each bucket; the seconds to wait when any is over its limit."""
        try:
            with self.db.session() as s:
                over: int | None = None
                for bucket, limit in buckets:
                    hit = rate_limits_repo.hit(s, bucket=bucket, window_seconds=self.window)
                    if hit.count > limit:
                        over = max(over or 0, hit.retry_after)
                self._hits += 1
                if self._hits % PURGE_EVERY == 0:
                    rate_limits_repo.purge(s, older_than=int(time.time()) - 2 * self.window)
                return over
        except Exception:  # fail open: see the module docstring
            log.warning("rate limiter could not count; request let through", exc_info=True)
            return None


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

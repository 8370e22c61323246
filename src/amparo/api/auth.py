"""API-key authentication and role checks.

Keys are accepted as `Authorization: Bearer <key>`, `X-API-Key: <key>`, or HTTP Basic with the key
as the password (so HMA clients that only take a base URL can use `http://any:KEY@host/`)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request

from amparo.errors import Forbidden, Unauthorized
from amparo.store import keys_repo, sqlite_turns
from amparo.store.keys_repo import ApiPrincipal

# What each role may do. admin may do everything.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {"hash", "lookup", "check", "banks.read", "banks.write", "events.read", "trace", "keys", "appeals", "generate"}
        | {"reports.read", "reports.write"}
    ),
    # "generate": the image proxy (docs/proxy.md): admin and submitter keys only.
    "submitter": frozenset({"hash", "lookup", "check", "appeals", "generate"}),
    "reviewer": frozenset({"hash", "lookup", "check", "banks.read", "events.read", "trace"}),
    "auditor": frozenset({"banks.read", "events.read", "reports.read"}),
}


def key_from(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if auth.lower().startswith("basic "):
        try:
            _, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return password or None
        except Exception:
            return None
    return request.headers.get("x-api-key")


# last_used_at is written at most this often per key and process (a write per request would
# serialise every request on SQLite).
TOUCH_INTERVAL_S = 60.0
_touched: dict[int, float] = {}
_touched_lock = threading.Lock()


def principal(request: Request) -> ApiPrincipal:
    """The caller's key, checked against the database on every request.

    No in-process cache: a key revoked from any process or replica (CLI, another worker) stops
    working at the next request. The check is one primary-key-indexed read."""
    key = key_from(request)
    if not key:
        raise Unauthorized("an API key is required (Authorization: Bearer <key>)")
    service = request.app.state.service
    with service.db.engine.connect() as c:  # a read: no ORM session on every request
        p = keys_repo.authenticate(c, key=key)
    if _due_for_touch(p.key_id):
        # The last-used time may wait for a later request; the request itself must not wait for
        # another writer (a bulk import holds SQLite's writer for minutes, and raw_lookup checks its
        # key in the event loop, where a wait would stall every request of the worker).
        try:
            with sqlite_turns.waiting_at_most(0), service.db.session() as s:
                keys_repo.touch_key(s, key_id=p.key_id)
        except sqlite_turns.TurnBusy:
            _forget_touch(p.key_id)
    request.state.principal = p
    return p


def _due_for_touch(key_id: int) -> bool:
    now = time.monotonic()
    with _touched_lock:
        last = _touched.get(key_id)
        if last is not None and now - last < TOUCH_INTERVAL_S:
            return False
        if len(_touched) > 100_000:
            _touched.clear()
        _touched[key_id] = now
        return True


def _forget_touch(key_id: int) -> None:
    with _touched_lock:
        _touched.pop(key_id, None)


def require(permission: str) -> Callable[..., ApiPrincipal]:
    def dep(request: Request, p: ApiPrincipal = Depends(principal)) -> ApiPrincipal:
        if permission not in ROLE_PERMISSIONS.get(p.role, frozenset()):
            _audit_denial(request, p, permission)
            raise Forbidden(f"role {p.role!r} may not {permission}")
        return p

    return dep


def require_inline(permission: str) -> Callable[..., Any]:
    """As `require`, run in the event loop instead of a worker thread: for routes whose whole work
    is an in-memory lookup, where the thread hand-off cost more than the key check's indexed read."""

    async def dep(request: Request) -> ApiPrincipal:
        p = principal(request)
        if permission not in ROLE_PERMISSIONS.get(p.role, frozenset()):
            _audit_denial(request, p, permission)
            raise Forbidden(f"role {p.role!r} may not {permission}")
        return p

    return dep


def _audit_denial(request: Request, p: ApiPrincipal, permission: str) -> None:
    """A key used beyond its role is recorded (who, what, where), like a denied page in the UI."""
    service = request.app.state.service
    if service.audit is None:
        return
    from amparo.audit import names

    with service.db.session() as s:
        service.audit.record(
            s,
            action=names.ROLE_DENIED,
            subject_type="api",
            subject_id=request.url.path[:100],
            actor=f"apikey:{p.name}"[:100],
            actor_role=p.role,
            details={"permission": permission, "method": request.method, "key_id": p.key_id},
        )

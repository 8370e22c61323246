"""API keys: `amp_<prefix>_<secret>`; only SHA-256 of the secret is stored (keys are random, 256-bit)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from amparo.errors import BadInput, NotFound, Unauthorized
from amparo.store.tables import ApiKeyRow, utcnow

ROLES = ("admin", "submitter", "reviewer", "auditor")


@dataclass(frozen=True)
class ApiPrincipal:
    key_id: int
    name: str
    role: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Columns, not the ORM entity, as one Core statement compiled once: this read runs on every API
# request, and a key revoked anywhere stops working at the next one (no cache in front of it).
_KEY_BY_PREFIX = select(
    ApiKeyRow.id, ApiKeyRow.name, ApiKeyRow.role, ApiKeyRow.secret_hash, ApiKeyRow.revoked_at
).where(ApiKeyRow.prefix == bindparam("prefix"))


def create_key(session: Session, *, name: str, role: str) -> tuple[ApiKeyRow, str]:
    """Returns the row and the full key, which is shown once and never stored."""
    if role not in ROLES:
        raise BadInput(f"bad role {role!r}: one of {', '.join(ROLES)}", code="bad_role")
    if not name or len(name) > 100:
        raise BadInput("a key needs a name of 1..100 characters", code="bad_name")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiKeyRow(name=name, prefix=prefix, secret_hash=_digest(secret), role=role)
    session.add(row)
    session.flush()
    return row, f"amp_{prefix}_{secret}"


def authenticate(db: Session | Connection, *, key: str) -> ApiPrincipal:
    """The principal of `key`, read through a session or a bare connection (the API's per-request
    check uses a connection: a fifth of the ORM session's cost on this path)."""
    parts = (key or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "amp":
        raise Unauthorized("invalid API key")
    row = db.execute(_KEY_BY_PREFIX, {"prefix": parts[1]}).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _digest(parts[2])):
        raise Unauthorized("invalid API key")
    return ApiPrincipal(row.id, row.name, row.role)


def touch_key(session: Session, *, key_id: int) -> None:
    row = session.get(ApiKeyRow, key_id)
    if row is not None:
        row.last_used_at = utcnow()


def list_keys(session: Session) -> list[ApiKeyRow]:
    return list(session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)))


def revoke_key(session: Session, *, prefix: str) -> ApiKeyRow:
    row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
    if row is None:
        raise NotFound(f"no key with prefix {prefix!r}")
    row.revoked_at = utcnow()
    return row

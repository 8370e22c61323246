"""Reviewer accounts: argon2id password hashes (memory-hard), verified in constant effort."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from amparo.audit import names
from amparo.audit.trail import AuditTrail
from amparo.cases.roles import ROLES, Actor
from amparo.errors import BadInput, Conflict
from amparo.store import review_repo
from amparo.store.tables_review import UserRow

MIN_PASSWORD_CHARS = 12
# argon2-cffi's defaults are RFC 9106's second recommendation: argon2id, t=3, m=64 MiB, p=4.
_hasher = PasswordHasher()
# Verified against when the name is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("amparo-no-such-user-placeholder")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session, *, name: str, role: str, password: str, audit: AuditTrail, actor: Actor
) -> UserRow:
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise BadInput("a user name is 1-100 characters without spaces", code="bad_user_name")
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}; one of {', '.join(ROLES)}", code="bad_role")
    if len(password) < MIN_PASSWORD_CHARS:
        raise BadInput(
            f"a password needs at least {MIN_PASSWORD_CHARS} characters", code="weak_password"
        )
    if review_repo.get_user_by_name(session, name=name) is not None:
        raise Conflict(f"user {name!r} exists")
    try:
        with session.begin_nested():
            row = review_repo.insert_user(
                session, name=name, role=role, password_hash=hash_password(password)
            )
    except IntegrityError as e:
        raise Conflict(f"user {name!r} exists") from e
    audit.record(
        session,
        action=names.USER_CREATE,
        subject_type="user",
        subject_id=name,
        actor=actor.name,
        actor_role=actor.role,
        details={"role": role},
    )
    return row


def authenticate(session: Session, *, name: str, password: str) -> UserRow | None:
    """The active user whose password matches, else None (same work either way)."""
    user = review_repo.get_user_by_name(session, name=name)
    if user is None or not user.active:
        check_password(_DUMMY_HASH, password)
        return None
    if not check_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        review_repo.set_password_hash(
            session, user_id=user.id, password_hash=hash_password(password)
        )
    review_repo.touch_sign_in(session, user_id=user.id, at=datetime.now(UTC))
    return user

"""Fixtures of the review room: the database (SQLite and PostgreSQL via the shared
`database_url`), the review components, users of each role."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest

from amparo.cases import build_review_components
from amparo.cases.components import ReviewComponents
from amparo.cases.reviewers import hash_password
from amparo.cases.roles import Actor
from amparo.store import review_repo, schema  # noqa: F401  (schema registers every table)
from amparo.store.database import Database

PASSWORD = "benign-test-password-1"


@pytest.fixture
def db(settings: Any) -> Iterator[Database]:
    database = Database(settings.resolved_database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def review(settings: Any, db: Database) -> ReviewComponents:
    return build_review_components(settings, db)


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2id is slow on purpose: hash once per test run


def make_user(db: Database, review: ReviewComponents, name: str, role: str) -> Actor:
    with db.session() as s:
        u = review_repo.insert_user(s, name=name, role=role, password_hash=password_hash())
        return Actor(name=u.name, role=u.role, user_id=u.id)


@pytest.fixture
def people(db: Database, review: ReviewComponents) -> dict[str, Actor]:
    return {
        role: make_user(db, review, name, role)
        for name, role in [
            ("rita", "reviewer"),
            ("sam", "senior_reviewer"),
            ("ada", "admin"),
            ("otto", "auditor"),
        ]
    } | {
        "reviewer2": make_user(db, review, "rob", "reviewer"),
        "senior2": make_user(db, review, "sue", "senior_reviewer"),
    }

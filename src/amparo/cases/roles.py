"""Reviewer roles and what each may do. Auditors see records and statistics, never content."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    REVIEWER = "reviewer"
    SENIOR_REVIEWER = "senior_reviewer"
    ADMIN = "admin"
    AUDITOR = "auditor"


ROLES = tuple(r.value for r in Role)

# Permissions are stored nowhere; they are the code's contract with the roles.
VIEW_CASES = "view_cases"
DECIDE = "decide"
DECIDE_ESCALATED = "decide_escalated"
BANK_HASHES = "bank_hashes"
REVEAL = "reveal"
EXPORT = "export"
FILE_APPEAL = "file_appeal"
DECIDE_APPEAL = "decide_appeal"
VIEW_STATS = "view_stats"
VIEW_AUDIT = "view_audit"
MANAGE = "manage"

_CONTENT = {VIEW_CASES, DECIDE, REVEAL, FILE_APPEAL}
PERMISSIONS: dict[str, frozenset[str]] = {
    Role.REVIEWER: frozenset(_CONTENT | {VIEW_STATS}),
    Role.SENIOR_REVIEWER: frozenset(
        _CONTENT | {VIEW_STATS, DECIDE_ESCALATED, BANK_HASHES, EXPORT, DECIDE_APPEAL}
    ),
    Role.ADMIN: frozenset(
        _CONTENT
        | {VIEW_STATS, DECIDE_ESCALATED, BANK_HASHES, EXPORT, DECIDE_APPEAL, VIEW_AUDIT, MANAGE}
    ),
    Role.AUDITOR: frozenset({VIEW_STATS, VIEW_AUDIT}),
}


def allowed(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in person (user_id set) or Amparo itself."""

    name: str
    role: str
    user_id: int | None = None

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)


SYSTEM = Actor(name="amparo", role="system")

"""How long evidence is kept, per policy profile.

US 18 U.S.C. § 2258A(h) (REPORT Act 2024): reported material is preserved for one year.
GDPR Art. 5(1)(e): everything else is deleted when its purpose ends. Spanish preservation
orders (LECrim art. 588 octies, 90 days extendable to 180) and other orders are legal holds
with their own end date, on top of these defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetentionProfile:
    name: str
    reported_days: int = 365
    unreported_days: int = 90

    def retain_until(self, *, start: datetime, reported: bool) -> datetime:
        return start + timedelta(days=self.reported_days if reported else self.unreported_days)


DEFAULT_PROFILE = "default"
RETENTION_PROFILES: dict[str, RetentionProfile] = {
    DEFAULT_PROFILE: RetentionProfile(DEFAULT_PROFILE),
    "us": RetentionProfile("us", reported_days=365, unreported_days=90),
    "eu-es": RetentionProfile("eu-es", reported_days=365, unreported_days=90),
}


def profile_for(
    name: str | None, profiles: dict[str, RetentionProfile] | None = None
) -> RetentionProfile:
    table = profiles or RETENTION_PROFILES
    return table.get(name or DEFAULT_PROFILE) or table[DEFAULT_PROFILE]

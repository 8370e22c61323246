"""Self-submissions: hashes in, a case number and a secret out; status and withdrawal later.

The hashes go into a bank through `amparo.banks.management` (so the audit trail, `index_changes`
and whatever the exchanges derive from bank changes see them):
  - `self-submitted-ncii` (category `ncii`) for adults,
  - `self-submitted-minors` (category `csam`) when the person says they were under 18,
both with source `self-submitted` and entry metadata `{"self_submitted": true}`, created on first
use. Policy never takes a match to them for verified material: `hash.csam_self_submitted` labels
it `csam_suspected` (block, preserve, high-priority review; no automatic legal report), not
`csam_known` (default.yaml, docs/protect.md).

The secret is shown once and kept only as an HMAC-SHA256 under a key derived from the session
secret. A withdrawal removes the case's hashes from every self-submitted bank, except a hash that
another person's active case also holds."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from amparo.audit import names
from amparo.banks import management
from amparo.domain.matches import SELF_SUBMITTED_SOURCE
from amparo.errors import BadInput, Conflict, NotFound
from amparo.protect.config import ProtectSettings
from amparo.signals.hashes.cryptographic import MD5
from amparo.signals.hashes.pdq import normalise_pdq
from amparo.store import banks_repo, protect_repo
from amparo.store.banks_repo import NewEntry
from amparo.store.database import Database

BANK_ADULTS = "self-submitted-ncii"
BANK_MINORS = "self-submitted-minors"
ROLE = "self_submitter"
KINDS = ("image", "video")
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


@dataclass(frozen=True)
class SubmittedHash:
    signal_type: str  # pdq | md5
    value: str
    kind: str  # image | video
    quality: int | None = None  # PDQ quality, as the browser computed it


@dataclass(frozen=True)
class Receipt:
    case_number: str
    secret: str  # shown once; never stored
    category: str
    banked: int
    skipped: list[dict[str, Any]]


def derive_key(session_secret: bytes, purpose: str) -> bytes:
    return hmac.new(session_secret, f"amparo/protect/{purpose}/v1".encode(), hashlib.sha256).digest()


def _code(groups: int, size: int) -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(size)) for _ in range(groups))


def canonical(code: str) -> str:
    """Case numbers and secrets as typed: case, spaces, dashes and look-alike letters do not matter."""
    return "".join(ch for ch in (code or "").upper().translate(_LOOKALIKES) if ch.isalnum())[:64]


class SelfSubmissions:
    def __init__(self, db: Database, audit: Any, *, key: bytes, config: ProtectSettings, quality_floor: int) -> None:
        self.db = db
        self.audit = audit
        self.key = key
        self.config = config
        self.quality_floor = quality_floor

    # -- submit --------------------------------------------------------------------------

    def validate(self, hashes: list[SubmittedHash]) -> tuple[list[SubmittedHash], list[dict[str, Any]]]:
        """The hashes to bank (normalised, deduplicated) and those left out with the reason."""
        if not hashes:
            raise BadInput("no hashes in the submission", code="no_hashes")
        if len(hashes) > 2 * self.config.max_files:
            raise BadInput(f"at most {self.config.max_files} files per submission", code="too_many_hashes")
        keep: dict[tuple[str, str], SubmittedHash] = {}
        skipped: list[dict[str, Any]] = []
        for h in hashes:
            if h.kind not in KINDS:
                raise BadInput("kind is image or video", code="bad_kind")
            if h.signal_type == "pdq":
                if h.kind != "image":
                    raise BadInput("PDQ hashes are for images", code="bad_signal_type")
                value = normalise_pdq(h.value)
                if h.quality is None or not 0 <= h.quality <= 100:
                    raise BadInput("a PDQ hash needs its quality (0-100)", code="bad_quality")
                if h.quality < self.quality_floor:
                    skipped.append({"signal_type": "pdq", "reason": "low_quality", "quality": h.quality})
                    continue
            elif h.signal_type == "md5":
                value = MD5.normalise(h.value)
            else:
                raise BadInput("only pdq and md5 hashes are accepted", code="bad_signal_type")
            keep.setdefault((h.signal_type, value), SubmittedHash(h.signal_type, value, h.kind, h.quality))
        if not keep:
            raise BadInput("no usable hash in the submission", code="no_usable_hashes")
        return list(keep.values()), skipped

    def submit(self, *, hashes: list[SubmittedHash], under_18: bool, language: str, pow_nonce: str) -> Receipt:
        try:
            return self._submit(hashes=hashes, under_18=under_18, language=language, pow_nonce=pow_nonce)
        except IntegrityError:  # two requests raced with the same solved challenge: one wins
            raise BadInput("this proof-of-work challenge was already used", code="challenge_spent") from None

    def _submit(self, *, hashes: list[SubmittedHash], under_18: bool, language: str, pow_nonce: str) -> Receipt:
        usable, skipped = self.validate(hashes)
        category = "csam" if under_18 else "ncii"
        bank = BANK_MINORS if under_18 else BANK_ADULTS
        secret = _code(5, 5)
        with self.db.session() as s:
            if protect_repo.nonce_spent(s, pow_nonce=pow_nonce):
                raise BadInput("this proof-of-work challenge was already used", code="challenge_spent")
        self._ensure_bank(bank, category)
        with self.db.session() as s:
            if protect_repo.nonce_spent(s, pow_nonce=pow_nonce):
                raise BadInput("this proof-of-work challenge was already used", code="challenge_spent")
            case_number = "P-" + _code(2, 4)
            while protect_repo.case_number_taken(s, case_number=case_number):
                case_number = "P-" + _code(2, 4)
            who = management.Acting(self.audit, f"protect:{case_number}", ROLE)
            entries = [
                NewEntry(
                    h.signal_type,
                    h.value,
                    "positive",
                    None,
                    None,
                    {"self_submitted": True, "kind": h.kind},
                    pdq_origin="imported" if h.signal_type == "pdq" else None,
                )
                for h in usable
            ]
            ids = management.add_entries(s, who, bank=bank, entries=entries, via="self-submission")
            row = protect_repo.insert_case(
                s,
                case_number=case_number,
                secret_hash=self._secret_hash(secret),
                category=category,
                bank=bank,
                language=language,
                pow_nonce=pow_nonce,
            )
            protect_repo.add_case_entries(
                s, case_id=row.id, items=[(h.signal_type, h.value, h.kind, i) for h, i in zip(usable, ids, strict=True)]
            )
            self._record(
                s,
                names.PROTECT_SUBMIT,
                case_number,
                {
                    "category": category,
                    "bank": bank,
                    "hashes": dict(Counter(h.signal_type for h in usable)),
                    "kinds": dict(Counter(h.kind for h in usable)),
                    "skipped": len(skipped),
                    "entry_ids": ids[:100],
                },
            )
        return Receipt(case_number, secret, category, len(ids), skipped)

    def _ensure_bank(self, bank: str, category: str) -> None:
        """Create the bank on first use, in its own transaction (a concurrent first submission may
        create it first: then this one uses it)."""
        with self.db.session() as s:
            try:
                banks_repo.get_bank(s, name=bank)
                return
            except NotFound:
                pass
        try:
            with self.db.session() as s:
                management.create_bank(
                    s,
                    management.Acting(self.audit, "protect", ROLE),
                    name=bank,
                    category=category,
                    source=SELF_SUBMITTED_SOURCE,
                    description="Hashes people submitted of their own images on /protect (unverified)",
                    pdq_threshold=self.config.pdq_threshold,
                )
        except (IntegrityError, Conflict):  # created meanwhile by a concurrent first submission
            pass

    # -- status and withdrawal -----------------------------------------------------------

    def status(self, *, case_number: str, secret: str) -> dict[str, Any]:
        with self.db.session() as s:
            row = self._authorised(s, case_number, secret)
            return self._view(s, row)

    def withdraw(self, *, case_number: str, secret: str) -> dict[str, Any]:
        with self.db.session() as s:
            row = self._authorised(s, case_number, secret)
            if row.status == protect_repo.WITHDRAWN:
                return self._view(s, row)
            who = management.Acting(self.audit, f"protect:{row.case_number}", ROLE)
            by_bank: dict[str, list[int]] = defaultdict(list)
            kept = 0
            for e in protect_repo.case_entries(s, case_id=row.id):
                if protect_repo.held_by_other_active_case(s, signal_type=e.signal_type, value=e.value, case_id=row.id):
                    kept += 1
                    continue
                for info in banks_repo.lookup_exact(s, signal_type=e.signal_type, value=e.value):
                    if info.bank_source == SELF_SUBMITTED_SOURCE:
                        by_bank[info.bank_name].append(info.entry_id)
            removed = 0
            for bank, ids in sorted(by_bank.items()):
                removed += management.remove_entries(s, who, bank=bank, entry_ids=sorted(set(ids)))
            protect_repo.mark_withdrawn(s, case_id=row.id, at=datetime.now(UTC))
            self._record(
                s,
                names.PROTECT_WITHDRAW,
                row.case_number,
                {"removed": removed, "kept_for_other_cases": kept, "banks": sorted(by_bank)},
            )
            s.refresh(row)
            return self._view(s, row)

    def _authorised(self, s: Any, case_number: str, secret: str) -> Any:
        number = canonical(case_number)
        row = None
        if len(number) == 9 and number.startswith("P"):
            row = protect_repo.get_case(s, case_number=f"P-{number[1:5]}-{number[5:]}")
        # compare even when there is no such case, so that timing does not tell which it was
        expected = row.secret_hash if row is not None else "0" * 64
        if not hmac.compare_digest(expected, self._secret_hash(secret)) or row is None:
            raise NotFound("no case with this number and secret", code="no_such_case")
        return row

    def _secret_hash(self, secret: str) -> str:
        return hmac.new(self.key, canonical(secret).encode(), hashlib.sha256).hexdigest()

    def _view(self, s: Any, row: Any) -> dict[str, Any]:
        entries = protect_repo.case_entries(s, case_id=row.id)
        return {
            "case_number": row.case_number,
            "status": row.status,
            "category": row.category,
            "created_at": _iso(row.created_at),
            "withdrawn_at": _iso(row.withdrawn_at),
            "hashes": dict(Counter(e.signal_type for e in entries)),
            "kinds": dict(Counter(e.kind for e in entries)),
            "banked": sum(1 for e in entries if e.entry_id is not None),
        }

    def _record(self, s: Any, action: str, case_number: str, details: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.record(
                s,
                action=action,
                subject_type="protect_case",
                subject_id=case_number,
                actor=f"protect:{case_number}",
                actor_role=ROLE,
                details=details,
            )


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")

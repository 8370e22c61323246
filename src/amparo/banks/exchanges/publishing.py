"""Amparo-to-Amparo publishing: partners pull chosen banks as signed pages of the bank change feed.

A page lists changes after the partner's cursor (`add` with the hash and opinion, `remove` as a
tombstone with the hash: whatever removed it, a reviewer, a victim's withdrawal on /protect, a
sync). The page is signed with this instance's exchange key (Ed25519, `keys/exchange/`); the
partner pins the public key and refuses any page whose signature does not verify.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from amparo.audit.signing import AuditSigner, key_id_of, public_hex, public_key_from_hex, verify_signature
from amparo.errors import BadInput, Forbidden, NotFound
from amparo.store import banks_repo, exchanges_repo
from amparo.store.tables_exchanges import PartnerRow

MAX_PAGE = 5000
FORMAT = "amparo-exchange/1"


def exchange_signer(keys_dir: Path) -> AuditSigner:
    """This instance's exchange signing key (its own key pair, apart from the audit key)."""
    return AuditSigner.load_or_create(keys_dir / "exchange")


def signing_message(page: dict[str, Any]) -> bytes:
    body = {k: page[k] for k in ("format", "bank", "cursor", "next_cursor", "has_more", "records", "key_id")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def check_permission(partner: PartnerRow, bank: str) -> None:
    if bank not in (partner.banks or []):
        # Same answer for "no such bank" and "not yours": bank names are not disclosed.
        raise Forbidden(f"partner {partner.name!r} may not pull bank {bank!r}")


def build_page(
    session: Any, signer: AuditSigner, *, partner: PartnerRow, bank: str, cursor: int, limit: int
) -> dict[str, Any]:
    check_permission(partner, bank)
    if cursor < 0:
        raise BadInput("cursor must be ≥ 0", code="bad_cursor")
    if not 1 <= limit <= MAX_PAGE:
        raise BadInput(f"limit must be 1..{MAX_PAGE}", code="bad_limit")
    try:
        b = banks_repo.get_bank(session, name=bank)
    except NotFound:
        raise Forbidden(f"partner {partner.name!r} may not pull bank {bank!r}") from None
    rows = exchanges_repo.bank_changes_after(session, bank_id=b.id, seq=cursor, limit=limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    records = [
        {"seq": r.seq, "op": r.op, "signal_type": r.signal_type, "value": r.value, "opinion": r.opinion} for r in rows
    ]
    page: dict[str, Any] = {
        "format": FORMAT,
        "bank": bank,
        "category": b.category,
        "cursor": cursor,
        "next_cursor": rows[-1].seq if rows else cursor,
        "has_more": has_more,
        "records": records,
        "key_id": signer.key_id,
    }
    page["signature"] = signer.sign(signing_message(page))
    return page


def verify_page(page: dict[str, Any], public_key_hex: str) -> None:
    """Raises BadInput unless the page is signed by the pinned key."""
    try:
        key = public_key_from_hex(public_key_hex)
    except Exception as e:
        raise BadInput(f"bad pinned public key: {e}", code="bad_public_key") from None
    if page.get("format") != FORMAT:
        raise BadInput(f"unknown page format {str(page.get('format'))[:40]!r}", code="bad_page")
    if page.get("key_id") != key_id_of(key):
        raise BadInput("page signed by a key other than the pinned one", code="bad_signature")
    try:
        message = signing_message(page)
    except KeyError as e:
        raise BadInput(f"page lacks {e}", code="bad_page") from None
    if not verify_signature(key, str(page.get("signature", "")), message):
        raise BadInput("page signature does not verify", code="bad_signature")


def public_key_info(signer: AuditSigner) -> dict[str, str]:
    return {"format": FORMAT, "key_id": signer.key_id, "public_key": public_hex(signer.public), "algorithm": "Ed25519"}

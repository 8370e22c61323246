"""Which audit signing keys a verifier trusts: a pinned root, then only what the chain itself says.

Trust never comes from a public key file that happens to sit in keys/ (anyone who can write
that directory could drop one in). The root is the pinned key id ($AMPARO_AUDIT_KEY_ID, or when
unset the key whose private half this installation holds). From the root, trust extends only
through records in the chain signed by an already trusted key:

* `audit.key_rotated`: the old key names its successor (written by `amparo audit rotate-key`).
  Trust flows forward (old trusted → new trusted) and backward (new trusted, and the record
  right after the rotation is signed by the new key and chained to it → the old key, whose
  public half the rotation record carries, is trusted: the new key's signature commits to it);
* `audit.key_trusted`: an admin vouches for a key (e.g. one used before keys were pinned),
  written by `amparo audit trust-key`: an audited admin act like any other.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from amparo.audit import names
from amparo.audit.canonical import record_hash
from amparo.audit.signing import (
    PUBLIC_KEY_FILE,
    RETIRED_PUBLIC_KEY,
    key_id_of,
    public_key_from_hex,
    verify_signature,
)
from amparo.store import audit_repo

TRUST_ACTIONS = (names.AUDIT_KEY_ROTATED, names.AUDIT_KEY_TRUSTED, names.KEY_CREATED)


def _record_ok(row: object, key: Ed25519PublicKey) -> bool:
    from amparo.audit.trail import record_fields, record_signing_message

    fields = record_fields(row)
    h = str(row.hash)  # type: ignore[attr-defined]
    return record_hash(fields) == h and verify_signature(key, str(row.signature), record_signing_message(h))  # type: ignore[attr-defined]


def root_keys(
    session: Session, *, local: Ed25519PublicKey, pinned_key_id: str | None, keys_dir: Path
) -> dict[str, Ed25519PublicKey]:
    """The trust root: the pinned key (its public half found wherever it hashes to the id)."""
    if not pinned_key_id or pinned_key_id == key_id_of(local):
        return {key_id_of(local): local}
    candidates: list[str] = []
    for p in (keys_dir / PUBLIC_KEY_FILE, keys_dir / RETIRED_PUBLIC_KEY.format(key_id=pinned_key_id)):
        if p.exists():
            candidates.append(p.read_text())
    for row in audit_repo.list_records(session, limit=1_000_000, action=names.KEY_CREATED):
        pk = (row.details or {}).get("public_key")
        if isinstance(pk, str):
            candidates.append(pk)
    for text in candidates:
        try:
            pub = public_key_from_hex(text)
        except Exception:
            continue
        if key_id_of(pub) == pinned_key_id:  # the id is a hash of the key: a match cannot be forged
            return {pinned_key_id: pub}
    return {}


def _pub(value: object) -> Ed25519PublicKey | None:
    if not isinstance(value, str):
        return None
    try:
        return public_key_from_hex(value)
    except Exception:
        return None


def _successor_vouches(session: Session, row: object, new: Ed25519PublicKey) -> bool:
    nxt = audit_repo.get_record(session, seq=int(row.seq) + 1)  # type: ignore[attr-defined]
    return (
        nxt is not None
        and nxt.key_id == key_id_of(new)
        and nxt.prev_hash == row.hash  # type: ignore[attr-defined]
        and _record_ok(nxt, new)
    )


def trusted_keys(session: Session, roots: dict[str, Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """The roots plus every key the chain vouches for through records signed by trusted keys."""
    trusted = dict(roots)
    statements = [
        r
        for action in (names.AUDIT_KEY_ROTATED, names.AUDIT_KEY_TRUSTED)
        for r in audit_repo.list_records(session, limit=1_000_000, action=action)
    ]
    changed = True
    while changed:
        changed = False
        for row in statements:
            signer = trusted.get(row.key_id)
            if signer is None and row.action == names.AUDIT_KEY_ROTATED:
                old, new = (
                    _pub((row.details or {}).get("previous_public_key")),
                    _pub((row.details or {}).get("public_key")),
                )
                if (
                    old is not None
                    and new is not None
                    and key_id_of(old) == row.key_id
                    and key_id_of(new) in trusted
                    and _record_ok(row, old)
                    and _successor_vouches(session, row, trusted[key_id_of(new)])
                ):
                    trusted[row.key_id] = old
                    changed = True
                continue
            if signer is None or not _record_ok(row, signer):
                continue
            value = (row.details or {}).get("public_key")
            if not isinstance(value, str):
                continue
            try:
                pub = public_key_from_hex(value)
            except Exception:
                continue
            kid = key_id_of(pub)
            if kid not in trusted:
                trusted[kid] = pub
                changed = True
    return trusted

"""Offline check of an evidence package (a ZIP or its unpacked folder): no database, no Amparo keys.

Checks, naming every file that fails: the Ed25519 signature on SHA256SUMS (with the key in the package, or
a key the verifier pins with `public_key_hex`), the SHA-256 of every listed file, files present but not
listed, the signed checkpoint, and each custody record's hash and signature.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from amparo.audit.canonical import canonical_json, record_hash
from amparo.audit.signing import key_id_of, public_hex

UNSIGNED = ("SHA256SUMS", "SHA256SUMS.sig")
RECORD_MESSAGE = b"amparo-audit-record/1:"


@dataclass
class PackageCheck:
    ok: bool = True
    files_checked: int = 0
    bad_files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    key_id: str | None = None

    def fail(self, name: str | None, problem: str) -> None:
        self.ok = False
        if name and name not in self.bad_files:
            self.bad_files.append(name)
        self.problems.append(problem)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "files_checked": self.files_checked,
            "bad_files": self.bad_files,
            "problems": self.problems,
            "key_id": self.key_id,
        }


def _read_all(path: Path, check: PackageCheck) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                out[p.relative_to(path).as_posix()] = p.read_bytes()
        return out
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        check.fail(path.name, f"{path.name}: not a readable ZIP ({e})")
        return out
    with z:
        for info in z.infolist():
            if info.is_dir():
                continue
            try:
                out[info.filename] = z.read(info)
            except (zipfile.BadZipFile, OSError, ValueError, zlib.error) as e:
                # a flipped byte fails the ZIP's CRC or the inflater: name the member
                check.fail(info.filename, f"{info.filename}: damaged ({e})")
                out[info.filename] = b""
    return out


def _verify(pub: Ed25519PublicKey, sig: bytes, msg: bytes) -> bool:
    try:
        pub.verify(sig, msg)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_package(path: Path, *, public_key_hex: str | None = None) -> PackageCheck:
    check = PackageCheck()
    files = _read_all(path, check)
    if not files:
        if check.ok:
            check.fail(None, "the package is empty")
        return check
    try:
        pub_pem = files["keys/audit_ed25519_public.pem"]
        loaded = serialization.load_pem_public_key(pub_pem)
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError("not Ed25519")
        pub: Ed25519PublicKey = loaded
    except (KeyError, ValueError) as e:
        check.fail("keys/audit_ed25519_public.pem", f"the audit public key is missing or unreadable ({e})")
        return check
    if public_key_hex is not None and public_hex(pub).lower() != public_key_hex.strip().lower():
        check.fail("keys/audit_ed25519_public.pem", "the package's audit key is not the key you trust")
    check.key_id = key_id_of(pub)
    sums = files.get("SHA256SUMS")
    sig = files.get("SHA256SUMS.sig")
    if sums is None or sig is None:
        check.fail("SHA256SUMS", "SHA256SUMS or its signature is missing")
        return check
    if not _verify(pub, sig, sums):
        check.fail("SHA256SUMS", "SHA256SUMS: the signature does not verify (the list was changed)")
    listed: dict[str, str] = {}
    for line in sums.decode("utf-8", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        if name:
            listed[name] = digest
    for name, digest in listed.items():
        data = files.get(name)
        if data is None:
            check.fail(name, f"{name}: missing")
            continue
        check.files_checked += 1
        if hashlib.sha256(data).hexdigest() != digest:
            check.fail(name, f"{name}: SHA-256 differs from SHA256SUMS")
    for name in files:
        if name not in listed and name not in UNSIGNED:
            check.fail(name, f"{name}: not listed in SHA256SUMS")
    _check_custody(files, pub, check)
    return check


def _check_custody(files: dict[str, bytes], pub: Ed25519PublicKey, check: PackageCheck) -> None:
    body = files.get("custody/checkpoint_body.json", b"")
    csig = files.get("custody/checkpoint.sig", b"")
    if not _verify(pub, csig, body):
        check.fail("custody/checkpoint.sig", "the audit checkpoint's signature does not verify")
    excerpt = files.get("custody/audit_excerpt.jsonl", b"")
    for n, line in enumerate(excerpt.splitlines(), start=1):
        try:
            rec = json.loads(line)
            ok = record_hash(rec) == rec["hash"] and _verify(
                pub, bytes.fromhex(rec["signature"]), RECORD_MESSAGE + rec["hash"].encode("ascii")
            )
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            check.fail(
                "custody/audit_excerpt.jsonl", f"custody/audit_excerpt.jsonl line {n}: record hash or signature fails"
            )
    try:
        cp = json.loads(files.get("custody/checkpoint.json", b"{}"))
        signed = {k: cp[k] for k in ("format", "seq", "hash", "created_at", "key_id")}
        if canonical_json(signed) != body:
            check.fail("custody/checkpoint.json", "custody/checkpoint.json differs from the signed checkpoint body")
    except (ValueError, KeyError):
        check.fail("custody/checkpoint.json", "custody/checkpoint.json is unreadable")

"""The evidence package's summary PDF, in Spanish and in English (the same facts, twice)."""

from __future__ import annotations

from typing import Any

from amparo.reports.pdf import render_pdf

_T = {
    "es": {
        "title": "Paquete de pruebas {id}",
        "intro": "Generado por Amparo el {created} por {by}. Finalidad: {purpose}.",
        "scope": "Ámbito",
        "counts": "Contenido: {cases} casos, {items} elementos, {ledger} registros de generación, "
        "{custody} registros de custodia.",
        "items": "Elementos conservados",
        "item": "{file}: {media_type}, {size} bytes, SHA-256 {sha256}, capturado {captured_at}.",
        "decisions": "Decisiones",
        "decision": "Caso {case_id}: etiquetas {labels}; detectado por {system}; revisión humana: {outcome}; "
        "revisores: {reviewers}.",
        "ledger": "Registro de generación",
        "gen": "{generation_id} ({created_at}), cuenta {account}, modelo {model}, decisión {decision}.",
        "verify": "Verificación",
        "verify_text": "SHA256SUMS enumera el SHA-256 de cada fichero y está firmado (Ed25519) con la clave "
        "de auditoría keys/audit_ed25519_public.pem (id {key}). El punto de control firmado cubre el registro "
        "de auditoría hasta el número {seq}. Procedimiento sin Amparo: sha256sum -c SHA256SUMS y "
        "openssl pkeyutl -verify (véase docs/reports.md).",
        "sealed": "Los elementos están cifrados para la clave pública del destinatario.",
    },
    "en": {
        "title": "Evidence package {id}",
        "intro": "Built by Amparo on {created} by {by}. Purpose: {purpose}.",
        "scope": "Scope",
        "counts": "Contents: {cases} cases, {items} items, {ledger} generation records, {custody} custody records.",
        "items": "Preserved items",
        "item": "{file}: {media_type}, {size} bytes, SHA-256 {sha256}, captured {captured_at}.",
        "decisions": "Decisions",
        "decision": "Case {case_id}: labels {labels}; detected by {system}; human review: {outcome}; "
        "reviewers: {reviewers}.",
        "ledger": "Generation ledger",
        "gen": "{generation_id} ({created_at}), account {account}, model {model}, decision {decision}.",
        "verify": "Verification",
        "verify_text": "SHA256SUMS lists the SHA-256 of every file and is signed (Ed25519) with the audit key "
        "keys/audit_ed25519_public.pem (id {key}). The signed checkpoint covers the audit trail up to record "
        "{seq}. Without Amparo: sha256sum -c SHA256SUMS and openssl pkeyutl -verify (see docs/reports.md).",
        "sealed": "The items are encrypted to the recipient's public key.",
    },
}


def summary_pdf(
    manifest: dict[str, Any], records: list[dict[str, Any]], items: list[dict[str, Any]], ledger: list[dict[str, Any]]
) -> bytes:
    paras: list[tuple[str, str]] = []
    for lang in ("es", "en"):
        t = _T[lang]
        paras.append(("h", t["title"].format(id=manifest["package_id"])))
        paras.append(
            (
                "p",
                t["intro"].format(
                    created=manifest["created_at"], by=manifest["created_by"], purpose=manifest["purpose"]
                ),
            )
        )
        scope = ", ".join(f"{k}={v}" for k, v in manifest["scope"].items() if v is not None)
        paras.append(("p", f"{t['scope']}: {scope}"))
        paras.append(("p", t["counts"].format(**manifest["counts"])))
        if manifest.get("sealed_to_recipient"):
            paras.append(("p", t["sealed"]))
        paras.append(("h", t["items"]))
        paras.extend(("p", t["item"].format(**i)) for i in items)
        paras.append(("h", t["decisions"]))
        for r in records:
            paras.append(
                (
                    "p",
                    t["decision"].format(
                        case_id=r.get("case_id"),
                        labels=", ".join(r.get("labels") or []),
                        system=r.get("system"),
                        outcome=r.get("reviewer_outcome") or "-",
                        reviewers=", ".join(r.get("reviewers") or []) or "-",
                    ),
                )
            )
        if ledger:
            paras.append(("h", t["ledger"]))
            paras.extend(("p", t["gen"].format(**g)) for g in ledger)
        paras.append(("h", t["verify"]))
        paras.append(("p", t["verify_text"].format(key=manifest["audit_key_id"], seq=manifest["checkpoint"]["seq"])))
    return render_pdf(paras, title=f"Amparo evidence package {manifest['package_id']}")

"""`amparo verify`: check the audit chain and every sealed row; name the first broken one.

Exit status 0 when everything holds, 1 when something is broken, 2 on usage or configuration
errors (docs/cli.md). `--seal-existing` (once, after upgrading to 0005) seals rows written before
sealing existed; `--repair-pdq` replaces evidence PDQ values from the old fast decode by the
reference hash of the kept bytes. Both are admin acts recorded in the audit trail."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import typer

from amparo.audit import names
from amparo.cli.context import open_service
from amparo.cli.output import emit, fail
from amparo.errors import AmparoError
from amparo.integrity.verify import check_all
from amparo.store import integrity_marker, integrity_repo


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def run_verify(svc: Any, *, external: list[dict[str, Any]] | None = None, files: bool = False) -> dict[str, Any]:
    """Everything `amparo verify` checks, as one report (also used by tests)."""
    sealer = svc.db.sealer
    with svc.db.session() as s:
        audit = svc.audit.verify_chain(s, external_checkpoints=external or [])
        tables = check_all(s, sealer)
        if audit.ok:
            integrity_marker.write(s, sealer, audit.head_seq, audit.head_hash)
    problems = [str(t.problem) for t in tables if not t.ok]
    evidence: list[str] = []
    if files and svc.vault is not None:
        with svc.db.session() as s:
            evidence = list(svc.vault.verify_all(s))
        problems += [f"evidence file: {p}" for p in evidence]
    first = None
    if not audit.ok:
        first = f"audit record {audit.first_broken_seq}: {audit.problem}"
    elif problems:
        first = problems[0]
    out: dict[str, Any] = {
        "ok": audit.ok and not problems,
        "first_broken": first,
        "audit": audit.to_dict(),
        "tables": [t.to_dict() for t in tables],
        "problems": problems,
    }
    if files:
        out["evidence_files_checked"] = True
    return out


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        checkpoint: list[Path] = typer.Option([], "--checkpoint", help="Also check an exported audit checkpoint."),
        seal_existing: bool = typer.Option(False, "--seal-existing", help="Seal rows written before 0005 (audited)."),
        repair_pdq: bool = typer.Option(False, "--repair-pdq", help="Re-hash legacy evidence PDQ values (audited)."),
        files: bool = typer.Option(False, "--files", help="Also decrypt and check every evidence file (slow)."),
    ) -> None:
        """Check the audit chain and the MAC of every ledger, event, bank, case and evidence row."""
        external = []
        for p in checkpoint:
            try:
                external.append(json.loads(p.read_text()))
            except (OSError, ValueError) as e:
                raise fail(f"cannot read checkpoint {p}: {e}") from None
        svc = open_service(load_detectors=False)
        sealer = svc.db.sealer
        if sealer is None or svc.audit is None:
            svc.close()
            raise fail("this installation has no integrity key or audit trail to verify")
        try:
            extra: dict[str, Any] = {}
            if seal_existing:
                with svc.db.session() as s:
                    counts = integrity_repo.seal_existing(s, sealer)
                    svc.audit.record(
                        s,
                        action=names.INTEGRITY_SEAL_EXISTING,
                        subject_type="integrity",
                        subject_id="*",
                        actor=_actor(),
                        actor_role="admin",
                        details={k: v for k, v in counts.items() if v},
                    )
                extra["sealed"] = counts
            if repair_pdq:
                with svc.db.session() as s:
                    extra["pdq_repair"] = svc.vault.rehash_legacy_pdq(s, actor=_actor())
            report = {**run_verify(svc, external=external, files=files), **extra}
        except AmparoError as e:
            raise fail(e.message) from None
        finally:
            svc.close()
        if report["ok"]:
            rows = sum(t["rows"] for t in report["tables"])
            text = (
                f"intact: audit chain of {report['audit']['records']} records, "
                f"{rows} sealed rows in {len(report['tables'])} tables"
            )
        else:
            text = f"BROKEN: {report['first_broken']}"
            for p in report["problems"][1:]:
                text += f"\n  also: {p}"
        emit(report, as_json=as_json, text=text)
        if not report["ok"]:
            raise typer.Exit(1)

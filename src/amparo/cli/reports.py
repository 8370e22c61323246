"""`amparo reports ...`: the legal-report queue (NCMEC, DSA statements), the DSA transparency report, the
Art. 17 statement to a user, and evidence packages. Every submission and package is in the audit trail."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import typer

from amparo.cli.output import emit, fail
from amparo.errors import AmparoError

ACTOR_ROLE = "admin"


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


def _day(value: str, what: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time.min, tzinfo=UTC)
    except ValueError:
        raise fail(f"{what} must be a date YYYY-MM-DD, got {value!r}") from None


def _reports() -> Any:
    from amparo.cli.context import open_service
    from amparo.reports.service import build_reports

    svc = open_service(load_detectors=False)
    try:
        return build_reports(svc)
    except AmparoError as e:
        raise fail(e.message) from None


def register(app: typer.Typer) -> None:
    rp = typer.Typer(help="Legal reports: NCMEC, DSA statements and transparency report, evidence packages.",
                     no_args_is_help=True)  # fmt: skip
    app.add_typer(rp, name="reports")

    @rp.command("list")
    def list_(
        status: str = typer.Option(None, help="queued | needs_review | sent | failed"),
        target: str = typer.Option(None, help="ncmec | dsa_sor | ..."),
        limit: int = 200,
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """The report queue with each report's state and last error."""
        from amparo.reports.exporters import report_summary
        from amparo.store import reports_repo

        r = _reports()
        with r.db.session() as s:
            for row in reports_repo.list_reports(s, status=status, target=target, limit=limit):
                d = report_summary(row)
                err = f"  error: {d['last_error']}" if d["last_error"] else ""
                emit(
                    d,
                    as_json=json_out,
                    text=f"{d['id']:>6} {d['target']:10} {d['status']:12} tries={d['attempts']}{err}",
                )

    @rp.command("send")
    def send(
        target: str = typer.Option(None), limit: int = 100, json_out: bool = typer.Option(False, "--json")
    ) -> None:
        """Send every queued report; a failure stays queued with its error (exit 1 if any failed)."""
        r = _reports()
        if not r.registry.targets:
            raise fail("no report target is configured (see docs/reports.md: AMPARO_NCMEC_*, AMPARO_DSA_TDB_*)")
        results = r.queue.process(target=target, limit=limit)
        for res in results:
            emit(
                res.to_dict(), as_json=json_out, text=f"{res.report_id} {res.target}: {'sent' if res.ok else res.error}"
            )
        raise typer.Exit(0 if all(x.ok for x in results) else 1)

    @rp.command("retry")
    def retry(report_id: int, json_out: bool = typer.Option(False, "--json")) -> None:
        """Send one report again (recorded in the audit trail)."""
        r = _reports()
        try:
            res = r.queue.retry(report_id, actor=_actor(), actor_role=ACTOR_ROLE)
        except AmparoError as e:
            raise fail(e.message) from None
        emit(res.to_dict(), as_json=json_out, text=f"{report_id}: {'sent' if res.ok else res.error}")
        raise typer.Exit(0 if res.ok else 1)

    @rp.command("statements")
    def statements(
        start: str = typer.Option(..., "--from"), end: str = typer.Option(..., "--to", help="exclusive"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:  # fmt: skip
        """Queue a DSA statement of reasons for every restriction in the period that has none yet."""
        from amparo.reports.sor_client import enqueue_statements

        r = _reports()
        with r.db.session() as s:
            n = enqueue_statements(s, start=_day(start, "--from"), end=_day(end, "--to"))
        emit({"queued": n}, as_json=json_out, text=f"queued {n} statements of reasons")

    @rp.command("sor")
    def sor(decision_id: str, json_out: bool = typer.Option(False, "--json")) -> None:
        """The statement of reasons for one decision (event-N or case-N), validated and linted."""
        from amparo.reports.sor import SorConfig, checked_statement
        from amparo.reports.sor_client import record_by_decision_id

        r = _reports()
        try:
            with r.db.session() as s:
                st = checked_statement(record_by_decision_id(s, decision_id), key=r.puid_key,
                                       config=SorConfig(reference_url=r.config.dsa_reference_url))  # fmt: skip
        except (AmparoError, ValueError) as e:
            raise fail(getattr(e, "message", str(e))) from None
        emit(st, as_json=True)

    @rp.command("user-statement")
    def user_statement(
        decision_id: str, language: str = typer.Option("es", help="es | ca | gl | eu | en"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:  # fmt: skip
        """The Art. 17 statement to the affected user, in their language."""
        from amparo.reports.art17 import user_statement as make
        from amparo.reports.sor_client import record_by_decision_id

        r = _reports()
        try:
            with r.db.session() as s:
                out = make(record_by_decision_id(s, decision_id), language=language)
        except (AmparoError, ValueError) as e:
            raise fail(getattr(e, "message", str(e))) from None
        emit(out, as_json=json_out, text="\n\n".join([out["title"], *out["paragraphs"]]))

    @rp.command("transparency")
    def transparency(
        start: str = typer.Option(..., "--from"), end: str = typer.Option(..., "--to", help="exclusive"),
        out: Path = typer.Option(None, "--out", help="folder for the CSV parts, the XLSX and the JSON"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:  # fmt: skip
        """The DSA transparency report (Implementing Regulation 2024/2835) for any period."""
        from amparo.reports.transparency_export import csv_parts, xlsx_bytes

        r = _reports()
        rep = r.transparency(start=_day(start, "--from"), end=_day(end, "--to"))
        written = []
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            for name, text in csv_parts(rep).items():
                (out / name).write_text(text, encoding="utf-8")
                written.append(str(out / name))
            (out / "transparency_report.xlsx").write_bytes(xlsx_bytes(rep))
            (out / "transparency_report.json").write_text(json.dumps(rep, indent=1, default=str))
            written += [str(out / "transparency_report.xlsx"), str(out / "transparency_report.json")]
        summary = {k: rep[k] for k in ("period", "statements_total", "complaints", "by_detection_method")}
        summary["written"] = written
        emit(
            rep if json_out and out is None else summary,
            as_json=json_out,
            text=f"{rep['period']}: {rep['statements_total']} restrictions; written: {', '.join(written) or '-'}",
        )

    @rp.command("package")
    def package(
        out: Path = typer.Option(..., "--out"), purpose: str = typer.Option(..., help="the order or request"),
        case: int = typer.Option(None), account: str = typer.Option(None),
        start: str = typer.Option(None, "--from"), end: str = typer.Option(None, "--to"),
        recipient_key: Path = typer.Option(None, help="X25519 public key (PEM): items sealed to it"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:  # fmt: skip
        """Build an evidence package for a case, an account or a time range (places a legal hold)."""
        from amparo.reports.package import Scope, build_package, load_recipient_key

        r = _reports()
        scope = Scope(case_id=case, account=account, start=_day(start, "--from") if start else None,
                      end=_day(end, "--to") if end else None)  # fmt: skip
        try:
            recipient = load_recipient_key(recipient_key.read_bytes()) if recipient_key else None
            pkg_id, data = build_package(db=r.db, vault=r.service.vault, audit=r.service.audit, scope=scope,
                                         actor=_actor(), actor_role=ACTOR_ROLE, purpose=purpose,
                                         recipient=recipient, read_prompt=r.read_prompt())  # fmt: skip
        except (AmparoError, OSError) as e:
            raise fail(getattr(e, "message", str(e))) from None
        out.write_bytes(data)
        out.chmod(0o600)
        emit({"package_id": pkg_id, "out": str(out), "bytes": len(data)}, as_json=json_out,
             text=f"package {pkg_id}: wrote {out} ({len(data)} bytes)")  # fmt: skip

    @rp.command("status")
    def status(json_out: bool = typer.Option(False, "--json")) -> None:
        """Configured targets and the queue by state."""
        from amparo.store import reports_repo

        r = _reports()
        with r.db.session() as s:
            counts = reports_repo.count_reports_by_status(s)
        emit({"targets": r.registry.targets, "queue": counts}, as_json=json_out,
             text=f"targets: {', '.join(r.registry.targets) or 'none'}; queue: {counts}")  # fmt: skip


def verify_package_command(ev: typer.Typer) -> None:
    """`amparo evidence verify-package`: registered on the evidence group by cli/evidence.py."""

    @ev.command("verify-package")
    def verify_package(
        path: Path,
        public_key: str = typer.Option(None, help="hex Ed25519 key you trust (else the package's own)"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Check an evidence package offline: signature, every file's SHA-256, custody records (exit 1 if bad)."""
        from amparo.reports.package_verify import verify_package as check

        if not path.exists():
            raise fail(f"{path} does not exist")
        res = check(path, public_key_hex=public_key)
        text = f"package intact: {res.files_checked} files, key {res.key_id}" if res.ok else "\n".join(res.problems)
        emit(res.to_dict(), as_json=json_out, text=text)
        raise typer.Exit(0 if res.ok else 1)

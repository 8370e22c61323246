"""`amparo banks ...`: create, list, enable/disable, delete, add hashes or files, import, export."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from amparo.cli.output import emit, fail
from amparo.errors import AmparoError


def register(app: typer.Typer) -> None:
    banks = typer.Typer(help="Hash banks.", no_args_is_help=True)
    app.add_typer(banks, name="banks")

    def svc():  # type: ignore[no-untyped-def]
        from amparo.cli.context import open_service

        return open_service(load_detectors=False)

    def records():  # type: ignore[no-untyped-def]
        """The database and audit trail only: verbs that never hash start without the index."""
        from amparo.cli.context import open_records

        return open_records()

    def who(s0):  # type: ignore[no-untyped-def]
        import getpass

        from amparo.banks.management import Acting

        try:
            user = getpass.getuser()
        except Exception:
            user = "unknown"
        return Acting(s0.audit, f"cli:{user}", "admin")

    @banks.command("create")
    def create(
        name: str,
        category: str = typer.Option(..., help="csam | ncii | other"),
        source: str = "local",
        threshold: int = typer.Option(31, help="PDQ match threshold"),
        negative: bool = typer.Option(False, help="a safe bank: suppresses false positives"),
        description: str = "",
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Create a bank."""
        from amparo.banks import management as bm

        s0 = records()
        try:
            with s0.db.session() as s:
                b = bm.create_bank(
                    s,
                    who(s0),
                    name=name,
                    category=category,
                    source=source,
                    pdq_threshold=threshold,
                    negative=negative,
                    description=description,
                )
                out = {"name": b.name, "category": b.category, "pdq_threshold": b.pdq_threshold, "negative": b.negative}
        except AmparoError as e:
            raise fail(e.message) from None
        emit(out, as_json=json_out, text=f"created bank {name} ({category})")

    @banks.command("list")
    def list_(json_out: bool = typer.Option(False, "--json")) -> None:
        """List banks with their entry counts."""
        from amparo.store import banks_repo

        s0 = records()
        with s0.db.session() as s:
            for b in banks_repo.list_banks(s):
                n = banks_repo.count_entries(s, bank_id=b.id)
                d = {
                    "name": b.name,
                    "category": b.category,
                    "source": b.source,
                    "enabled": b.enabled,
                    "negative": b.negative,
                    "pdq_threshold": b.pdq_threshold,
                    "entries": n,
                }
                emit(
                    d,
                    as_json=json_out,
                    text=f"{b.name:24} {b.category:6} {'on ' if b.enabled else 'off'} "
                    f"{'safe ' if b.negative else ''}t={b.pdq_threshold} entries={n}",
                )

    def _set_enabled(name: str, enabled: bool, json_out: bool) -> None:
        from amparo.banks import management as bm

        s0 = records()
        try:
            with s0.db.session() as s:
                bm.update_bank(s, who(s0), name=name, enabled=enabled)
        except AmparoError as e:
            raise fail(e.message) from None
        emit(
            {"name": name, "enabled": enabled}, as_json=json_out, text=f"{name}: {'enabled' if enabled else 'disabled'}"
        )

    @banks.command("enable")
    def enable(name: str, json_out: bool = typer.Option(False, "--json")) -> None:
        """Enable matching against a bank."""
        _set_enabled(name, True, json_out)

    @banks.command("disable")
    def disable(name: str, json_out: bool = typer.Option(False, "--json")) -> None:
        """Disable matching against a bank (entries are kept)."""
        _set_enabled(name, False, json_out)

    @banks.command("delete")
    def delete(
        name: str,
        yes: bool = typer.Option(False, "--yes", help="confirm"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Delete a bank and its entries."""
        from amparo.banks import management as bm

        if not yes:
            raise fail("deleting a bank removes its entries: repeat with --yes")
        s0 = records()
        try:
            with s0.db.session() as s:
                n = bm.delete_bank(s, who(s0), name=name)
        except AmparoError as e:
            raise fail(e.message) from None
        emit({"deleted": name, "entries_removed": n}, as_json=json_out, text=f"deleted {name} ({n} entries)")

    @banks.command("add")
    def add(
        name: str,
        inputs: list[str] = typer.Argument(..., help="image files, or raw hashes with --signal-type"),
        signal_type: str = typer.Option(None, help="treat inputs as raw hashes of this type (pdq, md5, sha1, sha256)"),
        opinion: str = "positive",
        note: str | None = None,
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Add image files (hashed here) or raw hashes to a bank."""
        from amparo.banks import management as bm
        from amparo.banks.management import entries_from_image
        from amparo.cli.output import inputs as iter_inputs
        from amparo.store.banks_repo import NewEntry

        s0 = svc()
        entries: list[NewEntry] = []
        try:
            for inp in iter_inputs(inputs):
                if signal_type:
                    h = s0.signals.get(signal_type)
                    entries.append(NewEntry(h.name, h.normalise(inp), opinion, note))
                else:
                    entries.extend(
                        entries_from_image(
                            s0.pipeline,
                            Path(inp).read_bytes(),
                            opinion=opinion,
                            note=note,
                            quality_floor=s0.settings.pdq_quality_floor,
                        )
                    )
            with s0.db.session() as s:
                ids = bm.add_entries(s, who(s0), bank=name, entries=entries, via="raw" if signal_type else "files")
        except (AmparoError, OSError) as e:
            raise fail(getattr(e, "message", str(e))) from None
        emit(
            {"bank": name, "added": len(ids), "ids": ids}, as_json=json_out, text=f"added {len(ids)} entries to {name}"
        )

    @banks.command("import")
    def import_(
        name: str,
        file: str = typer.Argument(..., help="path or - for stdin"),
        format: str = typer.Option("csv", help="csv | pytx | lines"),
        signal_type: str | None = None,
        opinion: str = "positive",
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Import entries from a CSV or python-threatexchange signal file (all-or-nothing).

        Streams the file: millions of hashes go in by bulk insert (COPY on PostgreSQL) in one
        transaction, and the PDQ index gets them as one new segment."""
        from amparo.banks.management import import_lines

        s0 = svc()
        try:
            with sys.stdin if file == "-" else Path(file).open(encoding="utf-8", newline="") as f:
                out = import_lines(
                    s0.db,
                    s0.pipeline,
                    who(s0),
                    bank=name,
                    lines=f,
                    fmt=format,
                    signal_type=signal_type,
                    opinion=opinion,
                )
            if s0.matcher.owner:  # no server holds this data directory's index: build the segment now
                s0.matcher.refresh()
        except (AmparoError, OSError, UnicodeDecodeError) as e:
            raise fail(getattr(e, "message", str(e))) from None
        emit({"bank": name, **out}, as_json=json_out, text=f"imported {out['imported']} entries into {name}")

    @banks.command("export")
    def export(
        name: str,
        format: str = typer.Option("csv", help="csv | pytx | lines"),
        out: str = typer.Option("-", help="file, or - for stdout"),
    ) -> None:
        """Export a bank's entries."""
        from amparo.banks.management import export_bank, record_export

        s0 = records()
        try:
            record_export(s0.db, who(s0), bank=name, fmt=format)
            chunks = export_bank(s0.db, bank=name, fmt=format)
            if out == "-":
                for c in chunks:
                    sys.stdout.write(c)
            else:
                with open(out, "w", encoding="utf-8") as f:
                    for c in chunks:
                        f.write(c)
        except AmparoError as e:
            raise fail(e.message) from None

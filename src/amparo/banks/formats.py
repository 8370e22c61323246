"""Import/export formats for bank entries.

- `csv`: header `signal_type,value[,opinion,note,external_id,metadata]` (metadata is a JSON object).
- `pytx`: python-threatexchange's local signal file (`LocalFileSignalExchangeAPI`): one
  `<signal_type> <value>` per line; with a fixed signal type, one value per line.
- `lines`: one raw hash per line; the signal type is given by the caller.
Parsing validates every row first: a bad row rejects the whole file with its line number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from amparo.errors import BadInput
from amparo.signals.registry import SignalRegistry
from amparo.store.banks_repo import NewEntry
from amparo.store.tables import BankEntryRow

FORMATS = ("csv", "pytx", "lines")
CSV_COLUMNS = ("signal_type", "value", "opinion", "note", "external_id", "metadata")


@dataclass(frozen=True)
class ParsedFile:
    entries: list[NewEntry]
    skipped_blank: int


def parse_entries(
    text: str,
    *,
    fmt: str,
    registry: SignalRegistry,
    signal_type: str | None = None,
    opinion: str = "positive",
) -> ParsedFile:
    if fmt not in FORMATS:
        raise BadInput(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}", code="bad_format")
    parser: Callable[..., ParsedFile] = {"csv": _parse_csv, "pytx": _parse_pytx, "lines": _parse_lines}[fmt]
    return parser(text, registry=registry, signal_type=signal_type, opinion=opinion)


def _norm(registry: SignalRegistry, stype: str, value: str, line: int) -> tuple[str, str]:
    try:
        hasher = registry.get(stype)
        return hasher.name, hasher.normalise(value)
    except BadInput as e:
        raise BadInput(f"line {line}: {e.message}", code=e.code) from None


def _parse_csv(text: str, *, registry: SignalRegistry, signal_type: str | None, opinion: str) -> ParsedFile:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "value" not in reader.fieldnames:
        raise BadInput("CSV needs a header with at least `value` (and `signal_type` unless given)", code="bad_csv")
    out: list[NewEntry] = []
    blank = 0
    for n, row in enumerate(reader, start=2):
        value = (row.get("value") or "").strip()
        if not value:
            blank += 1
            continue
        stype = (row.get("signal_type") or signal_type or "").strip()
        if not stype:
            raise BadInput(f"line {n}: no signal_type", code="bad_csv")
        stype, value = _norm(registry, stype, value, n)
        meta = None
        if row.get("metadata"):
            try:
                meta = json.loads(row["metadata"])
            except json.JSONDecodeError:
                raise BadInput(f"line {n}: metadata is not JSON", code="bad_csv") from None
            if not isinstance(meta, dict):
                raise BadInput(f"line {n}: metadata must be a JSON object", code="bad_csv")
        op = (row.get("opinion") or opinion).strip()
        if op not in ("positive", "negative", "disputed"):
            raise BadInput(f"line {n}: bad opinion {op!r}", code="bad_csv")
        out.append(NewEntry(stype, value, op, (row.get("note") or None), (row.get("external_id") or None), meta))
    return ParsedFile(out, blank)


def _parse_pytx(text: str, *, registry: SignalRegistry, signal_type: str | None, opinion: str) -> ParsedFile:
    out: list[NewEntry] = []
    blank = 0
    for n, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            blank += 1
            continue
        stype = signal_type
        value = s
        if stype is None:
            stype, _, value = s.partition(" ")
            value = value.strip()
            if not value:
                raise BadInput(f"line {n}: expected `<signal_type> <value>`", code="bad_pytx")
        stype, value = _norm(registry, stype, value, n)
        out.append(NewEntry(stype, value, opinion))
    return ParsedFile(out, blank)


def _parse_lines(text: str, *, registry: SignalRegistry, signal_type: str | None, opinion: str) -> ParsedFile:
    if not signal_type:
        raise BadInput("the `lines` format needs a signal type", code="bad_format")
    return _parse_pytx(text, registry=registry, signal_type=signal_type, opinion=opinion)


def export_entries(rows: Iterable[BankEntryRow], *, fmt: str) -> Iterable[str]:
    """Yield the file in chunks (banks can hold millions of entries)."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        yield buf.getvalue()
        for r in rows:
            buf.seek(0)
            buf.truncate()
            w.writerow(
                [
                    r.signal_type,
                    r.value,
                    r.opinion,
                    r.note or "",
                    r.external_id or "",
                    json.dumps(r.entry_metadata) if r.entry_metadata else "",
                ]
            )
            yield buf.getvalue()
    elif fmt in ("pytx", "lines"):
        for r in rows:
            yield f"{r.signal_type} {r.value}\n" if fmt == "pytx" else f"{r.value}\n"
    else:
        raise BadInput(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}", code="bad_format")

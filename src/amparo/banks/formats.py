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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from amparo.errors import BadInput
from amparo.signals.registry import SignalRegistry
from amparo.store.banks_repo import NewEntry
from amparo.store.tables import BankEntryRow

FORMATS = ("csv", "pytx", "lines")
OPINIONS = ("positive", "negative", "disputed")
CSV_COLUMNS = ("signal_type", "value", "opinion", "note", "external_id", "metadata")


@dataclass(frozen=True)
class ParsedFile:
    entries: list[NewEntry]
    skipped_blank: int


@dataclass
class ParseCounts:
    """Filled in while a stream is parsed: lines skipped as blank (or comments)."""

    skipped_blank: int = 0


def parse_entries(
    text: str,
    *,
    fmt: str,
    registry: SignalRegistry,
    signal_type: str | None = None,
    opinion: str = "positive",
) -> ParsedFile:
    counts = ParseCounts()
    entries = list(
        iter_entries(
            text.splitlines(), fmt=fmt, registry=registry, signal_type=signal_type, opinion=opinion, counts=counts
        )
    )
    return ParsedFile(entries, counts.skipped_blank)


def iter_entries(
    lines: Iterable[str],
    *,
    fmt: str,
    registry: SignalRegistry,
    signal_type: str | None = None,
    opinion: str = "positive",
    counts: ParseCounts | None = None,
) -> Iterator[NewEntry]:
    """Parse a file as a stream of lines (a file object works): entries come out one by one, so a
    file of millions is never held in memory. A bad row raises BadInput naming its line when it is
    reached; callers that must be all-or-nothing write inside one transaction."""
    if fmt not in FORMATS:
        raise BadInput(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}", code="bad_format")
    if fmt == "lines" and not signal_type:
        raise BadInput("the `lines` format needs a signal type", code="bad_format")
    if opinion not in OPINIONS:
        raise BadInput(f"bad opinion {opinion!r}", code="bad_opinion")
    norm = _Normaliser(registry)
    c = counts if counts is not None else ParseCounts()
    if fmt == "csv":
        return _iter_csv(lines, norm=norm, signal_type=signal_type, opinion=opinion, counts=c)
    return _iter_pytx(lines, norm=norm, signal_type=signal_type, opinion=opinion, counts=c)


class _Normaliser:
    """registry.get(type).normalise(value), with the hasher looked up once per type."""

    def __init__(self, registry: SignalRegistry) -> None:
        self._registry = registry
        self._hashers: dict[str, Callable[[str], str]] = {}
        self._names: dict[str, str] = {}

    def __call__(self, stype: str, value: str, line: int) -> tuple[str, str]:
        try:
            fn = self._hashers.get(stype)
            if fn is None:
                hasher = self._registry.get(stype)
                self._hashers[stype] = fn = hasher.normalise
                self._names[stype] = hasher.name
            return self._names[stype], fn(value)
        except BadInput as e:
            raise BadInput(f"line {line}: {e.message}", code=e.code) from None


def _iter_csv(
    lines: Iterable[str], *, norm: _Normaliser, signal_type: str | None, opinion: str, counts: ParseCounts
) -> Iterator[NewEntry]:
    reader = csv.DictReader(line.rstrip("\r\n") for line in lines)
    if not reader.fieldnames or "value" not in reader.fieldnames:
        raise BadInput("CSV needs a header with at least `value` (and `signal_type` unless given)", code="bad_csv")
    for n, row in enumerate(reader, start=2):
        value = (row.get("value") or "").strip()
        if not value:
            counts.skipped_blank += 1
            continue
        stype = (row.get("signal_type") or signal_type or "").strip()
        if not stype:
            raise BadInput(f"line {n}: no signal_type", code="bad_csv")
        stype, value = norm(stype, value, n)
        meta = None
        if row.get("metadata"):
            try:
                meta = json.loads(row["metadata"])
            except json.JSONDecodeError:
                raise BadInput(f"line {n}: metadata is not JSON", code="bad_csv") from None
            if not isinstance(meta, dict):
                raise BadInput(f"line {n}: metadata must be a JSON object", code="bad_csv")
        op = (row.get("opinion") or opinion).strip()
        if op not in OPINIONS:
            raise BadInput(f"line {n}: bad opinion {op!r}", code="bad_csv")
        yield NewEntry(stype, value, op, (row.get("note") or None), (row.get("external_id") or None), meta)


def _iter_pytx(
    lines: Iterable[str], *, norm: _Normaliser, signal_type: str | None, opinion: str, counts: ParseCounts
) -> Iterator[NewEntry]:
    for n, line in enumerate(lines, start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            counts.skipped_blank += 1
            continue
        stype = signal_type
        value = s
        if stype is None:
            stype, _, value = s.partition(" ")
            value = value.strip()
            if not value:
                raise BadInput(f"line {n}: expected `<signal_type> <value>`", code="bad_pytx")
        stype, value = norm(stype, value, n)
        yield NewEntry(stype, value, opinion)


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

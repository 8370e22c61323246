"""The banks as one scan worker sees them: loaded once per worker (a Ray actor), then looked up
without a database round trip per sample.

- PDQ: the service's memory-mapped index opened read-only (nothing written, no lock taken), with
  the database's change feed applied in memory after the sequence the files reflect. A worker
  without the service's index files (another machine of a cluster) builds a private index from the
  feed in a temporary folder.
- Exact hashes (MD5, SHA-1, SHA-256, url_sha256): sorted arrays of digests per type, 16-32 bytes a
  hash rather than a Python string each.

Only a candidate hit goes to the database, for its bank, threshold and opinion, and then through
the matcher's own resolution (thresholds, disabled entries, safe banks), so a scan decides exactly
as `/v1/check` would on the same snapshot."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from amparo.domain.signals import Signal
from amparo.matching.matcher import LookupResult, Matcher
from amparo.matching.pdq_index import PDQIndex
from amparo.store import bank_snapshot_repo, banks_repo
from amparo.store.database import Database

EXACT_TYPES = ("md5", "sha1", "sha256", "url_sha256")
_PAGE = 200_000


class BankSnapshot:
    def __init__(self, database_url: str, index_dir: Path, *, quality_floor: int = 50) -> None:
        self.db = Database(database_url)
        self.quality_floor = quality_floor
        self._private: Path | None = None
        with self.db.session() as s:
            self.version = bank_snapshot_repo.snapshot_version(s)
            enabled = [b for b in banks_repo.list_banks(s) if b.enabled]
            self.max_threshold = max([b.pdq_threshold for b in enabled] or [31])
            self.exact = {t: self._load_exact(s, t) for t in EXACT_TYPES}
        self.pdq = self._open_pdq(index_dir / Matcher.INDEX_NAME)

    # -- loading -------------------------------------------------------------------------------
    @staticmethod
    def _load_exact(session, signal_type: str) -> np.ndarray:  # type: ignore[no-untyped-def]
        digests: list[bytes] = []
        after = 0
        while True:
            page = bank_snapshot_repo.exact_values_page(session, signal_type=signal_type, after_id=after, limit=_PAGE)
            for _, value in page:
                try:
                    digests.append(bytes.fromhex(value))
                except ValueError:
                    continue
            if len(page) < _PAGE:
                break
            after = page[-1][0]
        if not digests:
            return np.empty(0, dtype="S1")
        width = max(len(d) for d in digests)
        return np.unique(np.array(digests, dtype=f"S{width}"))

    def _open_pdq(self, path: Path) -> PDQIndex:
        index: PDQIndex | None = None
        if (path / "base.pdqidx").exists():
            index = PDQIndex.open(path, readonly=True)
            with self.db.session() as s:
                latest = banks_repo.latest_index_seq(s, signal_type="pdq")
            if latest < index.applied_seq:  # files ahead of this database (restored DB): not ours
                index.close()
                index = None
        if index is None:
            self._private = Path(tempfile.mkdtemp(prefix="amparo-scan-index-"))
            index = PDQIndex.open(self._private / "pdq")
        while True:
            with self.db.session() as s:
                rows = banks_repo.index_changes_after(s, signal_type="pdq", seq=index.applied_seq, limit=_PAGE)
            if not rows:
                break
            added = [(r.entry_id, bytes.fromhex(r.value)) for r in rows if r.op == "add" and r.value]
            removed = [r.entry_id for r in rows if r.op == "remove"]
            index.apply(added=added, removed=removed, seq=rows[-1].seq)
            if len(rows) < _PAGE:
                break
        return index

    # -- lookup --------------------------------------------------------------------------------
    def _has(self, signal_type: str, value: str) -> bool:
        arr = self.exact.get(signal_type)
        if arr is None or arr.size == 0:
            return False
        try:
            key = np.array(bytes.fromhex(value), dtype=arr.dtype)
        except ValueError:
            return False
        i = int(np.searchsorted(arr, key))
        return i < arr.size and arr[i] == key

    def lookup(self, signals: Sequence[Signal]) -> LookupResult:
        """The matcher's answer for these signals; the database is read only for candidate hits."""
        pdq_hits: dict[int, int] = {}
        exact_hits: list[Signal] = []
        for sig in signals:
            if sig.type == "pdq":
                if sig.quality is not None and sig.quality < self.quality_floor:
                    continue
                pdq_hits.update(self.pdq.search(bytes.fromhex(sig.value), self.max_threshold))
            elif self._has(sig.type, sig.value):
                exact_hits.append(sig)
        if not pdq_hits and not exact_hits:
            return LookupResult((), (), ())
        infos: list[tuple[banks_repo.EntryInfo, int]] = []
        with self.db.session() as s:
            if pdq_hits:
                infos += [(i, pdq_hits[i.entry_id]) for i in banks_repo.entries_info(s, entry_ids=pdq_hits)]
            for sig in exact_hits:
                infos += [(i, 0) for i in banks_repo.lookup_exact(s, signal_type=sig.type, value=sig.value)]
        return Matcher._resolve(infos, None)

    def stats(self) -> dict[str, int]:
        return {"pdq": len(self.pdq), **{t: int(a.size) for t, a in self.exact.items()}}

    def close(self) -> None:
        self.pdq.close()
        self.db.dispose()
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)

"""One shard's scan, as a Ray Data actor runs it: read the samples, hash each as the banks were
hashed, look the hashes up in this worker's bank snapshot (and with `cascade`, run the whole
pipeline), and write the shard's results file. Only keys, URLs, hashes, matches and verdicts are
written; image bytes stay in memory for the time of one sample.

`ShardScanner` is the callable class given to `Dataset.map_batches`: Ray builds one per actor, so
the banks and the index are loaded once per worker, not once per shard."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from amparo.batch.bank_snapshot import BankSnapshot
from amparo.batch.dataset_inputs import Sample, Shard, read_samples
from amparo.domain.signals import Signal

FORMATS = ("parquet", "jsonl")
# Result columns, in order. `matches` is a JSON list (bank, category, entry_id, signal_type, distance,
# threshold, opinion); `decision` and `labels` come only from the cascade.
COLUMNS = (
    "shard",
    "key",
    "url",
    "status",
    "error",
    "pdq",
    "pdq_quality",
    "md5",
    "sha1",
    "sha256",
    "url_sha256",
    "matches",
    "decision",
    "labels",
)
_HEX_LEN = {"md5": 32, "sha256": 64}


@dataclass(frozen=True)
class ScanOptions:
    out_dir: str
    format: str = "parquet"
    cascade: bool = False
    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 80_000_000
    quality_floor: int = 50
    # Where the banks are: the service's database and index folder (from its Settings by default).
    database_url: str | None = None
    index_dir: str | None = None


def shard_file(out_dir: str | Path, shard_id: str, fmt: str) -> Path:
    """The results file of a shard: named by a digest of its id, so ids may hold any path."""
    return Path(out_dir) / "shards" / f"{hashlib.sha256(shard_id.encode()).hexdigest()[:24]}.{fmt}"


def _hashes(sample: Sample, max_pixels: int) -> tuple[list[Signal], dict[str, Any], str | None]:
    """The sample's signals (hash of record for PDQ), its output columns and a decode error if any."""
    from amparo.signals.hashes.pdq import pdq_of_bytes
    from amparo.signals.hashes.url import url_sha256

    cols: dict[str, Any] = {}
    sigs: list[Signal] = []
    error = sample.error
    if sample.data is not None:
        data = sample.data
        cols["md5"] = hashlib.md5(data).hexdigest()
        cols["sha1"] = hashlib.sha1(data).hexdigest()
        cols["sha256"] = hashlib.sha256(data).hexdigest()
        sigs += [Signal(t, cols[t]) for t in ("md5", "sha1", "sha256")]
        try:
            pdq, quality = pdq_of_bytes(data, max_pixels=max_pixels)
            cols["pdq"], cols["pdq_quality"] = pdq, quality
            sigs.append(Signal("pdq", pdq, quality))
        except Exception as e:  # undecodable or over the pixel limit: exact hashes still stand
            error = f"{e.__class__.__name__}: {getattr(e, 'message', e)}"
    else:
        # No bytes (metadata only, or refused): join the hashes the source gave.
        for t, v in sample.meta.items():
            v = v.strip().lower()
            if len(v) == _HEX_LEN.get(t, -1) and all(c in "0123456789abcdef" for c in v):
                cols[t] = v
                sigs.append(Signal(t, v))
    if sample.url:
        try:
            cols["url_sha256"] = url_sha256(sample.url)
            sigs.append(Signal("url_sha256", cols["url_sha256"]))
        except Exception:  # a malformed URL joins nothing
            pass
    return sigs, cols, error


class ShardScanner:
    """A Ray actor's state: the bank snapshot (and the Service with --cascade), built once."""

    def __init__(self, options: dict[str, Any]) -> None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"
        self.options = ScanOptions(**options)
        from amparo.settings import Settings

        settings = Settings()
        db_url = self.options.database_url or settings.resolved_database_url
        index_dir = Path(self.options.index_dir) if self.options.index_dir else settings.index_dir
        self.banks = BankSnapshot(db_url, index_dir, quality_floor=self.options.quality_floor)
        self.service: Any = None
        if self.options.cascade:
            from amparo.service import Service

            self.service = Service(settings, migrate=False)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {
            k: [] for k in ("shard", "file", "rows", "matched", "errors", "seconds", "cpu_seconds", "list_version")
        }
        for raw in batch["shard"]:
            shard = Shard.from_dict(json.loads(raw))
            t0, c0 = time.monotonic(), time.process_time()
            rows = self.scan(shard)
            path = shard_file(self.options.out_dir, shard.id, self.options.format)
            write_rows(rows, path, self.options.format)
            out["shard"].append(shard.id)
            out["file"].append(str(path))
            out["rows"].append(len(rows))
            out["matched"].append(sum(1 for r in rows if r["status"] == "matched"))
            out["errors"].append(sum(1 for r in rows if r["status"] == "error"))
            out["seconds"].append(time.monotonic() - t0)
            out["cpu_seconds"].append(time.process_time() - c0)
            out["list_version"].append(self.banks.version)
        return out

    def scan(self, shard: Shard) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        try:
            for sample in read_samples(shard, max_bytes=self.options.max_bytes):
                rows.append(self.scan_sample(shard.id, sample))
        except Exception as e:  # a truncated tar or unreadable parquet: what was read stands, then one error row
            rows.append(_row(shard.id, Sample(f"{shard.id}#unreadable"), {}, f"{e.__class__.__name__}: {e}"))
        return rows

    def scan_sample(self, shard_id: str, sample: Sample) -> dict[str, Any]:
        sigs, cols, error = _hashes(sample, self.options.max_pixels)
        matches = [m.to_dict() for m in self.banks.lookup(sigs).matches] if sigs else []
        for m in matches:
            m.pop("negative_bank", None)
            m["value"] = cols.get(m["signal_type"])
        row = _row(shard_id, sample, cols, error, matches)
        if self.service is not None and sample.data is not None and not error:
            row.update(self._cascade(sample))
        return row

    def _cascade(self, sample: Sample) -> dict[str, Any]:
        from amparo.domain.items import Context, Item

        try:
            item = Item.from_image(sample.data or b"", Context(surface="dataset_scan", source=sample.key))
            v = self.service.pipeline.check(item, record=False)
            return {"decision": v.decision, "labels": json.dumps(list(v.labels))}
        except Exception as e:
            return {"status": "error", "error": f"{e.__class__.__name__}: {getattr(e, 'message', e)}"}


def _row(
    shard_id: str, sample: Sample, cols: dict[str, Any], error: str | None, matches: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    matches = matches or []
    if matches:
        status = "matched"
    elif error and not cols:
        status = "error"
    elif sample.data is None and not error:
        status = "not_fetched"  # metadata only: joined by URL/MD5, image never read
    else:
        status = "error" if error else "clean"
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(cols)
    row.update(shard=shard_id, key=sample.key, url=sample.url, status=status, error=error, matches=json.dumps(matches))
    return row


def write_rows(rows: list[dict[str, Any]], path: Path, fmt: str) -> None:
    """Write atomically (temporary file, then rename): a crash never leaves half a shard behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(c, pa.int32() if c == "pdq_quality" else pa.string()) for c in COLUMNS])
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
    else:
        with open(tmp, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    os.replace(tmp, path)


def read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_table(path).to_pylist())
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def options_dict(options: ScanOptions) -> dict[str, Any]:
    return asdict(options)

"""The LAION-style removal list of a scan: one row per standing bank match of a sample, so a
dataset publisher can drop the samples (and their URLs) from every copy.

Columns: sample_key, url, shard, hash_type, hash, match_distance, bank, category, entry_id,
opinion, list_version. `hash` is the sample's own value that matched (its PDQ, MD5, SHA-256 or
url_sha256); `list_version` names the state of the banks the scan ran against. Rows are sorted by
shard, key, bank and hash type, so two scans of the same data against the same banks give the
same file."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from amparo.batch.dataset_scan import read_rows

COLUMNS = (
    "sample_key",
    "url",
    "shard",
    "hash_type",
    "hash",
    "match_distance",
    "bank",
    "category",
    "entry_id",
    "opinion",
    "list_version",
)


def removal_rows(result_files: Iterable[Path], list_version: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in result_files:
        for r in read_rows(path):
            if r["status"] != "matched":
                continue
            for m in json.loads(r["matches"] or "[]"):
                out.append(
                    {
                        "sample_key": r["key"],
                        "url": r["url"],
                        "shard": r["shard"],
                        "hash_type": m["signal_type"],
                        "hash": m.get("value"),
                        "match_distance": int(m["distance"]),
                        "bank": m["bank"],
                        "category": m["category"],
                        "entry_id": int(m["entry_id"]),
                        "opinion": m["opinion"],
                        "list_version": list_version,
                    }
                )
    out.sort(key=lambda x: (x["shard"], x["sample_key"], x["bank"], x["hash_type"], x["entry_id"]))
    return out


def write_removal_list(rows: list[dict[str, Any]], out_dir: Path, fmt: str) -> list[Path]:
    """removal_list.csv always (what publishers exchange), plus removal_list.parquet or .jsonl."""
    written = [out_dir / "removal_list.csv"]
    with open(written[0], "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {"match_distance": pa.int32(), "entry_id": pa.int64()}
        schema = pa.schema([(c, types.get(c, pa.string())) for c in COLUMNS])
        written.append(out_dir / "removal_list.parquet")
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), written[-1])
    else:
        written.append(out_dir / "removal_list.jsonl")
        with open(written[-1], "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    return written

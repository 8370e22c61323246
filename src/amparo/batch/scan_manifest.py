"""The manifest of a `scan-dataset` output folder: which shards are done, with which banks.

Written atomically after every finished shard, so a run that crashes (or is stopped) continues from
the shards it finished. A shard counts as done when the manifest names it and its results file is
there; anything else is scanned again (a shard's file is itself written atomically)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amparo.errors import Conflict

FILE = "manifest.json"
VERSION = 1


@dataclass
class Manifest:
    out_dir: Path
    list_version: str
    format: str
    cascade: bool
    shards: dict[str, dict[str, Any]] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    runs: int = 0

    @classmethod
    def open(cls, out_dir: Path, *, list_version: str, format: str, cascade: bool) -> Manifest:
        """The folder's manifest, or a new one. A folder scanned against other banks or with other
        options is refused: mixing them would make one removal list out of two lists."""
        path = out_dir / FILE
        if not path.exists():
            return cls(out_dir, list_version, format, cascade)
        d = json.loads(path.read_text(encoding="utf-8"))
        if d.get("manifest_version") != VERSION:
            raise Conflict(f"{path}: unknown manifest version {d.get('manifest_version')!r}", code="scan_manifest")
        if d["list_version"] != list_version:
            raise Conflict(
                f"{out_dir} was scanned against bank list version {d['list_version']}; the banks are now "
                f"{list_version}. Scan into a new folder (or remove this one) to start over.",
                code="scan_banks_changed",
            )
        if d["format"] != format or bool(d["cascade"]) != cascade:
            raise Conflict(
                f"{out_dir} was scanned with --format {d['format']} and cascade={d['cascade']}; "
                "resume with the same options or scan into a new folder.",
                code="scan_options_changed",
            )
        return cls(out_dir, list_version, format, bool(d["cascade"]), dict(d["shards"]), d["started_at"], d["runs"])

    def done(self, shard_id: str) -> bool:
        entry = self.shards.get(shard_id)
        return entry is not None and (self.out_dir / entry["file"]).exists()

    def record(
        self,
        shard_id: str,
        *,
        file: Path,
        rows: int,
        matched: int,
        errors: int,
        seconds: float,
        cpu_seconds: float = 0.0,
    ) -> None:
        self.shards[shard_id] = {
            "file": str(file.relative_to(self.out_dir)),
            "rows": rows,
            "matched": matched,
            "errors": errors,
            "seconds": round(seconds, 4),  # the actor's own time on the shard: read, hash, match, write
            "cpu_seconds": round(cpu_seconds, 4),
        }

    def save(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        doc = {
            "manifest_version": VERSION,
            "list_version": self.list_version,
            "format": self.format,
            "cascade": self.cascade,
            "started_at": self.started_at,
            "updated_at": time.time(),
            "runs": self.runs,
            "shards": self.shards,
        }
        path = self.out_dir / FILE
        tmp = path.with_name(FILE + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

"""The driver of `amparo scan-dataset`: find the shards, skip those a previous run finished, run the
rest through a Ray Data actor pool, record each finished shard in the manifest as its summary comes
back, and write the removal list.

Ray is imported here and nowhere else (the CLI's other verbs never load it). Locally `ray.init()`
starts a private cluster with one CPU per worker; `address` joins an existing cluster, whose
workers must have amparo installed and reach the same database (and see the same AMPARO_*
settings). A Ray session that is already running in this process is used as it is."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from amparo.batch.dataset_inputs import Shard, discover_shards
from amparo.batch.dataset_scan import ScanOptions, ShardScanner
from amparo.batch.removal_list import removal_rows, write_removal_list
from amparo.batch.scan_manifest import Manifest
from amparo.errors import Conflict

ShardDone = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class RunConfig:
    workers: int = 1
    address: str | None = None  # None: a local Ray started here
    shard_size: int = 1000  # loose files per folder shard
    ray_progress: bool = False  # Ray Data's own progress bars (the CLI draws a Rich bar instead)
    dashboard: bool = False  # needs ray[default]


def bank_list_version(options: ScanOptions) -> str:
    from amparo.settings import Settings
    from amparo.store import bank_snapshot_repo
    from amparo.store.database import Database

    db = Database(options.database_url or Settings().resolved_database_url)
    try:
        with db.session() as s:
            return bank_snapshot_repo.snapshot_version(s)
    finally:
        db.dispose()


def _init_ray(config: RunConfig) -> bool:
    """Start or join Ray; True when this call started it (and should shut it down)."""
    import ray

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": config.dashboard, "log_to_driver": False}
    if config.address:
        ray.init(address=config.address, **kwargs)
    else:
        ray.init(num_cpus=config.workers, **kwargs)
    return True


def run_scan(
    inputs: list[str], options: ScanOptions, config: RunConfig, *, on_shard: ShardDone | None = None
) -> dict[str, Any]:
    """Scan every shard not yet done; returns the summary. Raises FileNotFoundError for a missing
    input and Conflict when the folder holds a run against other banks or options."""
    t0 = time.monotonic()
    out_dir = Path(options.out_dir).resolve()  # the actors' working folder is not ours
    options = replace(options, out_dir=str(out_dir))
    shards = discover_shards(inputs, shard_size=config.shard_size)
    version = bank_list_version(options)
    manifest = Manifest.open(out_dir, list_version=version, format=options.format, cascade=options.cascade)
    todo = [s for s in shards if not manifest.done(s.id)]
    manifest.runs += 1
    manifest.save()
    timings: dict[str, float] = {}
    scanned = {"shards": 0, "samples": 0, "matched": 0, "errors": 0}
    t_scan = time.monotonic()
    if todo:
        started = _init_ray(config)
        timings["ray_init"] = round(time.monotonic() - t_scan, 3)
        try:
            for row in _execute(todo, options, config):
                if row["list_version"] != version:
                    raise Conflict(
                        f"the banks changed during the scan (list version {version} -> {row['list_version']}); "
                        "scan into a new folder",
                        code="scan_banks_changed",
                    )
                manifest.record(
                    row["shard"],
                    file=Path(row["file"]),
                    rows=row["rows"],
                    matched=row["matched"],
                    errors=row["errors"],
                    seconds=row["seconds"],
                    cpu_seconds=row["cpu_seconds"],
                )
                manifest.save()
                scanned["shards"] += 1
                scanned["samples"] += row["rows"]
                scanned["matched"] += row["matched"]
                scanned["errors"] += row["errors"]
                if "first_shard" not in timings:
                    timings["first_shard"] = round(time.monotonic() - t_scan, 3)
                if on_shard is not None:
                    on_shard(row)
        finally:
            if started:
                import ray

                ray.shutdown()
    scan_seconds = time.monotonic() - t_scan
    files = [out_dir / manifest.shards[s.id]["file"] for s in shards]
    rows = removal_rows(files, version)
    written = write_removal_list(rows, out_dir, options.format)
    totals = {k: sum(manifest.shards[s.id][k] for s in shards) for k in ("rows", "matched", "errors")}
    return {
        "shards": len(shards),
        "shards_scanned": scanned["shards"],
        "shards_resumed": len(shards) - len(todo),
        "samples": totals["rows"],
        "matched": totals["matched"],
        "errors": totals["errors"],
        "samples_scanned": scanned["samples"],
        "removal_list": str(written[0]),
        "removal_rows": len(rows),
        "list_version": version,
        "workers": config.workers,
        "scan_seconds": round(scan_seconds, 3),
        "seconds": round(time.monotonic() - t0, 3),
        "timings": timings,
        "samples_per_second": round(scanned["samples"] / scan_seconds, 2) if scanned["samples"] else None,
    }


def _execute(todo: list[Shard], options: ScanOptions, config: RunConfig) -> Any:
    """Summaries of finished shards, as the actors finish them (Ray Data's streaming executor)."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = config.ray_progress
    items = [{"shard": json.dumps(s.to_dict())} for s in todo]
    source = ray.data.from_items(items, override_num_blocks=len(items))
    ds = source.map_batches(
        ShardScanner,
        fn_constructor_kwargs={"options": asdict(options)},
        batch_size=1,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=config.workers),
        num_cpus=1,
    )
    rows = ds.iter_rows()
    try:
        for row in rows:
            yield {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    finally:
        # The driver stopped early (a crash, Ctrl-C): close Ray's iterator now, which shuts the
        # streaming executor and its actors down, rather than whenever it is garbage-collected.
        close = getattr(rows, "close", None)
        if close is not None:
            close()

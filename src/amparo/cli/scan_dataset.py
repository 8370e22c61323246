"""`amparo scan-dataset INPUT... --out DIR`: scan a training set (img2dataset shards, parquet, folders)
on Ray Data against the banks and write per-shard results, a manifest and a removal list. Ray is
imported only when this verb runs."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer

from amparo.cli.output import fail

SEVERE = ("csam", "ncii")


def register(app: typer.Typer) -> None:
    @app.command("scan-dataset")
    def scan_dataset(
        paths: list[str] = typer.Argument(..., help="tar shards, parquet files and folders (- for paths on stdin)"),
        out: str = typer.Option(..., "--out", "-o", help="output folder: shards/, manifest.json, removal_list.*"),
        format: str = typer.Option("parquet", help="parquet | jsonl (results and removal list; CSV always too)"),
        workers: int = typer.Option(0, help="actors, one CPU each (default: one per local core)"),
        address: str | None = typer.Option(None, help="join this Ray cluster (ray://host:10001 or auto)"),
        cascade: bool = typer.Option(False, help="also run the detectors and the policy on every image"),
        shard_size: int = typer.Option(1000, min=1, help="loose files of a plain folder per shard"),
        progress: bool = typer.Option(True, help="Rich progress bar on stderr"),
        ray_progress: bool = typer.Option(False, help="Ray Data's own progress bars too"),
        dashboard: bool = typer.Option(False, help="start the Ray dashboard (needs ray[default])"),
        json_out: bool = typer.Option(False, "--json", help="print the summary as one JSON line"),
    ) -> None:
        """Scan a dataset on Ray: hash and match every sample, write a removal list. Resumable."""
        from amparo.batch.dataset_run import RunConfig
        from amparo.batch.dataset_scan import FORMATS, ScanOptions
        from amparo.cli.context import open_service
        from amparo.cli.output import inputs
        from amparo.settings import Settings

        if format not in FORMATS:
            raise fail(f"format must be one of {', '.join(FORMATS)}")
        try:
            import ray  # noqa: F401
        except ModuleNotFoundError:
            raise fail('scan-dataset needs Ray: pip install "amparo[dataset]"') from None
        items = list(inputs(paths))
        missing = [p for p in items if not os.path.exists(p)]
        if missing:
            raise fail(f"no such file or folder: {', '.join(missing[:5])}")
        # The service's database, brought to the current schema as every verb does; the actors
        # then only read it (and map its index read-only).
        open_service(load_detectors=False).close()
        settings = Settings()
        options = ScanOptions(
            out_dir=out,
            format=format,
            cascade=cascade,
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.max_image_pixels,
            quality_floor=settings.pdq_quality_floor,
        )
        n_workers = workers or (os.cpu_count() or 1)
        config = RunConfig(
            workers=n_workers, address=address, shard_size=shard_size, ray_progress=ray_progress, dashboard=dashboard
        )
        summary = _run(items, options, config, progress=progress)
        severe = _severe_rows(summary["removal_list"])
        summary["severe"] = severe
        if json_out:
            sys.stdout.write(json.dumps(summary) + "\n")
        else:
            sys.stderr.write(
                f"scanned {summary['samples']} samples in {summary['shards']} shards "
                f"({summary['shards_resumed']} done before) in {summary['seconds']:.1f}s: {summary['matched']} matched "
                f"({severe} csam/ncii removal rows), {summary['errors']} unreadable; "
                f"removal list {summary['removal_list']}\n"
            )
        raise typer.Exit(1 if severe else 0)


def _run(items: list[str], options: Any, config: Any, *, progress: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from amparo.batch.dataset_inputs import discover_shards
    from amparo.batch.dataset_run import run_scan
    from amparo.errors import AmparoError

    try:
        total = len(discover_shards(items, shard_size=config.shard_size))
    except ValueError as e:
        raise fail(str(e)) from None
    bar = Progress(
        TextColumn("scan-dataset"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} shards"),
        TextColumn("{task.fields[samples]} samples"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not progress,
    )
    with bar:
        task = bar.add_task("scan", total=total, samples=0)
        counted = {"samples": 0}

        def on_shard(row: dict[str, Any]) -> None:
            counted["samples"] += int(row["rows"])
            bar.update(task, advance=1, samples=counted["samples"])

        try:
            return run_scan(items, options, config, on_shard=on_shard)
        except AmparoError as e:
            raise fail(e.message) from None


def _severe_rows(removal_csv: str) -> int:
    import csv

    with open(removal_csv, newline="", encoding="utf-8") as f:
        return sum(1 for r in csv.DictReader(f) if r["category"] in SEVERE)
